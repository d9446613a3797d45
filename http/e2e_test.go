package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// TestThreeOrganisationsTwoGroups runs a partnership over real HTTP and
// SQLite: A and B share group G1, B is alone in G2, C is in no group. What
// A shares with G1 reaches B by REST and TAXII, never C; each release to
// B and each write is in the audit log.
func TestThreeOrganisationsTwoGroups(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	orgA, orgB, orgC := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	g1 := mkGroup(t, db, "G1", orgA, orgB)
	mkGroup(t, db, "G2", orgB)
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	c := mkMember(t, db, orgC, "carol", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)

	rest := func(m *member, method, path string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	ind := indicator(7, 1)
	id := ind["id"].(string)
	bundle, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": []any{ind}})

	t.Run("AWritesToG1", func(t *testing.T) {
		if st, body := rest(a, "POST", "/api/v1/bundles?audience=group:G1&tlp=amber", bundle); st != 200 {
			t.Fatalf("post: %d %s", st, body)
		}
	})
	t.Run("CCannotWriteToAGroupItIsNotIn", func(t *testing.T) {
		if st, _ := rest(c, "POST", "/api/v1/bundles?audience=group:G1", bundle); st != 400 {
			t.Fatalf("post to G1 by C: %d, want 400", st)
		}
	})
	t.Run("RedForAllMembersIsRefused", func(t *testing.T) {
		red := indicator(8, 1)
		b2, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4c", "objects": []any{red}})
		if st, body := rest(a, "POST", "/api/v1/bundles?audience=all&tlp=red", b2); st != 422 {
			t.Fatalf("red for all: %d %s, want 422", st, body)
		}
	})
	t.Run("BReadsByRESTAndTAXII", func(t *testing.T) {
		if st, _ := rest(b, "GET", "/api/v1/objects/"+id, nil); st != 200 {
			t.Fatalf("REST get by B: %d", st)
		}
		tc := &taxiiClient{base: base, user: b.user.Name, key: b.key}
		var e envelopeAnswer
		if st, _ := tc.do(t, "GET", "/taxii2/api1/collections/"+cphttp.CollectionID("group:"+strconv.FormatInt(g1.ID, 10))+"/objects/", nil, &e); st != 200 || len(e.Objects) != 1 {
			t.Fatalf("TAXII G1 by B: %d, %d objects", st, len(e.Objects))
		}
	})
	t.Run("CSeesNothing", func(t *testing.T) {
		if st, _ := rest(c, "GET", "/api/v1/objects/"+id, nil); st != 404 {
			t.Fatalf("REST get by C: %d, want 404", st)
		}
		if st, body := rest(c, "GET", "/api/v1/objects", nil); st != 200 || bytes.Contains(body, []byte(id)) {
			t.Fatalf("REST list by C: %d %s", st, body)
		}
		tc := &taxiiClient{base: base, user: c.user.Name, key: c.key}
		if st, _ := tc.do(t, "GET", "/taxii2/api1/collections/"+cphttp.CollectionID("group:"+strconv.FormatInt(g1.ID, 10))+"/objects/", nil, nil); st != 404 {
			t.Fatalf("TAXII G1 by C: %d, want 404", st)
		}
	})
	t.Run("AuditHasTheWriteAndTheReleases", func(t *testing.T) {
		writes, _ := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditWrite, Org: orgA.ID})
		releases, _ := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditRelease})
		if len(writes) != 1 || writes[0].Actor != "alice" || writes[0].Via != "rest" {
			t.Errorf("writes: %+v", writes)
		}
		if len(releases) != 2 {
			t.Fatalf("releases: %+v, want one by REST and one by TAXII, both to B", releases)
		}
		obj, err := db.Object(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range releases {
			if r.Recipient != orgB.ID || r.Scope == nil || !r.Scope.Contains(obj.Seq) || r.Scope.Count != 1 || len(r.Objects) != 0 {
				t.Errorf("release %+v (scope %+v), want B receiving %s (Seq %d) alone, named by its Seq", r, r.Scope, id, obj.Seq)
			}
		}
		if byObject, _ := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditRelease, Object: id}); len(byObject) != 2 {
			t.Errorf("releases of %s: %d entries, want 2", id, len(byObject))
		}
		if n, err := db.VerifyAudit(ctx); err != nil || n != 0 {
			t.Errorf("audit chain broken at %d: %v", n, err)
		}
	})
}
