package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// auditActions are the actions audit list --action accepts.
var auditActions = []string{cyberpact.AuditWrite, cyberpact.AuditDelete, cyberpact.AuditRelease, cyberpact.AuditAccount, cyberpact.AuditWarrant, cyberpact.AuditAgreement, cyberpact.AuditCrisis}

var auditSubs = []*subcommand{
	{
		name:  "verify",
		usage: "[--data DIR]",
		help: `Recomputes the audit log's hash chain. Exits 0 and prints "audit log intact:
N entries" and the last entry's hash when it is whole; exits 1 naming the
first entry whose content, link or place was changed otherwise. Record the
last hash elsewhere now and then: entries cut from the end leave a shorter
chain that is still whole, but that no longer ends in the recorded hash.`,
		run: runAuditVerify,
	},
	{
		name:  "list",
		usage: "[--org ORG] [--object ID] [--action A] [--since T] [--until T] [--after SEQ] [--limit N] [--json] [--data DIR]",
		help: `Prints audit entries, oldest first, one a line: seq, time, action, actor
(and organisation), recipient, interface, number of objects and detail.
A write or release names its versions by their sequence numbers: "N
versions (Seqs A to B)", with the request a release answered. --org selects
entries where the organisation acted or received objects; --object those
concerning any stored version of the object id; --action one of
` + strings.Join(auditActions, ", ") + `. --since and --until (inclusive) take
RFC 3339 times, dates (2006-01-02) or durations before now (24h, 7d).
--after SEQ continues a listing cut by --limit.`,
		run: runAuditList,
	},
	{
		name:  "releases",
		usage: "--object ID [--json] [--data DIR]",
		help: `Answers who received which version of an object, when, and through which
interface: one line for each version each release delivered to an
organisation other than its producer, oldest first: the time, the version,
the recipient organisation and user, the interface and the request (path
and query). Releases are recorded by the Seqs of the versions a page or
stream segment delivered, so this reads the object's stored versions and
matches them against each release's recorded range; a version deleted
since is found only in entries that listed it by name. A line ending in
"NOT VISIBLE UNDER THE RULE" is a release the sharing rule, applied to the
recipient's organisation and groups as the entry recorded them, would not
make: look into it.`,
		run: runAuditReleases,
	},
}

func init() {
	registerGroup("audit", "verify and list the audit log, and who received an object", `The audit log records every write, every release of objects to another
organisation and every account change, each entry chained to the one before
by its SHA-256, so that any change to it shows. Writes and releases are
recorded compactly, by the range of sequence numbers of the versions
concerned; 'audit releases --object ID' turns that back into who received
which version of an object.
`, auditSubs)
}

func runAuditVerify(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	n, hash, broken, err := db.AuditHead(ctx)
	if err != nil {
		return err
	}
	if broken != 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("audit log broken at entry %d: its content, its link to the entry before or its place in the sequence was changed; entries from %d on cannot be trusted", broken, broken)}
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries\n", n)
	if n > 0 {
		fmt.Fprintf(e.stdout, "last entry: seq %d, hash %s\n", n, hash)
	}
	return nil
}

// sinceFlag parses --since and --until: a time, a date, or a duration
// before now (24h, 7d).
func sinceFlag(name, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := parseTime(s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("--%s %q: want a time (RFC 3339 or 2006-01-02) or a duration before now (24h, 7d)", name, s)
}

func runAuditList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "entries where this organisation (by name) acted, received objects, or whose own record, users or keys an account change concerns")
	object := fs.String("object", "", "entries concerning this object id")
	action := fs.String("action", "", "only this action: "+strings.Join(auditActions, ", "))
	since := fs.String("since", "", "entries at or after this time, or this long ago (24h, 7d)")
	until := fs.String("until", "", "entries at or before this time, or this long ago")
	after := fs.Int64("after", 0, "entries after this seq")
	limit := fs.Int("limit", 100, "at most this many entries; 0 for all")
	asJSON := fs.Bool("json", false, "print JSON")
	_, err := positional(fs, args, 0, "")
	if err != nil {
		return err
	}
	if *action != "" && !slices.Contains(auditActions, *action) {
		return usageError("--action %q: want one of %s", *action, strings.Join(auditActions, ", "))
	}
	if *limit < 0 || *after < 0 {
		return usageError("--limit and --after may not be negative")
	}
	now := time.Now()
	f := cyberpact.AuditFilter{Object: *object, Action: *action, After: *after}
	if f.Since, err = sinceFlag("since", *since, now); err != nil {
		return err
	}
	if f.Until, err = sinceFlag("until", *until, now); err != nil {
		return err
	}
	if *limit > 0 {
		f.Limit = *limit + 1 // one more, to know whether there are more
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if *org != "" {
		o, err := db.OrgByName(ctx, *org)
		if err != nil {
			return err
		}
		f.Org = o.ID
	}
	entries, err := db.AuditEntries(ctx, f)
	if err != nil {
		return err
	}
	more := *limit > 0 && len(entries) > *limit
	if more {
		entries = entries[:*limit]
	}
	if *asJSON {
		err = printJSON(e, nonNil(entries))
	} else {
		err = printAudit(ctx, e, db, entries)
	}
	if err != nil {
		return err
	}
	if more {
		fmt.Fprintf(e.stderr, "more entries: continue with --after %d\n", entries[len(entries)-1].Seq)
	}
	return nil
}

