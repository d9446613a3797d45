package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/stixschema"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// result is what one in-process run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the cyberpact command line in-process, with no environment
// variables and empty standard input.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	return result{code, out.String(), errb.String()}
}

// shared returns the shared folder or skips the test.
func shared(t testing.TB) string {
	t.Helper()
	dir, ok := stixschema.SharedDir()
	if !ok {
		t.Skip("no shared folder (../shared with conformance/stix-schemas): set CYBERPACT_SHARED to run the conformance and dataset tests")
	}
	return dir
}

var (
	schemaOnce sync.Once
	schemaV    *stixschema.Validator
	schemaErr  error
)

// schemas returns the compiled STIX 2.1 JSON schemas.
func schemas(t *testing.T) *stixschema.Validator {
	t.Helper()
	dir := shared(t)
	schemaOnce.Do(func() { schemaV, schemaErr = stixschema.Compile(dir) })
	if schemaErr != nil {
		t.Fatal(schemaErr)
	}
	return schemaV
}

// version names one stored version: an id and its normalised version key.
type version struct{ ID, Modified string }

// readObjects reads every object of a bundle file (or bundle bytes) with
// the streaming reader, keyed by version, with the count of each version
// seen.
func readObjects(t *testing.T, raw []byte) (objs map[version]json.RawMessage, count map[version]int, order []version) {
	t.Helper()
	objs, count = map[version]json.RawMessage{}, map[version]int{}
	r := stix.NewReader(bytes.NewReader(raw))
	for {
		it, err := r.Next()
		if err == io.EOF {
			return objs, count, order
		}
		if err != nil {
			t.Fatalf("reading bundle: %v", err)
		}
		o, err := stix.Parse(it.Raw)
		if err != nil {
			t.Fatal(err)
		}
		k := version{o.ID, stix.NormTime(o.VersionKey())}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
		objs[k] = it.Raw
	}
}

// decode decodes JSON keeping numbers as their text.
func decode(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decoding: %v", err)
	}
	return v
}

// exportOf exports a data directory and returns the bundle.
func exportOf(t *testing.T, data string, extra ...string) []byte {
	t.Helper()
	r := cli(t, append([]string{"export", "--data", data}, extra...)...)
	if r.code != 0 {
		t.Fatalf("export: exit %d: %s", r.code, r.stderr)
	}
	return []byte(r.stdout)
}

// checkExport checks that the export of data holds every version that went
// in exactly once, except TLP:RED ones, which exports never carry; that
// each 2.1 input object comes back JSON-equal and every object is valid
// STIX 2.1 (stix.Validate and the OASIS schemas).
func checkExport(t *testing.T, data string, inputs ...[]byte) []byte {
	t.Helper()
	exported := exportOf(t, data, "--all-versions")
	got, gotCount, _ := readObjects(t, exported)
	for k, n := range gotCount {
		if n != 1 {
			t.Errorf("export holds %s version %s %d times", k.ID, k.Modified, n)
		}
	}
	want := map[version]json.RawMessage{}
	for _, in := range inputs {
		objs, _, _ := readObjects(t, in)
		red := map[string]bool{}
		for _, id := range redObjects(t, in) {
			red[id] = true
		}
		for k, v := range objs {
			if red[k.ID] {
				if r := cli(t, "get", "--data", data, k.ID); r.code != 0 {
					t.Errorf("TLP:RED %s was not stored: %s", k.ID, r.stderr)
				}
				if _, exported := got[k]; exported {
					t.Errorf("TLP:RED %s was exported", k.ID)
				}
				continue
			}
			want[k] = v
		}
	}
	var missing, extra []version
	for k := range want {
		if _, ok := got[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("export has %d versions, input %d: %d missing (e.g. %v), %d extra (e.g. %v)", len(got), len(want), len(missing), first(missing), len(extra), first(extra))
	}
	bad := 0
	for k, in := range want {
		out, ok := got[k]
		if !ok {
			continue
		}
		o, err := stix.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if stix.IsSTIX20(o.Props) {
			continue // checked as valid 2.1 below
		}
		if diff := cmp.Diff(decode(t, in), decode(t, out)); diff != "" {
			if bad++; bad <= 3 {
				t.Errorf("%s came back different (-in +out):\n%s", k.ID, diff)
			}
		}
	}
	if bad > 3 {
		t.Errorf("... and %d more objects came back different", bad-3)
	}
	invalid := 0
	for k, out := range got {
		o, err := stix.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		if o.SpecVersion != "2.1" && stix.KindOf(o.Type) != stix.KindSCO {
			t.Errorf("%s exported with spec_version %q", k.ID, o.SpecVersion)
		}
		if ps := stix.Errors(stix.Validate(o)); len(ps) > 0 {
			if invalid++; invalid <= 3 {
				t.Errorf("exported %s is not valid STIX 2.1: %v", k.ID, ps)
			}
		}
	}
	if invalid > 3 {
		t.Errorf("... and %d more exported objects invalid", invalid-3)
	}
	if err := schemas(t).ValidateBundle(exported); err != nil {
		msg := err.Error()
		if len(msg) > 3000 {
			msg = msg[:3000] + "..."
		}
		t.Errorf("export does not match the STIX 2.1 schemas: %s", msg)
	}
	return exported
}

func first(vs []version) any {
	if len(vs) == 0 {
		return nil
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].ID < vs[j].ID })
	return vs[0]
}

