package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// agreementsOf returns s's agreements; every store keeps them.
func agreementsOf(t *testing.T, s AccountStore) cyberpact.AgreementService {
	t.Helper()
	as, ok := s.(cyberpact.AgreementService)
	if !ok {
		t.Fatalf("%T keeps no sharing agreements", s)
	}
	return as
}

// testAgreementVersions: every version of an agreement is kept, the latest
// is in force, each change is audited under AuditAgreement, and the terms
// come back as they were set (lists in canonical order).
func testAgreementVersions(t *testing.T, s AccountStore) {
	ctx := context.Background()
	as := agreementsOf(t, s)
	a, b := mkOrg(t, s, "A", "GB", "finance"), mkOrg(t, s, "B", "US", "energy")
	g := &cyberpact.Group{Name: "Cell", Orgs: []int64{a.ID, b.ID}}
	if err := s.CreateGroup(ctx, g, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if _, err := as.Agreement(ctx, g.ID); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("Agreement before any: %v, want ENOTFOUND", err)
	}
	expires := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	v1 := &cyberpact.Agreement{Group: g.ID, Purpose: "joint defence", TLPs: []cyberpact.TLP{cyberpact.TLPAmber, cyberpact.TLPGreen},
		PAPs: []cyberpact.PAP{cyberpact.PAPGreen}, RelNations: []string{"us", "GB"}, RelSectors: []string{"Energy"},
		Retention: 90 * 24 * time.Hour, RetentionByType: map[string]time.Duration{"indicator": 30 * 24 * time.Hour},
		Expires: expires, Federate: true, PersonalData: []string{"redact", "detect-email"}}
	if err := as.SetAgreement(ctx, v1, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if v1.Version != 1 || v1.GroupName != "Cell" || v1.Actor != "admin-test" {
		t.Errorf("after SetAgreement: version %d, group %q, actor %q", v1.Version, v1.GroupName, v1.Actor)
	}
	v2 := &cyberpact.Agreement{Group: g.ID, Purpose: "joint defence, renewed"}
	if err := as.SetAgreement(ctx, v2, "admin-test"); err != nil {
		t.Fatal(err)
	}
	hub := &cyberpact.Agreement{Purpose: "the partnership"}
	if err := as.SetAgreement(ctx, hub, "admin-test"); err != nil {
		t.Fatal(err)
	}
	got, err := as.Agreement(ctx, g.ID)
	if err != nil || got.Version != 2 || got.Purpose != "joint defence, renewed" {
		t.Errorf("in force: %+v, %v; want version 2", got, err)
	}
	hist, err := as.AgreementHistory(ctx, g.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history: %d, %v", len(hist), err)
	}
	h1 := hist[0]
	if h1.Version != 1 || strings.Join(h1.RelNations, ",") != "GB,US" || strings.Join(h1.RelSectors, ",") != "energy" ||
		len(h1.TLPs) != 2 || h1.TLPs[0] != cyberpact.TLPGreen || h1.Retention != 90*24*time.Hour || h1.RetentionByType["indicator"] != 30*24*time.Hour ||
		!h1.Expires.Equal(expires) || !h1.Federate || strings.Join(h1.PersonalData, ",") != "detect-email,redact" || h1.Created.IsZero() {
		t.Errorf("version 1 read back as %+v", h1)
	}
	list, err := as.Agreements(ctx)
	if err != nil || len(list) != 2 || list[0].Group != 0 || list[1].Group != g.ID || list[1].Version != 2 {
		t.Errorf("Agreements: %+v, %v; want the hub's, then the cell's version 2", list, err)
	}
	es, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditAgreement})
	if err != nil || len(es) != 3 || !strings.Contains(es[0].Detail, `the agreement of group "Cell" (version 1)`) || !strings.Contains(es[2].Detail, "the hub's agreement (version 1)") {
		t.Errorf("audit entries %+v, %v; want three naming each agreement", es, err)
	}
	terms, err := as.Terms(ctx)
	if err != nil || terms.Agreements[g.ID].Version != 2 || terms.Agreements[0] == nil {
		t.Errorf("Terms: %+v, %v", terms, err)
	}
}

