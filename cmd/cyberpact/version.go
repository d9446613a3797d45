package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version, source revision and Go version of this binary",
		usage:   "",
		help: `Prints the module version of this binary, the revision of the source it was
built from (with its commit time, and "modified" when the working tree had
uncommitted changes), and the Go version and platform it was built with, as
recorded in the binary at build time. 'cyberpact --version' does the same.`,
		run: runVersion,
	})
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["version"])
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	bi, _ := debug.ReadBuildInfo()
	for _, l := range versionLines(bi) {
		fmt.Fprintln(e.stdout, l)
	}
	return nil
}

// versionLines describes a binary from its build information (nil when
// there is none): the module version, the VCS revision when the build
// recorded one, and the Go version and platform.
func versionLines(bi *debug.BuildInfo) []string {
	version, path, goVersion := "(unknown)", "github.com/cyberpact/cyberpact", runtime.Version()
	var rev, when, modified string
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.Main.Path != "" {
			path = bi.Main.Path
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = ", modified"
				}
			}
		}
	}
	lines := []string{"cyberpact " + version + " (" + path + ")"}
	if rev != "" {
		if when != "" {
			when = " " + when
		}
		lines = append(lines, "revision "+rev+when+modified)
	} else {
		lines = append(lines, "revision unknown (built without version control information)")
	}
	return append(lines, "go "+goVersion+" "+runtime.GOOS+"/"+runtime.GOARCH)
}
