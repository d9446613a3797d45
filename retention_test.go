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

// TestAgreementRetentionBesideRules: an agreement's retention periods are
// rules of its group (the hub's hub-wide), rounded up to whole days, and
// where a rule set on its own names the same group and type, the shorter
// period applies.
func TestAgreementRetentionBesideRules(t *testing.T) {
	as := []*cyberpact.Agreement{
		{Group: 0, Version: 2, Retention: 400 * 24 * time.Hour},
		{Group: 7, Version: 5, Retention: 36 * time.Hour, RetentionByType: map[string]time.Duration{"sighting": 10 * 24 * time.Hour, "indicator": 90 * 24 * time.Hour}},
		{Group: 9, Version: 1}, // keeps everything: no rule
	}
	got := cyberpact.AgreementRules(as)
	want := cyberpact.RetentionRules{
		{ID: -1, Group: 0, Type: cyberpact.AnyType, Days: 400, Agreement: 2},
		{ID: -2, Group: 7, Type: cyberpact.AnyType, Days: 2, Agreement: 5},
		{ID: -3, Group: 7, Type: "indicator", Days: 90, Agreement: 5},
		{ID: -4, Group: 7, Type: "sighting", Days: 10, Agreement: 5},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("AgreementRules (-want +got):\n%s", diff)
	}
	set := cyberpact.RetentionRules{
		{ID: 1, Type: cyberpact.AnyType, Days: 365},     // shorter than the hub's agreement: kept
		{ID: 2, Group: 7, Type: "indicator", Days: 120}, // longer than the group's agreement: the agreement's applies
		{ID: 3, Group: 8, Type: "malware", Days: 30},
	}
	both := set.With(got)
	for _, tc := range []struct {
		typ  string
		aud  cyberpact.Audience
		want int64
	}{
		{"malware", cyberpact.Audience{Kind: cyberpact.AudienceAll}, 1},
		{"indicator", cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 7}, -3},
		{"sighting", cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 7}, -4},
		{"malware", cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 7}, -2},
		{"malware", cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 8}, 3},
	} {
		if r := both.For(tc.typ, tc.aud); r == nil || r.ID != tc.want {
			t.Errorf("%s to %v: rule %+v, want %d", tc.typ, tc.aud, r, tc.want)
		}
	}
	if len(both) != 5 {
		t.Errorf("With: %d rules, want 5 (the hub-wide and group 7 indicator rules merged)", len(both))
	}
	if s := both[1].String(); s != "indicator group 7: 90 days (agreement version 5)" {
		t.Errorf("String() = %q", s)
	}
}

// TestAgreementPrivacy: an agreement's personal-data flags give the
// detectors of its group's policy (every one when it names none), and
// whether what they find is refused; without redact or refuse, none.
func TestAgreementPrivacy(t *testing.T) {
	for _, tc := range []struct {
		flags  []string
		want   string
		refuse bool
	}{
		{[]string{"detect-phone", "detect-identity", "redact"}, "phone,individual", false},
		{[]string{"redact"}, "all", false},
		{[]string{"detect-address", "detect-name", "redact"}, "address,name", false},
		{[]string{"detect-email", "refuse"}, "email", true},
		{[]string{"detect-email"}, "", false},
		{nil, "", false},
	} {
		d, r := (&cyberpact.Agreement{PersonalData: tc.flags}).Privacy()
		if d != tc.want || r != tc.refuse {
			t.Errorf("%v: %q, %v; want %q, %v", tc.flags, d, r, tc.want, tc.refuse)
		}
	}
}
