package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

var privacySubs = []*subcommand{
	{
		name:  "policy",
		usage: "[--group NAME|default --detect LIST] [--json] [--data DIR]",
		help: `With --detect, sets which personal-data detectors run on what is released to
a sharing group (--group NAME) or, with --group default, to all members and
to any group without a policy of its own: a comma-separated list of email,
account, phone, name, individual and address, or all, or none. Without --detect,
lists the policies. Versions kept for their producer's organisation alone
are never redacted; none are redacted until a policy turns detectors on.`,
		run: runPrivacyPolicy,
	},
	{
		name:  "key",
		usage: "--file FILE [--data DIR]",
		help: `Sets the partnership key pseudonyms are made with, read from FILE (at least
16 bytes; give every hub of the partnership the same file, and the same
value gets the same pseudonym on each). Without it a hub makes a random key
of its own the first time it redacts.`,
		run: runPrivacyKey,
	},
	{
		name:  "approver",
		usage: "[USER] [--data DIR]",
		help:  "Makes USER a warrant approver; without USER, lists the approvers.",
		run:   runPrivacyApprover,
	},
}

var warrantSubs = []*subcommand{
	{
		name:  "request",
		usage: "--as USER --kind unmask|release --target PSEUDONYM|ID --justification TEXT [--ttl 24h] [--data DIR]",
		help: `Asks, as USER, for a warrant: to unmask a pseudonym (pd:KIND:HEX) or to
release an object (its id) as its producer sent it, personal data and
TLP:RED included, to USER's organisation. A second person, a warrant
approver who is not USER, must approve it; it lasts --ttl from then.`,
		run: runWarrantRequest,
	},
	{
		name:  "approve",
		usage: "ID --as USER [--reason TEXT] [--data DIR]",
		help:  "Approves warrant ID as USER, a warrant approver who did not ask for it.",
		run:   runWarrantDecide(true),
	},
	{
		name:  "refuse",
		usage: "ID --as USER [--reason TEXT] [--data DIR]",
		help:  "Refuses warrant ID as USER, a warrant approver who did not ask for it.",
		run:   runWarrantDecide(false),
	},
	{
		name:  "list",
		usage: "[--org NAME] [--json] [--data DIR]",
		help:  "Lists warrants, newest first (of one organisation), with their state and decision.",
		run:   runWarrantList,
	},
	{
		name:  "unmask",
		usage: "ID --as USER [--data DIR]",
		help:  "Uses approved unmask warrant ID as USER, of its organisation: prints the value behind the pseudonym.",
		run:   runWarrantUse(cyberpact.WarrantUnmask),
	},
	{
		name:  "release",
		usage: "ID --as USER [--data DIR]",
		help:  "Uses approved release warrant ID as USER, of its organisation: prints the object as its producer sent it.",
		run:   runWarrantUse(cyberpact.WarrantRelease),
	},
}

func init() {
	registerGroup("privacy", "set which personal data is redacted per sharing group, the partnership key and warrant approvers",
		`Personal data in what members publish (victims' e-mail addresses and user
accounts, phone numbers, personal names, identities of individuals, postal
addresses) is
replaced by stable pseudonyms in every version released beyond its
producer's organisation, under the policy of its audience. Every change is
in the audit log.
`, privacySubs)
	registerGroup("warrant", "ask for, decide and use warrants that unmask a pseudonym or release an object beyond its audience",
		`A warrant unmasks a pseudonym or releases an object beyond its audience. It
is asked for with a justification, approved or refused by a second person
(a warrant approver: 'cyberpact privacy approver USER'), lasts its TTL from
approval, and is used by its organisation. Every step (request, approval,
refusal, a refused self-approval, use, expiry) is in the audit log
('cyberpact audit list --action warrant'). The command line acts as the
user --as names.
`, warrantSubs)
}

// principalOf returns the principal of user name: its organisation and
// groups.
func principalOf(ctx context.Context, db store, name string) (*cyberpact.Principal, error) {
	if name == "" {
		return nil, usageError("--as is required: the user the command acts as")
	}
	u, err := db.UserByName(ctx, name)
	if err != nil {
		return nil, err
	}
	o, err := db.OrgByID(ctx, u.Org)
	if err != nil {
		return nil, err
	}
	groups, err := db.GroupsOf(ctx, u.Org)
	if err != nil {
		return nil, err
	}
	return &cyberpact.Principal{User: *u, Org: *o, Groups: groups}, nil
}

func runPrivacyPolicy(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	group := fs.String("group", "", "a sharing group's name, or default")
	detect := fs.String("detect", "", "detectors: email,account,phone,name,individual,address, all or none")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "detect" })
	if set && *group == "" {
		return usageError("--group is required with --detect: a sharing group's name, or default")
	}
	db, err := e.openStoreFor(ctx, *data, !set)
	if err != nil {
		return err
	}
	defer db.Close()
	groups, err := db.Groups(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{0: "default"}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	if set {
		p := &cyberpact.PrivacyPolicy{Detectors: *detect}
		if *group != "default" {
			g, err := db.GroupByName(ctx, *group)
			if err != nil {
				return err
			}
			p.Group = g.ID
		}
		if err := db.SetPrivacyPolicy(ctx, p, cliActor); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "privacy policy of %s: %s\n", names[p.Group], p.Detectors)
		return nil
	}
	pols, err := db.PrivacyPolicies(ctx)
	if err != nil {
		return err
	}
	type row struct {
		Group     string `json:"group"`
		Detectors string `json:"detectors"`
		Updated   string `json:"updated"`
		Actor     string `json:"actor"`
	}
	rows := []row{}
	for _, p := range pols {
		rows = append(rows, row{names[p.Group], p.Detectors, p.Updated.Format(time.RFC3339), p.Actor})
	}
	if *asJSON {
		return printJSON(e, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "no privacy policy: nothing is redacted")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tDETECTORS\tUPDATED\tBY")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Group, r.Detectors, r.Updated, r.Actor)
	}
	return tw.Flush()
}

