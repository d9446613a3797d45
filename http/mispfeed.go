package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/misp"
	"github.com/cyberpact/cyberpact/stix"
)

// The hub as a MISP feed. A MISP instance adds a feed of type "MISP Feed"
// whose URL is https://HUB/api/v1/misp, with the header
// "Authorization: KEY" (a user's API key, which MISP sends bare as it does
// to other MISP servers; Bearer and Basic work too). It then fetches
// manifest.json, and the events it lacks or holds older (by the
// manifest's timestamp) as UUID.json; hashes.csv feeds its correlation
// cache. Each answer holds exactly what the key's organisation may see
// (the store's viewer-scoped reads), at most TLP:AMBER+STRICT: TLP:RED
// never leaves the hub by this road. Events are grouped as
// misp.GroupFeed says (misp/MAPPING.md, "Serving a MISP feed"). Every
// answer has an ETag over its body; If-None-Match with it answers 304,
// which MISP uses for the manifest. What an answer delivers is audited as
// a release, via "misp-feed", before it is sent.

func (s *Server) registerMISPFeed() {
	s.handle("GET /api/v1/misp/manifest.json", s.authed(s.mispManifest))
	s.handle("GET /api/v1/misp/hashes.csv", s.authed(s.mispHashes))
	s.handle("GET /api/v1/misp/{event}", s.authed(s.mispEvent))
}

// mispFeed is one viewer's feed as read for one request.
type mispFeed struct {
	events []*misp.FeedEvent
	index  *misp.FeedIndex
	size   int
	orgs   map[int64]misp.Org

	hashesOnce sync.Once // hashes.csv, made once per feed read
	hashes     []byte
	hashesErr  error
}

