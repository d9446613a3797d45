package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// PeerTestStore is what RunPeers tests: the peer store of a store, with
// its accounts (peers name organisations and groups) and objects
// (provenance is recorded at import).
type PeerTestStore interface {
	cyberpact.PeerStore
	cyberpact.AccountService
	cyberpact.ObjectStore
}

// RunPeers runs the suite of cyberpact.PeerStore. open returns a new, empty
// store for each subtest; RunPeers closes it.
func RunPeers(t *testing.T, open func(t *testing.T) PeerTestStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s PeerTestStore)
	}{
		{"PeerCreatedListedAndFoundWithItsKey", testPeerCreated},
		{"PeerInputValidated", testPeerValidated},
		{"PeerNameTakenWhateverTheCase", testPeerConflict},
		{"PeerRemovedWithItsStateAndFailures", testPeerRemoved},
		{"StateStartsEmptyAndRoundTrips", testPeerState},
		{"FailureRecordedRetriedAndCleared", testPeerFailures},
		{"OriginRecordedForAddedVersionsOnly", testOrigins},
		{"OriginGoesWithADeletedObject", testOriginDeleted},
		{"PeerStateSavedWithTheImportOnly", testPeerStateWithImport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tc.fn(t, s)
		})
	}
}

// newPeer returns a valid pull peer named name for audience all.
func newPeer(name string) *cyberpact.Peer {
	return &cyberpact.Peer{
		Name: name, URL: "https://hub.example/taxii2/api1/", Collection: "6e9a5f6a-5b86-5bd8-9d8a-4b1b0b7c9c11",
		User: "sync-" + name, Key: "key-of-" + name, Direction: cyberpact.SyncPull,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll},
	}
}

func mustPeer(t *testing.T, s PeerTestStore, p *cyberpact.Peer) *cyberpact.Peer {
	t.Helper()
	if err := s.CreatePeer(context.Background(), p, "cli"); err != nil {
		t.Fatalf("CreatePeer %s: %v", p.Name, err)
	}
	return p
}

func testPeerCreated(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	org := &cyberpact.Org{Name: "London Hub", Nation: "GB", Sector: "government"}
	if err := s.CreateOrg(ctx, org, "cli"); err != nil {
		t.Fatal(err)
	}
	g := &cyberpact.Group{Name: "US-UK", Orgs: []int64{org.ID}}
	if err := s.CreateGroup(ctx, g, "cli"); err != nil {
		t.Fatal(err)
	}
	b := newPeer("london")
	b.Direction, b.Audience, b.Org, b.PageSize = cyberpact.SyncBoth, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, org.ID, 500
	mustPeer(t, s, b)
	a := mustPeer(t, s, newPeer("amsterdam"))
	if a.ID == 0 || b.ID == 0 || a.ID == b.ID || a.Created.IsZero() {
		t.Fatalf("ids %d %d, created %v", a.ID, b.ID, a.Created)
	}
	ps, err := s.Peers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*cyberpact.Peer{a, b}, ps); diff != "" {
		t.Errorf("Peers (-want +got):\n%s", diff)
	}
	got, err := s.PeerByName(ctx, "LONDON")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("PeerByName (-want +got):\n%s", diff)
	}
	if _, err := s.PeerByName(ctx, "tokyo"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("PeerByName(unknown): %v, want ENOTFOUND", err)
	}
}

func testPeerValidated(t *testing.T, s PeerTestStore) {
	for _, tc := range []struct {
		name   string
		change func(p *cyberpact.Peer)
		code   string
	}{
		{"EmptyName", func(p *cyberpact.Peer) { p.Name = "" }, cyberpact.EINVALID},
		{"NameWithSpace", func(p *cyberpact.Peer) { p.Name = "new york" }, cyberpact.EINVALID},
		{"NotAURL", func(p *cyberpact.Peer) { p.URL = "hub.example/taxii2" }, cyberpact.EINVALID},
		{"FTPURL", func(p *cyberpact.Peer) { p.URL = "ftp://hub.example/" }, cyberpact.EINVALID},
		{"NoCollection", func(p *cyberpact.Peer) { p.Collection = "" }, cyberpact.EINVALID},
		{"NoKey", func(p *cyberpact.Peer) { p.Key = "" }, cyberpact.EINVALID},
		{"BadDirection", func(p *cyberpact.Peer) { p.Direction = "sideways" }, cyberpact.EINVALID},
		{"NoAudience", func(p *cyberpact.Peer) { p.Audience = cyberpact.Audience{} }, cyberpact.EINVALID},
		{"OrgAudienceWithoutOrg", func(p *cyberpact.Peer) { p.Audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg} }, cyberpact.EINVALID},
		{"UnknownGroup", func(p *cyberpact.Peer) { p.Audience = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: 999} }, cyberpact.ENOTFOUND},
		{"UnknownOrg", func(p *cyberpact.Peer) { p.Org = 999 }, cyberpact.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer("bad")
			tc.change(p)
			if err := s.CreatePeer(context.Background(), p, "cli"); cyberpact.ErrorCode(err) != tc.code {
				t.Fatalf("CreatePeer: %v, want %s", err, tc.code)
			}
		})
	}
	if ps, _ := s.Peers(context.Background()); len(ps) != 0 {
		t.Errorf("refused peers were stored: %v", ps)
	}
}

