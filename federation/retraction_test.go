package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// TestRetractionTravelsThreeHubs: A's member deletes an object it
// published; B pulls from A (the retraction arrives in A's collection
// feed) and pushes to C (the retraction arrives in a TAXII POST). The
// object is gone at B and at C, and the other objects stay. A revocation
// travels the same way, as the revoked version. A peer cannot retract
// what another producer holds: B's member forging a retraction of C's
// own object, pushed to C, deletes nothing there.
func TestRetractionTravelsThreeHubs(t *testing.T) {
	ctx := context.Background()
	a, b, c := newHub(t, "A"), newHub(t, "B"), newHub(t, "C")
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	cisa := a.org("A CISA", "US")
	bOnA := a.org("B Hub", "GB")
	aOnB, cOnB := b.org("A Hub", "US"), b.org("C Hub", "JP")
	bOnC := c.org("B Hub", "GB")
	u, k := a.syncUser("b-sync", bOnA)
	b.peer(&cyberpact.Peer{Name: "a", URL: a.root, Collection: collection("all"), User: u, Key: k, Org: aOnB.ID, Direction: cyberpact.SyncPull, Audience: all})
	u, k = c.syncUser("b-sync", bOnC)
	b.peer(&cyberpact.Peer{Name: "c", URL: c.root, Collection: collection("all"), User: u, Key: k, Org: cOnB.ID, Direction: cyberpact.SyncPush, Audience: all})

	creator := "identity--" + uuidOf(500)
	gone, stays, revoked := indicator(1, cyberpact.TLPGreen), indicator(2, cyberpact.TLPGreen), indicator(3, cyberpact.TLPGreen)
	for _, o := range []map[string]any{gone, stays, revoked} {
		o["created_by_ref"] = creator
	}
	a.publish(cisa, all, gone, stays, revoked)
	relay := func() {
		t.Helper()
		if res := b.mustSync("a"); res.Failed != 0 {
			t.Fatalf("B pulling from A: %+v", res)
		}
		if res := b.mustSync("c"); res.Failed != 0 {
			t.Fatalf("B pushing to C: %+v", res)
		}
	}
	relay()
	for _, h := range []*hub{b, c} {
		if vs := h.versions(); len(vs[gone["id"].(string)]) != 1 || len(vs[stays["id"].(string)]) != 1 {
			t.Fatalf("%s before the delete holds %v", h.name, keysOf(vs))
		}
	}

	// A's member deletes the object through A's TAXII interface, and
	// revokes another.
	analyst := &cyberpact.User{Name: "a-analyst", Org: cisa.ID, Role: cyberpact.RoleAnalyst}
	if err := a.db.CreateUser(ctx, analyst, "cli"); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.db.CreateKey(ctx, analyst.ID, time.Time{}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("DELETE", a.root+"collections/"+collection("all")+"/objects/"+gone["id"].(string)+"/", nil)
	req.SetBasicAuth(analyst.Name, key)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the producer's DELETE at A: %d", resp.StatusCode)
	}
	rv := indicator(3, cyberpact.TLPGreen)
	rv["created_by_ref"], rv["modified"], rv["revoked"] = creator, "2026-01-03T00:00:00.000Z", true
	a.publish(cisa, all, rv)

	relay()
	for _, h := range []*hub{b, c} {
		vs := h.versions()
		if len(vs[gone["id"].(string)]) != 0 {
			t.Errorf("%s still holds the deleted object: %v", h.name, keysOf(vs))
		}
		if len(vs[stays["id"].(string)]) != 1 {
			t.Errorf("%s lost the object that was not deleted", h.name)
		}
		o, err := h.db.Object(ctx, revoked["id"].(string), nil)
		if err != nil || !o.Revoked {
			t.Errorf("%s: the revoked object = %+v, %v; want its revoked version", h.name, o, err)
		}
		if _, err := h.db.ObjectVersions(ctx, gone["id"].(string), nil); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("%s: versions of the deleted object: %v; want ENOTFOUND", h.name, err)
		}
	}

	// C's own member holds an object; B's member forges its retraction,
	// and B pushes it to C: C's object stays.
	cBank := c.org("C Bank", "JP")
	own := indicator(9, cyberpact.TLPGreen)
	own["created_by_ref"] = creator
	c.publish(cBank, all, own)
	bMember := b.org("B Member", "GB")
	forged, err := stix.Retraction(cyberpact.RetractionType+"--"+uuidOf(901), own["id"].(string), creator, cyberpact.TLPGreen, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	done := false
	res, err := b.db.Import(ctx, func() (*cyberpact.Object, error) {
		if done {
			return nil, io.EOF
		}
		done = true
		return forged, nil
	}, cyberpact.ImportOptions{Producer: bMember.ID, Audience: all})
	if err != nil || res.Added != 1 {
		t.Fatalf("B storing the forged retraction: %+v, %v", res, err)
	}
	if res := b.mustSync("c"); res.Failed != 0 || res.Pushed == 0 {
		t.Fatalf("B pushing the forged retraction: %+v", res)
	}
	if vs := c.versions(); len(vs[own["id"].(string)]) != 1 || len(vs[forged.ID]) != 0 {
		t.Errorf("C after a peer's retraction of C's own object: %v; want the object kept (and the retraction, not from its origin, not kept)", keysOf(vs))
	}
	// Every hub's audit log is whole, the deletes in it.
	for _, h := range []*hub{a, b, c} {
		if n, err := h.db.VerifyAudit(ctx); n != 0 || err != nil {
			t.Errorf("%s: VerifyAudit = %d, %v", h.name, n, err)
		}
	}
	es, err := c.db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditDelete})
	if err != nil || len(es) != 2 || !strings.Contains(es[1].Detail, "not from the object's origin") {
		t.Errorf("C's audited deletes = %+v, %v; want the retraction's one, then the forged retraction's ignored", es, err)
	}
}

