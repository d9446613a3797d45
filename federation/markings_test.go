package federation_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// oddMarking is one way of writing TLP:RED or TLP:AMBER+STRICT on an
// object that is otherwise TLP:CLEAR, so that a misread level would let it
// cross every border. valid says whether the identifiers are valid STIX
// (an upper-case type prefix is not), that is whether a hub stores it at
// all.
type oddMarking struct {
	name     string
	level    cyberpact.TLP
	refs     []string
	granular string // a marking_ref of granular_markings, or none
	valid    bool
}

// upperUUID writes a marking id with its UUID in upper case.
func upperUUID(id string) string {
	i := strings.Index(id, "--") + 2
	return id[:i] + strings.ToUpper(id[i:])
}

// mixedUUID writes a marking id with every other letter of its UUID in
// upper case.
func mixedUUID(id string) string {
	i := strings.Index(id, "--") + 2
	b := []byte(id)
	for j := i; j < len(b); j += 2 {
		if b[j] >= 'a' && b[j] <= 'f' {
			b[j] -= 'a' - 'A'
		}
	}
	return string(b)
}

const tlp1Red = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

// oddMarkings lists every spelling of RED and AMBER+STRICT: lower case,
// upper case, mixed case, entirely upper case, and as a granular marking in
// lower and upper case; RED also by its TLP 1.0 id.
func oddMarkings() []oddMarking {
	clear := tlpMarking[cyberpact.TLPClear]
	var out []oddMarking
	for _, lv := range []struct {
		name  string
		level cyberpact.TLP
		ids   []string
	}{
		{"Red", cyberpact.TLPRed, []string{tlpMarking[cyberpact.TLPRed], tlp1Red}},
		{"AmberStrict", cyberpact.TLPAmberStrict, []string{tlpMarking[cyberpact.TLPAmberStrict]}},
	} {
		for k, id := range lv.ids {
			name := lv.name
			if k > 0 {
				name += "TLP1"
			}
			out = append(out,
				oddMarking{name + "Lower", lv.level, []string{clear, id}, "", true},
				oddMarking{name + "UpperCase", lv.level, []string{clear, upperUUID(id)}, "", true},
				oddMarking{name + "MixedCase", lv.level, []string{mixedUUID(id), clear}, "", true},
				oddMarking{name + "AllUpperCase", lv.level, []string{clear, strings.ToUpper(id)}, "", false},
				oddMarking{name + "Granular", lv.level, []string{clear}, id, true},
				oddMarking{name + "GranularUpperCase", lv.level, []string{clear}, upperUUID(id), true},
			)
		}
	}
	return out
}

// object returns indicator n marked this way.
func (m oddMarking) object(n int) map[string]any {
	o := indicator(n, cyberpact.TLPUnknown)
	o["description"] = "seen at the ministry (" + m.name + ")"
	o["object_marking_refs"] = m.refs
	if m.granular != "" {
		o["granular_markings"] = []map[string]any{{"marking_ref": m.granular, "selectors": []string{"description"}}}
	}
	return o
}

// fakePeer is a TAXII server on loopback that serves the same page of
// objects from every collection, as a peer that is not a cyberpact hub
// (or one that misreads markings) might.
type fakePeer struct {
	root  string
	reads atomic.Int64
}