// loadMISPFeed reads everything v may see for the feed (latest visible
// versions, not revoked, at most AMBER+STRICT) and groups it into events.
//
// An event's timestamp is in seconds, and MISP fetches an event again only
// when it grows: a version stored later in the same second as the newest
// one a reader was served would change the event without changing its
// timestamp. So a read that holds a version stored in the second it
// started waits for that second to end and reads again: whatever is
// stored after a feed was read then carries a later second than any it
// served.
//
// MISP fetches the manifest and then each changed event, one request
// each: the feed read for one is kept for the next ones of the same
// viewer (its organisation and groups), while the store has neither added
// nor deleted a version since (ChangeNotifier's LastSeq and the number of
// its last delete), for feeds of at most maxCachedFeed objects.
func (s *Server) loadMISPFeed(ctx context.Context, v *cyberpact.Viewer) (*mispFeed, error) {
	key, ok, err := s.feedKey(ctx, v)
	if err != nil {
		return nil, err
	}
	if ok {
		if f := s.mispFeeds.get(key); f != nil {
			return f, nil
		}
	}
	for try := 0; ; try++ {
		start := time.Now()
		feed, newest, err := s.readMISPFeed(ctx, v)
		if err != nil || newest < start.Unix() || try == 3 {
			if err == nil && ok && feed.size <= maxCachedFeed && newest < start.Unix() {
				s.mispFeeds.put(key, feed)
			}
			return feed, err
		}
		wait := time.Until(time.Unix(start.Unix()+1, 0))
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// maxCachedFeed is the most objects a cached feed may hold; larger ones
// are read again for each request.
const maxCachedFeed = 200_000

// feedKey is what a cached feed of v is valid for: v, and the store's
// position in its additions and deletes; ok is false when the store does
// not tell them (then nothing is cached).
func (s *Server) feedKey(ctx context.Context, v *cyberpact.Viewer) (string, bool, error) {
	n, ok := s.Store.(cyberpact.ChangeNotifier)
	if !ok {
		return "", false, nil
	}
	// The delete number is read first: a delete between the two reads
	// then gives a key that no later read will match.
	_, del, err := n.DeletedSince(ctx, -1)
	if err != nil {
		return "", false, err
	}
	seq, err := n.LastSeq(ctx)
	if err != nil {
		return "", false, err
	}
	groups := slices.Clone(v.Groups)
	slices.Sort(groups)
	return fmt.Sprintf("%d %v %v %d %d %d", v.Org, groups, v.Public, v.Exercise, seq, del), true, nil
}

// feedCache keeps the last few feeds read.
type feedCache struct {
	mu    sync.Mutex
	keys  []string
	feeds map[string]*mispFeed
}

// feedCacheSize is how many viewers' feeds are kept.
const feedCacheSize = 4

func (c *feedCache) get(key string) *mispFeed {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.feeds[key]
}

func (c *feedCache) put(key string, f *mispFeed) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.feeds == nil {
		c.feeds = map[string]*mispFeed{}
	}
	if _, ok := c.feeds[key]; !ok {
		c.keys = append(c.keys, key)
	}
	c.feeds[key] = f
	for len(c.keys) > feedCacheSize {
		delete(c.feeds, c.keys[0])
		c.keys = c.keys[1:]
	}
}

// readMISPFeed is one read of loadMISPFeed; newest is the second the
// newest version it holds was stored in.
func (s *Server) readMISPFeed(ctx context.Context, v *cyberpact.Viewer) (*mispFeed, int64, error) {
	f := cyberpact.ObjectFilter{Viewer: v, MaxTLP: cyberpact.TLPAmberStrict, MaxPAP: cyberpact.PAPAmber, ExcludeRevoked: true}
	var items []*misp.FeedItem
	var objs []*stix.Object
	var newest int64
	feed := &mispFeed{orgs: map[int64]misp.Org{}}
	err := s.Store.EachObject(ctx, f, func(o *cyberpact.Object) error {
		p, err := stix.Parse(o.Raw)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINTERNAL, "stored object %s: %v", o.ID, err)
		}
		items = append(items, &misp.FeedItem{Object: p, Seq: o.Seq, Added: o.Added, Producer: o.Release.Producer})
		objs = append(objs, p)
		newest = max(newest, o.Added.Unix())
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	names := map[int64]string{}
	for _, it := range items {
		if _, ok := feed.orgs[it.Producer]; !ok {
			name := s.orgName(ctx, it.Producer, names)
			if name == "" {
				name = s.TAXIITitle
				if name == "" {
					name = "cyberpact"
				}
			}
			feed.orgs[it.Producer] = misp.OrgOf(it.Producer, name)
		}
	}
	feed.index, feed.size = misp.NewFeedIndex(objs), len(objs)
	feed.events = misp.GroupFeed(items, func(p int64) string { return feed.orgs[p].Name })
	return feed, newest, nil
}

// convert returns fe as a MISP event; header only leaves out what the
// event holds.
func (f *mispFeed) convert(fe *misp.FeedEvent, headerOnly bool) (*misp.Event, error) {
	ev, err := misp.FeedEventOf(fe, f.index, f.orgs[fe.Producer], headerOnly)
	if err != nil {
		return nil, cyberpact.Errorf(cyberpact.EINTERNAL, "MISP event %s: %v", fe.UUID, err)
	}
	return ev, nil
}

// released returns the versions items stand for, for the audit log.
func released(items []*misp.FeedItem) []*cyberpact.Object {
	out := make([]*cyberpact.Object, 0, len(items))
	seen := map[int64]bool{}
	for _, it := range items {
		if !seen[it.Seq] {
			seen[it.Seq] = true
			out = append(out, &cyberpact.Object{Seq: it.Seq, ID: it.Object.ID, Release: cyberpact.Release{Producer: it.Producer}})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// serveFeedFile answers with body under an ETag, 304 when If-None-Match
// names it, auditing objs as released before a body is sent.
func (s *Server) serveFeedFile(w http.ResponseWriter, r *http.Request, ctype string, body []byte, objs []*cyberpact.Object) error {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("Vary", "Authorization")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if err := s.auditRelease(r, principalOf(r), "misp-feed", viewerOf(r), objs); err != nil {
		return err
	}
	h.Set("Content-Type", ctype)
	_, err := w.Write(body)
	return err
}

// mispManifest serves manifest.json: every event's uuid with its header
// and timestamp. It releases the reports and groupings whose names and
// labels it shows.
func (s *Server) mispManifest(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	feed, err := s.loadMISPFeed(r.Context(), viewerOf(r))
	if err != nil {
		return err
	}
	manifest := map[string]misp.ManifestEntry{}
	var shown []*misp.FeedItem
	for _, fe := range feed.events {
		ev, err := feed.convert(fe, true)
		if err != nil {
			return err
		}
		manifest[fe.UUID] = misp.ManifestOf(ev)
		if fe.Report != nil {
			shown = append(shown, fe.Report)
		}
	}
	body, err := json.Marshal(manifest)
	if err != nil {
		return err
	}
	return s.serveFeedFile(w, r, "application/json", body, released(shown))
}

// mispHashes serves hashes.csv: the MD5 of every attribute value the feed
// holds, with its event's uuid.
func (s *Server) mispHashes(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	feed, err := s.loadMISPFeed(r.Context(), viewerOf(r))
	if err != nil {
		return err
	}
	feed.hashesOnce.Do(func() {
		var b bytes.Buffer
		for _, fe := range feed.events {
			ev, err := feed.convert(fe, false)
			if err != nil {
				feed.hashesErr = err
				return
			}
			for _, l := range misp.AttributeHashes(ev) {
				b.WriteString(l)
				b.WriteByte('\n')
			}
		}
		feed.hashes = b.Bytes()
	})
	if feed.hashesErr != nil {
		return feed.hashesErr
	}
	var shown []*misp.FeedItem
	for _, fe := range feed.events {
		shown = append(shown, fe.Items...)
	}
	return s.serveFeedFile(w, r, "text/csv", feed.hashes, released(shown))
}

// mispEvent serves UUID.json: one event of the feed, as MISP JSON
// ({"Event": {...}}). An event the caller's feed does not hold is 404,
// whoever else's feed holds it.
func (s *Server) mispEvent(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	name := r.PathValue("event")
	id, ok := strings.CutSuffix(name, ".json")
	if !ok || id == "" {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no MISP feed file %q: the feed has manifest.json, hashes.csv and UUID.json", name)
	}
	feed, err := s.loadMISPFeed(r.Context(), viewerOf(r))
	if err != nil {
		return err
	}
	i := sort.Search(len(feed.events), func(i int) bool { return feed.events[i].UUID >= strings.ToLower(id) })
	if i == len(feed.events) || feed.events[i].UUID != strings.ToLower(id) {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "this feed holds no such event: manifest.json lists those it holds")
	}
	fe := feed.events[i]
	ev, err := feed.convert(fe, false)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := misp.Encode(&b, []*misp.Event{ev}); err != nil {
		return err
	}
	return s.serveFeedFile(w, r, "application/json", b.Bytes(), released(fe.Items))
}
