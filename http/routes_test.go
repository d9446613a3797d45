package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestUnknownRoutesAndParametersAnswerErrors (issue 16): under /api/v1/
// an unknown route is 404 and a known one asked with another method 405,
// both in the API's JSON error shape; a query parameter a route does not
// take is 400 naming it, on the API and on TAXII (in TAXII's error
// format and media type), where it was ignored and ?typo=indicator listed
// everything. TAXII's match[FIELD] filters on fields it does not support
// stay ignored, as the specification has it.
func TestUnknownRoutesAndParametersAnswerErrors(t *testing.T) {
	db := openDB(t)
	org := mkOrg(t, db, "Org A")
	m := mkMember(t, db, org, "alice", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	const all = "80b11933-b971-53fe-8772-3dd0bace24e0"
	do := func(method, path, key string, taxii bool) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(nil))
		if err != nil {
			t.Fatal(err)
		}
		if key != "" {
			req.SetBasicAuth("alice", key)
		}
		if taxii {
			req.Header.Set("Accept", "application/taxii+json;version=2.1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body
	}
	for _, tc := range []struct {
		name, method, path string
		key                string
		status             int
		code, says, allow  string
	}{
		{"UnknownAPIRoute", "GET", "/api/v1/nothing", m.key, 404, "not_found", "no API route at /api/v1/nothing", ""},
		{"UnknownAPIRouteWithoutKey", "GET", "/api/v1/objects/x/nothing", "", 404, "not_found", "no API route", ""},
		{"WrongMethodOnList", "PUT", "/api/v1/objects", m.key, 405, "method_not_allowed", "PUT is not allowed here: use GET", "GET"},
		{"WrongMethodOnBundles", "GET", "/api/v1/bundles", m.key, 405, "method_not_allowed", "use POST", "POST"},
		{"WrongMethodOnObject", "DELETE", "/api/v1/objects/campaign--00000000-0000-4000-8000-000000000001", m.key, 405, "method_not_allowed", "use GET", "GET"},
		{"TypoParameter", "GET", "/api/v1/objects?typo=indicator", m.key, 400, "invalid", `unknown query parameter "typo": GET /api/v1/objects takes only type, label`, ""},
		{"TypoBesideAKnownOne", "GET", "/api/v1/objects?type=indicator&limt=5", m.key, 400, "invalid", `"limt"`, ""},
		{"ParameterOnObject", "GET", "/api/v1/objects/campaign--00000000-0000-4000-8000-000000000001?type=x", m.key, 400, "invalid", "takes no query parameters", ""},
		{"ParameterOnVersions", "GET", "/api/v1/objects/campaign--00000000-0000-4000-8000-000000000001/versions?all=1", m.key, 400, "invalid", `"all"`, ""},
		{"ParameterOnRelationships", "GET", "/api/v1/objects/campaign--00000000-0000-4000-8000-000000000001/relationships?dir=in", m.key, 400, "invalid", `"dir"`, ""},
		{"ParameterOnStats", "GET", "/api/v1/stats?type=indicator", m.key, 400, "invalid", `"type"`, ""},
		{"ParameterOnStream", "GET", "/api/v1/stream?follow=false&from=0", m.key, 400, "invalid", `"from"`, ""},
		{"ParameterOnBundles", "POST", "/api/v1/bundles?on_confict=replace", m.key, 400, "invalid", `"on_confict"`, ""},
		{"WrongMethodOnIncidents", "DELETE", "/api/v1/incidents", m.key, 405, "method_not_allowed", "use GET or POST", "GET, POST"},
		{"ParameterOnIncidents", "GET", "/api/v1/incidents?status=open", m.key, 400, "invalid", `"status"`, ""},
		{"EmptyIncident", "POST", "/api/v1/incidents", m.key, 400, "invalid", "request body", ""},
		{"BadConflictPolicy", "POST", "/api/v1/bundles?on_conflict=overwrite", m.key, 400, "invalid", "on_conflict", ""},
		{"BadAnonymous", "POST", "/api/v1/bundles?anonymous=maybe", m.key, 400, "invalid", "anonymous", ""},
		{"BadShare", "POST", "/api/v1/bundles?share=names", m.key, 400, "invalid", "share", ""},
		{"AnonymousCounts", "POST", "/api/v1/bundles?share=counts&anonymous=true", m.key, 400, "invalid", "do not go together", ""},
		{"ParameterOnSightingCounts", "GET", "/api/v1/objects/campaign--00000000-0000-4000-8000-000000000001/sighting-counts?k=1", m.key, 400, "invalid", `"k"`, ""},
		{"WrongMethodOnSightingCounts", "POST", "/api/v1/objects/campaign--00000000-0000-4000-8000-000000000001/sighting-counts", m.key, 405, "method_not_allowed", "use GET", "GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, h, body := do(tc.method, tc.path, tc.key, false)
			var e struct{ Error, Code string }
			if err := json.Unmarshal(body, &e); err != nil || st != tc.status || e.Code != tc.code || !strings.Contains(e.Error, tc.says) {
				t.Errorf("%s %s: %d %s; want %d, code %s, saying %q", tc.method, tc.path, st, body, tc.status, tc.code, tc.says)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if h.Get("Allow") != tc.allow {
				t.Errorf("Allow %q, want %q", h.Get("Allow"), tc.allow)
			}
		})
	}
	t.Run("KnownParametersStillWork", func(t *testing.T) {
		for _, path := range []string{"/api/v1/objects?type=indicator&limit=5", "/api/v1/stats",
			"/api/v1/stream?follow=false&after=0", "/taxii2/api1/collections/" + all + "/objects/?match[type]=indicator&limit=5"} {
			if st, _, body := do("GET", path, m.key, strings.HasPrefix(path, "/taxii2/")); st != 200 {
				t.Errorf("GET %s: %d %s", path, st, body)
			}
		}
	})
	t.Run("TAXIITypoParameter", func(t *testing.T) {
		for _, path := range []string{"/taxii2/api1/collections/" + all + "/objects/?typo=indicator",
			"/taxii2/api1/collections/" + all + "/manifest/?limt=5"} {
			st, h, body := do("GET", path, m.key, true)
			var e struct {
				Description string `json:"description"`
				HTTPStatus  string `json:"http_status"`
			}
			if err := json.Unmarshal(body, &e); err != nil || st != 400 || e.HTTPStatus != "400" || !strings.Contains(e.Description, "unknown query parameter") {
				t.Errorf("GET %s: %d %s; want a TAXII 400 naming the parameter", path, st, body)
			}
			if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/taxii+json") {
				t.Errorf("GET %s: Content-Type %q, want TAXII's", path, ct)
			}
		}
	})
	t.Run("TAXIIUnsupportedMatchFieldIgnored", func(t *testing.T) {
		path := "/taxii2/api1/collections/" + all + "/objects/?match[relationship_type]=uses"
		if st, _, body := do("GET", path, m.key, true); st != 200 {
			t.Errorf("GET %s: %d %s; want 200, the filter ignored", path, st, body)
		}
	})
}
