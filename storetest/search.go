package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/stixschema"
	"github.com/google/go-cmp/cmp"
)

// RunSearch runs the suite of ranked search (see Ranked search in
// search.go): exact external ids first, then exact names, then relevance;
// stable paging by the rank cursor; and ranks that nothing the caller may
// not see changes. open returns a new, empty store for each subtest;
// RunSearch closes it.
func RunSearch(t *testing.T, open func(t *testing.T) OwnershipStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s OwnershipStore)
	}{
		{"RanksExactExternalIDFirst", testRanksExactExternalIDFirst},
		{"RanksExactNameFirst", testRanksExactNameFirst},
		{"RanksNameAboveDescription", testRanksNameAboveDescription},
		{"PagesInRankOrderOnce", testRankedPaging},
		{"RankIgnoresWhatTheCallerCannotSee", testRankIgnoresHidden},
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

// technique is an attack-pattern numbered n with ATT&CK's external id and
// a name and description.
func technique(n int, extID, name, desc string) obj {
	return sdo("attack-pattern", n, 1, obj{"name": name, "description": desc,
		"external_references": []any{map[string]any{"source_name": "mitre-attack", "external_id": extID}}})
}

// searchIDs returns the ids of one page of a search, in the store's order.
func searchIDs(t *testing.T, s cyberpact.ObjectStore, f cyberpact.ObjectFilter) []string {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 10000
	}
	p, err := s.FindObjects(context.Background(), f)
	if err != nil {
		t.Fatalf("FindObjects(%+v): %v", f, err)
	}
	return idsInOrder(p.Objects)
}

// idsInOrder returns the ids of objs in their order.
func idsInOrder(objs []*cyberpact.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.ID
	}
	return out
}

// testRanksExactExternalIDFirst: T1059 first among its sub-techniques
// (T1059.001 searches as the phrase "t1059 001", so it matches T1059) and
// the techniques that name it in their descriptions, though stored last.
func testRanksExactExternalIDFirst(t *testing.T, s OwnershipStore) {
	var objs []obj
	for i := 1; i <= 8; i++ {
		objs = append(objs, technique(i, fmt.Sprintf("T1059.%03d", i), fmt.Sprintf("Interpreter %d", i), "A sub-technique of T1059."))
	}
	objs = append(objs, technique(20, "T1203", "Exploitation", "Often followed by T1059, T1059 and T1059 again."))
	want := technique(30, "T1059", "Command and Scripting Interpreter", "Adversaries may abuse interpreters.")
	objs = append(objs, want)
	mustImport(t, s, objs...)
	for _, text := range []string{"T1059", "t1059"} {
		got := searchIDs(t, s, cyberpact.ObjectFilter{Text: text})
		if len(got) != len(objs) {
			t.Fatalf("search %s found %d, want %d: %v", text, len(got), len(objs), got)
		}
		if got[0] != id(want) {
			t.Errorf("search %s puts %s first, want T1059 (%s): %v", text, got[0], id(want), got)
		}
	}
}

// testRanksExactNameFirst: the object named by a phrase comes first, above
// older objects whose names or descriptions hold the same phrase.
func testRanksExactNameFirst(t *testing.T, s OwnershipStore) {
	ps := technique(1, "T1059.001", "Command and Scripting Interpreter: PowerShell", "Uses the command and scripting interpreter.")
	other := technique(2, "T1203", "Exploitation", "Leads to a command and scripting interpreter.")
	want := technique(3, "T1059", "Command and Scripting Interpreter", "Adversaries may abuse interpreters.")
	mustImport(t, s, ps, other, want)
	for _, text := range []string{`"Command and Scripting Interpreter"`, `command and scripting interpreter`} {
		got := searchIDs(t, s, cyberpact.ObjectFilter{Text: text})
		if diff := cmp.Diff([]string{id(want), id(ps), id(other)}, got); diff != "" {
			t.Errorf("search %s (-want +got):\n%s", text, diff)
		}
	}
}

