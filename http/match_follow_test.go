package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// TestDeletedIndicatorStopsMatching builds a member's match index, then
// deletes and revokes indicators in it: the very next match request after
// the DELETE or the revoking POST has answered no longer alerts on them,
// and deleting only the latest version brings the previous one back.
func TestDeletedIndicatorStopsMatching(t *testing.T) {
	db := openDB(t)
	orgA, orgB := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	all := "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	post := func(objs ...map[string]any) {
		t.Helper()
		if st := call(t, base, a, "POST", "/api/v1/bundles?audience=all&tlp=green", string(bundleOf(objs...)), nil); st != 200 {
			t.Fatalf("post: status %d", st)
		}
	}
	del := func(id, version string) {
		t.Helper()
		path := all + id + "/"
		if version != "" {
			path += "?match[version]=" + version
		}
		req, _ := http.NewRequestWithContext(context.Background(), "DELETE", base+path, nil)
		req.SetBasicAuth(a.user.Name, a.key)
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("DELETE %s: status %d", path, resp.StatusCode)
		}
	}
	const events = `{"destination":{"domain":"gone.example"}}
{"destination":{"domain":"revoked.example"}}
{"destination":{"domain":"kept.example"}}
{"destination":{"domain":"older.example"}}
{"destination":{"domain":"newer.example"}}
`
	alerts := func() map[string]bool {
		t.Helper()
		var ans alertsAnswer
		if st := call(t, base, b, "POST", "/api/v1/match", events, &ans); st != 200 {
			t.Fatalf("match: status %d", st)
		}
		got := map[string]bool{}
		for _, al := range ans.Alerts {
			got[al.Value] = true
		}
		return got
	}
	post(mkIndicator(1, 1, "gone.example", nil), mkIndicator(2, 1, "revoked.example", nil), mkIndicator(3, 1, "kept.example", nil),
		mkIndicator(4, 1, "older.example", nil), mkIndicator(4, 2, "newer.example", nil))
	if got := alerts(); !got["gone.example"] || !got["revoked.example"] || !got["kept.example"] || !got["newer.example"] || got["older.example"] {
		t.Fatalf("before any change B alerts on %v", got)
	}

	t.Run("Deleted", func(t *testing.T) {
		del(uuidN("indicator", 1), "")
		if got := alerts(); got["gone.example"] || !got["kept.example"] {
			t.Errorf("right after the DELETE B alerts on %v", got)
		}
	})
	t.Run("Revoked", func(t *testing.T) {
		post(mkIndicator(2, 2, "revoked.example", map[string]any{"revoked": true}))
		if got := alerts(); got["revoked.example"] || !got["kept.example"] {
			t.Errorf("right after the revocation B alerts on %v", got)
		}
	})
	t.Run("LatestVersionDeleted", func(t *testing.T) {
		del(uuidN("indicator", 4), "last")
		if got := alerts(); got["newer.example"] || !got["older.example"] {
			t.Errorf("with the latest version deleted B alerts on %v, want the previous version's value", got)
		}
	})
	t.Run("DeletedOutsideTheServer", func(t *testing.T) {
		// A delete this server did not make (another serve process, the
		// command line) reaches the index through the store's change
		// notice.
		if _, err := db.DeleteObject(context.Background(), uuidN("indicator", 3), cyberpact.ObjectFilter{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the indicator deleted in the store stops alerting", func() bool { return !alerts()["kept.example"] })
	})
	t.Run("DeletedOutsideTheServerBesideAnImport", func(t *testing.T) {
		// A delete elsewhere whose change notice is merged with an
		// import's: the store's count of deletes still tells it.
		if _, err := db.DeleteObject(context.Background(), uuidN("indicator", 4), cyberpact.ObjectFilter{}); err != nil {
			t.Fatal(err)
		}
		post(mkIndicator(5, 1, "added.example", nil))
		waitFor(t, "the indicator deleted beside an import stops alerting", func() bool { return !alerts()["older.example"] })
	})
}
