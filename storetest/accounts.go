package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// AccountStore is what RunAccounts tests: accounts and the audit log of one
// store.
type AccountStore interface {
	cyberpact.AccountService
	cyberpact.AuditLog
	Close() error
}

// RunAccounts runs the suite of cyberpact.AccountService and
// cyberpact.AuditLog. open returns a new, empty store for each subtest;
// RunAccounts closes it.
func RunAccounts(t *testing.T, open func(t *testing.T) interface {
	cyberpact.AccountService
	cyberpact.AuditLog
	Close() error
}) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s AccountStore)
	}{
		{"OrgCreatedListedAndFound", testOrgCreated},
		{"OrgInputValidated", testOrgValidated},
		{"OrgNameTakenWhateverTheCase", testOrgConflict},
		{"OrgNotFound", testOrgNotFound},
		{"SetOrgChangesNationAndSector", testSetOrg},
		{"AgreementVersionsKeptAndAudited", testAgreementVersions},
		{"AgreementRefusedChangesNothing", testAgreementRefused},
		{"MarkingSetsAndClearances", testMarkingSetsAndClearances},
		{"GroupOfExistingOrgs", testGroupCreated},
		{"GroupRefusedChangesNothing", testGroupRefused},
		{"SetGroupOrgsReplacesMembers", testSetGroupOrgs},
		{"UserCreatedAndListed", testUserCreated},
		{"UserRefusedChangesNothing", testUserRefused},
		{"KeyAuthenticatesItsUser", testKeyAuthenticates},
		{"KeysAreRandomAndListedWithoutSecret", testKeysListed},
		{"BadCredentialsAllUnauthorizedAlike", testBadCredentials},
		{"KeyOfUnknownUserOrPastExpiryRefused", testKeyRefused},
		{"RevokeIsFinal", testRevoke},
		{"LastUsedRecorded", testLastUsed},
		{"EveryAccountChangeAudited", testAccountChangesAudited},
		{"AuditChainsEntries", testAuditChain},
		{"AuditSetsTimeAndKeepsGivenTime", testAuditTime},
		{"AuditEntryRoundTrips", testAuditRoundTrip},
		{"AuditRefusesBadEntries", testAuditRefused},
		{"AuditFilters", testAuditFilters},
		{"AuditConcurrentAppendsFormOneChain", testAuditConcurrent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// wantCode fails unless err has the code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := cyberpact.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// mkOrg creates an organisation or fails.
func mkOrg(t *testing.T, s AccountStore, name, nation, sector string) *cyberpact.Org {
	t.Helper()
	o := &cyberpact.Org{Name: name, Nation: nation, Sector: sector}
	if err := s.CreateOrg(context.Background(), o, "admin-test"); err != nil {
		t.Fatalf("CreateOrg(%s): %v", name, err)
	}
	return o
}

// mkUser creates a user or fails.
func mkUser(t *testing.T, s AccountStore, name string, org int64, role cyberpact.Role) *cyberpact.User {
	t.Helper()
	u := &cyberpact.User{Name: name, Org: org, Role: role}
	if err := s.CreateUser(context.Background(), u, "admin-test"); err != nil {
		t.Fatalf("CreateUser(%s): %v", name, err)
	}
	return u
}

// mkKey creates a key that does not expire or fails.
func mkKey(t *testing.T, s AccountStore, user int64) (string, *cyberpact.APIKey) {
	t.Helper()
	key, k, err := s.CreateKey(context.Background(), user, time.Time{}, "admin-test")
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return key, k
}

// accountEntries returns the account entries of the audit log.
func accountEntries(t *testing.T, s AccountStore) []*cyberpact.AuditEntry {
	t.Helper()
	es, err := s.AuditEntries(context.Background(), cyberpact.AuditFilter{Action: cyberpact.AuditAccount})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func testOrgCreated(t *testing.T, s AccountStore) {
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	b := mkOrg(t, s, "UK National Cyber Resilience Centre", "gb", "Government")
	a := mkOrg(t, s, "Atlantic Securities Exchange", "US", "finance")
	if b.ID == 0 || a.ID == 0 || a.ID == b.ID {
		t.Fatalf("ids %d, %d: want distinct non-zero", b.ID, a.ID)
	}
	if b.Nation != "GB" || b.Sector != "government" {
		t.Errorf("nation, sector = %q, %q; want GB, government (normalised)", b.Nation, b.Sector)
	}
	if b.Created.Before(before) || b.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("Created = %v, want about now", b.Created)
	}
	list, err := s.Orgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*cyberpact.Org{a, b}, list, cmpTimes); diff != "" {
		t.Errorf("Orgs (by name) -want +got:\n%s", diff)
	}
	got, err := s.OrgByName(ctx, "uk national cyber resilience centre")
	if err != nil || got.ID != b.ID {
		t.Errorf("OrgByName in other case = %+v, %v; want id %d", got, err, b.ID)
	}
	got, err = s.OrgByID(ctx, a.ID)
	if err != nil || got.Name != a.Name {
		t.Errorf("OrgByID = %+v, %v; want %s", got, err, a.Name)
	}
}

// cmpTimes compares times as instants.
var cmpTimes = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func testOrgValidated(t *testing.T, s AccountStore) {
	for _, tc := range []struct {
		name, org, nation, sector string
	}{
		{"EmptyName", "", "GB", "government"},
		{"NameWithSpacesAround", " Bank ", "GB", "finance"},
		{"NameWithComma", "Bank, Ltd", "GB", "finance"},
		{"NameWithControlCharacter", "Bank\x01", "GB", "finance"},
		{"NameTooLong", strings.Repeat("x", 201), "GB", "finance"},
		{"NationUKIsNotISO", "Bank", "UK", "finance"},
		{"NationUnassigned", "Bank", "XX", "finance"},
		{"NationUserAssignedKosovo", "Bank", "XK", "finance"},
		{"NationAlpha3", "Bank", "GBR", "finance"},
		{"NationEmpty", "Bank", "", "finance"},
		{"SectorUnknown", "Bank", "GB", "banking"},
		{"SectorEmpty", "Bank", "GB", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateOrg(context.Background(), &cyberpact.Org{Name: tc.org, Nation: tc.nation, Sector: tc.sector}, "admin-test")
			wantCode(t, "CreateOrg", err, cyberpact.EINVALID)
		})
	}
	if list, _ := s.Orgs(context.Background()); len(list) != 0 {
		t.Errorf("refused organisations stored: %+v", list)
	}
	if es := accountEntries(t, s); len(es) != 0 {
		t.Errorf("refused changes audited: %+v", es)
	}
	// Every assigned code is accepted, e.g. those of small territories.
	for _, c := range []string{"AX", "BQ", "SS", "SX", "CW", "JP", "DE"} {
		mkOrg(t, s, "Org "+c, c, "other")
	}
}

