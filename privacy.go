package cyberpact

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Personal data: what the hub does with it, per sharing group, and the
// warrants that lift redaction. The detectors and the pseudonyms are in
// package privacy; the store applies them at import (see PrivacyStore).

// AuditWarrant is the audit action of every step of a warrant (request,
// approval, refusal, use, expiry) and of privacy settings changed.
const AuditWarrant = "warrant"

// PrivacyPolicy says which personal-data detectors run, and so what is
// replaced by pseudonyms, in the object versions released to one sharing
// group (Group), or, for Group 0, in those released to all members and to
// any group without a policy of its own: the hub-wide default. Versions
// released to their producer's organisation alone are never redacted.
// Until sharing agreements carry it, the hub keeps it in a table of its
// own; an agreement's personal-data field would take its place.
type PrivacyPolicy struct {
	Group int64 `json:"group"` // the sharing group; 0 for the hub-wide default
	// Detectors lists the detectors on, comma separated (email, account,
	// phone, name, individual, address), "all" or "none".
	Detectors string    `json:"detectors"`
	Updated   time.Time `json:"updated"`
	Actor     string    `json:"actor"`
}

// WarrantKind is what a warrant permits.
type WarrantKind string

const (
	// WarrantUnmask reveals the value behind one pseudonym.
	WarrantUnmask WarrantKind = "unmask"
	// WarrantRelease releases one object, as its producer sent it
	// (personal data unredacted, TLP:RED included), to an organisation
	// outside its audience.
	WarrantRelease WarrantKind = "release"
)

// WarrantState is where a warrant stands.
type WarrantState string

const (
	WarrantRequested WarrantState = "requested"
	WarrantApproved  WarrantState = "approved"
	WarrantRefused   WarrantState = "refused"
	WarrantExpired   WarrantState = "expired"
)

// Warrant is a request to unmask a pseudonym or to release an object
// beyond its audience. A user asks, with a justification; a second person,
// a warrant approver who is not the requester, approves or refuses; an
// approved warrant may be used by the users of Org until it expires. Each
// step is recorded in the audit log (AuditWarrant).
type Warrant struct {
	ID            int64        `json:"id"`
	Kind          WarrantKind  `json:"kind"`
	Target        string       `json:"target"` // the pseudonym, or the object's id
	Justification string       `json:"justification"`
	Requester     string       `json:"requester"` // user name
	Org           int64        `json:"org"`       // the organisation that may use it: the requester's
	State         WarrantState `json:"state"`
	Decider       string       `json:"decider,omitempty"` // who approved or refused it
	Reason        string       `json:"reason,omitempty"`  // the decider's words
	// TTL is how long an approval lasts; Expires is set when approved.
	TTL     time.Duration `json:"ttl"`
	Created time.Time     `json:"created"`
	Decided time.Time     `json:"decided,omitzero"`
	Expires time.Time     `json:"expires,omitzero"`
	Uses    int           `json:"uses"`
}

// MaxWarrantTTL is the longest an approval may last.
const MaxWarrantTTL = 30 * 24 * time.Hour

// Check validates a new warrant's kind, target, justification and TTL.
// Returns EINVALID saying what is wrong.
func (w *Warrant) Check() error {
	switch {
	case w.Kind != WarrantUnmask && w.Kind != WarrantRelease:
		return Errorf(EINVALID, "warrant kind %q must be unmask or release", w.Kind)
	case w.Target == "":
		return Errorf(EINVALID, "a warrant needs a target: the pseudonym to unmask or the id of the object to release")
	case len(w.Justification) < 10:
		return Errorf(EINVALID, "a warrant needs a justification of at least 10 characters saying why")
	case len(w.Justification) > 2000:
		return Errorf(EINVALID, "the justification is longer than 2000 characters")
	case w.TTL <= 0 || w.TTL > MaxWarrantTTL:
		return Errorf(EINVALID, "ttl %s must be more than 0 and at most %s", w.TTL, MaxWarrantTTL)
	}
	return nil
}

// Usable reports whether the warrant may be used at time now.
func (w *Warrant) Usable(now time.Time) bool {
	return w.State == WarrantApproved && now.Before(w.Expires)
}

// String names the warrant for the audit log: "warrant N (KIND TARGET)".
func (w *Warrant) String() string { return fmt.Sprintf("warrant %d (%s %s)", w.ID, w.Kind, w.Target) }

// PrivacyStore keeps the privacy policies, the partnership key, the
// originals of redacted versions and the warrants. Every change and every
// use is recorded in the audit log.
type PrivacyStore interface {
	// PrivacyPolicies lists the policies set, the hub-wide default first.
	PrivacyPolicies(ctx context.Context) ([]*PrivacyPolicy, error)
	// SetPrivacyPolicy sets a group's policy (or the default). Returns
	// EINVALID for an unknown detector, ENOTFOUND for an unknown group.
	SetPrivacyPolicy(ctx context.Context, p *PrivacyPolicy, actor string) error
	// SetPartnershipKey sets the key pseudonyms are made with; hubs of one
	// partnership that share it make the same pseudonyms. Returns
	// EINVALID for a key shorter than 16 bytes.
	SetPartnershipKey(ctx context.Context, key []byte, actor string) error

	// Original returns the version of id as its producer sent it, before
	// redaction, to a viewer of the producer's organisation. Returns
	// ENOTFOUND when there is none the viewer's organisation produced.
	Original(ctx context.Context, id string, org int64) (json.RawMessage, error)

	// AddWarrantApprover makes a user a warrant approver. Returns
	// ENOTFOUND.
	AddWarrantApprover(ctx context.Context, user string, actor string) error
	// WarrantApprovers lists the approvers' user names.
	WarrantApprovers(ctx context.Context) ([]string, error)
	// RequestWarrant records a request by p, setting w's ID, Requester,
	// Org, State and Created. Returns EINVALID, ENOTFOUND for a target
	// the hub does not hold.
	RequestWarrant(ctx context.Context, w *Warrant, p *Principal, via string) error
	// Warrants lists warrants, newest first: all of them for org 0,
	// else those of org; approved ones past their expiry are expired
	// (and audited) first.
	Warrants(ctx context.Context, org int64) ([]*Warrant, error)
	// Warrant returns one warrant. Returns ENOTFOUND.
	Warrant(ctx context.Context, id int64) (*Warrant, error)
	// DecideWarrant approves or refuses a requested warrant. Returns
	// EFORBIDDEN when p is not a warrant approver or is the requester
	// (the attempt is audited), ECONFLICT when it is decided already.
	DecideWarrant(ctx context.Context, id int64, approve bool, reason string, p *Principal, via string) (*Warrant, error)
	// Unmask uses an approved unmask warrant: the value behind its
	// pseudonym. ReleaseByWarrant uses an approved release warrant: the
	// object as its producer sent it. Both return ENOTFOUND unless p's
	// organisation is the warrant's, ECONFLICT unless it is usable now
	// (approved, not expired: an expired one is marked so and audited),
	// and record the use. via names the
	// interface (rest, web, cli) in the audit log.
	Unmask(ctx context.Context, id int64, p *Principal, via string) (string, error)
	ReleaseByWarrant(ctx context.Context, id int64, p *Principal, via string) (json.RawMessage, error)
}
