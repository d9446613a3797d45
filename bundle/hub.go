package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/federation"
	"github.com/cyberpact/cyberpact/stix"
)

// Hub seals bundles for its peers and opens theirs, over its store.
type Hub struct {
	Store  cyberpact.ObjectStore
	Peers  cyberpact.PeerStore
	Chains cyberpact.BundleStore
	Audit  cyberpact.AuditLog
	Now    func() time.Time // time.Now when nil
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// PublicKey returns the hub's bundle public key, making its key pair on
// first use.
func (h *Hub) PublicKey(ctx context.Context) (ed25519.PublicKey, error) {
	priv, err := h.Chains.HubBundleKey(ctx)
	if err != nil {
		return nil, err
	}
	return ed25519.PrivateKey(priv).Public().(ed25519.PublicKey), nil
}

// Sealed is what a seal wrote.
type Sealed struct {
	Peer    string
	Seq     int64
	Hash    string
	Objects int
	federation.Selection
}

// Seal writes to the new file out the next bundle for the named peer:
// every local version added since the last bundle sealed for it that a
// push to it would send (federation.Outgoing), signed with the hub's key.
// The peer's chain moves on only once the file is complete; when that
// fails the file is removed. Returns ENOTFOUND for an unknown peer,
// EINVALID for a peer without a trusted bundle key or an out that exists.
func (h *Hub) Seal(ctx context.Context, peerName, out string) (*Sealed, error) {
	p, err := h.Peers.PeerByName(ctx, peerName)
	if err != nil {
		return nil, err
	}
	c, err := h.Chains.BundleChain(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if len(c.PublicKey) == 0 {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "peer %s has no bundle key: add the key its 'cyberpact bundle key' shows with 'cyberpact bundle trust %s KEY'", p.Name, p.Name)
	}
	priv, err := h.Chains.HubBundleKey(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(out); err == nil {
		// Said before the work; writeNew holds it at the end.
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s exists: a bundle is never written over another file", out)
	}
	res := &Sealed{Peer: p.Name, Seq: c.SealedSeq + 1}
	var objs []*cyberpact.Object
	after := c.SealedAfter
	for {
		page, err := h.Store.FindObjects(ctx, cyberpact.ObjectFilter{After: after, Versions: []string{"all"}, Limit: federation.DefaultPageSize})
		if err != nil {
			return nil, err
		}
		kept, sel, err := federation.Outgoing(ctx, h.Peers, p, page.Objects)
		if err != nil {
			return nil, err
		}
		objs = append(objs, kept...)
		res.Withheld += sel.Withheld
		res.PeerOwn += sel.PeerOwn
		res.Echo += sel.Echo
		if len(page.Objects) > 0 {
			after = page.Next
		}
		if !page.More {
			break
		}
	}
	raws := make([]json.RawMessage, len(objs))
	for i, o := range objs {
		raws[i] = o.Raw
	}
	data, hash, err := Seal(priv, Header{Recipient: c.PublicKey, Seq: res.Seq, Prev: c.SealedHash, Created: h.now()}, raws)
	if err != nil {
		return nil, err
	}
	if err := writeNew(out, data); err != nil {
		return nil, err
	}
	if err := h.Chains.RecordSealed(ctx, p.ID, c.SealedSeq, hash, after); err != nil {
		os.Remove(out)
		return nil, err
	}
	res.Hash, res.Objects = hash, len(objs)
	if h.Audit != nil && len(objs) > 0 {
		who := cyberpact.Actor{Name: "bundle:" + p.Name, Org: p.Org, Via: "bundle"}
		if e := cyberpact.ReleaseEntry(who, nil, "bundle:"+filepath.Base(out), fmt.Sprintf("peer=%s&seq=%d", p.Name, res.Seq), objs); e != nil {
			e.Detail = fmt.Sprintf("sealed in offline bundle %d for peer %s (hash %s): %d versions", res.Seq, p.Name, hash, len(objs))
			if err := h.Audit.Audit(context.WithoutCancel(ctx), e); err != nil {
				return nil, err
			}
		}
	}
	return res, nil
}

// writeNew writes data to the new file name, synced, refusing to write
// over a file that exists. It makes no hard link or rename, so that it
// works on the removable media a courier carries (FAT, exFAT); a file cut
// short by a crash is refused by Read (it lacks its signature line), and
// the chain has not moved then.
func writeNew(name string, data []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s exists: a bundle is never written over another file", name)
	}
	if err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("writing the bundle %s: %w", name, err)
	}
	return nil
}

