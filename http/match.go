package http

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
)

// Matching on the hub: POST /api/v1/match runs a batch of events through
// an index of the indicators the caller's organisation may see. The server
// keeps one index per viewer (organisation and its groups), built on the
// first request and then kept up to date from the store's changes: new
// indicator versions and revocations are patched in while matching goes on
// over the previous index. Indexes unused for matchIdle are dropped.
//
// What the index holds follows the store at once:
//   - a match request first reads what was added since the index last
//     read (catchUp), so a revocation or new version answered to its
//     writer is in force for the next request;
//   - a delete through this server (TAXII DELETE) patches every index
//     before the DELETE answers (forget): the id's latest version the
//     viewer may still see replaces it, or a tombstone removes it;
//   - a delete elsewhere (another serve process) is read from the
//     store's log of deletes (ChangeNotifier.DeletedSince) at its change
//     notice, or at the next poll, and patched out the same way; the
//     log tells deletes apart from additions, whatever a notice covers.

// matchIdle is how long an unused index is kept.
const matchIdle = 10 * time.Minute

// matchPoll is how often indexes are refreshed when the store does not
// notify changes.
const matchPoll = 2 * time.Second

// matchRebuildGap is the least time between two rebuilds of the indexes
// after deletes made outside this server (follow).
const matchRebuildGap = 10 * time.Second

// matchHub holds the per-viewer indexes.
type matchHub struct {
	s       *Server
	mu      sync.Mutex
	indexes map[string]*viewerIndex
	running bool
	wake    chan struct{} // a refresh is wanted now (tests, new indexes)
}

// viewerIndex is one viewer's index and how far into the store it reads.
type viewerIndex struct {
	viewer cyberpact.Viewer
	ready  chan struct{} // closed once built (or failed)
	err    error
	m      *match.Matcher
	seq    int64                // the newest Seq read into the index
	sights map[string]time.Time // last sighting per indicator id
	used   atomic.Int64         // unix seconds of the last request
	stale  atomic.Bool          // deletes happened while it was built: rebuild it
	mu     sync.Mutex           // one refresh at a time
}

func (s *Server) registerMatch() {
	s.matches = &matchHub{s: s, indexes: map[string]*viewerIndex{}, wake: make(chan struct{}, 1)}
	s.handle("POST /api/v1/match", s.authed(s.postMatch))
}

// viewerKey names a viewer's index: its organisation and groups.
func viewerKey(v cyberpact.Viewer) string {
	g := append([]int64(nil), v.Groups...)
	sort.Slice(g, func(i, j int) bool { return g[i] < g[j] })
	return fmt.Sprint(v.Org, g)
}

// index returns the viewer's index, building it on first use and catching
// it up with the store.
func (h *matchHub) index(ctx context.Context, v cyberpact.Viewer) (*match.Matcher, error) {
	key := viewerKey(v)
	h.mu.Lock()
	vi := h.indexes[key]
	if vi == nil {
		vi = &viewerIndex{viewer: v, ready: make(chan struct{})}
		h.indexes[key] = vi
		go h.build(vi)
	}
	if !h.running {
		h.running = true
		go h.follow()
	}
	h.mu.Unlock()
	vi.used.Store(time.Now().Unix())
	select {
	case <-vi.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if vi.err != nil {
		h.mu.Lock()
		if h.indexes[key] == vi {
			delete(h.indexes, key) // the next request tries again
		}
		h.mu.Unlock()
		return nil, vi.err
	}
	if err := h.catchUp(ctx, vi); err != nil {
		return nil, err
	}
	return vi.m, nil
}

// catchUp refreshes vi when the store has added versions since vi last
// read.
func (h *matchHub) catchUp(ctx context.Context, vi *viewerIndex) error {
	last, err := h.lastSeq(ctx)
	if err != nil {
		return err
	}
	vi.mu.Lock()
	behind := last == 0 || last > vi.seq
	vi.mu.Unlock()
	if !behind {
		return nil
	}
	return h.refresh(ctx, vi)
}

// build compiles the viewer's index from the store: the latest versions
// of the indicators it may see, with the last sightings it may see fed
// into the decay.
func (h *matchHub) build(vi *viewerIndex) {
	defer close(vi.ready)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ix, seq, sights, err := h.compile(ctx, vi.viewer)
	if err != nil {
		vi.err = err
		return
	}
	vi.m, vi.seq, vi.sights = match.NewMatcher(ix), seq, sights
	h.s.Logger.Info("match index built", "org", vi.viewer.Org, "indicators", ix.Len())
}

// compile reads the viewer's index from the store, and the Seq it read
// up to.
func (h *matchHub) compile(ctx context.Context, v cyberpact.Viewer) (*match.Index, int64, map[string]time.Time, error) {
	seq, err := h.lastSeq(ctx)
	if err != nil {
		return nil, 0, nil, err
	}
	f := cyberpact.ObjectFilter{Viewer: &v}
	sights, err := match.LastSightings(ctx, h.s.Store, f)
	if err != nil {
		return nil, 0, nil, err
	}
	f.ExcludeRevoked = true
	ix, err := match.Build(match.StoreIndicators(ctx, h.s.Store, f, sights), match.BuildOptions{})
	if err != nil {
		return nil, 0, nil, err
	}
	return ix, seq, sights, nil
}

// rebuild replaces vi's index with one read afresh from the store: after
// deletes it was not told of one by one.
func (h *matchHub) rebuild(ctx context.Context, vi *viewerIndex) error {
	vi.mu.Lock()
	defer vi.mu.Unlock()
	ix, seq, sights, err := h.compile(ctx, vi.viewer)
	if err != nil {
		return err
	}
	vi.m.Store(ix)
	vi.seq, vi.sights = seq, sights
	return nil
}

// tombstone is what removes a deleted indicator from an index: a revoked
// version of it, which Patch takes in place of every version it has.
func tombstone(id string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "indicator", "id": id, "revoked": true,
		"pattern": "[domain-name:value = 'deleted.invalid']", "pattern_type": "stix"})
	return b
}

