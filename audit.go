package cyberpact

import (
	"context"
	"time"
)

// Audit actions.
const (
	AuditWrite   = "write"   // object versions added (or deleted) by an organisation
	AuditDelete  = "delete"  // object versions deleted
	AuditRelease = "release" // object versions delivered to an organisation other than their producer
	AuditAccount = "account" // an organisation, group, user or key created or changed
)

// AuditEntry is one entry of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`               // the user name, or "cli" for the command line
	ActorOrg int64     `json:"actor_org,omitempty"` // the actor's organisation
	// Recipient is the organisation that received objects (release).
	Recipient int64 `json:"recipient,omitempty"`
	// Via is the interface: rest, taxii, cli, sync, stream.
	Via string `json:"via,omitempty"`
	// Objects are the object versions concerned, "id@version" (version as
	// the object's modified, "" for cyber observables).
	Objects []string `json:"objects,omitempty"`
	// Detail says what changed, in words (account changes, counts).
	Detail string `json:"detail,omitempty"`
	// Prev is the hash of the previous entry and Hash this entry's, both
	// hex SHA-256; Hash covers Prev and every field above.
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	Org    int64  // entries whose actor or recipient is this organisation
	Object string // entries concerning this object id
	Action string
	Since  time.Time
	Until  time.Time
	After  int64 // entries with Seq > After
	Limit  int
}

// AuditLog is the append-only, hash-chained record of every write, every
// release of an object to another organisation and every account change.
type AuditLog interface {
	// Audit appends entries, chaining each to the one before. Seq, Prev
	// and Hash are set by the log; a zero Time is set to now.
	Audit(ctx context.Context, entries ...*AuditEntry) error
	// AuditEntries returns the entries f selects, oldest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit recomputes the chain and returns the Seq of the first
	// entry whose hash or link is wrong, 0 when the chain is whole.
	VerifyAudit(ctx context.Context) (int64, error)
}
