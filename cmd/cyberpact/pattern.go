package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/cyberpact/cyberpact/pattern"
)

func init() {
	register(&command{
		name:    "pattern",
		summary: "check a STIX pattern, or match one against observed data",
		usage:   "check|match [--stix-version 2.1|2.0] PATTERN [FILE]",
		help: `  cyberpact pattern check [--stix-version 2.1|2.0] PATTERN
      Exit 0 when the pattern is valid; 1 with the reason (and its position)
      when it is not.

  cyberpact pattern match [--stix-version 2.1|2.0] PATTERN FILE
      FILE (- for stdin) is a JSON array of STIX 2.1 bundles and/or
      observed-data objects (2.1 with object_refs resolved inside the same
      bundle, or 2.0 with embedded objects); a single bundle or object is
      accepted too. Exit 0 when the pattern matches, printing the ids of the
      observed data of the match, one a line; 1 when it does not; 2 for an
      invalid pattern or invalid data, with the reason. These are grep's
      conventions.`,
		run: runPattern,
	})
}

func runPattern(ctx context.Context, e *env, args []string) error {
	c := commands["pattern"]
	if len(args) == 0 || (args[0] != "check" && args[0] != "match") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fs := newFlags(e, c)
			return parseFlags(fs, args)
		}
		return usageError("give check or match; run 'cyberpact help pattern'")
	}
	sub := args[0]
	fs := newFlags(e, c)
	version := fs.String("stix-version", "2.1", "STIX version of the pattern and data: 2.1 or 2.0")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *version != "2.1" && *version != "2.0" {
		return usageError("--stix-version must be 2.1 or 2.0, not %q", *version)
	}
	switch sub {
	case "check":
		if fs.NArg() != 1 {
			return usageError("pattern check takes one pattern")
		}
		if err := pattern.Validate(fs.Arg(0), *version); err != nil {
			return &exitError{code: 1, msg: "invalid pattern: " + err.Error()}
		}
		fmt.Fprintln(e.stdout, "valid")
		return nil
	}
	if fs.NArg() != 2 {
		return usageError("pattern match takes a pattern and a file (- for stdin)")
	}
	p, err := pattern.ParseVersion(fs.Arg(0), *version)
	if err == nil {
		err = p.Validate()
	}
	if err != nil {
		return &exitError{code: 2, msg: "invalid pattern: " + err.Error()}
	}
	var in io.Reader = e.stdin
	name := fs.Arg(1)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
		defer f.Close()
		in = f
	}
	data, err := io.ReadAll(in)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("reading %s: %v", name, err)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("%s is not valid JSON: %v", name, err)}
	}
	obs, err := pattern.ObservationsFromJSON(doc)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("invalid observed data in %s: %v", name, err)}
	}
	res, err := p.Match(obs)
	if err != nil {
		return &exitError{code: 2, msg: fmt.Sprintf("cannot match: %v", err)}
	}
	if !res.Matched {
		return &exitError{code: 1}
	}
	for _, id := range res.IDs {
		fmt.Fprintln(e.stdout, id)
	}
	return nil
}