func TestConformanceExamplesImportAndExport(t *testing.T) {
	dir := filepath.Join(shared(t), "conformance", "stix-schemas", "examples")
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	reports, _ := filepath.Glob(filepath.Join(dir, "threat-reports", "*.json"))
	files = append(files, reports...)
	if len(files) < 8 {
		t.Fatalf("found only %d example files in %s", len(files), dir)
	}
	all := t.TempDir()
	var inputs [][]byte
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if r := cli(t, "validate", f); r.code != 0 {
				t.Errorf("validate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			data := t.TempDir()
			// An object that refers to a marking definition the hub does
			// not know (interop-objectmarking-test's campaign does) is
			// refused, naming it: the hub cannot apply a marking it does
			// not have, and never stores an object with less restriction
			// than its markings ask for.
			if unknown := unknownMarkings(t, raw); len(unknown) > 0 {
				r := cli(t, "import", "--data", data, "--partial", f)
				if r.code != 1 {
					t.Errorf("import of objects referring to unknown marking definitions: exit %d, want 1", r.code)
				}
				for id, def := range unknown {
					checkSays(t, "import", r.stderr, f, []string{id + " at object_marking_refs: it refers to marking definition " + def + ", which is not known"})
					if g := cli(t, "get", "--data", data, id); g.code == 0 {
						t.Errorf("%s was stored: %s", id, g.stdout)
					}
				}
				return
			}
			inputs = append(inputs, raw)
			// TLP:RED is never shared with all members: such a file is
			// refused for an explicit --audience all, naming each RED
			// object; by default its RED objects stay with the producer.
			var flags []string
			if red := redObjects(t, raw); len(red) > 0 {
				r := cli(t, "import", "--data", data, "--audience", "all", f)
				if r.code != 1 {
					t.Errorf("import of TLP:RED objects for all members: exit %d, want 1", r.code)
				}
				for _, id := range red {
					checkSays(t, "import", r.stderr, f, []string{id + " at object_marking_refs: TLP:RED may only be shared with one organisation or one sharing group"})
				}
				if st := cli(t, "stats", "--data", data, "--json"); strings.TrimSpace(st.stdout) != "null" && strings.TrimSpace(st.stdout) != "[]" {
					t.Errorf("a refused import stored something: %s", st.stdout)
				}
			}
			r := cli(t, append(append([]string{"import", "--data", data}, flags...), f)...)
			if r.code != 0 {
				t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			checkExport(t, data, raw)
			// Importing again adds nothing.
			r = cli(t, append(append([]string{"import", "--data", data}, flags...), f)...)
			if r.code != 0 || !strings.Contains(r.stdout, "added 0,") {
				t.Errorf("re-import: exit %d, %s%s", r.code, r.stdout, r.stderr)
			}
			if r := cli(t, append(append([]string{"import", "--data", all}, flags...), f)...); r.code != 0 {
				t.Errorf("import into the shared store: exit %d\n%s", r.code, r.stderr)
			}
		})
	}
	t.Run("AllInOneStore", func(t *testing.T) { checkExport(t, all, inputs...) })
}

