package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportLeavesOutOddlyWrittenRed imports, with the default options,
// TLP:RED written with upper-case marking ids and as a granular marking on
// an otherwise TLP:CLEAR object: each is stored, and none is in the
// export, which carries the plain TLP:CLEAR object beside them.
func TestExportLeavesOutOddlyWrittenRed(t *testing.T) {
	const (
		clear = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
		red2  = "marking-definition--E828B379-4E03-4974-9AC4-E53A884C97C1"
		red1  = "marking-definition--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED"
	)
	ind := func(n, markings string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"indicator--0000000` + n + `-0000-4000-8000-000000000000",` +
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"beacon","description":"seen at the ministry",` +
			`"pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '198.51.100.` + n + `']"` + markings + `}`
	}
	objs := []string{
		ind("1", `,"object_marking_refs":["`+clear+`"]`),
		ind("2", `,"object_marking_refs":["`+clear+`","`+red2+`"]`),
		ind("3", `,"object_marking_refs":["`+red1+`"]`),
		ind("4", `,"object_marking_refs":["`+clear+`"],"granular_markings":[{"marking_ref":"`+red2+`","selectors":["description"]}]`),
	}
	f := filepath.Join(t.TempDir(), "bundle.json")
	bundle := `{"type":"bundle","id":"bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d52","objects":[` + strings.Join(objs, ",") + `]}`
	if err := os.WriteFile(f, []byte(bundle), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	if r := cli(t, "import", "--data", data, f); r.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	exported := string(exportOf(t, data, "--all-versions"))
	for _, n := range []string{"1", "2", "3", "4"} {
		id := "indicator--0000000" + n + "-0000-4000-8000-000000000000"
		if r := cli(t, "get", "--data", data, id); r.code != 0 {
			t.Errorf("%s not stored: %s", id, r.stderr)
		}
		if in := strings.Contains(exported, id); in != (n == "1") {
			t.Errorf("%s in the export: %v, want %v", id, in, n == "1")
		}
	}
}
