package http_test

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestPrivacyPolicyOfAGroupIsShownOnlyToItsMembers: a sharing group's
// personal-data policy is a term its members share under, and its name is
// no more known outside it than its agreement (404 to a non-member). The
// list of policies shows a member the hub's default and its own groups'
// only; a hub admin every one.
func TestPrivacyPolicyOfAGroupIsShownOnlyToItsMembers(t *testing.T) {
	db := openDB(t)
	a, b, c := mkOrg(t, db, "A"), mkOrg(t, db, "B"), mkOrg(t, db, "C")
	mkGroup(t, db, "Secret Cell", a, b)
	g, err := db.GroupByName(context.Background(), "Secret Cell")
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range []*cyberpact.PrivacyPolicy{{Detectors: "email"}, {Group: g.ID, Detectors: "phone"}} {
		if err := db.SetPrivacyPolicy(context.Background(), pol, "test"); err != nil {
			t.Fatal(err)
		}
	}
	bob, carl, root := mkMember(t, db, b, "bob", cyberpact.RoleAnalyst), mkMember(t, db, c, "carl", cyberpact.RoleAnalyst), mkMember(t, db, c, "root", cyberpact.RoleAdmin)
	_, base := serve(t, db, nil)
	groups := func(m *member) map[string]bool {
		var l struct{ Policies []struct{ Group string } }
		if st := call(t, base, m, "GET", "/api/v1/privacy/policies", "", &l); st != 200 {
			t.Fatalf("%s lists policies: %d", m.user.Name, st)
		}
		out := map[string]bool{}
		for _, p := range l.Policies {
			out[p.Group] = true
		}
		return out
	}
	if got := groups(carl); got["Secret Cell"] || !got["default"] || len(got) != 1 {
		t.Errorf("a member outside the group is shown the policies of %v, want the default only", got)
	}
	if got := groups(bob); !got["Secret Cell"] || !got["default"] {
		t.Errorf("a member of the group is shown the policies of %v, want the default and its group's", got)
	}
	if got := groups(root); !got["Secret Cell"] || !got["default"] {
		t.Errorf("a hub admin is shown the policies of %v, want all", got)
	}
	// As its agreement: a name the caller may not know is 404.
	if st := call(t, base, carl, "GET", "/api/v1/agreements/Secret%20Cell", "", nil); st != 404 {
		t.Errorf("the group's agreement to a non-member: %d, want 404", st)
	}
}
