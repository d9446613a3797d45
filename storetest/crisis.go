package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// CrisisTestStore is what RunCrises tests: the crisis store of a store,
// with its accounts and audit log.
type CrisisTestStore interface {
	cyberpact.CrisisStore
	cyberpact.AccountService
	cyberpact.AuditLog
	Close() error
}

// RunCrises runs the suite of cyberpact.CrisisStore. open returns a new,
// empty store for each subtest; RunCrises closes it.
func RunCrises(t *testing.T, open func(t *testing.T) CrisisTestStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s CrisisTestStore, us, uk int64)
	}{
		{"DeclaredReadBackOnePerIncidentAudited", testCrisisDeclared},
		{"AckOnceOnlyByPartnersWhileOpen", testCrisisAck},
		{"TokenAcknowledgesOnce", testCrisisToken},
		{"EscalationMovesOnlyFromTheLevelRead", testCrisisEscalate},
		{"AlertsClaimedAndFinished", testCrisisAlerts},
		{"ContactsPerOrganisationByLevel", testCrisisContacts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			ctx := context.Background()
			var ids []int64
			for _, o := range []*cyberpact.Org{{Name: "US-CERT", Nation: "US", Sector: "government"}, {Name: "NCSC", Nation: "GB", Sector: "government"}} {
				if err := s.CreateOrg(ctx, o, "cli"); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, o.ID)
			}
			tc.fn(t, s, ids[0], ids[1])
		})
	}
}

var crisisT0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func declareCrisis(t *testing.T, s CrisisTestStore, incident string, alerts []*cyberpact.CrisisAlert, orgs ...int64) *cyberpact.Crisis {
	t.Helper()
	c := &cyberpact.Crisis{Incident: incident, Producer: orgs[0], EscalateAfter: 10 * time.Minute, DeclaredBy: "cli", Declared: crisisT0}
	for _, o := range orgs {
		c.Partners = append(c.Partners, &cyberpact.CrisisPartner{Org: o})
	}
	if err := s.DeclareCrisis(context.Background(), c, alerts, "cli"); err != nil {
		t.Fatal(err)
	}
	return c
}

func crisisAlert(org int64, kind, target string) *cyberpact.CrisisAlert {
	return &cyberpact.CrisisAlert{Org: org, Kind: kind, Channel: cyberpact.ChannelEmail, Target: target, Key: cyberpact.NewDeliveryKey(), NextAttempt: crisisT0}
}

func testCrisisDeclared(t *testing.T, s CrisisTestStore, us, uk int64) {
	ctx := context.Background()
	c := declareCrisis(t, s, "incident--00000000-0000-4000-8000-000000000001", nil, us, uk)
	got, err := s.Crisis(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &cyberpact.Crisis{ID: c.ID, Incident: c.Incident, Producer: us, EscalateAfter: 10 * time.Minute, DeclaredBy: "cli", Declared: crisisT0,
		Partners: []*cyberpact.CrisisPartner{{Org: us, LevelAt: crisisT0}, {Org: uk, LevelAt: crisisT0}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("crisis read back (-want +got):\n%s", d)
	}
	again := &cyberpact.Crisis{Incident: c.Incident, Producer: us, EscalateAfter: time.Minute, DeclaredBy: "cli", Declared: crisisT0}
	if err := s.DeclareCrisis(ctx, again, nil, "cli"); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Errorf("a second open crisis on the incident: %v, want ECONFLICT", err)
	}
	if _, err := s.Crisis(ctx, c.ID+1); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("Crisis of an unknown id: %v", err)
	}
	if err := s.EndCrisis(ctx, c.ID, crisisT0.Add(time.Hour), nil, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndCrisis(ctx, c.ID, crisisT0.Add(time.Hour), nil, "cli"); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Errorf("ending twice: %v", err)
	}
	// Once it has ended, the incident may have a crisis again.
	next := declareCrisis(t, s, c.Incident, nil, us)
	open, err := s.Crises(ctx, true)
	if err != nil || len(open) != 1 || open[0].ID != next.ID {
		t.Errorf("open crises: %v, %v", open, err)
	}
	all, err := s.Crises(ctx, false)
	if err != nil || len(all) != 2 || all[0].ID != next.ID || all[1].Ended.IsZero() {
		t.Errorf("all crises, newest first: %v, %v", all, err)
	}
	es, err := s.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditCrisis})
	if err != nil || len(es) != 3 {
		t.Errorf("crisis audit entries: %d, %v; want 3 (declared, ended, declared)", len(es), err)
	}
}