// forget brings every index up to date with the deletion of versions of
// id: each viewer's latest version of id that is left, if it may see one,
// replaces what the index has, else a tombstone removes it. It returns when
// every ready index has been patched; one still being built, or one the
// patch failed for, is marked to be rebuilt (follow, within matchPoll).
func (h *matchHub) forget(ctx context.Context, id string) {
	h.mu.Lock()
	var ready []*viewerIndex
	for _, vi := range h.indexes {
		select {
		case <-vi.ready:
			if vi.err == nil {
				ready = append(ready, vi)
			}
		default:
			// Still building: it may have read the deleted versions.
			vi.stale.Store(true)
		}
	}
	h.mu.Unlock()
	for _, vi := range ready {
		if err := h.forgetIn(ctx, vi, id); err != nil {
			// The delete is done; the index catches up by a rebuild.
			h.s.Logger.Warn("match index: patching out a deleted object failed; rebuilding it", "org", vi.viewer.Org, "id", id, "err", err)
			vi.stale.Store(true)
		}
	}
}

func (h *matchHub) forgetIn(ctx context.Context, vi *viewerIndex, id string) error {
	vi.mu.Lock()
	defer vi.mu.Unlock()
	raw := tombstone(id)
	o, err := h.s.Store.Object(ctx, id, &vi.viewer)
	switch {
	case cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND:
	case err != nil:
		return err
	case o.Type == "indicator":
		raw = match.WithLastSighted(o.Raw, vi.sights[id])
	}
	return vi.m.Patch(func(yield func([]byte, error) bool) { yield(raw, nil) }, match.BuildOptions{})
}

// lastSeq is the newest Seq in the store, or 0 when the store cannot say
// (every refresh then reads from the start: correct, only slower).
// deletedSince reads the store's log of deletes after the delete
// numbered after (nothing, for a store without one).
func (h *matchHub) deletedSince(ctx context.Context, after int64) ([]string, int64, error) {
	if n, ok := h.s.Store.(cyberpact.ChangeNotifier); ok {
		return n.DeletedSince(ctx, after)
	}
	return nil, 0, nil
}

func (h *matchHub) lastSeq(ctx context.Context) (int64, error) {
	if n, ok := h.s.Store.(cyberpact.ChangeNotifier); ok {
		return n.LastSeq(ctx)
	}
	return 0, nil
}

