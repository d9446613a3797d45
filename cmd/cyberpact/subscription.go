package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cyberpact/cyberpact"
)

var subscriptionSubs = []*subcommand{
	{
		name: "add",
		usage: "--org NAME [--user NAME] --event object|sighting|assigned|request --channel webhook|email --target URL|ADDRESS\n" +
			"    [--type T,...] [--label L,...] [--tlp LEVEL,...] [--producer ORG,...] [--value V,...] [--data DIR]",
		help: `Subscribes an organisation (or one of its users) to alerts: "object", new
objects it may see that the filter selects (types, labels, TLP levels,
producer organisations, observable values an indicator's pattern compares
with); "sighting", sightings of objects the organisation produced;
"assigned", tasks of joint incidents assigned to --user (to any user of the
organisation, without it); "request", requests for assistance addressed to
the organisation. A
webhook gets its notifications as signed POSTs (its secret is printed once,
here); mail goes through the SMTP server 'cyberpact serve --smtp-addr' names.`,
		run: runSubscriptionAdd,
	},
	{
		name:  "list",
		usage: "[--org NAME] [--data DIR] [--json]",
		help:  "Lists the subscriptions (of one organisation), never their secrets.",
		run:   runSubscriptionList,
	},
	{
		name:  "remove",
		usage: "ID --org NAME [--data DIR]",
		help:  "Removes a subscription of the organisation, with its notifications.",
		run:   runSubscriptionRemove,
	},
	{
		name:  "status",
		usage: "ID --org NAME [--limit N] [--data DIR] [--json]",
		help: `Shows a subscription's deliveries: counts by status (pending, delivered,
failed, withheld) and the most recent notifications with their attempts,
next attempt and last error.`,
		run: runSubscriptionStatus,
	},
}

func init() {
	registerGroup("subscription", "subscribe organisations and users to alerts by webhook or mail, and show delivery status",
		"Manages subscriptions to alerts; 'cyberpact serve' delivers them (unless --alerts=false).\n"+
			"A notification carries only what its subscriber's organisation may see when it is sent.\n", subscriptionSubs)
}

