// Command cyberpact is the threat-intelligence hub (cyberpact serve) and the
// tool an analyst runs against it (import, export, validate, get, search,
// stats, ...). Each subcommand lives in its own file: it parses its flags,
// wires the packages together and calls them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sqlite"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string // the arguments after the name
	help    string // what it does, in full
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a subcommand may touch: its standard streams, the process
// environment and the data directory it opens.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	isTTY  bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// exitError carries a process exit code with an optional message.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, isTTY: isTerminal(os.Stderr)}
	code := run(ctx, e, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code: 0 success, 1 a
// failure of the input or the work (rejected objects, invalid or missing
// files, not found, no match, a store that fails), 2 a usage error. Only
// pattern match differs, following grep: 2 for an invalid pattern or data.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printHelp(e.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "--help":
		name = "help"
	case "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "cyberpact: unknown command %q; run 'cyberpact help' for the list\n", name)
		return 2
	}
	err := c.run(ctx, e, args[1:])
	if err == nil {
		return 0
	}
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintf(e.stderr, "cyberpact %s: %s\n", name, ee.msg)
		}
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		return 0
	}
	// Every other failure, of the input or of the work (a missing file, a
	// store that cannot be opened), is 1: the codes are the documented
	// three.
	fmt.Fprintf(e.stderr, "cyberpact %s: %s\n", name, err)
	return 1
}

// newFlags returns a flag set for c that prints c's help on -h and usage
// errors as exit code 2.
func newFlags(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: cyberpact %s %s\n\n%s\n", c.name, c.usage, strings.TrimSpace(c.help))
		if hasFlags(fs) {
			fmt.Fprintln(e.stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseFlags parses args, flags and positional arguments in any order
// (get ID --versions, search T1059 --limit 3), turning a flag error into
// exit code 2. Afterwards fs.Args() are the positional arguments in the
// order given; every argument after "--" is positional, and so is "-".
// Every command parses its command line through it, so that all take
// flags in the same places.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return &exitError{code: 2}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			pos = append(pos, rest...) // after "--": all positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	// Parsing just "--" and the positional arguments sets no flag and
	// leaves them as fs.Args().
	return fs.Parse(append([]string{"--"}, pos...))
}

// usageError reports a wrong command line: exit code 2.
func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

// dataFlag adds --data and --store to fs. Both set where the store is, a
// data directory or a PostgreSQL URL, so the last one given counts.
func dataFlag(fs *flag.FlagSet) *string {
	p := fs.String("data", "", "data directory (default $CYBERPACT_DATA, else ./cyberpact-data)")
	fs.Func("store", "PostgreSQL store URL, postgres://user@host/db, instead of SQLite in the data directory (default $CYBERPACT_STORE)", func(s string) error {
		if !isStoreURL(s) {
			return fmt.Errorf("%q is not a postgres:// URL", s)
		}
		*p = s
		return nil
	})
	return p
}

// isStoreURL reports whether s names a PostgreSQL store rather than a data
// directory.
func isStoreURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// dataDir resolves the data directory: the flag, else CYBERPACT_DATA, else
// ./cyberpact-data.
// A PostgreSQL store is named by its URL without the password.
func (e *env) dataDir(flagValue string) string {
	if loc := e.storeURL(flagValue); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			return u.Redacted()
		}
		return "postgres"
	}
	if flagValue != "" {
		return flagValue
	}
	if d := e.getenv("CYBERPACT_DATA"); d != "" {
		return d
	}
	return "cyberpact-data"
}

// store is what the commands use of a store: the embedded SQLite store and
// the PostgreSQL store both are one.
type store interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
	cyberpact.AgreementService
	cyberpact.AuditLog
	cyberpact.StatusStore
	cyberpact.BodyChecker
	cyberpact.SourceStore
	cyberpact.AlertStore
	cyberpact.CrisisStore
	cyberpact.SessionStore
	cyberpact.PrivacyStore
	cyberpact.AnonymityStore
	cyberpact.SightingCountStore
	cyberpact.RetentionStore
	// AuditHead returns the number of entries of a whole audit log and the
	// last one's hash, or the Seq of the first broken entry.
	AuditHead(ctx context.Context) (entries int64, hash string, broken int64, err error)
}

var (
	_ store     = (*sqlite.DB)(nil)
	_ store     = (*postgres.DB)(nil)
	_ peerStore = (*sqlite.DB)(nil)
	_ peerStore = (*postgres.DB)(nil)
)

// storeURL returns the PostgreSQL URL the store flags or CYBERPACT_STORE
// name, "" for the embedded store. An explicit --data wins over
// CYBERPACT_STORE.
func (e *env) storeURL(dataFlag string) string {
	if isStoreURL(dataFlag) {
		return dataFlag
	}
	if dataFlag == "" {
		return e.getenv("CYBERPACT_STORE")
	}
	return ""
}

