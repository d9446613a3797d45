package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/federation"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// hub is one real hub for a test: a SQLite store in its own directory
// behind the real HTTP server on 127.0.0.1:0, with a recorder in front
// that counts the requests it receives and can cut them.
type hub struct {
	t    testing.TB
	name string
	db   *sqlite.DB
	base string // http://127.0.0.1:PORT
	root string // the TAXII API root

	requests atomic.Int64 // requests received
	objReads atomic.Int64 // GETs of a collection's objects
	mu       sync.Mutex
	posted   [][]byte // bodies of TAXII POSTs
	// cut, when set, is called before each GET of objects with its count
	// (from 1); returning true cuts the connection without an answer.
	cut func(n int64) bool
	srv *http.Server
}

// newHub starts a hub named name until the test ends.
func newHub(t testing.TB, name string) *hub {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &hub{t: t, name: name, db: db}
	api := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	api.TAXIITitle = name
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.base = "http://" + ln.Addr().String()
	h.root = h.base + "/taxii2/api1/"
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/objects/") {
			n := h.objReads.Add(1)
			h.mu.Lock()
			cut := h.cut
			h.mu.Unlock()
			if cut != nil && cut(n) {
				panic(http.ErrAbortHandler)
			}
		}
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			h.mu.Lock()
			h.posted = append(h.posted, body)
			h.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		api.ServeHTTP(w, r)
	}), ErrorLog: nil}
	go h.srv.Serve(ln)
	t.Cleanup(func() {
		h.srv.Close()
		db.Close()
	})
	return h
}

func (h *hub) setCut(fn func(n int64) bool) {
	h.mu.Lock()
	h.cut = fn
	h.mu.Unlock()
}

func (h *hub) org(name, nation string) *cyberpact.Org {
	h.t.Helper()
	o := &cyberpact.Org{Name: name, Nation: nation, Sector: "government"}
	if err := h.db.CreateOrg(context.Background(), o, "cli"); err != nil {
		h.t.Fatal(err)
	}
	return o
}

func (h *hub) group(name string, orgs ...*cyberpact.Org) *cyberpact.Group {
	h.t.Helper()
	g := &cyberpact.Group{Name: name}
	for _, o := range orgs {
		g.Orgs = append(g.Orgs, o.ID)
	}
	if err := h.db.CreateGroup(context.Background(), g, "cli"); err != nil {
		h.t.Fatal(err)
	}
	return g
}

// syncUser creates a sync account of org and returns its name and key.
func (h *hub) syncUser(name string, org *cyberpact.Org) (string, string) {
	h.t.Helper()
	ctx := context.Background()
	u := &cyberpact.User{Name: name, Org: org.ID, Role: cyberpact.RoleSync}
	if err := h.db.CreateUser(ctx, u, "cli"); err != nil {
		h.t.Fatal(err)
	}
	key, _, err := h.db.CreateKey(ctx, u.ID, time.Time{}, "cli")
	if err != nil {
		h.t.Fatal(err)
	}
	return name, key
}

// publish imports objs as produced by org for audience.
func (h *hub) publish(org *cyberpact.Org, aud cyberpact.Audience, objs ...map[string]any) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuidOf(999999999), "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(body))
	defer dec.Close()
	res, err := h.db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: org.ID, Audience: aud})
	if err != nil || !res.Committed {
		h.t.Fatalf("%s: publishing: %v %v", h.name, err, res)
	}
}

// peer adds a peer on h.
func (h *hub) peer(p *cyberpact.Peer) *cyberpact.Peer {
	h.t.Helper()
	if err := h.db.CreatePeer(context.Background(), p, "cli"); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func (h *hub) syncer() *federation.Syncer {
	return &federation.Syncer{Store: h.db, Peers: h.db, Audit: h.db, Timeout: 30 * time.Second}
}

// sync runs one sync of the peer named name on h.
func (h *hub) sync(name string) (*federation.Result, error) {
	h.t.Helper()
	ctx := context.Background()
	p, err := h.db.PeerByName(ctx, name)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.syncer().Sync(ctx, p)
}

func (h *hub) mustSync(name string) *federation.Result {
	h.t.Helper()
	res, err := h.sync(name)
	if err != nil {
		h.t.Fatalf("%s: sync %s: %v", h.name, name, err)
	}
	return res
}

// versions returns every stored version, by id.
func (h *hub) versions() map[string][]*cyberpact.Object {
	h.t.Helper()
	out := map[string][]*cyberpact.Object{}
	err := h.db.EachObject(context.Background(), cyberpact.ObjectFilter{Versions: []string{"all"}}, func(o *cyberpact.Object) error {
		out[o.ID] = append(out[o.ID], o)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// postedIDs returns every object id POSTed to h.
func (h *hub) postedIDs() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]int{}
	for _, b := range h.posted {
		var env struct {
			Objects []struct{ ID string } `json:"objects"`
		}
		if err := json.Unmarshal(b, &env); err != nil {
			h.t.Fatalf("a POST to %s is not an envelope: %v", h.name, err)
		}
		for _, o := range env.Objects {
			out[o.ID]++
		}
	}
	return out
}

func collection(aud string) string { return cphttp.CollectionID(aud) }

func groupCollection(g *cyberpact.Group) string {
	return cphttp.CollectionID("group:" + strconv.FormatInt(g.ID, 10))
}

func uuidOf(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

// TLP 2.0 marking definitions.
var tlpMarking = map[cyberpact.TLP]string{
	cyberpact.TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	cyberpact.TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	cyberpact.TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	cyberpact.TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	cyberpact.TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

// indicator returns a valid indicator numbered n marked at level (none
// for TLPUnknown).
func indicator(n int, level cyberpact.TLP) map[string]any {
	o := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uuidOf(n),
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
		"name": fmt.Sprintf("indicator %d", n), "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
		"pattern": fmt.Sprintf("[ipv4-addr:value = '198.51.%d.%d']", n/250%250, n%250+1),
	}
	if m, ok := tlpMarking[level]; ok {
		o["object_marking_refs"] = []string{m}
	}
	return o
}

func ids(objs ...map[string]any) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o["id"].(string))
	}
	return out
}
