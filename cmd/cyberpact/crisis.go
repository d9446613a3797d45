package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
)

var crisisSubs = []*subcommand{
	{
		name:  "declare",
		usage: "INCIDENT-ID [--escalate-after 15m] [--data DIR]",
		help: `Declares a crisis on a stored STIX incident: every organisation of the
incident's audience is alerted at once on all of its channels (the webhooks
and mail of its subscriptions, and the web interface), and each one's
acknowledgement is tracked. One that has not acknowledged within
--escalate-after of its last alert is escalated to its contacts of the next
level ('cyberpact crisis contact-add'). 'cyberpact serve' delivers the
alerts and escalates.`,
		run: runCrisisDeclare,
	},
	{
		name:  "list",
		usage: "[--open] [--data DIR] [--json]",
		help:  "Lists the crises, newest first, with how many partners acknowledged.",
		run:   runCrisisList,
	},
	{
		name:  "status",
		usage: "ID [--data DIR] [--json]",
		help: `Shows a crisis at a glance: each partner organisation, whether and how it
acknowledged, its escalation level, when it is escalated next, and its
alerts by delivery status.`,
		run: runCrisisStatus,
	},
	{
		name:  "ack",
		usage: "ID --org NAME [--data DIR]",
		help:  "Acknowledges a crisis for a partner organisation.",
		run:   runCrisisAck,
	},
	{
		name:  "end",
		usage: "ID [--data DIR]",
		help:  "Ends a crisis and tells every channel that was alerted.",
		run:   runCrisisEnd,
	},
	{
		name:  "contact-add",
		usage: "--org NAME --level N --channel webhook|email --target URL|ADDRESS [--name NAME] [--data DIR]",
		help: `Adds an escalation contact of an organisation: a partner that has not
acknowledged a crisis in time is escalated to its contacts of level 1, then
2, and so on. A webhook contact's secret is printed once, here.`,
		run: runCrisisContactAdd,
	},
	{
		name:  "contacts",
		usage: "--org NAME [--data DIR] [--json]",
		help:  "Lists an organisation's escalation contacts by level, never their secrets.",
		run:   runCrisisContacts,
	},
	{
		name:  "contact-remove",
		usage: "ID --org NAME [--data DIR]",
		help:  "Removes an escalation contact of the organisation.",
		run:   runCrisisContactRemove,
	},
}

func init() {
	registerGroup("crisis", "declare crises on incidents, track acknowledgements, escalate to contacts",
		"Crisis mode on a stored STIX incident. Every change is recorded in the audit log (action crisis).\n", crisisSubs)
}

// openDesk opens the store for a crisis command; the caller closes it.
func (e *env) openDesk(ctx context.Context, data string) (store, *alert.Desk, error) {
	db, err := e.openStoreFor(ctx, data, true)
	if err != nil {
		return nil, nil, err
	}
	d := alert.NewDesk(db)
	if d == nil {
		db.Close()
		return nil, nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this store keeps no crises")
	}
	return db, d, nil
}

// crisisArg reads the crisis ID argument.
func crisisArg(fs *flag.FlagSet, args []string) (int64, error) {
	pos, err := positional(fs, args, 1, "crisis ID")
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError("crisis ID %q is not a number", pos[0])
	}
	return id, nil
}

func runCrisisDeclare(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	after := fs.Duration("escalate-after", alert.DefaultEscalateAfter, "escalate a partner that has not acknowledged this long after its last alert")
	pos, err := positional(fs, args, 1, "INCIDENT-ID")
	if err != nil {
		return err
	}
	if *after < time.Minute {
		return usageError("--escalate-after %s is shorter than a minute", *after)
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	cr, err := d.Declare(ctx, nil, pos[0], *after, cliActor)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "crisis %d declared on %s: %d partner organisations alerted; escalation after %s\n", cr.ID, cr.Incident, len(cr.Partners), cr.EscalateAfter)
	return nil
}

