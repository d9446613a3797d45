package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// CorrelationStore is what RunCorrelation needs of a store.
type CorrelationStore interface {
	cyberpact.ObjectStore
	cyberpact.CorrelationStore
}

// RunCorrelation runs the correlation suite: "who else has this value?"
// answered from the side table the import writes, through the sharing
// rule. open returns a new, empty store whose correlation cap is limit;
// RunCorrelation closes it.
func RunCorrelation(t *testing.T, open func(t *testing.T, limit int) CorrelationStore) {
	for _, tc := range []struct {
		name  string
		limit int
		fn    func(t *testing.T, s CorrelationStore)
	}{
		{"SpellingsOfOneValueMeet", 0, testCorrelateSpellings},
		{"HashesAndNamesFound", 0, testCorrelateHashes},
		{"SharingRuleHidesObjects", 0, testCorrelateSharing},
		{"LatestVisibleVersionOnly", 0, testCorrelateLatest},
		{"DeletedObjectsGone", 0, testCorrelateDeleted},
		{"CapMarksValueCommon", 3, testCorrelateCap},
		{"CommonHiddenFromThoseWhoSeeNoHolder", 3, testCorrelateCommonHidden},
		{"HiddenHoldersNeverHideOwnHolding", 3, testCorrelateCapPerProducer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, tc.limit)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// importAs imports objs released by producer to audience.
func importAs(t *testing.T, s cyberpact.ObjectStore, producer int64, aud cyberpact.Audience, objs ...obj) {
	t.Helper()
	res, err := importRaw(t, s, bundle(t, objs...), cyberpact.ImportOptions{Producer: producer, Audience: aud, DefaultTLP: cyberpact.TLPGreen})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("Import: %v, %+v", err, res)
	}
}

// correlate asks for value as viewer and returns the ids found.
func correlate(t *testing.T, s CorrelationStore, value string, v cyberpact.Viewer) (*cyberpact.Correlation, []string) {
	t.Helper()
	var keys []string
	for _, c := range match.ObservableKeys(value) {
		keys = append(keys, c.Key)
	}
	c, err := s.Correlate(context.Background(), keys, &v, 0)
	if err != nil {
		t.Fatalf("Correlate(%q): %v", value, err)
	}
	return c, ids(c.Objects)
}

func indicatorOf(n int, pattern string) obj {
	return sdo("indicator", n, 1, obj{"pattern": pattern})
}

func sco(typ string, n int, props obj) obj {
	o := obj{"type": typ, "id": fmt.Sprintf("%s--%s", typ, uuid(n)), "spec_version": "2.1"}
	for k, v := range props {
		o[k] = v
	}
	return o
}

var all1 = cyberpact.Audience{Kind: cyberpact.AudienceAll}

func testCorrelateSpellings(t *testing.T, s CorrelationStore) {
	ind := indicatorOf(1, "[domain-name:value = 'EVIL.example.'] OR [url:value = 'HTTP://Evil.Example/x']")
	dom := sco("domain-name", 2, obj{"value": "evil.example"})
	other := sco("domain-name", 3, obj{"value": "good.example"})
	importAs(t, s, 1, all1, ind, dom, other)
	viewer := cyberpact.Viewer{Org: 2}
	for _, q := range []string{"evil.example", "Evil.Example.", " EVIL.EXAMPLE "} {
		c, got := correlate(t, s, q, viewer)
		if diff := cmp.Diff(sorted(id(ind), id(dom)), sorted(got...)); diff != "" {
			t.Errorf("%q: objects (-want +got):\n%s", q, diff)
		}
		if c.Value != "evil.example" || c.Kind != "domain" {
			t.Errorf("%q: value %q kind %q, want evil.example domain", q, c.Value, c.Kind)
		}
	}
	if _, got := correlate(t, s, "http://evil.example/x", viewer); !cmp.Equal(got, []string{id(ind)}) {
		t.Errorf("url: got %v, want the indicator", got)
	}
	if c, got := correlate(t, s, "nothing.example", viewer); len(got) != 0 || c.Common {
		t.Errorf("unknown value: got %v, common %v", got, c.Common)
	}
}

func testCorrelateHashes(t *testing.T, s CorrelationStore) {
	const md5 = "D41D8CD98F00B204E9800998ECF8427E"
	file := sco("file", 1, obj{"name": "evil.exe", "hashes": obj{"MD5": md5}})
	ind := indicatorOf(2, "[file:hashes.'SHA-256' = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855'] AND [file:name = 'evil.exe']")
	ip := indicatorOf(3, "[ipv4-addr:value = '198.51.100.0/24'] OR [network-traffic:dst_ref.value = '::ffff:203.0.113.9']")
	importAs(t, s, 1, all1, file, ind, ip)
	v := cyberpact.Viewer{Org: 1}
	for _, tc := range []struct {
		value, kind string
		want        []string
	}{
		{"d41d8cd98f00b204e9800998ecf8427e", "md5", []string{id(file)}},
		{"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256", []string{id(ind)}},
		{"evil.exe", "other", sorted(id(file), id(ind))},
		{"198.51.100.0/24", "ip", []string{id(ip)}},
		{"203.0.113.9", "ip", []string{id(ip)}},
	} {
		c, got := correlate(t, s, tc.value, v)
		if diff := cmp.Diff(tc.want, sorted(got...)); diff != "" {
			t.Errorf("%s: objects (-want +got):\n%s", tc.value, diff)
		}
		if c.Kind != tc.kind && !(tc.value == "evil.exe" && c.Kind == "domain") {
			t.Errorf("%s: kind %q, want %q", tc.value, c.Kind, tc.kind)
		}
	}
}

func testCorrelateSharing(t *testing.T, s CorrelationStore) {
	mine := indicatorOf(1, "[domain-name:value = 'secret.example']")
	group := indicatorOf(2, "[domain-name:value = 'group.example']")
	red := indicatorOf(3, "[domain-name:value = 'red.example']")
	red["object_marking_refs"] = []any{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"}
	importAs(t, s, 1, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, mine)
	importAs(t, s, 1, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 7}, group, red)
	for _, tc := range []struct {
		name   string
		viewer cyberpact.Viewer
		value  string
		want   []string
	}{
		{"ProducerSeesOwn", cyberpact.Viewer{Org: 1}, "secret.example", []string{id(mine)}},
		{"OtherOrgSeesNothing", cyberpact.Viewer{Org: 2}, "secret.example", nil},
		{"GroupMemberSees", cyberpact.Viewer{Org: 2, Groups: []int64{7}}, "group.example", []string{id(group)}},
		{"OutsiderOfGroupSeesNothing", cyberpact.Viewer{Org: 3, Groups: []int64{8}}, "group.example", nil},
		{"RedInGroupSeenByGroup", cyberpact.Viewer{Org: 2, Groups: []int64{7}}, "red.example", []string{id(red)}},
		{"PublicSeesNoGreen", cyberpact.Viewer{Public: true}, "group.example", nil},
		{"NoOrgSeesNothing", cyberpact.Viewer{}, "secret.example", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, got := correlate(t, s, tc.value, tc.viewer)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			if len(tc.want) == 0 && (c.Kind != "" || c.Common || c.Count != 0) {
				t.Errorf("an invisible object's value is described: %+v", c)
			}
		})
	}
}

