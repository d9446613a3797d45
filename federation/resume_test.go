package federation_test

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestResume cuts a pull between pages, by the peer going away and by the
// caller's context ending, and shows that the next run loses and
// duplicates nothing.
func TestResume(t *testing.T) {
	const n = 250
	objs := make([]map[string]any, n)
	for i := range objs {
		objs[i] = indicator(1000+i, cyberpact.TLPGreen)
	}
	setup := func(t *testing.T) (wa, to *hub) {
		wa, to = newHub(t, "Washington"), newHub(t, "Tokyo")
		cisa, tokyo := wa.org("US CISA", "US"), wa.org("Tokyo Hub", "JP")
		// Several imports, so that pages straddle import boundaries
		// and share added times.
		for i := 0; i < n; i += 100 {
			wa.publish(cisa, cyberpact.Audience{Kind: cyberpact.AudienceAll}, objs[i:min(i+100, n)]...)
		}
		user, key := wa.syncUser("tokyo-sync", tokyo)
		to.peer(&cyberpact.Peer{Name: "washington", URL: wa.root, Collection: collection("all"), User: user, Key: key,
			Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: to.org("Washington Hub", "US").ID, PageSize: 40})
		return wa, to
	}
	check := func(t *testing.T, to *hub, pulled int) {
		t.Helper()
		vs := to.versions()
		if len(vs) != n {
			t.Errorf("Tokyo has %d objects, want %d", len(vs), n)
		}
		var seqs []int64
		for id, v := range vs {
			if len(v) != 1 {
				t.Errorf("Tokyo has %d versions of %s", len(v), id)
			}
			seqs = append(seqs, v[0].Seq)
		}
		origins, err := to.db.Origins(context.Background(), seqs)
		if err != nil || len(origins) != n {
			t.Errorf("%d versions with provenance, want %d (%v)", len(origins), n, err)
		}
		if pulled != n {
			t.Errorf("the runs added %d versions in all, want %d", pulled, n)
		}
	}
	t.Run("PeerCutBetweenPages", func(t *testing.T) {
		wa, to := setup(t)
		wa.setCut(func(k int64) bool { return k >= 3 }) // down until further notice
		first, err := to.sync("washington")
		if err == nil {
			t.Fatal("the cut run succeeded")
		}
		if first.Pulled != 80 {
			t.Errorf("the cut run added %d, want the two pages before the cut (80)", first.Pulled)
		}
		wa.setCut(nil)
		second := to.mustSync("washington")
		if second.Present != 0 {
			t.Errorf("the resumed run read %d versions again, want 0: it goes on with the peer's next token", second.Present)
		}
		check(t, to, first.Pulled+second.Pulled)
	})
	t.Run("ContextEndsBetweenPages", func(t *testing.T) {
		wa, to := setup(t)
		ctx, cancel := context.WithCancel(context.Background())
		wa.setCut(func(k int64) bool {
			if k == 4 {
				cancel()
			}
			return false
		})
		p, _ := to.db.PeerByName(ctx, "washington")
		first, err := to.syncer().Sync(ctx, p)
		if err == nil {
			t.Fatal("the cancelled run succeeded")
		}
		wa.setCut(nil)
		second := to.mustSync("washington")
		check(t, to, first.Pulled+second.Pulled)
	})
	t.Run("CursorLostBeforeItWasSavedReadsPagesAgainAsPresent", func(t *testing.T) {
		// A crash between a page's commit and the cursor's save: the
		// page is read again and found already present.
		_, to := setup(t)
		first := to.mustSync("washington")
		p, _ := to.db.PeerByName(context.Background(), "washington")
		st, _ := to.db.PeerState(context.Background(), p.ID)
		st.PullAddedAfter, st.PullNext = "", ""
		if err := to.db.SavePeerState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		second := to.mustSync("washington")
		if second.Pulled != 0 || second.Present != n {
			t.Errorf("replay: %+v, want all %d present and none added", second, n)
		}
		check(t, to, first.Pulled)
	})
	t.Run("RefusedNextTokenRestartsTheRun", func(t *testing.T) {
		_, to := setup(t)
		p, _ := to.db.PeerByName(context.Background(), "washington")
		st, _ := to.db.PeerState(context.Background(), p.ID)
		st.PullNext = "not-a-token"
		if err := to.db.SavePeerState(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		res := to.mustSync("washington")
		check(t, to, res.Pulled)
	})
}
