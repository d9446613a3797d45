package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/federation"
)

func init() {
	register(&command{
		name:    "sync",
		summary: "synchronise with a peer hub now",
		usage:   "NAME|--all [--data DIR] [--timeout 1m] [--json]",
		help: `Runs one synchronisation with the peer NAME (see 'cyberpact peer'), or with
every peer (--all): pulls what the peer has added since the last pull, then
pushes what this hub has added since the last push, as the peer's direction
says and under the sharing rule at the border. A run cut short (the peer
gone, the connection cut, an interrupt) resumes where its last committed
page ended; nothing is lost or stored twice. Prints what each run did
(pulled, withheld on pull, pushed, withheld on push, and not pushed because
the peer's own organisation produced it, as 'peer status' counts); exits
1 if a run failed ('cyberpact peer status' shows the error and the objects
that failed, which the next run tries again).`,
		run: runSync,
	})
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["sync"])
	data := dataFlag(fs)
	all := fs.Bool("all", false, "synchronise with every peer")
	timeout := fs.Duration("timeout", time.Minute, "timeout of each request to a peer")
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
	s := &federation.Syncer{Store: db, Peers: db, Audit: db, Timeout: *timeout,
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
	var results []*federation.Result
	failed := false
	for _, p := range peers {
		res, err := s.Sync(ctx, p)
		results = append(results, res)
		if err != nil {
			failed = true
			fmt.Fprintf(e.stderr, "%s: %s\n", p.Name, err)
		}
		if !*asJSON {
			fmt.Fprintf(e.stdout, "%s: %d pulled, %d already present, %d withheld on pull; %d pushed, %d withheld on push, %d not pushed as the peer's own; %d failed, %d retried; %d requests in %s\n",
				res.Peer, res.Pulled, res.Present, res.WithheldPull, res.Pushed, res.WithheldPush, res.PeerOwn, res.Failed, res.Retried, res.Requests, res.Duration.Round(time.Millisecond))
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
