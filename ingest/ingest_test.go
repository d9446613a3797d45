package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/ingest"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/jackc/pgx/v5"
)

func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// counter serves h on 127.0.0.1 and counts the requests by path.
type counter struct {
	mu   sync.Mutex
	hits map[string]int
	h    http.Handler
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.hits[r.URL.Path]++
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

func (c *counter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hits
	c.hits = map[string]int{}
	return h
}

func listen(t testing.TB, h http.Handler) (*counter, string) {
	c := &counter{hits: map[string]int{}, h: h}
	s := httptest.NewServer(c)
	t.Cleanup(s.Close)
	return c, s.URL
}

// upstream is another hub: its TAXII collections and its MISP feed are
// real sources.
type upstream struct {
	db   *sqlite.DB
	org  *cyberpact.Org
	user string
	key  string
	hits *counter
	base string
}

func newUpstream(t testing.TB, name string) *upstream {
	ctx := context.Background()
	u := &upstream{db: openDB(t), user: "sync-" + name}
	u.org = &cyberpact.Org{Name: name + " CERT", Nation: "FR", Sector: "government"}
	if err := u.db.CreateOrg(ctx, u.org, "test"); err != nil {
		t.Fatal(err)
	}
	usr := &cyberpact.User{Name: u.user, Org: u.org.ID, Role: cyberpact.RoleSync}
	if err := u.db.CreateUser(ctx, usr, "test"); err != nil {
		t.Fatal(err)
	}
	key, _, err := u.db.CreateKey(ctx, usr.ID, time.Time{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	u.key = key
	u.hits, u.base = listen(t, cphttp.NewServer(u.db, quiet()))
	return u
}

// add imports objects into the upstream hub, released to all its members.
func (u *upstream) add(t *testing.T, objs ...map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--0b8f0f0e-7a59-4a43-9f6c-2d6f1c1b7e01", "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(raw))
	defer dec.Close()
	res, err := u.db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: u.org.ID,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, DefaultTLP: cyberpact.TLPGreen})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("upstream import: %v %+v", err, res)
	}
}

func indicator(n int, value, modified string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": fmt.Sprintf("indicator--%08x-1111-4000-8000-%012x", n, n),
		"created": "2026-02-01T00:00:00.000Z", "modified": modified, "name": "upstream " + value,
		"pattern": "[domain-name:value = '" + value + "']", "pattern_type": "stix", "valid_from": "2026-02-01T00:00:00.000Z"}
}

// file is a CSV or list served with an ETag, as a web server serves a
// static file, that a test may change.
type file struct {
	mu   sync.Mutex
	body string
}

func (f *file) set(s string) { f.mu.Lock(); f.body = s; f.mu.Unlock() }

func (f *file) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	body := f.body
	f.mu.Unlock()
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	io.WriteString(w, body)
}

// TestSourcesOfEveryKindOneBroken runs one source of each kind, each a
// real HTTP server on 127.0.0.1 (a TAXII collection and a MISP feed of
// other hubs, a CSV file and a plain list), beside a broken MISP feed:
// every good source is imported for its audience and producer while the
// broken one records its error; a second run fetches nothing new; after
// changes upstream, only what changed is fetched and imported. It feeds
// each store, SQLite and (with CYBERPACT_TEST_POSTGRES) PostgreSQL.
func TestSourcesOfEveryKindOneBroken(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testSourcesOfEveryKind(t, openDB(t)) })
	t.Run("PostgreSQL", func(t *testing.T) { testSourcesOfEveryKind(t, openPostgres(t)) })
}

// hub is what the test needs of the store the sources feed: both stores
// are one.
type hub interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
	cyberpact.SourceStore
	cyberpact.AuditLog
	AuditEntries(ctx context.Context, f cyberpact.AuditFilter) ([]*cyberpact.AuditEntry, error)
}

var (
	_ hub = (*sqlite.DB)(nil)
	_ hub = (*postgres.DB)(nil)
)