// TestForgedRetractionStopsAtTheMiddleHub: B pulls A's objects and
// pushes them to C, where everything B sends is held by the one
// organisation standing for B. A member of B posts a retraction of A's
// object to B: at B it is not from the object's origin (B holds the
// object as A's), so B deletes nothing, keeps no retraction and passes
// none on; C keeps the object. A's own retraction still travels: its
// producer's delete at A reaches B and, through B, C.
func TestForgedRetractionStopsAtTheMiddleHub(t *testing.T) {
	ctx := context.Background()
	a, b, c := newHub(t, "A"), newHub(t, "B"), newHub(t, "C")
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	cisa := a.org("A CISA", "US")
	bOnA := a.org("B Hub", "GB")
	aOnB, cOnB := b.org("A Hub", "US"), b.org("C Hub", "JP")
	bOnC := c.org("B Hub", "GB")
	u, k := a.syncUser("b-sync", bOnA)
	b.peer(&cyberpact.Peer{Name: "a", URL: a.root, Collection: collection("all"), User: u, Key: k, Org: aOnB.ID, Direction: cyberpact.SyncPull, Audience: all})
	u, k = c.syncUser("b-sync", bOnC)
	b.peer(&cyberpact.Peer{Name: "c", URL: c.root, Collection: collection("all"), User: u, Key: k, Org: cOnB.ID, Direction: cyberpact.SyncPush, Audience: all})
	relay := func() {
		t.Helper()
		if res := b.mustSync("a"); res.Failed != 0 {
			t.Fatalf("B pulling from A: %+v", res)
		}
		if res := b.mustSync("c"); res.Failed != 0 {
			t.Fatalf("B pushing to C: %+v", res)
		}
	}
	creator := "identity--" + uuidOf(700)
	target, other := indicator(11, cyberpact.TLPGreen), indicator(12, cyberpact.TLPGreen)
	target["created_by_ref"], other["created_by_ref"] = creator, creator
	a.publish(cisa, all, target, other)
	relay()
	held := func(h *hub, id string) int { return len(h.versions()[id]) }
	for _, h := range []*hub{b, c} {
		if held(h, target["id"].(string)) != 1 {
			t.Fatalf("%s does not hold A's object before the forgery", h.name)
		}
	}

	// A member of B forges A's retraction and posts it to B.
	forger := b.analyst(t, "b-forger", b.org("B Member", "GB"))
	forged, err := stix.Retraction(cyberpact.RetractionType+"--"+uuidOf(701), target["id"].(string), creator, cyberpact.TLPGreen, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	json.Unmarshal(forged.Raw, &raw)
	forger.must(200, "POST", "/api/v1/bundles?audience=all", map[string]any{"type": "bundle", "id": "bundle--" + uuidOf(702), "objects": []any{raw}}, nil)
	relay()
	for _, h := range []*hub{b, c} {
		if held(h, target["id"].(string)) != 1 {
			t.Errorf("%s lost A's object to B's member's forged retraction", h.name)
		}
		if held(h, forged.ID) != 0 {
			t.Errorf("%s keeps the forged retraction, to pass on", h.name)
		}
	}
	es, err := b.db.AuditEntries(ctx, cyberpact.AuditFilter{Object: forged.ID, Action: cyberpact.AuditDelete})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Detail, "not from the object's origin") {
		t.Errorf("B's audit of the forged retraction: %+v, %v", es, err)
	}

	// A's member deletes the object at A: the real retraction travels.
	analyst := a.analyst(t, "a-analyst", cisa)
	analyst.must(200, "DELETE", "/taxii2/api1/collections/"+collection("all")+"/objects/"+target["id"].(string)+"/", nil, nil)
	relay()
	for _, h := range []*hub{b, c} {
		if held(h, target["id"].(string)) != 0 {
			t.Errorf("%s still holds the object A's producer deleted", h.name)
		}
		if held(h, other["id"].(string)) != 1 {
			t.Errorf("%s lost the object that was not deleted", h.name)
		}
	}
	for _, h := range []*hub{a, b, c} {
		if n, err := h.db.VerifyAudit(ctx); n != 0 || err != nil {
			t.Errorf("%s: VerifyAudit = %d, %v", h.name, n, err)
		}
	}
}

