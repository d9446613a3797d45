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
// tried again on every run, once a run.
//
// A peer is trusted with no more than it must be: each run is bounded
// (Limits: pages, objects, bytes of a page, wall time, the wait for a
// pending status) and stops at a repeated cursor; a page is downloaded into
// an unnamed file before its import begins (a slow peer never holds the
// store) and read object by object (memory follows the largest object);
// an object over the size or depth limit fails alone; a read by id takes
// only the version asked for; the TAXII client follows no redirect off the
// peer's origin and honours Retry-After. RunAll and Run give each peer its
// own goroutine, so no peer waits for another.
package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/taxii"
)

// DefaultPageSize is the limit asked of a peer, and the batch pushed, when
// the peer has none of its own.
const DefaultPageSize = 5000

// Defaults of Limits.
const (
	DefaultMaxPages   = 1000
	DefaultMaxObjects = 1000000
	DefaultRunTime    = 10 * time.Minute
	DefaultPageBytes  = 1 << 30
)

// Limits bound one run with one peer, so that a peer that never stops
// (an endless or repeating next, a page that never ends, a status that
// stays pending) ends its own run with an error and takes nothing from the
// others. Zero fields take the defaults.
type Limits struct {
	// Pages is the most requests of objects a run sends (pages pulled and
	// kept failures read again by id); DefaultMaxPages.
	Pages int
	// Objects is the most objects a run reads from the peer;
	// DefaultMaxObjects. A page holding more is not stored.
	Objects int
	// Duration is the wall time of a run; DefaultRunTime. A page being
	// read when it runs out is not stored; the pages before it are.
	Duration time.Duration
	// PageBytes is the largest page body taken from a peer, in bytes;
	// DefaultPageBytes. A page is spooled to a file before it is imported
	// (so that a slow peer never holds the store's write lock); a larger
	// one is not stored.
	PageBytes int64
	// StatusWait bounds the polling of a pushed batch's pending status;
	// taxii.DefaultStatusWait.
	StatusWait time.Duration
	// MaxObjectSize is the largest object taken from a peer, in bytes of
	// compact JSON; stix.DefaultMaxObjectSize. A larger one, or one
	// nesting deeper than stix.DefaultMaxDepth, is a failure of that
	// object alone.
	MaxObjectSize int
	// MaxRetryWait is the longest Retry-After waited out within a run;
	// taxii.DefaultMaxRetryWait. A longer one ends the run, and the
	// scheduler (Run) leaves the peer alone until then.
	MaxRetryWait time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Pages <= 0 {
		l.Pages = DefaultMaxPages
	}
	if l.Objects <= 0 {
		l.Objects = DefaultMaxObjects
	}
	if l.Duration <= 0 {
		l.Duration = DefaultRunTime
	}
	if l.MaxObjectSize <= 0 {
		l.MaxObjectSize = stix.DefaultMaxObjectSize
	}
	if l.PageBytes <= 0 {
		l.PageBytes = DefaultPageBytes
	}
	return l
}

// ErrRunLimit is the error of a run stopped at one of its Limits: what it
// committed before is kept and the next run resumes at the saved cursor.
var ErrRunLimit = errors.New("the run reached its limit")

// ErrLoop is the error of a pull whose peer answered a next token (or an
// X-TAXII-Date-Added-Last) it had already answered in the same run.
var ErrLoop = errors.New("the peer repeats itself")

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
	// Limits bound each run.
	Limits Limits
	// SpoolDir is where pages are spooled while they download, as
	// files removed at once (they live only while open); "" means the
	// system's temporary directory.
	SpoolDir string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Result is what one run did.
