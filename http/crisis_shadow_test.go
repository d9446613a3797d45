package http_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/google/uuid"
)

// TestCrisisOnAnIdAnotherHoldsAnswersAsOnAFreshOne: C, which may not see
// A's G1 incident but holds its id, stores an incident of its own under
// that id (a holding of its own, as the ownership rule lets it) and
// declares a crisis on it. The declaration answers as on an id nobody
// else holds (it answered 403, naming the producer's org-admins: the id
// was held), with the same partners; and A's partners, who are shown A's
// incident under that id, never see C's crisis as one on A's incident.
func TestCrisisOnAnIdAnotherHoldsAnswersAsOnAFreshOne(t *testing.T) {
	h := newRedteamHub(t)
	boss := mkMember(t, h.db, h.carl.org, "boss", cyberpact.RoleOrgAdmin)
	fresh := "incident--" + uuid.NewString()
	if n := postTAXII(t, h.base, h.carl, map[string]any{"type": "incident", "id": h.incident, "name": "C's own"},
		map[string]any{"type": "incident", "id": fresh, "name": "C's fresh"}); n != 2 {
		t.Fatalf("C stored %d of 2 incidents", n)
	}
	declare := func(id string) *alert.Status {
		var st alert.Status
		if code := callBody(t, h.base, boss, "POST", "/api/v1/crises", `{"incident":"`+id+`"}`, &st); code != 201 {
			t.Fatalf("C declares a crisis on its incident %s: %d", id, code)
		}
		return &st
	}
	partners := func(st *alert.Status) []string {
		var out []string
		for _, p := range st.Partners {
			out = append(out, p.Org)
		}
		return out
	}
	onHeld, onFresh := declare(h.incident), declare(fresh)
	if !slices.Equal(partners(onHeld), partners(onFresh)) {
		t.Errorf("partners %v on the held id, %v on a fresh one", partners(onHeld), partners(onFresh))
	}
	for _, m := range []*member{h.alice, h.bob} {
		var l struct{ Crises []alert.Status }
		if callBody(t, h.base, m, "GET", "/api/v1/crises", "", &l); len(l.Crises) != 1 || l.Crises[0].ID != onFresh.ID {
			t.Errorf("%s lists crises %+v, want only C's on its fresh incident", m.user.Name, l.Crises)
		}
		for _, path := range []string{"", "/ack"} {
			method := "GET"
			if path != "" {
				method = "POST"
			}
			if code := callBody(t, h.base, m, method, fmt.Sprintf("/api/v1/crises/%d%s", onHeld.ID, path), "", nil); code != 404 {
				t.Errorf("%s %s crisis %d%s: %d, want 404", m.user.Name, method, onHeld.ID, path, code)
			}
		}
	}
}