// refresh patches the viewer's index with the indicator versions and
// sightings added since it last read: new and newer indicators are added
// or replaced, revoked ones removed, sighted ones given their new last
// sighting.
func (h *matchHub) refresh(ctx context.Context, vi *viewerIndex) error {
	vi.mu.Lock()
	defer vi.mu.Unlock()
	// Everything up to the store's last Seq is committed: once read, the
	// index is up to date to there even when none of it was an indicator.
	last, err := h.lastSeq(ctx)
	if err != nil {
		return err
	}
	f := cyberpact.ObjectFilter{Viewer: &vi.viewer, After: vi.seq, Types: []string{"indicator", "sighting"}}
	var raws [][]byte
	inBatch := map[string]int{}
	var sighted []string
	seq := max(vi.seq, last)
	err = h.s.Store.EachObject(ctx, f, func(o *cyberpact.Object) error {
		seq = max(seq, o.Seq)
		if o.Type == "sighting" {
			ref, t := sightingOf(o.Raw)
			if ref != "" && t.After(vi.sights[ref]) {
				vi.sights[ref] = t
				sighted = append(sighted, ref)
			}
			return nil
		}
		inBatch[o.ID] = len(raws)
		raws = append(raws, o.Raw)
		return nil
	})
	if err != nil {
		return err
	}
	for i, raw := range raws {
		var id struct{ ID string }
		if json.Unmarshal(raw, &id) == nil {
			raws[i] = match.WithLastSighted(raw, vi.sights[id.ID])
		}
	}
	for _, id := range sighted {
		if _, ok := inBatch[id]; ok {
			continue
		}
		o, err := h.s.Store.Object(ctx, id, &vi.viewer)
		if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND || err == nil && o.Type != "indicator" {
			continue
		}
		if err != nil {
			return err
		}
		inBatch[id] = len(raws)
		raws = append(raws, match.WithLastSighted(o.Raw, vi.sights[id]))
	}
	if len(raws) > 0 {
		src := func(yield func([]byte, error) bool) {
			for _, r := range raws {
				if !yield(r, nil) {
					return
				}
			}
		}
		if err := vi.m.Patch(src, match.BuildOptions{}); err != nil {
			return err
		}
	}
	vi.seq = seq
	return nil
}

