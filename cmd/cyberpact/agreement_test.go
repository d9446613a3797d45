package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// TestAgreementCommands: agreement set starts from the version in force
// and changes what its flags give; show and history print the versions;
// marking sets and clearances; every change audited; bad input changes
// nothing and says what was wrong.
func TestAgreementCommands(t *testing.T) {
	dir := t.TempDir()
	partners(t, dir)
	mustRun(t, "agreement", "set", "joint cell", "--purpose", "joint defence", "--tlp", "green,amber", "--pap", "clear,green",
		"--rel-nations", "us,GB", "--retention", "90d", "--retention-type", "indicator=30d", "--expires", "2030-01-01", "--federate",
		"--personal-data", "detect-email,redact", "--data", dir)
	r := mustRun(t, "agreement", "set", "Joint Cell", "--tlp", "green", "--data", dir)
	if r.stdout != "set the agreement of group \"Joint Cell\" (version 2)\n" {
		t.Errorf("agreement set stdout %q", r.stdout)
	}
	r = mustRun(t, "agreement", "show", "Joint Cell", "--data", dir)
	for _, want := range []string{"version 2", "joint defence", "TLP:GREEN\n", "PAP:CLEAR, PAP:GREEN", "GB, US", "90d; indicator 30d", "2030-01-01T00:00:00Z", "federation             true", "detect-email, redact"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("agreement show lacks %q:\n%s", want, r.stdout)
		}
	}
	var hist []cyberpact.Agreement
	r = mustRun(t, "agreement", "history", "Joint Cell", "--json", "--data", dir)
	if err := json.Unmarshal([]byte(r.stdout), &hist); err != nil || len(hist) != 2 || len(hist[0].TLPs) != 2 || len(hist[1].TLPs) != 1 {
		t.Errorf("agreement history --json: %v\n%s", err, r.stdout)
	}
	mustRun(t, "agreement", "set", "hub", "--purpose", "the partnership", "--data", dir)
	r = mustRun(t, "agreement", "show", "--data", dir)
	if i, j := strings.Index(r.stdout, "the hub's agreement"), strings.Index(r.stdout, "Joint Cell"); i < 0 || j < i {
		t.Errorf("agreement show, all: the hub's first, then the cell's:\n%s", r.stdout)
	}
	mustRun(t, "marking", "set", "UK-CLASS", "--levels", "OFFICIAL,SECRET", "--data", dir)
	mustRun(t, "marking", "clearance", "Kanto Power", "--set", "UK-CLASS", "--level", "1", "--data", dir)
	if r := mustRun(t, "marking", "list", "--data", dir); !strings.Contains(r.stdout, "UK-CLASS\t1 OFFICIAL, 2 SECRET") {
		t.Errorf("marking list:\n%s", r.stdout)
	}
	r = mustRun(t, "audit", "list", "--action", "agreement", "--data", dir)
	if n := strings.Count(strings.TrimSpace(r.stdout), "\n") + 1; n != 5 {
		t.Errorf("%d agreement entries, want 5:\n%s", n, r.stdout)
	}
	before := mustRun(t, "audit", "list", "--json", "--data", dir).stdout
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"NoGroup", []string{"agreement", "set"}, 2, "missing the GROUP"},
		{"UnknownGroup", []string{"agreement", "set", "Nope", "--purpose", "x"}, 1, `"Nope"`},
		{"BadTLP", []string{"agreement", "set", "hub", "--tlp", "purple"}, 2, `--tlp: "purple"`},
		{"BadPAP", []string{"agreement", "set", "hub", "--pap", "black"}, 2, `--pap: "black"`},
		{"BadNation", []string{"agreement", "set", "hub", "--rel-nations", "UK"}, 1, "GB"},
		{"BadRetention", []string{"agreement", "set", "hub", "--retention", "forever"}, 2, "--retention"},
		{"BadRetentionType", []string{"agreement", "set", "hub", "--retention-type", "indicator"}, 2, "TYPE=SPAN"},
		{"BadFlag", []string{"agreement", "set", "hub", "--personal-data", "scan"}, 1, `personal-data flag "scan"`},
		{"ShowNone", []string{"agreement", "show", "Kanto Power"}, 1, `"Kanto Power"`},
		{"HistoryTwoGroups", []string{"agreement", "history", "hub", "Joint Cell"}, 2, "unexpected argument"},
		{"MarkingNoLevels", []string{"marking", "set", "X"}, 2, "--levels"},
		{"MarkingFewerLevels", []string{"marking", "set", "UK-CLASS", "--levels", "OFFICIAL"}, 1, "may add levels"},
		{"ClearanceTooHigh", []string{"marking", "clearance", "Kanto Power", "--set", "UK-CLASS", "--level", "3"}, 1, "levels 1 to 2"},
		{"ClearanceNoSet", []string{"marking", "clearance", "Kanto Power", "--set", "NATO", "--level", "1"}, 1, `"NATO"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append(tc.args, "--data", dir)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || r.stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want %d saying %q", r.code, r.stderr, r.stdout, tc.code, tc.msg)
			}
		})
	}
	if after := mustRun(t, "audit", "list", "--json", "--data", dir).stdout; after != before {
		t.Errorf("bad input changed the audit log")
	}
	mustRun(t, "audit", "verify", "--data", dir)
}