func testCrisisAck(t *testing.T, s CrisisTestStore, us, uk int64) {
	ctx := context.Background()
	c := declareCrisis(t, s, "incident--00000000-0000-4000-8000-000000000002", nil, us)
	if _, err := s.AckCrisis(ctx, c.ID, uk, "bob", "api", crisisT0); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("a non-partner acknowledges: %v", err)
	}
	if ok, err := s.AckCrisis(ctx, c.ID, us, "alice", "web", crisisT0.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("acknowledging: %v %v", ok, err)
	}
	if ok, err := s.AckCrisis(ctx, c.ID, us, "ann", "api", crisisT0.Add(2*time.Minute)); err != nil || ok {
		t.Errorf("acknowledging again: %v %v, want false and no error", ok, err)
	}
	got, _ := s.Crisis(ctx, c.ID)
	if p := got.Partner(us); p == nil || !p.Acked.Equal(crisisT0.Add(time.Minute)) || p.AckedBy != "alice" || p.AckedVia != "web" {
		t.Errorf("the first acknowledgement is kept: %+v", p)
	}
	s.EndCrisis(ctx, c.ID, crisisT0.Add(time.Hour), nil, "cli")
	c2 := declareCrisis(t, s, "incident--00000000-0000-4000-8000-000000000003", nil, uk)
	s.EndCrisis(ctx, c2.ID, crisisT0.Add(time.Hour), nil, "cli")
	if _, err := s.AckCrisis(ctx, c2.ID, uk, "bob", "api", crisisT0); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Errorf("acknowledging an ended crisis: %v", err)
	}
}

func testCrisisToken(t *testing.T, s CrisisTestStore, us, uk int64) {
	ctx := context.Background()
	c := declareCrisis(t, s, "incident--00000000-0000-4000-8000-000000000004", nil, us, uk)
	token, hash := cyberpact.NewCrisisToken()
	if err := s.AddCrisisToken(ctx, c.ID, uk, hash); err != nil {
		t.Fatal(err)
	}
	crisis, org, err := s.AckCrisisToken(ctx, cyberpact.CrisisTokenHash(token), crisisT0)
	if err != nil || crisis != c.ID || org != uk {
		t.Fatalf("AckCrisisToken: %d %d %v", crisis, org, err)
	}
	if _, _, err := s.AckCrisisToken(ctx, hash, crisisT0); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("a used token: %v", err)
	}
	if _, _, err := s.AckCrisisToken(ctx, cyberpact.CrisisTokenHash("cpa_unknown"), crisisT0); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("an unknown token: %v", err)
	}
	got, _ := s.Crisis(ctx, c.ID)
	if got.Partner(uk).Acked.IsZero() || got.Partner(uk).AckedVia != "mail" || !got.Partner(us).Acked.IsZero() {
		t.Errorf("after the token: %+v %+v", got.Partner(uk), got.Partner(us))
	}
}

func testCrisisEscalate(t *testing.T, s CrisisTestStore, us, uk int64) {
	ctx := context.Background()
	c := declareCrisis(t, s, "incident--00000000-0000-4000-8000-000000000005", nil, us, uk)
	at := crisisT0.Add(10 * time.Minute)
	first := crisisAlert(uk, cyberpact.CrisisEscalated, "duty@ncsc.test")
	first.Level = 1
	moved, err := s.EscalateCrisis(ctx, c.ID, uk, 0, 1, at, []*cyberpact.CrisisAlert{first}, "(hub)")
	if err != nil || !moved {
		t.Fatalf("escalating: %v %v", moved, err)
	}
	// Another process that read level 0 moves nothing, and adds no alerts.
	moved, err = s.EscalateCrisis(ctx, c.ID, uk, 0, 1, at, []*cyberpact.CrisisAlert{crisisAlert(uk, cyberpact.CrisisEscalated, "duty@ncsc.test")}, "(hub)")
	if err != nil || moved {
		t.Errorf("escalating from a level left: %v %v", moved, err)
	}
	s.AckCrisis(ctx, c.ID, us, "alice", "api", at)
	if moved, err := s.EscalateCrisis(ctx, c.ID, us, 0, 1, at, nil, "(hub)"); err != nil || moved {
		t.Errorf("escalating an organisation that acknowledged: %v %v", moved, err)
	}
	got, _ := s.Crisis(ctx, c.ID)
	if p := got.Partner(uk); p.Level != 1 || !p.LevelAt.Equal(at) {
		t.Errorf("escalated partner: %+v", p)
	}
	as, err := s.CrisisAlerts(ctx, c.ID)
	if err != nil || len(as) != 1 || as[0].Level != 1 || as[0].Kind != cyberpact.CrisisEscalated {
		t.Errorf("alerts after escalating once: %v, %v", as, err)
	}
	s.EndCrisis(ctx, c.ID, at, nil, "cli")
	if moved, err := s.EscalateCrisis(ctx, c.ID, uk, 1, 2, at, nil, "(hub)"); err != nil || moved {
		t.Errorf("escalating in an ended crisis: %v %v", moved, err)
	}
}

