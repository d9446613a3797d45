package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"

	"github.com/cyberpact/cyberpact/stix"
)

func init() {
	register(&command{
		name:    "validate",
		summary: "check STIX bundles against the specification, storing nothing",
		usage:   "FILE... (- for stdin)",
		help: `Reads each bundle and reports every problem: the file, the line the object
starts on, its id, the JSON path and what is wrong. Warnings (the
specification's SHOULDs) are printed but do not fail. Stores nothing.
Exits 1 if any file has an error.`,
		run: runValidate,
	})
}

func runValidate(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["validate"])
	quiet := fs.Bool("quiet", false, "print errors only, not warnings")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("no files to validate")
	}
	failed := false
	for _, name := range fs.Args() {
		n, errs, warns, err := validateFile(e, name, *quiet)
		if err != nil {
			fmt.Fprintf(e.stdout, "%s: %s\n", name, err)
			failed = true
			continue
		}
		if errs > 0 {
			failed = true
		}
		fmt.Fprintf(e.stdout, "%s: %d objects, %d errors, %d warnings\n", name, n, errs, warns)
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// validateFile checks one bundle, printing each problem; it returns the
// counts, or an error when the file cannot be read as a bundle.
func validateFile(e *env, name string, quiet bool) (objects, errs, warns int, err error) {
	var in io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 0, 0, 0, err
		}
		defer f.Close()
		in = f
	}
	r := stix.NewReader(in)
	// The same id and version key must not come twice with different
	// content: an import would refuse the second as a conflict. Only a hash
	// of each version's canonical JSON is kept, so memory stays small.
	type version struct{ id, key string }
	type first struct {
		hash [32]byte
		line int
	}
	seen := map[version]first{}
	for {
		it, err := r.Next()
		if err == io.EOF {
			return objects, errs, warns, nil
		}
		if err != nil {
			return objects, errs, warns, err
		}
		objects++
		o, err := stix.Parse(it.Raw)
		if err != nil {
			errs++
			fmt.Fprintf(e.stdout, "%s:%d: object #%d: %s\n", name, it.Line, it.Index, err)
			continue
		}
		_, hadID := o.Props["id"]
		// What import does before validating: upgrade 2.0, fill in a
		// missing observable id.
		if o, _, err = stix.Complete(o); err != nil {
			errs++
			fmt.Fprintf(e.stdout, "%s:%d: %s: %s\n", name, it.Line, objectName(o, it.Index), err)
			continue
		}
		if _, hasID := o.Props["id"]; !hadID && hasID {
			warns++
			if !quiet {
				fmt.Fprintf(e.stdout, "%s:%d: warning: object #%d (%s) has no id; import gives it %s\n", name, it.Line, it.Index, o.Type, o.ID)
			}
		}
		if o.ID != "" {
			canon, err := stix.Marshal(o.Props)
			if err != nil {
				return objects, errs, warns, err
			}
			k, h := version{o.ID, stix.NormTime(o.VersionKey())}, sha256.Sum256(canon)
			if f, dup := seen[k]; !dup {
				seen[k] = first{h, it.Line}
			} else if f.hash != h {
				errs++
				fmt.Fprintf(e.stdout, "%s:%d: %s: conflict: an object earlier in the same input (line %d) has this id and modified %s with different content\n",
					name, it.Line, o.ID, f.line, k.key)
			}
		}
		for _, p := range stix.Validate(o) {
			if p.Warning {
				warns++
				if quiet {
					continue
				}
			} else {
				errs++
			}
			fmt.Fprintf(e.stdout, "%s:%d: %s\n", name, it.Line, p.Error())
		}
	}
}

// objectName names an object in a message: its id, else its index.
func objectName(o *stix.Object, index int) string {
	if o.ID != "" {
		return o.ID
	}
	return fmt.Sprintf("object #%d", index)
}
