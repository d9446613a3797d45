package federation_test

import (
	"context"
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
