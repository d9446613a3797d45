package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

const taxiiType = "application/taxii+json;version=2.1"

// taxiiClient speaks to the server as a standard TAXII 2.1 client does:
// HTTP Basic with the user name and key, TAXII media types.
type taxiiClient struct {
	base, user, key string
}

func (c *taxiiClient) do(t *testing.T, method, path string, body []byte, out any) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.key != "" {
		req.SetBasicAuth(c.user, c.key)
	}
	req.Header.Set("Accept", taxiiType)
	if body != nil {
		req.Header.Set("Content-Type", taxiiType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != taxiiType {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, resp.Header
}

// indicator returns a valid indicator n at version day mod.
func indicator(n, mod int) map[string]any {
	return map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": uuidN("indicator", n),
		"created": day(0), "modified": day(mod), "name": fmt.Sprintf("indicator %d", n),
		"pattern": fmt.Sprintf("[ipv4-addr:value = '198.51.100.%d']", n%250+1), "pattern_type": "stix", "valid_from": day(0),
	}
}

func envelope(objs ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"objects": objs})
	return b
}

type envelopeAnswer struct {
	More    bool             `json:"more"`
	Next    string           `json:"next"`
	Objects []map[string]any `json:"objects"`
}

type statusAnswer struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	Total     int    `json:"total_count"`
	Success   int    `json:"success_count"`
	Failure   int    `json:"failure_count"`
	Successes []struct{ ID, Version string }
	Failures  []struct{ ID, Version, Message string }
}

