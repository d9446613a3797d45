package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/web"
)

// cliActor is the actor the audit log records for changes made on the
// command line.
const cliActor = "cli"

// subcommand is one action of a command that has several (org create,
// org list).
type subcommand struct {
	name  string
	usage string
	help  string
	run   func(ctx context.Context, e *env, c *command, args []string) error
}

// runSubcommand runs the subcommand args[0] of c. Without one, or with -h,
// it prints c's help.
func runSubcommand(ctx context.Context, e *env, c *command, subs []*subcommand, args []string) error {
	if len(args) == 0 {
		return usageError("give a subcommand: %s; run 'cyberpact help %s'", subNames(subs), c.name)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		newFlags(e, c).Usage()
		return flag.ErrHelp
	}
	if strings.HasPrefix(args[0], "-") {
		return usageError("give a subcommand (%s) before the flags", subNames(subs))
	}
	for _, s := range subs {
		if s.name == args[0] {
			sc := &command{name: c.name + " " + s.name, usage: s.usage, help: s.help}
			return s.run(ctx, e, sc, args[1:])
		}
	}
	return usageError("unknown subcommand %q; want %s", args[0], subNames(subs))
}

func subNames(subs []*subcommand) string {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// subHelp lists subcommands for a command's help text.
func subHelp(name string, subs []*subcommand) string {
	var b strings.Builder
	b.WriteString("\nSubcommands (cyberpact " + name + " SUBCOMMAND -h for each one's flags):\n")
	for _, s := range subs {
		fmt.Fprintf(&b, "  %s %s %s\n", name, s.name, s.usage)
	}
	return b.String()
}

// parseArgs parses flags and positional arguments in any order
// (org create NAME --nation GB), as parseFlags does, and returns the
// positional ones.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

// wantArgs checks the number of positional arguments.
// positional parses fs over args and wants exactly n positional arguments
// (what names them in the usage error).
func positional(fs *flag.FlagSet, args []string, n int, what string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(pos, n, what); err != nil {
		return nil, err
	}
	return pos, nil
}

func wantArgs(pos []string, n int, what string) error {
	if len(pos) < n {
		return usageError("missing %s", what)
	}
	if len(pos) > n {
		return usageError("unexpected argument %q", pos[n])
	}
	return nil
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// formatTime prints a time for a listing, "-" for none.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

var orgSubs = []*subcommand{
	{
		name:  "create",
		usage: "NAME --nation CC --sector SECTOR [--data DIR]",
		help: `Adds a member organisation. NAME is unique whatever its case and may not
contain commas. --nation is its ISO 3166-1 alpha-2 country code (GB, US,
JP; not UK), --sector one of: ` + strings.Join(cyberpact.Sectors, ", ") + `.
The change is recorded in the audit log with actor "cli".`,
		run: runOrgCreate,
	},
	{
		name:  "set",
		usage: "NAME [--nation CC] [--sector SECTOR] [--data DIR]",
		help: `Changes an organisation's nation or sector (give at least one). Sharing
agreements release objects by nation and sector, so the change alters what
the organisation may see at once.`,
		run: runOrgSet,
	},
	{
		name:  "list",
		usage: "[--data DIR] [--json]",
		help:  "Lists the organisations by name: name, nation, sector, id and creation time.",
		run:   runOrgList,
	},
}

var groupSubs = []*subcommand{
	{
		name:  "create",
		usage: "NAME --orgs ORG,ORG... [--data DIR]",
		help: `Adds a sharing group of existing organisations, named by their names.
Objects shared with the group are seen by its members only.`,
		run: runGroupCreate,
	},
	{
		name:  "set",
		usage: "NAME --orgs ORG,ORG... [--data DIR]",
		help:  `Replaces a sharing group's members with the organisations listed (--orgs "" empties it).`,
		run:   runGroupSet,
	},
	{
		name:  "list",
		usage: "[--data DIR] [--json]",
		help:  "Lists the sharing groups by name with their members.",
		run:   runGroupList,
	},
}

var userSubs = []*subcommand{
	{
		name:  "create",
		usage: "NAME --org ORG --role ROLE [--expires DURATION|TIME] [--data DIR]",
		help: `Adds a user to an organisation and makes its first API key. Prints the key,
alone, on standard output: it is shown this once and stored only as a hash.
NAME is 1 to 64 ASCII letters, digits and . _ @ -. Roles:
  admin      runs the hub: accounts, groups, everything of its own organisation
  org-admin  manages its organisation's users and keys; reads and writes
  analyst    reads and writes
  reader     reads
  sync       a machine account for federation: reads and writes`,
		run: runUserCreate,
	},
	{
		name:  "list",
		usage: "[--org ORG] [--data DIR] [--json]",
		help:  "Lists users by name, of one organisation with --org.",
		run:   runUserList,
	},
	{
		name:  "password",
		usage: "NAME [--data DIR]",
		help: `Sets the password a user signs in to the web interface with, read from
standard input: its first line, without the line end, at least 12
characters. It is stored only as an argon2id hash; the user's web sessions
end. API keys are not affected.`,
		run: runUserPassword,
	},
	{
		name:  "disable",
		usage: "NAME [--data DIR]",
		help:  "Disables a user: its web sessions end at once and it can no longer sign in or use its API keys.",
		run:   runUserDisable,
	},
	{
		name:  "enable",
		usage: "NAME [--data DIR]",
		help:  "Enables a disabled user again.",
		run:   runUserEnable,
	},
}

var keySubs = []*subcommand{
	{
		name:  "create",
		usage: "USER [--expires DURATION|TIME] [--data DIR]",
		help: `Makes a new API key for a user and prints it, alone, on standard output: it
is shown this once and stored only as a hash. --expires is a duration from
now (720h, 90d) or a time (RFC 3339, or a date 2006-01-02); by default the
key does not expire. Use it as a bearer token or as the password of HTTP
Basic authentication with the user's name.`,
		run: runKeyCreate,
	},
	{
		name:  "revoke",
		usage: "KEYID [--data DIR]",
		help:  "Revokes a key by its id (see key list); it no longer authenticates.",
		run:   runKeyRevoke,
	},
	{
		name:  "list",
		usage: "[--user USER] [--data DIR] [--json]",
		help:  "Lists keys: id, user, the key's first characters, creation, expiry, last use and status.",
		run:   runKeyList,
	},
}

func init() {
	for _, c := range []struct {
		name, summary, help string
		subs                []*subcommand
	}{
		{"org", "create, change and list member organisations", "Manages the partnership's member organisations.", orgSubs},
		{"group", "create, change and list sharing groups", "Manages sharing groups: named sets of organisations that share objects among themselves.", groupSubs},
		{"user", "create, list, disable users and set their passwords", "Manages users: people and machine accounts, each in one organisation with one role.", userSubs},
		{"key", "create, revoke and list API keys", "Manages users' API keys. A key is shown once, when made, and stored only as its SHA-256.", keySubs},
	} {
		registerGroup(c.name, c.summary, c.help+"\nEvery change is recorded in the audit log with actor \"cli\".\n", c.subs)
	}
}

// registerGroup registers a command made of subcommands (org, peer,
// feed...): its usage names them, its help is help followed by each
// one's, and it runs the one its first argument names.
func registerGroup(name, summary, help string, subs []*subcommand) {
	cmd := &command{
		name:    name,
		summary: summary,
		usage:   strings.ReplaceAll(subNames(subs), ", ", "|") + " ...",
		help:    help + subHelp(name, subs),
	}
	cmd.run = func(ctx context.Context, e *env, args []string) error {
		return runSubcommand(ctx, e, cmd, subs, args)
	}
	register(cmd)
}

func runOrgCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	nation := fs.String("nation", "", "ISO 3166-1 alpha-2 country code, e.g. GB (required)")
	sector := fs.String("sector", "", "one of "+strings.Join(cyberpact.Sectors, ", ")+" (required)")
	pos, err := positional(fs, args, 1, "the organisation's NAME")
	if err != nil {
		return err
	}
	if *nation == "" || *sector == "" {
		return usageError("give --nation and --sector")
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o := &cyberpact.Org{Name: pos[0], Nation: *nation, Sector: *sector}
	if err := db.CreateOrg(ctx, o, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created organisation %q (id %d, %s, %s)\n", o.Name, o.ID, o.Nation, o.Sector)
	return nil
}

func runOrgSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	nation := fs.String("nation", "", "ISO 3166-1 alpha-2 country code, e.g. GB")
	sector := fs.String("sector", "", "one of "+strings.Join(cyberpact.Sectors, ", "))
	pos, err := positional(fs, args, 1, "the organisation's NAME")
	if err != nil {
		return err
	}
	if *nation == "" && *sector == "" {
		return usageError("give --nation or --sector")
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, pos[0])
	if err != nil {
		return err
	}
	o.Nation, o.Sector = *nation, *sector
	if err := db.SetOrg(ctx, o, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "set organisation %q (id %d) to %s, %s\n", o.Name, o.ID, o.Nation, o.Sector)
	return nil
}

func runOrgList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(orgs))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tNATION\tSECTOR\tID\tCREATED")
	for _, o := range orgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", o.Name, o.Nation, o.Sector, o.ID, formatTime(o.Created))
	}
	return tw.Flush()
}