// Opened is what an open imported.
type Opened struct {
	Peer     string
	Seq      int64
	Hash     string
	Added    int // versions new here
	Present  int // versions already here
	Withheld int // versions the sharing rule at the border kept out
}

// Open verifies the bundle data against the key trusted for the sender it
// names, checks that it is the next of its chain for this hub, and imports
// it through cyberpact.AuditedImport with the peer's organisation and
// audience, as a pull from that peer would, keeping out what the border
// rule keeps out of a pull (federation.Incoming). The import is atomic:
// any object refused refuses the bundle. A refused bundle changes
// nothing; see Bundle.Verify and Bundle.Follows for the reasons given.
//
// The chain moves on after the import commits. Should the process end
// between the two, opening the bundle again imports nothing twice: each
// version is then already present.
func (h *Hub) Open(ctx context.Context, data []byte) (*Opened, error) {
	b, err := Read(data)
	if err != nil {
		return nil, err
	}
	p, err := h.Chains.PeerByBundleKey(ctx, b.Sender)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "bundle refused: its sender's key %s is trusted for no peer here ('cyberpact bundle trust PEER KEY')", KeyString(b.Sender))
	}
	if err != nil {
		return nil, err
	}
	c, err := h.Chains.BundleChain(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	if err := b.Verify(c.PublicKey); err != nil {
		return nil, err
	}
	self, err := h.PublicKey(ctx)
	if err != nil {
		return nil, err
	}
	if err := b.Follows(self, c.OpenedSeq, c.OpenedHash); err != nil {
		return nil, fmt.Errorf("from peer %s: %w", p.Name, err)
	}
	res := &Opened{Peer: p.Name, Seq: b.Seq, Hash: b.Hash}
	dec := stix.NewDecoder(bytes.NewReader(b.STIX))
	defer dec.Close()
	next := func() (*cyberpact.Object, error) {
		for {
			o, err := dec.Next()
			if err != nil || federation.Incoming(o, p) {
				return o, err
			}
			res.Withheld++
		}
	}
	opts := cyberpact.ImportOptions{Producer: p.Org, Audience: p.Audience,
		Origin: &cyberpact.Origin{Peer: p.Name, URL: p.URL, Collection: p.Collection, Synced: h.now()}}
	who := cyberpact.Actor{Name: "bundle:" + p.Name, Org: p.Org, Via: "bundle"}
	ir, err := cyberpact.AuditedImport(ctx, h.Store, h.Audit, who, next, opts,
		fmt.Sprintf("opened offline bundle %d from peer %s (hash %s)", b.Seq, p.Name, b.Hash))
	if err != nil {
		return nil, fmt.Errorf("bundle %d from peer %s refused, nothing imported: %w", b.Seq, p.Name, err)
	}
	if len(ir.Rejected) > 0 || !ir.Committed {
		var rs cyberpact.Rejections = ir.Rejected
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "bundle %d from peer %s refused, nothing imported: %v", b.Seq, p.Name, rs)
	}
	res.Added, res.Present = ir.Added, ir.Present
	if err := h.Chains.RecordOpened(ctx, p.ID, c.OpenedSeq, b.Hash); err != nil {
		if cyberpact.ErrorCode(err) == cyberpact.ECONFLICT {
			return nil, fmt.Errorf("bundle %d from peer %s was opened by another process at the same time (nothing imported twice): %w", b.Seq, p.Name, err)
		}
		return nil, err
	}
	return res, nil
}
