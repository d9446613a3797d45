package cyberpact

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"net/url"
	"time"
)

// AuditCrisis is the audit action of crisis mode: a crisis declared,
// acknowledged, escalated or ended, and escalation contacts changed.
const AuditCrisis = "crisis"

// EventCrisis is the event a crisis alert carries on every channel.
const EventCrisis EventKind = "crisis"

// Crisis is crisis mode on one stored STIX incident: every organisation of
// the incident's audience (the organisations MaySee lets see its latest
// version when the crisis is declared) is alerted at once on all of its
// channels, and each one's acknowledgement is tracked; one that has not
// acknowledged within EscalateAfter of its last alert is escalated to its
// next level of contacts.
type Crisis struct {
	ID            int64         `json:"id"`
	Incident      string        `json:"incident"`
	Producer      int64         `json:"-"` // the incident's producer organisation
	EscalateAfter time.Duration `json:"-"`
	DeclaredBy    string        `json:"declared_by"`
	Declared      time.Time     `json:"declared"`
	Ended         time.Time     `json:"ended,omitzero"` // zero while the crisis lasts
	EndedBy       string        `json:"ended_by,omitempty"`
	Partners      []*CrisisPartner
}

// Open reports whether the crisis has not ended.
func (c *Crisis) Open() bool { return c.Ended.IsZero() }

// Partner returns org's row of the crisis, nil when org is not alerted by
// it.
func (c *Crisis) Partner(org int64) *CrisisPartner {
	for _, p := range c.Partners {
		if p.Org == org {
			return p
		}
	}
	return nil
}

// CrisisPartner is where one alerted organisation stands in a crisis.
type CrisisPartner struct {
	Org int64
	// Level is how far it was escalated: 0, its own channels (its
	// subscriptions' webhooks and mail); n, its contacts of level n too.
	Level int
	// LevelAt is when its current level was alerted: it is escalated at
	// LevelAt + EscalateAfter unless it acknowledges before.
	LevelAt  time.Time
	Acked    time.Time // zero until it acknowledges
	AckedBy  string
	AckedVia string // api, cli, web or mail
}

// CrisisContact is one escalation contact of an organisation: when the
// organisation has not acknowledged a crisis in time, it is escalated to
// the contacts of its next level, then the next.
type CrisisContact struct {
	ID      int64       `json:"id"`
	Org     int64       `json:"-"`
	Level   int         `json:"level"`
	Name    string      `json:"name,omitempty"`
	Channel ChannelKind `json:"channel"`
	Target  string      `json:"target"`
	Secret  string      `json:"secret,omitempty"` // a webhook's HMAC key, shown once
	Created time.Time   `json:"created"`
}

// Check validates a contact before it is stored. Returns EINVALID saying
// which field is wrong.
func (c *CrisisContact) Check() error {
	if c.Org == 0 {
		return Errorf(EINVALID, "a contact needs an organisation")
	}
	if c.Level < 1 || c.Level > 20 {
		return Errorf(EINVALID, "contact level %d is not between 1 and 20", c.Level)
	}
	if !ValidText(c.Name) || len(c.Name) > 200 {
		return Errorf(EINVALID, "contact name is longer than 200 characters or not text")
	}
	switch c.Channel {
	case ChannelWebhook:
		u, err := url.Parse(c.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Errorf(EINVALID, "webhook target %q is not an http or https URL", c.Target)
		}
		if len(c.Secret) < 16 {
			return Errorf(EINVALID, "webhook secret must be at least 16 characters")
		}
	case ChannelEmail:
		a, err := mail.ParseAddress(c.Target)
		if err != nil || a.Address != c.Target {
			return Errorf(EINVALID, "mail target %q is not a plain address (name@example.org)", c.Target)
		}
	default:
		return Errorf(EINVALID, "channel %q is not one of webhook, email", c.Channel)
	}
	return nil
}

// Kinds of crisis alert.
const (
	CrisisDeclared  = "declared"  // the crisis began: every partner's own channels
	CrisisEscalated = "escalated" // a partner's next contacts, after it did not acknowledge
	CrisisEnded     = "ended"     // the crisis is over
)

// CrisisAlert is one alert of a crisis to one channel of one partner, kept
// in the store's outbox until it is delivered, fails for good or is
// withheld (the partner may no longer see the incident). Key is its
// idempotency key, the same on every attempt.
type CrisisAlert struct {
	ID          int64          `json:"id"`
	Crisis      int64          `json:"crisis"`
	Org         int64          `json:"-"`
	Level       int            `json:"level"`
	Kind        string         `json:"kind"`
	Channel     ChannelKind    `json:"channel"`
	Target      string         `json:"target"`
	Secret      string         `json:"-"`
	Key         string         `json:"idempotency_key"`
	Status      DeliveryStatus `json:"status"`
	Attempts    int            `json:"attempts"`
	NextAttempt time.Time      `json:"next_attempt"`
	LastError   string         `json:"last_error,omitempty"`
	Created     time.Time      `json:"created"`
	Done        time.Time      `json:"done,omitzero"`
}