// nonNil makes an empty listing print as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// orgIDs resolves organisation names.
func orgIDs(ctx context.Context, db store, names []string) ([]int64, error) {
	ids := make([]int64, 0, len(names))
	for _, n := range names {
		o, err := db.OrgByName(ctx, n)
		if err != nil {
			return nil, err
		}
		ids = append(ids, o.ID)
	}
	return ids, nil
}

// orgNamesByID maps organisation ids to names, for listings.
func orgNamesByID(ctx context.Context, db store) (map[int64]string, error) {
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(orgs))
	for _, o := range orgs {
		m[o.ID] = o.Name
	}
	return m, nil
}

func runGroupCreate(ctx context.Context, e *env, c *command, args []string) error {
	return groupChange(ctx, e, c, args, true)
}

func runGroupSet(ctx context.Context, e *env, c *command, args []string) error {
	return groupChange(ctx, e, c, args, false)
}

// groupChange is group create (create true) and group set.
func groupChange(ctx context.Context, e *env, c *command, args []string, create bool) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	orgsFlag := fs.String("orgs", "", "the member organisations' names, comma separated")
	pos, err := positional(fs, args, 1, "the group's NAME")
	if err != nil {
		return err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "orgs" })
	if !given {
		return usageError("give the members with --orgs ORG,ORG...")
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	names := splitList(*orgsFlag)
	ids, err := orgIDs(ctx, db, names)
	if err != nil {
		return err
	}
	if create {
		g := &cyberpact.Group{Name: pos[0], Orgs: ids}
		if err := db.CreateGroup(ctx, g, cliActor); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created group %q (id %d) of %d organisations\n", g.Name, g.ID, len(g.Orgs))
		return nil
	}
	g, err := db.GroupByName(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := db.SetGroupOrgs(ctx, g.ID, ids, cliActor); err != nil {
		return err
	}
	g, err = db.GroupByName(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "group %q now has %d organisations\n", g.Name, len(g.Orgs))
	return nil
}

func runGroupList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	groups, err := db.Groups(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(groups))
	}
	names, err := orgNamesByID(ctx, db)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tMEMBERS")
	for _, g := range groups {
		members := make([]string, len(g.Orgs))
		for i, id := range g.Orgs {
			members[i] = names[id]
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", g.Name, g.ID, strings.Join(members, ", "))
	}
	return tw.Flush()
}

