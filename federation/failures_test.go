package federation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestFailedObjectsAreKeptAndRetried shows a version refused at import (a
// conflict with what Tokyo holds in the same holding: the peer has no
// organisation of its own, so its objects are the hub's) recorded with its reason while the rest
// crosses, tried again on each run, and cleared once it goes through.
func TestFailedObjectsAreKeptAndRetried(t *testing.T) {
	ctx := context.Background()
	wa, to := newHub(t, "Washington"), newHub(t, "Tokyo")
	cisa, tokyo := wa.org("US CISA", "US"), wa.org("Tokyo Hub", "JP")
	nisc := to.org("JP NISC", "JP")
	good, clash := indicator(1, cyberpact.TLPGreen), indicator(2, cyberpact.TLPGreen)
	wa.publish(cisa, cyberpact.Audience{Kind: cyberpact.AudienceAll}, good, clash)
	local := indicator(2, cyberpact.TLPGreen)
	local["name"] = "the same version, different content"
	to.publish(&cyberpact.Org{}, cyberpact.Audience{Kind: cyberpact.AudienceAll}, local)
	to.publish(nisc, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(3, cyberpact.TLPGreen))
	user, key := wa.syncUser("tokyo-sync", tokyo)
	p := to.peer(&cyberpact.Peer{Name: "washington", URL: wa.root, Collection: collection("all"), User: user, Key: key,
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}})

	res := to.mustSync("washington")
	if res.Pulled != 1 || res.Failed != 1 {
		t.Fatalf("first run: %+v, want one pulled and one failed", res)
	}
	fs, _ := to.db.Failures(ctx, p.ID)
	if len(fs) != 1 || fs[0].ObjectID != clash["id"] || !strings.Contains(fs[0].Reason, "conflict") || fs[0].Attempts != 1 {
		t.Fatalf("failures %+v", fs)
	}
	res = to.mustSync("washington")
	fs, _ = to.db.Failures(ctx, p.ID)
	if res.Requests != 2 || len(fs) != 1 || fs[0].Attempts != 2 {
		t.Fatalf("second run %+v: failures %+v; want the page read and the failure asked for again", res, fs)
	}
	if _, err := to.db.DeleteObject(ctx, clash["id"].(string), cyberpact.ObjectFilter{}); err != nil {
		t.Fatal(err)
	}
	res = to.mustSync("washington")
	fs, _ = to.db.Failures(ctx, p.ID)
	if res.Pulled != 1 || res.Retried != 1 || len(fs) != 0 {
		t.Fatalf("third run %+v, failures %+v: want the retry to go through and be cleared", res, fs)
	}
	if v := to.versions()[clash["id"].(string)]; len(v) != 1 || v[0].Release.Producer != 0 {
		t.Errorf("Tokyo's copy: %+v", v)
	}
}