func testPeerConflict(t *testing.T, s PeerTestStore) {
	mustPeer(t, s, newPeer("london"))
	if err := s.CreatePeer(context.Background(), newPeer("London"), "cli"); cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
		t.Fatalf("second London: %v, want ECONFLICT", err)
	}
}

func testPeerRemoved(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	p := mustPeer(t, s, newPeer("london"))
	if err := s.SavePeerState(ctx, &cyberpact.PeerState{Peer: p.ID, PushAfter: 7}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordFailure(ctx, &cyberpact.SyncFailure{Peer: p.ID, Direction: cyberpact.SyncPush, ObjectID: "indicator--x", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePeer(ctx, "london", "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePeer(ctx, "london", "cli"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("second delete: %v, want ENOTFOUND", err)
	}
	if _, err := s.PeerState(ctx, p.ID); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("state of a removed peer: %v, want ENOTFOUND", err)
	}
	if fs, err := s.Failures(ctx, p.ID); err != nil || len(fs) != 0 {
		t.Errorf("failures of a removed peer: %v %v", fs, err)
	}
	// A new peer of the same name starts afresh.
	q := mustPeer(t, s, newPeer("london"))
	if st, err := s.PeerState(ctx, q.ID); err != nil || st.PushAfter != 0 {
		t.Errorf("new peer's state %+v %v", st, err)
	}
}

func testPeerState(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	p := mustPeer(t, s, newPeer("london"))
	st, err := s.PeerState(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&cyberpact.PeerState{Peer: p.ID}, st); diff != "" {
		t.Errorf("first state (-want +got):\n%s", diff)
	}
	want := &cyberpact.PeerState{
		Peer: p.ID, PullAddedAfter: "2026-01-02T03:04:05.123456Z", PullNext: "1200", PushAfter: 99,
		LastRun: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), LastSuccess: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		LastError: "peer answered 503", Failures: 2, Pulled: 10, Pushed: 4, Withheld: 3,
	}
	for i := 0; i < 2; i++ {
		if err := s.SavePeerState(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.PeerState(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if err := s.SavePeerState(ctx, &cyberpact.PeerState{Peer: 999}); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("state of unknown peer: %v, want ENOTFOUND", err)
	}
}

func testPeerFailures(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	p := mustPeer(t, s, newPeer("london"))
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &cyberpact.SyncFailure{Peer: p.ID, Direction: cyberpact.SyncPull, ObjectID: "indicator--a", Version: "2026-01-01T00:00:00.000Z", Reason: "conflict", Last: t1}
	if err := s.RecordFailure(ctx, f); err != nil {
		t.Fatal(err)
	}
	g := *f
	g.Reason, g.Last = "still a conflict", t1.Add(time.Minute)
	if err := s.RecordFailure(ctx, &g); err != nil {
		t.Fatal(err)
	}
	push := &cyberpact.SyncFailure{Peer: p.ID, Direction: cyberpact.SyncPush, ObjectID: "indicator--a", Version: "2026-01-01T00:00:00.000Z", Seq: 5, Reason: "refused", Last: t1.Add(time.Hour)}
	if err := s.RecordFailure(ctx, push); err != nil {
		t.Fatal(err)
	}
	got, err := s.Failures(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []*cyberpact.SyncFailure{
		{Peer: p.ID, Direction: cyberpact.SyncPull, ObjectID: "indicator--a", Version: "2026-01-01T00:00:00.000Z", Reason: "still a conflict", Attempts: 2, First: t1, Last: t1.Add(time.Minute)},
		{Peer: p.ID, Direction: cyberpact.SyncPush, ObjectID: "indicator--a", Version: "2026-01-01T00:00:00.000Z", Seq: 5, Reason: "refused", Attempts: 1, First: t1.Add(time.Hour), Last: t1.Add(time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if err := s.ClearFailure(ctx, p.ID, cyberpact.SyncPull, "indicator--a", "2026-01-01T00:00:00.000Z"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearFailure(ctx, p.ID, cyberpact.SyncPull, "indicator--a", "2026-01-01T00:00:00.000Z"); err != nil {
		t.Errorf("clearing twice: %v", err)
	}
	if got, _ := s.Failures(ctx, p.ID); len(got) != 1 || got[0].Direction != cyberpact.SyncPush {
		t.Errorf("after clear: %+v", got)
	}
	if err := s.RecordFailure(ctx, &cyberpact.SyncFailure{Peer: 999, Direction: cyberpact.SyncPull, ObjectID: "x", Reason: "r"}); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Errorf("failure of unknown peer: %v, want ENOTFOUND", err)
	}
}

func testOrigins(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	local := mustImport(t, s, sdo("malware", 1, 1, nil))
	synced := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	origin := &cyberpact.Origin{Peer: "washington", URL: "https://wa.example/taxii2/api1/", Collection: "c1", Synced: synced}
	// One version already here (present), two new: only the new get
	// provenance, and the local one keeps none.
	res, err := importRaw(t, s, bundle(t, sdo("malware", 1, 1, nil), sdo("malware", 2, 1, nil), sdo("malware", 3, 1, nil)), cyberpact.ImportOptions{Origin: origin})
	if err != nil || !res.Committed || res.Added != 2 || res.Present != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	seqs := []int64{local.FirstSeq}
	objs := all(t, s, cyberpact.ObjectFilter{AllVersions: true})
	for _, o := range objs {
		if o.Seq != local.FirstSeq {
			seqs = append(seqs, o.Seq)
		}
	}
	got, err := s.Origins(ctx, append(seqs, 12345))
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]*cyberpact.Origin{}
	for _, seq := range seqs[1:] {
		want[seq] = origin
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("origins (-want +got):\n%s", diff)
	}
	// An import that is refused records nothing.
	bad := sdo("malware", 4, 1, nil)
	delete(bad, "name")
	res, err = importRaw(t, s, bundle(t, sdo("malware", 5, 1, nil), bad), cyberpact.ImportOptions{Origin: origin})
	if err != nil || res.Committed {
		t.Fatalf("refused import: %+v %v", res, err)
	}
	if n := len(all(t, s, cyberpact.ObjectFilter{AllVersions: true})); n != 3 {
		t.Errorf("%d versions after a refused import, want 3", n)
	}
}

func testOriginDeleted(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	res, err := importRaw(t, s, bundle(t, sdo("malware", 1, 1, nil)), cyberpact.ImportOptions{Origin: &cyberpact.Origin{Peer: "tokyo", URL: "https://t.example/", Collection: "c"}})
	if err != nil || res.Added != 1 {
		t.Fatalf("import: %+v %v", res, err)
	}
	if got, _ := s.Origins(ctx, []int64{res.FirstSeq}); got[res.FirstSeq] == nil || got[res.FirstSeq].Synced.IsZero() {
		t.Fatalf("origin %+v: want one with its time set", got[res.FirstSeq])
	}
	if _, err := s.DeleteObject(ctx, "malware--"+uuid(1), cyberpact.ObjectFilter{}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Origins(ctx, []int64{res.FirstSeq}); err != nil || len(got) != 0 {
		t.Errorf("origin of a deleted version: %v %v", got, err)
	}
}

// testPeerStateWithImport: the state ImportOptions.PeerState returns is
// saved in the import's transaction, with what the import added, and not
// at all when the import is refused.
func testPeerStateWithImport(t *testing.T, s PeerTestStore) {
	ctx := context.Background()
	p := mustPeer(t, s, newPeer("lisbon"))
	state := func(res *cyberpact.ImportResult) *cyberpact.PeerState {
		return &cyberpact.PeerState{Peer: p.ID, PullNext: "before-the-page", Pulled: 40 + int64(res.Added)}
	}
	res, err := importRaw(t, s, bundle(t, sdo("malware", 1, 1, nil), sdo("malware", 2, 1, nil)), cyberpact.ImportOptions{PeerState: state})
	if err != nil || !res.Committed || res.Added != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	want := &cyberpact.PeerState{Peer: p.ID, PullNext: "before-the-page", Pulled: 42}
	got, err := s.PeerState(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state after the import (-want +got):\n%s", diff)
	}
	bad := sdo("malware", 4, 1, nil)
	delete(bad, "name")
	res, err = importRaw(t, s, bundle(t, sdo("malware", 3, 1, nil), bad), cyberpact.ImportOptions{PeerState: state})
	if err != nil || res.Committed {
		t.Fatalf("refused import: %+v %v", res, err)
	}
	if got, err = s.PeerState(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state after a refused import (-want +got):\n%s", diff)
	}
}
