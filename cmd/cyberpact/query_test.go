package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCommandsAsAnOrganisation checks that get, search, stats and export
// with --org show what that organisation may see, and nothing more.
func TestReadCommandsAsAnOrganisation(t *testing.T) {
	data := t.TempDir()
	for _, org := range []string{"Alpha", "Bravo"} {
		if r := cli(t, "org", "create", org, "--nation", "GB", "--sector", "finance", "--data", data); r.code != 0 {
			t.Fatalf("org create %s: %d %s", org, r.code, r.stderr)
		}
	}
	id := "indicator--0b7c3a4e-1f2d-4c5b-8a9e-7d6c5b4a3f21"
	bundle := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Alpha private beacon","pattern":"[ipv4-addr:value = '198.51.100.9']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}]}`
	file := filepath.Join(t.TempDir(), "b.json")
	if err := os.WriteFile(file, []byte(bundle), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, "import", "--data", data, "--org", "Alpha", "--audience", "org", file); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	exported := func(org string) int {
		r := cli(t, "export", "--data", data, "--org", org)
		var b struct{ Objects []json.RawMessage }
		if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
			t.Fatalf("export --org %s: %v\n%s", org, err, r.stdout)
		}
		return len(b.Objects)
	}
	for _, tc := range []struct {
		org  string
		sees bool
	}{{"Alpha", true}, {"Bravo", false}} {
		t.Run(tc.org, func(t *testing.T) {
			get := cli(t, "get", "--data", data, "--org", tc.org, id)
			search := cli(t, "search", "--data", data, "--org", tc.org, "beacon")
			stats := cli(t, "stats", "--data", data, "--org", tc.org, "--json")
			if (get.code == 0) != tc.sees || strings.Contains(search.stdout, id) != tc.sees ||
				strings.Contains(stats.stdout, `"indicator"`) != tc.sees || (exported(tc.org) == 1) != tc.sees {
				t.Fatalf("%s sees the private indicator: get exit %d, search %q, stats %s, want sees=%v", tc.org, get.code, search.stdout, stats.stdout, tc.sees)
			}
		})
	}
	// Without --org, the operator's view holds it.
	if r := cli(t, "get", "--data", data, id); r.code != 0 {
		t.Fatalf("get without --org: %d %s", r.code, r.stderr)
	}
}