func runCrisisList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	open := fs.Bool("open", false, "only the crises that have not ended")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	cs, err := d.List(ctx, nil, *open)
	if err != nil {
		return err
	}
	out := []*alert.Status{}
	for _, cr := range cs {
		st, err := d.Status(ctx, nil, cr.ID)
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	if *asJSON {
		return printJSON(e, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tINCIDENT\tACKNOWLEDGED\tDECLARED")
	for _, st := range out {
		state := "open"
		if !st.Open {
			state = "ended"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d/%d\t%s\n", st.ID, state, st.Incident, st.Acknowledged, len(st.Partners), st.Declared.Format(time.RFC3339))
	}
	return tw.Flush()
}

func runCrisisStatus(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	id, err := crisisArg(fs, args)
	if err != nil {
		return err
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := d.Status(ctx, nil, id)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, st)
	}
	state := "open"
	if !st.Open {
		state = "ended " + st.Ended.Format(time.RFC3339) + " by " + st.EndedBy
	}
	fmt.Fprintf(e.stdout, "crisis %d on %s %q: %s; declared %s by %s; escalation after %s; %d of %d acknowledged\n",
		st.ID, st.Incident, st.IncidentName, state, st.Declared.Format(time.RFC3339), st.DeclaredBy, st.EscalateAfter, st.Acknowledged, len(st.Partners))
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORG\tACKNOWLEDGED\tLEVEL\tNEXT ESCALATION\tALERTS")
	for _, p := range st.Partners {
		ack := "no"
		if p.Acknowledged {
			ack = fmt.Sprintf("%s by %s (%s)", p.AckedAt.Format(time.RFC3339), p.AckedBy, p.AckedVia)
		}
		next := "-"
		if !p.EscalatesAt.IsZero() {
			next = p.EscalatesAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d of %d\t%s\t%d delivered, %d pending, %d failed, %d withheld\n", p.Org, ack, p.Level, p.Levels, next,
			p.Alerts[cyberpact.DeliveryDelivered], p.Alerts[cyberpact.DeliveryPending], p.Alerts[cyberpact.DeliveryFailed], p.Alerts[cyberpact.DeliveryWithheld])
	}
	return tw.Flush()
}

func runCrisisAck(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the acknowledging organisation")
	id, err := crisisArg(fs, args)
	if err != nil {
		return err
	}
	if *org == "" {
		return usageError("--org is required: the acknowledging organisation")
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if err != nil {
		return err
	}
	acked, err := d.Ack(ctx, nil, id, o.ID, cliActor, "cli")
	if err != nil {
		return err
	}
	if !acked {
		fmt.Fprintf(e.stdout, "crisis %d: %s had already acknowledged\n", id, o.Name)
		return nil
	}
	fmt.Fprintf(e.stdout, "crisis %d acknowledged for %s\n", id, o.Name)
	return nil
}

func runCrisisEnd(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	id, err := crisisArg(fs, args)
	if err != nil {
		return err
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := d.End(ctx, nil, id, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "crisis %d ended\n", id)
	return nil
}

func runCrisisContactAdd(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the organisation")
	level := fs.Int("level", 0, "the escalation level, from 1")
	channel := fs.String("channel", "", "webhook or email")
	target := fs.String("target", "", "the webhook's URL or the mail address")
	name := fs.String("name", "", "who the contact is, e.g. duty officer")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	if *org == "" {
		return usageError("--org is required: the contact's organisation")
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if err != nil {
		return err
	}
	ct := &cyberpact.CrisisContact{Org: o.ID, Level: *level, Name: *name, Channel: cyberpact.ChannelKind(*channel), Target: *target}
	if ct.Channel == cyberpact.ChannelWebhook {
		ct.Secret = cyberpact.NewWebhookSecret()
	}
	if err := d.Store.AddCrisisContact(ctx, ct, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "contact %d added to %s: level %d by %s to %s\n", ct.ID, o.Name, ct.Level, ct.Channel, ct.Target)
	if ct.Secret != "" {
		fmt.Fprintf(e.stdout, "webhook secret (shown once): %s\n", ct.Secret)
	}
	return nil
}

func runCrisisContacts(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the organisation")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	if *org == "" {
		return usageError("--org is required: the contacts' organisation")
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if err != nil {
		return err
	}
	cs, err := d.Store.CrisisContacts(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, ct := range cs {
		ct.Secret = ""
	}
	if *asJSON {
		return printJSON(e, cs)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLEVEL\tNAME\tCHANNEL\tTARGET")
	for _, ct := range cs {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", ct.ID, ct.Level, ct.Name, ct.Channel, ct.Target)
	}
	return tw.Flush()
}

func runCrisisContactRemove(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the contact's organisation")
	pos, err := positional(fs, args, 1, "contact ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageError("contact ID %q is not a number", pos[0])
	}
	if *org == "" {
		return usageError("--org is required: the contact's organisation")
	}
	db, d, err := e.openDesk(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if err != nil {
		return err
	}
	if err := d.Store.RemoveCrisisContact(ctx, o.ID, id, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "contact %d removed\n", id)
	return nil
}