// printAudit prints entries one a line.
func printAudit(ctx context.Context, e *env, db interface {
	Orgs(context.Context) ([]*cyberpact.Org, error)
}, entries []*cyberpact.AuditEntry) error {
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	org := func(id int64) string {
		if n, ok := names[id]; ok {
			return strconv.Quote(n)
		}
		return "org " + strconv.FormatInt(id, 10)
	}
	for _, a := range entries {
		var b strings.Builder
		fmt.Fprintf(&b, "%d %s %s %s", a.Seq, a.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), a.Action, a.Actor)
		if a.ActorOrg != 0 {
			fmt.Fprintf(&b, " (%s)", org(a.ActorOrg))
		}
		switch {
		case a.Recipient != 0 && a.Action == cyberpact.AuditAccount:
			fmt.Fprintf(&b, " for %s", org(a.Recipient)) // the organisation the change concerns
		case a.Recipient != 0:
			fmt.Fprintf(&b, " to %s", org(a.Recipient))
		}
		if a.Via != "" {
			fmt.Fprintf(&b, " via %s", a.Via)
		}
		switch len(a.Objects) {
		case 0:
		case 1:
			fmt.Fprintf(&b, " %s", a.Objects[0])
		default:
			fmt.Fprintf(&b, " %d objects", len(a.Objects))
		}
		if sc := a.Scope; sc != nil {
			if sc.Count == 1 {
				fmt.Fprintf(&b, " 1 version (Seq %d)", sc.First)
			} else {
				fmt.Fprintf(&b, " %d versions (Seqs %d to %d)", sc.Count, sc.First, sc.Last)
			}
			if sc.Path != "" {
				fmt.Fprintf(&b, " %s", request(sc))
			}
		}
		if a.Detail != "" {
			fmt.Fprintf(&b, ": %s", a.Detail)
		}
		fmt.Fprintln(e.stdout, b.String())
	}
	return nil
}

// request is the path and query a release answered.
func request(sc *cyberpact.AuditScope) string {
	if sc.Query == "" {
		return sc.Path
	}
	return sc.Path + "?" + sc.Query
}

func runAuditReleases(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	object := fs.String("object", "", "the object id")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	if *object == "" {
		return usageError("--object: give the id of the object whose releases to list")
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	entries, err := db.AuditEntries(ctx, cyberpact.AuditFilter{Object: *object, Action: cyberpact.AuditRelease})
	if err != nil {
		return err
	}
	// The object's stored versions: those outside exercises, and those of
	// each exercise a release was read in, as its recipient saw them.
	versions, err := db.ObjectVersions(ctx, *object, nil)
	if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		return err
	}
	seen := map[int64]bool{}
	for _, v := range versions {
		seen[v.Seq] = true
	}
	for _, en := range entries {
		if en.Scope == nil || en.Scope.Exercise == 0 {
			continue
		}
		v := en.Scope.Viewer(en.Recipient)
		xs, err := db.ObjectVersions(ctx, *object, &v)
		if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			return err
		}
		for _, x := range xs {
			if !seen[x.Seq] {
				seen[x.Seq] = true
				versions = append(versions, x)
			}
		}
	}
	ds := cyberpact.Deliveries(entries, *object, versions)
	if *asJSON {
		return printJSON(e, nonNil(ds))
	}
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	for _, d := range ds {
		en := d.Entry
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s@%s to ", en.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), d.ID, d.Version)
		switch n, ok := names[en.Recipient]; {
		case en.Recipient == 0:
			b.WriteString("anyone (public collection)")
		case ok:
			b.WriteString(strconv.Quote(n))
		default:
			fmt.Fprintf(&b, "org %d", en.Recipient)
		}
		fmt.Fprintf(&b, " (%s) via %s", en.Actor, en.Via)
		if en.Scope != nil && en.Scope.Path != "" {
			fmt.Fprintf(&b, " %s", request(en.Scope))
		}
		fmt.Fprintf(&b, " [entry %d]", en.Seq)
		if d.Rule != nil && !*d.Rule {
			b.WriteString(" NOT VISIBLE UNDER THE RULE")
		}
		fmt.Fprintln(e.stdout, b.String())
	}
	if len(ds) == 0 {
		fmt.Fprintf(e.stderr, "no release of %s to another organisation is recorded\n", *object)
	}
	return nil
}
