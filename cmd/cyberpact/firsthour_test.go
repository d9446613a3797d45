package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
