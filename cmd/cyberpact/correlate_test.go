package main

import (
	"strings"
	"testing"
)

const hubIndicators = `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'EVIL.example.']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00.000Z"}]}`

// TestCorrelateAndMatchFromTheHubStore imports an indicator private to
// one organisation and checks that correlate and match --org find it for
// that organisation and not for another.
func TestCorrelateAndMatchFromTheHubStore(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "Org A", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "org", "create", "Org B", "--nation", "FR", "--sector", "energy", "--data", dir)
	mustRun(t, "import", "--data", dir, "--org", "Org A", "--audience", "org", writeFile(t, "ind.json", hubIndicators))
	t.Run("CorrelateSeesOwn", func(t *testing.T) {
		r := cli(t, "correlate", "--data", dir, "--org", "Org A", "evil.example")
		if r.code != 0 || !strings.Contains(r.stdout, "indicator--00000000-0000-4000-8000-000000000001") {
			t.Errorf("code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("CorrelateHidesOthers", func(t *testing.T) {
		r := cli(t, "correlate", "--data", dir, "--org", "Org B", "evil.example")
		if r.code != 0 || strings.Contains(r.stdout, "indicator--") {
			t.Errorf("code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
		}
	})
	events := writeFile(t, "ev.jsonl", `{"dns":{"question":{"name":"evil.example"}}}`+"\n")
	t.Run("MatchOrgAlertsOnWhatItSees", func(t *testing.T) {
		r := cli(t, "match", "--data", dir, "--org", "Org A", events)
		if r.code != 0 || !strings.Contains(r.stdout, "indicator--00000000-0000-4000-8000-000000000001") {
			t.Errorf("code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
		}
		r = cli(t, "match", "--data", dir, "--org", "Org B", events)
		if r.code != 0 || r.stdout != "" {
			t.Errorf("Org B: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
		}
	})
}