func testCorrelateLatest(t *testing.T, s CorrelationStore) {
	v1 := indicatorOf(1, "[domain-name:value = 'old.example']")
	v2 := sdo("indicator", 1, 2, obj{"pattern": "[domain-name:value = 'new.example']"})
	both1 := indicatorOf(2, "[domain-name:value = 'both.example']")
	both2 := sdo("indicator", 2, 2, obj{"pattern": "[domain-name:value = 'both.example']", "name": "v2"})
	importAs(t, s, 1, all1, v1, both1)
	importAs(t, s, 1, all1, v2, both2)
	v := cyberpact.Viewer{Org: 2}
	if _, got := correlate(t, s, "old.example", v); len(got) != 0 {
		t.Errorf("a value only an older version held: got %v", got)
	}
	if _, got := correlate(t, s, "new.example", v); !cmp.Equal(got, []string{id(v2)}) {
		t.Errorf("new.example: got %v", got)
	}
	c, got := correlate(t, s, "both.example", v)
	if !cmp.Equal(got, []string{id(both2)}) || c.Objects[0].Modified != norm(t, ts(2)) {
		t.Errorf("both.example: got %v, want the latest version once", got)
	}
	// A later version kept private leaves the shared one visible to others.
	private := sdo("indicator", 1, 3, obj{"pattern": "[domain-name:value = 'hidden.example']"})
	importAs(t, s, 1, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, private)
	if _, got := correlate(t, s, "new.example", v); !cmp.Equal(got, []string{id(v2)}) {
		t.Errorf("after a private version: got %v, want the shared one", got)
	}
	if _, got := correlate(t, s, "hidden.example", v); len(got) != 0 {
		t.Errorf("the private version's value: got %v", got)
	}
}

