package cyberpact

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"time"
)

// Audit actions.
const (
	AuditWrite   = "write"   // object versions added (or deleted) by an organisation
	AuditDelete  = "delete"  // object versions deleted
	AuditRelease = "release" // object versions delivered to an organisation other than their producer
	AuditAccount = "account" // an organisation, group, user or key created or changed
	// AuditAgreement is a sharing agreement, marking set or clearance set.
	AuditAgreement = "agreement"
)

// AuditEntry is one entry of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Action   string    `json:"action"`
	Actor    string    `json:"actor"`               // the user name, or "cli" for the command line
	ActorOrg int64     `json:"actor_org,omitempty"` // the actor's organisation
	// Recipient is the organisation that received objects (release), or
	// that an account change concerns: its own record, one of its users
	// or their keys.
	Recipient int64 `json:"recipient,omitempty"`
	// Via is the interface: rest, taxii, feed, cli, sync, stream.
	Via string `json:"via,omitempty"`
	// Objects are the object versions concerned, "id@version" (version as
	// the object's modified, "" for cyber observables). Deletions list
	// them, and so does a write for the stored versions it replaced
	// (ConflictReplace); writes and releases name the versions they
	// added or delivered by Scope (entries written before Scope existed
	// list them here).
	Objects []string `json:"objects,omitempty"`
	// Scope, when set, names the versions concerned by their Seqs, and for
	// a release says what was read (see AuditScope).
	Scope *AuditScope `json:"scope,omitempty"`
	// Detail says what changed, in words (account changes, counts).
	Detail string `json:"detail,omitempty"`
	// Prev is the hash of the previous entry and Hash this entry's, both
	// hex SHA-256; Hash covers Prev and every field above (but those a
	// continuation takes from the entry it continues, see AuditScope.Cont).
	Prev string `json:"prev"`
	Hash string `json:"hash"`
}

// AuditFilter selects audit entries; zero fields select everything.
type AuditFilter struct {
	Org    int64  // entries whose actor or recipient is this organisation (its releases and its own account changes included)
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

// AuditHash returns the hex SHA-256 of e's canonical encoding: the
// concatenation, in this order, of Prev, Seq, Time (unix microseconds),
// Action, Actor, ActorOrg, Recipient, Via, the number of Objects, each
// object, and Detail, where an integer is 8 bytes big-endian (two's
// complement) and a string is its length as such an integer followed by
// its UTF-8 bytes; then, only when e has a Scope, the string "scope",
// First, Last, Count, the number of Runs and each run, the number of
// Groups and each group, Public (1 or 0), Exercise, Path and Query; then,
// only when the scope continues an earlier entry (Cont), the string "cont"
// and Cont, with Actor, Via, Detail, Groups, Public, Exercise, Path and
// Query encoded as empty: they are the continued entry's, which its own
// hash covers. The lengths make the encoding unambiguous, so no two
// different entries encode alike, and an entry without Scope (or without
// Cont) hashes as entries did before Scope (or Cont) existed, so older
// logs still verify. Another store must hash the same way for a log to be
// verifiable wherever it is kept.
func AuditHash(e *AuditEntry) string {
	h := sha256.New()
	var b [8]byte
	num := func(n int64) {
		binary.BigEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		io.WriteString(h, s)
	}
	e = e.stored()
	str(e.Prev)
	num(e.Seq)
	num(e.Time.UnixMicro())
	str(e.Action)
	str(e.Actor)
	num(e.ActorOrg)
	num(e.Recipient)
	str(e.Via)
	num(int64(len(e.Objects)))
	for _, o := range e.Objects {
		str(o)
	}
	str(e.Detail)
	if sc := e.Scope; sc != nil {
		str("scope")
		num(sc.First)
		num(sc.Last)
		num(int64(sc.Count))
		num(int64(len(sc.Runs)))
		for _, r := range sc.Runs {
			num(r)
		}
		num(int64(len(sc.Groups)))
		for _, g := range sc.Groups {
			num(g)
		}
		if sc.Public {
			num(1)
		} else {
			num(0)
		}
		num(sc.Exercise)
		str(sc.Path)
		str(sc.Query)
		if sc.Cont != 0 {
			str("cont")
			num(sc.Cont)
		}
		// Entries from before releasability name none of these: their
		// hashes stay as they were.
		if sc.Nation != "" || sc.Sector != "" || sc.Clearances != "" {
			str("marks")
			str(sc.Nation)
			str(sc.Sector)
			str(sc.Clearances)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// stored returns e as a store keeps it: a continuation (Scope.Cont set)
// without what it takes from the entry it continues (Actor, Via, Detail
// and the scope's reading: Groups, Public, Exercise, Path, Query, Nation,
// Sector, Clearances); any other entry as it is.
func (e *AuditEntry) stored() *AuditEntry {
	if e.Scope == nil || e.Scope.Cont == 0 {
		return e
	}
	c, sc := *e, *e.Scope
	c.Actor, c.Via, c.Detail = "", "", ""
	sc.Groups, sc.Public, sc.Exercise, sc.Path, sc.Query = nil, false, 0, "", ""
	sc.Nation, sc.Sector, sc.Clearances = "", "", ""
	c.Scope = &sc
	return &c
}
