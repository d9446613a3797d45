package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/ingest"
)

var feedSubs = []*subcommand{
	{
		name: "add",
		usage: "NAME --kind taxii|misp|csv|list --url URL [--collection ID] [--user U] [--key KEY|-] [--columns MAP] [--type TYPE]\n" +
			"      [--audience all|org|group:NAME] [--org ORG] [--interval 1h] [--data DIR]",
		help: `Adds an external feed that 'cyberpact serve' ingests every --interval (at
least 1m; 'cyberpact feed run' runs it now). --kind says what --url serves:

  taxii  a TAXII 2.1 collection: --url is the API root, --collection its id;
         read from where the last run ended (its date_added)
  misp   a MISP feed: --url is the directory of manifest.json and the
         UUID.json events; only events new or with a later timestamp are
         fetched, converted as misp/MAPPING.md says
  csv    CSV rows; --columns maps them, e.g. value=2,type=1,name=3,
         description=4,labels=5,header (1-based columns; header skips the
         first row; labels split on ; or |)
  list   one value a line; # starts a comment

Each CSV or list value becomes an indicator of its type: --type (or a type
column) ipv4-addr, ipv6-addr, domain-name, url, email-addr, md5, sha1,
sha256, or auto (the default: told from the value). The same value read
again is the same indicator; a changed name, description or labels makes a
new version. A body served unchanged (same ETag or content) is not read.

--user and --key authenticate: for TAXII, HTTP Basic with both or a Bearer
token with --key alone; otherwise --key is sent as the Authorization header
as it is (MISP's form for a feed's key) and --user with it as HTTP Basic.
--key - reads it from standard input. The key is stored sealed like a
peer's key and never printed.

What a source brings is released as produced by --org (default: the hub
itself) to --audience (default all members), through the audited import.`,
		run: runFeedAdd,
	},
	{
		name:  "list",
		usage: "[--data DIR] [--json]",
		help:  "Lists the feed sources by name (never their keys).",
		run:   runFeedList,
	},
	{
		name:  "remove",
		usage: "NAME [--data DIR]",
		help:  "Removes a feed source with its state; what it brought stays.",
		run:   runFeedRemove,
	},
	{
		name:  "status",
		usage: "[NAME] [--data DIR] [--json]",
		help: `Shows where each feed source (or one) stands: its last run and last success,
failed runs in a row with the last error, what the last run added, found
present and rejected, the totals, and when it is next due.`,
		run: runFeedStatus,
	},
	{
		name:  "run",
		usage: "[NAME...] [--data DIR]",
		help: `Runs the named feed sources now (every source without a name), whatever
their schedule, and prints what each did. One source's failure does not
stop the others; exits 1 when any failed.`,
		run: runFeedRun,
	},
}

func init() {
	registerGroup("feed", "add, list, remove and run external feeds (TAXII, MISP, CSV, lists) and show their status",
		"Manages the external feeds the hub ingests on a schedule ('cyberpact serve' runs the due ones every --feed-check).\n"+
			"Adding and removing sources is recorded in the audit log with actor \"cli\"; what they bring, as writes by \"feed:NAME\".\n", feedSubs)
}