type Result struct {
	Peer     string `json:"peer"`
	Pulled   int    `json:"pulled"`   // versions added here
	Present  int    `json:"present"`  // versions read that were already here
	Pushed   int    `json:"pushed"`   // versions the peer accepted
	Withheld int    `json:"withheld"` // versions the sharing rule kept from crossing: WithheldPull + WithheldPush
	Failed   int    `json:"failed"`   // versions that failed (kept and retried)
	Retried  int    `json:"retried"`  // earlier failures that now succeeded
	Stray    int    `json:"stray"`    // objects answered to a read by id that were not the one asked for (ignored)
	// Retracted counts the versions deleted here because the peer's
	// retractions withdrew them.
	Retracted int           `json:"retracted,omitempty"`
	Pages     int           `json:"pages"`    // reads of objects sent to the peer
	Objects   int           `json:"objects"`  // objects read from the peer
	Requests  int           `json:"requests"` // requests sent to the peer
	Duration  time.Duration `json:"duration"`

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
	return &taxii.Client{HTTP: s.HTTP, Timeout: s.Timeout, User: p.User, Key: p.Key, UserAgent: "cyberpact-federation",
		StatusWait: s.Limits.StatusWait, MaxRetryWait: s.Limits.MaxRetryWait}
}

// runTimeout is the cause of a run's context when its time is up.
type runTimeout struct{ d time.Duration }

func (e *runTimeout) Error() string {
	return fmt.Sprintf("%v: its time of %s ran out", ErrRunLimit, e.d)
}
func (e *runTimeout) Unwrap() error { return ErrRunLimit }

