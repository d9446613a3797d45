package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/sensor"
	"github.com/cyberpact/cyberpact/stix"
)

func init() {
	register(&command{
		name:    "export",
		summary: "write stored objects as a STIX 2.1 bundle, sensor rules, blocklists or a Navigator layer",
		usage: "[--data DIR] [--org ORG] [--format F] [--type T,...] [--since RFC3339] [--all-versions]\n" +
			"       [--audience all|org|group:NAME] [--max-tlp LEVEL] [--kind K,...] [--label L,...] [--tlp L,...]\n" +
			"       [--min-score N] [--include-invalid] [--at RFC3339] [--zone NAME] [--of ID]",
		help: `Streams the stored objects to standard output, in the order they were
added. With --org, only what that organisation may see under the sharing
rule; without, the hub operator's whole store. TLP:RED objects are never
exported, unless --max-tlp red is given with --org, which adds the RED
objects that organisation may see (those released to it or to one of its
groups). Exercise objects never leave their exercise.

--format stix (the default) writes one STIX 2.1 bundle: the latest version
of each object, or every version with --all-versions. --format misp writes
MISP JSON events instead: one per report with what it refers to, one more
for the rest.

The other formats write what sensors load, from the latest version of each
indicator whose pattern is a disjunction of equality tests ([a = 'x'] OR
[b IN ('y', 'z')]); revoked indicators and those outside their validity
(unless --include-invalid) are left out, and --kind, --label, --tlp and
--min-score (the decay score, 0 to 100) filter further:
  suricata, snort   one rule per address, range, domain or URL; stable sids
                    from the indicator id and value, rev from its modified time
  zeek              a Zeek Intelligence Framework file
  csv               one row per value
  blocklist-ip, blocklist-cidr, blocklist-domain, blocklist-url,
  blocklist-hash, blocklist-email
                    one distinct value a line
  rpz               a DNS response policy zone (--zone names its origin)
  navigator         an ATT&CK Navigator layer (format 4.5) of the techniques
                    of the intrusion-set, threat-actor, campaign or report
                    --of names, or without --of of every technique sighted

A summary of what was left out, and why, goes to standard error.`,
		run: runExport,
	})
}

func runExport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["export"])
	data := dataFlag(fs)
	format := fs.String("format", "stix", "stix, misp, navigator, or one of: "+strings.Join(sensor.FormatNames(), ", "))
	types := fs.String("type", "", "only these object types, comma separated (stix)")
	since := fs.String("since", "", "only versions modified at or after this time (RFC 3339)")
	all := fs.Bool("all-versions", false, "every stored version, not only the latest (stix)")
	org := fs.String("org", "", "export what this organisation may see")
	audience := fs.String("audience", "", "only objects released to this audience: all, org (--org's own) or group:NAME")
	maxTLP := fs.String("max-tlp", "amber+strict", "the most restricted TLP level exported; red needs --org")
	of := fs.String("of", "", "the intrusion-set, threat-actor, campaign or report whose techniques a navigator layer shows")
	q := map[string]*string{}
	for _, p := range sensor.QueryParams {
		if p == "include_invalid" {
			continue
		}
		q[p] = fs.String(strings.ReplaceAll(p, "_", "-"), "", map[string]string{
			"kind":  "only values of these kinds: ip, cidr, domain, url, email, md5, sha1, sha256, sha512, hash",
			"label": "only indicators with one of these labels", "tlp": "only indicators at these TLP levels",
			"min_score": "only indicators with at least this decay score (0 to 100)", "at": "judge validity and decay at this time (RFC 3339; default now)",
			"zone": "the RPZ zone's origin (default " + sensor.DefaultZone + ")",
		}[p])
	}
	invalid := fs.Bool("include-invalid", false, "keep indicators before their valid_from or after their valid_until")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *format != "stix" && *format != "misp" && *format != "navigator" && sensor.Formats[*format] == nil {
		return usageError("--format %q is not stix, misp, navigator or one of %s", *format, strings.Join(sensor.FormatNames(), ", "))
	}
	f := cyberpact.ObjectFilter{AllVersions: *all}
	var err error
	if f.MaxTLP, err = cyberpact.ParseTLP(*maxTLP); err != nil {
		return usageError("--max-tlp: %s", cyberpact.ErrorMessage(err))
	}
	if *format != "stix" && *format != "navigator" {
		f.MaxPAP = cyberpact.PAPAmber // PAP:RED never goes to sensors or other tools
	}
	if f.MaxTLP == cyberpact.TLPRed && *org == "" {
		return usageError("--max-tlp red needs --org: RED objects are exported only to an organisation that may see them")
	}
	if *types != "" {
		f.Types = strings.Split(*types, ",")
	}
	if *since != "" {
		t, err := time.Parse(time.RFC3339Nano, *since)
		if err != nil {
			return usageError("--since %q is not an RFC 3339 time such as 2025-01-31T00:00:00Z", *since)
		}
		f.ModifiedSince = t
	}
	opt, err := sensor.ParseOptions(func(p string) string {
		if p == "include_invalid" {
			return fmt.Sprint(*invalid)
		}
		return *q[p]
	})
	if err != nil {
		return usageError("--%s", strings.ReplaceAll(cyberpact.ErrorMessage(err), "_", "-"))
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if f.Viewer, err = optionalViewer(ctx, db, *org); err != nil {
		return err
	}
	if *audience != "" {
		_, au, err := releaseFlags(ctx, db, *org, *audience)
		if err != nil {
			return err
		}
		f.Audience = &au
	}
	switch *format {
	case "stix":
		w := stix.NewWriter(e.stdout)
		if err := db.EachObject(ctx, f, func(o *cyberpact.Object) error { return w.Write(o.Raw) }); err != nil {
			return err
		}
		return w.Close()
	case "misp":
		return exportMISP(ctx, db, f, e.stdout)
	case "navigator":
		l, err := sensor.BuildLayer(ctx, db, f, sensor.LayerSpec{Of: *of})
		if err != nil {
			return err
		}
		return sensor.WriteLayer(e.stdout, l)
	}
	if *all {
		return usageError("--all-versions is for --format stix: sensors load each indicator's latest version")
	}
	if *types != "" {
		return usageError("--type is for --format stix: sensor formats hold indicators, filtered by --kind")
	}
	f.Types, f.ExcludeRevoked = []string{"indicator"}, true
	if opt.LastSighted, err = match.LastSightings(ctx, db, f); err != nil {
		return err
	}
	st, err := sensor.Export(e.stdout, *format, func(fn func(*cyberpact.Object) error) error { return db.EachObject(ctx, f, fn) }, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "exported %d values of %d indicators (%d read)\n", st.Values, st.Exported, st.Indicators)
	for _, r := range sortedKeys(st.Skipped) {
		fmt.Fprintf(e.stderr, "  left out %d: %s\n", st.Skipped[r], r)
	}
	return nil
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
