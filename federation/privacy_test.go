package federation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestPersonalDataAcrossHubs (issue 20): Washington and Tokyo redact
// personal data under one partnership key; London redacts nothing.
// Washington's member publishes a victim's address and a note naming her
// to all members; Tokyo's member publishes the same address. After the
// pulls, neither London nor Tokyo holds the values, and Tokyo holds the
// victim's address under one id: its own member's copy and Washington's
// were redacted alike, so the partners can tell it is the same victim.
func TestPersonalDataAcrossHubs(t *testing.T) {
	ctx := context.Background()
	p := newPartnership(t)
	for _, h := range []*hub{p.wa, p.to} {
		if err := h.db.SetPartnershipKey(ctx, []byte("the partnership's shared key"), "cli"); err != nil {
			t.Fatal(err)
		}
		if err := h.db.SetPrivacyPolicy(ctx, &cyberpact.PrivacyPolicy{Detectors: "all"}, "cli"); err != nil {
			t.Fatal(err)
		}
	}
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	addr := func() map[string]any {
		return map[string]any{"type": "email-addr", "spec_version": "2.1", "value": "jane.doe@northbank.example",
			"object_marking_refs": []any{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}}
	}
	note := map[string]any{"type": "note", "spec_version": "2.1", "id": "note--" + uuidOf(7001), "created": "2026-01-01T00:00:00.000Z",
		"modified": "2026-01-01T00:00:00.000Z", "content": "Victim Laurent Dubois called the SOC on +44 20 7946 0958.",
		"object_refs": []any{"note--" + uuidOf(7001)}, "object_marking_refs": []any{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"}}
	p.wa.publish(p.waCISA, all, addr(), note)
	p.to.publish(p.toNISC, all, addr())
	p.lo.mustSync("washington-all")
	p.to.mustSync("washington")

	for _, h := range []*hub{p.wa, p.lo, p.to} {
		var emails []string
		for id, vs := range h.versions() {
			for _, v := range vs {
				for _, val := range []string{"jane.doe", "Dubois", "7946"} {
					if strings.Contains(string(v.Raw), val) {
						t.Errorf("%s holds %q in %s: %s", h.name, val, id, v.Raw)
					}
				}
			}
			if strings.HasPrefix(id, "email-addr--") {
				emails = append(emails, id)
			}
		}
		if len(emails) != 1 {
			t.Errorf("%s holds the victim's address under %d ids (%v), want 1", h.name, len(emails), emails)
		}
	}
	if vs := p.to.versions()["note--"+uuidOf(7001)]; len(vs) != 1 || !strings.Contains(string(vs[0].Raw), "pd:phone:") {
		t.Errorf("Tokyo's copy of the note: %v", vs)
	}
	// Tokyo's copy and its own member's are one id with two producers.
	var id string
	for k := range p.to.versions() {
		if strings.HasPrefix(k, "email-addr--") {
			id = k
		}
	}
	if vs := p.to.versions()[id]; len(vs) != 2 {
		t.Errorf("Tokyo holds %d versions of %s, want its member's and Washington's", len(vs), id)
	}
}