func testSetOrg(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Kanto Power", "JP", "energy")
	set := &cyberpact.Org{ID: o.ID, Nation: "us"}
	if err := s.SetOrg(ctx, set, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if set.Nation != "US" || set.Sector != "energy" || set.Name != "Kanto Power" {
		t.Errorf("SetOrg(nation us) wrote back %+v; want nation US, sector energy kept", set)
	}
	if err := s.SetOrg(ctx, &cyberpact.Org{ID: o.ID, Sector: "Water"}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	got, err := s.OrgByID(ctx, o.ID)
	if err != nil || got.Nation != "US" || got.Sector != "water" {
		t.Errorf("OrgByID after SetOrg = %+v, %v; want US, water", got, err)
	}
	for _, bad := range []*cyberpact.Org{{ID: o.ID, Nation: "UK"}, {ID: o.ID, Sector: "banking"}} {
		wantCode(t, fmt.Sprintf("SetOrg(%+v)", bad), s.SetOrg(ctx, bad, "admin-test"), cyberpact.EINVALID)
	}
	wantCode(t, "SetOrg of no organisation", s.SetOrg(ctx, &cyberpact.Org{ID: o.ID + 100, Nation: "GB"}, "admin-test"), cyberpact.ENOTFOUND)
	if got, _ := s.OrgByID(ctx, o.ID); got.Nation != "US" || got.Sector != "water" {
		t.Errorf("refused SetOrg changed the organisation: %+v", got)
	}
	es := accountEntries(t, s)
	if len(es) != 3 || !strings.Contains(es[2].Detail, "sector water; was nation US, sector energy") || es[2].Recipient != o.ID {
		t.Errorf("audit entries %+v; want the creation and two changes, the last naming old and new values", es)
	}
}

func testOrgConflict(t *testing.T, s AccountStore) {
	mkOrg(t, s, "Kanto Power", "JP", "energy")
	err := s.CreateOrg(context.Background(), &cyberpact.Org{Name: "KANTO POWER", Nation: "JP", Sector: "energy"}, "admin-test")
	wantCode(t, "CreateOrg with a taken name", err, cyberpact.ECONFLICT)
	if list, _ := s.Orgs(context.Background()); len(list) != 1 {
		t.Errorf("%d organisations, want 1", len(list))
	}
}

func testOrgNotFound(t *testing.T, s AccountStore) {
	ctx := context.Background()
	_, err := s.OrgByName(ctx, "nobody")
	wantCode(t, "OrgByName", err, cyberpact.ENOTFOUND)
	_, err = s.OrgByID(ctx, 42)
	wantCode(t, "OrgByID", err, cyberpact.ENOTFOUND)
	_, err = s.GroupByName(ctx, "nobody")
	wantCode(t, "GroupByName", err, cyberpact.ENOTFOUND)
	_, err = s.UserByName(ctx, "nobody")
	wantCode(t, "UserByName", err, cyberpact.ENOTFOUND)
}

func testGroupCreated(t *testing.T, s AccountStore) {
	ctx := context.Background()
	us := mkOrg(t, s, "US Agency", "US", "government")
	uk := mkOrg(t, s, "UK Centre", "GB", "government")
	jp := mkOrg(t, s, "JP Team", "JP", "defence")
	g := &cyberpact.Group{Name: "US-UK Joint Cyber Cell", Orgs: []int64{uk.ID, us.ID, uk.ID}}
	if err := s.CreateGroup(ctx, g, "admin-test"); err != nil {
		t.Fatal(err)
	}
	all := &cyberpact.Group{Name: "All Three", Orgs: []int64{jp.ID, us.ID, uk.ID}}
	if err := s.CreateGroup(ctx, all, "admin-test"); err != nil {
		t.Fatal(err)
	}
	empty := &cyberpact.Group{Name: "Empty For Now"}
	if err := s.CreateGroup(ctx, empty, "admin-test"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GroupByName(ctx, "us-uk joint cyber cell")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sortedIDs(us.ID, uk.ID), got.Orgs); diff != "" {
		t.Errorf("members (sorted, no repeats) -want +got:\n%s", diff)
	}
	list, err := s.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range list {
		names = append(names, g.Name)
	}
	if diff := cmp.Diff([]string{"All Three", "Empty For Now", "US-UK Joint Cyber Cell"}, names); diff != "" {
		t.Errorf("Groups by name -want +got:\n%s", diff)
	}
	for _, tc := range []struct {
		org  int64
		want []int64
	}{{us.ID, sortedIDs(g.ID, all.ID)}, {jp.ID, []int64{all.ID}}} {
		got, err := s.GroupsOf(ctx, tc.org)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("GroupsOf(%d) -want +got:\n%s", tc.org, diff)
		}
	}
}

// sortedIDs returns ids in increasing order.
func sortedIDs(ids ...int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func testGroupRefused(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Only Org", "DE", "finance")
	if err := s.CreateGroup(ctx, &cyberpact.Group{Name: "Taken", Orgs: []int64{o.ID}}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	n := len(accountEntries(t, s))
	for _, tc := range []struct {
		name string
		g    cyberpact.Group
		code string
	}{
		{"UnknownOrg", cyberpact.Group{Name: "New", Orgs: []int64{o.ID, o.ID + 100}}, cyberpact.ENOTFOUND},
		{"NameTaken", cyberpact.Group{Name: "TAKEN", Orgs: []int64{o.ID}}, cyberpact.ECONFLICT},
		{"EmptyName", cyberpact.Group{Orgs: []int64{o.ID}}, cyberpact.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateGroup(ctx, &tc.g, "admin-test")
			wantCode(t, "CreateGroup", err, tc.code)
		})
	}
	if list, _ := s.Groups(ctx); len(list) != 1 {
		t.Errorf("%d groups after refusals, want 1", len(list))
	}
	if got := len(accountEntries(t, s)); got != n {
		t.Errorf("%d account entries after refusals, want %d", got, n)
	}
}

func testSetGroupOrgs(t *testing.T, s AccountStore) {
	ctx := context.Background()
	a := mkOrg(t, s, "A", "FR", "telecom")
	b := mkOrg(t, s, "B", "IT", "telecom")
	c := mkOrg(t, s, "C", "ES", "telecom")
	g := &cyberpact.Group{Name: "Telcos", Orgs: []int64{a.ID, b.ID}}
	if err := s.CreateGroup(ctx, g, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupOrgs(ctx, g.ID, []int64{c.ID, b.ID}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	got, err := s.GroupByName(ctx, "Telcos")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sortedIDs(b.ID, c.ID), got.Orgs); diff != "" {
		t.Errorf("members -want +got:\n%s", diff)
	}
	if gs, _ := s.GroupsOf(ctx, a.ID); len(gs) != 0 {
		t.Errorf("removed member still in groups %v", gs)
	}
	err = s.SetGroupOrgs(ctx, g.ID+100, []int64{a.ID}, "admin-test")
	wantCode(t, "SetGroupOrgs of an unknown group", err, cyberpact.ENOTFOUND)
	err = s.SetGroupOrgs(ctx, g.ID, []int64{a.ID, c.ID + 100}, "admin-test")
	wantCode(t, "SetGroupOrgs with an unknown org", err, cyberpact.ENOTFOUND)
	got, _ = s.GroupByName(ctx, "Telcos")
	if diff := cmp.Diff(sortedIDs(b.ID, c.ID), got.Orgs); diff != "" {
		t.Errorf("members after refused changes -want +got:\n%s", diff)
	}
	if err := s.SetGroupOrgs(ctx, g.ID, nil, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.GroupByName(ctx, "Telcos"); len(got.Orgs) != 0 {
		t.Errorf("members after emptying = %v", got.Orgs)
	}
}

func testUserCreated(t *testing.T, s AccountStore) {
	ctx := context.Background()
	a := mkOrg(t, s, "A", "NL", "finance")
	b := mkOrg(t, s, "B", "BE", "finance")
	bob := mkUser(t, s, "bob", b.ID, cyberpact.RoleReader)
	alice := mkUser(t, s, "alice@a.example", a.ID, cyberpact.RoleAnalyst)
	sync := mkUser(t, s, "sync-peer-1", a.ID, cyberpact.RoleSync)
	if alice.ID == 0 || alice.Created.IsZero() {
		t.Errorf("created user %+v: want ID and Created set", alice)
	}
	all, err := s.Users(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*cyberpact.User{alice, bob, sync}, all, cmpTimes); diff != "" {
		t.Errorf("Users(0) by name -want +got:\n%s", diff)
	}
	ofA, err := s.Users(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*cyberpact.User{alice, sync}, ofA, cmpTimes); diff != "" {
		t.Errorf("Users(a) -want +got:\n%s", diff)
	}
	got, err := s.UserByName(ctx, "BOB")
	if err != nil || got.ID != bob.ID || got.Role != cyberpact.RoleReader {
		t.Errorf("UserByName(BOB) = %+v, %v", got, err)
	}
}

func testUserRefused(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Org", "SE", "health")
	mkUser(t, s, "carol", o.ID, cyberpact.RoleAdmin)
	n := len(accountEntries(t, s))
	for _, tc := range []struct {
		name string
		u    cyberpact.User
		code string
	}{
		{"EmptyName", cyberpact.User{Org: o.ID, Role: cyberpact.RoleReader}, cyberpact.EINVALID},
		{"NameWithColon", cyberpact.User{Name: "a:b", Org: o.ID, Role: cyberpact.RoleReader}, cyberpact.EINVALID},
		{"NameWithSpace", cyberpact.User{Name: "a b", Org: o.ID, Role: cyberpact.RoleReader}, cyberpact.EINVALID},
		{"NameNotASCII", cyberpact.User{Name: "josé", Org: o.ID, Role: cyberpact.RoleReader}, cyberpact.EINVALID},
		{"UnknownRole", cyberpact.User{Name: "dave", Org: o.ID, Role: "root"}, cyberpact.EINVALID},
		{"UnknownOrg", cyberpact.User{Name: "dave", Org: o.ID + 100, Role: cyberpact.RoleReader}, cyberpact.ENOTFOUND},
		{"NameTaken", cyberpact.User{Name: "Carol", Org: o.ID, Role: cyberpact.RoleReader}, cyberpact.ECONFLICT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateUser(ctx, &tc.u, "admin-test")
			wantCode(t, "CreateUser", err, tc.code)
		})
	}
	if us, _ := s.Users(ctx, 0); len(us) != 1 {
		t.Errorf("%d users after refusals, want 1", len(us))
	}
	if got := len(accountEntries(t, s)); got != n {
		t.Errorf("%d account entries after refusals, want %d", got, n)
	}
	err := s.CreateOrg(ctx, &cyberpact.Org{Name: "X", Nation: "GB", Sector: "other"}, "")
	wantCode(t, "CreateOrg without actor", err, cyberpact.EINVALID)
}

func testKeyAuthenticates(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Hanseatic Payments", "DE", "finance")
	other := mkOrg(t, s, "Other", "DK", "finance")
	g := &cyberpact.Group{Name: "Baltic", Orgs: []int64{o.ID, other.ID}}
	if err := s.CreateGroup(ctx, g, "admin-test"); err != nil {
		t.Fatal(err)
	}
	u := mkUser(t, s, "erin", o.ID, cyberpact.RoleAnalyst)
	key, k := mkKey(t, s, u.ID)
	if k.ID == 0 || k.User != u.ID || !strings.HasPrefix(key, k.Prefix) || len(k.Prefix) >= len(key) {
		t.Errorf("key %+v for %q: want id, user and a prefix of the key", k, key)
	}
	for _, name := range []string{"", "erin", "ERIN"} {
		p, err := s.Authenticate(ctx, name, key)
		if err != nil {
			t.Fatalf("Authenticate(%q): %v", name, err)
		}
		if p.User.ID != u.ID || p.User.Role != cyberpact.RoleAnalyst || p.Org.ID != o.ID || p.Org.Name != o.Name {
			t.Errorf("Authenticate(%q) = %+v", name, p)
		}
		if diff := cmp.Diff([]int64{g.ID}, p.Groups); diff != "" {
			t.Errorf("principal's groups -want +got:\n%s", diff)
		}
		if v := p.Viewer(); v.Org != o.ID || !v.InGroup(g.ID) {
			t.Errorf("viewer %+v", v)
		}
	}
}

func testKeysListed(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "O", "CA", "transport")
	u1 := mkUser(t, s, "u1", o.ID, cyberpact.RoleReader)
	u2 := mkUser(t, s, "u2", o.ID, cyberpact.RoleReader)
	seen := map[string]bool{}
	var ids []int64
	for _, u := range []int64{u1.ID, u2.ID, u1.ID} {
		key, k := mkKey(t, s, u)
		if seen[key] {
			t.Fatalf("key %q made twice", key)
		}
		seen[key] = true
		if len(key) < 40 {
			t.Errorf("key %q is short: want at least 32 random bytes", key)
		}
		ids = append(ids, k.ID)
	}
	all, err := s.Keys(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("Keys(0) = %d keys, want 3", len(all))
	}
	for i, k := range all {
		if k.ID != ids[i] || k.Prefix == "" || !k.Revoked.IsZero() || !k.Expires.IsZero() {
			t.Errorf("key %d = %+v", i, k)
		}
		for key := range seen {
			if strings.Contains(fmt.Sprintf("%+v", k), key) {
				t.Errorf("listed key %+v shows the secret", k)
			}
		}
	}
	of1, err := s.Keys(ctx, u1.ID)
	if err != nil || len(of1) != 2 || of1[0].ID != ids[0] || of1[1].ID != ids[2] {
		t.Errorf("Keys(u1) = %+v, %v; want keys %d and %d", of1, err, ids[0], ids[2])
	}
}

func testBadCredentials(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "O", "AU", "defence")
	u := mkUser(t, s, "frank", o.ID, cyberpact.RoleAnalyst)
	mkUser(t, s, "grace", o.ID, cyberpact.RoleAnalyst)
	good, _ := mkKey(t, s, u.ID)
	revoked, rk := mkKey(t, s, u.ID)
	if err := s.RevokeKey(ctx, rk.ID, "admin-test"); err != nil {
		t.Fatal(err)
	}
	expiring, _, err := s.CreateKey(ctx, u.ID, time.Now().Add(1500*time.Millisecond), "admin-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, "", expiring); err != nil {
		t.Fatalf("key before its expiry: %v", err)
	}
	time.Sleep(1600 * time.Millisecond)
	flipped := []byte(good)
	flipped[len(flipped)-1] ^= 1
	var msgs []string
	for _, tc := range []struct{ name, user, key string }{
		{"UnknownKey", "", string(flipped)},
		{"EmptyKey", "", ""},
		{"NotAKey", "", "password"},
		{"KeyWithSuffix", "", good + "x"},
		{"Revoked", "", revoked},
		{"Expired", "", expiring},
		{"OtherUsersName", "grace", good},
		{"UnknownUserName", "nobody", good},
		{"RevokedWithRightUser", "frank", revoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Authenticate(ctx, tc.user, tc.key)
			if p != nil {
				t.Errorf("principal %+v for bad credentials", p)
			}
			wantCode(t, "Authenticate", err, cyberpact.EUNAUTHORIZED)
			msgs = append(msgs, cyberpact.ErrorMessage(err))
		})
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("messages differ (%q, %q): they must not say why", msgs[0], m)
		}
	}
}