// Sync runs one synchronisation with p: a pull, then a push, as its
// direction says, within s.Limits. The state (cursors, counts, runs and
// failed runs, last success or error) is saved whatever happens; the error
// says where the run stopped and why.
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
	lim := s.Limits.withDefaults()
	budget := &runTimeout{lim.Duration}
	rctx, cancel := context.WithTimeoutCause(ctx, lim.Duration, budget)
	defer cancel()
	r := &run{s: s, p: p, st: st, res: res, c: s.client(p), lim: lim,
		failed: map[string]*cyberpact.SyncFailure{}, tried: map[string]bool{}}
	for _, f := range failures {
		r.failed[failKey(f.Direction, f.ObjectID, f.Version)] = f
	}
	if p.Direction.Pulls() {
		err = r.pull(rctx)
	}
	if err == nil && p.Direction.Pushes() {
		err = r.push(rctx)
	}
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(rctx), budget) {
		err = fmt.Errorf("%s: %w; what was committed before is kept and the next run resumes there (interrupted: %v)", p.Name, budget, err)
	}
	st.LastRun = s.now()
	st.Runs++
	st.LastFailed = res.Failed
	if err != nil {
		st.Failures++
		st.FailedRuns++
		st.LastError, st.LastErrorAt = err.Error(), st.LastRun
		var te *taxii.Error
		if errors.As(err, &te) && te.RetryAfter.After(st.LastRun) {
			st.RetryAfter = te.RetryAfter.UTC()
		}
	} else {
		st.Failures, st.LastSuccess = 0, st.LastRun
		st.RetryAfter = time.Time{}
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
	lim    Limits
	failed map[string]*cyberpact.SyncFailure // kept failures, by failKey
	tried  map[string]bool                   // failKeys that failed or were read in this run
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

// nextPage counts one more read of objects, or says that the run has read
// its limit of pages or objects.
func (r *run) nextPage() error {
	switch {
	case r.res.Pages >= r.lim.Pages:
		return fmt.Errorf("%w of %d pages; what was read is stored and the next run resumes at the saved cursor", ErrRunLimit, r.lim.Pages)
	case r.res.Objects >= r.lim.Objects:
		return fmt.Errorf("%w of %d objects; what was read is stored and the next run resumes at the saved cursor", ErrRunLimit, r.lim.Objects)
	}
	r.res.Pages++
	r.res.Requests++
	return nil
}

// pull reads the peer's collection from the cursor on, then retries the
// pull failures kept from earlier runs.
func (r *run) pull(ctx context.Context) error {
	seen := map[string]bool{} // next tokens answered in this run
	restarted := false
	for {
		if err := r.nextPage(); err != nil {
			return fmt.Errorf("pulling from %s: %w", r.p.Name, err)
		}
		f := taxii.Filter{AddedAfter: r.st.PullAddedAfter, Next: r.st.PullNext, Limit: r.pageSize()}
		body, err := r.c.StreamObjects(ctx, r.p.URL, r.p.Collection, f)
		if err != nil {
			if f.Next != "" && !restarted && (taxii.StatusCode(err) == http.StatusBadRequest || taxii.StatusCode(err) == http.StatusNotFound) {
				// The peer no longer honours its token: read the run
				// again from its start (what is here already is present).
				r.s.logger().Warn("peer refused its next token; restarting the pull at its added_after", "peer", r.p, "err", err)
				restarted = true
				r.st.PullNext = ""
				if err := r.save(ctx); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("pulling from %s: %w", r.p.Name, err)
		}
		pg, err := r.importPage(ctx, body, "", "")
		if err != nil {
			return fmt.Errorf("pulling from %s (page %d of this run): %w", r.p.Name, r.res.Pages, err)
		}
		// The page is committed: move the cursor.
		switch {
		case pg.More && pg.Next != "":
			if pg.Next == f.Next || seen[pg.Next] {
				return fmt.Errorf("pulling from %s: %w: it answered the next token %q a second time in this run (page %d); stopped there, the pages before are stored", r.p.Name, ErrLoop, clip(pg.Next), r.res.Pages)
			}
			seen[pg.Next] = true
			r.st.PullNext = pg.Next
		case pg.More && pg.DateAddedLast == "":
			return fmt.Errorf("pulling from %s: the peer says there is more but gives neither next nor X-TAXII-Date-Added-Last", r.p.Name)
		case pg.More && f.Next == "" && pg.DateAddedLast == f.AddedAfter:
			return fmt.Errorf("pulling from %s: %w: it says there is more after added_after=%s but answered that same X-TAXII-Date-Added-Last; stopped", r.p.Name, ErrLoop, clip(f.AddedAfter))
		default:
			// The end of the run, or a server that pages by
			// added_after alone.
			r.st.PullNext = ""
			if pg.DateAddedLast != "" {
				r.st.PullAddedAfter = pg.DateAddedLast
			}
		}
		if err := r.save(ctx); err != nil {
			return err
		}
		if !pg.More {
			break
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
	}
	return r.retryPulls(ctx)
}

// clip shortens a peer's token for a message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// page is what a streamed envelope said besides its objects.
type page struct {
	More          bool
	Next          string
	DateAddedLast string
	Wanted        bool // a read by id: whether the version asked for was in it
}

// importPage imports one page of the peer's objects as it streams in (at
// most a few objects in memory at once), leaving out what the border rule
// keeps out and recording each refused version as a failure. An object
// over the size or depth limit is such a failure; the others beside it
// are stored. Earlier failures of versions now stored are cleared. With
// want set (a read by id), objects of another id, or of another version
// than version when it is set, are not imported: they are counted as
// stray. Nothing of the page is stored when it cannot be read to its end.
func (r *run) importPage(ctx context.Context, body *taxii.Body, want, version string) (*page, error) {
	file, err := r.spool(ctx, body)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	rd := stix.NewEnvelopeReader(file)
	rd.MaxObjectSize, rd.SkipOverLimit = r.lim.MaxObjectSize, true
	dec := stix.NewDecoderOf(rd)
	defer dec.Close()
	pg := &page{DateAddedLast: body.Header.Get("X-TAXII-Date-Added-Last")}
	stray := func(id, ver string) bool {
		if want == "" {
			return false
		}
		if id == want && (version == "" || ver == version) {
			pg.Wanted = true
			return false
		}
		return true
	}
	left := r.lim.Objects - r.res.Objects
	read, withheld, strays := 0, 0, 0
	var stored []string // kept failures read in this page
	next := func() (*cyberpact.Object, error) {
		for {
			o, err := dec.Next()
			if err == io.EOF {
				return nil, err
			}
			read++
			if read > left {
				return nil, fmt.Errorf("%w of %d objects inside a page (the page asked for at most %d): nothing of it is stored", ErrRunLimit, r.lim.Objects, r.pageSize())
			}
			if err != nil {
				var rs cyberpact.Rejections
				if errors.As(err, &rs) && len(rs) > 0 && stray(rs[0].ID, rs[0].Modified) {
					strays++
					continue
				}
				return o, err
			}
			if stray(o.ID, o.Modified) {
				strays++
				continue
			}
			if !Incoming(o, r.p) {
				withheld++
				continue
			}
			if k := failKey(cyberpact.SyncPull, o.ID, o.Modified); r.failed[k] != nil {
				stored = append(stored, k)
			}
			return o, nil
		}
	}
	opts := cyberpact.ImportOptions{Partial: true, Producer: r.p.Org, Audience: r.p.Audience, Origin: r.origin()}
	// The counts commit with the page, so that peer status counts what is
	// stored even when the process is killed right after; the cursor moves
	// once the page is stored (pull), and a page read again is present.
	opts.PeerState = func(res *cyberpact.ImportResult) *cyberpact.PeerState {
		st := *r.st
		st.Pulled += int64(res.Added)
		st.Withheld += int64(withheld)
		st.WithheldPull += int64(withheld)
		st.Stray += int64(strays)
		return &st
	}
	who := cyberpact.Actor{Name: "sync:" + r.p.Name, Org: r.p.Org, Via: "sync"}
	var retractions []string
	res, err := cyberpact.AuditedImport(ctx, r.s.Store, r.s.Audit, who, cyberpact.Retracting(next, &retractions), opts,
		fmt.Sprintf("pulled from peer %s (%s collection %s)", r.p.Name, r.p.URL, r.p.Collection))
	r.res.Objects += min(read, left)
	if err != nil {
		if c := context.Cause(ctx); c != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("%w (reading the page: %v)", c, err)
		}
		return nil, err
	}
	if !res.Committed {
		return nil, fmt.Errorf("the import of a page was not committed")
	}
	// The peer's retractions delete what it sent here, and nothing else
	// (cyberpact.ApplyRetractions); they stay stored, to go on to the
	// hubs this one shares with, unless the peer holds nothing here of
	// what they name: those are not from the object's origin, and go.
	if _, n, err := cyberpact.ApplyRetractions(ctx, r.s.Store, r.s.Audit, who, retractions, res); err != nil {
		return nil, fmt.Errorf("applying the page's retractions: %w", err)
	} else {
		r.res.Retracted += n
	}
	if v := rd.Property("more"); v != nil {
		if err := json.Unmarshal(v, &pg.More); err != nil {
			return nil, fmt.Errorf("the envelope's \"more\" is %s, not true or false", clip(string(v)))
		}
	}
	if v := rd.Property("next"); v != nil {
		if err := json.Unmarshal(v, &pg.Next); err != nil {
			return nil, fmt.Errorf("the envelope's \"next\" is %s, not a string", clip(string(v)))
		}
	}
	r.res.Pulled += res.Added
	r.res.Present += res.Present
	r.res.Withheld += withheld
	r.res.WithheldPull += withheld
	r.res.Stray += strays
	r.st.Pulled += int64(res.Added)
	r.st.Withheld += int64(withheld)
	r.st.WithheldPull += int64(withheld)
	r.st.Stray += int64(strays)
	if strays > 0 {
		r.s.logger().Warn("the peer answered a read by id with objects not asked for; ignored", "peer", r.p, "id", want, "stray", strays)
	}
	refused := map[string]bool{}
	for _, rj := range res.Rejected {
		id := rj.ID
		if id == "" {
			id = fmt.Sprintf("object #%d of a page", rj.Index)
		}
		k := failKey(cyberpact.SyncPull, id, rj.Modified)
		if refused[k] {
			continue // another problem of the same version
		}
		refused[k] = true
		if err := r.fail(ctx, cyberpact.SyncPull, id, rj.Modified, 0, rj.Error()); err != nil {
			return nil, err
		}
	}
	for _, k := range stored {
		if refused[k] {
			continue
		}
		if f := r.failed[k]; f != nil {
			if err := r.s.Peers.ClearFailure(ctx, r.p.ID, cyberpact.SyncPull, f.ObjectID, f.Version); err != nil {
				return nil, err
			}
			delete(r.failed, k)
			r.tried[k] = true
			r.res.Retried++
		}
	}
	return pg, nil
}

// spool downloads a page into an unnamed file, so that the store's write
// transaction starts only once the whole page is here: a peer that sends
// slowly holds its own run, never the store.
func (r *run) spool(ctx context.Context, body *taxii.Body) (*os.File, error) {
	defer body.Close()
	f, err := os.CreateTemp(r.s.SpoolDir, "cyberpact-peer-page-*")
	if err != nil {
		return nil, fmt.Errorf("spooling a page: %w", err)
	}
	// Gone from the directory at once: the file lives while it is open,
	// and nothing is left behind whatever ends the process.
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("spooling a page: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(body, r.lim.PageBytes+1))
	if err == nil && n > r.lim.PageBytes {
		err = fmt.Errorf("%w of %d bytes for one page: nothing of it is stored", ErrRunLimit, r.lim.PageBytes)
	} else if err != nil {
		if c := context.Cause(ctx); c != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (reading the page: %v)", c, err)
		} else {
			err = fmt.Errorf("reading the page: %w", err)
		}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// fail records that one version failed in this run: once per run however
// often it is met, so that neither the run's count nor the failure's
// attempts grow with the number of times a peer repeats it.
func (r *run) fail(ctx context.Context, dir cyberpact.SyncDirection, id, version string, seq int64, reason string) error {
	k := failKey(dir, id, version)
	if r.tried[k] {
		return nil
	}
	r.tried[k] = true
	r.res.Failed++
	f := &cyberpact.SyncFailure{Peer: r.p.ID, Direction: dir, ObjectID: id, Version: version, Seq: seq, Reason: reason, Last: r.s.now()}
	if err := r.s.Peers.RecordFailure(context.WithoutCancel(ctx), f); err != nil {
		return err
	}
	if r.failed[k] == nil {
		r.failed[k] = f
	}
	return nil
}

// retryPulls reads again, by id and version, each pull failure kept from
// an earlier run (those of this run were just tried). Only the version
// asked for is taken from the answer.
func (r *run) retryPulls(ctx context.Context) error {
	keys := make([]string, 0, len(r.failed))
	for k, f := range r.failed {
		if f.Direction == cyberpact.SyncPull && !r.tried[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := r.failed[k]
		if f == nil || r.tried[k] {
			continue
		}
		if f.Version == "" && strings.HasPrefix(f.ObjectID, "object ") {
			// No id to ask for: it is retried when its page is read again.
			continue
		}
		if err := r.nextPage(); err != nil {
			return fmt.Errorf("retrying the failures of %s: %w", r.p.Name, err)
		}
		flt := taxii.Filter{}
		if f.Version != "" {
			flt.Versions = []string{taxiiVersion(f.Version)}
		}
		body, err := r.c.StreamObject(ctx, r.p.URL, r.p.Collection, f.ObjectID, flt)
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
		pg, err := r.importPage(ctx, body, f.ObjectID, f.Version)
		if err != nil {
			return fmt.Errorf("retrying %s from %s: %w", f.ObjectID, r.p.Name, err)
		}
		if !pg.Wanted && !r.tried[k] {
			const missing = "read again by id, the peer's answer did not hold this version; first: "
			reason := f.Reason
			if !strings.HasPrefix(reason, missing) {
				reason = missing + reason
			}
			if err := r.fail(ctx, cyberpact.SyncPull, f.ObjectID, f.Version, 0, reason); err != nil {
				return err
			}
		}
	}
	return nil
}

// push sends the peer the local versions after the push cursor that may
// leave and did not come from it, after retrying earlier failures.
func (r *run) push(ctx context.Context) error {
	var retry []*cyberpact.Object
	keys := make([]string, 0, len(r.failed))
	for k := range r.failed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := r.failed[k]
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
	for len(retry) > 0 {
		n := min(len(retry), r.pageSize())
		if err := r.send(ctx, retry[:n]); err != nil {
			return err
		}
		retry = retry[n:]
	}
	for {
		page, err := r.s.Store.FindObjects(ctx, cyberpact.ObjectFilter{After: r.st.PushAfter, Versions: []string{"all"}, Limit: r.pageSize()})
		if err != nil {
			return err
		}
		serr := r.send(ctx, page.Objects)
		if serr != nil && !errors.Is(serr, taxii.ErrStatusPending) {
			return serr
		}
		// Sent, or kept as failures (a status that stayed pending): the
		// cursor moves on either way.
		if len(page.Objects) > 0 {
			r.st.PushAfter = page.Next
			if err := r.save(ctx); err != nil {
				return err
			}
		}
		if serr != nil {
			return serr
		}
		if !page.More {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
	}
}

// Incoming is the sharing rule at the border for what comes in from peer
// p, as a pull and an opened offline bundle apply it: whether version o
// may be added here for p's audience (cyberpact.MayPull, an unmarked
// object counting as TLP:AMBER, the store's default).
func Incoming(o *cyberpact.Object, p *cyberpact.Peer) bool {
	level := o.TLP
	if level == cyberpact.TLPUnknown {
		level = cyberpact.TLPAmber // the store's default for unmarked objects
	}
	return cyberpact.MayPull(level, p.Audience)
}

// Selection counts what Outgoing left out.
type Selection struct {
	Withheld int // kept here by the sharing rule at the border
	PeerOwn  int // produced by the peer's own organisation
	Echo     int // came from that peer (recorded provenance)
}

// Outgoing is the selection of what crosses to peer p among the local
// versions objs, as a push and a sealed offline bundle apply it: those
// that may leave for p's audience (cyberpact.MayPush), that the peer's own
// organisation did not produce, and that did not come from that peer. The
// order of objs is kept.
//
// Beyond MayPush, a version leaves only when its markings beside TLP
// permit the peer (Marks.Permit for a viewer with the nation, sector and
// clearances of the organisation the peer stands for, Peer.Org: a peer
// without one receives no marked version) and when the agreement it is
// shared under, if any, lets members pass objects on (Agreement.Federate).
// PAP:RED never leaves (MayForward).
func Outgoing(ctx context.Context, peers cyberpact.PeerStore, p *cyberpact.Peer, objs []*cyberpact.Object) ([]*cyberpact.Object, Selection, error) {
	var sel Selection
	var out []*cyberpact.Object
	var seqs []int64
	b, err := borderOf(ctx, peers, p)
	if err != nil {
		return nil, sel, err
	}
	for _, o := range objs {
		if !cyberpact.MayPush(o.Release, p.Audience) || !b.allows(o.Release) {
			sel.Withheld++
			continue
		}
		if p.Org != 0 && o.Release.Producer == p.Org {
			sel.PeerOwn++ // the peer's own, added here through its account
			continue
		}
		out = append(out, o)
		seqs = append(seqs, o.Seq)
	}
	if len(out) == 0 {
		return nil, sel, nil
	}
	origins, err := peers.Origins(ctx, seqs)
	if err != nil {
		return nil, sel, err
	}
	kept := out[:0]
	for _, o := range out {
		if og := origins[o.Seq]; og != nil && (og.Peer == p.Name || og.URL == p.URL && og.Collection == p.Collection) {
			sel.Echo++
			continue // came from this peer: never echoed back
		}
		kept = append(kept, o)
	}
	return kept, sel, nil
}

// border is what the terms say about one peer: who it is, for markings,
// and the agreements in force.
type border struct {
	peer       cyberpact.Viewer
	agreements map[int64]*cyberpact.Agreement
}

// borderOf reads the border of p from the store behind peers (its
// accounts and agreements). A store that keeps neither gives a peer
// without a nation and no agreements: marked versions stay.
func borderOf(ctx context.Context, peers cyberpact.PeerStore, p *cyberpact.Peer) (*border, error) {
	b := &border{}
	if acc, ok := peers.(cyberpact.AccountService); ok && p.Org != 0 {
		o, err := acc.OrgByID(ctx, p.Org)
		if err != nil {
			return nil, err
		}
		b.peer = cyberpact.Viewer{Org: o.ID, Nation: o.Nation, Sector: o.Sector, Clearances: o.Clearances}
	}
	if ags, ok := peers.(cyberpact.AgreementService); ok {
		t, err := ags.Terms(ctx)
		if err != nil {
			return nil, err
		}
		b.agreements = t.Agreements
	}
	return b, nil
}

// allows reports whether a version released as r may go to the peer.
func (b *border) allows(r cyberpact.Release) bool {
	if !r.Marks.Permit(b.peer) {
		return false
	}
	if g, ok := cyberpact.Governs(r.Audience); ok {
		if a := b.agreements[g]; a != nil && !a.Federate {
			return false
		}
	}
	return true
}

// send POSTs those of objs that may go to the peer and records the
// outcome of each: a version is pushed when the peer's status names it a
// success, or counts it among its successes without naming it and
// accounts for every failure and pending version by name. Any other is
// kept as a failure and sent again on the next run. When the status
// stayed pending past the Limits, what it did not name a success is kept
// so and the error wraps taxii.ErrStatusPending.
func (r *run) send(ctx context.Context, objs []*cyberpact.Object) error {
	kept, sel, err := Outgoing(ctx, r.s.Peers, r.p, objs)
	if err != nil {
		return err
	}
	r.res.Withheld += sel.Withheld
	r.res.WithheldPush += sel.Withheld
	r.st.Withheld += int64(sel.Withheld)
	r.st.WithheldPush += int64(sel.Withheld)
	r.res.PeerOwn += sel.PeerOwn
	r.st.PeerOwn += int64(sel.PeerOwn)
	raws := make([]json.RawMessage, 0, len(kept))
	for _, o := range kept {
		raws = append(raws, o.Raw)
	}
	if len(kept) == 0 {
		return nil
	}
	r.res.Requests++
	status, err := r.c.AddObjects(ctx, r.p.URL, r.p.Collection, raws)
	pending := errors.Is(err, taxii.ErrStatusPending) && status != nil
	if err != nil && !pending {
		return fmt.Errorf("pushing to %s: %w", r.p.Name, err)
	}
	named := func(ds []taxii.StatusDetail) map[string]string {
		m := make(map[string]string, len(ds))
		for _, d := range ds {
			m[d.ID+"@"+canonVersion(d.Version)] = d.Message
		}
		return m
	}
	successes, failures, pendings := named(status.Successes), named(status.Failures), named(status.Pendings)
	unnamed := max(status.Failure-len(status.Failures), 0) + max(status.Pending-len(status.Pendings), 0)
	unnamedOK := status.Success - len(status.Successes)
	// Versions the status names nowhere are pushed only when it counts
	// them as successes and leaves no failure or pending unnamed.
	anon := 0
	for _, o := range kept {
		k := o.ID + "@" + canonVersion(o.Modified)
		if _, ok := successes[k]; ok {
			continue
		}
		if _, ok := failures[k]; ok {
			continue
		}
		if _, ok := pendings[k]; ok {
			continue
		}
		anon++
	}
	anonPushed := !pending && unnamed == 0 && unnamedOK >= anon
	var sent []*cyberpact.Object
	for _, o := range kept {
		k := o.ID + "@" + canonVersion(o.Modified)
		_, ok := successes[k]
		msg, bad := failures[k]
		_, waiting := pendings[k]
		var reason string
		switch {
		case ok:
		case bad:
			reason = "refused by the peer: " + msg
		case waiting || pending:
			reason = fmt.Sprintf("the peer's status %s was still pending after the status wait", status.ID)
		case !anonPushed:
			reason = fmt.Sprintf("not known to be stored by the peer: its status %s counts %d successes, %d failures and %d pending for %d versions sent, without naming this one among the successes", status.ID, status.Success, status.Failure, status.Pending, len(kept))
		}
		if reason != "" {
			if err := r.fail(ctx, cyberpact.SyncPush, o.ID, o.Modified, o.Seq, reason); err != nil {
				return err
			}
			continue
		}
		r.res.Pushed++
		r.st.Pushed++
		sent = append(sent, o)
		fk := failKey(cyberpact.SyncPush, o.ID, o.Modified)
		if _, ok := r.failed[fk]; ok {
			if err := r.s.Peers.ClearFailure(ctx, r.p.ID, cyberpact.SyncPush, o.ID, o.Modified); err != nil {
				return err
			}
			delete(r.failed, fk)
			r.res.Retried++
		}
	}
	if r.s.Audit != nil && len(sent) > 0 {
		// One entry for the batch, its versions named by their Seqs.
		who := cyberpact.Actor{Name: "sync:" + r.p.Name, Org: r.p.Org, Via: "sync"}
		e := cyberpact.ReleaseEntry(who, nil, r.p.URL, "collection="+r.p.Collection, sent)
		if e != nil {
			e.Detail = fmt.Sprintf("pushed to peer %s (%s collection %s): %d accepted, %d refused", r.p.Name, r.p.URL, r.p.Collection, len(sent), len(kept)-len(sent))
			if err := r.s.Audit.Audit(context.WithoutCancel(ctx), e); err != nil {
				return err
			}
		}
	}
	if pending {
		return fmt.Errorf("pushing to %s: %w; the %d versions it did not name as stored are kept as failures and sent again next run", r.p.Name, err, len(kept)-len(sent))
	}
	return nil
}

// canonVersion is a version as one instant, whatever the precision it was
// written with: .123000Z and .123Z are the same version.
func canonVersion(v string) string {
	t, err := stix.ParseTime(v)
	if err != nil {
		return v
	}
	return stix.NormTime(t)
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

// RunAll syncs every peer once, each in its own goroutine within its own
// Limits, and returns the results in the order of the peers; a peer's
// failure, or a peer that takes its whole time, does not stop or delay the
// others.
func (s *Syncer) RunAll(ctx context.Context) ([]*Result, error) {
	peers, err := s.Peers.Peers(ctx)
	if err != nil {
		return nil, err
	}
	return s.SyncEach(ctx, peers)
}

// SyncEach syncs each of peers at once, as RunAll.
func (s *Syncer) SyncEach(ctx context.Context, peers []*cyberpact.Peer) ([]*Result, error) {
	out := make([]*Result, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = s.Sync(ctx, p)
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// Run syncs every peer every interval until ctx ends. Each peer runs in
// its own goroutine within its own Limits: a peer still running when its
// next turn comes is left to finish (that turn is skipped), and a peer
// that asked to be left alone (Retry-After) is skipped until then, so no
// peer waits for another. Failures are logged and recorded in each peer's
// state; the next turn tries again.
func (s *Syncer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var (
		mu      sync.Mutex
		running = map[int64]bool{}
		wg      sync.WaitGroup
	)
	defer wg.Wait()
	for {
		peers, err := s.Peers.Peers(ctx)
		if err != nil && ctx.Err() == nil {
			s.logger().Warn("sync: listing the peers", "err", err)
		}
		for _, p := range peers {
			mu.Lock()
			busy := running[p.ID]
			mu.Unlock()
			if busy {
				s.logger().Info("sync: the previous run is still going; this turn is skipped", "peer", p)
				continue
			}
			if st, err := s.Peers.PeerState(ctx, p.ID); err == nil && st.RetryAfter.After(s.now()) {
				s.logger().Info("sync: the peer asked to be left alone until then (Retry-After)", "peer", p, "until", st.RetryAfter)
				continue
			}
			mu.Lock()
			running[p.ID] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(running, p.ID)
					mu.Unlock()
				}()
				s.Sync(ctx, p) // logged and recorded in the peer's state
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
