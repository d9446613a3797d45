package federation_test

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// markingDef is a cyberpact extension marking definition numbered n,
// itself TLP:CLEAR so that it crosses to every peer with the objects it
// marks.
func markingDef(n int, name string, ext map[string]any) map[string]any {
	ext["extension_type"] = "property-extension"
	return map[string]any{"type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + uuidOf(n),
		"created": "2026-01-01T00:00:00.000Z", "name": name, "extensions": map[string]any{cyberpact.MarkingExtension: ext},
		"object_marking_refs": []string{tlpMarking[cyberpact.TLPClear]}}
}

// marked is indicator n at TLP:GREEN marked with the marking definitions
// given too.
func marked(n int, defs ...map[string]any) map[string]any {
	o := indicator(n, cyberpact.TLPGreen)
	refs := []string{tlpMarking[cyberpact.TLPGreen]}
	for _, d := range defs {
		refs = append(refs, d["id"].(string))
	}
	o["object_marking_refs"] = refs
	return o
}

// TestReleasabilityAcrossHubs: what Washington marks releasable to the
// US never reaches Tokyo (a JP peer) by its pull, nor London (GB) by
// either; REL TO US, JP reaches Tokyo with its marking, which Tokyo's
// rule then applies to its own members; PAP:RED reaches no peer; and
// London pushes none of its cell's objects to Washington once the cell's
// agreement forbids passing them on, nor what is releasable only to GB.
func TestReleasabilityAcrossHubs(t *testing.T) {
	p := newPartnership(t)
	ctx := context.Background()
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	relUS := markingDef(501, "REL TO US", map[string]any{"rel_nations": []any{"US"}})
	relUSJP := markingDef(502, "REL TO US, JP", map[string]any{"rel_nations": []any{"US", "JP"}})
	papRed := markingDef(503, "PAP:RED", map[string]any{"pap": "red"})
	relGB := markingDef(504, "REL TO GB", map[string]any{"rel_nations": []any{"GB"}})
	var (
		onlyUS   = marked(511, relUS)
		usJP     = marked(512, relUSJP)
		actNever = marked(513, papRed)
		plain    = marked(514)
	)
	p.wa.publish(p.waCISA, all, relUS, relUSJP, papRed, onlyUS, usJP, actNever, plain)
	p.to.mustSync("washington")
	p.lo.mustSync("washington-all")

	vs := p.to.versions()
	for _, o := range []map[string]any{usJP, plain, relUSJP} {
		if len(vs[o["id"].(string)]) != 1 {
			t.Errorf("Tokyo lacks %s", o["id"])
		}
	}
	for _, o := range []map[string]any{onlyUS, actNever} {
		if len(vs[o["id"].(string)]) != 0 {
			t.Errorf("Tokyo (JP) received %s (%s), which it may not", o["id"], o["name"])
		}
	}
	if got := vs[usJP["id"].(string)]; len(got) == 1 && got[0].Release.Marks != "<n:JP><n:US>" {
		t.Errorf("Tokyo keeps REL TO US, JP as marks %q", got[0].Release.Marks)
	}
	// Tokyo's own rule: its JP member sees it.
	if _, err := p.to.db.Object(ctx, usJP["id"].(string), &cyberpact.Viewer{Org: p.toNISC.ID, Nation: "JP", Sector: "government"}); err != nil {
		t.Errorf("JP NISC does not see REL TO US, JP on Tokyo: %v", err)
	}
	lv := p.lo.versions()
	for _, o := range []map[string]any{onlyUS, usJP, actNever} {
		if len(lv[o["id"].(string)]) != 0 {
			t.Errorf("London (GB) received %s (%s), which it may not", o["id"], o["name"])
		}
	}

	// London's cell: what is releasable to GB only stays; then the cell's
	// agreement forbids passing objects on, and nothing more is pushed.
	loCell := cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: p.loCell.ID}
	gbOnly, shared := marked(521, relGB), marked(522)
	p.lo.publish(p.loNCSC, all, relGB)
	p.lo.publish(p.loNCSC, loCell, gbOnly, shared)
	p.lo.mustSync("washington-cell")
	posted := p.wa.postedIDs()
	if posted[gbOnly["id"].(string)] != 0 || posted[shared["id"].(string)] != 1 {
		t.Errorf("London pushed the GB-only object %d times (want 0), the cell's own %d (want 1)", posted[gbOnly["id"].(string)], posted[shared["id"].(string)])
	}
	if err := p.lo.db.SetAgreement(ctx, &cyberpact.Agreement{Group: p.loCell.ID, Purpose: "kept in London", Federate: false}, "cli"); err != nil {
		t.Fatal(err)
	}
	later := marked(523)
	p.lo.publish(p.loNCSC, loCell, later)
	p.lo.mustSync("washington-cell")
	if n := p.wa.postedIDs()[later["id"].(string)]; n != 0 {
		t.Errorf("London pushed %s %d times under an agreement that keeps objects on the hub", later["id"], n)
	}
}