func testKeyRefused(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "O", "NZ", "other")
	u := mkUser(t, s, "heidi", o.ID, cyberpact.RoleReader)
	_, _, err := s.CreateKey(ctx, u.ID+100, time.Time{}, "admin-test")
	wantCode(t, "CreateKey of an unknown user", err, cyberpact.ENOTFOUND)
	_, _, err = s.CreateKey(ctx, u.ID, time.Now().Add(-time.Hour), "admin-test")
	wantCode(t, "CreateKey expiring in the past", err, cyberpact.EINVALID)
	err = s.RevokeKey(ctx, 12345, "admin-test")
	wantCode(t, "RevokeKey of an unknown key", err, cyberpact.ENOTFOUND)
	if ks, _ := s.Keys(ctx, 0); len(ks) != 0 {
		t.Errorf("refused keys stored: %+v", ks)
	}
}

func testRevoke(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "O", "IE", "other")
	u := mkUser(t, s, "ivan", o.ID, cyberpact.RoleReader)
	key, k := mkKey(t, s, u.ID)
	other, _ := mkKey(t, s, u.ID)
	if err := s.RevokeKey(ctx, k.ID, "admin-test"); err != nil {
		t.Fatal(err)
	}
	ks, _ := s.Keys(ctx, u.ID)
	if ks[0].Revoked.IsZero() || ks[0].Active(time.Now()) {
		t.Errorf("revoked key listed as %+v", ks[0])
	}
	first := ks[0].Revoked
	n := len(accountEntries(t, s))
	if err := s.RevokeKey(ctx, k.ID, "admin-test"); err != nil {
		t.Errorf("revoking again: %v", err)
	}
	ks, _ = s.Keys(ctx, u.ID)
	if !ks[0].Revoked.Equal(first) {
		t.Errorf("revoking again moved the revocation time from %v to %v", first, ks[0].Revoked)
	}
	if got := len(accountEntries(t, s)); got != n {
		t.Errorf("revoking again was audited as a change")
	}
	_, err := s.Authenticate(ctx, "", key)
	wantCode(t, "Authenticate with a revoked key", err, cyberpact.EUNAUTHORIZED)
	if _, err := s.Authenticate(ctx, "", other); err != nil {
		t.Errorf("the user's other key: %v", err)
	}
}