func testCrisisAlerts(t *testing.T, s CrisisTestStore, us, uk int64) {
	ctx := context.Background()
	alerts := []*cyberpact.CrisisAlert{crisisAlert(us, cyberpact.CrisisDeclared, "soc@us.test"), crisisAlert(uk, cyberpact.CrisisDeclared, "soc@uk.test")}
	c := declareCrisis(t, s, "incident--00000000-0000-4000-8000-000000000006", alerts, us, uk)
	if alerts[0].ID == 0 || alerts[0].Crisis != c.ID {
		t.Fatalf("alerts not given their ids: %+v", alerts[0])
	}
	if got, err := s.ClaimCrisisAlerts(ctx, crisisT0.Add(-time.Second), crisisT0.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Errorf("claimed before they are due: %v, %v", got, err)
	}
	got, err := s.ClaimCrisisAlerts(ctx, crisisT0, crisisT0.Add(time.Minute), 1)
	if err != nil || len(got) != 1 || got[0].ID != alerts[0].ID || got[0].Target != "soc@us.test" || got[0].Key != alerts[0].Key {
		t.Fatalf("first claim: %v, %v", got, err)
	}
	// Claimed: not taken again until the claim ends.
	second, err := s.ClaimCrisisAlerts(ctx, crisisT0, crisisT0.Add(time.Minute), 10)
	if err != nil || len(second) != 1 || second[0].ID != alerts[1].ID {
		t.Fatalf("second claim: %v, %v", second, err)
	}
	got[0].Status, got[0].Attempts, got[0].Done = cyberpact.DeliveryDelivered, 1, crisisT0
	if err := s.FinishCrisisAlerts(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.ClaimCrisisAlerts(ctx, crisisT0.Add(2*time.Minute), crisisT0.Add(3*time.Minute), 10)
	if err != nil || len(again) != 1 || again[0].ID != alerts[1].ID {
		t.Errorf("after the claim lapsed only the unfinished one is taken again: %v, %v", again, err)
	}
	all, _ := s.CrisisAlerts(ctx, c.ID)
	if len(all) != 2 || all[0].Status != cyberpact.DeliveryDelivered || all[1].Status != cyberpact.DeliveryPending {
		t.Errorf("alerts: %+v", all)
	}
}

func testCrisisContacts(t *testing.T, s CrisisTestStore, us, uk int64) {
	ctx := context.Background()
	for _, c := range []*cyberpact.CrisisContact{
		{Org: uk, Level: 2, Channel: cyberpact.ChannelEmail, Target: "director@ncsc.test"},
		{Org: uk, Level: 1, Name: "duty", Channel: cyberpact.ChannelWebhook, Target: "https://ncsc.test/duty", Secret: "0123456789abcdef0123"},
		{Org: us, Level: 1, Channel: cyberpact.ChannelEmail, Target: "duty@us.test"},
	} {
		if err := s.AddCrisisContact(ctx, c, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []*cyberpact.CrisisContact{
		{Org: uk, Level: 0, Channel: cyberpact.ChannelEmail, Target: "x@ncsc.test"},
		{Org: uk, Level: 1, Channel: cyberpact.ChannelWebhook, Target: "https://ncsc.test/x"},
		{Org: uk, Level: 1, Channel: "pager", Target: "x"},
	} {
		if err := s.AddCrisisContact(ctx, bad, "cli"); cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("contact %+v: %v, want EINVALID", bad, err)
		}
	}
	if err := s.AddCrisisContact(ctx, &cyberpact.CrisisContact{Org: 9999, Level: 1, Channel: cyberpact.ChannelEmail, Target: "x@y.test"}, "cli"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("a contact of an unknown organisation: %v", err)
	}
	cs, err := s.CrisisContacts(ctx, uk)
	if err != nil || len(cs) != 2 || cs[0].Level != 1 || cs[0].Secret == "" || cs[1].Target != "director@ncsc.test" {
		t.Fatalf("NCSC's contacts by level: %v, %v", cs, err)
	}
	if err := s.RemoveCrisisContact(ctx, us, cs[0].ID, "cli"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("removing another organisation's contact: %v", err)
	}
	if err := s.RemoveCrisisContact(ctx, uk, cs[0].ID, "cli"); err != nil {
		t.Fatal(err)
	}
	if cs, _ := s.CrisisContacts(ctx, uk); len(cs) != 1 {
		t.Errorf("after removing one: %v", cs)
	}
}
