package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/demo"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// hub is a server on a real SQLite store, listening on 127.0.0.1, and the
// key of an analyst of its one organisation.
type hub struct {
	base string
	srv  *cphttp.Server
	key  string
}

func newHub(t *testing.T, maxBody int64) *hub {
	t.Helper()
	db := openDB(t)
	m := mkMember(t, db, mkOrg(t, db, "Org A"), "analyst", cyberpact.RoleAnalyst)
	srv, base := serve(t, db, func(s *cphttp.Server) { s.MaxBodyBytes = maxBody })
	return &hub{base: base, srv: srv, key: m.key}
}

// do sends a request with the hub's key and decodes a JSON answer into
// out (when non-nil), returning the status.
func (h *hub) do(t *testing.T, method, path string, body []byte, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, h.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: answer is not JSON (%v): %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

type list struct {
	Objects []map[string]any `json:"objects"`
	More    bool             `json:"more"`
	Next    string           `json:"next"`
}

type importAnswer struct {
	Added    int  `json:"added"`
	Present  int  `json:"already_present"`
	Commited bool `json:"committed"`
	Rejected []struct {
		ID     string `json:"id"`
		Path   string `json:"path"`
		Reason string `json:"reason"`
	} `json:"rejected"`
}

type errAnswer struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// demoBundle returns the demo partnership without its TLP:RED objects,
// which may not be shared with all members (the audience of a plain POST).
func demoBundle(t *testing.T) []byte {
	t.Helper()
	b, err := demo.Bundle(7, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var in struct{ Objects []map[string]any }
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	var keep []map[string]any
	for _, o := range in.Objects {
		red := false
		marks, _ := o["object_marking_refs"].([]any)
		for _, m := range marks {
			red = red || m == "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
		}
		if !red {
			keep = append(keep, o)
		}
	}
	out, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": keep})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// demoIDs returns the demo bundle's objects by id (latest version) and its
// distinct ids per type.
func demoIDs(t *testing.T, raw []byte) (map[string]map[string]any, map[string]int) {
	var b struct{ Objects []map[string]any }
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]any{}
	for _, o := range b.Objects {
		id := o["id"].(string)
		if prev, ok := byID[id]; !ok || str(o["modified"]) > str(prev["modified"]) {
			byID[id] = o
		}
	}
	perType := map[string]int{}
	for _, o := range byID {
		perType[o["type"].(string)]++
	}
	return byID, perType
}

func str(v any) string { s, _ := v.(string); return s }

func TestRESTAPI(t *testing.T) {
	h := newHub(t, 0)
	bundle := demoBundle(t)
	byID, perType := demoIDs(t, bundle)

	t.Run("HealthzOK", func(t *testing.T) {
		var got map[string]string
		if st := h.do(t, "GET", "/healthz", nil, &got); st != 200 || got["status"] != "ok" {
			t.Fatalf("status %d, %v", st, got)
		}
	})

	t.Run("PostBundleAddsThenIsPresent", func(t *testing.T) {
		var first, second importAnswer
		if st := h.do(t, "POST", "/api/v1/bundles", bundle, &first); st != 200 || first.Added == 0 || len(first.Rejected) > 0 {
			t.Fatalf("first post: status %d, %+v", st, first)
		}
		if st := h.do(t, "POST", "/api/v1/bundles", bundle, &second); st != 200 || second.Added != 0 || second.Present != first.Added {
			t.Fatalf("second post: status %d, %+v (first added %d)", st, second, first.Added)
		}
	})

	t.Run("PagingGivesEveryObjectOnce", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/api/v1/objects?limit=37"
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			var l list
			if st := h.do(t, "GET", path, nil, &l); st != 200 {
				t.Fatalf("status %d", st)
			}
			for _, o := range l.Objects {
				id := o["id"].(string)
				if seen[id] {
					t.Fatalf("%s listed twice", id)
				}
				seen[id] = true
				if o["modified"] != byID[id]["modified"] {
					t.Errorf("%s listed at version %v, latest is %v", id, o["modified"], byID[id]["modified"])
				}
			}
			if !l.More {
				break
			}
			path = "/api/v1/objects?limit=37&cursor=" + url.QueryEscape(l.Next)
		}
		if len(seen) != len(byID) {
			t.Fatalf("listed %d objects, want %d", len(seen), len(byID))
		}
	})

	t.Run("FilterByType", func(t *testing.T) {
		var l list
		h.do(t, "GET", "/api/v1/objects?type=indicator&limit=1000", nil, &l)
		if len(l.Objects) != perType["indicator"] {
			t.Fatalf("got %d indicators, want %d", len(l.Objects), perType["indicator"])
		}
		for _, o := range l.Objects {
			if o["type"] != "indicator" {
				t.Fatalf("type filter let through %v", o["type"])
			}
		}
	})

	t.Run("FullTextFindsByName", func(t *testing.T) {
		var name, id string
		for i, o := range byID {
			if o["type"] == "malware" {
				name, id = o["name"].(string), i
				break
			}
		}
		var l list
		h.do(t, "GET", "/api/v1/objects?q="+url.QueryEscape(name), nil, &l)
		found := false
		for _, o := range l.Objects {
			found = found || o["id"] == id
		}
		if !found {
			t.Fatalf("search for %q did not find %s", name, id)
		}
	})

	t.Run("GetVersionsRelationships", func(t *testing.T) {
		var multi string
		counts := map[string]int{}
		var b struct{ Objects []map[string]any }
		json.Unmarshal(bundle, &b)
		for _, o := range b.Objects {
			counts[o["id"].(string)]++
			if counts[o["id"].(string)] > 1 {
				multi = o["id"].(string)
			}
		}
		if multi == "" {
			t.Fatal("the demo bundle has no object with several versions")
		}
		var got map[string]any
		if st := h.do(t, "GET", "/api/v1/objects/"+multi, nil, &got); st != 200 || got["modified"] != byID[multi]["modified"] {
			t.Fatalf("get: status %d, modified %v want %v", st, got["modified"], byID[multi]["modified"])
		}
		var vs list
		if st := h.do(t, "GET", "/api/v1/objects/"+multi+"/versions", nil, &vs); st != 200 || len(vs.Objects) != counts[multi] {
			t.Fatalf("versions: status %d, %d versions, want %d", st, len(vs.Objects), counts[multi])
		}
		// A relationship's source sees it outgoing, its target incoming.
		for _, o := range byID {
			if o["type"] != "relationship" {
				continue
			}
			src, dst := o["source_ref"].(string), o["target_ref"].(string)
			var out, in, wrong list
			h.do(t, "GET", "/api/v1/objects/"+src+"/relationships?direction=out&limit=1000", nil, &out)
			h.do(t, "GET", "/api/v1/objects/"+dst+"/relationships?direction=in&limit=1000", nil, &in)
			h.do(t, "GET", "/api/v1/objects/"+src+"/relationships?direction=in&limit=1000", nil, &wrong)
			if !hasID(out, o["id"]) || !hasID(in, o["id"]) || hasID(wrong, o["id"]) {
				t.Fatalf("relationship %v: out %v in %v wrong-way %v", o["id"], hasID(out, o["id"]), hasID(in, o["id"]), hasID(wrong, o["id"]))
			}
			break
		}
	})

	t.Run("BadRequestsAreClearErrors", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			status int
			says   string
		}{
			{"/api/v1/objects?limit=abc", 400, "limit"},
			{"/api/v1/objects?limit=0", 400, "limit"},
			{"/api/v1/objects?cursor=xyz", 400, "cursor"},
			{"/api/v1/objects?modified_since=yesterday", 400, "modified_since"},
			{"/api/v1/objects?all_versions=maybe", 400, "all_versions"},
			{"/api/v1/objects?q=%22unclosed", 400, "quote"},
			{"/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000", 404, "no object"},
			{"/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000/versions", 404, "no object"},
			{"/api/v1/objects/indicator--00000000-0000-4000-8000-000000000000/relationships", 404, "no object"},
			{"/api/v1/objects/x/relationships?direction=sideways", 400, "direction"},
		} {
			var e errAnswer
			if st := h.do(t, "GET", tc.path, nil, &e); st != tc.status || !strings.Contains(e.Error, tc.says) {
				t.Errorf("GET %s: status %d %q, want %d mentioning %q", tc.path, st, e.Error, tc.status, tc.says)
			}
		}
	})

	t.Run("StatsCountDistinctObjects", func(t *testing.T) {
		var got struct {
			Types []struct {
				Type    string `json:"type"`
				Objects int    `json:"objects"`
			} `json:"types"`
		}
		h.do(t, "GET", "/api/v1/stats", nil, &got)
		for _, ts := range got.Types {
			if ts.Objects != perType[ts.Type] {
				t.Errorf("stats: %d %s, want %d", ts.Objects, ts.Type, perType[ts.Type])
			}
		}
	})
}

