package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// worldSources adds, once per store, a source produced by each of the
// world's organisations and one by the hub itself, each with a key that
// must never be shown.
var worldSources sync.Map // *sqlite.DB -> map[string]int64 (source name -> producer)

func (w *world) sources(t *testing.T) map[string]int64 {
	if m, ok := worldSources.Load(w.db); ok {
		return m.(map[string]int64)
	}
	m := map[string]int64{"hub-feed": 0}
	for n, o := range w.orgs {
		m[strings.ToLower(n)+"-feed"] = o.ID
	}
	for name, org := range m {
		src := &cyberpact.Source{Name: name, Kind: cyberpact.SourceList, URL: "http://127.0.0.1:9/" + name, Key: "secret-" + name,
			Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: org, Interval: time.Hour}
		if err := w.db.CreateSource(context.Background(), src, "test"); err != nil {
			t.Fatal(err)
		}
	}
	worldSources.Store(w.db, m)
	return m
}

// checkSources is the route matrix's case of the sources API: a member
// sees the sources its organisation produces and no other, by list or by
// name (404 as for a name that does not exist), and no key.
func (w *world) checkSources(t *testing.T, vc *viewerCase) {
	srcs := w.sources(t)
	if vc.m == nil {
		mustStatus(t, "anonymous sources", w.req(t, vc, "GET", "/api/v1/sources", nil, ""), 401)
		mustStatus(t, "anonymous source", w.req(t, vc, "GET", "/api/v1/sources/a-feed", nil, ""), 401)
		return
	}
	a := w.req(t, vc, "GET", "/api/v1/sources", nil, "")
	mustStatus(t, "sources", a, 200)
	var l struct {
		Sources []struct{ Source struct{ Name string } }
	}
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	got, want := map[string]bool{}, map[string]bool{}
	for _, s := range l.Sources {
		got[s.Source.Name] = true
	}
	for name, org := range srcs {
		if org == vc.m.org.ID {
			want[name] = true
		}
	}
	sameSet(t, "sources of "+vc.name, got, want)
	missing := w.req(t, vc, "GET", "/api/v1/sources/no-such-feed", nil, "")
	mustStatus(t, "unknown source", missing, 404)
	for name := range srcs {
		a := w.req(t, vc, "GET", "/api/v1/sources/"+name, nil, "")
		if want[name] {
			mustStatus(t, "own source "+name, a, 200)
		} else {
			mustStatus(t, "another's source "+name, a, 404)
			if strings.ReplaceAll(string(a.body), name, "X") != strings.ReplaceAll(string(missing.body), "no-such-feed", "X") {
				t.Errorf("another's source %s answers %s, an unknown one %s", name, a.body, missing.body)
			}
		}
		if strings.Contains(string(a.body), "secret-") {
			t.Errorf("source %s shows its key: %s", name, a.body)
		}
	}
}

// TestSourcesAPIAdminSeesAll: a hub admin sees every source with its
// status; keys never.
func TestSourcesAPIAdminSeesAll(t *testing.T) {
	db := openDB(t)
	org := mkOrg(t, db, "Org A")
	admin := mkMember(t, db, mkOrg(t, db, "Hub Ops"), "root", cyberpact.RoleAdmin)
	for name, o := range map[string]int64{"a-feed": org.ID, "hub-feed": 0} {
		src := &cyberpact.Source{Name: name, Kind: cyberpact.SourceMISP, URL: "http://127.0.0.1:9/feed", Key: "secret-" + name,
			Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: o, Interval: time.Hour}
		if err := db.CreateSource(context.Background(), src, "test"); err != nil {
			t.Fatal(err)
		}
	}
	_, base := serve(t, db, nil)
	req, _ := http.NewRequest("GET", base+"/api/v1/sources", nil)
	req.Header.Set("Authorization", "Bearer "+admin.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l struct {
		Sources []*cyberpact.SourceStatus `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%d %v", resp.StatusCode, err)
	}
	if len(l.Sources) != 2 || l.Sources[0].Source.Name != "a-feed" || l.Sources[1].Source.Name != "hub-feed" || l.Sources[0].State.Runs != 0 {
		t.Errorf("admin's sources: %+v", l.Sources)
	}
	for _, s := range l.Sources {
		if s.Source.Key != "" {
			t.Errorf("%s: key shown", s.Source.Name)
		}
	}
}