func newFakePeer(t *testing.T, objs ...map[string]any) *fakePeer {
	t.Helper()
	body, err := json.Marshal(map[string]any{"more": false, "objects": objs})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakePeer{root: "http://" + ln.Addr().String() + "/taxii2/api1/"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/objects/") {
			http.NotFound(w, r)
			return
		}
		f.reads.Add(1)
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		w.Header().Set("X-TAXII-Date-Added-First", "2026-01-03T00:00:00.000Z")
		w.Header().Set("X-TAXII-Date-Added-Last", "2026-01-03T00:00:00.000Z")
		w.Write(body)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

// TestOddMarkingsNeverCross shows TLP:RED and TLP:AMBER+STRICT, in every
// spelling, kept from every federation path: not pushed to a peer, not
// pulled (least of all into an all-members audience), and not relayed from
// one peer to another. A plain TLP:GREEN object beside them crosses each
// time, to show the path was open.
func TestOddMarkingsNeverCross(t *testing.T) {
	odd := oddMarkings()
	var valid int
	for _, m := range odd {
		if m.valid {
			valid++
		}
	}
	// objects returns the odd objects pick chooses, numbered from base,
	// and their markings by id.
	objects := func(base int, pick func(oddMarking) bool) (objs []map[string]any, marks map[string]oddMarking) {
		marks = map[string]oddMarking{}
		for i, m := range odd {
			if pick(m) {
				o := m.object(base + i)
				objs = append(objs, o)
				marks[o["id"].(string)] = m
			}
		}
		return objs, marks
	}
	validOnly := func(m oddMarking) bool { return m.valid }
	every := func(oddMarking) bool { return true }
	// none checks that h holds none of the odd objects, and that it holds
	// the control object.
	none := func(t *testing.T, h *hub, marks map[string]oddMarking, control map[string]any) {
		t.Helper()
		vs := h.versions()
		for id, m := range marks {
			if v := vs[id]; len(v) > 0 {
				t.Errorf("%s holds %s (%s) released as %+v", h.name, id, m.name, v[0].Release)
			}
		}
		if len(vs[control["id"].(string)]) != 1 {
			t.Errorf("%s does not hold the TLP:GREEN control object: the path was not open", h.name)
		}
	}
	notPosted := func(t *testing.T, h *hub, marks map[string]oddMarking) {
		t.Helper()
		posted := h.postedIDs()
		for id, m := range marks {
			if posted[id] > 0 {
				t.Errorf("%s was sent %s (%s)", h.name, id, m.name)
			}
		}
	}

	t.Run("NotPushed", func(t *testing.T) {
		p := newPartnership(t)
		loCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.loCell.ID}
		objs, names := objects(1000, validOnly)
		control := indicator(1999, cyberpact.TLPGreen)
		// Stored in London for the cell, which London pushes to
		// Washington's cell, at the level each spelling stands for.
		p.lo.publish(p.loNCSC, loCell, append(objs, control)...)
		vs := p.lo.versions()
		for id, m := range names {
			if got := vs[id][0].Release.TLP; got != m.level {
				t.Errorf("London stored %s (%s) at %s, want %s", id, m.name, got, m.level)
			}
		}
		res := p.lo.mustSync("washington-cell")
		if res.Withheld < len(objs) {
			t.Errorf("push withheld %d versions, want at least the %d odd ones", res.Withheld, len(objs))
		}
		notPosted(t, p.wa, names)
		none(t, p.wa, names, control)
	})

	t.Run("NotPulledFromAHub", func(t *testing.T) {
		// Washington holds the odd objects for the cell (RED may go to
		// one group) and AMBER+STRICT for all members too; London reads
		// both collections.
		p := newPartnership(t)
		waCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.waCell.ID}
		cellObjs, cellNames := objects(2000, validOnly)
		allObjs, allNames := objects(3000, func(m oddMarking) bool { return m.valid && m.level == cyberpact.TLPAmberStrict })
		control := indicator(2999, cyberpact.TLPGreen)
		p.wa.publish(p.waCISA, waCell, cellObjs...)
		p.wa.publish(p.waCISA, cyberpact.Audience{Kind: cyberpact.AudienceAll}, append(allObjs, control)...)
		p.lo.mustSync("washington-cell")
		p.lo.mustSync("washington-all")
		none(t, p.lo, cellNames, control)
		none(t, p.lo, allNames, control)
	})

	t.Run("NotPulledIntoAllMembers", func(t *testing.T) {
		// A peer that serves RED and AMBER+STRICT, however written, in
		// a collection this hub stores for all members.
		objs, names := objects(4000, every)
		control := indicator(4999, cyberpact.TLPGreen)
		peer := newFakePeer(t, append(objs, control)...)
		h := newHub(t, "Ottawa")
		h.peer(&cyberpact.Peer{Name: "careless", URL: peer.root, Collection: "careless-collection", Key: "k",
			Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: h.org("Careless Hub", "CA").ID})
		res := h.mustSync("careless")
		if peer.reads.Load() == 0 {
			t.Fatal("the peer was never read")
		}
		none(t, h, names, control)
		// The valid ones are withheld by the border rule; the others are
		// refused as invalid STIX, with their reason kept.
		if res.Withheld != valid || res.Failed != len(odd)-valid || res.Pulled != 1 {
			t.Errorf("pull %+v, want %d withheld, %d failed and the control pulled", res, valid, len(odd)-valid)
		}
		pe, err := h.db.PeerByName(context.Background(), "careless")
		if err != nil {
			t.Fatal(err)
		}
		st, err := h.db.PeerState(context.Background(), pe.ID)
		if err != nil || st.Withheld != int64(valid) || st.Pulled != 1 || st.LastSuccess.IsZero() {
			t.Errorf("peer status %+v (%v), want %d withheld and one pulled", st, err, valid)
		}
		fs, err := h.db.Failures(context.Background(), pe.ID)
		if err != nil || len(fs) != len(odd)-valid {
			t.Fatalf("failures %+v (%v), want the %d invalid ones", fs, err, len(odd)-valid)
		}
		for _, f := range fs {
			if !strings.Contains(f.Reason, "object_marking_refs") {
				t.Errorf("failure of %s does not say where: %s", f.ObjectID, f.Reason)
			}
		}
	})

	t.Run("NotRelayed", func(t *testing.T) {
		// Winnipeg pulls a careless peer's cell collection into its own
		// cell, which it pushes on to Ottawa's.
		objs, names := objects(5000, every)
		control := indicator(5999, cyberpact.TLPGreen)
		peer := newFakePeer(t, append(objs, control)...)
		wi, ot := newHub(t, "Winnipeg"), newHub(t, "Ottawa")
		otWinnipeg := ot.org("Winnipeg Hub", "CA")
		otCell := ot.group("Prairie Cell", ot.org("CCCS", "CA"), otWinnipeg)
		user, key := ot.syncUser("winnipeg-sync", otWinnipeg)
		wiCareless, wiOttawa := wi.org("Careless Hub", "CA"), wi.org("Ottawa Hub", "CA")
		wiCell := wi.group("Prairie Cell", wi.org("MB Gov", "CA"), wiCareless, wiOttawa)
		cell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: wiCell.ID}
		wi.peer(&cyberpact.Peer{Name: "careless", URL: peer.root, Collection: "careless-cell", Key: "k",
			Direction: cyberpact.SyncPull, Audience: cell, Org: wiCareless.ID})
		wi.peer(&cyberpact.Peer{Name: "ottawa", URL: ot.root, Collection: groupCollection(otCell), User: user, Key: key,
			Direction: cyberpact.SyncPush, Audience: cell, Org: wiOttawa.ID})
		wi.mustSync("careless")
		wi.mustSync("ottawa")
		none(t, wi, names, control)
		notPosted(t, ot, names)
		none(t, ot, names, control)
	})
}
