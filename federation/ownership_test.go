package federation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestPullOfAnIDHeldOutOfSight is federation's row of the write-path
// matrix (issue 14, findings 1 and 2): a pull of an id that a local
// organisation holds out of the peer's sight is stored as the peer's own
// holding, counted as a fresh one would be, and changes nothing the local
// holder sees; a pull of an id a local organisation shares with the peer
// is refused and kept as a failure, so a peer never rewrites or revokes a
// local member's object.
func TestPullOfAnIDHeldOutOfSight(t *testing.T) {
	ctx := context.Background()
	wa, to := newHub(t, "Washington"), newHub(t, "Tokyo")
	cisa, tokyo := wa.org("US CISA", "US"), wa.org("Tokyo Hub", "JP")
	nisc, bank := to.org("JP NISC", "JP"), to.org("JP Bank", "JP")
	waOrg := to.org("Washington Hub", "US")

	private, fresh := indicator(1, cyberpact.TLPGreen), indicator(3, cyberpact.TLPGreen)
	mine := indicator(1, cyberpact.TLPGreen)
	mine["name"] = "NISC's own, kept to itself"
	to.publish(nisc, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, mine)
	ours := indicator(2, cyberpact.TLPGreen)
	ours["name"] = "NISC's, shared with every member"
	to.publish(nisc, cyberpact.Audience{Kind: cyberpact.AudienceAll}, ours)
	revoked := indicator(2, cyberpact.TLPGreen)
	revoked["modified"], revoked["revoked"] = "2026-02-01T00:00:00.000Z", true
	wa.publish(cisa, cyberpact.Audience{Kind: cyberpact.AudienceAll}, private, revoked, fresh)

	user, key := wa.syncUser("tokyo-sync", tokyo)
	to.peer(&cyberpact.Peer{Name: "washington", URL: wa.root, Collection: collection("all"), User: user, Key: key, Org: waOrg.ID,
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}})
	nv := cyberpact.Viewer{Org: nisc.ID}
	before, err := to.db.Object(ctx, private["id"].(string), &nv)
	if err != nil {
		t.Fatal(err)
	}
	res := to.mustSync("washington")
	if res.Pulled != 2 || res.Failed != 1 {
		t.Fatalf("sync: %+v; want the hidden id and the fresh one pulled, the revocation of NISC's shared indicator refused", res)
	}
	after, err := to.db.Object(ctx, private["id"].(string), &nv)
	if err != nil || string(after.Raw) != string(before.Raw) || after.Release != before.Release {
		t.Errorf("NISC's view of its own indicator changed: %v %s", err, after.Raw)
	}
	bv := cyberpact.Viewer{Org: bank.ID}
	if got, err := to.db.Object(ctx, private["id"].(string), &bv); err != nil || got.Release.Producer != waOrg.ID {
		t.Errorf("the bank sees %+v, %v; want Washington's copy, the only one it may see", got, err)
	}
	for _, v := range []cyberpact.Viewer{nv, bv} {
		got, err := to.db.Object(ctx, ours["id"].(string), &v)
		if err != nil || got.Revoked || got.Release.Producer != nisc.ID {
			t.Errorf("org %d sees NISC's shared indicator as %+v, %v: a peer revoked a local member's object", v.Org, got, err)
		}
	}
}

// TestTriangleKeepsOneHolding is the triangle of issue 14: Tokyo pulls
// from Washington directly and from London, which pulls from Washington
// too. An object made in Washington reaches Tokyo by both paths and keeps
// one holding there, whatever path brings each version first: no
// refusals, no second copy.
func TestTriangleKeepsOneHolding(t *testing.T) {
	ctx := context.Background()
	wa, lo, to := newHub(t, "Washington"), newHub(t, "London"), newHub(t, "Tokyo")
	cisa := wa.org("US CISA", "US")
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}

	londonOnWa, tokyoOnWa := wa.org("London Hub", "GB"), wa.org("Tokyo Hub", "JP")
	tokyoOnLo := lo.org("Tokyo Hub", "JP")
	waOnLo := lo.org("Washington Hub", "US")
	waOnTo, loOnTo := to.org("Washington Hub", "US"), to.org("London Hub", "GB")
	u, k := wa.syncUser("london-sync", londonOnWa)
	lo.peer(&cyberpact.Peer{Name: "washington", URL: wa.root, Collection: collection("all"), User: u, Key: k, Org: waOnLo.ID, Direction: cyberpact.SyncPull, Audience: all})
	u, k = wa.syncUser("tokyo-sync", tokyoOnWa)
	to.peer(&cyberpact.Peer{Name: "washington", URL: wa.root, Collection: collection("all"), User: u, Key: k, Org: waOnTo.ID, Direction: cyberpact.SyncPull, Audience: all})
	u, k = lo.syncUser("tokyo-sync", tokyoOnLo)
	to.peer(&cyberpact.Peer{Name: "london", URL: lo.root, Collection: collection("all"), User: u, Key: k, Org: loOnTo.ID, Direction: cyberpact.SyncPull, Audience: all})

	version := func(day int) map[string]any {
		o := indicator(7, cyberpact.TLPGreen)
		o["created_by_ref"] = "identity--" + uuidOf(77)
		o["modified"] = fmt.Sprintf("2026-01-%02dT00:00:00.000Z", day)
		return o
	}
	id := version(2)["id"].(string)
	sync := func(h *hub, peer string) {
		t.Helper()
		if res := h.mustSync(peer); res.Failed != 0 {
			t.Fatalf("%s: sync %s: %+v, want no failures", h.name, peer, res)
		}
	}
	// Version 1 reaches Tokyo through London first, then directly.
	wa.publish(cisa, all, version(2))
	sync(lo, "washington")
	sync(to, "london")
	sync(to, "washington")
	// Version 2 through London first again; version 3 directly first.
	wa.publish(cisa, all, version(3))
	sync(lo, "washington")
	sync(to, "london")
	sync(to, "washington")
	wa.publish(cisa, all, version(4))
	sync(to, "washington")
	sync(lo, "washington")
	sync(to, "london")

	vs := to.versions()[id]
	if len(vs) != 3 {
		t.Fatalf("Tokyo holds %d versions of the object, want 3", len(vs))
	}
	for _, v := range vs {
		if v.Holding != vs[0].Holding || v.Release.Producer != vs[0].Release.Producer {
			t.Errorf("version %s in holding %d by %d, want every version in holding %d by %d", v.Modified, v.Holding, v.Release.Producer, vs[0].Holding, vs[0].Release.Producer)
		}
	}
	bank := to.org("JP Bank", "JP")
	bv := cyberpact.Viewer{Org: bank.ID}
	got, err := to.db.Object(ctx, id, &bv)
	if err != nil || got.Modified != "2026-01-04T00:00:00.000000000Z" {
		t.Errorf("a Tokyo member sees %+v, %v; want the third version", got, err)
	}
}