func testLastUsed(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "O", "SG", "technology")
	u := mkUser(t, s, "judy", o.ID, cyberpact.RoleReader)
	key, k := mkKey(t, s, u.ID)
	if !k.LastUsed.IsZero() {
		t.Errorf("new key LastUsed = %v, want zero", k.LastUsed)
	}
	before := time.Now().Add(-time.Second)
	for range 50 {
		if _, err := s.Authenticate(ctx, "", key); err != nil {
			t.Fatal(err)
		}
	}
	// The use may be recorded in the background: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ks, err := s.Keys(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !ks[0].LastUsed.IsZero() {
			if ks[0].LastUsed.Before(before) || ks[0].LastUsed.After(time.Now().Add(time.Second)) {
				t.Errorf("LastUsed = %v, want about now", ks[0].LastUsed)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("LastUsed not recorded after 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testAccountChangesAudited(t *testing.T, s AccountStore) {
	ctx := context.Background()
	o := mkOrg(t, s, "Midland Grid", "GB", "energy")
	p := mkOrg(t, s, "Kanto", "JP", "energy")
	g := &cyberpact.Group{Name: "Grids", Orgs: []int64{o.ID}}
	if err := s.CreateGroup(ctx, g, "admin-test"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupOrgs(ctx, g.ID, []int64{o.ID, p.ID}, "admin-test"); err != nil {
		t.Fatal(err)
	}
	u := mkUser(t, s, "mallory", o.ID, cyberpact.RoleOrgAdmin)
	// A user acting: the entry carries the user's organisation.
	key, k, err := s.CreateKey(ctx, u.ID, time.Now().Add(time.Hour), "mallory")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeKey(ctx, k.ID, "mallory"); err != nil {
		t.Fatal(err)
	}
	es := accountEntries(t, s)
	wantWords := []string{"Midland Grid", "Kanto", "Grids", "Grids", "mallory", "key", "revoked"}
	if len(es) != len(wantWords) {
		t.Fatalf("%d account entries, want %d: %+v", len(es), len(wantWords), es)
	}
	for i, e := range es {
		if !strings.Contains(e.Detail, wantWords[i]) {
			t.Errorf("entry %d detail %q does not mention %q", i, e.Detail, wantWords[i])
		}
		wantActor, wantOrg := "admin-test", int64(0)
		if i >= 5 {
			wantActor, wantOrg = "mallory", o.ID
		}
		if e.Actor != wantActor || e.ActorOrg != wantOrg || e.Action != cyberpact.AuditAccount {
			t.Errorf("entry %d: actor %q (org %d), action %q; want %q (org %d), account", i, e.Actor, e.ActorOrg, e.Action, wantActor, wantOrg)
		}
		if strings.Contains(e.Detail, key) || strings.Contains(e.Detail, key[len(k.Prefix):]) {
			t.Errorf("entry %d detail %q shows the key", i, e.Detail)
		}
	}
	if !strings.Contains(es[3].Detail, "Kanto") {
		t.Errorf("membership change %q does not name the new member", es[3].Detail)
	}
}

func testAuditChain(t *testing.T, s AccountStore) {
	ctx := context.Background()
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit of an empty log = %d, %v", n, err)
	}
	es := []*cyberpact.AuditEntry{
		{Action: cyberpact.AuditWrite, Actor: "a", ActorOrg: 1, Via: "rest", Objects: []string{"tool--1@2024-01-01T00:00:00.000Z"}},
		{Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Via: "taxii", Objects: []string{"tool--1@2024-01-01T00:00:00.000Z"}},
	}
	if err := s.Audit(ctx, es...); err != nil {
		t.Fatal(err)
	}
	more := &cyberpact.AuditEntry{Action: cyberpact.AuditDelete, Actor: "a", ActorOrg: 1, Via: "cli"}
	if err := s.Audit(ctx, more); err != nil {
		t.Fatal(err)
	}
	es = append(es, more)
	prev := strings.Repeat("0", 64)
	for i, e := range es {
		if e.Seq != int64(i+1) {
			t.Errorf("entry %d Seq = %d, want %d", i, e.Seq, i+1)
		}
		if e.Prev != prev {
			t.Errorf("entry %d Prev = %q, want the hash before it, %q", i, e.Prev, prev)
		}
		if len(e.Hash) != 64 || e.Hash == e.Prev {
			t.Errorf("entry %d Hash = %q", i, e.Hash)
		}
		prev = e.Hash
	}
	stored, err := s.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, stored, cmpTimes); diff != "" {
		t.Errorf("stored entries -appended +read:\n%s", diff)
	}
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v; want 0", n, err)
	}
	if err := s.Audit(ctx); err != nil {
		t.Errorf("Audit of nothing: %v", err)
	}
}

