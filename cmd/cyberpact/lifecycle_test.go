package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLifecycleCommands runs anonymous import, counted sightings,
// retention and purge from the command line, and their bad input: each
// says what was wrong with the right exit code and changes nothing.
func TestLifecycleCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	must := func(args ...string) result {
		t.Helper()
		r := cli(t, append(args, "--data", data)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s %s", args, r.code, r.stdout, r.stderr)
		}
		return r
	}
	must("org", "create", "Org A", "--nation", "GB", "--sector", "finance")
	must("org", "create", "Org B", "--nation", "GB", "--sector", "finance")
	must("group", "create", "Cell", "--orgs", "Org A,Org B")
	ind := filepath.Join(dir, "ind.json")
	os.WriteFile(ind, []byte(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2026-01-05T00:00:00.000Z","modified":"2026-01-05T00:00:00.000Z","name":"Quietly","pattern":"[ipv4-addr:value = '198.51.100.70']","pattern_type":"stix","valid_from":"2026-01-05T00:00:00Z","created_by_ref":"identity--00000000-0000-4000-8000-0000000000aa"}]}`), 0o644)
	sight := filepath.Join(dir, "sight.json")
	os.WriteFile(sight, []byte(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000002","objects":[
{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-000000000002","created":"2026-01-06T00:00:00.000Z","modified":"2026-01-06T00:00:00.000Z","sighting_of_ref":"indicator--00000000-0000-4000-8000-000000000001"}]}`), 0o644)

	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"import", "--anonymous", ind}, 2, "need --org"},
		{[]string{"import", "--org", "Org A", "--share", "names", ind}, 2, "the only value is counts"},
		{[]string{"import", "--org", "Org A", "--anonymous", "--share", "counts", ind}, 2, "do not go together"},
		{[]string{"import", "--org", "Org A", "--anonymous", "--audience", "org", ind}, 1, "anonymous publication must be shared"},
		{[]string{"retention", "set", "--type", "indicator", "--days", "-3"}, 1, "at least 1 day"},
		{[]string{"retention", "set", "--type", "Indicator!", "--days", "3"}, 1, "want a STIX type"},
		{[]string{"retention", "set", "--type", "indicator", "--days", "3", "--group", "Nope"}, 1, "Nope"},
		{[]string{"retention", "remove", "99"}, 1, "no retention rule 99"},
		{[]string{"retention", "remove", "x"}, 2, "not a number"},
		{[]string{"purge", "extra"}, 2, "no arguments"},
	} {
		r := cli(t, append(tc.args, "--data", data)...)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.says) {
			t.Errorf("%v: exit %d, %q %q; want %d saying %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.says)
		}
	}
	if r := must("stats"); strings.Contains(r.stdout, "indicator") {
		t.Fatalf("refused imports stored something: %s", r.stdout)
	}
	must("import", "--org", "Org A", "--anonymous", ind)
	r := must("get", "indicator--00000000-0000-4000-8000-000000000001", "--org", "Org B")
	if strings.Contains(r.stdout, "identity--00000000-0000-4000-8000-0000000000aa") || !strings.Contains(r.stdout, `"created_by_ref": "identity--`) {
		t.Errorf("Org B sees the anonymous indicator as %s; want the hub's identity as its creator", r.stdout)
	}
	must("import", "--org", "Org B", "--share", "counts", sight)
	if r := cli(t, "get", "sighting--00000000-0000-4000-8000-000000000002", "--org", "Org A", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "no object") {
		t.Errorf("Org A reading Org B's counted sighting: exit %d %s; want not found", r.code, r.stdout)
	}
	must("retention", "set", "--type", "indicator", "--days", "30", "--group", "Cell")
	if r := must("retention", "list"); !strings.Contains(r.stdout, "indicator") || !strings.Contains(r.stdout, "30") {
		t.Errorf("retention list: %s", r.stdout)
	}
	if r := must("purge"); !strings.Contains(r.stdout, "purged 0 versions") {
		t.Errorf("purge with nothing expired: %s", r.stdout)
	}
	must("audit", "verify")
}
