package federation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// partnership is three hubs on loopback: Washington shares a group, the
// US-UK Cell, with London; Tokyo is in no group with either. Each hub has
// an organisation that stands for each hub it links to, whose sync
// account that hub uses.
type partnership struct {
	wa, lo, to *hub

	waCISA, waLondon, waTokyo *cyberpact.Org
	waCell                    *cyberpact.Group
	loNCSC, loWashington      *cyberpact.Org
	loCell                    *cyberpact.Group
	toNISC, toWashington      *cyberpact.Org
}

func newPartnership(t *testing.T) *partnership {
	p := &partnership{wa: newHub(t, "Washington"), lo: newHub(t, "London"), to: newHub(t, "Tokyo")}
	p.waCISA, p.waLondon, p.waTokyo = p.wa.org("US CISA", "US"), p.wa.org("London Hub", "GB"), p.wa.org("Tokyo Hub", "JP")
	p.waCell = p.wa.group("US-UK Cell", p.waCISA, p.waLondon)
	p.loNCSC, p.loWashington = p.lo.org("UK NCSC", "GB"), p.lo.org("Washington Hub", "US")
	p.loCell = p.lo.group("US-UK Cell", p.loNCSC, p.loWashington)
	p.toNISC, p.toWashington = p.to.org("JP NISC", "JP"), p.to.org("Washington Hub", "US")

	// London reads Washington's cell collection (and writes its own cell
	// objects there) and Washington's all-members collection.
	user, key := p.wa.syncUser("london-sync", p.waLondon)
	p.lo.peer(&cyberpact.Peer{Name: "washington-cell", URL: p.wa.root, Collection: groupCollection(p.waCell), User: user, Key: key,
		Direction: cyberpact.SyncBoth, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.loCell.ID}, Org: p.loWashington.ID, PageSize: 3})
	p.lo.peer(&cyberpact.Peer{Name: "washington-all", URL: p.wa.root, Collection: collection("all"), User: user, Key: key,
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: p.loWashington.ID})
	// Tokyo reads Washington's all-members collection, with a Bearer key.
	_, key = p.wa.syncUser("tokyo-sync", p.waTokyo)
	p.to.peer(&cyberpact.Peer{Name: "washington", URL: p.wa.root, Collection: collection("all"), Key: key,
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: p.toWashington.ID, PageSize: 2})
	return p
}

