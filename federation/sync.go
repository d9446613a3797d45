// Package federation links hubs: it pulls a peer's TAXII collection into
// the local store and pushes local objects to the peer, incrementally and
// under the sharing rule at the border (cyberpact.MayPull, MayPush). It is
// logic over the store's interfaces and the taxii client.
//
// A pull reads pages of the peer's collection with added_after (the
// date_added of the last object of the last complete pull) and next within
// a run; each page is imported in one transaction with its provenance
// (cyberpact.Origin), and the cursor is saved only after that commit. A run
// cut anywhere resumes at the last committed page: a page read twice is
// "already present" (the import is idempotent by id and version), so
// nothing is lost and nothing is stored twice. A push walks the local added
// sequence after its cursor, leaves out what may not leave and what came
// from that peer (recorded provenance, or the peer's own organisation as
// producer), POSTs the rest and advances the cursor once the peer's status
// is complete. Objects that fail either way are kept with their reason and
// tried again on every run.
package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/taxii"
)

// DefaultPageSize is the limit asked of a peer, and the batch pushed, when
// the peer has none of its own.
const DefaultPageSize = 5000

// Syncer runs synchronisation with peers.
type Syncer struct {
	Store cyberpact.ObjectStore
	Peers cyberpact.PeerStore
	// Audit records each page pulled as a write by "sync:PEER" and each
	// batch pushed as a release to the peer's org; without it nothing is
	// pulled (cyberpact.AuditedImport refuses unrecorded writes).
	Audit  cyberpact.AuditLog
	Logger *slog.Logger
	// HTTP is the client requests go through; nil means one with
	// Timeout.
	HTTP    *http.Client
	Timeout time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Result is what one run did.
type Result struct {
	Peer     string        `json:"peer"`
	Pulled   int           `json:"pulled"`   // versions added here
	Present  int           `json:"present"`  // versions read that were already here
	Pushed   int           `json:"pushed"`   // versions the peer accepted
	Withheld int           `json:"withheld"` // versions the sharing rule kept from crossing: WithheldPull + WithheldPush
	Failed   int           `json:"failed"`   // versions that failed (kept and retried)
	Retried  int           `json:"retried"`  // earlier failures that now succeeded
	Requests int           `json:"requests"` // requests sent to the peer
	Duration time.Duration `json:"duration"`

	// WithheldPull counts the versions read from the peer that its
	// audience here may not receive; WithheldPush the local versions
	// kept from going to the peer; PeerOwn the local versions not pushed
	// because the peer's own organisation produced them.
	WithheldPull int `json:"withheld_pull"`
	WithheldPush int `json:"withheld_push"`
	PeerOwn      int `json:"peer_own"`
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Syncer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// client returns the TAXII client of peer p.
func (s *Syncer) client(p *cyberpact.Peer) *taxii.Client {
	return &taxii.Client{HTTP: s.HTTP, Timeout: s.Timeout, User: p.User, Key: p.Key, UserAgent: "cyberpact-federation"}
}

// Sync runs one synchronisation with p: a pull, then a push, as its
// direction says. The state (cursors, counts, last success or error) is
// saved whatever happens; the error says where the run stopped.
func (s *Syncer) Sync(ctx context.Context, p *cyberpact.Peer) (*Result, error) {
	start := time.Now()
	res := &Result{Peer: p.Name}
	st, err := s.Peers.PeerState(ctx, p.ID)
	if err != nil {
		return res, err
	}
	failures, err := s.Peers.Failures(ctx, p.ID)
	if err != nil {
		return res, err
	}
	r := &run{s: s, p: p, st: st, res: res, c: s.client(p), failed: map[string]*cyberpact.SyncFailure{}}
	for _, f := range failures {
		r.failed[failKey(f.Direction, f.ObjectID, f.Version)] = f
	}
	if p.Direction.Pulls() {
		err = r.pull(ctx)
	}
	if err == nil && p.Direction.Pushes() {
		err = r.push(ctx)
	}
	st.LastRun = s.now()
	if err != nil {
		st.Failures++
		st.LastError = err.Error()
	} else {
		st.Failures, st.LastError, st.LastSuccess = 0, "", st.LastRun
	}
	// The state is saved even when ctx ended the run.
	if serr := s.Peers.SavePeerState(context.WithoutCancel(ctx), st); serr != nil && err == nil {
		err = serr
	}
	res.Duration = time.Since(start)
	lg := s.logger().With("peer", p)
	if err != nil {
		lg.Warn("sync failed", "err", err, "pulled", res.Pulled, "pushed", res.Pushed, "failed", res.Failed)
	} else {
		lg.Info("sync", "pulled", res.Pulled, "present", res.Present, "pushed", res.Pushed, "withheld", res.Withheld, "failed", res.Failed, "requests", res.Requests, "took", res.Duration)
	}
	return res, err
}

// run is one Sync in progress.
type run struct {
	s      *Syncer
	p      *cyberpact.Peer
	st     *cyberpact.PeerState
	res    *Result
	c      *taxii.Client
	failed map[string]*cyberpact.SyncFailure // kept failures, by failKey
}

func failKey(dir cyberpact.SyncDirection, id, version string) string {
	return string(dir) + " " + id + "@" + version
}

func (r *run) pageSize() int {
	if r.p.PageSize > 0 {
		return r.p.PageSize
	}
	return DefaultPageSize
}

func (r *run) origin() *cyberpact.Origin {
	return &cyberpact.Origin{Peer: r.p.Name, URL: r.p.URL, Collection: r.p.Collection, Synced: r.s.now()}
}

// save stores the state after a committed step.
func (r *run) save(ctx context.Context) error {
	return r.s.Peers.SavePeerState(context.WithoutCancel(ctx), r.st)
}

// pull reads the peer's collection from the cursor on, then retries the
// pull failures kept from earlier runs.
func (r *run) pull(ctx context.Context) error {
	for {
		f := taxii.Filter{AddedAfter: r.st.PullAddedAfter, Next: r.st.PullNext, Limit: r.pageSize()}
		r.res.Requests++
		env, err := r.c.Objects(ctx, r.p.URL, r.p.Collection, f)
		if err != nil {
			if f.Next != "" && (taxii.StatusCode(err) == http.StatusBadRequest || taxii.StatusCode(err) == http.StatusNotFound) {
				// The peer no longer honours its token: read the run
				// again from its start (what is here already is present).
				r.s.logger().Warn("peer refused its next token; restarting the pull at its added_after", "peer", r.p, "err", err)
				r.st.PullNext = ""
				if err := r.save(ctx); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("pulling from %s: %w", r.p.Name, err)
		}
		if err := r.importPage(ctx, env.Objects); err != nil {
			return fmt.Errorf("pulling from %s: %w", r.p.Name, err)
		}
		// The page is committed: move the cursor.
		switch {
		case env.More && env.Next != "":
			r.st.PullNext = env.Next
		case env.More && env.DateAddedLast == "":
			return fmt.Errorf("pulling from %s: the peer says there is more but gives neither next nor X-TAXII-Date-Added-Last", r.p.Name)
		default:
			// The end of the run, or a server that pages by
			// added_after alone.
			r.st.PullNext = ""
			if env.DateAddedLast != "" {
				r.st.PullAddedAfter = env.DateAddedLast
			}
		}
		if err := r.save(ctx); err != nil {
			return err
		}
		if !env.More {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return r.retryPulls(ctx)
}

// importPage imports one page of the peer's objects, leaving out what the
// border rule keeps out and recording each refused version as a failure.
// Earlier failures of versions now stored are cleared.
func (r *run) importPage(ctx context.Context, objects []json.RawMessage) error {
	if len(objects) == 0 {
		return nil
	}
	var body bytes.Buffer
	body.WriteString(`{"objects":[`)
	for i, o := range objects {
		if i > 0 {
			body.WriteByte(',')
		}
		body.Write(o)
	}
	body.WriteString("]}")
	dec := stix.NewDecoderOf(stix.NewEnvelopeReader(&body))
	defer dec.Close()
	var seen []*cyberpact.Object
	withheld := 0
	next := func() (*cyberpact.Object, error) {
		for {
			o, err := dec.Next()
			if err != nil {
				return o, err
			}
			level := o.TLP
			if level == cyberpact.TLPUnknown {
				level = cyberpact.TLPAmber // the store's default for unmarked objects
			}
			if !cyberpact.MayPull(level, r.p.Audience) {
				withheld++
				continue
			}
			seen = append(seen, o)
			return o, nil
		}
	}
	opts := cyberpact.ImportOptions{Partial: true, Producer: r.p.Org, Audience: r.p.Audience, Origin: r.origin()}
	who := cyberpact.Actor{Name: "sync:" + r.p.Name, Org: r.p.Org, Via: "sync"}
	res, err := cyberpact.AuditedImport(ctx, r.s.Store, r.s.Audit, who, next, opts,
		fmt.Sprintf("pulled from peer %s (%s collection %s)", r.p.Name, r.p.URL, r.p.Collection))
	if err != nil {
		return err
	}
	if !res.Committed {
		return fmt.Errorf("the import of a page was not committed")
	}
	r.res.Pulled += res.Added
	r.res.Present += res.Present
	r.res.Withheld += withheld
	r.res.WithheldPull += withheld
	r.st.Pulled += int64(res.Added)
	r.st.Withheld += int64(withheld)
	r.st.WithheldPull += int64(withheld)
	refused := map[string]bool{}
	for _, rj := range res.Rejected {
		id := rj.ID
		if id == "" {
			id = fmt.Sprintf("object #%d of a page", rj.Index)
		}
		k := failKey(cyberpact.SyncPull, id, rj.Modified)
		if refused[k] {
			continue
		}
		refused[k] = true
		r.res.Failed++
		if err := r.s.Peers.RecordFailure(ctx, &cyberpact.SyncFailure{Peer: r.p.ID, Direction: cyberpact.SyncPull, ObjectID: id, Version: rj.Modified, Reason: rj.Error(), Last: r.s.now()}); err != nil {
			return err
		}
	}
	for _, o := range seen {
		k := failKey(cyberpact.SyncPull, o.ID, o.Modified)
		if refused[k] {
			continue
		}
		if _, ok := r.failed[k]; ok {
			if err := r.s.Peers.ClearFailure(ctx, r.p.ID, cyberpact.SyncPull, o.ID, o.Modified); err != nil {
				return err
			}
			delete(r.failed, k)
			r.res.Retried++
		}
	}
	return nil
}

// retryPulls reads again, by id and version, each pull failure kept from
// an earlier run (those of this run were just tried).
func (r *run) retryPulls(ctx context.Context) error {
	for k, f := range r.failed {
		if f.Direction != cyberpact.SyncPull {
			continue
		}
		if f.Version == "" && len(f.ObjectID) > 7 && f.ObjectID[:7] == "object " {
			// No id to ask for: it is retried when its page is read again.
			continue
		}
		flt := taxii.Filter{}
		if f.Version != "" {
			flt.Versions = []string{f.Version}
		}
		r.res.Requests++
		env, err := r.c.Object(ctx, r.p.URL, r.p.Collection, f.ObjectID, flt)
		if taxii.StatusCode(err) == http.StatusNotFound {
			// Gone from the peer: nothing left to pull.
			delete(r.failed, k)
			if err := r.s.Peers.ClearFailure(ctx, r.p.ID, cyberpact.SyncPull, f.ObjectID, f.Version); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("retrying %s from %s: %w", f.ObjectID, r.p.Name, err)
		}
		if _, still := r.failed[k]; !still {
			continue
		}
		if err := r.importPage(ctx, env.Objects); err != nil {
			return fmt.Errorf("retrying %s from %s: %w", f.ObjectID, r.p.Name, err)
		}
	}
	return nil
}

// push sends the peer the local versions after the push cursor that may
// leave and did not come from it, after retrying earlier failures.
func (r *run) push(ctx context.Context) error {
	var retry []*cyberpact.Object
	for _, f := range r.failed {
		if f.Direction != cyberpact.SyncPush || f.Seq == 0 {
			continue
		}
		page, err := r.s.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{f.ObjectID}, Versions: []string{"all"}, Limit: 1000})
		if err != nil {
			return err
		}
		found := false
		for _, o := range page.Objects {
			if o.Seq == f.Seq {
				retry, found = append(retry, o), true
			}
		}
		if !found { // deleted here since
			if err := r.s.Peers.ClearFailure(ctx, r.p.ID, cyberpact.SyncPush, f.ObjectID, f.Version); err != nil {
				return err
			}
		}
	}
	if len(retry) > 0 {
		if err := r.send(ctx, retry); err != nil {
			return err
		}
	}
	for {
		page, err := r.s.Store.FindObjects(ctx, cyberpact.ObjectFilter{After: r.st.PushAfter, Versions: []string{"all"}, Limit: r.pageSize()})
		if err != nil {
			return err
		}
		if err := r.send(ctx, page.Objects); err != nil {
			return err
		}
		if len(page.Objects) > 0 {
			r.st.PushAfter = page.Next
			if err := r.save(ctx); err != nil {
				return err
			}
		}
		if !page.More {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// send POSTs those of objs that may go to the peer and records the
// outcome of each.
func (r *run) send(ctx context.Context, objs []*cyberpact.Object) error {
	var out []*cyberpact.Object
	var seqs []int64
	for _, o := range objs {
		if !cyberpact.MayPush(o.Release, r.p.Audience) {
			r.res.Withheld++
			r.res.WithheldPush++
			r.st.Withheld++
			r.st.WithheldPush++
			continue
		}
		if r.p.Org != 0 && o.Release.Producer == r.p.Org {
			r.res.PeerOwn++ // the peer's own, added here through its account
			r.st.PeerOwn++
			continue
		}
		out = append(out, o)
		seqs = append(seqs, o.Seq)
	}
	if len(out) == 0 {
		return nil
	}
	origins, err := r.s.Peers.Origins(ctx, seqs)
	if err != nil {
		return err
	}
	raws := make([]json.RawMessage, 0, len(out))
	kept := out[:0]
	for _, o := range out {
		if og := origins[o.Seq]; og != nil && (og.Peer == r.p.Name || og.URL == r.p.URL && og.Collection == r.p.Collection) {
			continue // came from this peer: never echoed back
		}
		kept = append(kept, o)
		raws = append(raws, o.Raw)
	}
	if len(kept) == 0 {
		return nil
	}
	r.res.Requests++
	status, err := r.c.AddObjects(ctx, r.p.URL, r.p.Collection, raws)
	if err != nil {
		return fmt.Errorf("pushing to %s: %w", r.p.Name, err)
	}
	failures := map[string]string{}
	for _, d := range status.Failures {
		failures[d.ID+"@"+d.Version] = d.Message
	}
	var sent []*cyberpact.Object
	for _, o := range kept {
		ver := taxiiVersion(o.Modified)
		k := failKey(cyberpact.SyncPush, o.ID, o.Modified)
		if msg, bad := failures[o.ID+"@"+ver]; bad {
			r.res.Failed++
			if err := r.s.Peers.RecordFailure(ctx, &cyberpact.SyncFailure{Peer: r.p.ID, Direction: cyberpact.SyncPush, ObjectID: o.ID, Version: o.Modified, Seq: o.Seq, Reason: "refused by the peer: " + msg, Last: r.s.now()}); err != nil {
				return err
			}
			continue
		}
		r.res.Pushed++
		r.st.Pushed++
		sent = append(sent, o)
		if _, ok := r.failed[k]; ok {
			if err := r.s.Peers.ClearFailure(ctx, r.p.ID, cyberpact.SyncPush, o.ID, o.Modified); err != nil {
				return err
			}
			delete(r.failed, k)
			r.res.Retried++
		}
	}
	if r.s.Audit != nil && len(sent) > 0 {
		// One entry for the batch, its versions named by their Seqs.
		who := cyberpact.Actor{Name: "sync:" + r.p.Name, Org: r.p.Org, Via: "sync"}
		e := cyberpact.ReleaseEntry(who, nil, r.p.URL, "collection="+r.p.Collection, sent)
		if e == nil {
			return nil
		}
		e.Detail = fmt.Sprintf("pushed to peer %s (%s collection %s): %d accepted, %d refused", r.p.Name, r.p.URL, r.p.Collection, status.Success, status.Failure)
		if err := r.s.Audit.Audit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

// taxiiVersion is a stored version key as TAXII statuses write it:
// milliseconds unless the key needs more digits.
func taxiiVersion(key string) string {
	t, err := time.Parse(time.RFC3339Nano, key)
	if err != nil {
		return key
	}
	t = t.UTC()
	switch {
	case t.Nanosecond()%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case t.Nanosecond()%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}

// RunAll syncs every peer once, one after the other, and returns the
// results; a peer's failure does not stop the others.
func (s *Syncer) RunAll(ctx context.Context) ([]*Result, error) {
	peers, err := s.Peers.Peers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*Result
	var errs []error
	for _, p := range peers {
		res, err := s.Sync(ctx, p)
		out = append(out, res)
		if err != nil {
			errs = append(errs, err)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return out, errors.Join(errs...)
}

// Run syncs every peer every interval until ctx ends. Failures are logged
// and recorded in each peer's state; the next round tries again.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.RunAll(ctx); err != nil && ctx.Err() == nil {
			s.logger().Warn("sync round had failures", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
