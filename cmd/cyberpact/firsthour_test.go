package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// readOnlyCommands are command lines that only read the hub, with DATA
// standing for the data directory.
var readOnlyCommands = [][]string{
	{"stats", "--data", "DATA"},
	{"search", "--data", "DATA", "T1059"},
	{"get", "--data", "DATA", "indicator--11111111-1111-4111-8111-111111111111"},
	{"export", "--data", "DATA"},
	{"audit", "list", "--data", "DATA"},
	{"audit", "verify", "--data", "DATA"},
	{"org", "list", "--data", "DATA"},
	{"group", "list", "--data", "DATA"},
	{"user", "list", "--data", "DATA"},
	{"key", "list", "--data", "DATA"},
	{"correlate", "--data", "DATA", "--org", "UK NCRC", "198.51.100.7"},
	{"match", "--data", "DATA", "--org", "UK NCRC", "-"},
	{"peer", "list", "--data", "DATA"},
	{"peer", "status", "--data", "DATA"},
	{"exercise", "status", "1", "--data", "DATA"},
}

// withData returns args with DATA replaced by dir.
func withData(args []string, dir string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "DATA" {
			a = dir
		}
		out[i] = a
	}
	return out
}

// TestReadOnlyCommandsDoNotCreateADataDirectory runs every read-only
// command against a data directory that does not exist, and one that is
// empty: each must fail with exit 1 and say so, and leave nothing behind;
// a command that writes then creates the directory, and the same read
// commands succeed on it.
func TestReadOnlyCommandsDoNotCreateADataDirectory(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	empty := t.TempDir()
	for _, args := range readOnlyCommands {
		name := strings.Join(args[:2], " ")
		t.Run(name, func(t *testing.T) {
			r := cli(t, withData(args, missing)...)
			if r.code != 1 || !strings.Contains(r.stderr, "there is no data directory "+missing+" (--data)") {
				t.Errorf("%v on a missing directory: exit %d, stderr %q; want 1 saying there is no data directory", args, r.code, r.stderr)
			}
			if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("%v created %s (stat: %v)", args, missing, err)
			}
			r = cli(t, withData(args, empty)...)
			if r.code != 1 || !strings.Contains(r.stderr, "holds no hub (no cyberpact.db)") {
				t.Errorf("%v on an empty directory: exit %d, stderr %q; want 1 saying it holds no hub", args, r.code, r.stderr)
			}
			if names, _ := os.ReadDir(empty); len(names) > 0 {
				t.Fatalf("%v wrote %s into an empty directory", args, names[0].Name())
			}
		})
	}
	// The default and $CYBERPACT_DATA are named as the source.
	var out, errb strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string {
		if k == "CYBERPACT_DATA" {
			return missing
		}
		return ""
	}}
	if code := run(context.Background(), e, []string{"stats"}); code != 1 || !strings.Contains(errb.String(), missing+" ($CYBERPACT_DATA)") {
		t.Errorf("stats with $CYBERPACT_DATA missing: exit %d, stderr %q", code, errb.String())
	}

	// A write creates the hub; then the reads work.
	mustRun(t, "org", "create", "UK NCRC", "--nation", "GB", "--sector", "government", "--data", missing)
	for _, args := range [][]string{{"stats", "--data", "DATA"}, {"user", "list", "--data", "DATA"}, {"audit", "verify", "--data", "DATA"}, {"export", "--data", "DATA"}} {
		if r := cli(t, withData(args, missing)...); r.code != 0 {
			t.Errorf("%v on the created hub: exit %d: %s", args, r.code, r.stderr)
		}
	}
}