func hasID(l list, id any) bool {
	for _, o := range l.Objects {
		if o["id"] == id {
			return true
		}
	}
	return false
}

func TestPostBadBundles(t *testing.T) {
	h := newHub(t, 64<<10)
	good := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`
	bad := `{"type":"indicator","spec_version":"2.1","id":"indicator--not-a-uuid","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.2']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`
	wrap := func(objs ...string) []byte {
		return []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + strings.Join(objs, ",") + `]}`)
	}
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		says   string
	}{
		{"OneBadObjectRejectsAll", wrap(good, bad), 422, "indicator--not-a-uuid"},
		{"TruncatedJSON", wrap(good)[:100], 400, "truncated"},
		{"NotABundle", []byte(`[1,2,3]`), 400, "bundle"},
		{"TooLarge", wrap(`{"type":"note","x":"` + strings.Repeat("a", 70<<10) + `"}`), 413, "limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var raw json.RawMessage
			st := h.do(t, "POST", "/api/v1/bundles", tc.body, &raw)
			if st != tc.status || !strings.Contains(string(raw), tc.says) {
				t.Fatalf("status %d %s, want %d mentioning %q", st, raw, tc.status, tc.says)
			}
			var l list
			h.do(t, "GET", "/api/v1/objects", nil, &l)
			if len(l.Objects) != 0 {
				t.Fatalf("a refused bundle stored %d objects", len(l.Objects))
			}
		})
	}
	t.Run("PartialKeepsTheGood", func(t *testing.T) {
		var a importAnswer
		if st := h.do(t, "POST", "/api/v1/bundles?partial=true", wrap(good, bad), &a); st != 200 || a.Added != 1 || len(a.Rejected) == 0 {
			t.Fatalf("status %d, %+v", st, a)
		}
	})
}

// countingStore is the real store with its Stats counted: the health
// check must not count (TestHealthzDoesNotCount).
type countingStore struct {
	cyberpact.ObjectStore
	stats atomic.Int64
}

func (c *countingStore) Stats(ctx context.Context, v *cyberpact.Viewer) ([]cyberpact.TypeStats, error) {
	c.stats.Add(1)
	return c.ObjectStore.Stats(ctx, v)
}

// TestHealthzDoesNotCount: /healthz reads the store but never counts it.
// After a delete the hub's counts are made again from every object (82 s
// at ten million, BENCHMARKS.md), longer than any liveness probe waits,
// so a health check that counted had a healthy hub restarted in a loop.
func TestHealthzDoesNotCount(t *testing.T) {
	db := openDB(t)
	cs := &countingStore{}
	_, base := serve(t, db, func(s *cphttp.Server) { cs.ObjectStore = s.Store; s.Store = cs })
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Fatalf("healthz: %d %s", resp.StatusCode, body)
	}
	if n := cs.stats.Load(); n != 0 {
		t.Errorf("healthz counted the store %d times", n)
	}
}
