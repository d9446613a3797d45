// Package ingest runs the hub's feed sources (cyberpact.Source): on a
// schedule, it reads each external feed (a TAXII 2.1 collection, a MISP
// feed, CSV or a plain list), incrementally, and imports what is new
// through the one audited import path (cyberpact.AuditedImport, where the
// store's admission step, cyberpact.Admit, decides ownership) as produced
// by the source's organisation for its audience. Each source keeps its
// state (cyberpact.SourceState): the last run, its counts, its last
// error, and its own cursor. A broken source never stops the others: each
// runs on its own, its failure recorded in its state.
package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// Runner runs sources against a store.
type Runner struct {
	Store   cyberpact.ObjectStore
	Audit   cyberpact.AuditLog
	Sources cyberpact.SourceStore
	// HTTP is the client sources are read through; nil means one with
	// DefaultTimeout.
	HTTP   *http.Client
	Logger *slog.Logger
	// Parallel is how many sources run at once; 0 means 4.
	Parallel int
	// MaxBody caps what one request may read; 0 means DefaultMaxBody.
	MaxBody int64

	mu      sync.Mutex
	running map[int64]bool
}

// DefaultTimeout bounds one request of a source, its body included.
const DefaultTimeout = 2 * time.Minute

// DefaultMaxBody is the largest response read from a source.
const DefaultMaxBody = 256 << 20

// New returns a runner over store, which must keep sources and an audit
// log (both stores do).
func New(store cyberpact.ObjectStore, logger *slog.Logger) (*Runner, error) {
	src, ok := store.(cyberpact.SourceStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "this store keeps no feed sources")
	}
	log, _ := store.(cyberpact.AuditLog)
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{Store: store, Audit: log, Sources: src, Logger: logger}, nil
}

func (r *Runner) client() *http.Client {
	if r.HTTP != nil {
		return r.HTTP
	}
	return &http.Client{Timeout: DefaultTimeout}
}

func (r *Runner) maxBody() int64 {
	if r.MaxBody > 0 {
		return r.MaxBody
	}
	return DefaultMaxBody
}

// Result is what one run of a source did.
type Result struct {
	Added, Present, Rejected int
	// Reasons are the first rejections' reasons, with where they came
	// from.
	Reasons []string
}

func (res *Result) add(x *cyberpact.ImportResult, about string) {
	if x == nil {
		return
	}
	if x.Committed {
		res.Added += x.Added
	}
	res.Present += x.Present
	res.Rejected += len(x.Rejected)
	for _, rj := range x.Rejected {
		res.reject(about + ": " + rj.Error())
	}
}

// reject notes one rejection's reason.
func (res *Result) reject(reason string) {
	if len(res.Reasons) < cyberpact.MaxSourceRejections {
		res.Reasons = append(res.Reasons, reason)
	}
}

// Run runs src once, whatever its schedule, and records the run in its
// state, which it returns. The error is the run's failure, also recorded
// as the state's LastError; what the run imported before failing stays,
// and so do the cursors that cover it.
func (r *Runner) Run(ctx context.Context, src *cyberpact.Source) (*cyberpact.SourceState, error) {
	return r.run(ctx, src, time.Now())
}

// run is Run at the time now, which is recorded as the run's.
func (r *Runner) run(ctx context.Context, src *cyberpact.Source, now time.Time) (*cyberpact.SourceState, error) {
	st, err := r.Sources.SourceState(ctx, src.ID)
	if err != nil {
		return nil, err
	}
	start := now.UTC()
	var res Result
	runErr := r.safely(func() error { return r.runKind(ctx, src, st, &res) })
	st.LastRun = start
	st.Runs++
	st.LastAdded, st.LastPresent, st.LastRejected, st.Rejections = res.Added, res.Present, res.Rejected, res.Reasons
	st.Added += int64(res.Added)
	st.Present += int64(res.Present)
	st.Rejected += int64(res.Rejected)
	if runErr != nil {
		st.LastError = runErr.Error()
		st.Failures++
		r.Logger.Warn("feed source failed", "source", src, "error", runErr)
	} else {
		st.LastError, st.Failures, st.LastSuccess = "", 0, start
		r.Logger.Info("feed source ran", "source", src, "added", res.Added, "present", res.Present, "rejected", res.Rejected)
	}
	// The state is saved even when the run's context has ended: what it
	// committed must not be fetched again.
	if err := r.Sources.SaveSourceState(context.WithoutCancel(ctx), st); err != nil {
		return st, err
	}
	return st, runErr
}

// safely runs fn, turning a panic into an error: one source's bug never
// takes the others down.
func (r *Runner) safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.Logger.Error("feed source panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error: %v", p)
		}
	}()
	return fn()
}

