package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/federation"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/cyberpact/cyberpact/taxii"
)

func init() {
	register(&command{
		name:    "sync",
		summary: "synchronise with a peer hub now",
		usage:   "NAME|--all [--data DIR] [--timeout 1m] [--max-pages N] [--max-objects N] [--run-time 10m] [--status-wait 2m] [--max-object-size BYTES] [--max-page-bytes BYTES] [--json]",
		help: `Runs one synchronisation with the peer NAME (see 'cyberpact peer'), or with
every peer (--all): pulls what the peer has added since the last pull, then
pushes what this hub has added since the last push, as the peer's direction
says and under the sharing rule at the border. A run cut short (the peer
gone, the connection cut, an interrupt) resumes where its last committed
page ended; nothing is lost or stored twice. Prints what each run did
(pulled, withheld on pull, pushed, withheld on push, and not pushed because
the peer's own organisation produced it, as 'peer status' counts); exits
1 if a run failed ('cyberpact peer status' shows the error and the objects
that failed, which the next run tries again). With --all the peers run at
once, each within its own limits.

Each run is bounded, so that a peer that never stops cannot hold it: at most
--max-pages reads of objects (default 1000), --max-objects objects read
(default 1000000; a page holding more is not stored), --run-time of wall
time (default 10m; a page being read then is not stored, those before it
are) and --max-page-bytes of one page's body (default 1 GiB). Each page is
read into an unnamed temporary file ($TMPDIR) before its import starts, so
a slow peer never holds the store, and imported object by object, so memory
follows the largest object rather than the page. A run stopped at a limit fails, saying which, and the next one resumes
at the saved cursor; a peer that answers a next token it already gave in the
same run is stopped there as a loop. A pushed batch whose status stays pending
longer than --status-wait (default 2m) is kept as failures and sent again. An
object larger than --max-object-size bytes (default 16 MiB) or nesting deeper
than 100 levels fails alone; the objects beside it are stored. A 429 or 503
with Retry-After (seconds or a date) is waited out up to a minute, else the
run fails and 'serve --sync-interval' leaves the peer alone until then.
Redirects are followed only within the peer's origin (scheme, host, port) and
never from https to http: the credentials and pushed objects never go
elsewhere, and the run fails saying so. A kept failure read again by id takes
only that version from the answer; anything else is counted as stray and
ignored.`,
		run: runSync,
	})
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["sync"])
	data := dataFlag(fs)
	all := fs.Bool("all", false, "synchronise with every peer")
	timeout := fs.Duration("timeout", time.Minute, "timeout of each request to a peer")
	limits := syncLimitFlags(fs, "")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *all {
		if err := wantArgs(pos, 0, ""); err != nil {
			return err
		}
	} else if err := wantArgs(pos, 1, "peer NAME (or --all)"); err != nil {
		return err
	}
	db, err := e.openPeerStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	lim, err := limits()
	if err != nil {
		return err
	}
	s := &federation.Syncer{Store: db, Peers: db, Audit: db, Timeout: *timeout, Limits: lim,
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	var peers []*cyberpact.Peer
	if *all {
		if peers, err = db.Peers(ctx); err != nil {
			return err
		}
	} else {
		p, err := db.PeerByName(ctx, pos[0])
		if err != nil {
			return err
		}
		peers = []*cyberpact.Peer{p}
	}
	// Each peer runs in its own goroutine within its own limits.
	results := make([]*federation.Result, len(peers))
	errs := make([]error, len(peers))
	var wg sync.WaitGroup
	for i, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Sync(ctx, p)
		}()
	}
	wg.Wait()
	failed := false
	for i, res := range results {
		if errs[i] != nil {
			failed = true
			fmt.Fprintf(e.stderr, "%s: %s\n", peers[i].Name, errs[i])
		}
		if !*asJSON {
			stray := ""
			if res.Stray > 0 {
				stray = fmt.Sprintf(", %d stray objects ignored", res.Stray)
			}
			fmt.Fprintf(e.stdout, "%s: %d pulled, %d already present, %d withheld on pull; %d pushed, %d withheld on push, %d not pushed as the peer's own; %d failed, %d retried%s; %d requests in %s\n",
				res.Peer, res.Pulled, res.Present, res.WithheldPull, res.Pushed, res.WithheldPush, res.PeerOwn, res.Failed, res.Retried, stray, res.Requests, res.Duration.Round(time.Millisecond))
		}
	}
	if *asJSON {
		if err := printJSON(e, nonNil(results)); err != nil {
			return err
		}
	}
	if failed {
		return &exitError{code: 1}
	}
	return nil
}

// syncLimitFlags defines the flags of federation.Limits, each name after
// prefix ("sync-" on serve), and returns a function that reads them once
// the flags are parsed.
func syncLimitFlags(fs *flag.FlagSet, prefix string) func() (federation.Limits, error) {
	pages := fs.Int(prefix+"max-pages", federation.DefaultMaxPages, "most reads of objects from a peer in one run")
	objects := fs.Int(prefix+"max-objects", federation.DefaultMaxObjects, "most objects read from a peer in one run")
	runTime := fs.Duration(prefix+"run-time", federation.DefaultRunTime, "longest run with one peer")
	statusWait := fs.Duration(prefix+"status-wait", taxii.DefaultStatusWait, "longest wait for a pushed batch's pending status")
	objectSize := fs.Int(prefix+"max-object-size", stix.DefaultMaxObjectSize, "largest object taken from a peer, in bytes")
	pageBytes := fs.Int64(prefix+"max-page-bytes", federation.DefaultPageBytes, "largest page body taken from a peer, in bytes")
	return func() (federation.Limits, error) {
		for name, v := range map[string]int64{"max-pages": int64(*pages), "max-objects": int64(*objects), "run-time": int64(*runTime),
			"status-wait": int64(*statusWait), "max-object-size": int64(*objectSize), "max-page-bytes": *pageBytes} {
			if v <= 0 {
				return federation.Limits{}, usageError("--%s%s must be positive", prefix, name)
			}
		}
		return federation.Limits{Pages: *pages, Objects: *objects, Duration: *runTime, StatusWait: *statusWait, MaxObjectSize: *objectSize, PageBytes: *pageBytes}, nil
	}
}