func runSubscriptionAdd(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the subscribing organisation")
	user := fs.String("user", "", "a user of the organisation the subscription is for (default: the whole organisation)")
	event := fs.String("event", "", "object, sighting, assigned or request")
	channel := fs.String("channel", "", "webhook or email")
	target := fs.String("target", "", "the webhook's URL or the mail address")
	types := fs.String("type", "", "object types, comma separated")
	labels := fs.String("label", "", "labels, comma separated")
	tlps := fs.String("tlp", "", "TLP levels, comma separated")
	producers := fs.String("producer", "", "producer organisations, comma separated")
	values := fs.String("value", "", "observable values, comma separated")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	if *org == "" {
		return usageError("--org is required: the subscribing organisation")
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgByName(ctx, *org)
	if err != nil {
		return err
	}
	sub := &cyberpact.Subscription{Org: o.ID, Event: cyberpact.EventKind(*event), Channel: cyberpact.ChannelKind(*channel), Target: *target}
	if *user != "" {
		u, err := db.UserByName(ctx, *user)
		if err != nil {
			return err
		}
		if u.Org != o.ID {
			return usageError("--user %s is not in organisation %s", *user, *org)
		}
		sub.User = u.ID
	}
	spec := cyberpact.FilterSpec{Types: splitList(*types), Labels: splitList(*labels), TLPs: splitList(*tlps), Producers: splitList(*producers), Values: splitList(*values)}
	if sub.Filter, err = spec.Resolve(ctx, db); err != nil {
		return err
	}
	if sub.Channel == cyberpact.ChannelWebhook {
		sub.Secret = cyberpact.NewWebhookSecret()
	}
	if err := db.CreateSubscription(ctx, sub, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "subscription %d added: %s by %s to %s\n", sub.ID, sub.Event, sub.Channel, sub.Target)
	if sub.Secret != "" {
		fmt.Fprintf(e.stdout, "webhook secret (shown once; the %s header is sha256=HMAC-SHA256(secret, timestamp + \".\" + body)): %s\n", "X-Cyberpact-Signature", sub.Secret)
	}
	return nil
}

// subscriptionOrg returns the organisation --org names, 0 for none.
func subscriptionOrg(ctx context.Context, db store, name string) (int64, error) {
	if name == "" {
		return 0, nil
	}
	o, err := db.OrgByName(ctx, name)
	if err != nil {
		return 0, err
	}
	return o.ID, nil
}

func runSubscriptionList(ctx context.Context, e *env, c *command, args []string) error {
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
	id, err := subscriptionOrg(ctx, db, *org)
	if err != nil {
		return err
	}
	subs, err := db.Subscriptions(ctx, id)
	if err != nil {
		return err
	}
	orgs, err := db.Orgs(ctx)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	type row struct {
		ID      int64                 `json:"id"`
		Org     string                `json:"org"`
		User    int64                 `json:"user,omitempty"`
		Event   cyberpact.EventKind   `json:"event"`
		Channel cyberpact.ChannelKind `json:"channel"`
		Target  string                `json:"target"`
		Filter  cyberpact.FilterSpec  `json:"filter"`
	}
	rows := []row{}
	for _, s := range subs {
		rows = append(rows, row{s.ID, names[s.Org], s.User, s.Event, s.Channel, s.Target, s.Filter.Spec(names)})
	}
	if *asJSON {
		return printJSON(e, rows)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORG\tEVENT\tCHANNEL\tTARGET\tFILTER")
	for _, r := range rows {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Org, r.Event, r.Channel, r.Target, filterText(r.Filter))
	}
	return tw.Flush()
}

func filterText(f cyberpact.FilterSpec) string {
	var parts []string
	add := func(name string, vals []string) {
		if len(vals) > 0 {
			parts = append(parts, name+"="+strings.Join(vals, ","))
		}
	}
	add("type", f.Types)
	add("label", f.Labels)
	add("tlp", f.TLPs)
	add("producer", f.Producers)
	add("value", f.Values)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// openSubscription reads the subscription ID argument and --org of
// remove and status (flags parsed here, so data and org are read
// after), opens the existing store and finds the organisation;
// the caller closes the store.
func (e *env) openSubscription(ctx context.Context, fs *flag.FlagSet, args []string, data, org *string) (store, int64, int64, error) {
	pos, err := positional(fs, args, 1, "subscription ID")
	if err != nil {
		return nil, 0, 0, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return nil, 0, 0, usageError("subscription ID %q is not a number", pos[0])
	}
	if *org == "" {
		return nil, 0, 0, usageError("--org is required: the subscription's organisation")
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return nil, 0, 0, err
	}
	o, err := subscriptionOrg(ctx, db, *org)
	if err != nil {
		db.Close()
		return nil, 0, 0, err
	}
	return db, o, id, nil
}

func runSubscriptionRemove(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the subscription's organisation")
	db, o, id, err := e.openSubscription(ctx, fs, args, data, org)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.DeleteSubscription(ctx, o, id, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "subscription %d removed\n", id)
	return nil
}

func runSubscriptionStatus(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	org := fs.String("org", "", "the subscription's organisation")
	limit := fs.Int("limit", 20, "how many recent notifications to show")
	asJSON := fs.Bool("json", false, "print JSON")
	db, o, id, err := e.openSubscription(ctx, fs, args, data, org)
	if err != nil {
		return err
	}
	defer db.Close()
	ns, err := db.Deliveries(ctx, o, id, 0)
	if err != nil {
		return err
	}
	groups, err := db.GroupsOf(ctx, o)
	if err != nil {
		return err
	}
	of, err := db.OrgByID(ctx, o)
	if err != nil {
		return err
	}
	sum := cyberpact.Summarise(ns, *limit)
	if err := cyberpact.HideUnseen(ctx, db, cyberpact.OrgViewer(of, groups), sum.Recent); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e, sum)
	}
	fmt.Fprintf(e.stdout, "subscription %d: %d pending, %d delivered, %d failed, %d withheld\n", id,
		sum.Counts[cyberpact.DeliveryPending], sum.Counts[cyberpact.DeliveryDelivered], sum.Counts[cyberpact.DeliveryFailed], sum.Counts[cyberpact.DeliveryWithheld])
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATUS\tATTEMPTS\tOBJECT\tNEXT ATTEMPT\tLAST ERROR")
	for _, n := range sum.Recent {
		next := "-"
		if n.Status == cyberpact.DeliveryPending {
			next = n.NextAttempt.Format("2006-01-02T15:04:05Z")
		}
		obj := n.ObjectID
		if obj == "" {
			obj = "(no longer visible)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", n.Key, n.Status, n.Attempts, obj, next, n.LastError)
	}
	return tw.Flush()
}