// TestThreeHubs shows what crosses between Washington, London and Tokyo
// and what never does.
func TestThreeHubs(t *testing.T) {
	p := newPartnership(t)
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	waCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.waCell.ID}
	var (
		allClear  = indicator(1, cyberpact.TLPClear)
		allGreen  = indicator(2, cyberpact.TLPGreen)
		allAmber  = indicator(3, cyberpact.TLPUnknown) // unmarked: AMBER
		cellGreen = indicator(4, cyberpact.TLPGreen)
		cellAmber = indicator(5, cyberpact.TLPAmber)
		cellStrct = indicator(6, cyberpact.TLPAmberStrict)
		cellRed   = indicator(7, cyberpact.TLPRed)
		ownGreen  = indicator(8, cyberpact.TLPGreen)
	)
	p.wa.publish(p.waCISA, all, allClear, allGreen, allAmber)
	p.wa.publish(p.waCISA, waCell, cellGreen, cellAmber, cellStrct, cellRed)
	p.wa.publish(p.waCISA, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, ownGreen)

	loCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.loCell.ID}
	var (
		loCellGreen = indicator(101, cyberpact.TLPGreen)
		loCellAmber = indicator(102, cyberpact.TLPAmber)
		loCellRed   = indicator(103, cyberpact.TLPRed)
		loAllGreen  = indicator(104, cyberpact.TLPGreen)
		loAllAmber  = indicator(105, cyberpact.TLPAmber)
	)
	p.lo.publish(p.loNCSC, loCell, loCellGreen, loCellAmber, loCellRed)
	p.lo.publish(p.loNCSC, all, loAllGreen, loAllAmber)

	p.lo.mustSync("washington-cell")
	p.lo.mustSync("washington-all")
	p.to.mustSync("washington")

	has := func(h *hub, objs ...map[string]any) {
		t.Helper()
		vs := h.versions()
		for _, id := range ids(objs...) {
			if len(vs[id]) != 1 {
				t.Errorf("%s has %d versions of %s, want 1", h.name, len(vs[id]), id)
			}
		}
	}
	hasNot := func(h *hub, objs ...map[string]any) {
		t.Helper()
		vs := h.versions()
		for _, id := range ids(objs...) {
			if len(vs[id]) != 0 {
				t.Errorf("%s received %s (TLP %s, audience %s), which it may not", h.name, id, vs[id][0].Release.TLP, vs[id][0].Release.Audience)
			}
		}
	}

	t.Run("LondonReceivesTheCellAndAllMembersGreen", func(t *testing.T) {
		has(p.lo, allClear, allGreen, cellGreen, cellAmber)
		vs := p.lo.versions()
		for _, o := range []map[string]any{cellGreen, cellAmber} {
			r := vs[o["id"].(string)][0].Release
			if r.Audience != loCell || r.Producer != p.loWashington.ID {
				t.Errorf("%s released in London as %+v, want the cell, produced by Washington Hub", o["id"], r)
			}
		}
		if r := vs[allGreen["id"].(string)][0].Release; r.Audience != all || r.Producer != p.loWashington.ID {
			t.Errorf("all-members green released in London as %+v", r)
		}
	})
	t.Run("TokyoReceivesOnlyAllMembersClearAndGreen", func(t *testing.T) {
		has(p.to, allClear, allGreen)
		hasNot(p.to, cellGreen, cellAmber)
	})
	t.Run("RedAndAmberStrictNeverCross", func(t *testing.T) {
		hasNot(p.lo, cellStrct, cellRed)
		hasNot(p.to, cellStrct, cellRed)
		if n := p.wa.postedIDs()[loCellRed["id"].(string)]; n != 0 {
			t.Errorf("London pushed its TLP:RED object to Washington %d times", n)
		}
		has(p.wa, loCellGreen, loCellAmber)
		hasNot(p.wa, loCellRed, loAllAmber)
	})
	t.Run("AmberForAllMembersStaysHome", func(t *testing.T) {
		hasNot(p.lo, allAmber)
		hasNot(p.to, allAmber)
	})
	t.Run("PrivateObjectsNeverLeave", func(t *testing.T) {
		hasNot(p.lo, ownGreen)
		hasNot(p.to, ownGreen)
	})
	t.Run("LondonPushesItsOwnCellObjectsToWashingtonsCell", func(t *testing.T) {
		vs := p.wa.versions()
		for _, o := range []map[string]any{loCellGreen, loCellAmber, loAllGreen} {
			got := vs[o["id"].(string)]
			if len(got) != 1 || got[0].Release.Audience != waCell || got[0].Release.Producer != p.waLondon.ID {
				t.Errorf("%s in Washington: %d versions, release %+v; want one for the cell, produced by London Hub", o["id"], len(got), got)
			}
		}
	})
	t.Run("NothingEchoesBackToItsOrigin", func(t *testing.T) {
		posted := p.wa.postedIDs()
		for _, id := range ids(allClear, allGreen, cellGreen, cellAmber) {
			if posted[id] != 0 {
				t.Errorf("London pushed %s, which came from Washington, back to it", id)
			}
		}
		// What London pushed comes back in its next pull of the cell as
		// already present: London keeps its own version, made by UK NCSC.
		res := p.lo.mustSync("washington-cell")
		if res.Pulled != 0 || res.Pushed != 0 {
			t.Errorf("second sync: %+v, want nothing pulled or pushed", res)
		}
		vs := p.lo.versions()
		for _, id := range ids(loCellGreen, loCellAmber) {
			if len(vs[id]) != 1 || vs[id][0].Release.Producer != p.loNCSC.ID {
				t.Errorf("London's own %s: %+v", id, vs[id])
			}
		}
	})
	t.Run("EverySyncedVersionKeepsItsProvenance", func(t *testing.T) {
		vs := p.to.versions()
		var seqs []int64
		for _, id := range ids(allClear, allGreen) {
			seqs = append(seqs, vs[id][0].Seq)
		}
		origins, err := p.to.db.Origins(context.Background(), seqs)
		if err != nil {
			t.Fatal(err)
		}
		for _, seq := range seqs {
			o := origins[seq]
			if o == nil || o.Peer != "washington" || o.URL != p.wa.root || o.Collection != collection("all") || o.Synced.IsZero() {
				t.Errorf("provenance of seq %d: %+v", seq, o)
			}
		}
	})
	t.Run("SyncWithNothingNewIsOneSmallRequest", func(t *testing.T) {
		before := p.wa.requests.Load()
		res := p.to.mustSync("washington")
		if got := p.wa.requests.Load() - before; got != 1 || res.Requests != 1 {
			t.Errorf("Washington received %d requests (result says %d), want 1", got, res.Requests)
		}
		if res.Pulled != 0 || res.Present != 0 {
			t.Errorf("nothing new, yet %+v", res)
		}
	})
	t.Run("StatusShowsTheLastSuccess", func(t *testing.T) {
		pe, _ := p.to.db.PeerByName(context.Background(), "washington")
		st, err := p.to.db.PeerState(context.Background(), pe.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastSuccess.IsZero() || st.LastError != "" || st.Pulled != 2 || st.PullAddedAfter == "" || st.PullNext != "" {
			t.Errorf("state %+v", st)
		}
		if st.Withheld == 0 {
			t.Errorf("state %+v: the AMBER object for all members should count as withheld", st)
		}
	})
	t.Run("AWrongKeyIsAClearError", func(t *testing.T) {
		p.to.peer(&cyberpact.Peer{Name: "washington-bad", URL: p.wa.root, Collection: collection("all"), Key: "not-a-key",
			Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}})
		_, err := p.to.sync("washington-bad")
		if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "washington-bad") {
			t.Fatalf("sync with a wrong key: %v", err)
		}
		pe, _ := p.to.db.PeerByName(context.Background(), "washington-bad")
		st, _ := p.to.db.PeerState(context.Background(), pe.ID)
		if st.Failures != 1 || st.LastError == "" || !st.LastSuccess.IsZero() {
			t.Errorf("state after a failed run: %+v", st)
		}
	})
}