func (r *Runner) runKind(ctx context.Context, src *cyberpact.Source, st *cyberpact.SourceState, res *Result) error {
	switch src.Kind {
	case cyberpact.SourceTAXII:
		return r.runTAXII(ctx, src, st, res)
	case cyberpact.SourceMISP:
		return r.runMISP(ctx, src, st, res)
	case cyberpact.SourceCSV, cyberpact.SourceList:
		return r.runValues(ctx, src, st, res)
	}
	return fmt.Errorf("source kind %q is not taxii, misp, csv or list", src.Kind)
}

// RunDue runs every source due at now (cyberpact.SourceState.Due), at
// most Parallel at once, skipping those already running, and waits for
// them. One source's failure is recorded in its state and never stops the
// others; the error is only that of listing the sources.
func (r *Runner) RunDue(ctx context.Context, now time.Time) error {
	srcs, err := r.Sources.Sources(ctx)
	if err != nil {
		return err
	}
	par := r.Parallel
	if par <= 0 {
		par = 4
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for _, src := range srcs {
		st, err := r.Sources.SourceState(ctx, src.ID)
		if err != nil {
			r.Logger.Warn("reading feed source state", "source", src, "error", err)
			continue
		}
		if !st.Due(src, now) || !r.claim(src.ID) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.release(src.ID)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			r.run(ctx, src, now) // the outcome is in the source's state
		}()
	}
	wg.Wait()
	return nil
}

// Loop runs the due sources every tick until ctx ends, then waits for
// the runs under way to end (their requests end with ctx). A source that
// runs longer than a tick is not started again until it ends.
func (r *Runner) Loop(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.RunDue(ctx, time.Now()); err != nil && ctx.Err() == nil {
				r.Logger.Warn("listing feed sources", "error", err)
			}
		}()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Runner) claim(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running == nil {
		r.running = map[int64]bool{}
	}
	if r.running[id] {
		return false
	}
	r.running[id] = true
	return true
}

func (r *Runner) release(id int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.running, id)
}

// importObjects imports raw STIX objects as src's release, through the
// audited import path, as actor "feed:NAME" via "feed". Objects the store
// refuses are counted as rejected; the others are stored.
func (r *Runner) importObjects(ctx context.Context, src *cyberpact.Source, objs []json.RawMessage, about string) (*cyberpact.ImportResult, error) {
	if len(objs) == 0 {
		return &cyberpact.ImportResult{Committed: true}, nil
	}
	b := bundleOf(objs)
	return r.importBundle(ctx, src, bytes.NewReader(b), about)
}

// importBundle imports a STIX bundle as importObjects does.
func (r *Runner) importBundle(ctx context.Context, src *cyberpact.Source, bundle io.Reader, about string) (*cyberpact.ImportResult, error) {
	dec := stix.NewDecoder(bundle)
	defer dec.Close()
	opts := cyberpact.ImportOptions{Partial: true, Producer: src.Org, Audience: src.Audience}
	who := cyberpact.Actor{Name: "feed:" + src.Name, Org: src.Org, Via: "feed"}
	return cyberpact.AuditedImport(ctx, r.Store, r.Audit, who, dec.Next, opts, "source "+src.Name+": "+about)
}

// bundleOf wraps objects in a STIX bundle.
func bundleOf(objs []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
	for i, o := range objs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(o)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// errNotModified is a conditional GET's 304.
var errNotModified = errors.New("not modified")

// get fetches u for src with its credentials: HTTP Basic with User and
// Key, else the Key as the Authorization header as it is (MISP's form).
// With etag it asks If-None-Match and returns errNotModified on 304.
func (r *Runner) get(ctx context.Context, src *cyberpact.Source, u, etag string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", u, err)
	}
	switch {
	case src.User != "":
		req.SetBasicAuth(src.User, src.Key)
	case src.Key != "":
		req.Header.Set("Authorization", src.Key)
	}
	req.Header.Set("Accept", "application/json, text/csv, text/plain;q=0.9, */*;q=0.5")
	req.Header.Set("User-Agent", "cyberpact-feeds")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := r.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is said once
		}
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && etag != "" {
		return nil, resp.Header, errNotModified
	}
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return nil, nil, fmt.Errorf("GET %s: %s: %s", u, resp.Status, bytes.TrimSpace(msg))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.maxBody()+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: reading the body: %w", u, err)
	}
	if int64(len(body)) > r.maxBody() {
		return nil, nil, fmt.Errorf("GET %s: the body is larger than %d bytes", u, r.maxBody())
	}
	return body, resp.Header, nil
}