// unknownMarkings returns the objects of a bundle that refer, in
// object_marking_refs, to a marking definition neither TLP's nor in the
// bundle, each with the first such definition.
func unknownMarkings(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	defs, refs := map[string]bool{}, map[string][]string{}
	r := stix.NewReader(bytes.NewReader(raw))
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		o, err := stix.Parse(it.Raw)
		if err != nil {
			t.Fatal(err)
		}
		s := o.Stored()
		if s.Type == "marking-definition" {
			defs[stix.CanonicalID(s.ID)] = true
		}
		refs[s.ID] = s.MarkingRefs
	}
	out := map[string]string{}
	for id, ms := range refs {
		for _, m := range ms {
			if !defs[m] {
				out[id] = m
				break
			}
		}
	}
	return out
}

// redObjects returns the ids of the objects of a bundle marked TLP:RED.
func redObjects(t *testing.T, raw []byte) []string {
	t.Helper()
	var ids []string
	r := stix.NewReader(bytes.NewReader(raw))
	for {
		it, err := r.Next()
		if err == io.EOF {
			return ids
		}
		if err != nil {
			t.Fatal(err)
		}
		o, err := stix.Parse(it.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if o.Stored().TLP == cyberpact.TLPRed {
			ids = append(ids, o.ID)
		}
	}
}

// datasets are the three MITRE bundles of the shared data folder.
var datasets = []struct {
	name, file string
	stix20     bool
}{
	{"EnterpriseATTACK", "enterprise-attack-18.1.stix20.json", true},
	{"ICSATTACK", "ics-attack-18.1.json", false},
	{"CAPEC", "capec.stix21.json", false},
}

func TestDatasets(t *testing.T) {
	data := filepath.Join(shared(t), "data")
	root := t.TempDir() // the stores outlive their subtests
	stores := map[string]string{}
	exports := map[string][]byte{}
	for _, ds := range datasets {
		t.Run(ds.name, func(t *testing.T) {
			f := filepath.Join(data, ds.file)
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(root, ds.name)
			r := cli(t, "import", "--data", store, f)
			if r.code != 0 {
				t.Fatalf("import: exit %d\n%s%.3000s", r.code, r.stdout, r.stderr)
			}
			if up := strings.Contains(r.stdout, "upgraded from STIX 2.0"); up != ds.stix20 {
				t.Errorf("import summary %q: upgraded %v, want %v", r.stdout, up, ds.stix20)
			}
			stores[ds.name] = store
			exports[ds.name] = checkExport(t, store, raw)
		})
	}
	t.Run("ICSIntoEnterpriseRefusesExactlyTheGenuineConflicts", func(t *testing.T) {
		ent, ok := exports["EnterpriseATTACK"]
		if !ok || stores["EnterpriseATTACK"] == "" {
			t.Skip("the enterprise import failed")
		}
		store := stores["EnterpriseATTACK"]
		icsFile := filepath.Join(data, "ics-attack-18.1.json")
		icsRaw, err := os.ReadFile(icsFile)
		if err != nil {
			t.Fatal(err)
		}
		// The expected conflicts, computed from the data: an ICS version
		// whose (id, modified) the enterprise store holds with other
		// content.
		entObjs, _, _ := readObjects(t, ent)
		icsObjs, _, _ := readObjects(t, icsRaw)
		var want []string
		shared, added := 0, 0
		for k, in := range icsObjs {
			stored, ok := entObjs[k]
			if !ok {
				added++
				continue
			}
			shared++
			if !cmp.Equal(decode(t, in), decode(t, stored)) {
				want = append(want, k.ID)
			}
		}
		sort.Strings(want)
		t.Logf("ICS shares %d versions with enterprise; %d differ: %v", shared, len(want), want)
		if !contains(want, "intrusion-set--68ba94ab-78b8-43e7-83e2-aed3466882c6") {
			t.Errorf("the known genuine difference (intrusion-set--68ba94ab..., x_mitre_domains) is not among the computed conflicts")
		}

		statsBefore := cli(t, "stats", "--data", store, "--json").stdout
		r := cli(t, "import", "--data", store, icsFile)
		if r.code != 1 {
			t.Errorf("import with conflicts: exit %d, want 1", r.code)
		}
		got := conflictIDs(r.stderr)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reported conflicts (-computed +reported):\n%s\nstderr:\n%.3000s", diff, r.stderr)
		}
		if n := strings.Count(r.stderr, "\n"); n != len(want) {
			t.Errorf("stderr has %d lines, want one per conflict (%d):\n%.3000s", n, len(want), r.stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			if !strings.HasPrefix(line, icsFile+":") {
				t.Errorf("rejection %q does not start with the file name", line)
			}
		}
		wantSummary := fmt.Sprintf("already present %d, rejected %d objects", shared-len(want), len(want))
		if !strings.Contains(r.stdout, wantSummary) || !strings.Contains(r.stdout, "nothing stored") {
			t.Errorf("summary %q, want %q and nothing stored", r.stdout, wantSummary)
		}
		if after := cli(t, "stats", "--data", store, "--json").stdout; after != statsBefore {
			t.Errorf("a refused import changed the stats:\n%s\nthen\n%s", statsBefore, after)
		}
		if !sameObjects(t, ent, exportOf(t, store, "--all-versions")) {
			t.Error("a refused import changed the stored objects")
		}

		// With --partial the rest goes in and the conflicting versions keep
		// the enterprise content.
		r = cli(t, "import", "--data", store, "--partial", icsFile)
		if r.code != 1 || !strings.Contains(r.stdout, fmt.Sprintf("added %d, already present %d", added, shared-len(want))) {
			t.Errorf("partial import: exit %d, %s", r.code, r.stdout)
		}
		after, _, _ := readObjects(t, exportOf(t, store, "--all-versions"))
		for k, in := range icsObjs {
			if contains(want, k.ID) {
				if !cmp.Equal(decode(t, after[k]), decode(t, entObjs[k])) {
					t.Errorf("%s: the stored enterprise version was replaced", k.ID)
				}
			} else if !cmp.Equal(decode(t, after[k]), decode(t, in)) {
				t.Errorf("%s: not stored as in the ICS input", k.ID)
			}
		}
	})
	// Issue 16: MITRE's sets go in one after the other with a conflict
	// policy, named in the conflict's message; keep-stored leaves the
	// enterprise content, replace stores ICS's, audited as a replace.
	t.Run("ICSAfterEnterpriseWithOnConflictPolicy", func(t *testing.T) {
		store := stores["EnterpriseATTACK"]
		if store == "" {
			t.Skip("the enterprise import failed")
		}
		icsFile := filepath.Join(data, "ics-attack-18.1.json")
		icsRaw, err := os.ReadFile(icsFile)
		if err != nil {
			t.Fatal(err)
		}
		entObjs, _, _ := readObjects(t, exports["EnterpriseATTACK"])
		icsObjs, _, _ := readObjects(t, icsRaw)
		var want []version
		for k, in := range icsObjs {
			if stored, ok := entObjs[k]; ok && !cmp.Equal(decode(t, in), decode(t, stored)) {
				want = append(want, k)
			}
		}
		if len(want) == 0 {
			t.Fatal("ICS and enterprise share no conflicting version: nothing to test")
		}
		var wantIDs []string
		for _, k := range want {
			wantIDs = append(wantIDs, k.ID)
		}
		sort.Strings(wantIDs)
		r := cli(t, "import", "--data", store, icsFile)
		if r.code != 1 || !strings.Contains(r.stderr, "conflict policy reject") || !strings.Contains(r.stderr, "--on-conflict") {
			t.Errorf("default import: exit %d, stderr %.500q; want 1, naming the policy and --on-conflict", r.code, r.stderr)
		}
		r = cli(t, "import", "--data", store, "--on-conflict", "keep-stored", icsFile)
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("conflicting kept as stored %d, rejected 0", len(want))) {
			t.Errorf("keep-stored: exit %d, stdout %q, stderr %.500q", r.code, r.stdout, r.stderr)
		}
		after, _, _ := readObjects(t, exportOf(t, store, "--all-versions"))
		for _, k := range want {
			if !cmp.Equal(decode(t, after[k]), decode(t, entObjs[k])) {
				t.Errorf("keep-stored changed %v", k)
			}
		}
		r = cli(t, "import", "--data", store, "--on-conflict", "replace", icsFile)
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("added %d,", len(want))) || !strings.Contains(r.stdout, fmt.Sprintf("replaced %d, rejected 0", len(want))) {
			t.Errorf("replace: exit %d, stdout %q, stderr %.500q", r.code, r.stdout, r.stderr)
		}
		after, _, _ = readObjects(t, exportOf(t, store, "--all-versions"))
		for _, k := range want {
			if !cmp.Equal(decode(t, after[k]), decode(t, icsObjs[k])) {
				t.Errorf("replace did not store ICS's content of %v", k)
			}
			if !strings.Contains(r.stdout, "replaced "+k.ID+"@") {
				t.Errorf("the summary does not name %s as replaced: %q", k.ID, r.stdout)
			}
		}
		audit := cli(t, "audit", "list", "--data", store, "--json")
		var entries []cyberpact.AuditEntry
		if err := json.Unmarshal([]byte(audit.stdout), &entries); err != nil || len(entries) == 0 {
			t.Fatalf("audit list --json: %v\n%.500s", err, audit.stdout)
		}
		last := entries[len(entries)-1]
		var gotIDs []string
		for _, o := range last.Objects {
			id, _, _ := strings.Cut(o, "@")
			gotIDs = append(gotIDs, id)
		}
		sort.Strings(gotIDs)
		if last.Action != cyberpact.AuditWrite || !strings.Contains(last.Detail, "on-conflict replace") || !cmp.Equal(gotIDs, wantIDs) {
			t.Errorf("the replace's audit entry: %+v; want a write naming the replace and listing %v", last, wantIDs)
		}
		if r := cli(t, "audit", "verify", "--data", store); r.code != 0 {
			t.Errorf("audit verify after the replace: exit %d %s%s", r.code, r.stdout, r.stderr)
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var conflictRE = regexp.MustCompile(`: ([a-z0-9-]+--[0-9a-f-]{36}): conflict`)

// conflictIDs returns the ids the import's error output reports as
// conflicts, sorted.
func conflictIDs(stderr string) []string {
	var out []string
	for _, m := range conflictRE.FindAllStringSubmatch(stderr, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// sameObjects reports whether two bundles hold the same objects in the same
// order, whatever their bundle ids.
func sameObjects(t *testing.T, a, b []byte) bool {
	t.Helper()
	_, _, oa := readObjects(t, a)
	xa, _, _ := readObjects(t, a)
	xb, _, ob := readObjects(t, b)
	if !cmp.Equal(oa, ob) {
		return false
	}
	for _, k := range oa {
		if !bytes.Equal(xa[k], xb[k]) {
			return false
		}
	}
	return true
}

// TestValidateAgreesWithImport checks that validate accepts what import
// accepts: a STIX 2.0 object (upgraded) and a cyber observable without an
// id (import gives it its deterministic id, which validate names).
func TestValidateAgreesWithImport(t *testing.T) {
	file := writeFile(t, "in.json", lines(
		`{"type":"ipv4-addr","spec_version":"2.1","value":"198.51.100.7"}`,
		`{"type":"indicator","id":"indicator--00000001-0000-4000-8000-000000000001","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","labels":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.7']","valid_from":"2024-01-01T00:00:00Z"}`,
	))
	v := cli(t, "validate", file)
	if v.code != 0 {
		t.Fatalf("validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	data := t.TempDir()
	if r := cli(t, "import", "--data", data, file); r.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	objs, _, _ := readObjects(t, exportOf(t, data))
	var scoID string
	for k := range objs {
		if strings.HasPrefix(k.ID, "ipv4-addr--") {
			scoID = k.ID
		}
	}
	if scoID == "" {
		t.Fatal("the observable was not stored")
	}
	if !strings.Contains(v.stdout, "warning: object #0 (ipv4-addr) has no id; import gives it "+scoID) {
		t.Errorf("validate does not name the id import gives the observable (%s):\n%s", scoID, v.stdout)
	}
}
