package federation_test

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestSyncAudited checks both ends of a two-way sync in the audit logs:
// London records each page it pulls as a write by "sync:PEER" naming the
// versions added, and each batch it pushes as one release to the peer's
// organisation naming the versions sent; Washington records the pages it
// served as releases to London's organisation and the push as a write.
func TestSyncAudited(t *testing.T) {
	p := newPartnership(t)
	ctx := context.Background()
	waCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.waCell.ID}
	loCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.loCell.ID}
	p.wa.publish(p.waCISA, waCell, indicator(1, cyberpact.TLPGreen), indicator(2, cyberpact.TLPAmber), indicator(3, cyberpact.TLPGreen), indicator(4, cyberpact.TLPGreen))
	p.lo.publish(p.loNCSC, loCell, indicator(101, cyberpact.TLPGreen), indicator(102, cyberpact.TLPRed))
	p.lo.mustSync("washington-cell")

	entries := func(h *hub, action string) []*cyberpact.AuditEntry {
		t.Helper()
		es, err := h.db.AuditEntries(ctx, cyberpact.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := h.db.VerifyAudit(ctx); n != 0 || err != nil {
			t.Errorf("%s: VerifyAudit = %d, %v", h.name, n, err)
		}
		return es
	}
	// namedBy returns the entries among es whose scope holds o's Seq.
	namedBy := func(es []*cyberpact.AuditEntry, o *cyberpact.Object) []*cyberpact.AuditEntry {
		var out []*cyberpact.AuditEntry
		for _, e := range es {
			if e.Scope.Contains(o.Seq) {
				out = append(out, e)
			}
		}
		return out
	}
	loWrites, loReleases := entries(p.lo, cyberpact.AuditWrite), entries(p.lo, cyberpact.AuditRelease)
	waWrites, waReleases := entries(p.wa, cyberpact.AuditWrite), entries(p.wa, cyberpact.AuditRelease)

	pulled := 0
	for _, vs := range p.lo.versions() {
		for _, o := range vs {
			switch o.Release.Producer {
			case p.loWashington.ID:
				pulled++
				if w := namedBy(loWrites, o); len(w) != 1 || w[0].Actor != "sync:washington-cell" || w[0].Via != "sync" || w[0].ActorOrg != p.loWashington.ID {
					t.Errorf("London's pull of %s is named by writes %+v, want one by sync:washington-cell", o.ID, w)
				}
			case p.loNCSC.ID:
				r := namedBy(loReleases, o)
				pushed := o.ID == indicator(101, cyberpact.TLPGreen)["id"]
				if pushed != (len(r) == 1) || pushed && (r[0].Recipient != p.loWashington.ID || r[0].Via != "sync") {
					t.Errorf("London's releases of %s: %+v, want one push to Washington's organisation for the green one alone", o.ID, r)
				}
			}
		}
	}
	if pulled != 4 {
		t.Errorf("London pulled %d versions, want 4", pulled)
	}
	served, received := 0, 0
	for _, vs := range p.wa.versions() {
		for _, o := range vs {
			switch o.Release.Producer {
			case p.waCISA.ID:
				served++
				if r := namedBy(waReleases, o); len(r) == 0 || r[0].Recipient != p.waLondon.ID || r[0].Via != "taxii" || r[0].Actor != "london-sync" {
					t.Errorf("Washington's releases of %s: %+v, want a TAXII page to London's organisation", o.ID, r)
				}
			case p.waLondon.ID:
				received++
				if w := namedBy(waWrites, o); len(w) != 1 || w[0].Actor != "london-sync" || w[0].Via != "taxii" {
					t.Errorf("Washington's writes of %s pushed by London: %+v", o.ID, w)
				}
			}
		}
	}
	if served != 4 || received != 1 {
		t.Errorf("Washington holds %d of its own versions and %d pushed by London, want 4 and 1", served, received)
	}
}