// TestFlagsAfterArguments runs one command of each shape of command line
// with its flags before and after its arguments: both must give the same
// exit code and output, and the flag must have taken effect.
func TestFlagsAfterArguments(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "UK NCRC", "--nation", "GB", "--sector", "government", "--data", dir)
	mustRun(t, "user", "create", "alice", "--org", "UK NCRC", "--role", "analyst", "--data", dir)
	var inds []string
	for i, word := range []string{"one", "two", "three"} {
		inds = append(inds, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08d-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"beacon %s","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i+1, word, i+1))
	}
	bundle := writeBundle(t, inds...)
	mustRun(t, "import", bundle, "--data", dir, "--org", "UK NCRC")
	id := "indicator--00000002-0000-4000-8000-000000000001"
	otherDir := filepath.Join(t.TempDir(), "other")
	events := `{"destination":{"ip":"198.51.100.3"}}` + "\n"

	for _, tc := range []struct {
		name          string
		stdin         string
		before, after []string // the same command line, flags first and last
		code          int
		check         func(r result) string // "" when the flag took effect
		// outputDiffers: the second run's output rightly differs (a new
		// key, an import that finds its objects already there).
		outputDiffers bool
	}{
		{"OneArgumentAndABoolFlag", "",
			[]string{"get", "--data", dir, "--versions", id},
			[]string{"get", id, "--data", dir, "--versions"}, 0,
			func(r result) string {
				if !strings.HasPrefix(r.stdout, "[") {
					return "--versions did not print an array"
				}
				return ""
			}, false},
		{"WordsAndAValueFlag", "",
			[]string{"search", "--data", dir, "--limit", "2", "beacon"},
			[]string{"search", "beacon", "--data", dir, "--limit", "2"}, 0,
			func(r result) string {
				if n := strings.Count(r.stdout, "\n"); n != 2 {
					return fmt.Sprintf("--limit 2 gave %d results", n)
				}
				return ""
			}, false},
		{"FlagBetweenWords", "",
			[]string{"search", "--data", dir, "--limit", "5", "beacon", "two"},
			[]string{"search", "beacon", "--limit", "5", "two", "--data", dir}, 0,
			func(r result) string {
				if !strings.Contains(r.stdout, id) || strings.Count(r.stdout, "\n") != 1 {
					return "the words around the flag were not both searched for"
				}
				return ""
			}, false},
		{"DoubleDashEndsTheFlags", "",
			[]string{"get", "--data", dir, "--", "--versions"},
			[]string{"get", "--data", dir, "--", "--versions"}, 1,
			func(r result) string {
				if !strings.Contains(r.stderr, "--versions") {
					return "the argument after -- was not taken as the id"
				}
				return ""
			}, false},
		{"FilesThenFlags", "",
			[]string{"import", "--data", otherDir, "--partial", bundle},
			[]string{"import", bundle, "--data", otherDir, "--partial"}, 0,
			func(r result) string {
				if s := cli(t, "stats", "--data", otherDir); s.code != 0 || !strings.Contains(s.stdout, "indicator") {
					return "--data after the file was not where the import went: " + s.stderr
				}
				return ""
			}, true},
		{"StdinThenFlags", events,
			[]string{"match", "--indicators", bundle, "-"},
			[]string{"match", "-", "--indicators", bundle}, 0,
			func(r result) string {
				if !strings.Contains(r.stdout, "indicator--00000003") {
					return "no hit from --indicators given after -"
				}
				return ""
			}, false},
		{"SubcommandArgumentThenFlags", "",
			[]string{"key", "create", "--data", dir, "--expires", "90d", "alice"},
			[]string{"key", "create", "alice", "--expires", "90d", "--data", dir}, 0,
			func(r result) string {
				if !keyLine.MatchString(r.stdout) {
					return "no key printed"
				}
				return ""
			}, true},
		{"SubcommandNumberThenFlags", "",
			[]string{"exercise", "status", "--data", dir, "--json", "7"},
			[]string{"exercise", "status", "7", "--json", "--data", dir}, 1,
			func(r result) string {
				if !strings.Contains(r.stderr, "7") {
					return "exercise 7 was not looked for"
				}
				return ""
			}, false},
		{"ScenarioAmongFlags", "",
			[]string{"exercise", "start", "--data", dir, "--speed", "60", "financial-drill", "--participants", "central-bank=Nobody"},
			[]string{"exercise", "start", "financial-drill", "--speed", "60", "--participants", "central-bank=Nobody", "--data", dir}, 1,
			func(r result) string {
				if !strings.Contains(r.stderr, `no organisation named "Nobody"`) {
					return "the scenario or --participants was not read"
				}
				return ""
			}, false},
		{"PatternThenFlag", "",
			[]string{"pattern", "check", "--stix-version", "3.0", "[ipv4-addr:value = '198.51.100.1']"},
			[]string{"pattern", "check", "[ipv4-addr:value = '198.51.100.1']", "--stix-version", "3.0"}, 2,
			func(r result) string {
				if !strings.Contains(r.stderr, "--stix-version must be") {
					return "--stix-version after the pattern was not read"
				}
				return ""
			}, false},
		{"ValueThenFlags", "",
			[]string{"correlate", "--data", dir, "--org", "UK NCRC", "198.51.100.1"},
			[]string{"correlate", "198.51.100.1", "--org", "UK NCRC", "--data", dir}, 0,
			func(r result) string {
				if !strings.Contains(r.stdout, "indicator--00000001") {
					return "the value was not correlated for --org"
				}
				return ""
			}, false},
		{"NoArgumentsTakenStrayOneRefused", "",
			[]string{"stats", "--data", dir, "extra"},
			[]string{"stats", "extra", "--data", dir}, 2,
			func(r result) string {
				if !strings.Contains(r.stderr, `unexpected argument "extra"`) {
					return "the stray argument was not named"
				}
				return ""
			}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := cliStdin(t, tc.stdin, tc.before...)
			a := cliStdin(t, tc.stdin, tc.after...)
			if b.code != tc.code || a.code != tc.code {
				t.Fatalf("exit %d flags first, %d flags last; want %d\nfirst: %s\nlast: %s", b.code, a.code, tc.code, b.stderr, a.stderr)
			}
			if !tc.outputDiffers && a.stdout != b.stdout {
				t.Errorf("different output flags first and last:\nfirst: %s\nlast: %s", b.stdout, a.stdout)
			}
			for _, r := range []result{b, a} {
				if msg := tc.check(r); msg != "" {
					t.Errorf("%s\nstdout: %s\nstderr: %s", msg, r.stdout, r.stderr)
				}
			}
		})
	}
}

