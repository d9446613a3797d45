package main

import (
	"context"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

func init() {
	register(&command{
		name:    "export",
		summary: "write stored objects as one STIX 2.1 bundle to stdout",
		usage:   "[--data DIR] [--org ORG] [--type T,...] [--since RFC3339] [--all-versions]",
		help: `Streams the stored objects (the latest version of each, or every version
with --all-versions) as one STIX 2.1 bundle to standard output, in the order
they were added. With --org, only what that organisation may see under the
sharing rule; without, the hub operator's whole store. Either way TLP:RED
objects are never in an exported feed, and exercise objects never leave
their exercise.`,
		run: runExport,
	})
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["export"])
	data := dataFlag(fs)
	types := fs.String("type", "", "only these object types, comma separated")
	since := fs.String("since", "", "only versions modified at or after this time (RFC 3339)")
	all := fs.Bool("all-versions", false, "every stored version, not only the latest")
	org := fs.String("org", "", "export what this organisation may see")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	f := cyberpact.ObjectFilter{AllVersions: *all, MaxTLP: cyberpact.TLPAmberStrict}
	if *types != "" {
		f.Types = strings.Split(*types, ",")
	}
	if *since != "" {
		t, err := time.Parse(time.RFC3339Nano, *since)
		if err != nil {
			return usageError("--since %q is not an RFC 3339 time such as 2025-01-31T00:00:00Z", *since)
		}
		f.ModifiedSince = t
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if f.Viewer, err = optionalViewer(ctx, db, *org); err != nil {
		return err
	}
	w := stix.NewWriter(e.stdout)
	if err := db.EachObject(ctx, f, func(o *cyberpact.Object) error { return w.Write(o.Raw) }); err != nil {
		return err
	}
	return w.Close()
}
