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
// first request and then kept up to date in the background from the
// store's changes: new indicator versions and revocations are patched in
// while matching goes on over the previous index. Indexes unused for
// matchIdle are dropped.

// matchIdle is how long an unused index is kept.
const matchIdle = 10 * time.Minute

// matchPoll is how often indexes are refreshed when the store does not
// notify changes.
const matchPoll = 2 * time.Second

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

// index returns the viewer's index, building it on first use.
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
	return vi.m, nil
}

// build compiles the viewer's index from the store: the latest versions
// of the indicators it may see, with the last sightings it may see fed
// into the decay.
func (h *matchHub) build(vi *viewerIndex) {
	defer close(vi.ready)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	seq, err := h.lastSeq(ctx)
	if err != nil {
		vi.err = err
		return
	}
	f := cyberpact.ObjectFilter{Viewer: &vi.viewer}
	sights, err := match.LastSightings(ctx, h.s.Store, f)
	if err != nil {
		vi.err = err
		return
	}
	f.ExcludeRevoked = true
	ix, err := match.Build(match.StoreIndicators(ctx, h.s.Store, f, sights), match.BuildOptions{})
	if err != nil {
		vi.err = err
		return
	}
	vi.m, vi.seq, vi.sights = match.NewMatcher(ix), seq, sights
	h.s.Logger.Info("match index built", "org", vi.viewer.Org, "indicators", ix.Len())
}

// lastSeq is the newest Seq in the store, or 0 when the store cannot say
// (every refresh then reads from the start: correct, only slower).
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
	f := cyberpact.ObjectFilter{Viewer: &vi.viewer, After: vi.seq, Types: []string{"indicator", "sighting"}}
	var raws [][]byte
	inBatch := map[string]int{}
	var sighted []string
	seq := vi.seq
	err := h.s.Store.EachObject(ctx, f, func(o *cyberpact.Object) error {
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
// does not), and drops those unused for matchIdle.
func (h *matchHub) follow() {
	var changes <-chan struct{}
	if n, ok := h.s.Store.(cyberpact.ChangeNotifier); ok {
		ch, stop := n.Changes()
		defer stop()
		changes = ch
	}
	poll := time.NewTicker(matchPoll)
	defer poll.Stop()
	for {
		select {
		case <-changes:
		case <-h.wake:
		case <-poll.C:
		}
		h.mu.Lock()
		var live []*viewerIndex
		idle := time.Now().Add(-matchIdle).Unix()
		for k, vi := range h.indexes {
			select {
			case <-vi.ready:
			default:
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
