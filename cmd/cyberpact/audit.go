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
var auditActions = []string{cyberpact.AuditWrite, cyberpact.AuditDelete, cyberpact.AuditRelease, cyberpact.AuditAccount}

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
--org selects entries where the organisation acted or received objects;
--object those listing any version of the object id; --action one of
` + strings.Join(auditActions, ", ") + `. --since and --until (inclusive) take
RFC 3339 times, dates (2006-01-02) or durations before now (24h, 7d).
--after SEQ continues a listing cut by --limit.`,
		run: runAuditList,
	},
}

func init() {
	cmd := &command{
		name:    "audit",
		summary: "verify and list the audit log",
		usage:   "verify|list ...",
		help: `The audit log records every write, every release of objects to another
organisation and every account change, each entry chained to the one before
by its SHA-256, so that any change to it shows.
` + subHelp("audit", auditSubs),
	}
	cmd.run = func(ctx context.Context, e *env, args []string) error {
		return runSubcommand(ctx, e, cmd, auditSubs, args)
	}
	register(cmd)
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
	org := fs.String("org", "", "entries where this organisation (by name) acted or received objects")
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
		if a.Recipient != 0 {
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
		if a.Detail != "" {
			fmt.Fprintf(&b, ": %s", a.Detail)
		}
		fmt.Fprintln(e.stdout, b.String())
	}
	return nil
}