// openPostgres opens a PostgreSQL store in a schema of its own, dropped
// when the test ends, or skips when CYBERPACT_TEST_POSTGRES is not set.
func openPostgres(t *testing.T) *postgres.DB {
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	if base == "" {
		t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+schema)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String(), postgres.PeerKeyFile(filepath.Join(t.TempDir(), "peers.key")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	return db
}

func testSourcesOfEveryKind(t *testing.T, db hub) {
	ctx := context.Background()
	feeds := &cyberpact.Org{Name: "Feeds Desk", Nation: "GB", Sector: "government"}
	partner := &cyberpact.Org{Name: "Partner", Nation: "GB", Sector: "finance"}
	outsider := &cyberpact.Org{Name: "Outsider", Nation: "GB", Sector: "energy"}
	for _, o := range []*cyberpact.Org{feeds, partner, outsider} {
		if err := db.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
	}
	cell := &cyberpact.Group{Name: "Intel Cell", Orgs: []int64{feeds.ID, partner.ID}}
	if err := db.CreateGroup(ctx, cell, "test"); err != nil {
		t.Fatal(err)
	}
	toCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: cell.ID}

	taxiiUp, mispUp := newUpstream(t, "Paris"), newUpstream(t, "Lyon")
	taxiiUp.add(t, indicator(1, "a.taxii.example", "2026-02-01T00:00:00.000Z"), indicator(2, "b.taxii.example", "2026-02-01T00:00:00.000Z"))
	mispUp.add(t, indicator(3, "c.misp.example", "2026-02-01T00:00:00.000Z"), indicator(4, "d.misp.example", "2026-02-01T00:00:00.000Z"),
		map[string]any{"type": "report", "spec_version": "2.1", "id": "report--0c5b0a3e-2f1d-4e8a-9b7c-6d5e4f3a2b1c", "created": "2026-02-02T00:00:00.000Z",
			"modified": "2026-02-02T00:00:00.000Z", "name": "Lyon campaign", "published": "2026-02-02T00:00:00.000Z",
			"object_refs": []string{"indicator--00000004-1111-4000-8000-000000000004"}})
	csvFile := &file{body: "type,value,name,labels\nipv4-addr,192.0.2.10,scanner,scan;botnet\ndomain,e.csv.example,phishing site,\nauto,http://f.csv.example/x,,\n"}
	listFile := &file{body: "# one value a line\n198.51.100.20\n2001:db8::20  # an address\nd41d8cd98f00b204e9800998ecf8427e\nnot a value!\n"}
	csvHits, csvBase := listen(t, csvFile)
	_, listBase := listen(t, listFile)
	_, brokenBase := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the feed is down for maintenance", http.StatusInternalServerError)
	}))

	sources := []*cyberpact.Source{
		{Name: "paris-taxii", Kind: cyberpact.SourceTAXII, URL: taxiiUp.base + "/taxii2/api1/", Collection: cphttp.CollectionID("all"),
			User: taxiiUp.user, Key: taxiiUp.key},
		{Name: "lyon-misp", Kind: cyberpact.SourceMISP, URL: mispUp.base + "/api/v1/misp", Key: mispUp.key},
		{Name: "blocklist-csv", Kind: cyberpact.SourceCSV, URL: csvBase + "/list.csv", Columns: "type=1,value=2,name=3,labels=4,header"},
		{Name: "plain-list", Kind: cyberpact.SourceList, URL: listBase + "/list.txt"},
		{Name: "broken-misp", Kind: cyberpact.SourceMISP, URL: brokenBase + "/feed"},
	}
	for _, src := range sources {
		src.Audience, src.Org, src.Interval = toCell, feeds.ID, time.Hour
		if err := db.CreateSource(ctx, src, "test"); err != nil {
			t.Fatalf("CreateSource %s: %v", src.Name, err)
		}
	}
	r, err := ingest.New(db, quiet())
	if err != nil {
		t.Fatal(err)
	}
	state := func(name string) *cyberpact.SourceState {
		t.Helper()
		src, err := db.SourceByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		st, err := db.SourceState(ctx, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	now := time.Now()
	if err := r.RunDue(ctx, now); err != nil {
		t.Fatal(err)
	}

	t.Run("EachGoodSourceImportedTheBrokenOneRecorded", func(t *testing.T) {
		want := map[string]struct{ added, rejected int }{
			"paris-taxii": {2, 0}, "blocklist-csv": {3, 0}, "plain-list": {3, 1},
		}
		for name, w := range want {
			st := state(name)
			if st.LastAdded != w.added || st.LastRejected != w.rejected || st.Runs != 1 {
				t.Errorf("%s: added %d, rejected %d, runs %d; want %d, %d, 1 (error %q)", name, st.LastAdded, st.LastRejected, st.Runs, w.added, w.rejected, st.LastError)
			}
		}
		if st := state("plain-list"); !strings.Contains(st.LastError, "line 5") || !strings.Contains(st.LastError, "not a value!") {
			t.Errorf("plain-list: last error %q, want the bad line named", st.LastError)
		}
		for _, name := range []string{"paris-taxii", "blocklist-csv", "lyon-misp"} {
			if st := state(name); st.LastError != "" || st.LastSuccess.IsZero() {
				t.Errorf("%s: last error %q, last success %v", name, st.LastError, st.LastSuccess)
			}
		}
		if st := state("lyon-misp"); st.LastAdded == 0 || len(st.Events) != 2 {
			t.Errorf("lyon-misp: added %d, events %v; want the report's event and the day event", st.LastAdded, st.Events)
		}
		if st := state("broken-misp"); !strings.Contains(st.LastError, "500") || st.Failures != 1 || !st.LastSuccess.IsZero() {
			t.Errorf("broken-misp: %+v, want the 500 recorded as its failure", st)
		}
	})

	t.Run("ReleasedToTheSourcesAudienceAsItsProducer", func(t *testing.T) {
		p := cyberpact.Viewer{Org: partner.ID, Groups: []int64{cell.ID}}
		o := cyberpact.Viewer{Org: outsider.ID}
		page, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: &p, Types: []string{"indicator"}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range page.Objects {
			if x.Release.Producer != feeds.ID || x.Release.Audience != toCell {
				t.Errorf("%s released as %+v", x.ID, x.Release)
			}
			got = append(got, string(x.Raw))
		}
		all := strings.Join(got, "\n")
		for _, v := range []string{"a.taxii.example", "b.taxii.example", "c.misp.example", "d.misp.example", "192.0.2.10", "e.csv.example", "http://f.csv.example/x", "198.51.100.20", "2001:db8::20", "d41d8cd98f00b204e9800998ecf8427e"} {
			if !strings.Contains(all, "'"+v+"'") {
				t.Errorf("no indicator of %s for the partner in the source's group", v)
			}
		}
		if !strings.Contains(all, `"labels":["botnet","scan"]`) || !strings.Contains(all, `"name":"phishing site"`) {
			t.Errorf("the CSV's name and labels columns were not read: %s", all)
		}
		if page, _ := db.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: &o, Limit: 1000}); len(page.Objects) != 0 {
			t.Errorf("an organisation outside the source's group sees %d objects", len(page.Objects))
		}
		entries, err := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditWrite})
		if err != nil {
			t.Fatal(err)
		}
		writers := map[string]bool{}
		for _, e := range entries {
			if e.Via == "feed" && e.ActorOrg == feeds.ID {
				writers[e.Actor] = true
			}
		}
		for _, name := range []string{"feed:paris-taxii", "feed:lyon-misp", "feed:blocklist-csv", "feed:plain-list"} {
			if !writers[name] {
				t.Errorf("no audited write by %s: %v", name, writers)
			}
		}
	})

	t.Run("SecondRunFetchesNothingNew", func(t *testing.T) {
		mispUp.hits.reset()
		csvHits.reset()
		before := state("lyon-misp").Added
		if err := r.RunDue(ctx, now.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"paris-taxii", "lyon-misp", "blocklist-csv"} {
			if st := state(name); st.LastAdded != 0 || st.Runs != 2 || st.LastError != "" {
				t.Errorf("%s second run: added %d, runs %d, error %q", name, st.LastAdded, st.Runs, st.LastError)
			}
		}
		if st := state("lyon-misp"); st.Added != before {
			t.Errorf("lyon-misp total moved from %d to %d", before, st.Added)
		}
		hits := mispUp.hits.reset()
		for path := range hits {
			if strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, "manifest.json") {
				t.Errorf("second run fetched %s", path)
			}
		}
		if hits["/api/v1/misp/manifest.json"] != 1 {
			t.Errorf("second run read the manifest %d times", hits["/api/v1/misp/manifest.json"])
		}
		if st := state("broken-misp"); st.Failures != 2 {
			t.Errorf("broken-misp: %d failures after two runs", st.Failures)
		}
	})

	t.Run("OnlyWhatChangedIsFetched", func(t *testing.T) {
		mispUp.add(t, indicator(4, "d2.misp.example", "2026-02-03T00:00:00.000Z"))
		taxiiUp.add(t, indicator(5, "g.taxii.example", "2026-02-03T00:00:00.000Z"))
		csvFile.set("type,value,name,labels\nipv4-addr,192.0.2.10,scanner,scan;botnet\ndomain,e.csv.example,credential phishing,\nauto,http://f.csv.example/x,,\nauto,192.0.2.11,,\n")
		mispUp.hits.reset()
		if err := r.RunDue(ctx, now.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		hits := mispUp.hits.reset()
		events := 0
		for path, n := range hits {
			if strings.HasSuffix(path, ".json") && !strings.HasSuffix(path, "manifest.json") {
				events += n
			}
		}
		if events != 1 {
			t.Errorf("after one report's indicator changed, %d events were fetched: %v", events, hits)
		}
		for name, added := range map[string]int{"paris-taxii": 1, "blocklist-csv": 2} {
			if st := state(name); st.LastAdded != added || st.LastError != "" {
				t.Errorf("%s: added %d, want %d (error %q)", name, st.LastAdded, added, st.LastError)
			}
		}
		if st := state("blocklist-csv"); st.LastPresent != 2 {
			t.Errorf("blocklist-csv: %d rows present unchanged, want 2", st.LastPresent)
		}
		if st := state("lyon-misp"); st.LastAdded == 0 {
			t.Errorf("lyon-misp: the changed event added nothing")
		}
		p := cyberpact.Viewer{Org: partner.ID, Groups: []int64{cell.ID}}
		page, _ := db.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: &p, Text: "credential", Limit: 10})
		if len(page.Objects) != 1 {
			t.Errorf("the renamed CSV row is not a new version: %d found", len(page.Objects))
		}
	})

	t.Run("NotDueNotRun", func(t *testing.T) {
		runs := state("paris-taxii").Runs
		if err := r.RunDue(ctx, now.Add(4*time.Hour+time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got := state("paris-taxii").Runs; got != runs {
			t.Errorf("an hourly source ran again a minute later: runs %d -> %d", runs, got)
		}
	})
}
