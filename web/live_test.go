package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cyberpact/cyberpact"
)

var liveN atomic.Int64

// publishLive imports, as Acme, a new TLP:RED indicator shared with the
// group "Acme and Gamma" (named like the hidden one, so the matrix's
// marks catch it) and then a public note, and returns the note's id: a
// stream that has sent the note has read past the red one.
func (h *hub) publishLive(t *testing.T) (redID, noteID string) {
	t.Helper()
	n := liveN.Add(1)
	stamp := "2026-03-01T00:00:00.000Z"
	redID = fmt.Sprintf("indicator--aaaaaaaa-aaaa-4aaa-8aaa-%012d", n)
	noteID = fmt.Sprintf("note--bbbbbbbb-bbbb-4bbb-8bbb-%012d", n)
	acme := h.orgs["Acme"].ID
	h.importAs(t, cyberpact.Release{Producer: acme, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.groups["Acme and Gamma"].ID}, TLP: cyberpact.TLPRed},
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": redID, "created": stamp, "modified": stamp,
			"name": "Redwing beacon, live", "pattern": "[ipv4-addr:value = '198.51.100.7']", "pattern_type": "stix", "valid_from": stamp})
	h.importAs(t, cyberpact.Release{Producer: acme, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPClear},
		map[string]any{"type": "note", "spec_version": "2.1", "id": noteID, "created": stamp, "modified": stamp,
			"abstract": "Live note", "content": "for everyone", "object_refs": []any{attackID}})
	return redID, noteID
}

func init() {
	routeCases["GET /live/objects"] = func(t *testing.T, c *client) []page {
		return []page{c.stream("/live/objects", func() { c.h.publishLive(t) }, "note--")}
	}
}

// TestLiveObjects: the dashboard's stream sends what is published after
// it opened to those who may see it, and nothing else; its releases are
// audited; a session that ends ends it.
func TestLiveObjects(t *testing.T) {
	h := newHub(t)
	for _, v := range []struct {
		user    string
		seesRed bool
	}{{"alice", true}, {"gina", true}, {"bob", false}} {
		t.Run(v.user, func(t *testing.T) {
			c := h.client(t)
			c.mustSignIn(v.user)
			var red, note string
			p := c.stream("/live/objects", func() { red, note = h.publishLive(t) }, "note--")
			wantStatus(t, "stream", p, http.StatusOK)
			mustContain(t, "stream", p.body, note, "Live note", "TLP:CLEAR")
			if strings.Contains(p.body, redID) || strings.Contains(p.body, attackID) {
				t.Errorf("the stream sent what was there before it opened:\n%s", p.body)
			}
			if got := strings.Contains(p.body, red); got != v.seesRed {
				t.Errorf("%s is sent the new red indicator: %v, want %v\n%s", v.user, got, v.seesRed, p.body)
			}
			if v.seesRed {
				mustContain(t, "stream", p.body, "Redwing beacon, live", "TLP:RED")
			}
		})
	}
	t.Run("SignedOutRedirected", func(t *testing.T) {
		p := h.client(t).get("/live/objects")
		wantStatus(t, "signed out", p, http.StatusSeeOther)
	})
	t.Run("DisablingTheUserEndsIt", func(t *testing.T) {
		c := h.client(t)
		c.mustSignIn("bob")
		p := c.stream("/live/objects", func() {
			if err := h.db.SetDisabled(t.Context(), h.users["bob"].ID, true, "cli"); err != nil {
				t.Fatal(err)
			}
			h.publishLive(t)
		}, "note--")
		if !strings.Contains(p.body, "event: end") || strings.Contains(p.body, "note--") {
			t.Errorf("the stream of a disabled user did not end before sending more:\n%s", p.body)
		}
	})
}