func runPrivacyKey(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	file := fs.String("file", "", "the file holding the partnership key")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	if *file == "" {
		return usageError("--file is required: the file holding the partnership key")
	}
	key, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("reading the partnership key: %w", err)
	}
	db, err := e.openStoreFor(ctx, *data, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.SetPartnershipKey(ctx, key, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "partnership key set from %s\n", *file)
	return nil
}

func runPrivacyApprover(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
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
	if len(pos) == 1 {
		if err := db.AddWarrantApprover(ctx, pos[0], cliActor); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is a warrant approver\n", pos[0])
		return nil
	}
	names, err := db.WarrantApprovers(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(e.stdout, n)
	}
	return nil
}

func runWarrantRequest(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	as := fs.String("as", "", "the user asking")
	kind := fs.String("kind", "", "unmask or release")
	target := fs.String("target", "", "the pseudonym, or the object's id")
	why := fs.String("justification", "", "why the warrant is needed")
	ttl := fs.String("ttl", "24h", "how long an approval lasts")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	d, err := cphttp.ParseTTL(*ttl)
	if err != nil {
		return usageError("%s", cyberpact.ErrorMessage(err))
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	p, err := principalOf(ctx, db, *as)
	if err != nil {
		return err
	}
	w := &cyberpact.Warrant{Kind: cyberpact.WarrantKind(*kind), Target: *target, Justification: *why, TTL: d}
	if err := db.RequestWarrant(ctx, w, p, "cli"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "warrant %d requested: %s %s, for %s once approved\n", w.ID, w.Kind, w.Target, w.TTL)
	return nil
}

// warrantArg reads the warrant ID argument.
func warrantArg(pos []string) (int64, error) {
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("warrant ID %q is not a positive number", pos[0])
	}
	return id, nil
}

func runWarrantDecide(approve bool) func(ctx context.Context, e *env, c *command, args []string) error {
	return func(ctx context.Context, e *env, c *command, args []string) error {
		fs := newFlags(e, c)
		data := dataFlag(fs)
		as := fs.String("as", "", "the approver deciding")
		reason := fs.String("reason", "", "the decision's reason")
		pos, err := positional(fs, args, 1, "warrant ID")
		if err != nil {
			return err
		}
		id, err := warrantArg(pos)
		if err != nil {
			return err
		}
		db, err := e.openStoreFor(ctx, *data, true)
		if err != nil {
			return err
		}
		defer db.Close()
		p, err := principalOf(ctx, db, *as)
		if err != nil {
			return err
		}
		w, err := db.DecideWarrant(ctx, id, approve, *reason, p, "cli")
		if err != nil {
			return err
		}
		if w.State == cyberpact.WarrantApproved {
			fmt.Fprintf(e.stdout, "warrant %d approved by %s until %s\n", w.ID, w.Decider, w.Expires.Format(time.RFC3339))
		} else {
			fmt.Fprintf(e.stdout, "warrant %d refused by %s\n", w.ID, w.Decider)
		}
		return nil
	}
}

func runWarrantList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "only this organisation's")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openStoreFor(ctx, *data, true)
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
	list, err := db.Warrants(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTARGET\tREQUESTER\tSTATE\tDECIDER\tEXPIRES\tUSES\tJUSTIFICATION")
	for _, w := range list {
		exp := "-"
		if !w.Expires.IsZero() {
			exp = w.Expires.Format(time.RFC3339)
		}
		dec := w.Decider
		if dec == "" {
			dec = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", w.ID, w.Kind, w.Target, w.Requester, w.State, dec, exp, w.Uses,
			strings.ReplaceAll(w.Justification, "\n", " "))
	}
	return tw.Flush()
}

func runWarrantUse(kind cyberpact.WarrantKind) func(ctx context.Context, e *env, c *command, args []string) error {
	return func(ctx context.Context, e *env, c *command, args []string) error {
		fs := newFlags(e, c)
		data := dataFlag(fs)
		as := fs.String("as", "", "the user using the warrant")
		pos, err := positional(fs, args, 1, "warrant ID")
		if err != nil {
			return err
		}
		id, err := warrantArg(pos)
		if err != nil {
			return err
		}
		db, err := e.openStoreFor(ctx, *data, true)
		if err != nil {
			return err
		}
		defer db.Close()
		p, err := principalOf(ctx, db, *as)
		if err != nil {
			return err
		}
		if kind == cyberpact.WarrantUnmask {
			v, err := db.Unmask(ctx, id, p, "cli")
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, v)
			return nil
		}
		raw, err := db.ReleaseByWarrant(ctx, id, p, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", raw)
		return nil
	}
}
