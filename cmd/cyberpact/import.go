package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
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
		usage:   "[--data DIR] [--partial] [--producer ORG] [--audience all|org|group:ID] FILE... (- for stdin)",
		help: `Imports each file, a STIX 2.1 or 2.0 bundle (2.0 is upgraded to 2.1), into
the data directory. Each file goes in whole or not at all: if any object is
rejected, nothing from that file is stored (unless --partial). Re-importing
objects already stored adds nothing; the same id and modified with different
content is a conflict and is rejected.

Every version imported is released as --producer (0, the default, is the
hub itself, e.g. for reference data such as ATT&CK) to --audience: all
members (the default), the producer organisation alone, or one sharing
group. TLP:RED is never shared with all members: a file holding TLP:RED
objects needs --audience org or group:ID.

Prints a summary per file (added, already present, rejected with the file,
line, object id, JSON path and reason); exits 1 if anything was rejected.`,
		run: runImport,
	})
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["import"])
	data := dataFlag(fs)
	partial := fs.Bool("partial", false, "store the valid objects of a file even when others are rejected")
	maxObject := fs.Int("max-object-size", stix.DefaultMaxObjectSize, "largest accepted object, in bytes of compact JSON")
	producer := fs.Int64("producer", 0, "the organisation that produced the objects (0: the hub itself)")
	audience := fs.String("audience", "all", "who the objects are shared with: all, org (the producer alone) or group:ID")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	opts := cyberpact.ImportOptions{Partial: *partial, Producer: *producer}
	switch a := *audience; {
	case a == "all":
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceAll}
	case a == "org":
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
	case strings.HasPrefix(a, "group:"):
		g, err := strconv.ParseInt(strings.TrimPrefix(a, "group:"), 10, 64)
		if err != nil || g <= 0 {
			return usageError("--audience %q: the group must be a positive number, as in group:3", a)
		}
		opts.Audience = cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g}
	default:
		return usageError("--audience %q must be all, org or group:ID", a)
	}
	if fs.NArg() == 0 {
		return usageError("no files to import; give one or more bundle files, or - for stdin")
	}
	db, err := e.openStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()

	failed := false
	var total cyberpact.ImportResult
	for _, name := range fs.Args() {
		res, err := importFile(ctx, e, db, name, opts, *maxObject)
		if err != nil {
			if cyberpact.ErrorCode(err) == cyberpact.EINTERNAL {
				return err
			}
			fmt.Fprintf(e.stderr, "%s: %s; nothing stored\n", name, err)
			failed = true
			continue
		}
		total.Added += res.Added
		total.Present += res.Present
		total.Rejected = append(total.Rejected, res.Rejected...)
		if len(res.Rejected) > 0 {
			failed = true
		}
	}
	if len(fs.Args()) > 1 {
		fmt.Fprintf(e.stdout, "total: added %d, already present %d, rejected %d\n", total.Added, total.Present, len(total.Rejected))
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// importFile imports one bundle and prints its summary.
func importFile(ctx context.Context, e *env, db cyberpact.ObjectStore, name string, opts cyberpact.ImportOptions, maxObject int) (*cyberpact.ImportResult, error) {
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
	r := stix.NewReader(in)
	r.MaxObjectSize = maxObject
	dec := stix.NewDecoderOf(r)
	defer dec.Close()
	res, err := db.Import(ctx, dec.Next, opts)
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
	}
	fmt.Fprintf(e.stdout, "%s: added %d, already present %d, rejected %d objects in %.2fs%s\n",
		name, res.Added, res.Present, rejectedObjects(res.Rejected), elapsed.Seconds(), status)
	return res, nil
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