func runFeedAdd(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	kind := fs.String("kind", "", "taxii, misp, csv or list")
	url := fs.String("url", "", "the feed's URL")
	collection := fs.String("collection", "", "the TAXII collection's id (taxii)")
	user := fs.String("user", "", "user name for HTTP Basic")
	key := fs.String("key", "", "the key or Authorization value; - reads it from standard input")
	columns := fs.String("columns", "", "the CSV column map, e.g. value=2,type=1,header (csv)")
	typ := fs.String("type", "", "the values' type (csv, list): auto, ipv4-addr, ipv6-addr, domain-name, url, email-addr, md5, sha1, sha256")
	audience := fs.String("audience", "all", "who receives what the feed brings: all, org or group:NAME")
	org := fs.String("org", "", "the organisation what the feed brings is produced by (default: the hub itself)")
	interval := fs.Duration("interval", time.Hour, "how often serve runs the source")
	pos, err := positional(fs, args, 1, "feed NAME")
	if err != nil {
		return err
	}
	switch {
	case *kind == "":
		return usageError("--kind is required: taxii, misp, csv or list")
	case *url == "":
		return usageError("--url is required: where the feed is served")
	}
	k, err := cyberpact.ParseSourceKind(*kind)
	if err != nil {
		return usageError("--kind: %s", cyberpact.ErrorMessage(err))
	}
	if err := keyFromStdin(e, key); err != nil {
		return err
	}
	db, err := e.openStoreFor(ctx, *data, false)
	if err != nil {
		return err
	}
	defer db.Close()
	producer, aud, err := releaseFlags(ctx, db, *org, *audience)
	if err != nil {
		return err
	}
	src := &cyberpact.Source{Name: pos[0], Kind: k, URL: *url, Collection: *collection, User: *user, Key: *key,
		Columns: *columns, Type: *typ, Audience: aud, Org: producer, Interval: *interval}
	if err := db.CreateSource(ctx, src, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "feed %s added: %s %s, audience %s, every %s\n", src.Name, src.Kind, src.URL, *audience, src.Interval)
	return nil
}

func runFeedList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	srcs, err := db.Sources(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(srcs))
	}
	names, err := audienceNames(ctx, db)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tURL\tEVERY\tAUDIENCE\tORG")
	for _, s := range srcs {
		u := s.URL
		if s.Collection != "" {
			u += " collection " + s.Collection
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Kind, u, s.Interval, names.audience(s.Audience), names.org(s.Org))
	}
	return tw.Flush()
}

func runFeedRemove(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "feed NAME")
	if err != nil {
		return err
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.DeleteSource(ctx, pos[0], cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "feed %s removed\n", pos[0])
	return nil
}

// sourcesNamed returns the sources of names, every source for none.
func sourcesNamed(ctx context.Context, db cyberpact.SourceStore, names []string) ([]*cyberpact.Source, error) {
	if len(names) == 0 {
		return db.Sources(ctx)
	}
	var out []*cyberpact.Source
	for _, n := range names {
		s, err := db.SourceByName(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func runFeedStatus(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("unexpected argument %q", pos[1])
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	srcs, err := sourcesNamed(ctx, db, pos)
	if err != nil {
		return err
	}
	var out []*cyberpact.SourceStatus
	for _, s := range srcs {
		st, err := cyberpact.StatusOfSource(ctx, db, s)
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	if *asJSON {
		return printJSON(e, nonNil(out))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tLAST RUN\tLAST SUCCESS\tFAILED RUNS\tLAST ADDED\tPRESENT\tREJECTED\tTOTAL ADDED\tNEXT RUN\tLAST ERROR")
	for _, ss := range out {
		st := ss.State
		lastErr := st.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", ss.Source.Name, ss.Source.Kind, formatTime(st.LastRun), formatTime(st.LastSuccess),
			st.Failures, st.LastAdded, st.LastPresent, st.LastRejected, st.Added, nextRun(ss.Next), lastErr)
	}
	return tw.Flush()
}

func nextRun(t time.Time) string {
	if t.IsZero() {
		return "now"
	}
	return formatTime(t)
}

func runFeedRun(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	srcs, err := sourcesNamed(ctx, db, pos)
	if err != nil {
		return err
	}
	r, err := ingest.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	failed := false
	for _, s := range srcs {
		st, err := r.Run(ctx, s)
		if st == nil {
			return err
		}
		line := fmt.Sprintf("%s: added %d, already present %d, rejected %d", s.Name, st.LastAdded, st.LastPresent, st.LastRejected)
		if err != nil {
			failed = true
			line += "; failed: " + err.Error()
		}
		fmt.Fprintln(e.stdout, line)
		for _, why := range st.Rejections {
			fmt.Fprintf(e.stdout, "  rejected: %s\n", why)
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}