// expiresFlag parses --expires: a duration from now (720h, or 90d for
// days) or a time (RFC 3339, or a date). The zero time means never.
func expiresFlag(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return now.AddDate(0, 0, n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, usageError("--expires %s: the duration must be positive", s)
		}
		return now.Add(d), nil
	}
	if t, err := parseTime(s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError("--expires %q: want a duration (720h, 90d) or a time (RFC 3339 or 2006-01-02)", s)
}

// parseTime reads an RFC 3339 time or a date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}

// printKey prints a new key alone on stdout and what it is on stderr.
func printKey(e *env, user string, key string, k *cyberpact.APIKey) {
	fmt.Fprintln(e.stdout, key)
	until := "does not expire"
	if !k.Expires.IsZero() {
		until = "expires " + formatTime(k.Expires)
	}
	fmt.Fprintf(e.stderr, "key %d for user %q (%s); it is shown only this once: keep it now\n", k.ID, user, until)
}

func runUserCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the user's organisation, by name (required)")
	role := fs.String("role", "", "admin, org-admin, analyst, reader or sync (required)")
	expires := fs.String("expires", "", "the first key's expiry: a duration (720h, 90d) or a time; default never")
	pos, err := positional(fs, args, 1, "the user's NAME")
	if err != nil {
		return err
	}
	if *org == "" || *role == "" {
		return usageError("give --org and --role")
	}
	until, err := expiresFlag(*expires, time.Now())
	if err != nil {
		return err
	}
	if !until.IsZero() && !until.After(time.Now()) {
		return cyberpact.Errorf(cyberpact.EINVALID, "--expires %s is in the past", *expires)
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if err != nil {
		return err
	}
	u := &cyberpact.User{Name: pos[0], Org: o.ID, Role: cyberpact.Role(*role)}
	if err := db.CreateUser(ctx, u, cliActor); err != nil {
		return err
	}
	key, k, err := db.CreateKey(ctx, u.ID, until, cliActor)
	if err != nil {
		return fmt.Errorf("user %q created, but not its key (run cyberpact key create %s): %w", u.Name, u.Name, err)
	}
	fmt.Fprintf(e.stderr, "created user %q (id %d, %s) in %q\n", u.Name, u.ID, u.Role, o.Name)
	printKey(e, u.Name, key, k)
	return nil
}