// TestExitCodes checks the documented exit codes on a command line of each
// kind of outcome: 0 success, 1 a failure of the input or the work, 2 a
// usage error (pattern match alone follows grep).
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "UK NCRC", "--nation", "GB", "--sector", "government", "--data", dir)
	missing := filepath.Join(t.TempDir(), "nonexist.json")
	notADir := writeFile(t, "file", "not a directory")
	for _, tc := range []struct {
		name string
		args []string
		code int
		says string // what the output (stdout or stderr) must say
	}{
		{"ImportMissingFile", []string{"import", "--data", dir, missing}, 1, missing},
		{"ValidateMissingFile", []string{"validate", missing}, 1, missing},
		{"GetUnknownID", []string{"get", "--data", dir, "indicator--11111111-1111-4111-8111-111111111111"}, 1, "indicator--11111111"},
		{"StoreCannotBeOpened", []string{"org", "create", "X", "--nation", "GB", "--sector", "government", "--data", notADir}, 1, notADir},
		{"ReadMissingDataDirectory", []string{"stats", "--data", missing}, 1, missing},
		{"InvalidPattern", []string{"pattern", "check", "[ipv4-addr:value = ]"}, 1, "invalid pattern"},
		{"PatternMatchMissingFileGrepStyle", []string{"pattern", "match", "[ipv4-addr:value = '198.51.100.1']", missing}, 2, missing},
		{"UnknownCommand", []string{"frobnicate"}, 2, "unknown command"},
		{"UnknownFlag", []string{"stats", "--bogus"}, 2, "bogus"},
		{"UnknownConflictPolicy", []string{"import", "--data", dir, "--on-conflict", "overwrite", missing}, 2, "reject, keep-stored or replace"},
		{"MissingArgument", []string{"get", "--data", dir}, 2, "object id"},
		{"Help", []string{"help", "import"}, 0, ""},
		{"DashH", []string{"stats", "-h"}, 0, "usage: cyberpact stats"},
		{"Success", []string{"stats", "--data", dir}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.says) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d saying %q", tc.args, r.code, r.stdout, r.stderr, tc.code, tc.says)
			}
		})
	}
	// Every command refuses an unknown flag as a usage error, and explains
	// itself with exit 0.
	for name := range commands {
		if name == "help" {
			continue
		}
		args := []string{name}
		if name == "pattern" {
			args = append(args, "check")
		}
		if r := cli(t, append(args, "--no-such-flag")...); r.code != 2 {
			t.Errorf("%s --no-such-flag: exit %d, want 2 (stderr %q)", name, r.code, r.stderr)
		}
		if r := cli(t, "help", name); r.code != 0 || r.stdout == "" {
			t.Errorf("help %s: exit %d, stdout %q", name, r.code, r.stdout)
		}
	}
}

// buildCyberpact builds the cyberpact binary once per test run and returns
// its path.
var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func buildCyberpact(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cyberpact-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "cyberpact")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// TestMain runs the tests and removes the binary buildCyberpact built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}
