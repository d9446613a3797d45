package cyberpact

import (
	"context"
	"time"
)

// Sectors are the fixed sectors an organisation belongs to.
var Sectors = []string{"government", "defence", "finance", "energy", "transport", "telecom", "health", "technology", "other"}

// Org is a member organisation of the partnership.
type Org struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Nation  string    `json:"nation"` // ISO 3166-1 alpha-2, upper case
	Sector  string    `json:"sector"` // one of Sectors
	Created time.Time `json:"created"`
}

// Group is a named sharing group of organisations, such as "US-UK Joint
// Cyber Cell"; it is managed by hub admins.
type Group struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Orgs    []int64   `json:"orgs"`
	Created time.Time `json:"created"`
}

// Role is what a user may do.
type Role string

const (
	RoleAdmin    Role = "admin"     // runs the hub: accounts, groups, everything of its own org
	RoleOrgAdmin Role = "org-admin" // manages its organisation's users and keys; reads and writes
	RoleAnalyst  Role = "analyst"   // reads and writes
	RoleReader   Role = "reader"    // reads
	RoleSync     Role = "sync"      // a machine account for federation: reads and writes
)

// Roles lists the roles.
var Roles = []Role{RoleAdmin, RoleOrgAdmin, RoleAnalyst, RoleReader, RoleSync}

// CanWrite reports whether the role may add objects.
func (r Role) CanWrite() bool { return r != RoleReader }

// User is a person or machine account, in exactly one organisation.
type User struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Org     int64     `json:"org"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
}

// APIKey describes a key; the key itself is shown once, at creation, and
// only its hash is stored.
type APIKey struct {
	ID       int64     `json:"id"`
	User     int64     `json:"user"`
	Prefix   string    `json:"prefix"` // the key's first characters, to tell keys apart
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`   // zero: never
	Revoked  time.Time `json:"revoked,omitzero"`   // zero: not revoked
	LastUsed time.Time `json:"last_used,omitzero"` // zero: never used
}

// Active reports whether the key authenticates at time now.
func (k *APIKey) Active(now time.Time) bool {
	return k.Revoked.IsZero() && (k.Expires.IsZero() || now.Before(k.Expires))
}

// Principal is an authenticated caller: a user, its organisation and the
// sharing groups the organisation belongs to.
type Principal struct {
	User   User
	Org    Org
	Groups []int64
}

// Viewer returns what the caller may see under the sharing rule.
func (p *Principal) Viewer() Viewer { return Viewer{Org: p.Org.ID, Groups: p.Groups} }

// AccountService manages organisations, sharing groups, users and keys.
// Every change is recorded in the audit log by the implementation.
type AccountService interface {
	// CreateOrg adds an organisation. Returns EINVALID for a bad name,
	// nation or sector and ECONFLICT when the name is taken.
	CreateOrg(ctx context.Context, o *Org, actor string) error
	// Orgs lists the organisations by name.
	Orgs(ctx context.Context) ([]*Org, error)
	// OrgByName returns ENOTFOUND when there is none.
	OrgByName(ctx context.Context, name string) (*Org, error)
	// OrgByID returns ENOTFOUND when there is none.
	OrgByID(ctx context.Context, id int64) (*Org, error)

	// CreateGroup adds a sharing group of existing organisations. Returns
	// EINVALID, ENOTFOUND for an unknown organisation, ECONFLICT.
	CreateGroup(ctx context.Context, g *Group, actor string) error
	// SetGroupOrgs replaces a group's members. Returns ENOTFOUND.
	SetGroupOrgs(ctx context.Context, group int64, orgs []int64, actor string) error
	// Groups lists the groups by name.
	Groups(ctx context.Context) ([]*Group, error)
	// GroupByName returns ENOTFOUND when there is none.
	GroupByName(ctx context.Context, name string) (*Group, error)
	// GroupsOf returns the ids of the groups org belongs to.
	GroupsOf(ctx context.Context, org int64) ([]int64, error)

	// CreateUser adds a user. Returns EINVALID (name, role), ENOTFOUND (org),
	// ECONFLICT (name taken).
	CreateUser(ctx context.Context, u *User, actor string) error
	// Users lists users, of one organisation when org != 0.
	Users(ctx context.Context, org int64) ([]*User, error)
	// UserByName returns ENOTFOUND when there is none.
	UserByName(ctx context.Context, name string) (*User, error)

	// CreateKey makes a new API key for a user from crypto/rand and returns
	// it (the only time it is ever shown) with its description. A zero
	// expires means the key does not expire. Returns ENOTFOUND.
	CreateKey(ctx context.Context, user int64, expires time.Time, actor string) (string, *APIKey, error)
	// RevokeKey revokes a key by id. Returns ENOTFOUND.
	RevokeKey(ctx context.Context, id int64, actor string) error
	// Keys lists keys, of one user when user != 0.
	Keys(ctx context.Context, user int64) ([]*APIKey, error)

	// Authenticate returns the principal a key belongs to. When user is not
	// empty (HTTP Basic) the key must belong to that user. Returns
	// EUNAUTHORIZED for an unknown, expired or revoked key, or a user
	// mismatch, without saying which.
	Authenticate(ctx context.Context, user, key string) (*Principal, error)
}
