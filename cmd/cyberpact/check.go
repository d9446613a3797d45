package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

func init() {
	register(&command{
		name:    "check",
		summary: "find stored object versions whose body is damaged",
		usage:   "[--data DIR] [--json]",
		help: `Reads every stored body and lists the versions whose body does not match the
checksum kept with it (CRC-32C, written at import; versions stored before
checksums were kept are not checked). A damaged version is never served:
every read of it fails, naming it. Exits 1 when any is damaged; restore them
with 'cyberpact repair --from FILE'.`,
		run: runCheck,
	})
	register(&command{
		name:    "repair",
		summary: "restore damaged object versions from a good copy",
		usage:   "--from FILE [--data DIR] [--json]",
		help: `Restores damaged versions (see 'cyberpact check') from a bundle holding good
copies, such as the file they were imported from or another hub's export:
a version is restored only from an object with the same id and modified
whose body has the checksum kept for the damaged one, so that exactly what
was stored comes back. Prints the versions restored; exits 1 when damaged
versions remain.`,
		run: runRepair,
	})
}

func runCheck(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["check"])
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	damaged, err := db.DamagedBodies(ctx)
	if err != nil {
		return err
	}
	return reportDamaged(e, *asJSON, damaged, "damaged")
}

func runRepair(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["repair"])
	data := dataFlag(fs)
	from := fs.String("from", "", "a bundle holding good copies of the damaged versions")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	if *from == "" {
		return usageError("give the good copies with --from FILE")
	}
	f, err := os.Open(*from)
	if err != nil {
		return cyberpact.Errorf(cyberpact.EINVALID, "%v", err)
	}
	defer f.Close()
	var good []*cyberpact.Object
	dec := stix.NewDecoder(f)
	defer dec.Close()
	for {
		o, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "%s: %v", *from, err)
		}
		good = append(good, o)
	}
	db, err := e.openExistingStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	repaired, err := db.RepairBodies(ctx, good)
	if err != nil {
		return err
	}
	if err := reportDamaged(e, *asJSON, repaired, "restored"); err != nil && *asJSON {
		return err
	}
	left, err := db.DamagedBodies(ctx)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		for _, d := range left {
			fmt.Fprintf(e.stderr, "still damaged: %s version %s (seq %d)\n", d.ID, d.Modified, d.Seq)
		}
		return &exitError{code: 1, msg: fmt.Sprintf("%d damaged versions remain: give good copies of them with --from", len(left))}
	}
	return nil
}

// reportDamaged prints versions (damaged or restored, as what says) and
// returns an exit status of 1 for damaged ones.
func reportDamaged(e *env, asJSON bool, versions []cyberpact.DamagedVersion, what string) error {
	if asJSON {
		if err := printJSON(e, nonNil(versions)); err != nil {
			return err
		}
	} else {
		for _, d := range versions {
			fmt.Fprintf(e.stdout, "%s: %s version %s (seq %d)\n", what, d.ID, d.Modified, d.Seq)
		}
		if len(versions) == 0 && what == "damaged" {
			fmt.Fprintln(e.stdout, "every stored body matches its checksum")
		}
	}
	if what == "damaged" && len(versions) > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d damaged versions: restore them with 'cyberpact repair --from FILE'", len(versions))}
	}
	return nil
}