func TestTAXIIClient(t *testing.T) {
	db := openDB(t)
	a := mkMember(t, db, mkOrg(t, db, "Org A"), "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, mkOrg(t, db, "Org B"), "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	c := &taxiiClient{base: base, user: a.user.Name, key: a.key}

	var disc struct {
		Default  string   `json:"default"`
		APIRoots []string `json:"api_roots"`
	}
	if st, _ := c.do(t, "GET", "/taxii2/", nil, &disc); st != 200 || len(disc.APIRoots) != 1 {
		t.Fatalf("discovery: %d %+v", st, disc)
	}
	// API roots are absolute URLs on the host the client asked.
	root, ok := strings.CutPrefix(disc.APIRoots[0], c.base)
	if !ok || root != "/taxii2/api1/" {
		t.Fatalf("api root %q is not %s/taxii2/api1/", disc.APIRoots[0], c.base)
	}
	var info struct {
		Versions []string `json:"versions"`
		Max      int64    `json:"max_content_length"`
	}
	if st, _ := c.do(t, "GET", root, nil, &info); st != 200 || len(info.Versions) != 1 || info.Versions[0] != taxiiType || info.Max <= 0 {
		t.Fatalf("api root: %d %+v", st, info)
	}
	var colls struct {
		Collections []struct {
			ID       string `json:"id"`
			Title    string `json:"title"`
			CanRead  bool   `json:"can_read"`
			CanWrite bool   `json:"can_write"`
		}
	}
	c.do(t, "GET", root+"collections/", nil, &colls)
	all := root + "collections/" + cphttp.CollectionID("all") + "/"
	found := false
	for _, col := range colls.Collections {
		found = found || (col.ID == cphttp.CollectionID("all") && col.CanRead && col.CanWrite)
	}
	if !found {
		t.Fatalf("no writable all-members collection in %+v", colls)
	}

	post := func(t *testing.T, objs ...map[string]any) statusAnswer {
		t.Helper()
		var st statusAnswer
		if code, _ := c.do(t, "POST", all+"objects/", envelope(objs...), &st); code != 202 {
			t.Fatalf("POST: %d %+v", code, st)
		}
		var polled statusAnswer
		if code, _ := c.do(t, "GET", root+"status/"+st.ID+"/", nil, &polled); code != 200 || polled.Status != "complete" {
			t.Fatalf("status poll: %d %+v", code, polled)
		}
		return polled
	}

	bad := indicator(3, 1)
	bad["pattern"] = "[ipv4-addr:value = "
	st := post(t, indicator(1, 1), indicator(1, 2), indicator(1, 3), indicator(2, 1), bad)
	if st.Total != 5 || st.Success != 4 || st.Failure != 1 || st.Failures[0].ID != uuidN("indicator", 3) || st.Failures[0].Message == "" {
		t.Fatalf("status %+v, want 4 successes and indicator 3 refused with a reason", st)
	}

	get := func(t *testing.T, path string) (envelopeAnswer, http.Header) {
		t.Helper()
		var e envelopeAnswer
		code, h := c.do(t, "GET", path, nil, &e)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		return e, h
	}
	count := func(path string) int { e, _ := get(t, path); return len(e.Objects) }
	id1 := uuidN("indicator", 1)
	for _, tc := range []struct {
		name  string
		query string
		want  int
	}{
		{"LatestByDefault", "", 2},
		{"MatchType", "?match[type]=indicator", 2},
		{"MatchTypeNone", "?match[type]=malware", 0},
		{"MatchID", "?match[id]=" + id1, 1},
		{"MatchVersionAll", "?match[version]=all", 4},
		{"MatchVersionFirst", "?match[id]=" + id1 + "&match[version]=first", 1},
		{"MatchVersionTimestamp", "?match[version]=" + url.QueryEscape(day(2)), 1},
		{"MatchVersionSeveral", "?match[version]=first,last", 3},
		{"MatchSpecVersion", "?match[spec_version]=2.1", 2},
		{"MatchSpecVersionOther", "?match[spec_version]=2.0", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n := count(all + "objects/" + tc.query); n != tc.want {
				t.Errorf("%d objects, want %d", n, tc.want)
			}
		})
	}

	t.Run("AddedAfterIsStrict", func(t *testing.T) {
		_, h := get(t, all+"objects/?match[version]=all")
		last := h.Get("X-TAXII-Date-Added-Last")
		if last == "" || h.Get("X-TAXII-Date-Added-First") == "" {
			t.Fatalf("no X-TAXII-Date-Added headers: %v", h)
		}
		if n := count(all + "objects/?match[version]=all&added_after=" + url.QueryEscape(last)); n != 0 {
			t.Fatalf("added_after the last date_added gave %d objects", n)
		}
		post(t, indicator(4, 1))
		e, _ := get(t, all+"objects/?added_after="+url.QueryEscape(last))
		if len(e.Objects) != 1 || e.Objects[0]["id"] != uuidN("indicator", 4) {
			t.Fatalf("added_after gave %v, want only indicator 4", e.Objects)
		}
	})

	t.Run("PagingUntilMoreIsFalse", func(t *testing.T) {
		var objs []map[string]any
		for i := 100; i < 125; i++ {
			objs = append(objs, indicator(i, 1))
		}
		post(t, objs...)
		seen := map[string]bool{}
		path := all + "objects/?limit=7&match[version]=all"
		for pages := 0; ; pages++ {
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			e, _ := get(t, path)
			for _, o := range e.Objects {
				k := o["id"].(string) + o["modified"].(string)
				if seen[k] {
					t.Fatalf("%s listed twice", k)
				}
				seen[k] = true
			}
			if !e.More {
				break
			}
			path = all + "objects/?limit=7&match[version]=all&next=" + url.QueryEscape(e.Next)
		}
		if len(seen) != 30 {
			t.Fatalf("paged through %d versions, want 30", len(seen))
		}
	})

	t.Run("Manifest", func(t *testing.T) {
		var m struct {
			Objects []struct {
				ID        string `json:"id"`
				Version   string `json:"version"`
				DateAdded string `json:"date_added"`
				MediaType string `json:"media_type"`
			}
		}
		c.do(t, "GET", all+"manifest/?match[id]="+id1+"&match[version]=all", nil, &m)
		if len(m.Objects) != 3 || m.Objects[0].MediaType != "application/stix+json;version=2.1" || m.Objects[0].Version == "" || m.Objects[0].DateAdded == "" {
			t.Fatalf("manifest %+v", m)
		}
	})

	t.Run("ObjectAndVersions", func(t *testing.T) {
		e, _ := get(t, all+"objects/"+id1+"/")
		if len(e.Objects) != 1 || e.Objects[0]["modified"] != day(3) {
			t.Fatalf("object: %v", e.Objects)
		}
		var v struct {
			More     bool
			Versions []string
		}
		c.do(t, "GET", all+"objects/"+id1+"/versions/", nil, &v)
		if len(v.Versions) != 3 || v.Versions[0] != day(1) || v.More {
			t.Fatalf("versions %+v", v)
		}
	})

	t.Run("OtherOrgsReadIsAudited", func(t *testing.T) {
		cb := &taxiiClient{base: base, user: b.user.Name, key: b.key}
		var e envelopeAnswer
		cb.do(t, "GET", all+"objects/?match[id]="+id1, nil, &e)
		if len(e.Objects) != 1 {
			t.Fatalf("B sees %d objects", len(e.Objects))
		}
		entries, err := db.AuditEntries(context.Background(), cyberpact.AuditFilter{Action: cyberpact.AuditRelease, Org: b.org.ID})
		if err != nil || len(entries) != 1 || entries[0].Recipient != b.org.ID || entries[0].Via != "taxii" || entries[0].Scope == nil {
			t.Fatalf("release audit: %v %+v", err, entries)
		}
		// The entry names the version B received (the latest, of day 3)
		// by its Seq, and the request it answered.
		vs, err := db.ObjectVersions(context.Background(), id1, nil)
		if err != nil {
			t.Fatal(err)
		}
		sc := entries[0].Scope
		for _, v := range vs {
			if got, want := sc.Contains(v.Seq), v.Modified == vs[len(vs)-1].Modified; got != want {
				t.Errorf("release scope %+v holds version %s (Seq %d): %v, want %v", sc, v.Modified, v.Seq, got, want)
			}
		}
		if sc.Count != 1 || !strings.HasSuffix(sc.Path, "/objects/") || sc.Query != "match[id]="+id1 {
			t.Errorf("release scope %+v: want one version, the objects path and query match[id]=%s", sc, id1)
		}
		if code, _ := cb.do(t, "GET", root+"status/"+st.ID+"/", nil, nil); code != 404 {
			t.Fatalf("another organisation's status: %d, want 404", code)
		}
		if code, _ := cb.do(t, "DELETE", all+"objects/"+id1+"/", nil, nil); code != 403 {
			t.Fatalf("another organisation's delete: %d, want 403", code)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		code, _ := c.do(t, "DELETE", all+"objects/"+id1+"/?match[version]=first", nil, nil)
		if code != 200 {
			t.Fatalf("delete first: %d", code)
		}
		var v struct{ Versions []string }
		c.do(t, "GET", all+"objects/"+id1+"/versions/", nil, &v)
		if len(v.Versions) != 2 {
			t.Fatalf("after deleting the first version: %v", v.Versions)
		}
		if code, _ := c.do(t, "DELETE", all+"objects/"+id1+"/", nil, nil); code != 200 {
			t.Fatalf("delete: %d", code)
		}
		if code, _ := c.do(t, "GET", all+"objects/"+id1+"/", nil, nil); code != 404 {
			t.Fatalf("deleted object: %d, want 404", code)
		}
	})
}

func TestTAXIIBadInput(t *testing.T) {
	db := openDB(t)
	a := mkMember(t, db, mkOrg(t, db, "Org A"), "alice", cyberpact.RoleAnalyst)
	revoked := mkMember(t, db, a.org, "gone", cyberpact.RoleAnalyst)
	keys, _ := db.Keys(context.Background(), revoked.user.ID)
	if err := db.RevokeKey(context.Background(), keys[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	_, base := serve(t, db, func(s *cphttp.Server) { s.TAXIIMaxBodyBytes = 4 << 10; s.LoginFailures = 4 })
	objects := "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	good := string(envelope(indicator(1, 1)))
	basic := func(u, k string) string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(u, k)
		return r.Header.Get("Authorization")
	}
	for _, tc := range []struct {
		name, method, path, body, accept, ctype, auth string
		status                                        int
	}{
		{"TruncatedEnvelope", "POST", objects, good[:60], "", taxiiType, "", 400},
		{"EnvelopeNotAnObject", "POST", objects, `[1,2]`, "", taxiiType, "", 400},
		{"ObjectsNotAnArray", "POST", objects, `{"objects":{"type":"indicator"}}`, "", taxiiType, "", 400},
		{"OversizedBody", "POST", objects, `{"objects":[{"type":"note","x":"` + strings.Repeat("a", 8<<10) + `"}]}`, "", taxiiType, "", 413},
		{"ContentTypeJSON", "POST", objects, good, "", "application/json", "", 415},
		{"ContentTypeOtherVersion", "POST", objects, good, "", "application/taxii+json;version=2.0", "", 415},
		{"AcceptXML", "GET", objects, "", "application/xml", "", "", 406},
		{"AcceptSTIXBundle", "GET", objects, "", "application/stix+json;version=2.1", "", "", 406},
		{"AcceptTAXII20", "GET", objects, "", "application/taxii+json;version=2.0", "", "", 406},
		{"BadMatchVersion", "GET", objects + "?match[version]=yesterday", "", "", "", "", 400},
		{"BadAddedAfter", "GET", objects + "?added_after=2024-13-01", "", "", "", "", 400},
		{"ZeroLimit", "GET", objects + "?limit=0", "", "", "", "", 400},
		{"BadNext", "GET", objects + "?next=abc", "", "", "", "", 400},
		{"NoCredentials", "GET", objects, "", "", "", "none", 401},
		{"UnknownKey", "GET", objects, "", "", "", "Bearer cpk_nothing", 401},
		{"KeyOfAnotherUser", "GET", objects, "", "", "", basic("gone", a.key), 401},
		{"RevokedKey", "GET", objects, "", "", "", basic("gone", revoked.key), 401},
		{"UnknownCollection", "GET", "/taxii2/api1/collections/9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d/objects/", "", "", "", "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			switch tc.auth {
			case "":
				req.SetBasicAuth(a.user.Name, a.key)
			case "none":
			default:
				req.Header.Set("Authorization", tc.auth)
			}
			if tc.accept == "" {
				tc.accept = taxiiType
			}
			req.Header.Set("Accept", tc.accept)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e struct {
				Title       string `json:"title"`
				Description string `json:"description"`
				HTTPStatus  string `json:"http_status"`
			}
			if resp.StatusCode != tc.status || json.Unmarshal(data, &e) != nil || e.Title == "" || e.HTTPStatus != fmt.Sprint(tc.status) || resp.Header.Get("Content-Type") != taxiiType {
				t.Fatalf("status %d %s (%s), want %d with a TAXII error", resp.StatusCode, data, resp.Header.Get("Content-Type"), tc.status)
			}
			if tc.status == 401 && len(resp.Header.Values("WWW-Authenticate")) == 0 {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("NothingWasStored", func(t *testing.T) {
		stats, _ := db.Stats(context.Background(), nil)
		if len(stats) != 0 {
			t.Fatalf("refused input stored %v", stats)
		}
	})
	t.Run("TooManyFailedLoginsIs429", func(t *testing.T) {
		var last *http.Response
		for i := 0; i < 5; i++ {
			req, _ := http.NewRequest("GET", base+objects, nil)
			req.SetBasicAuth("alice", "cpk_wrong")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			last = resp
		}
		if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
			t.Fatalf("after 5 failures: %d, Retry-After %q; want 429 with Retry-After", last.StatusCode, last.Header.Get("Retry-After"))
		}
		// The right key is refused too while the name is locked out.
		req, _ := http.NewRequest("GET", base+objects, nil)
		req.SetBasicAuth("alice", a.key)
		resp, _ := http.DefaultClient.Do(req)
		resp.Body.Close()
		if resp.StatusCode != 429 {
			t.Fatalf("right key during lockout: %d, want 429", resp.StatusCode)
		}
	})
}
