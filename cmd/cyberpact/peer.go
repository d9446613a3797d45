package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
)

var peerSubs = []*subcommand{
	{
		name:  "add",
		usage: "NAME --url URL --collection ID --key KEY [--user U] [--direction pull|push|both] [--audience all|org|group:NAME] [--org ORG] [--page-size N] [--data DIR]",
		help: `Links this hub to another over TAXII 2.1. --url is the peer's TAXII API root
(https://hub.example/taxii2/api1/), --collection the id of the collection
read (pull) and written (push) there; --user and --key are the credentials
of the account the peer made for this hub (a "sync" user): HTTP Basic with
both, a Bearer token with --key alone. --key - reads the key from standard
input, keeping it out of the shell's history. The key is stored sealed
(AES-256-GCM) under cyberpact-peers.key in the data directory and never
printed or logged. With a PostgreSQL store (--store), the sealing key is the
file CYBERPACT_PEER_KEY_FILE names (made on first use): every serve process
on the database needs a copy of the same file.

What is pulled goes to --audience here (all members, one sharing group, or
--org alone) and is attributed to --org, an organisation that stands for
the peer hub. The sharing rule at the border: TLP:RED and TLP:AMBER+STRICT
never cross; TLP:AMBER crosses only with a peer whose audience is the
object's sharing group (never for all members); an organisation's private
objects never leave; nothing is pushed back to the peer it came from.

For a peer without a live connection, the same rule applies to the files of
'cyberpact bundle' (its URL and key are then not used).`,
		run: runPeerAdd,
	},
	{
		name:  "list",
		usage: "[--data DIR] [--json]",
		help:  "Lists the peers by name (never their keys).",
		run:   runPeerList,
	},
	{
		name:  "remove",
		usage: "NAME [--data DIR]",
		help:  "Removes a peer with its sync state and failures; the provenance of what it brought stays.",
		run:   runPeerRemove,
	},
	{
		name:  "status",
		usage: "[NAME] [--data DIR] [--json]",
		help: `Shows where synchronisation with each peer (or one) stands: the last run and
the last success, how long ago that was (lag), failed runs in a row and of
all runs, the last error with when it happened (kept after a success, for
the record), the pull cursor, counts pulled and withheld on pull (read from
the peer, not for the audience it stands for here), pushed and withheld on
push (kept here by the sharing rule), and not pushed as the peer's own
(produced by the peer's organisation: what was pulled from it or added
through its account), stray objects (answers to a read by id that were not
the version asked for, never stored), a Retry-After the peer asked for, and
each object version that failed, with why (they are tried again on every
run).`,
		run: runPeerStatus,
	},
}

func init() {
	registerGroup("peer", "add, list, remove peer hubs and show their sync status",
		"Manages the other hubs this one exchanges intelligence with over TAXII 2.1 ('cyberpact sync' runs one now; 'cyberpact serve --sync-interval' runs them all on a schedule).\n"+
			"Adding and removing peers is recorded in the audit log with actor \"cli\".\n", peerSubs)
}

func runPeerAdd(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	url := fs.String("url", "", "the peer's TAXII API root URL")
	collection := fs.String("collection", "", "the id of the peer's collection")
	user := fs.String("user", "", "user name at the peer (HTTP Basic); empty for a Bearer key")
	key := fs.String("key", "", "API key at the peer; - reads it from standard input")
	direction := fs.String("direction", "pull", "pull, push or both")
	audience := fs.String("audience", "all", "who receives what is pulled: all, org or group:NAME")
	org := fs.String("org", "", "the organisation pulled objects are attributed to (one standing for the peer hub)")
	pageSize := fs.Int("page-size", 0, "objects per request (default 5000)")
	pos, err := positional(fs, args, 1, "peer NAME")
	if err != nil {
		return err
	}
	switch {
	case *url == "":
		return usageError("--url is required: the peer's TAXII API root")
	case *collection == "":
		return usageError("--collection is required: the id of the peer's collection")
	case *key == "":
		return usageError("--key is required: the key of this hub's account at the peer (- to read it from standard input)")
	}
	dir, err := cyberpact.ParseSyncDirection(*direction)
	if err != nil {
		return usageError("--direction: %s", cyberpact.ErrorMessage(err))
	}
	if err := keyFromStdin(e, key); err != nil {
		return err
	}
	db, err := e.openPeerStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	producer, aud, err := releaseFlags(ctx, db, *org, *audience)
	if err != nil {
		return err
	}
	p := &cyberpact.Peer{Name: pos[0], URL: *url, Collection: *collection, User: *user, Key: *key,
		Direction: dir, Audience: aud, Org: producer, PageSize: *pageSize}
	if err := db.CreatePeer(ctx, p, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "peer %s added: %s %s collection %s, audience %s\n", p.Name, p.Direction, p.URL, p.Collection, *audience)
	return nil
}

func runPeerList(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, err := e.openExistingPeerStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	peers, err := db.Peers(ctx)
	if err != nil {
		return err
	}
	names, err := audienceNames(ctx, db)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]*peerJSON, len(peers))
		for i, p := range peers {
			out[i] = names.peerJSON(p)
		}
		return printJSON(e, out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIRECTION\tURL\tCOLLECTION\tUSER\tAUDIENCE\tORG")
	for _, p := range peers {
		user := p.User
		if user == "" {
			user = "(bearer)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Direction, p.URL, p.Collection, user, names.audience(p.Audience), names.org(p.Org))
	}
	return tw.Flush()
}

func runPeerRemove(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "peer NAME")
	if err != nil {
		return err
	}
	db, err := e.openPeerStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.DeletePeer(ctx, pos[0], cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "peer %s removed\n", pos[0])
	return nil
}

