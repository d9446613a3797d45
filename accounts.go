package cyberpact

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// Sectors are the fixed sectors an organisation belongs to. Sharing
// agreements release objects by these names (Agreement.RelSectors).
var Sectors = []string{"government", "defence", "finance", "energy", "transport", "telecom", "health", "water", "technology", "other"}

// Org is a member organisation of the partnership.
type Org struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Nation string `json:"nation"` // ISO 3166-1 alpha-2, upper case
	Sector string `json:"sector"` // one of Sectors
	// Clearances are its clearance in each of the hub's marking sets.
	Clearances Clearances `json:"clearances,omitempty"`
	Created    time.Time  `json:"created"`
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

// Viewer returns what the caller may see under the sharing rule: its
// organisation with the organisation's nation, sector and clearances
// (see Marks) and groups.
func (p *Principal) Viewer() Viewer {
	v := OrgViewer(&p.Org, p.Groups)
	v.Sync = p.User.Role == RoleSync
	return v
}

// OrgViewer is what organisation o, in groups, may see: with its nation,
// sector and clearances, which markings beside TLP are checked against.
func OrgViewer(o *Org, groups []int64) Viewer {
	return Viewer{Org: o.ID, Groups: groups, Nation: o.Nation, Sector: o.Sector, Clearances: o.Clearances}
}

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
	// SetOrg changes the nation and sector of organisation o.ID (an empty
	// field keeps its value) and writes the stored values back into o.
	// Returns EINVALID for a bad nation or sector, ENOTFOUND.
	SetOrg(ctx context.Context, o *Org, actor string) error

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

// CheckName validates the name of an organisation or group: printable,
// without surrounding spaces or commas (lists of names are comma
// separated on the command line), at most 200 characters.
func CheckName(kind, name string) error {
	switch {
	case name == "":
		return Errorf(EINVALID, "%s name is empty", kind)
	case strings.TrimSpace(name) != name:
		return Errorf(EINVALID, "%s name %q has leading or trailing spaces", kind, name)
	case len([]rune(name)) > 200:
		return Errorf(EINVALID, "%s name %.40q... is longer than 200 characters", kind, name)
	case strings.Contains(name, ","):
		return Errorf(EINVALID, "%s name %q contains a comma", kind, name)
	}
	for _, r := range name {
		if r == unicode.ReplacementChar || !unicode.IsPrint(r) {
			return Errorf(EINVALID, "%s name %q has a character that is not printable", kind, name)
		}
	}
	return nil
}

// CheckUserName validates a user name: 1 to 64 ASCII letters, digits and
// . _ @ -, starting with a letter or digit. No colon or space, since it is
// the user name of HTTP Basic authentication.
func CheckUserName(name string) error {
	if name == "" || len(name) > 64 {
		return Errorf(EINVALID, "user name %q must be 1 to 64 characters", name)
	}
	for i, r := range name {
		ok := r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || (i > 0 && strings.ContainsRune("._@-", r)))
		if !ok {
			return Errorf(EINVALID, "user name %q: only ASCII letters, digits and . _ @ - are allowed, starting with a letter or digit", name)
		}
	}
	return nil
}

// nations are the officially assigned ISO 3166-1 alpha-2 codes (249, as of
// the 2024 list): no user-assigned codes (XK), no exceptional reservations
// (UK, EU), no withdrawn ones (AN, CS).
var nations = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(`
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ
EC EE EG EH ER ES ET
FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU
ID IE IL IM IN IO IQ IR IS IT
JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ
LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ
OM
PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA
RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
UA UG UM US UY UZ
VA VC VE VG VI VN VU
WF WS
YE YT
ZA ZM ZW`) {
		m[c] = true
	}
	return m
}()

// CheckNation returns code trimmed and in upper case when it is an
// assigned ISO 3166-1 alpha-2 code, else EINVALID.
func CheckNation(code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if len(c) == 2 && nations[c] {
		return c, nil
	}
	hint := ""
	switch c {
	case "UK":
		hint = "; the United Kingdom is GB"
	case "EL":
		hint = "; Greece is GR"
	case "EU":
		hint = "; the European Union has no country code"
	}
	return "", Errorf(EINVALID, "nation %q is not an ISO 3166-1 alpha-2 country code%s", code, hint)
}
