package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExerciseCommand(t *testing.T) {
	profiles := writeFile(t, "profiles.json", `{"schema": "cyberpact-profiles/1", "profiles": {"*": {"default": {"detect": true, "delay": "0s"}, "sharing_delay": "0s"}}}`)
	out := t.TempDir()
	t.Run("SimulateWritesTheReports", func(t *testing.T) {
		r := cliStdin(t, "", "exercise", "simulate", "financial-drill", "--profiles", profiles, "--out", out, "--seed", "5", "--speed", "2")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, f := range []string{"report.md", "report.html", "scores.json", "intel.json", "navigator/all.json", "navigator/central-bank.json", "telemetry/commercial-bank.ecs.jsonl", "telemetry/commercial-bank.stix.json"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Error(err)
			}
		}
	})
	t.Run("GeneratedTelemetryIsMatchedByMatch", func(t *testing.T) {
		ecs := filepath.Join(t.TempDir(), "bank.jsonl")
		r := cliStdin(t, "", "exercise", "generate", "financial-drill", "--participant", "commercial-bank", "--seed", "5", "--speed", "2", "--out", ecs)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		m := cliStdin(t, "", "match", "--indicators", filepath.Join(out, "intel.json"), ecs)
		if m.code != 0 {
			t.Fatalf("match exit %d: %s", m.code, m.stderr)
		}
		f, _ := os.Open(ecs)
		defer f.Close()
		malicious := 0
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"benign":false`) {
				malicious++
			}
		}
		if hits := strings.Count(m.stdout, `"benign":false`); malicious == 0 || hits < malicious {
			t.Errorf("%d malicious events, %d alerts on them", malicious, hits)
		}
		if strings.Contains(m.stdout, `"benign":true`) {
			t.Error("a benign event matched")
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"NoSubcommand", nil, 2, "subcommand"},
		{"NoProfiles", []string{"simulate", "financial-drill"}, 2, "--profiles"},
		{"UnknownScenario", []string{"simulate", "nope", "--profiles", profiles}, 1, "no such file nor built-in scenario"},
		{"BadScenarioShowsLineAndField", []string{"simulate", writeFile(t, "bad.json", "{\n\"schema\": \"cyberpact-exercise/1\",\n\"name\": \"Bad Name\"\n}"), "--profiles", profiles}, 1, "bad.json:3: name: want a short name"},
		{"UnknownParticipant", []string{"generate", "financial-drill", "--participant", "nobody"}, 2, "--participant"},
		{"BadFormat", []string{"generate", "financial-drill", "--participant", "central-bank", "--format", "xml"}, 2, "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliStdin(t, "", append([]string{"exercise"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.want)
			}
		})
	}
}
