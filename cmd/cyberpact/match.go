package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"

	"github.com/cyberpact/cyberpact/match"
)

func init() {
	register(&command{
		name:    "match",
		summary: "match logs (JSON lines, Zeek, CSV) against indicators; report hits as sightings",
		usage:   "[--indicators FILE | --org ORG] [--report [--report-file FILE] [--hub URL --key KEY] [--identity NAME] [--anonymous | --share counts]] [--format jsonl|zeek|csv] [--fields MAPPING] [--subdomains] [--skip-warninglisted] [EVENTS...]",
		help: `Compiles the indicators of a STIX bundle (--indicators) into an index and runs
every event through it: one JSON alert a line to stdout for each field of an
event that names an indicator,

  {"event": <the event>, "line": N, "field": "destination.ip",
   "value": "198.51.100.7", "indicators": ["indicator--..."], "score": 72,
   "warning": "rfc5737-documentation"}

in input order. "event" is the JSON line as read, or for Zeek and CSV an object
of column names to values; "value" is the normalised value that matched;
"score" is the highest decayed score of the indicators (confidence halved
every half-life since valid_from or the last sighting: 30 days for addresses,
90 for domains, 60 for URLs, 180 for e-mail, 5 years for hashes); "warning"
names the warning list the value is on (private, reserved and documentation
ranges, big public resolvers and domains). "file" is added when several files
are read.

EVENTS are files, - for stdin (the default). Formats:
  jsonl  JSON lines with Elastic Common Schema names, nested or dotted
         (source.ip, destination.ip, client.ip, server.ip, dns.question.name,
         url.full, url.original, url.domain, destination.domain,
         file.hash.md5/sha1/sha256/sha512, email.from.address,
         email.to.address, process.name, registry.key, user.id, ...)
  zeek   Zeek TSV logs, columns named by their #fields header (conn, dns,
         http, ssl, files, smtp logs: id.orig_h, id.resp_h, query, host, uri,
         server_name, md5, sha1, sha256, mailfrom, rcptto...)
  csv    one record a line, columns named by the first line (ECS names or
         src_ip, dst_ip, domain, url, md5, sha1, sha256, email...)
--fields replaces the default names: name=kind,... where kind is ip, domain,
url, email, md5, sha1, sha256, sha512, hash, time (the event's time), or a
STIX path written as in a pattern, through references too
(process:name, email-message:subject, network-traffic:dst_ref.value);
ip:src and ip:dst give an address its direction.

Indicators that are revoked, expired (valid_until passed) or not yet valid do
not match, nor do those whose score is below --min-score. Patterns the index
cannot decide alone (several observations, LIKE, MATCHES, ranges...) are
confirmed by the pattern engine, only for events that have one of their
values or object types; for patterns joining observations, the last 32 such
events per indicator are kept, and FOLLOWEDBY and WITHIN go by the events'
own times (@timestamp, Zeek ts; the time of reading when absent).

--org ORG matches against the indicators the organisation may see in the hub's
store (--data), with its sightings restoring their decay, instead of a bundle.

--report turns the hits into STIX sightings, one per indicator per hour (UTC)
of the events' times (the time of reading for events without one): count is
the hits in that hour, first_seen and last_seen the first and last of them,
sighting_of_ref the indicator, and where_sighted_refs and created_by_ref the
identity of the reporting organisation (--identity NAME, else --org; the
identity is included). Ids come from (organisation, indicator, hour), so
reporting the same hour again makes a new version (modified: the report's
time) of the same sighting, counting the hits of that run's events. The
sightings go to the hub's store as --org ORG, to --hub URL with --key KEY
(POST /api/v1/bundles), and/or to --report-file FILE as a bundle. The hub
shares each sighting with the audience of the indicator it sights, at least
at its TLP level, and refuses sightings of indicators the reporter cannot
see; the rest are kept, and the refusals listed on stderr (exit 1). With
--anonymous the sightings are reported anonymously (no identity, random ids,
the hub standing as reporter); with --share counts they are shared only as
k-anonymous counts per sector (the identity is left out).

Broken lines (invalid JSON, wrong column count, lines over 1 MiB, data before
a header) are counted and skipped; a summary goes to stderr with the first 20
by line number. Exit 0 when the run completed, with or without hits; 1 when
the indicators or an events file could not be read; 2 for a usage error.`,
		run: runMatch,
	})
}

