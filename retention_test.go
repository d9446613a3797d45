package cyberpact_test

import (
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// TestRetentionMostSpecificRuleApplies: the group's rule for the type,
// then the group's for every type, then the hub's for the type, then the
// hub's for every type; none for exercise objects.
func TestRetentionMostSpecificRuleApplies(t *testing.T) {
	rules := cyberpact.RetentionRules{
		{ID: 1, Type: cyberpact.AnyType, Days: 365},
		{ID: 2, Type: "indicator", Days: 90},
		{ID: 3, Group: 7, Type: cyberpact.AnyType, Days: 60},
		{ID: 4, Group: 7, Type: "indicator", Days: 30},
	}
	group := func(g int64) cyberpact.Audience { return cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g} }
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	for _, tc := range []struct {
		name string
		typ  string
		aud  cyberpact.Audience
		want int64
	}{
		{"GroupAndType", "indicator", group(7), 4},
		{"GroupAnyType", "malware", group(7), 3},
		{"HubType", "indicator", group(8), 2},
		{"HubTypeForAllMembers", "indicator", all, 2},
		{"HubAnyType", "malware", all, 1},
		{"ProducerAloneTakesTheHubRule", "malware", cyberpact.Audience{Kind: cyberpact.AudienceOrg}, 1},
		{"ExerciseNone", "indicator", cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: 7}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := int64(0)
			if r := rules.For(tc.typ, tc.aud); r != nil {
				got = r.ID
			}
			if got != tc.want {
				t.Errorf("For(%s, %s) = rule %d, want %d", tc.typ, tc.aud, got, tc.want)
			}
		})
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	c := cyberpact.Candidate{Type: "indicator", Audience: group(7), Added: now.Add(-31 * 24 * time.Hour)}
	if r, ok := rules.Expired(c, now); !ok || r.ID != 4 {
		t.Errorf("an indicator of group 7 added 31 days ago: %v %v; want expired by rule 4", r, ok)
	}
	c.Added = now.Add(-29 * 24 * time.Hour)
	if _, ok := rules.Expired(c, now); ok {
		t.Error("an indicator of group 7 added 29 days ago expired")
	}
	if rules.Shortest() != 30*24*time.Hour {
		t.Errorf("Shortest = %s", rules.Shortest())
	}
	for _, bad := range []cyberpact.RetentionRule{{Type: "indicator"}, {Type: "Indicator!", Days: 3}, {Type: "", Days: 3}, {Group: -1, Type: "*", Days: 1}} {
		if err := bad.Check(); cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("Check(%+v) = %v; want EINVALID", bad, err)
		}
	}
}

// TestKAnonymousShowsNothingUnderK: a sector from k organisations on, the
// rest pooled from k on, the total the sum of what shows.
func TestKAnonymousShowsNothingUnderK(t *testing.T) {
	got := cyberpact.KAnonymous("indicator--x", 3, map[string]int{"finance": 2})
	if diff := cmp.Diff(&cyberpact.SightingCounts{Of: "indicator--x", K: 3, Sectors: []cyberpact.SectorCount{}}, got); diff != "" {
		t.Errorf("two organisations (-want +got):\n%s", diff)
	}
	// The sector of one organisation is pooled out of sight: the total is
	// what shows, never a number that tells it apart.
	got = cyberpact.KAnonymous("indicator--x", 0, map[string]int{"finance": 3, "energy": 1})
	want := &cyberpact.SightingCounts{Of: "indicator--x", K: cyberpact.DefaultKAnonymity, Orgs: 3, Sectors: []cyberpact.SectorCount{{Sector: "finance", Orgs: 3}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("four organisations (-want +got):\n%s", diff)
	}
	got = cyberpact.KAnonymous("indicator--x", 3, map[string]int{"finance": 2, "energy": 1, "health": 4})
	want = &cyberpact.SightingCounts{Of: "indicator--x", K: 3, Orgs: 7, Sectors: []cyberpact.SectorCount{{Sector: "health", Orgs: 4}, {Sector: cyberpact.OtherSectors, Orgs: 3}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("a pool of k (-want +got):\n%s", diff)
	}
}
