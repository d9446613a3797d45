package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/bundle"
)

var bundleSubs = []*subcommand{
	{
		name:  "key",
		usage: "[--data DIR]",
		help: `Prints this hub's bundle public key (Ed25519, standard base64), making the
key pair on first use. Give it to each offline partner, who trusts it with
'cyberpact bundle trust'. The private key is kept in the store, sealed
(AES-256-GCM) like the peers' keys: under cyberpact-peers.key in the data
directory, or the file CYBERPACT_PEER_KEY_FILE names with PostgreSQL.`,
		run: runBundleKey,
	},
	{
		name:  "trust",
		usage: "PEER KEY [--data DIR]",
		help: `Trusts KEY, the bundle public key that peer's 'cyberpact bundle key' printed,
for the peer PEER (see 'cyberpact peer add'): bundles are sealed for that
key, and bundles opened here must be signed by it. Recorded in the audit
log with actor "cli".`,
		run: runBundleTrust,
	},
	{
		name:  "seal",
		usage: "--peer NAME --out FILE [--data DIR]",
		help: `Writes to the new FILE the next offline bundle for the peer NAME: every
version added here since the last bundle sealed for it that a push to it
would send under the sharing rule at the border (never TLP:RED or
TLP:AMBER+STRICT, nor an organisation's private objects, nor another sharing
group's, nor what came from that peer), signed with this hub's key and
chained to the previous bundle by hash and sequence number. A bundle with
nothing new is still sealed, keeping the chain. FILE must not exist. Every
bundle must be opened, in order.`,
		run: runBundleSeal,
	},
	{
		name:  "open",
		usage: "FILE [--data DIR]",
		help: `Verifies the offline bundle FILE against the key trusted for its sender,
checks it is the next bundle of that sender for this hub, and imports it
once, as a pull from that peer would (attributed to the peer's --org, for
its --audience, under the sharing rule at the border), recorded in the audit
log. A bundle with any byte changed, one already opened (a replay), one
whose predecessors were not opened (a gap or a bundle out of order), or one
sealed for another hub is refused with the reason, and nothing changes.`,
		run: runBundleOpen,
	},
	{
		name:  "status",
		usage: "[--data DIR] [--json]",
		help: `Shows, for each peer, whether a bundle key is trusted for it, the last bundle
sealed for it (sequence number, when, hash) and the last bundle opened from
it: the next one to open is the one after.`,
		run: runBundleStatus,
	},
}

func init() {
	registerGroup("bundle", "seal and open signed offline bundles for peers without a connection",
		"Exchanges intelligence with a peer hub that has no live connection (an air gap, a data diode, a courier) through files: signed (Ed25519), hash-chained, opened exactly once.\n", bundleSubs)
}

// bundleStore is a store that keeps peers and offline bundles.
type bundleStore interface {
	peerStore
	cyberpact.BundleStore
}

func (e *env) openBundleStore(ctx context.Context, data string) (bundleStore, *bundle.Hub, error) {
	db, err := e.openExistingPeerStore(ctx, data)
	if err != nil {
		return nil, nil, err
	}
	bs, ok := db.(bundleStore)
	if !ok {
		db.Close()
		return nil, nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this store keeps no offline bundles")
	}
	return bs, &bundle.Hub{Store: bs, Peers: bs, Chains: bs, Audit: bs}, nil
}

func runBundleKey(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, h, err := e.openBundleStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	pub, err := h.PublicKey(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, bundle.KeyString(pub))
	return nil
}

func runBundleTrust(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 2, "PEER KEY")
	if err != nil {
		return err
	}
	key, err := bundle.ParseKey(pos[1])
	if err != nil {
		return usageError("%s", cyberpact.ErrorMessage(err))
	}
	db, _, err := e.openBundleStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.TrustBundleKey(ctx, pos[0], key, cliActor); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "peer %s: bundle key %s trusted\n", pos[0], pos[1])
	return nil
}

func runBundleSeal(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	peer := fs.String("peer", "", "the peer the bundle is for")
	out := fs.String("out", "", "the bundle file to write (must not exist)")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	switch {
	case *peer == "":
		return usageError("--peer is required: the peer the bundle is for")
	case *out == "":
		return usageError("--out is required: the bundle file to write")
	}
	db, h, err := e.openBundleStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := h.Seal(ctx, *peer, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "bundle %d for peer %s sealed in %s: %d versions, %d withheld by the sharing rule, %d the peer's own, %d from that peer; hash %s\n",
		res.Seq, res.Peer, *out, res.Objects, res.Withheld, res.PeerOwn, res.Echo, res.Hash)
	return nil
}

func runBundleOpen(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	pos, err := positional(fs, args, 1, "FILE")
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(pos[0])
	if err != nil {
		return cyberpact.Errorf(cyberpact.EINVALID, "%v", err)
	}
	db, h, err := e.openBundleStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := h.Open(ctx, raw)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	fmt.Fprintf(e.stdout, "bundle %d from peer %s opened: %d added, %d already present, %d withheld by the sharing rule\n",
		res.Seq, res.Peer, res.Added, res.Present, res.Withheld)
	return nil
}

// bundleStatusJSON is a peer's chains as --json prints them.
type bundleStatusJSON struct {
	Peer string `json:"peer"`
	Key  string `json:"-"` // PublicKey, as bundle key prints it
	*cyberpact.BundleChain
}

func runBundleStatus(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := positional(fs, args, 0, ""); err != nil {
		return err
	}
	db, _, err := e.openBundleStore(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	peers, err := db.Peers(ctx)
	if err != nil {
		return err
	}
	out := make([]bundleStatusJSON, 0, len(peers))
	for _, p := range peers {
		ch, err := db.BundleChain(ctx, p.ID)
		if err != nil {
			return err
		}
		st := bundleStatusJSON{Peer: p.Name, BundleChain: ch}
		if len(ch.PublicKey) > 0 {
			st.Key = bundle.KeyString(ch.PublicKey)
		}
		out = append(out, st)
	}
	if *asJSON {
		return printJSON(e, out)
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tKEY\tSEALED\tSEALED AT\tOPENED\tOPENED AT")
	for _, st := range out {
		key := st.Key
		if key == "" {
			key = "(none: bundle trust)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\n", st.Peer, key, st.SealedSeq, when(st.SealedAt), st.OpenedSeq, when(st.OpenedAt))
	}
	return tw.Flush()
}