// testRanksNameAboveDescription: with no exact match, a match in the name
// ranks above one in the description only, whatever the order of storing.
func testRanksNameAboveDescription(t *testing.T, s OwnershipStore) {
	inDesc := technique(1, "T1", "Plain", "Something about a quokka.")
	inName := technique(2, "T2", "Quokka hunting", "Plain text.")
	mustImport(t, s, inDesc, inName)
	got := searchIDs(t, s, cyberpact.ObjectFilter{Text: "quokka"})
	if diff := cmp.Diff([]string{id(inName), id(inDesc)}, got); diff != "" {
		t.Errorf("search quokka (-want +got):\n%s", diff)
	}
}

// testRankedPaging: paging a ranked search by its cursor, with pages of
// every size, gives the one-page order exactly, each object once; a
// version stored between two pages does not move what follows.
func testRankedPaging(t *testing.T, s OwnershipStore) {
	var objs []obj
	for i := 1; i <= 12; i++ {
		switch i % 3 {
		case 0:
			objs = append(objs, technique(i, fmt.Sprintf("T9%d", i), fmt.Sprintf("Wombat %d", i), "plain"))
		case 1:
			objs = append(objs, technique(i, fmt.Sprintf("T9%d", i), fmt.Sprintf("Plain %d", i), "a wombat"))
		default:
			objs = append(objs, technique(i, "wombat", fmt.Sprintf("Other %d", i), "plain"))
		}
	}
	mustImport(t, s, objs...)
	whole := searchIDs(t, s, cyberpact.ObjectFilter{Text: "wombat"})
	if len(whole) != len(objs) {
		t.Fatalf("search wombat found %d, want %d", len(whole), len(objs))
	}
	for limit := 1; limit <= 5; limit++ {
		var got []string
		f := cyberpact.ObjectFilter{Text: "wombat", Limit: limit}
		for n := 0; ; n++ {
			p, err := s.FindObjects(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, idsInOrder(p.Objects)...)
			if n == 0 && limit == 5 {
				// Stored mid-way, ranked first (its external id and its
				// name are the text): before the cursor, so the pages
				// after it do not change.
				mustImport(t, s, technique(99, "Wombat", "Wombat", "plain"))
			}
			if !p.More {
				break
			}
			f.After = p.Next
		}
		if diff := cmp.Diff(whole, got); diff != "" {
			t.Errorf("pages of %d (-one page +pages):\n%s", limit, diff)
		}
	}
}

// testRankIgnoresHidden: an organisation's search answers the same, in the
// same order and with the same cursors, whatever another organisation
// stores out of its sight, though the hidden versions hold the searched
// words many times (bm25's statistics would count them).
func testRankIgnoresHidden(t *testing.T, s OwnershipStore) {
	ctx := context.Background()
	var orgs []int64
	for _, name := range []string{"Searcher", "Hider"} {
		o := &cyberpact.Org{Name: name, Nation: "GB", Sector: "finance"}
		if err := s.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o.ID)
	}
	seen := []obj{
		technique(1, "T1", "Alpha", "alpha alpha alpha beta"),
		technique(2, "T2", "Beta", "alpha beta beta beta"),
		technique(3, "T3", "Plain", "alpha beta"),
		technique(4, "T4", "Plain long", "alpha beta and a great many other words that make this description long"),
	}
	res, err := importRaw(t, s, bundle(t, seen...), cyberpact.ImportOptions{Producer: orgs[0], Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}})
	if err != nil || !res.Committed {
		t.Fatalf("import: %v %+v", err, res)
	}
	v := &cyberpact.Viewer{Org: orgs[0]}
	type answer struct {
		IDs  []string
		Next []int64
	}
	ask := func() answer {
		var a answer
		for _, text := range []string{"alpha beta", "alpha", "beta", `"alpha beta"`} {
			a.IDs = append(a.IDs, searchIDs(t, s, cyberpact.ObjectFilter{Text: text, Viewer: v})...)
			p, err := s.FindObjects(ctx, cyberpact.ObjectFilter{Text: text, Viewer: v, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			a.Next = append(a.Next, p.Next)
		}
		return a
	}
	before := ask()
	var hidden []obj
	for i := 0; i < 40; i++ {
		desc := "alpha alpha alpha alpha"
		if i%4 == 0 {
			desc = "beta"
		}
		hidden = append(hidden, technique(100+i, fmt.Sprintf("H%d", i), "Alpha beta", desc))
	}
	res, err = importRaw(t, s, bundle(t, hidden...), cyberpact.ImportOptions{Producer: orgs[1], Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}})
	if err != nil || !res.Committed {
		t.Fatalf("import: %v %+v", err, res)
	}
	if diff := cmp.Diff(before, ask()); diff != "" {
		t.Errorf("what the searcher cannot see changed its answers (-before +after):\n%s", diff)
	}
}

