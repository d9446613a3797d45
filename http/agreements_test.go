package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// checkAgreements is the leak case of the agreement routes: the world has
// one agreement, G2's, which only B (G2's one member) is party to. Others
// are told it does not exist, as for a group that does not; anonymous
// callers get 401; no agreement answer names a seeded object.
func (w *world) checkAgreements(t *testing.T, vc *viewerCase) {
	if vc.m == nil {
		for _, p := range []string{"/api/v1/agreements", "/api/v1/agreements/G2"} {
			mustStatus(t, "anonymous "+p, w.req(t, vc, "GET", p, nil, ""), 401)
		}
		mustStatus(t, "anonymous PUT", w.req(t, vc, "PUT", "/api/v1/agreements/G2", []byte(`{"purpose":"x"}`), "application/json"), 401)
		return
	}
	party := vc.name == "B"
	a := w.req(t, vc, "GET", "/api/v1/agreements", nil, "")
	mustStatus(t, "agreements", a, 200)
	w.noSeededIDs(t, "agreements", a.body)
	var l struct{ Agreements []cyberpact.Agreement }
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	if got := len(l.Agreements); got != map[bool]int{true: 1, false: 0}[party] {
		t.Errorf("%s is shown %d agreements (%s); party to G2's: %v", vc.name, got, a.body, party)
	}
	for _, q := range []string{"", "?history=true"} {
		one := w.req(t, vc, "GET", "/api/v1/agreements/G2"+q, nil, "")
		none := w.req(t, vc, "GET", "/api/v1/agreements/no-such-group"+q, nil, "")
		mustStatus(t, "no such group", none, 404)
		if party {
			mustStatus(t, "G2's agreement"+q, one, 200)
			w.noSeededIDs(t, "G2's agreement", one.body)
		} else {
			sameAnswer(t, "G2's agreement to a non-member"+q, one, none, "G2", "no-such-group")
		}
	}
	put := w.req(t, vc, "PUT", "/api/v1/agreements/G2", []byte(`{"purpose":"changed"}`), "application/json")
	if party {
		mustStatus(t, "an analyst changing G2's agreement", put, 403)
	} else {
		mustStatus(t, "a non-member changing G2's agreement", put, 404)
	}
	if vs, _ := w.db.AgreementHistory(context.Background(), w.groups["G2"].ID); len(vs) != 1 || vs[0].Purpose != "G2" {
		t.Errorf("G2's agreement after %s's attempt: %+v", vc.name, vs)
	}
}

func init() {
	leakCases["GET /api/v1/agreements"] = func(t *testing.T, w *world, vc *viewerCase) { w.checkAgreements(t, vc) }
	leakCases["GET /api/v1/agreements/{group}"] = func(t *testing.T, w *world, vc *viewerCase) { w.checkAgreements(t, vc) }
	leakCases["PUT /api/v1/agreements/{group}"] = func(t *testing.T, w *world, vc *viewerCase) { w.checkAgreements(t, vc) }
	// A group the poster is not in answers as one that does not exist,
	// and its agreement is left as it was.
	writeCases["PUT /api/v1/agreements/{group}"] = func(t *testing.T, w *world, p probe) {
		ctx := context.Background()
		g3 := mkGroup(t, w.db, "G3", w.orgs["A"])
		if err := w.db.SetAgreement(ctx, &cyberpact.Agreement{Group: g3.ID, Purpose: "A alone"}, "test"); err != nil {
			t.Fatal(err)
		}
		put := func(g string) answer {
			return w.req(t, p.poster, "PUT", "/api/v1/agreements/"+g, []byte(`{"purpose":"taken over"}`), "application/json")
		}
		sameAnswer(t, "another group's agreement", put("G3"), put("no-such-group"), "G3", "no-such-group")
		if a, err := w.db.Agreement(ctx, g3.ID); err != nil || a.Version != 1 || a.Purpose != "A alone" {
			t.Errorf("G3's agreement after B's attempt: %+v, %v", a, err)
		}
	}
}

// TestAgreementsAPI: a hub admin sets an agreement over REST, every
// version is kept and listed, bad terms are 400 naming the field and
// change nothing, and a write the agreement forbids is refused naming it.
func TestAgreementsAPI(t *testing.T) {
	db := openDB(t)
	a := mkOrg(t, db, "Org A")
	g := mkGroup(t, db, "Cell", a)
	admin := mkMember(t, db, a, "hana", cyberpact.RoleAdmin)
	analyst := mkMember(t, db, a, "alice", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	do := func(m *member, method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.SetBasicAuth(m.user.Name, m.key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	st, body := do(admin, "PUT", "/api/v1/agreements/cell", `{"purpose": "joint defence", "tlp": ["green", "amber"], "pap": ["clear", "green"],
		"rel_nations": ["gb", "US"], "retention": "90d", "retention_by_type": {"indicator": "30d"}, "federate": true, "personal_data": ["detect-email", "redact"]}`)
	if st != 200 || !bytes.Contains(body, []byte(`"version":1`)) || !bytes.Contains(body, []byte(`"rel_nations":["GB","US"]`)) {
		t.Fatalf("PUT: %d %s", st, body)
	}
	if st, body := do(analyst, "PUT", "/api/v1/agreements/cell", `{"purpose": "mine"}`); st != 403 {
		t.Errorf("an analyst's PUT: %d %s", st, body)
	}
	for _, tc := range []struct{ name, body, says string }{
		{"BadTLP", `{"tlp": ["purple"]}`, "tlp"},
		{"BadNation", `{"rel_nations": ["UK"]}`, "GB"},
		{"BadSpan", `{"retention": "forever"}`, "retention"},
		{"BadFlag", `{"personal_data": ["scan-everything"]}`, "personal-data flag"},
		{"NotJSON", `{`, "request body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := do(admin, "PUT", "/api/v1/agreements/cell", tc.body)
			if st != 400 || !strings.Contains(string(body), tc.says) {
				t.Errorf("%d %s; want 400 saying %q", st, body, tc.says)
			}
		})
	}
	if st, body := do(admin, "PUT", "/api/v1/agreements/hub", `{"purpose": "the partnership"}`); st != 200 {
		t.Fatalf("PUT hub: %d %s", st, body)
	}
	st, body = do(analyst, "GET", "/api/v1/agreements/Cell?history=true", "")
	var h struct{ Versions []cyberpact.Agreement }
	if err := json.Unmarshal(body, &h); st != 200 || err != nil || len(h.Versions) != 1 || h.Versions[0].Actor != "hana" {
		t.Errorf("history: %d %s", st, body)
	}
	st, body = do(analyst, "GET", "/api/v1/agreements", "")
	var l struct{ Agreements []cyberpact.Agreement }
	if err := json.Unmarshal(body, &l); st != 200 || err != nil || len(l.Agreements) != 2 || l.Agreements[0].Group != 0 || l.Agreements[1].Group != g.ID {
		t.Errorf("list: %d %s", st, body)
	}
	// A TLP:RED indicator to the cell is refused, naming the agreement.
	bundle := `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[{"type":"campaign","spec_version":"2.1",
		"id":"campaign--00000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"x",
		"object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]}]}`
	st, body = do(analyst, "POST", "/api/v1/bundles?audience=group:Cell", bundle)
	if st == 200 || !strings.Contains(string(body), `the agreement of group \"Cell\" (version 1) does not permit TLP:RED`) {
		t.Errorf("a RED write to the cell: %d %s", st, body)
	}
}
