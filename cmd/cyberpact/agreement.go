package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
)

var agreementSubs = []*subcommand{
	{
		name:  "set",
		usage: "GROUP|hub [--purpose TEXT] [--tlp LEVELS] [--pap LEVELS] [--rel-nations CC,...] [--rel-sectors S,...] [--retention SPAN] [--retention-type TYPE=SPAN,...] [--expires DURATION|TIME|never] [--federate=true|false] [--personal-data FLAGS] [--data DIR]",
		help: `Stores a new version of the sharing agreement of a sharing group (or of the
whole hub: "hub"), starting from the version in force and changing what the
flags give ("" empties a list). Every version is kept (agreement history)
and audited. The hub enforces:
  --tlp, --pap        the levels objects shared under it may carry (empty: any);
                      a write of another level is refused naming the agreement
  --rel-nations/--rel-sectors
                      the releasability of objects shared under it that carry
                      none of their own: other nations' (sectors') members never
                      see them, on any path
  --expires           after it nothing more may be shared under it
  --federate          whether members' objects under it may go to peer hubs
--retention (90d, 36h; per type with --retention-type indicator=30d) and
--personal-data (` + strings.Join(cyberpact.PersonalDataFlags, ", ") + `)
are kept for the processes that apply them. Objects shared with a group are
under its agreement; objects shared with all members under the hub's.`,
		run: runAgreementSet,
	},
	{
		name:  "show",
		usage: "[GROUP|hub] [--data DIR] [--json]",
		help:  "Shows the agreement in force of a group or the hub, or with no argument every agreement in force.",
		run:   runAgreementShow,
	},
	{
		name:  "history",
		usage: "GROUP|hub [--data DIR] [--json]",
		help:  "Lists every version of an agreement, oldest first, with who set it and when.",
		run:   runAgreementHistory,
	},
}

var markingSubs = []*subcommand{
	{
		name:  "set",
		usage: "NAME --levels LEVEL,LEVEL... [--data DIR]",
		help: `Defines an ordered marking set, lowest level first (e.g. UK-CLASS --levels
OFFICIAL,SECRET,TOP-SECRET), or adds levels to one. An object marked at a
level of the set (a cyberpact extension marking definition with marking_set
and level) is seen only by organisations with at least that clearance
(org clearance).`,
		run: runMarkingSet,
	},
	{
		name:  "list",
		usage: "[--data DIR] [--json]",
		help:  "Lists the marking sets with their levels.",
		run:   runMarkingList,
	},
	{
		name:  "clearance",
		usage: "ORG --set NAME --level N [--data DIR]",
		help:  "Sets an organisation's clearance in a marking set: the highest level (from 1) it may see; 0 removes it.",
		run:   runMarkingClearance,
	},
}

func init() {
	registerGroup("agreement", "set, show and list the versions of sharing agreements",
		"Manages sharing agreements: the terms a sharing group, or the whole hub, shares under.\nEvery change is recorded in the audit log with actor \"cli\".\n", agreementSubs)
	registerGroup("marking", "define marking sets and organisations' clearances",
		"Manages the hub's ordered marking sets (e.g. a national classification) and organisations' clearances in them.\nEvery change is recorded in the audit log with actor \"cli\".\n", markingSubs)
}

// agreementGroup resolves GROUP|hub to a group id (0: the hub).
func agreementGroup(ctx context.Context, db store, name string) (int64, error) {
	if strings.EqualFold(name, "hub") {
		return 0, nil
	}
	g, err := db.GroupByName(ctx, name)
	if err != nil {
		return 0, err
	}
	return g.ID, nil
}

func runAgreementSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	purpose := fs.String("purpose", "", "what the partners share for")
	tlps := fs.String("tlp", "", "permitted TLP levels, comma separated (clear, green, amber, amber+strict, red)")
	paps := fs.String("pap", "", "permitted PAP levels, comma separated (clear, green, amber, red)")
	nations := fs.String("rel-nations", "", "default releasability: ISO 3166-1 alpha-2 nations, comma separated")
	sectors := fs.String("rel-sectors", "", "default releasability: sectors, comma separated")
	retention := fs.String("retention", "", "how long objects are kept (90d, 36h; \"\" for ever)")
	byType := fs.String("retention-type", "", "retention per STIX type: TYPE=SPAN,...")
	expires := fs.String("expires", "", "when the agreement ends: a duration from now, a time, or never")
	federate := fs.Bool("federate", false, "members may pass objects under it on to peer hubs")
	personal := fs.String("personal-data", "", "personal-data policy flags, comma separated")
	pos, err := positional(fs, args, 1, "the GROUP (or hub) the agreement belongs to")
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	group, err := agreementGroup(ctx, db, pos[0])
	if err != nil {
		return err
	}
	a := &cyberpact.Agreement{Group: group}
	if cur, err := db.Agreement(ctx, group); err == nil {
		*a = *cur
	} else if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		return err
	}
	if set["purpose"] {
		a.Purpose = *purpose
	}
	if set["tlp"] {
		a.TLPs = nil
		for _, s := range splitList(*tlps) {
			l, err := cyberpact.ParseTLP(s)
			if err != nil {
				return usageError("--tlp: %s", cyberpact.ErrorMessage(err))
			}
			a.TLPs = append(a.TLPs, l)
		}
	}
	if set["pap"] {
		a.PAPs = nil
		for _, s := range splitList(*paps) {
			l, err := cyberpact.ParsePAP(s)
			if err != nil {
				return usageError("--pap: %s", cyberpact.ErrorMessage(err))
			}
			a.PAPs = append(a.PAPs, l)
		}
	}
	if set["rel-nations"] {
		a.RelNations = splitList(*nations)
	}
	if set["rel-sectors"] {
		a.RelSectors = splitList(*sectors)
	}
	if set["retention"] {
		a.Retention = 0
		if *retention != "" {
			if a.Retention, err = cyberpact.ParseSpan(*retention); err != nil {
				return usageError("--retention: %s", cyberpact.ErrorMessage(err))
			}
		}
	}
	if set["retention-type"] {
		a.RetentionByType = nil
		for _, kv := range splitList(*byType) {
			t, span, ok := strings.Cut(kv, "=")
			d, err := cyberpact.ParseSpan(span)
			if !ok || err != nil || t == "" {
				return usageError("--retention-type %q: want TYPE=SPAN, e.g. indicator=30d", kv)
			}
			if a.RetentionByType == nil {
				a.RetentionByType = map[string]time.Duration{}
			}
			a.RetentionByType[t] = d
		}
	}
	if set["expires"] {
		if *expires == "never" || *expires == "" {
			a.Expires = time.Time{}
		} else if a.Expires, err = expiresFlag(*expires, time.Now()); err != nil {
			return err
		}
	}
	if set["federate"] {
		a.Federate = *federate
	}
	if set["personal-data"] {
		a.PersonalData = splitList(*personal)
	}
	if err := db.SetAgreement(ctx, a, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "set %s\n", a.Name())
	return nil
}

