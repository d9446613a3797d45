package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/google/go-cmp/cmp"
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

// TestImportTLPWrittenIntoUnmarkedObjects (issue 16): --tlp green on
// import is written into the objects that carry no TLP marking, as the
// TLP 2.0 GREEN marking, so that a hub that receives them (here a second
// data directory importing the export with its own default, AMBER) shares
// them as GREEN; objects with a TLP marking keep theirs, and without --tlp
// nothing is written.
func TestImportTLPWrittenIntoUnmarkedObjects(t *testing.T) {
	const (
		green2 = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
		clear2 = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
		stmt   = "marking-definition--1b7e2c44-7d6b-4d4f-9a4e-6a1e0f2d3c4b"
	)
	mal := func(n, extra string) string {
		return `{"type":"malware","spec_version":"2.1","id":"malware--0000000` + n + `-0000-4000-8000-000000000000",` +
			`"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"m` + n + `","is_family":true` + extra + `}`
	}
	objs := []string{
		mal("1", ""),
		mal("2", `,"object_marking_refs":["`+clear2+`"]`),
		mal("3", `,"object_marking_refs":["`+stmt+`"]`), // a marking, but no TLP
		`{"type":"marking-definition","spec_version":"2.1","id":"` + stmt + `","created":"2026-01-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright Example"}}`,
	}
	f := filepath.Join(t.TempDir(), "bundle.json")
	bundle := `{"type":"bundle","id":"bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d53","objects":[` + strings.Join(objs, ",") + `]}`
	if err := os.WriteFile(f, []byte(bundle), 0o644); err != nil {
		t.Fatal(err)
	}
	markings := func(data, n string) []string {
		t.Helper()
		r := cli(t, "get", "--data", data, "malware--0000000"+n+"-0000-4000-8000-000000000000")
		if r.code != 0 {
			t.Fatalf("get: exit %d %s", r.code, r.stderr)
		}
		var o struct {
			Markings []string `json:"object_marking_refs"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &o); err != nil {
			t.Fatalf("get printed %q: %v", r.stdout, err)
		}
		return o.Markings
	}
	plain := t.TempDir()
	if r := cli(t, "import", "--data", plain, f); r.code != 0 {
		t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := markings(plain, "1"); got != nil {
		t.Errorf("without --tlp the unmarked object was given markings %v", got)
	}
	data := t.TempDir()
	if r := cli(t, "import", "--data", data, f, "--tlp", "green"); r.code != 0 {
		t.Fatalf("import --tlp green: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for n, want := range map[string][]string{"1": {green2}, "2": {clear2}, "3": {stmt, green2}} {
		if got := markings(data, n); !cmp.Equal(got, want) {
			t.Errorf("malware %s after import --tlp green: object_marking_refs %v, want %v", n, got, want)
		}
	}
	// A hub that receives the export, with its own default, shares it as
	// GREEN: an organisation's GREEN feed, at most GREEN, holds it.
	exported := filepath.Join(t.TempDir(), "export.json")
	if err := os.WriteFile(exported, exportOf(t, data), 0o644); err != nil {
		t.Fatal(err)
	}
	peer := t.TempDir()
	if r := cli(t, "import", "--data", peer, exported); r.code != 0 {
		t.Fatalf("import of the export: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(peer, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, n := range []string{"1", "3"} {
		o, err := db.Object(context.Background(), "malware--0000000"+n+"-0000-4000-8000-000000000000", nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.Release.TLP != cyberpact.TLPGreen {
			t.Errorf("malware %s at the receiving hub is shared as %v, want GREEN", n, o.Release.TLP)
		}
	}
}
