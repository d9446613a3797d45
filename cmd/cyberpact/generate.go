package main

import (
	"bufio"
	"context"

	"github.com/cyberpact/cyberpact/internal/gen"
)

func init() {
	register(&command{
		name:    "generate",
		summary: "write a large synthetic STIX 2.1 bundle, for load tests",
		usage:   "[--objects N] [--seed S] > bundle.json",
		help: `Writes one valid STIX 2.1 bundle of N objects to standard output: a
partnership feed's mix of indicators (60%), cyber observables (15%),
relationships (10%), sightings (10%) and the threat objects they point at,
marked mostly TLP:GREEN and AMBER (5% RED, so import it into an
organisation's or group's audience). Every observable value comes from the
ranges reserved for documentation, so nothing in it can match a real host.
The same seed gives the same bundle; memory stays small at any size.`,
		run: runGenerate,
	})
}

func runGenerate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["generate"])
	n := fs.Int("objects", 1000, "number of objects")
	seed := fs.Int64("seed", 1, "random seed")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *n < 0 {
		return usageError("--objects must not be negative")
	}
	w := bufio.NewWriterSize(e.stdout, 1<<20)
	if err := gen.Write(w, *n, *seed); err != nil {
		return err
	}
	return w.Flush()
}