func testAuditTime(t *testing.T, s AccountStore) {
	ctx := context.Background()
	given := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600))
	before := time.Now().Add(-time.Second)
	zero := &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "a"}
	set := &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "a", Time: given}
	if err := s.Audit(ctx, zero, set); err != nil {
		t.Fatal(err)
	}
	if zero.Time.Before(before) || zero.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("zero Time set to %v, want about now", zero.Time)
	}
	if !set.Time.Equal(given.Truncate(time.Microsecond)) {
		t.Errorf("given Time became %v, want %v to the microsecond", set.Time, given)
	}
	stored, _ := s.AuditEntries(ctx, cyberpact.AuditFilter{})
	if len(stored) != 2 || !stored[1].Time.Equal(set.Time) || !stored[0].Time.Equal(zero.Time) {
		t.Errorf("stored times %+v", stored)
	}
}

func testAuditRoundTrip(t *testing.T, s AccountStore) {
	ctx := context.Background()
	page := make([]string, 1000)
	for i := range page {
		page[i] = fmt.Sprintf("indicator--%08d-0000-4000-8000-000000000000@2024-01-01T00:00:00.%03dZ", i, i%1000)
	}
	page[999] = "ipv4-addr--00000000-0000-5000-8000-000000000000@" // observables have no version
	es := []*cyberpact.AuditEntry{
		{Action: cyberpact.AuditRelease, Actor: "sync-eu", ActorOrg: 7, Recipient: 9, Via: "taxii", Objects: page, Detail: "page of 1000"},
		{Action: cyberpact.AuditAccount, Actor: "cli", Detail: "unicode: Zürich, 東京, \"quotes\" and \\ and \n newline"},
		{Action: cyberpact.AuditWrite, Actor: "x", Objects: []string{`odd"id@v`}},
	}
	if err := s.Audit(ctx, es...); err != nil {
		t.Fatal(err)
	}
	stored, err := s.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(es, stored, cmpTimes); diff != "" {
		t.Errorf("-appended +read:\n%s", diff)
	}
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
}

