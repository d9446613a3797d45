package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVersionCommand runs 'cyberpact version' and '--version' in-process
// and checks that both print this binary's Go version and platform and a
// revision line.
func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		r := cli(t, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		want := "go " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
		if !strings.Contains(r.stdout, want+"\n") || !strings.HasPrefix(r.stdout, "cyberpact ") || !strings.Contains(r.stdout, "\nrevision ") {
			t.Errorf("%v printed %q; want the name, a revision line and %q", args, r.stdout, want)
		}
	}
	if r := cli(t, "version", "extra"); r.code != 2 {
		t.Errorf("version with an argument: exit %d, want 2", r.code)
	}
}

// TestVersionLinesFromBuildInfo checks what version prints from the build
// information a VCS-stamped build records, and from a build without it.
func TestVersionLinesFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/cyberpact/cyberpact", Version: "v0.0.0-20261207011518-15a5b2d82b13"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "15a5b2d82b13571a5d89136900eef0266dd67f98"},
			{Key: "vcs.time", Value: "2026-12-07T01:15:18Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{"Stamped", stamped, []string{
			"cyberpact v0.0.0-20261207011518-15a5b2d82b13 (github.com/cyberpact/cyberpact)",
			"revision 15a5b2d82b13571a5d89136900eef0266dd67f98 2026-12-07T01:15:18Z, modified",
			"go go1.26.8 " + platform,
		}},
		{"Unstamped", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/cyberpact/cyberpact", Version: "(devel)"}}, []string{
			"cyberpact (devel) (github.com/cyberpact/cyberpact)",
			"revision unknown (built without version control information)",
			"go go1.26.8 " + platform,
		}},
		{"NoBuildInfo", nil, []string{
			"cyberpact (unknown) (github.com/cyberpact/cyberpact)",
			"revision unknown (built without version control information)",
			"go " + runtime.Version() + " " + platform,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, versionLines(tc.bi)); d != "" {
				t.Errorf("version lines (-want +got):\n%s", d)
			}
		})
	}
}