func runAgreementShow(ctx context.Context, e *env, c *command, args []string) error {
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
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	var list []*cyberpact.Agreement
	if len(pos) == 1 {
		group, err := agreementGroup(ctx, db, pos[0])
		if err != nil {
			return err
		}
		a, err := db.Agreement(ctx, group)
		if err != nil {
			return err
		}
		list = []*cyberpact.Agreement{a}
	} else if list, err = db.Agreements(ctx); err != nil {
		return err
	}
	if *asJSON {
		if len(pos) == 1 {
			return printJSON(e, list[0])
		}
		return printJSON(e, nonNil(list))
	}
	for i, a := range list {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printAgreement(e, a)
	}
	return nil
}

// printAgreement prints one agreement version for people.
func printAgreement(e *env, a *cyberpact.Agreement) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	any := func(s []string) string {
		if len(s) == 0 {
			return "any"
		}
		return strings.Join(s, ", ")
	}
	var tlps, paps []string
	for _, t := range a.TLPs {
		tlps = append(tlps, "TLP:"+strings.ToUpper(t.String()))
	}
	for _, p := range a.PAPs {
		paps = append(paps, "PAP:"+strings.ToUpper(p.String()))
	}
	retention := "for ever"
	if a.Retention > 0 {
		retention = cyberpact.FormatSpan(a.Retention)
	}
	for t, d := range a.RetentionByType {
		retention += fmt.Sprintf("; %s %s", t, cyberpact.FormatSpan(d))
	}
	expires := "never"
	if !a.Expires.IsZero() {
		expires = formatTime(a.Expires)
	}
	fmt.Fprintf(tw, "agreement\t%s\n", a.Name())
	fmt.Fprintf(tw, "purpose\t%s\n", a.Purpose)
	fmt.Fprintf(tw, "tlp\t%s\n", any(tlps))
	fmt.Fprintf(tw, "pap\t%s\n", any(paps))
	fmt.Fprintf(tw, "releasable to nations\t%s\n", any(a.RelNations))
	fmt.Fprintf(tw, "releasable to sectors\t%s\n", any(a.RelSectors))
	fmt.Fprintf(tw, "retention\t%s\n", retention)
	fmt.Fprintf(tw, "expires\t%s\n", expires)
	fmt.Fprintf(tw, "federation\t%t\n", a.Federate)
	fmt.Fprintf(tw, "personal data\t%s\n", strings.Join(a.PersonalData, ", "))
	fmt.Fprintf(tw, "set by\t%s at %s\n", a.Actor, formatTime(a.Created))
	tw.Flush()
}

func runAgreementHistory(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := positional(fs, args, 1, "the GROUP (or hub) the agreement belongs to")
	if err != nil {
		return err
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	group, err := agreementGroup(ctx, db, pos[0])
	if err != nil {
		return err
	}
	list, err := db.AgreementHistory(ctx, group)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(list))
	}
	for i, a := range list {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printAgreement(e, a)
	}
	return nil
}

func runMarkingSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	levels := fs.String("levels", "", "the levels, lowest first, comma separated (required)")
	pos, err := positional(fs, args, 1, "the marking set's NAME")
	if err != nil {
		return err
	}
	if *levels == "" {
		return usageError("give --levels")
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	m := &cyberpact.MarkingSet{Name: pos[0], Levels: splitList(*levels)}
	if err := db.SetMarkingSet(ctx, m, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "set marking set %s: %s\n", m.Name, strings.Join(m.Levels, " < "))
	return nil
}

func runMarkingList(ctx context.Context, e *env, c *command, args []string) error {
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
	sets, err := db.MarkingSets(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, nonNil(sets))
	}
	for _, m := range sets {
		var ls []string
		for i, l := range m.Levels {
			ls = append(ls, strconv.Itoa(i+1)+" "+l)
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", m.Name, strings.Join(ls, ", "))
	}
	return nil
}

func runMarkingClearance(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	set := fs.String("set", "", "the marking set (required)")
	level := fs.Int("level", -1, "the clearance: the highest level it may see, from 1; 0 removes it (required)")
	pos, err := positional(fs, args, 1, "the organisation's NAME")
	if err != nil {
		return err
	}
	if *set == "" || *level < 0 {
		return usageError("give --set and --level")
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
	if err := db.SetClearance(ctx, o.ID, *set, *level, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "set the clearance of %q in %s to %d\n", o.Name, *set, *level)
	return nil
}
