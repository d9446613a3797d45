package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/google/go-cmp/cmp"
)

// aheadHub is a server over five indicators of A shared with all members
// and five shared with group G (A and B), read by B in pages of two.
type aheadHub struct {
	db     *sqlite.DB
	srv    *cphttp.Server
	base   string
	a, b   *member
	c      *cyberpact.Org
	g      *cyberpact.Group
	all    string // the objects URL of the all-members collection
	groupG string // and of G's
}

func newAheadHub(t *testing.T) *aheadHub {
	t.Helper()
	db := openDB(t)
	orgA, orgB, orgC := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	g := mkGroup(t, db, "G", orgA, orgB)
	h := &aheadHub{db: db, a: mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst), b: mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst), c: orgC, g: g}
	for i := 1; i <= 5; i++ {
		importAs(t, db, cyberpact.Release{Producer: orgA.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}, indicator(i, 1))
		importAs(t, db, cyberpact.Release{Producer: orgA.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, TLP: cyberpact.TLPAmber}, indicator(100+i, 1))
	}
	h.srv, h.base = serve(t, db, nil)
	h.all = "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	h.groupG = "/taxii2/api1/collections/" + cphttp.CollectionID("group:"+strconv.FormatInt(g.ID, 10)) + "/objects/"
	return h
}

// aheadAnswer is one answer as a client receives it.
type aheadAnswer struct {
	Status int
	Header http.Header // those the server sets, Date left out
	Body   string
}

func (a aheadAnswer) envelope(t *testing.T) envelopeAnswer {
	t.Helper()
	var e envelopeAnswer
	if err := json.Unmarshal([]byte(a.Body), &e); err != nil {
		t.Fatalf("%v: %s", err, a.Body)
	}
	return e
}

func (a aheadAnswer) ids(t *testing.T) []string {
	var ids []string
	for _, o := range a.envelope(t).Objects {
		ids = append(ids, o["id"].(string))
	}
	return ids
}