func keysOf(m map[string][]*cyberpact.Object) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAnonymousObjectCrossesAsTheHubs: an object published anonymously at
// A reaches B and, through B, C naming A's hub identity as its creator,
// nothing of the member that published it; its submitter's delete at A
// reaches both.
func TestAnonymousObjectCrossesAsTheHubs(t *testing.T) {
	ctx := context.Background()
	a, b, c := newHub(t, "A"), newHub(t, "B"), newHub(t, "C")
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	member := a.org("A Secret Member", "US")
	bOnA, aOnB, cOnB, bOnC := a.org("B Hub", "GB"), b.org("A Hub", "US"), b.org("C Hub", "JP"), c.org("B Hub", "GB")
	u, k := a.syncUser("b-sync", bOnA)
	b.peer(&cyberpact.Peer{Name: "a", URL: a.root, Collection: collection("all"), User: u, Key: k, Org: aOnB.ID, Direction: cyberpact.SyncPull, Audience: all})
	u, k = c.syncUser("b-sync", bOnC)
	b.peer(&cyberpact.Peer{Name: "c", URL: c.root, Collection: collection("all"), User: u, Key: k, Org: cOnB.ID, Direction: cyberpact.SyncPush, Audience: all})
	secret := "identity--" + uuidOf(600)
	ind := indicator(1, cyberpact.TLPGreen)
	ind["created_by_ref"] = secret
	hubID, err := a.db.HubIdentity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuidOf(999999998), "objects": []any{ind}})
	dec := stix.NewDecoder(bytes.NewReader(body))
	res, err := cyberpact.AnonymousImport(ctx, a.db, a.db, cyberpact.Actor{Name: "cli", Org: member.ID, Via: "cli"},
		stix.Anonymise(dec.Next, hubID), cyberpact.ImportOptions{Audience: all}, "")
	dec.Close()
	if err != nil || res.Added != 1 {
		t.Fatalf("publishing anonymously at A: %+v, %v", res, err)
	}
	b.mustSync("a")
	b.mustSync("c")
	for _, h := range []*hub{b, c} {
		o, err := h.db.Object(ctx, ind["id"].(string), nil)
		if err != nil {
			t.Fatalf("%s: %v", h.name, err)
		}
		if strings.Contains(string(o.Raw), secret) || !strings.Contains(string(o.Raw), hubID) {
			t.Errorf("%s holds %s; want A's hub identity as creator, never the member's", h.name, o.Raw)
		}
		if _, err := h.db.OrgByName(ctx, member.Name); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("%s knows an organisation named like the submitter: %v", h.name, err)
		}
	}
	// The submitter deletes it at A, as its producer may.
	analyst := &cyberpact.User{Name: "secret-analyst", Org: member.ID, Role: cyberpact.RoleAnalyst}
	if err := a.db.CreateUser(ctx, analyst, "cli"); err != nil {
		t.Fatal(err)
	}
	key, _, err := a.db.CreateKey(ctx, analyst.ID, time.Time{}, "cli")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("DELETE", a.root+"collections/"+collection("all")+"/objects/"+ind["id"].(string)+"/", nil)
	req.SetBasicAuth(analyst.Name, key)
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the submitter's DELETE at A: %d", resp.StatusCode)
	}
	b.mustSync("a")
	b.mustSync("c")
	for _, h := range []*hub{b, c} {
		if _, err := h.db.Object(ctx, ind["id"].(string), nil); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("%s after the submitter's delete: %v; want ENOTFOUND", h.name, err)
		}
	}
}
