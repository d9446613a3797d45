package cyberpact

import "context"

// Snapshot names the committed state of a store that a read was made
// from. Only the store that made it can read it; "" names no state.
type Snapshot string

// SnapshotStore is an object store that can prove that nothing a read
// depends on has changed since an earlier read, so that a page read ahead
// of a client's request may be handed out later as if it had been read
// then (the TAXII server's read-ahead, http/readahead.go). A store that
// cannot prove it does not implement it, and is never read ahead.
type SnapshotStore interface {
	// FindEnvelopeSnapshot is FindEnvelope with the snapshot of the state
	// the page was read from. The snapshot may be taken just before the
	// read: it then names a state that Unchanged no longer confirms if
	// anything was committed between the two.
	FindEnvelopeSnapshot(ctx context.Context, f ObjectFilter) (*ObjectPage, Snapshot, error)
	// Unchanged reports whether nothing has been committed to anything a
	// read of the store depends on (its objects, accounts, groups,
	// holdings and rule tables alike), by this process or any other,
	// since snap was taken: a FindEnvelope now would return what the read
	// of snap did. It is false whenever the store cannot tell (an error,
	// a closed store, a snapshot of another store or "").
	Unchanged(ctx context.Context, snap Snapshot) bool
}
