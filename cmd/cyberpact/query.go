package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/cyberpact/cyberpact"
)

func init() {
	register(&command{
		name:    "get",
		summary: "print one stored object as JSON",
		usage:   "[--data DIR] [--org ORG] [--versions] ID",
		help:    "Prints the latest version of the object with this id, or every version with --versions (a JSON array, oldest first); with --org, as that organisation sees it under the sharing rule. Exits 1 when there is no such object (or the organisation may not see it).",
		run:     runGet,
	})
	register(&command{
		name:    "search",
		summary: "full-text search over the stored objects",
		usage:   "[--data DIR] [--org ORG] [--type T,...] [--limit N] QUERY",
		help: `Finds objects by words in their names, descriptions, aliases, external ids
(T1059, CAPEC-66), indicator patterns and observable values (198.51.100.7).
Every word must appear; "quoted phrases" match in order; a trailing * matches
a prefix. Prints one line per object: id, type, name. With --org, only what
that organisation may see under the sharing rule.`,
		run: runSearch,
	})
	register(&command{
		name:    "stats",
		summary: "count stored objects and versions per type",
		usage:   "[--data DIR] [--org ORG] [--json]",
		help:    "Prints, per object type, the number of objects, of stored versions and of revoked objects; with --org, of those that organisation may see.",
		run:     runStats,
	})
}

func runGet(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["get"])
	data := dataFlag(fs)
	versions := fs.Bool("versions", false, "print every version, oldest first")
	org := fs.String("org", "", "as this organisation sees it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("give exactly one object id")
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	viewer, err := optionalViewer(ctx, db, *org)
	if err != nil {
		return err
	}
	if *versions {
		objs, err := db.ObjectVersions(ctx, fs.Arg(0), viewer)
		if err != nil {
			return err
		}
		raws := make([]json.RawMessage, len(objs))
		for i, o := range objs {
			raws[i] = o.Raw
		}
		return printJSON(e, raws)
	}
	o, err := db.Object(ctx, fs.Arg(0), viewer)
	if err != nil {
		return err
	}
	return printJSON(e, o.Raw)
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["search"])
	data := dataFlag(fs)
	types := fs.String("type", "", "only these object types, comma separated")
	limit := fs.Int("limit", 50, "at most this many results")
	org := fs.String("org", "", "only what this organisation may see")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError("give the words to search for")
	}
	f := cyberpact.ObjectFilter{Text: strings.Join(fs.Args(), " "), Limit: *limit}
	if *types != "" {
		f.Types = strings.Split(*types, ",")
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if f.Viewer, err = optionalViewer(ctx, db, *org); err != nil {
		return err
	}
	page, err := db.FindObjects(ctx, f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, o := range page.Objects {
		var p struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}
		_ = json.Unmarshal(o.Raw, &p)
		name := p.Name
		if name == "" {
			name = p.Value
		}
		flag := ""
		if o.Revoked {
			flag = " (revoked)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s%s\n", o.ID, o.Type, name, flag)
	}
	tw.Flush()
	if len(page.Objects) == 0 {
		fmt.Fprintln(e.stderr, "no objects found")
		return &exitError{code: 1}
	}
	if page.More {
		fmt.Fprintf(e.stderr, "more than %d results; narrow the search or raise --limit\n", len(page.Objects))
	}
	return nil
}

func runStats(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["stats"])
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	org := fs.String("org", "", "count what this organisation may see")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	viewer, err := optionalViewer(ctx, db, *org)
	if err != nil {
		return err
	}
	stats, err := db.Stats(ctx, viewer)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, stats)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "type\tobjects\tversions\trevoked\t")
	var t cyberpact.TypeStats
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", s.Type, s.Objects, s.Versions, s.Revoked)
		t.Objects += s.Objects
		t.Versions += s.Versions
		t.Revoked += s.Revoked
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t\n", t.Objects, t.Versions, t.Revoked)
	return tw.Flush()
}