// RunSearchATTACK checks ranked search over MITRE's Enterprise ATT&CK as
// a user imports it (../shared/data; the test skips without it): search
// T1059 puts T1059 first (it was at place 46 of 128 in Seq order), the
// phrase of a technique's name puts that technique first, a
// sub-technique's id puts the sub-technique first, and paging by the
// cursor keeps the order of one page.
func RunSearchATTACK(t *testing.T, s cyberpact.ObjectStore) {
	dir, ok := stixschema.SharedDir()
	if !ok {
		t.Skip("no shared folder (../shared or CYBERPACT_SHARED): ATT&CK search not checked")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "data", "enterprise-attack-18.1.stix20.json"))
	if err != nil {
		t.Skipf("ATT&CK search not checked: %v", err)
	}
	res, err := importRaw(t, s, raw, cyberpact.ImportOptions{})
	if err != nil || !res.Committed {
		t.Fatalf("import: %v %+v", err, res)
	}
	ctx := context.Background()
	first := func(text string) (extIDs []string, name string) {
		t.Helper()
		p, err := s.FindObjects(ctx, cyberpact.ObjectFilter{Text: text, Limit: 1})
		if err != nil || len(p.Objects) == 0 {
			t.Fatalf("search %s: %v, %d found", text, err, len(p.Objects))
		}
		var o struct {
			Name string `json:"name"`
			Refs []struct {
				ExternalID string `json:"external_id"`
			} `json:"external_references"`
		}
		if err := json.Unmarshal(p.Objects[0].Raw, &o); err != nil {
			t.Fatal(err)
		}
		for _, r := range o.Refs {
			extIDs = append(extIDs, r.ExternalID)
		}
		return extIDs, o.Name
	}
	for _, tc := range []struct{ text, extID, name string }{
		{"T1059", "T1059", "Command and Scripting Interpreter"},
		{"t1059", "T1059", "Command and Scripting Interpreter"},
		{"T1059.001", "T1059.001", "PowerShell"},
		{`"Command and Scripting Interpreter"`, "T1059", "Command and Scripting Interpreter"},
		{`"Spearphishing Attachment"`, "T1566.001", "Spearphishing Attachment"},
	} {
		ids, name := first(tc.text)
		if !slices.Contains(ids, tc.extID) || name != tc.name {
			t.Errorf("search %s puts first %q %v, want %s %q", tc.text, name, ids, tc.extID, tc.name)
		}
	}
	whole := searchIDs(t, s, cyberpact.ObjectFilter{Text: "T1059"})
	var paged []string
	f := cyberpact.ObjectFilter{Text: "T1059", Limit: 7}
	for {
		p, err := s.FindObjects(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, idsInOrder(p.Objects)...)
		if !p.More {
			break
		}
		f.After = p.Next
	}
	if diff := cmp.Diff(whole, paged); diff != "" {
		t.Errorf("search T1059 in pages of 7 (-one page +pages):\n%s", diff)
	}
}