// get asks for path as m, with the cursor next when not "", and waits
// until nothing is being read ahead.
func (h *aheadHub) get(t *testing.T, m *member, path, next string) aheadAnswer {
	t.Helper()
	u := h.base + path + "?limit=2"
	if strings.Contains(path, "?") {
		u = h.base + path + "&limit=2"
	}
	if next != "" {
		u += "&next=" + url.QueryEscape(next)
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth(m.user.Name, m.key)
	req.Header.Set("Accept", taxiiType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	cphttp.WaitReadAhead(h.srv)
	hdr := resp.Header.Clone()
	hdr.Del("Date")
	return aheadAnswer{resp.StatusCode, hdr, string(body)}
}

// counts returns the read-ahead outcomes so far.
func (h *aheadHub) counts() map[string]int {
	out := map[string]int{}
	for _, o := range []string{"served", "changed", "dropped", "evicted", "expired"} {
		out[o] = cphttp.ReadAheadCount(h.srv, o)
	}
	return out
}

// storeIDs is the store's own read for B of the collection of audience:
// the ids of the versions B may see there, in order.
func (h *aheadHub) storeIDs(t *testing.T, aud cyberpact.Audience) []string {
	t.Helper()
	v := h.b.p.Viewer()
	var ids []string
	err := h.db.EachObject(context.Background(), cyberpact.ObjectFilter{Viewer: &v, Audience: &aud}, func(o *cyberpact.Object) error {
		ids = append(ids, o.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestTAXIIReadAhead checks that a page read ahead is served only when
// nothing was committed since it was read, and then is byte for byte the
// answer a read now gives; that a commit of any kind in between (a
// delete, an import landing in the last page, a group's members, another
// process's write) is seen; and that a page read ahead for one caller is
// never served to another.
func TestTAXIIReadAhead(t *testing.T) {
	// sameAsFresh asks again for what got answered (the page read
	// ahead is taken once, so this one is read now) and wants the same
	// answer.
	sameAsFresh := func(t *testing.T, h *aheadHub, m *member, path, next string, got aheadAnswer) {
		t.Helper()
		if diff := cmp.Diff(h.get(t, m, path, next), got); diff != "" {
			t.Errorf("the answer differs from a read now (-now +served):\n%s", diff)
		}
	}

	t.Run("ServedWhenNothingChanged", func(t *testing.T) {
		h := newAheadHub(t)
		next := ""
		var ids []string
		for page := 1; ; page++ {
			before := h.counts()
			got := h.get(t, h.b, h.all, next)
			if got.Status != 200 {
				t.Fatalf("page %d: %d %s", page, got.Status, got.Body)
			}
			served := h.counts()["served"] - before["served"]
			if want := min(page-1, 1); served != want {
				t.Errorf("page %d: %d pages served read ahead, want %d", page, served, want)
			}
			sameAsFresh(t, h, h.b, h.all, next, got)
			ids = append(ids, got.ids(t)...)
			e := got.envelope(t)
			if !e.More {
				break
			}
			next = e.Next
		}
		if want := h.storeIDs(t, cyberpact.Audience{Kind: cyberpact.AudienceAll}); !slices.Equal(ids, want) {
			t.Errorf("read %v, the store holds %v", ids, want)
		}
		if c := h.counts(); c["changed"] != 0 || c["dropped"] != 0 {
			t.Errorf("outcomes %v", c)
		}
	})

	// Each change is made once page 1 has been answered and page 2 read
	// ahead (lastPage: once page 2 is answered and page 3, the last,
	// read ahead).
	changes := []struct {
		name     string
		lastPage bool
		path     func(h *aheadHub) string
		change   func(t *testing.T, h *aheadHub)
		check    func(t *testing.T, h *aheadHub, ids []string)
	}{
		{
			name: "DeleteInNextPageSeen",
			change: func(t *testing.T, h *aheadHub) {
				if _, err := h.db.DeleteObject(context.Background(), uuidN("indicator", 3), cyberpact.ObjectFilter{Versions: []string{"all"}}); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, h *aheadHub, ids []string) {
				if want := []string{uuidN("indicator", 4), uuidN("indicator", 5)}; !slices.Equal(ids, want) {
					t.Errorf("page 2 after a delete: %v, want %v", ids, want)
				}
			},
		},
		{
			name:     "NewObjectInLastPageSeen",
			lastPage: true,
			change: func(t *testing.T, h *aheadHub) {
				importAs(t, h.db, cyberpact.Release{Producer: h.a.org.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}, indicator(6, 1))
			},
			check: func(t *testing.T, h *aheadHub, ids []string) {
				if want := []string{uuidN("indicator", 5), uuidN("indicator", 6)}; !slices.Equal(ids, want) {
					t.Errorf("last page after an import: %v, want %v", ids, want)
				}
			},
		},
		{
			name: "GroupMembersChangeSeen",
			path: func(h *aheadHub) string { return h.groupG },
			change: func(t *testing.T, h *aheadHub) {
				if err := h.db.SetGroupOrgs(context.Background(), h.g.ID, []int64{h.a.org.ID, h.b.org.ID, h.c.ID}, "test"); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, h *aheadHub, ids []string) {
				if want := []string{uuidN("indicator", 103), uuidN("indicator", 104)}; !slices.Equal(ids, want) {
					t.Errorf("page 2 of G: %v, want %v", ids, want)
				}
			},
		},
		{
			name:     "AnotherProcessWriteSeen",
			lastPage: true,
			change: func(t *testing.T, h *aheadHub) {
				other, err := sqlite.Open(context.Background(), h.db.Path())
				if err != nil {
					t.Fatal(err)
				}
				defer other.Close()
				importAs(t, other, cyberpact.Release{Producer: h.a.org.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}, indicator(7, 1))
			},
			check: func(t *testing.T, h *aheadHub, ids []string) {
				if want := []string{uuidN("indicator", 5), uuidN("indicator", 7)}; !slices.Equal(ids, want) {
					t.Errorf("last page after another process's import: %v, want %v", ids, want)
				}
			},
		},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			h := newAheadHub(t)
			path := h.all
			if c.path != nil {
				path = c.path(h)
			}
			next := h.get(t, h.b, path, "").envelope(t).Next
			if c.lastPage {
				next = h.get(t, h.b, path, next).envelope(t).Next
			}
			before := h.counts()
			c.change(t, h)
			got := h.get(t, h.b, path, next)
			if got.Status != 200 {
				t.Fatalf("%d %s", got.Status, got.Body)
			}
			after := h.counts()
			if after["changed"] != before["changed"]+1 || after["served"] != before["served"] {
				t.Errorf("outcomes before the change %v, after %v: want one more changed, none served", before, after)
			}
			c.check(t, h, got.ids(t))
			sameAsFresh(t, h, h.b, path, next, got)
		})
	}

	t.Run("RemovedFromGroupRefusedAsWithoutReadAhead", func(t *testing.T) {
		h := newAheadHub(t)
		next := h.get(t, h.b, h.groupG, "").envelope(t).Next
		before := h.counts()
		if err := h.db.SetGroupOrgs(context.Background(), h.g.ID, []int64{h.a.org.ID}, "test"); err != nil {
			t.Fatal(err)
		}
		got := h.get(t, h.b, h.groupG, next)
		if got.Status != http.StatusNotFound {
			t.Errorf("B out of G asks for page 2 of G: %d %s", got.Status, got.Body)
		}
		if after := h.counts(); after["served"] != before["served"] {
			t.Errorf("a page read ahead was served: %v, then %v", before, after)
		}
		sameAsFresh(t, h, h.b, h.groupG, next, got)
	})

	t.Run("OldestEvictedAtTheUsersBound", func(t *testing.T) {
		h := newAheadHub(t)
		// Three readings by bob, each with its next page read ahead:
		// the first one's makes room for the third's.
		paths := []string{h.all, h.groupG, h.all + "?match[type]=indicator"}
		var nexts []string
		for _, p := range paths {
			nexts = append(nexts, h.get(t, h.b, p, "").envelope(t).Next)
		}
		before := h.counts()
		if before["evicted"] != 1 {
			t.Errorf("outcomes %v: want one evicted", before)
		}
		// Latest first: each second page asked for reads its third
		// ahead, which must not make room in turn.
		for i := 2; i >= 0; i-- {
			h.get(t, h.b, paths[i], nexts[i])
			after := h.counts()
			if want := before["served"] + min(i, 1); after["served"] != want {
				t.Errorf("reading %d: %d served, want %d", i, after["served"], want)
			}
			before = after
		}
	})

	t.Run("NeverServedToAnotherUser", func(t *testing.T) {
		h := newAheadHub(t)
		// bob2 is of B too: B's cursors are his.
		bob2 := mkMember(t, h.db, h.b.org, "bob2", cyberpact.RoleAnalyst)
		next := h.get(t, h.b, h.all, "").envelope(t).Next
		before := h.counts()
		got := h.get(t, bob2, h.all, next)
		if got.Status != 200 {
			t.Fatalf("%d %s", got.Status, got.Body)
		}
		if after := h.counts(); after["served"] != before["served"] {
			t.Errorf("bob's page read ahead was served to bob2: %v, then %v", before, after)
		}
		// And bob's is still there for him.
		h.get(t, h.b, h.all, next)
		if after := h.counts(); after["served"] != before["served"]+1 {
			t.Errorf("bob's page read ahead was not served to him: %v, then %v", before, after)
		}
	})
}
