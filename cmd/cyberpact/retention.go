package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
)

var retentionSubs = []*subcommand{
	{
		name:  "set",
		usage: "--type TYPE|* --days N [--group NAME] [--data DIR]",
		help: `Sets how long object versions of TYPE (or * for every type) shared with the
sharing group NAME (without --group: hub-wide, any audience) are kept after
they were added. The most specific rule applies to a version: its group's
rule for its type, then its group's for every type, then the hub-wide
rule for its type, then the hub-wide one for every type. Setting a rule of
the same group and type again changes its period.`,
		run: runRetentionSet,
	},
	{
		name:  "list",
		usage: "[--data DIR] [--json]",
		help:  "Lists the retention rules the purge applies: those set here and those of the sharing agreements' retention periods (see 'cyberpact agreement'), the shorter where both name one group and type.",
		run:   runRetentionList,
	},
	{
		name:  "remove",
		usage: "ID [--data DIR]",
		help:  "Removes a retention rule.",
		run:   runRetentionRemove,
	},
}

func init() {
	registerGroup("retention", "set how long object versions are kept, per sharing group and type",
		"Manages retention rules; 'cyberpact purge' (and 'cyberpact serve', every --purge-interval) purges what they expire.\n", retentionSubs)
	register(&command{
		name:    "purge",
		summary: "purge the object versions the retention rules expire, and verify nothing of them is left",
		usage:   "[--data DIR] [--json]",
		help: `Purges every object version whose retention rule (see 'cyberpact retention')
has expired: its row, links, search words, correlation values, counted
sightings, the log-of-deletes entries of ids no longer held, and verifies
that nothing of them is left. One audit entry records the counts per type
and the rules that applied, never the content. Exits 1 if the verification
finds anything left.`,
		run: runPurge,
	})
}

func runRetentionSet(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	typ := fs.String("type", "", "a STIX type, or * for every type")
	days := fs.Int("days", 0, "days a version is kept after it was added")
	group := fs.String("group", "", "the sharing group (default: hub-wide)")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	if *typ == "" || *days == 0 {
		return usageError("give --type and --days")
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	r := &cyberpact.RetentionRule{Type: *typ, Days: *days}
	if *group != "" {
		g, err := db.GroupByName(ctx, *group)
		if err != nil {
			return fmt.Errorf("--group: %w", err)
		}
		r.Group = g.ID
	}
	if err := db.SetRetention(ctx, r, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "retention rule %d: %s\n", r.ID, r)
	return nil
}

func runRetentionList(ctx context.Context, e *env, c *command, args []string) error {
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
	rules, err := db.RetentionRules(ctx)
	if err != nil {
		return err
	}
	as, err := db.Agreements(ctx)
	if err != nil {
		return err
	}
	// What the purge applies: the rules set here and the agreements'
	// retention, the shorter where both name one group and type.
	rules = rules.With(cyberpact.AgreementRules(as))
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(rules)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tGROUP\tTYPE\tDAYS\tFROM")
	for _, r := range rules {
		g := "hub-wide"
		if r.Group != 0 {
			g = strconv.FormatInt(r.Group, 10)
		}
		from := "retention set"
		if r.Agreement != 0 {
			from = fmt.Sprintf("agreement version %d", r.Agreement)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", r.ID, g, r.Type, r.Days, from)
	}
	return tw.Flush()
}

func runRetentionRemove(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "the rule's ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return usageError("rule ID %q is not a number", pos[0])
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.RemoveRetention(ctx, id, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "retention rule %d removed\n", id)
	return nil
}

func runPurge(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["purge"])
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("purge takes no arguments")
	}
	db, err := e.openStoreFor(ctx, *data, true)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := cyberpact.Purge(ctx, db, db, cyberpact.Actor{Name: cliActor, Via: "cli"}, time.Now())
	if *asJSON && res != nil {
		json.NewEncoder(e.stdout).Encode(res)
	} else if res != nil {
		fmt.Fprintf(e.stdout, "purged %d versions of %d objects no longer held", res.Versions, res.Objects)
		if res.Versions > 0 {
			fmt.Fprintf(e.stdout, "; verified: nothing of them is left")
		}
		fmt.Fprintln(e.stdout)
	}
	if err != nil {
		if res != nil && len(res.Residue) > 0 {
			fmt.Fprintf(e.stderr, "cyberpact purge: %s\n", cyberpact.ErrorMessage(err))
			return &exitError{code: 1}
		}
		return err
	}
	return nil
}

// purgeLoop purges what the retention rules expire at once and then every
// interval until ctx ends, logging what each purge did.
func purgeLoop(ctx context.Context, db store, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := cyberpact.Purge(ctx, db, db, cyberpact.Actor{Name: "serve", Via: "cli"}, time.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Error("retention purge failed", "err", err)
		case res != nil && res.Versions > 0:
			logger.Info("retention purge", "versions", res.Versions, "objects", res.Objects)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