func testCorrelateDeleted(t *testing.T, s CorrelationStore) {
	ind := indicatorOf(1, "[domain-name:value = 'gone.example']")
	importAs(t, s, 1, all1, ind)
	if _, err := s.DeleteObject(context.Background(), id(ind), cyberpact.ObjectFilter{}); err != nil {
		t.Fatal(err)
	}
	if _, got := correlate(t, s, "gone.example", cyberpact.Viewer{Org: 1}); len(got) != 0 {
		t.Errorf("deleted object still found: %v", got)
	}
}

func testCorrelateCap(t *testing.T, s CorrelationStore) {
	// Two objects in one import, three more in another: the cap is 3.
	var first, second []obj
	for i := 1; i <= 5; i++ {
		o := sco("domain-name", i, obj{"value": "common.example"})
		if i <= 2 {
			first = append(first, o)
		} else {
			second = append(second, o)
		}
	}
	rare := indicatorOf(10, "[domain-name:value = 'rare.example']")
	importAs(t, s, 1, all1, append(first, rare)...)
	importAs(t, s, 1, all1, second...)
	c, got := correlate(t, s, "common.example", cyberpact.Viewer{Org: 2})
	if !c.Common || c.Count != 3 || len(got) != 3 {
		t.Errorf("common value: common %v, count %d, %d objects; want common, 3, 3", c.Common, c.Count, len(got))
	}
	if c, got := correlate(t, s, "rare.example", cyberpact.Viewer{Org: 2}); c.Common || len(got) != 1 {
		t.Errorf("rare value: common %v, %d objects", c.Common, len(got))
	}
}

// testCorrelateCommonHidden checks that "common" is told only to a viewer
// who sees an object holding the value: to anyone else the answer is the
// same as for a value nobody holds, or the flag would leak that others
// hold it.
func testCorrelateCommonHidden(t *testing.T, s CorrelationStore) {
	var private []obj
	for i := 1; i <= 4; i++ {
		private = append(private, sco("domain-name", i, obj{"value": "private.example"}))
	}
	importAs(t, s, 1, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, private...)
	// Past the cap, one more object shared with group 7 is not indexed:
	// the group sees no indexed holder, so it is not told "common" either.
	importAs(t, s, 1, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 7}, sco("domain-name", 5, obj{"value": "private.example"}))
	for _, tc := range []struct {
		name       string
		viewer     cyberpact.Viewer
		wantCommon bool
		wantN      int
	}{
		{"ProducerToldCommon", cyberpact.Viewer{Org: 1}, true, 3},
		{"OtherOrgToldNothing", cyberpact.Viewer{Org: 2}, false, 0},
		{"GroupMemberWithUnindexedHolderToldNothing", cyberpact.Viewer{Org: 2, Groups: []int64{7}}, false, 0},
		{"PublicToldNothing", cyberpact.Viewer{Public: true}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, got := correlate(t, s, "private.example", tc.viewer)
			if c.Common != tc.wantCommon || len(got) != tc.wantN {
				t.Errorf("common %v, %d objects; want %v, %d", c.Common, len(got), tc.wantCommon, tc.wantN)
			}
			if !tc.wantCommon && (c.Count != 0 || c.Kind != "") {
				t.Errorf("the answer describes a value the viewer sees no holder of: %+v", c)
			}
		})
	}
}

// testCorrelateCapPerProducer is issue 14's finding 9: another
// organisation's hidden holdings of a value, past the cap, neither hide
// the viewer's own holding nor make the value "common" to it; common and
// its count are read from what the viewer may see alone.
func testCorrelateCapPerProducer(t *testing.T, s CorrelationStore) {
	var hidden []obj
	for i := 1; i <= 5; i++ {
		hidden = append(hidden, sco("domain-name", i, obj{"value": "crowded.example"}))
	}
	importAs(t, s, 1, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, hidden...)
	own := indicatorOf(10, "[domain-name:value = 'crowded.example']")
	importAs(t, s, 2, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, own)
	c, got := correlate(t, s, "crowded.example", cyberpact.Viewer{Org: 2})
	if !slices.Equal(got, []string{id(own)}) {
		t.Errorf("org 2 finds %v, want its own indicator alone", got)
	}
	if c.Common || c.Count != 0 {
		t.Errorf("org 2 is told %+v: common or counted from holdings it may not see", c)
	}
	if c, got := correlate(t, s, "crowded.example", cyberpact.Viewer{Org: 1}); !c.Common || len(got) != 3 {
		t.Errorf("the holder of many: common %v, %d objects; want common, 3", c.Common, len(got))
	}
}