// sightingOf reads the indicator a sighting sights and when it was last
// seen (match.LastSightings reads stored sightings the same way).
func sightingOf(raw []byte) (string, time.Time) {
	var s struct {
		Ref       string `json:"sighting_of_ref"`
		LastSeen  string `json:"last_seen"`
		FirstSeen string `json:"first_seen"`
		Modified  string `json:"modified"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return "", time.Time{}
	}
	for _, v := range []string{s.LastSeen, s.FirstSeen, s.Modified} {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return s.Ref, t
		}
	}
	return s.Ref, time.Time{}
}

// follow keeps the indexes up to date until none is left: it refreshes
// them after each change the store notifies (or every matchPoll when it
// does not), rebuilds them after a change notice that added nothing (a
// delete), and drops those unused for matchIdle.
func (h *matchHub) follow() {
	var changes <-chan struct{}
	if n, ok := h.s.Store.(cyberpact.ChangeNotifier); ok {
		ch, stop := n.Changes()
		defer stop()
		changes = ch
	}
	poll := time.NewTicker(matchPoll)
	defer poll.Stop()
	// Deletes made while no index was followed are in every index, all
	// built since: the log is read from its end on.
	_, seen, err := h.deletedSince(context.Background(), -1)
	if err != nil {
		h.s.Logger.Warn("match indexes: reading the store's log of deletes failed", "err", err)
	}
	// A failure to read the log makes a rebuild due; rebuilds run at most
	// once per matchRebuildGap (the poll runs a due one).
	rebuildDue, lastRebuild := false, time.Time{}
	for {
		select {
		case <-changes:
		case <-h.wake:
		case <-poll.C:
		}
		// Deletes by any process since the last look are patched out of
		// every index (again, for those this server made: forget is
		// idempotent).
		ids, last, err := h.deletedSince(context.Background(), seen)
		if err != nil {
			h.s.Logger.Warn("match indexes: reading the store's log of deletes failed", "err", err)
			rebuildDue = true // correct whatever the change was
		} else {
			seen = last
			for _, id := range ids {
				if id == "" {
					// A retention purge: it names no id (its
					// ids' entries are gone with it), so every
					// index is rebuilt.
					rebuildDue = true
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				h.forget(ctx, id)
				cancel()
			}
		}
		deleted := rebuildDue && time.Since(lastRebuild) >= matchRebuildGap
		if deleted {
			rebuildDue, lastRebuild = false, time.Now()
		}
		h.mu.Lock()
		var live []*viewerIndex
		idle := time.Now().Add(-matchIdle).Unix()
		for k, vi := range h.indexes {
			select {
			case <-vi.ready:
			default:
				if deleted {
					vi.stale.Store(true)
				}
				live = append(live, nil) // still building: keep following
				continue
			}
			if vi.err != nil {
				continue
			}
			if vi.used.Load() < idle {
				delete(h.indexes, k)
				continue
			}
			live = append(live, vi)
		}
		if len(live) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		for _, vi := range live {
			if vi == nil {
				continue
			}
			if vi.stale.Swap(false) || deleted {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				if err := h.rebuild(ctx, vi); err != nil {
					h.s.Logger.Warn("match index rebuild failed; matching goes on over the previous index", "org", vi.viewer.Org, "err", err)
				}
				cancel()
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if err := h.refresh(ctx, vi); err != nil {
				h.s.Logger.Warn("match index refresh failed; matching goes on over the previous index", "org", vi.viewer.Org, "err", err)
			}
			cancel()
		}
	}
}

// matchResponse is the answer of POST /api/v1/match.
type matchResponse struct {
	Alerts      []json.RawMessage  `json:"alerts"`
	Events      int64              `json:"events"`
	Hits        int64              `json:"hits"`
	Broken      int64              `json:"broken"`
	BrokenLines []match.BrokenLine `json:"broken_lines,omitempty"`
	Indicators  int                `json:"indicators"`
}

// postMatch matches a batch of events against the indicators the
// caller's organisation may see. The body is JSON lines with Elastic
// Common Schema field names, or a JSON array of such events; ?format=zeek
// or csv reads those layouts, ?fields= replaces the default field names
// (name=kind,...), ?subdomains=true lets domain indicators match
// subdomains, ?min_score= drops weaker hits. The answer lists the alerts
// in input order, as `cyberpact match` writes them.
func (s *Server) postMatch(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opt := match.StreamOptions{Format: match.JSONLines, Workers: 1}
	if v := q.Get("format"); v != "" {
		f, ok := match.ParseFormat(v)
		if !ok {
			return cyberpact.Errorf(cyberpact.EINVALID, "format %q is not jsonl, zeek or csv", v)
		}
		opt.Format = f
	}
	if v := q.Get("fields"); v != "" {
		fm, err := match.ParseFields(v)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "fields: %s", err)
		}
		opt.Fields = fm
	}
	if v := q.Get("subdomains"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "subdomains=%q is not true or false", v)
		}
		opt.Subdomains = b
	}
	if v := q.Get("min_score"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return cyberpact.Errorf(cyberpact.EINVALID, "min_score=%q is not a number from 0 to 100", v)
		}
		opt.MinScore = n
	}
	body := bufio.NewReaderSize(r.Body, 64<<10)
	var events io.Reader = body
	if opt.Format == match.JSONLines {
		lines, err := arrayAsLines(body)
		if err != nil {
			return err
		}
		if lines != nil {
			events = lines
		}
	}
	m, err := s.matches.index(r.Context(), *viewerOf(r))
	if err != nil {
		return err
	}
	var out bytes.Buffer
	sum, err := match.Stream(r.Context(), m, events, &out, opt)
	if err != nil {
		return err
	}
	resp := matchResponse{Alerts: []json.RawMessage{}, Events: sum.Events, Hits: sum.Hits, Broken: sum.Broken, BrokenLines: sum.BrokenLines, Indicators: m.Load().Len()}
	for _, line := range bytes.Split(out.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			resp.Alerts = append(resp.Alerts, json.RawMessage(line))
		}
	}
	return writeJSON(w, http.StatusOK, resp)
}

// arrayAsLines turns a body holding a JSON array of events into JSON
// lines; it returns nil for a body that is not an array (JSON lines).
func arrayAsLines(body *bufio.Reader) (io.Reader, error) {
	for {
		b, err := body.Peek(1)
		if err != nil {
			return nil, nil
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			body.ReadByte()
			continue
		}
		if b[0] != '[' {
			return nil, nil
		}
		break
	}
	var events []json.RawMessage
	if err := json.NewDecoder(body).Decode(&events); err != nil {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "the body starts as a JSON array of events but does not parse: %s", err)
	}
	var buf bytes.Buffer
	for _, e := range events {
		var c bytes.Buffer
		if err := json.Compact(&c, e); err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "event: %s", err)
		}
		buf.Write(c.Bytes())
		buf.WriteByte('\n')
	}
	return &buf, nil
}