func runMatch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["match"])
	indicators := fs.String("indicators", "", "STIX bundle file of indicators (- for stdin)")
	format := fs.String("format", "jsonl", "events format: jsonl, zeek or csv")
	fields := fs.String("fields", "", "field mapping name=kind,... replacing the format's default field names")
	subdomains := fs.Bool("subdomains", false, "a domain indicator matches its subdomains too")
	skipWarn := fs.Bool("skip-warninglisted", false, "drop hits on warning-listed values instead of flagging them")
	minScore := fs.Int("min-score", 0, "drop hits of indicators whose decayed score is below this (0-100)")
	workers := fs.Int("workers", 0, "matching goroutines (default: one per core)")
	org := fs.String("org", "", "match against the indicators this organisation may see in the hub's store")
	report := fs.Bool("report", false, "turn the hits into STIX sightings, one per indicator per hour, and report them (see --report-file, --hub)")
	reportFile := fs.String("report-file", "", "with --report: write the sightings as a STIX bundle to this file")
	hub := fs.String("hub", "", "with --report: POST the sightings to this hub's /api/v1/bundles (with --key)")
	key := fs.String("key", "", "with --hub: the API key to report with")
	identity := fs.String("identity", "", "with --report: the reporting organisation's name, for where_sighted_refs (default: --org)")
	anonymous := fs.Bool("anonymous", false, "with --report: report the sightings anonymously (the hub stands as reporter; no identity, random ids)")
	share := fs.String("share", "", "with --report: counts, to share the sightings only as k-anonymous counts per sector")
	data := dataFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !*report && (*reportFile != "" || *hub != "" || *key != "" || *identity != "" || *anonymous || *share != "") {
		return usageError("--report-file, --hub, --key, --identity, --anonymous and --share go with --report")
	}
	switch {
	case *share != "" && *share != "counts":
		return usageError("--share %q: the only value is counts", *share)
	case *anonymous && *share != "":
		return usageError("--anonymous and --share counts do not go together: counted sightings are seen by no one already")
	}
	shareAs := *share
	if *anonymous {
		shareAs = "anonymous"
	}
	if *report && *reportFile == "" && *hub == "" && *org == "" {
		return usageError("--report needs somewhere to send the sightings: --org ORG (the hub's store), --hub URL --key KEY, or --report-file FILE")
	}
	if (*hub == "") != (*key == "") {
		return usageError("--hub URL and --key KEY go together")
	}
	f, ok := match.ParseFormat(*format)
	if !ok {
		return usageError("--format must be jsonl, zeek or csv, not %q", *format)
	}
	if (*indicators == "") == (*org == "") {
		return usageError("give the indicators with --indicators FILE (a STIX bundle) or --org ORG (the hub's store), one of them")
	}
	if *minScore < 0 || *minScore > 100 {
		return usageError("--min-score must be between 0 and 100")
	}
	opt := match.StreamOptions{
		Format: f, Subdomains: *subdomains, SkipWarninglisted: *skipWarn,
		MinScore: *minScore, Workers: *workers,
	}
	if *fields != "" {
		fm, err := match.ParseFields(*fields)
		if err != nil {
			return usageError("--fields: %s", err)
		}
		opt.Fields = fm
	}
	names := fs.Args()
	if len(names) == 0 {
		names = []string{"-"}
	}
	stdinUsers := 0
	for _, n := range append([]string{*indicators}, names...) {
		if n == "-" {
			stdinUsers++
		}
	}
	if stdinUsers > 1 {
		return usageError("only one of --indicators and EVENTS can be - (stdin)")
	}

	// The index is mostly pointer-free tables; a tighter heap target
	// keeps the peak memory of a large load near the index's own size
	// at little cost.
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	start := time.Now()
	var ix *match.Index
	var err error
	if *org != "" {
		ix, err = loadOrgIndex(ctx, e, *data, *org)
	} else {
		ix, err = loadIndicators(e, *indicators)
	}
	if err != nil {
		return &exitError{code: 1, msg: err.Error()}
	}
	st := ix.Stats()
	fmt.Fprintf(e.stderr, "indicators: %d indexed (%d need the pattern engine), %d revoked or expired, %d with other pattern languages, %d broken; built in %s\n",
		st.Indicators, st.Complex, st.Revoked, st.Skipped, st.Errors, time.Since(start).Round(time.Millisecond))
	for _, err := range st.FirstErrors {
		fmt.Fprintf(e.stderr, "  broken indicator: %s\n", err)
	}
	m := match.NewMatcher(ix)

	out := bufio.NewWriterSize(e.stdout, 1<<20)
	var alerts io.Writer = out
	var sightings *sightingReport
	if *report {
		fields := opt.Fields
		if fields == nil {
			switch f {
			case match.Zeek:
				fields = match.ZeekFields()
			case match.CSV:
				fields = match.CSVFields()
			default:
				fields = match.ECSFields()
			}
		}
		who := *identity
		if who == "" {
			who = *org
		}
		sightings = newSightingReport(who, fields)
		sightings.share = shareAs
		alerts = io.MultiWriter(out, sightings)
	}
	var total match.Summary
	failed := false
	start = time.Now()
	for _, name := range names {
		o := opt
		if len(names) > 1 {
			o.Name = name
		}
		sum, err := matchFile(ctx, e, m, name, alerts, o)
		total.Add(sum)
		for _, b := range sum.BrokenLines {
			fmt.Fprintf(e.stderr, "  broken line %s:%d: %s\n", name, b.Line, b.Reason)
		}
		if sum.Broken > int64(len(sum.BrokenLines)) {
			fmt.Fprintf(e.stderr, "  ... and %d more broken lines in %s\n", sum.Broken-int64(len(sum.BrokenLines)), name)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintf(e.stderr, "%s: %s\n", name, err)
			failed = true
		}
	}
	if err := out.Flush(); err != nil {
		return &exitError{code: 1, msg: "write alerts: " + err.Error()}
	}
	elapsed := time.Since(start)
	rate := float64(total.Events) / max(elapsed.Seconds(), 1e-9)
	fmt.Fprintf(e.stderr, "events: %d read from %d lines, %d hits (%d alerts), %d broken lines, %s, %.0f events/s\n",
		total.Events, total.Lines, total.Hits, total.Alerts, total.Broken, elapsed.Round(time.Millisecond), rate)
	if failed {
		return &exitError{code: 1}
	}
	if sightings != nil && ctx.Err() == nil {
		if err := deliverReport(ctx, e, sightings, reportTarget{file: *reportFile, hub: *hub, key: *key, org: *org, data: *data, share: shareAs}); err != nil {
			var ee *exitError
			if errors.As(err, &ee) {
				return err
			}
			return &exitError{code: 1, msg: "report: " + err.Error()}
		}
	}
	return ctx.Err()
}

// loadIndicators builds the index from a STIX bundle file.
func loadIndicators(e *env, name string) (*match.Index, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	ix, err := match.Build(match.BundleIndicators(bufio.NewReaderSize(r, 1<<20)), match.BuildOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ix, nil
}

// matchFile streams one events file through the matcher.
func matchFile(ctx context.Context, e *env, m *match.Matcher, name string, w io.Writer, opt match.StreamOptions) (match.Summary, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return match.Summary{}, err
		}
		defer f.Close()
		r = f
	}
	return match.Stream(ctx, m, r, w, opt)
}