func runUserList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "only this organisation's users, by name")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	var id int64
	if *org != "" {
		o, err := db.OrgByName(ctx, *org)
		if err != nil {
			return err
		}
		id = o.ID
	}
	users, err := db.Users(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(users))
	}
	names, err := orgNamesByID(ctx, db)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tORG\tROLE\tID\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", u.Name, names[u.Org], u.Role, u.ID, formatTime(u.Created))
	}
	return tw.Flush()
}

func runKeyCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	expires := fs.String("expires", "", "a duration from now (720h, 90d) or a time (RFC 3339, 2006-01-02); default never")
	pos, err := positional(fs, args, 1, "the USER whose key it is")
	if err != nil {
		return err
	}
	until, err := expiresFlag(*expires, time.Now())
	if err != nil {
		return err
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByName(ctx, pos[0])
	if err != nil {
		return err
	}
	key, k, err := db.CreateKey(ctx, u.ID, until, cliActor)
	if err != nil {
		return err
	}
	printKey(e, u.Name, key, k)
	return nil
}

func runKeyRevoke(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "the KEYID to revoke (see cyberpact key list)")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageError("key id %q is not a number; see cyberpact key list", pos[0])
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RevokeKey(ctx, id, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "key %d revoked\n", id)
	return nil
}

func runKeyList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	user := fs.String("user", "", "only this user's keys")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	var id int64
	if *user != "" {
		u, err := db.UserByName(ctx, *user)
		if err != nil {
			return err
		}
		id = u.ID
	}
	keys, err := db.Keys(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(keys))
	}
	users, err := db.Users(ctx, 0)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tPREFIX\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, k := range keys {
		status := "active"
		switch {
		case !k.Revoked.IsZero():
			status = "revoked " + formatTime(k.Revoked)
		case !k.Active(now):
			status = "expired"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\t%s\t%s\n", k.ID, names[k.User], k.Prefix, formatTime(k.Created), formatTime(k.Expires), formatTime(k.LastUsed), status)
	}
	return tw.Flush()
}

func runUserPassword(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "the user's NAME")
	if err != nil {
		return err
	}
	line, err := bufio.NewReader(io.LimitReader(e.stdin, 64<<10)).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("reading the password from standard input: %w", err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if pw == "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "no password on standard input: give it as the first line")
	}
	if err := web.CheckPassword(pw); err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByName(ctx, pos[0])
	if err != nil {
		return err
	}
	hash, err := web.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := db.SetPassword(ctx, u.ID, hash, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "set the password of user %q\n", u.Name)
	return nil
}

func runUserDisable(ctx context.Context, e *env, c *command, args []string) error {
	return userDisabled(ctx, e, c, args, true)
}

func runUserEnable(ctx context.Context, e *env, c *command, args []string) error {
	return userDisabled(ctx, e, c, args, false)
}

func userDisabled(ctx context.Context, e *env, c *command, args []string, disabled bool) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "the user's NAME")
	if err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByName(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := db.SetDisabled(ctx, u.ID, disabled, cliActor); err != nil {
		return err
	}
	what := "enabled"
	if disabled {
		what = "disabled"
	}
	fmt.Fprintf(e.stderr, "%s user %q\n", what, u.Name)
	return nil
}
