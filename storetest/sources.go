package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// SourceTestStore is what RunSources tests: the source store of a store,
// with its accounts (sources name organisations and groups).
type SourceTestStore interface {
	cyberpact.SourceStore
	cyberpact.AccountService
	Close() error
}

// RunSources runs the suite of cyberpact.SourceStore. open returns a new,
// empty store for each subtest; RunSources closes it.
func RunSources(t *testing.T, open func(t *testing.T) SourceTestStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s SourceTestStore)
	}{
		{"SourceCreatedListedAndFoundWithItsKey", testSourceCreated},
		{"SourceInputValidatedAndNothingWritten", testSourceValidated},
		{"SourceNameTakenWhateverTheCase", testSourceConflict},
		{"SourceStateStartsEmptyRoundTripsAndGoesWithItsSource", testSourceState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

func newSource(name string) *cyberpact.Source {
	return &cyberpact.Source{Name: name, Kind: cyberpact.SourceMISP, URL: "https://misp.example/feed", Key: "key-of-" + name,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Interval: time.Hour}
}

func testSourceCreated(t *testing.T, s SourceTestStore) {
	ctx := context.Background()
	org := &cyberpact.Org{Name: "Feeds Org", Nation: "GB", Sector: "government"}
	if err := s.CreateOrg(ctx, org, "cli"); err != nil {
		t.Fatal(err)
	}
	g := &cyberpact.Group{Name: "Feed Group", Orgs: []int64{org.ID}}
	if err := s.CreateGroup(ctx, g, "cli"); err != nil {
		t.Fatal(err)
	}
	csv := &cyberpact.Source{Name: "blocklist", Kind: cyberpact.SourceCSV, URL: "http://127.0.0.1:1/list.csv", Columns: "value=2,type=1,header",
		Type: "auto", Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, Org: org.ID, Interval: 90 * time.Minute}
	misp := newSource("circl")
	for _, src := range []*cyberpact.Source{misp, csv} {
		if err := s.CreateSource(ctx, src, "cli"); err != nil {
			t.Fatalf("CreateSource %s: %v", src.Name, err)
		}
		if src.ID == 0 || src.Created.IsZero() {
			t.Errorf("%s: ID %d, Created %v", src.Name, src.ID, src.Created)
		}
	}
	all, err := s.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*cyberpact.Source{csv, misp}, all); diff != "" {
		t.Errorf("Sources (-want +got):\n%s", diff)
	}
	got, err := s.SourceByName(ctx, "CIRCL")
	if err != nil || got.Key != "key-of-circl" {
		t.Errorf("SourceByName CIRCL: %+v, %v", got, err)
	}
	if _, err := s.SourceByName(ctx, "nope"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("SourceByName nope: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteSource(ctx, "circl", "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSource(ctx, "circl", "cli"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("second DeleteSource: %v, want ENOTFOUND", err)
	}
	if all, _ := s.Sources(ctx); len(all) != 1 || all[0].Name != "blocklist" || all[0].Key != "" {
		t.Errorf("after removal: %+v", all)
	}
}

func testSourceValidated(t *testing.T, s SourceTestStore) {
	ctx := context.Background()
	for name, mod := range map[string]func(*cyberpact.Source){
		"NoName":            func(x *cyberpact.Source) { x.Name = "" },
		"BadKind":           func(x *cyberpact.Source) { x.Kind = "rss" },
		"NotHTTP":           func(x *cyberpact.Source) { x.URL = "ftp://misp.example/" },
		"TAXIIWithoutColl":  func(x *cyberpact.Source) { x.Kind = cyberpact.SourceTAXII },
		"CSVWithoutColumns": func(x *cyberpact.Source) { x.Kind = cyberpact.SourceCSV },
		"BadColumns":        func(x *cyberpact.Source) { x.Kind, x.Columns = cyberpact.SourceCSV, "value=0" },
		"BadType":           func(x *cyberpact.Source) { x.Kind, x.Type = cyberpact.SourceList, "ipv5" },
		"TooOften":          func(x *cyberpact.Source) { x.Interval = time.Second },
		"OrgAudienceNoOrg":  func(x *cyberpact.Source) { x.Audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg} },
	} {
		src := newSource("bad")
		mod(src)
		if err := s.CreateSource(ctx, src, "cli"); cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
	src := newSource("unknown-org")
	src.Org = 999
	if err := s.CreateSource(ctx, src, "cli"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("unknown org: %v, want ENOTFOUND", err)
	}
	if all, err := s.Sources(ctx); err != nil || len(all) != 0 {
		t.Errorf("refused sources were written: %+v, %v", all, err)
	}
}

func testSourceConflict(t *testing.T, s SourceTestStore) {
	ctx := context.Background()
	if err := s.CreateSource(ctx, newSource("osint"), "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSource(ctx, newSource("OSINT"), "cli"); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Errorf("second OSINT: %v, want ECONFLICT", err)
	}
}

func testSourceState(t *testing.T, s SourceTestStore) {
	ctx := context.Background()
	src := newSource("osint")
	if err := s.CreateSource(ctx, src, "cli"); err != nil {
		t.Fatal(err)
	}
	st, err := s.SourceState(ctx, src.ID)
	if err != nil || !st.LastRun.IsZero() || st.Source != src.ID || !st.Due(src, time.Now()) {
		t.Fatalf("first state: %+v, %v", st, err)
	}
	run := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	want := &cyberpact.SourceState{Source: src.ID, LastRun: run, LastSuccess: run, Runs: 3, LastAdded: 2, Added: 7, Present: 1,
		ETag: `"x"`, Events: map[string]int64{"5d0f6f1e-0d1f-4d7f-9c3b-2f3f1c2e4a5b": 1767225600}}
	if err := s.SaveSourceState(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.SourceState(ctx, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if got.Due(src, run.Add(59*time.Minute)) || !got.Due(src, run.Add(time.Hour)) {
		t.Errorf("Due: an hourly source that ran at %v", run)
	}
	if err := s.DeleteSource(ctx, "osint", "cli"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SourceState(ctx, src.ID); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("state of a removed source: %v, want ENOTFOUND", err)
	}
	if err := s.SaveSourceState(ctx, want); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("saving the state of a removed source: %v, want ENOTFOUND", err)
	}
}
