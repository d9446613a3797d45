package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/schollz/progressbar/v3"
)

func init() {
	register(&command{
		name:    "import",
		summary: "import STIX bundles into the hub",
		usage:   "[--data DIR] [--partial] [--org ORG [--anonymous | --share counts]] [--audience all|org|group:NAME] [--tlp LEVEL] [--on-conflict reject|keep-stored|replace] [--format auto|stix|misp] FILE... (- for stdin)",
		help: `Imports each file, a STIX 2.1 or 2.0 bundle (2.0 is upgraded to 2.1) or MISP
JSON events (detected by their "Event" key, or --format misp), into the data
directory. MISP events are converted to STIX as misp-stix maps them (see
misp/MAPPING.md); without --audience their distribution (the narrowest of
the event's and of its attributes' and objects') chooses the release:
organisation only stays with --org, a sharing group goes to the hub group of
the same name, the community levels go to all members. Each file goes in whole or not at all: if any object is
rejected, nothing from that file is stored (unless --partial). Re-importing
objects already stored adds nothing.

The same id and modified with different content is a conflict, settled by
--on-conflict: reject (the default) refuses the object, naming the policy;
keep-stored leaves the stored content and counts the object as kept;
replace stores the new content in place of the stored version, which is
deleted, and lists it in the summary and the import's audit entry. Either
applies only to the producer's own holding of the id (--org's, or the
hub's): a version of another organisation's object is refused whatever the
policy. MITRE ships some objects in several of its sets with the same
modified and different x_mitre_domains, so its sets go in one after the
other with, for instance:

    cyberpact import enterprise-attack.json
    cyberpact import --on-conflict keep-stored mobile-attack.json ics-attack.json

Every version imported is released as produced by --org (by default the hub
itself, as for reference data such as ATT&CK) to --audience: all members,
the producer organisation alone, or one sharing group (create organisations
and groups with 'cyberpact org' and 'cyberpact group'). Without --audience,
objects go to all members except TLP:RED ones, which stay with the producer
alone; an explicit --audience all refuses TLP:RED objects, which may only
go to one organisation or one group. Objects without a TLP marking are
treated as --tlp (TLP:AMBER by default); a --tlp given on the command line
is also written into them, as its TLP 2.0 marking definition added to
object_marking_refs, so that the level travels with them to peers and
exports (without --tlp they are stored as they came).

An object that refers to a marking definition refused in the same file
(e.g. rel_nations ["uk"]: GB is the code) or unknown to the hub (neither
stored where --org may see it nor in the file) is rejected, naming the
definition: it is never stored with less restriction than its markings
ask for. Marking definitions later in the file than the objects they mark
count (up to 16 MB ahead).

With --anonymous, --org publishes anonymously: the hub stands as producer
(created_by_ref names the hub's identity, where_sighted_refs are left out,
identity objects are refused), only the hub's admins and the audit log know
who; --org keeps managing the objects (a later --anonymous import of a new
version, a TAXII DELETE). With --share counts, the file's sightings are
shared only as k-anonymous counts per sector (GET
/api/v1/objects/ID/sighting-counts): each stays with --org.

Prints a summary per file (added, already present, rejected with the file,
line, object id, JSON path and reason); exits 1 if anything was rejected.
A full disk stores nothing of the file that met it: the import stops there
and exits 1, saying the disk is full.
Each file that adds anything is recorded in the audit log as a write by
"cli" (see 'cyberpact audit').`,
		run: runImport,
	})
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["import"])
	data := dataFlag(fs)
	partial := fs.Bool("partial", false, "store the valid objects of a file even when others are rejected")
	maxObject := fs.Int("max-object-size", stix.DefaultMaxObjectSize, "largest accepted object, in bytes of compact JSON")
	org := fs.String("org", "", "the organisation that produced the objects (default: the hub itself); its sightings are shared like what they sight")
	audience := fs.String("audience", "", "who the objects are shared with: all, org (the producer alone) or group:NAME (default: all members, TLP:RED objects to the producer alone)")
	tlp := fs.String("tlp", "amber", "TLP level of objects that carry no TLP marking")
	format := fs.String("format", "auto", "input format: auto (MISP JSON is recognised by its keys), stix or misp")
	onConflict := fs.String("on-conflict", "reject", "a version stored with the same id and modified and different content: reject, keep-stored or replace")
	anonymous := fs.Bool("anonymous", false, "publish anonymously as --org: the hub stands as producer")
	share := fs.String("share", "", "counts: share the sightings only as k-anonymous counts per sector")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "auto" && *format != "stix" && *format != "misp" {
		return usageError("--format %q must be auto, stix or misp", *format)
	}
	var err error
	opts := cyberpact.ImportOptions{Partial: *partial}
	if opts.OnConflict, err = cyberpact.ParseConflictPolicy(*onConflict); err != nil {
		return usageError("--on-conflict: %s", cyberpact.ErrorMessage(err))
	}
	level, err := cyberpact.ParseTLP(*tlp)
	if err != nil {
		return usageError("--tlp: %s", cyberpact.ErrorMessage(err))
	}
	opts.DefaultTLP = level
	// A level given on the command line is written into the objects that
	// carry none, so that it travels with them to peers; the default
	// AMBER is not, keeping an import of unmarked objects lossless.
	mark := cyberpact.TLPUnknown
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tlp" {
			mark = level
		}
	})
	if fs.NArg() == 0 {
		return usageError("no files to import; give one or more bundle files, or - for stdin")
	}
	switch {
	case *share != "" && *share != "counts":
		return usageError("--share %q: the only value is counts", *share)
	case (*anonymous || *share != "") && *org == "":
		return usageError("--anonymous and --share counts need --org: the organisation that publishes or reports")
	case *anonymous && *share != "":
		return usageError("--anonymous and --share counts do not go together: counted sightings are seen by no one already")
	case (*anonymous || *share != "") && *format == "misp":
		return usageError("--anonymous and --share counts take STIX bundles, not MISP events")
	}
	// The heap is mostly objects on their way from the decoder to the
	// store, short-lived: a looser heap target than Go's default halves
	// the collections. A million-object import took 25.1 s on average
	// with GOGC=200 against 26.8 s with the default (four alternated runs
	// each; 400 was no faster) for about 75 MB more peak RSS. A GOGC the
	// user set wins.
	if e.getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if opts.Producer, opts.Audience, err = releaseFlags(ctx, db, *org, *audience); err != nil {
		return err
	}

	// Objects imported as an organisation are that organisation's
	// reports: its sightings are released like what they sight.
	var viewer *cyberpact.Viewer
	if *org != "" {
		if viewer, err = orgViewer(ctx, db, *org); err != nil {
			return err
		}
	}

	failed := false
	var total cyberpact.ImportResult
	for _, name := range fs.Args() {
		if viewer != nil {
			opts.ReleaseFor = cyberpact.SightingReleases(ctx, db, *viewer)
		}
		mode := importMode{viewer: viewer, anonymous: *anonymous, counts: *share == "counts"}
		res, err := importFile(ctx, e, db, name, opts, mark, *maxObject, *format, mode)
		if err != nil {
			switch cyberpact.ErrorCode(err) {
			case cyberpact.EINTERNAL:
				return err
			case cyberpact.EFULL:
				// Every later file would meet the same full disk.
				return &exitError{code: 1, msg: fmt.Sprintf("%s: %s (%v)", name, cyberpact.FullMessage, err)}
			}
			fmt.Fprintf(e.stderr, "%s: %s; nothing stored\n", name, err)
			failed = true
			continue
		}
		total.Added += res.Added
		total.Present += res.Present
		total.Kept += res.Kept
		if res.Committed {
			total.Replaced = append(total.Replaced, res.Replaced...)
			total.Committed = true
		}
		total.Rejected = append(total.Rejected, res.Rejected...)
		if len(res.Rejected) > 0 {
			failed = true
		}
	}
	if len(fs.Args()) > 1 {
		fmt.Fprintf(e.stdout, "total: added %d, already present %d%s, rejected %d\n", total.Added, total.Present, conflictCounts(&total), len(total.Rejected))
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// importFile imports one bundle and prints its summary.
// Objects without a TLP marking get mark's, written into them, unless it
// is TLPUnknown (--tlp not given).
// importMode is how an import by an organisation is published: under
// its name, anonymously, or as counted sightings.
type importMode struct {
	viewer    *cyberpact.Viewer
	anonymous bool
	counts    bool
}

// run imports next as the mode says.
func (m importMode) run(ctx context.Context, db store, who cyberpact.Actor, next cyberpact.ObjectSource, opts cyberpact.ImportOptions, about string) (*cyberpact.ImportResult, error) {
	switch {
	case m.anonymous:
		hub, err := db.HubIdentity(ctx)
		if err != nil {
			return nil, err
		}
		return cyberpact.AnonymousImport(ctx, db, db, who, stix.Anonymise(next, hub), opts, about)
	case m.counts:
		return cyberpact.CountedImport(ctx, db, db, db, who, *m.viewer, next, opts, about)
	}
	return cyberpact.AuditedImport(ctx, db, db, who, next, opts, about)
}

func importFile(ctx context.Context, e *env, db store, name string, opts cyberpact.ImportOptions, mark cyberpact.TLP, maxObject int, format string, mode importMode) (*cyberpact.ImportResult, error) {
	var in io.Reader
	var size int64 = -1
	if name == "-" {
		in = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
		in = f
	}
	if e.isTTY {
		bar := progressbar.DefaultBytes(size, "importing "+name)
		defer bar.Close()
		in = io.TeeReader(in, bar)
	}
	start := time.Now()
	in, isMISP, err := detectMISP(in, format)
	if err != nil {
		return nil, err
	}
	events := 0
	if isMISP {
		if in, opts, events, err = mispInput(ctx, db, in, opts); err != nil {
			return nil, err
		}
	}
	r := stix.NewReader(in)
	r.MaxObjectSize = maxObject
	dec := stix.NewDecoderOf(r)
	defer dec.Close()
	who := cyberpact.Actor{Name: "cli", Org: opts.Producer, Via: "cli"}
	next := dec.Next
	if mark != cyberpact.TLPUnknown {
		next = stix.MarkUnmarked(next, mark)
	}
	res, err := mode.run(ctx, db, who, next, opts, "file "+name)
	// Another process holding the hub's writer is waited for: the store
	// takes the writer before it reads any input, so the import can begin
	// again from the same input.
	for waited := false; cyberpact.ErrorCode(err) == cyberpact.EBUSY && ctx.Err() == nil; waited = true {
		if !waited {
			fmt.Fprintf(e.stderr, "cyberpact import: %s: another process is writing to this hub; waiting for it to finish (interrupt to give up)\n", name)
		}
		res, err = mode.run(ctx, db, who, next, opts, "file "+name)
	}
	if err != nil {
		return nil, err
	}
	for _, rj := range res.Rejected {
		fmt.Fprintf(e.stderr, "%s:%d: %s\n", name, rj.Line, rj.Error())
	}
	elapsed := time.Since(start)
	status := ""
	switch {
	case len(res.Rejected) > 0 && !res.Committed:
		status = fmt.Sprintf("; nothing stored (would have added %d)", res.Added)
		res.Added = 0
	case dec.Upgraded > 0:
		status = fmt.Sprintf("; %d upgraded from STIX 2.0", dec.Upgraded)
	case isMISP:
		status = fmt.Sprintf("; from %d MISP events, released to %s", events, releaseName(opts.Audience))
	}
	fmt.Fprintf(e.stdout, "%s: added %d, already present %d%s, rejected %d objects in %.2fs%s\n",
		name, res.Added, res.Present, conflictCounts(res), rejectedObjects(res.Rejected), elapsed.Seconds(), status)
	if res.Committed {
		for _, r := range res.Replaced {
			fmt.Fprintf(e.stdout, "%s: replaced %s\n", name, r)
		}
	}
	return res, nil
}

// conflictCounts says what the conflict policy did, when it did anything:
// conflicting versions kept as stored, and stored versions replaced.
func conflictCounts(res *cyberpact.ImportResult) string {
	s := ""
	if res.Kept > 0 {
		s += fmt.Sprintf(", conflicting kept as stored %d", res.Kept)
	}
	if len(res.Replaced) > 0 && res.Committed {
		s += fmt.Sprintf(", replaced %d", len(res.Replaced))
	}
	return s
}

// rejectedObjects counts the distinct objects among rejections (one object
// may break several rules).
func rejectedObjects(rs []*cyberpact.Rejection) int {
	seen := map[[2]int]bool{}
	for _, r := range rs {
		seen[[2]int{r.Index, r.Line}] = true
	}
	return len(seen)
}

// releaseFlags resolves --org and --audience: the producer organisation (0
// for the hub itself) and the audience (zero: the store's default, all
// members with TLP:RED kept to the producer).
func releaseFlags(ctx context.Context, accounts cyberpact.AccountService, org, audience string) (int64, cyberpact.Audience, error) {
	var producer int64
	if org != "" {
		o, err := accounts.OrgByName(ctx, org)
		if err != nil {
			return 0, cyberpact.Audience{}, fmt.Errorf("--org: %w", err)
		}
		producer = o.ID
	}
	switch {
	case audience == "":
		return producer, cyberpact.Audience{}, nil
	case audience == "all":
		return producer, cyberpact.Audience{Kind: cyberpact.AudienceAll}, nil
	case audience == "org":
		if producer == 0 {
			return 0, cyberpact.Audience{}, usageError("--audience org needs --org: the organisation the objects stay with")
		}
		return producer, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, nil
	case strings.HasPrefix(audience, "group:"):
		g, err := accounts.GroupByName(ctx, strings.TrimPrefix(audience, "group:"))
		if err != nil {
			return 0, cyberpact.Audience{}, fmt.Errorf("--audience: %w", err)
		}
		return producer, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, nil
	}
	return 0, cyberpact.Audience{}, usageError("--audience %q must be all, org or group:NAME", audience)
}
