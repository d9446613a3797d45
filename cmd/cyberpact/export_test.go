package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestExportSensorFormats runs the sensor exports end to end on a store
// where org A imported the sensor fixture (its TLP:RED indicator, for
// 198.51.100.14, stays with A).
func TestExportSensorFormats(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "A", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "org", "create", "B", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "import", "--data", dir, "--org", "A", filepath.Join("..", "..", "sensor", "testdata", "indicators.json"))
	mustRun(t, "import", "--data", dir, filepath.Join("..", "..", "sensor", "testdata", "graph.json"))
	at := "--at=2026-01-01T00:00:00Z"
	const red = "198.51.100.14"
	t.Run("RedOnlyWhenAskedAndVisible", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want bool
		}{
			{[]string{"--org", "A"}, false},
			{[]string{"--org", "A", "--max-tlp", "red"}, true},
			{[]string{"--org", "B", "--max-tlp", "red"}, false},
			{nil, false},
		} {
			r := mustRun(t, append([]string{"export", "--data", dir, "--format", "blocklist-ip", at}, c.args...)...)
			if strings.Contains(r.stdout, red) != c.want || !strings.Contains(r.stdout, "198.51.100.7\n") {
				t.Errorf("%v: RED address listed %v, want %v:\n%s", c.args, !c.want, c.want, r.stdout)
			}
		}
		r := cli(t, "export", "--data", dir, "--format", "csv", "--max-tlp", "red")
		if r.code != 2 || !strings.Contains(r.stderr, "--org") {
			t.Errorf("--max-tlp red without --org: exit %d: %s", r.code, r.stderr)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		r := mustRun(t, "export", "--data", dir, "--format", "csv", at, "--kind", "domain", "--label", "phishing")
		got := strings.Split(strings.TrimSpace(r.stdout), "\n")[1:]
		if len(got) != 3 {
			t.Errorf("%d rows, want the three phishing domains:\n%s", len(got), r.stdout)
		}
		for _, row := range got {
			if !strings.Contains(row, ",domain,") || !strings.Contains(row, "phishing") {
				t.Errorf("row %q", row)
			}
		}
		if !strings.Contains(r.stderr, "label not selected") {
			t.Errorf("no summary of what was left out: %s", r.stderr)
		}
	})
	t.Run("Navigator", func(t *testing.T) {
		r := mustRun(t, "export", "--data", dir, "--format", "navigator", "--of", "campaign--00000001-0000-4000-8000-000000000001")
		for _, want := range []string{`"layer": "4.5"`, `"techniqueID": "T1059"`, `"techniqueID": "T1566"`} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("layer lacks %s:\n%s", want, r.stdout)
			}
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		for _, c := range []struct{ args, want string }{
			{"--format pdf", `--format "pdf"`},
			{"--format csv --kind ipx", `"ipx" is not a value kind`},
			{"--format csv --min-score 101", "--min-score"},
			{"--format rpz --zone a;b", "--zone"},
			{"--format csv --all-versions", "--all-versions"},
			{"--format zeek --type malware", "--type"},
		} {
			r := cli(t, append([]string{"export", "--data", dir}, strings.Fields(c.args)...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%s: exit %d, stderr %q, want 2 and %q", c.args, r.code, r.stderr, c.want)
			}
		}
	})
}