// testAgreementRefused: bad terms and unknown groups change nothing.
func testAgreementRefused(t *testing.T, s AccountStore) {
	ctx := context.Background()
	as := agreementsOf(t, s)
	for _, tc := range []struct {
		name string
		a    cyberpact.Agreement
		code string
	}{
		{"UnknownGroup", cyberpact.Agreement{Group: 99, Purpose: "x"}, cyberpact.ENOTFOUND},
		{"BadNation", cyberpact.Agreement{RelNations: []string{"UK"}}, cyberpact.EINVALID},
		{"BadSector", cyberpact.Agreement{RelSectors: []string{"banking"}}, cyberpact.EINVALID},
		{"BadFlag", cyberpact.Agreement{PersonalData: []string{"scan"}}, cyberpact.EINVALID},
		{"NegativeRetention", cyberpact.Agreement{Retention: -time.Hour}, cyberpact.EINVALID},
		{"PurposeNotText", cyberpact.Agreement{Purpose: "a\x00b"}, cyberpact.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "SetAgreement", as.SetAgreement(ctx, &tc.a, "admin-test"), tc.code)
		})
	}
	if list, _ := as.Agreements(ctx); len(list) != 0 {
		t.Errorf("refused agreements stored: %+v", list)
	}
	if es, _ := s.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditAgreement}); len(es) != 0 {
		t.Errorf("refused agreements audited: %+v", es)
	}
}

// testMarkingSetsAndClearances: sets are defined and may only grow;
// clearances are within a set's levels and come back with the
// organisation.
func testMarkingSetsAndClearances(t *testing.T, s AccountStore) {
	ctx := context.Background()
	as := agreementsOf(t, s)
	o := mkOrg(t, s, "A", "GB", "finance")
	wantCode(t, "a clearance in no set", as.SetClearance(ctx, o.ID, "UK-CLASS", 1, "admin-test"), cyberpact.ENOTFOUND)
	if err := as.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "UK-CLASS", Levels: []string{"OFFICIAL", "SECRET"}}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a set losing a level", as.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "UK-CLASS", Levels: []string{"OFFICIAL"}}, "admin-test"), cyberpact.EINVALID)
	wantCode(t, "a bad set name", as.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "uk class", Levels: []string{"A"}}, "admin-test"), cyberpact.EINVALID)
	wantCode(t, "repeated levels", as.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "X", Levels: []string{"A", "A"}}, "admin-test"), cyberpact.EINVALID)
	if err := as.SetMarkingSet(ctx, &cyberpact.MarkingSet{Name: "UK-CLASS", Levels: []string{"OFFICIAL", "SECRET", "TOP SECRET"}}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "a level the set lacks", as.SetClearance(ctx, o.ID, "UK-CLASS", 4, "admin-test"), cyberpact.EINVALID)
	wantCode(t, "no organisation", as.SetClearance(ctx, o.ID+100, "UK-CLASS", 1, "admin-test"), cyberpact.ENOTFOUND)
	// Set names are upper case; one entered otherwise names the same set.
	if err := as.SetClearance(ctx, o.ID, " uk-class", 2, "admin-test"); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrgByID(ctx, o.ID)
	if err != nil || got.Clearances["UK-CLASS"] != 2 {
		t.Errorf("clearances read back: %+v, %v", got, err)
	}
	sets, err := as.MarkingSets(ctx)
	if err != nil || len(sets) != 1 || len(sets[0].Levels) != 3 {
		t.Errorf("MarkingSets: %+v, %v", sets, err)
	}
	if err := as.SetClearance(ctx, o.ID, "UK-CLASS", 0, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.OrgByID(ctx, o.ID); len(got.Clearances) != 0 {
		t.Errorf("clearance 0 kept: %+v", got.Clearances)
	}
}