// openStore opens the PostgreSQL store when --store or CYBERPACT_STORE
// names one, else the embedded store in the data directory, creating it on
// first use.
func (e *env) openStore(ctx context.Context, dataFlag string) (store, error) {
	if u := e.storeURL(dataFlag); u != "" {
		// Peers' keys are sealed under a key file every serve process
		// shares: CYBERPACT_PEER_KEY_FILE, made on first use. Without it
		// the store works but keeps no peers.
		var opts []postgres.Option
		if f := e.getenv("CYBERPACT_PEER_KEY_FILE"); f != "" {
			opts = append(opts, postgres.PeerKeyFile(f))
		}
		return postgres.Open(ctx, u, opts...)
	}
	return sqlite.Open(ctx, filepath.Join(e.dataDir(dataFlag), "cyberpact.db"))
}

// openExistingStore opens the store as openStore does, for the commands
// that only read: an embedded store that does not exist yet is not
// created (see checkStoreExists).
func (e *env) openExistingStore(ctx context.Context, dataFlag string) (store, error) {
	if err := e.checkStoreExists(dataFlag); err != nil {
		return nil, err
	}
	return e.openStore(ctx, dataFlag)
}

// openStoreFor opens the store as openExistingStore does when existing
// (a command that only reads), else as openStore does.
func (e *env) openStoreFor(ctx context.Context, dataFlag string, existing bool) (store, error) {
	if existing {
		return e.openExistingStore(ctx, dataFlag)
	}
	return e.openStore(ctx, dataFlag)
}

// checkStoreExists returns ENOTFOUND, naming the data directory and how it
// was chosen, when the embedded store's database is not there, so that a
// command that only reads fails on a mistyped --data instead of creating
// and reporting an empty hub. A PostgreSQL store is not checked: its URL
// names a database that exists or fails to open.
func (e *env) checkStoreExists(dataFlag string) error {
	if e.storeURL(dataFlag) != "" {
		return nil
	}
	dir := e.dataDir(dataFlag)
	db := filepath.Join(dir, "cyberpact.db")
	if _, err := os.Stat(db); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return cyberpact.Errorf(cyberpact.EINVALID, "data directory %s: %v", dir, err)
	}
	from := "--data"
	switch {
	case dataFlag != "":
	case e.getenv("CYBERPACT_DATA") != "":
		from = "$CYBERPACT_DATA"
	default:
		from = "the default, as neither --data nor $CYBERPACT_DATA is set"
	}
	what := "there is no data directory " + dir
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		what = "the directory " + dir + " holds no hub (no cyberpact.db)"
	}
	return cyberpact.Errorf(cyberpact.ENOTFOUND, "%s (%s): give the hub's directory with --data DIR or $CYBERPACT_DATA; commands that write (import, serve, org create, ...) make a new one", what, from)
}

// openExistingPeerStore opens the store as openPeerStore does, for the
// commands that only read its peers: it creates no store (see
// checkStoreExists).
func (e *env) openExistingPeerStore(ctx context.Context, dataFlag string) (peerStore, error) {
	if err := e.checkStoreExists(dataFlag); err != nil {
		return nil, err
	}
	return e.openPeerStore(ctx, dataFlag)
}

// peerStore is a store that also keeps federation peers.
type peerStore interface {
	store
	cyberpact.PeerStore
}

// openPeerStore opens the store as openStore does, for the commands that
// need its peers. Both stores keep peers; on PostgreSQL, reading or adding
// one needs CYBERPACT_PEER_KEY_FILE (EINVALID without it).
func (e *env) openPeerStore(ctx context.Context, dataFlag string) (peerStore, error) {
	db, err := e.openStore(ctx, dataFlag)
	if err != nil {
		return nil, err
	}
	ps, ok := db.(peerStore)
	if !ok {
		db.Close()
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "federation peers are kept only by the embedded store so far")
	}
	return ps, nil
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "cyberpact: the partners' threat-intelligence hub (STIX 2.1, TAXII 2.1)")
	fmt.Fprintln(w, "\nusage: cyberpact COMMAND [flags] [arguments]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'cyberpact help COMMAND' for one command's flags and details.")
}

func init() {
	register(&command{
		name:    "help",
		summary: "list the commands, or explain one",
		usage:   "[COMMAND]",
		help:    "Without an argument, lists the commands; with one, explains it and its flags.",
		run: func(ctx context.Context, e *env, args []string) error {
			if len(args) == 0 {
				printHelp(e.stdout)
				return nil
			}
			if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
				fmt.Fprintf(e.stdout, "usage: cyberpact help [COMMAND]\n\nWithout an argument, lists the commands; with one, explains it and its flags.\n")
				return nil
			}
			c, ok := commands[args[0]]
			if !ok {
				return usageError("unknown command %q", args[0])
			}
			// Running the command with -h prints its usage and flags.
			e2 := *e
			e2.stderr = e.stdout
			return c.run(ctx, &e2, []string{"-h"})
		},
	})
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
