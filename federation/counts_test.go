package federation_test

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// TestSyncCountsWithheldByDirectionAndThePeersOwn (issue 16): a run says
// how many versions the sharing rule kept from crossing on the pull and
// on the push, apart, and how many it did not push because the peer's own
// organisation produced them (what was pulled from it, and what it added
// here through its account); peer status keeps the same counts.
func TestSyncCountsWithheldByDirectionAndThePeersOwn(t *testing.T) {
	p := newPartnership(t)
	waCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.waCell.ID}
	loCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.loCell.ID}
	// Washington's cell: GREEN and AMBER cross to London's cell, AMBER+STRICT
	// never leaves.
	p.wa.publish(p.waCISA, waCell, indicator(1, cyberpact.TLPGreen), indicator(2, cyberpact.TLPAmber), indicator(3, cyberpact.TLPAmberStrict))
	// London's cell: GREEN goes to Washington, RED never leaves, and what
	// Washington's organisation added here is its own.
	p.lo.publish(p.loNCSC, loCell, indicator(101, cyberpact.TLPGreen), indicator(102, cyberpact.TLPRed))
	p.lo.publish(p.loWashington, loCell, indicator(103, cyberpact.TLPGreen))

	type counts struct{ Pulled, WithheldPull, Pushed, WithheldPush, PeerOwn, Withheld int }
	res := p.lo.mustSync("washington-cell")
	got := counts{res.Pulled, res.WithheldPull, res.Pushed, res.WithheldPush, res.PeerOwn, res.Withheld}
	// Pulled 1 and 2; withheld on pull 3; pushed 101; withheld on push
	// 102; the peer's own: 103 and the two pulled.
	want := counts{Pulled: 2, WithheldPull: 1, Pushed: 1, WithheldPush: 1, PeerOwn: 3, Withheld: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sync washington-cell (-want +got):\n%s", diff)
	}
	st, err := p.lo.db.PeerState(context.Background(), peerID(t, p.lo, "washington-cell"))
	if err != nil {
		t.Fatal(err)
	}
	state := counts{int(st.Pulled), int(st.WithheldPull), int(st.Pushed), int(st.WithheldPush), int(st.PeerOwn), int(st.Withheld)}
	if diff := cmp.Diff(want, state); diff != "" {
		t.Errorf("peer state after the run (-want +got):\n%s", diff)
	}

	// Washington's all-members collection to London's all members: AMBER
	// is withheld on the pull; a pull-only peer pushes nothing.
	p.wa.publish(p.waCISA, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(4, cyberpact.TLPGreen), indicator(5, cyberpact.TLPAmber))
	res = p.lo.mustSync("washington-all")
	got = counts{res.Pulled, res.WithheldPull, res.Pushed, res.WithheldPush, res.PeerOwn, res.Withheld}
	if diff := cmp.Diff(counts{Pulled: 1, WithheldPull: 1, Withheld: 1}, got); diff != "" {
		t.Errorf("sync washington-all (-want +got):\n%s", diff)
	}
}

func peerID(t *testing.T, h *hub, name string) int64 {
	t.Helper()
	p, err := h.db.PeerByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}
