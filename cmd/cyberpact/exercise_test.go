package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/exercise"
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
		{"UnknownProfiles", []string{"simulate", "financial-drill", "--profiles", "nope", "--out", t.TempDir()}, 1, "nope: no such file nor built-in profiles (built-in: blind, perfect, typical)"},
		{"EmptyProfiles", []string{"simulate", "financial-drill", "--profiles", ""}, 2, "--profiles"},
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

// TestExerciseSimulateRunsWithoutProfiles: simulate needs no profiles file
// (the README's example has none): the built-in typical profiles play
// every participant, and the other built-in profiles are found by name.
func TestExerciseSimulateRunsWithoutProfiles(t *testing.T) {
	coverage := map[string]string{}
	for _, profiles := range []string{"", "typical", "perfect", "blind"} {
		out := t.TempDir()
		args := []string{"exercise", "simulate", "financial-drill", "--seed", "7", "--out", out}
		if profiles != "" {
			args = append(args, "--profiles", profiles)
		}
		r := cli(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
			t.Error(err)
		}
		coverage[profiles] = strings.Split(r.stderr, "report:")[0]
	}
	if coverage[""] != coverage["typical"] {
		t.Errorf("without --profiles:\n%s\nwith the typical ones:\n%s", coverage[""], coverage["typical"])
	}
	if coverage["perfect"] == coverage["blind"] || coverage["typical"] == coverage["blind"] {
		t.Errorf("the built-in profiles do not differ:\n%v", coverage)
	}
	if !strings.Contains(coverage["blind"], "detected 0 of") || strings.Contains(coverage["perfect"], "detected 0 of") {
		t.Errorf("blind detects something or perfect nothing:\n%v", coverage)
	}
}

// TestExerciseListShowsHubExercises: exercise list shows the exercises
// stored on the hub, with the organisations that play them, beside the
// built-in scenarios; without a hub it shows those alone, and a --data
// that names no hub is an error that creates nothing.
func TestExerciseListShowsHubExercises(t *testing.T) {
	dir := t.TempDir()
	for _, org := range []string{"Hanseatic Payments Network", "Thamesgate Clearing Bank", "Atlantic Securities Exchange"} {
		if r := cli(t, "org", "create", org, "--nation", "DE", "--sector", "finance", "--data", dir); r.code != 0 {
			t.Fatal(r.stderr)
		}
	}
	r := cli(t, "exercise", "list", "--data", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "No exercises on the hub yet") || !strings.Contains(r.stdout, "financial-drill") {
		t.Errorf("list before any exercise: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, "exercise", "start", "financial-drill", "--speed", "600", "--seed", "7", "--data", dir,
		"--participants", "central-bank=Hanseatic Payments Network,commercial-bank=Thamesgate Clearing Bank,stock-exchange=Atlantic Securities Exchange")
	if r.code != 0 {
		t.Fatalf("start: %s", r.stderr)
	}
	r = cli(t, "exercise", "list", "--data", dir)
	for _, want := range []string{"Exercises on the hub:", "  1  financial-drill  running, started ", "speed 600, seed 7",
		"central-bank=Hanseatic Payments Network, commercial-bank=Thamesgate Clearing Bank, stock-exchange=Atlantic Securities Exchange",
		"Built-in scenarios", "grid-ics", "Built-in profiles"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("list does not say %q: exit %d\n%s%s", want, r.code, r.stdout, r.stderr)
		}
	}
	r = cli(t, "exercise", "list", "--json", "--data", dir)
	var got struct {
		Exercises []struct {
			ID           int64
			State        string
			Participants map[string]string
		}
		Scenarios []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Exercises) != 1 || got.Exercises[0].Participants["commercial-bank"] != "Thamesgate Clearing Bank" || len(got.Scenarios) == 0 {
		t.Errorf("list --json (%v): %s", err, r.stdout)
	}
	r = cli(t, "exercise", "status", "1", "--data", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Thamesgate Clearing Bank (commercial-bank): detected") {
		t.Errorf("status does not name the organisations: %s%s", r.stdout, r.stderr)
	}
	// Every step of its life is in the audit log.
	for _, op := range []string{"pause", "resume", "stop"} {
		if r := cli(t, "exercise", op, "1", "--data", dir); r.code != 0 {
			t.Fatalf("%s: %s", op, r.stderr)
		}
	}
	r = cli(t, "audit", "list", "--data", dir)
	for _, want := range []string{"exercise 1 (financial-drill) started", "exercise 1 (financial-drill) paused", "exercise 1 (financial-drill) resumed", "exercise 1 (financial-drill) stopped"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the audit log does not say %q:\n%s", want, r.stdout)
		}
	}

	missing := filepath.Join(t.TempDir(), "typo")
	if r := cli(t, "exercise", "list", "--data", missing); r.code != 1 || !strings.Contains(r.stderr, missing) {
		t.Errorf("list --data of no hub: exit %d, %q", r.code, r.stderr)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("list created the data directory it was given")
	}
	t.Chdir(t.TempDir())
	r = cli(t, "exercise", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "No hub in cyberpact-data") || !strings.Contains(r.stdout, "financial-drill") {
		t.Errorf("list without a hub: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat("cyberpact-data"); err == nil {
		t.Error("list created ./cyberpact-data")
	}
}

// TestReadmeDrillsFinishQuickly: every exercise the README starts, from
// the command line or over HTTP, plays its whole scenario within a minute
// at the speed the README gives (scenario length / speed, computed, not
// timed), so that the README's wait for one to finish is short and one it
// leaves running does not outlast the hub it runs on by much.
func TestReadmeDrillsFinishQuickly(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	complete := func(text string) bool { return exec.Command("sh", "-n", "-c", text).Run() == nil }
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	commands, err := readmeCommands(string(readme), complete)
	if err != nil {
		t.Fatal(err)
	}
	cliStart := regexp.MustCompile(`exercise start (\S+)[^\n]*--speed[= ](\S+)`)
	httpStart := regexp.MustCompile(`"scenario": "([^"]+)".*"speed": ([0-9.]+)`)
	n := 0
	for _, c := range commands {
		m := cliStart.FindStringSubmatch(c.text)
		if m == nil {
			m = httpStart.FindStringSubmatch(c.text)
		}
		if m == nil {
			continue
		}
		n++
		data, ok := exercise.LibraryScenario(m[1])
		if !ok {
			t.Errorf("README.md:%d starts %q, which is not a built-in scenario", c.line, m[1])
			continue
		}
		sc, err := exercise.ParseScenario(m[1], data, exercise.LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		speed, err := strconv.ParseFloat(m[2], 64)
		if err != nil || speed <= 0 {
			t.Errorf("README.md:%d: speed %q", c.line, m[2])
			continue
		}
		if wall := time.Duration(float64(sc.Duration) / speed); wall > time.Minute {
			t.Errorf("README.md:%d: %s at --speed %g plays for %s: over a minute", c.line, m[1], speed, wall)
		}
	}
	if n < 2 {
		t.Errorf("the README starts %d exercises; want one from the command line and one over HTTP", n)
	}
}