// CrisisStore keeps crises, their partners, the organisations'
// escalation contacts and the outbox of crisis alerts. Every change is
// audited (AuditCrisis) in the change's transaction.
type CrisisStore interface {
	// DeclareCrisis stores c (open) with a row for each of c.Partners
	// (level 0, LevelAt c.Declared) and enqueues alerts, and sets c.ID
	// and the alerts' IDs. Returns ECONFLICT when the incident already
	// has an open crisis.
	DeclareCrisis(ctx context.Context, c *Crisis, alerts []*CrisisAlert, actor string) error
	// Crisis returns crisis id with its partners. Returns ENOTFOUND.
	Crisis(ctx context.Context, id int64) (*Crisis, error)
	// Crises lists the crises, newest first, with their partners; only
	// the open ones when open is true.
	Crises(ctx context.Context, open bool) ([]*Crisis, error)
	// AckCrisis records org's acknowledgement of open crisis id at now.
	// It returns whether this call acknowledged (false: org had already).
	// Returns ENOTFOUND when org is not a partner, ECONFLICT when the
	// crisis has ended.
	AckCrisis(ctx context.Context, id, org int64, actor, via string, now time.Time) (bool, error)
	// AckCrisisToken acknowledges for the partner the unused token whose
	// hash is given (see CrisisTokenHash), and uses the token up.
	// Returns the crisis and organisation; ENOTFOUND for an unknown or
	// used token, ECONFLICT when the crisis has ended.
	AckCrisisToken(ctx context.Context, hash string, now time.Time) (crisis, org int64, err error)
	// AddCrisisToken records the hash of a token sent to org for crisis.
	AddCrisisToken(ctx context.Context, crisis, org int64, hash string) error
	// EscalateCrisis moves org of open crisis id from level from to level
	// to at now and enqueues alerts, unless org acknowledged or was moved
	// meanwhile: it reports whether it moved it.
	EscalateCrisis(ctx context.Context, id, org int64, from, to int, now time.Time, alerts []*CrisisAlert, actor string) (bool, error)
	// EndCrisis ends open crisis id at now and enqueues alerts. Returns
	// ENOTFOUND, ECONFLICT when it has already ended.
	EndCrisis(ctx context.Context, id int64, now time.Time, alerts []*CrisisAlert, actor string) error

	// AddCrisisContact stores c (after c.Check) and sets its ID and
	// Created. Returns ENOTFOUND for an unknown organisation.
	AddCrisisContact(ctx context.Context, c *CrisisContact, actor string) error
	// CrisisContacts lists org's contacts by level, then id, secrets
	// included.
	CrisisContacts(ctx context.Context, org int64) ([]*CrisisContact, error)
	// RemoveCrisisContact removes contact id of org. Returns ENOTFOUND.
	RemoveCrisisContact(ctx context.Context, org, id int64, actor string) error

	// ClaimCrisisAlerts is ClaimDeliveries for crisis alerts.
	ClaimCrisisAlerts(ctx context.Context, now, until time.Time, limit int) ([]*CrisisAlert, error)
	// FinishCrisisAlerts is FinishAttempts for crisis alerts.
	FinishCrisisAlerts(ctx context.Context, as []*CrisisAlert) error
	// CrisisAlerts lists crisis id's alerts, oldest first.
	CrisisAlerts(ctx context.Context, id int64) ([]*CrisisAlert, error)
}

// NewCrisisToken returns a fresh single-use acknowledgement token and the
// hash the store keeps of it.
func NewCrisisToken() (token, hash string) {
	b := make([]byte, 24)
	rand.Read(b)
	token = "cpa_" + hex.EncodeToString(b)
	return token, CrisisTokenHash(token)
}

// CrisisTokenHash is the hex SHA-256 of an acknowledgement token.
func CrisisTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// MayDeclareCrisis reports whether p may declare or end a crisis on an
// incident produced by producer: a hub admin, or an org-admin of the
// producer organisation. The caller must also be able to see the incident.
func MayDeclareCrisis(p *Principal, producer int64) bool {
	return p.User.Role == RoleAdmin || p.User.Role == RoleOrgAdmin && p.Org.ID == producer
}