// peerJSON is a peer as --json prints it: its audience and organisation
// by name, as peer add takes them ("group:NAME"), not by id.
type peerJSON struct {
	*cyberpact.Peer
	Audience string `json:"audience"`
	OrgName  string `json:"org_name"`
}

func (n *names) peerJSON(p *cyberpact.Peer) *peerJSON {
	return &peerJSON{Peer: p, Audience: n.audience(p.Audience), OrgName: n.org(p.Org)}
}

// peerStatus is one peer's line of peer status.
type peerStatus struct {
	Peer     *peerJSON                `json:"peer"`
	State    *cyberpact.PeerState     `json:"state"`
	Lag      string                   `json:"lag,omitempty"` // since the last success
	Failures []*cyberpact.SyncFailure `json:"failures"`
}

func runPeerStatus(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("unexpected argument %q", pos[1])
	}
	db, err := e.openExistingPeerStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	var peers []*cyberpact.Peer
	if len(pos) == 1 {
		p, err := db.PeerByName(ctx, pos[0])
		if err != nil {
			return err
		}
		peers = []*cyberpact.Peer{p}
	} else if peers, err = db.Peers(ctx); err != nil {
		return err
	}
	names, err := audienceNames(ctx, db)
	if err != nil {
		return err
	}
	now := time.Now()
	var out []*peerStatus
	for _, p := range peers {
		st, err := db.PeerState(ctx, p.ID)
		if err != nil {
			return err
		}
		fails, err := db.Failures(ctx, p.ID)
		if err != nil {
			return err
		}
		ps := &peerStatus{Peer: names.peerJSON(p), State: st, Failures: nonNil(fails)}
		if !st.LastSuccess.IsZero() {
			ps.Lag = now.Sub(st.LastSuccess).Round(time.Second).String()
		}
		out = append(out, ps)
	}
	if *asJSON {
		return printJSON(e, nonNil(out))
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDIRECTION\tLAST SUCCESS\tLAG\tFAILED RUNS\tPULLED\tWITHHELD ON PULL\tPUSHED\tWITHHELD ON PUSH\tPEER'S OWN\tSTRAY\tFAILED OBJECTS\tPULL CURSOR\tLAST ERROR")
	for _, ps := range out {
		st := ps.State
		lag := ps.Lag
		if lag == "" {
			lag = "never synced"
		}
		cursor := st.PullAddedAfter
		if cursor == "" {
			cursor = "-"
		}
		if st.PullNext != "" {
			next := st.PullNext
			if len(next) > 40 {
				next = next[:40] + "..."
			}
			cursor += " (resuming at next=" + next + ")"
		}
		lastErr := "-"
		if st.LastError != "" {
			lastErr = formatTime(st.LastErrorAt) + ": " + st.LastError
		}
		if !st.RetryAfter.IsZero() {
			lastErr = "left alone until " + formatTime(st.RetryAfter) + " (Retry-After); " + lastErr
		}
		failedRuns := fmt.Sprintf("%d in a row, %d of %d", st.Failures, st.FailedRuns, st.Runs)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\n", ps.Peer.Name, ps.Peer.Direction, formatTime(st.LastSuccess), lag,
			failedRuns, st.Pulled, st.WithheldPull, st.Pushed, st.WithheldPush, st.PeerOwn, st.Stray, len(ps.Failures), cursor, lastErr)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, ps := range out {
		for _, f := range ps.Failures {
			fmt.Fprintf(e.stdout, "%s: %s %s@%s failed %d times since %s: %s\n", ps.Peer.Name, f.Direction, f.ObjectID, f.Version, f.Attempts, formatTime(f.First), f.Reason)
		}
	}
	return nil
}

// names resolves organisation and group ids for listings.
type names struct {
	orgs   map[int64]string
	groups map[int64]string
}

func audienceNames(ctx context.Context, a cyberpact.AccountService) (*names, error) {
	n := &names{orgs: map[int64]string{}, groups: map[int64]string{}}
	orgs, err := a.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		n.orgs[o.ID] = o.Name
	}
	groups, err := a.Groups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		n.groups[g.ID] = g.Name
	}
	return n, nil
}

func (n *names) org(id int64) string {
	if id == 0 {
		return "(the hub)"
	}
	if s, ok := n.orgs[id]; ok {
		return s
	}
	return fmt.Sprintf("org %d", id)
}

func (n *names) audience(a cyberpact.Audience) string {
	if a.Kind == cyberpact.AudienceGroup {
		if s, ok := n.groups[a.Group]; ok {
			return "group:" + s
		}
	}
	return a.String()
}

// keyFromStdin reads the key a --key - flag stands for from the first line
// of standard input, so that it appears in no process list or shell
// history.
func keyFromStdin(e *env, key *string) error {
	if *key != "-" {
		return nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if line = strings.TrimSpace(line); line == "" {
		return usageError("--key -: no key on standard input (%v)", err)
	}
	*key = line
	return nil
}