func testAuditRefused(t *testing.T, s AccountStore) {
	ctx := context.Background()
	good := &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "a"}
	for _, tc := range []struct {
		name string
		e    *cyberpact.AuditEntry
	}{
		{"Nil", nil},
		{"NoAction", &cyberpact.AuditEntry{Actor: "a"}},
		{"NoActor", &cyberpact.AuditEntry{Action: cyberpact.AuditWrite}},
		{"ObjectNotUTF8", &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "a", Objects: []string{"x\xff"}}},
		{"DetailWithNUL", &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "a", Detail: "a\x00b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Audit(ctx, good, tc.e)
			wantCode(t, "Audit", err, cyberpact.EINVALID)
		})
	}
	if es, _ := s.AuditEntries(ctx, cyberpact.AuditFilter{}); len(es) != 0 {
		t.Errorf("a refused call appended %d entries, want none", len(es))
	}
}

func testAuditFilters(t *testing.T, s AccountStore) {
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2025, 1, d, 12, 0, 0, 0, time.UTC) }
	obj := func(n int, v string) string {
		return fmt.Sprintf("malware--%08x-0000-4000-8000-000000000000@%s", n, v)
	}
	es := []*cyberpact.AuditEntry{
		{Time: day(1), Action: cyberpact.AuditWrite, Actor: "a", ActorOrg: 1, Objects: []string{obj(1, "v1"), obj(2, "v1")}},
		{Time: day(2), Action: cyberpact.AuditRelease, Actor: "b", ActorOrg: 2, Recipient: 2, Objects: []string{obj(1, "v1")}},
		{Time: day(3), Action: cyberpact.AuditRelease, Actor: "c", ActorOrg: 3, Recipient: 3, Objects: []string{obj(2, "v1"), obj(16, "v1")}},
		{Time: day(4), Action: cyberpact.AuditWrite, Actor: "a", ActorOrg: 1, Objects: []string{obj(1, "v2")}},
		{Time: day(5), Action: cyberpact.AuditAccount, Actor: "cli", Detail: "created organisation"},
		{Time: day(6), Action: cyberpact.AuditRelease, Actor: "a", ActorOrg: 1, Recipient: 3, Objects: []string{obj(1, "v2")}},
	}
	if err := s.Audit(ctx, es...); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    cyberpact.AuditFilter
		want []int64
	}{
		{"All", cyberpact.AuditFilter{}, []int64{1, 2, 3, 4, 5, 6}},
		{"OrgAsActorOrRecipient", cyberpact.AuditFilter{Org: 3}, []int64{3, 6}},
		{"OrgAsActor", cyberpact.AuditFilter{Org: 1}, []int64{1, 4, 6}},
		{"ObjectAnyVersion", cyberpact.AuditFilter{Object: "malware--00000001-0000-4000-8000-000000000000"}, []int64{1, 2, 4, 6}},
		{"ObjectIsNotAPrefixMatch", cyberpact.AuditFilter{Object: "malware--00000001"}, nil},
		{"ObjectOther", cyberpact.AuditFilter{Object: "malware--00000010-0000-4000-8000-000000000000"}, []int64{3}},
		{"Action", cyberpact.AuditFilter{Action: cyberpact.AuditRelease}, []int64{2, 3, 6}},
		{"SinceInclusive", cyberpact.AuditFilter{Since: day(5)}, []int64{5, 6}},
		{"UntilInclusive", cyberpact.AuditFilter{Until: day(2)}, []int64{1, 2}},
		{"TimeRange", cyberpact.AuditFilter{Since: day(2), Until: day(4).Add(-time.Hour)}, []int64{2, 3}},
		{"AfterAndLimitPage", cyberpact.AuditFilter{After: 2, Limit: 2}, []int64{3, 4}},
		{"Combined", cyberpact.AuditFilter{Org: 1, Action: cyberpact.AuditRelease, Object: "malware--00000001-0000-4000-8000-000000000000"}, []int64{6}},
		{"NothingMatches", cyberpact.AuditFilter{Org: 99}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.AuditEntries(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []int64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if diff := cmp.Diff(tc.want, seqs); diff != "" {
				t.Errorf("seqs -want +got:\n%s", diff)
			}
		})
	}
}

func testAuditConcurrent(t *testing.T, s AccountStore) {
	ctx := context.Background()
	const workers, each = 32, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: fmt.Sprintf("w%d", w), Recipient: int64(w + 1),
					Objects: []string{fmt.Sprintf("note--%d@%d", w, i)}}
				if err := s.Audit(ctx, e); err != nil {
					errs <- err
					return
				}
				if e.Seq == 0 || e.Hash == "" {
					errs <- fmt.Errorf("the audit log returned an entry without Seq and Hash: %+v", e)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	all, err := s.AuditEntries(ctx, cyberpact.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != workers*each {
		t.Fatalf("%d entries, want %d", len(all), workers*each)
	}
	for i, e := range all {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has Seq %d: want contiguous from 1", i, e.Seq)
		}
		if i > 0 && e.Prev != all[i-1].Hash {
			t.Fatalf("entry %d not chained to the one before", e.Seq)
		}
	}
	if n, err := s.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
}
