package sqlstore

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store manages accounts.
var _ cyberpact.AccountService = (*Store)(nil)

// Organisations, sharing groups, users and API keys. Each change runs in
// one transaction that commits only with its audit entry recorded (see
// change), so no change is ever left unaudited. Names are unique whatever
// their case (SQLite: COLLATE NOCASE columns; PostgreSQL: unique indexes
// on lower(name)).

// LastUsedEvery is how stale a key's recorded last use may get: a key
// used all the time is written at most once per this period.
const LastUsedEvery = time.Minute

// CreateOrg adds an organisation, setting o's ID and Created and writing
// its Nation in upper case and Sector in lower case. Returns EINVALID for
// a bad name, a nation that is not an assigned ISO 3166-1 alpha-2 code, or
// a sector not in cyberpact.Sectors; ECONFLICT when the name is taken
// (whatever its case).
func (s *Store) CreateOrg(ctx context.Context, o *cyberpact.Org, actor string) error {
	if err := cyberpact.CheckName("organisation", o.Name); err != nil {
		return err
	}
	nation, err := cyberpact.CheckNation(o.Nation)
	if err != nil {
		return err
	}
	sector, err := cyberpact.CheckSector(o.Sector)
	if err != nil {
		return err
	}
	created := Now()
	var id int64
	err = s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		taken := fmt.Sprintf("an organisation named %q exists", o.Name)
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE `+s.d.NameIs("name", a, o.Name), a.Vals...); err != nil {
			return "", 0, internal("creating organisation", err)
		} else if ok {
			return "", 0, cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		a = s.d.Args()
		if id, err = s.insertID(ctx, tx, "creating organisation", taken, `INSERT INTO orgs (name, nation, sector, created)
			VALUES (`+a.Add(o.Name)+`, `+a.Add(nation)+`, `+a.Add(sector)+`, `+a.Add(created.UnixMicro())+`) RETURNING id`, a.Vals...); err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("created organisation %q (id %d, nation %s, sector %s)", o.Name, id, nation, sector), id, nil
	})
	if err != nil {
		return err
	}
	o.ID, o.Nation, o.Sector, o.Created = id, nation, sector, created
	return nil
}

// SetOrg changes an organisation's nation and sector; an empty field
// keeps the stored value. The stored values are written back into o.
// Returns EINVALID for a bad nation or sector, ENOTFOUND for no
// organisation with o.ID.
func (s *Store) SetOrg(ctx context.Context, o *cyberpact.Org, actor string) error {
	var nation, sector string
	var err error
	if o.Nation != "" {
		if nation, err = cyberpact.CheckNation(o.Nation); err != nil {
			return err
		}
	}
	if o.Sector != "" {
		if sector, err = cyberpact.CheckSector(o.Sector); err != nil {
			return err
		}
	}
	var stored *cyberpact.Org
	err = s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		a := s.d.Args()
		was, err := scanOrg(tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = `+a.Add(o.ID)+s.d.ForUpdate(""), a.Vals...))
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation with id %d", o.ID)
		}
		if err != nil {
			return "", 0, internal("reading organisation", err)
		}
		now := *was
		if nation != "" {
			now.Nation = nation
		}
		if sector != "" {
			now.Sector = sector
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE orgs SET nation = `+a.Add(now.Nation)+`, sector = `+a.Add(now.Sector)+` WHERE id = `+a.Add(o.ID), a.Vals...); err != nil {
			return "", 0, internal("changing organisation", err)
		}
		stored = &now
		return fmt.Sprintf("set organisation %q (id %d) to nation %s, sector %s; was nation %s, sector %s",
			now.Name, now.ID, now.Nation, now.Sector, was.Nation, was.Sector), now.ID, nil
	})
	if err != nil {
		return err
	}
	*o = *stored
	return nil
}

const orgColumns = `id, name, nation, sector, clearances, created`

func scanOrg(row interface{ Scan(...any) error }) (*cyberpact.Org, error) {
	var o cyberpact.Org
	var created int64
	var clearances string
	if err := row.Scan(&o.ID, &o.Name, &o.Nation, &o.Sector, &clearances, &created); err != nil {
		return nil, err
	}
	o.Created = micros(created)
	o.Clearances = clearancesOf(clearances)
	return &o, nil
}

// clearancesOf reads the clearances column; nil when there are none.
// The column is only written by SetClearance, so it always parses.
func clearancesOf(s string) cyberpact.Clearances {
	if s == "" {
		return nil
	}
	c, _ := cyberpact.ParseClearances(s)
	return c
}

// Orgs lists the organisations by name.
func (s *Store) Orgs(ctx context.Context) ([]*cyberpact.Org, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+orgColumns+` FROM orgs ORDER BY `+s.d.ByName("name"))
	if err != nil {
		return nil, internal("listing organisations", err)
	}
	defer rows.Close()
	var out []*cyberpact.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, internal("listing organisations", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing organisations", err)
	}
	return out, nil
}

// OrgByName returns the organisation of that name, whatever its case.
// Returns ENOTFOUND when there is none.
func (s *Store) OrgByName(ctx context.Context, name string) (*cyberpact.Org, error) {
	a := s.d.Args()
	o, err := scanOrg(s.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE `+s.d.NameIs("name", a, name), a.Vals...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation named %q", name)
	}
	if err != nil {
		return nil, internal("reading organisation", err)
	}
	return o, nil
}

// OrgByID returns ENOTFOUND when there is none.
func (s *Store) OrgByID(ctx context.Context, id int64) (*cyberpact.Org, error) {
	a := s.d.Args()
	o, err := scanOrg(s.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = `+a.Add(id), a.Vals...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation with id %d", id)
	}
	if err != nil {
		return nil, internal("reading organisation", err)
	}
	return o, nil
}

// orgNames returns the names of orgs, in order, inside tx. Returns
// ENOTFOUND naming the first id that is no organisation.
func (s *Store) orgNames(ctx context.Context, tx *sql.Tx, orgs []int64) ([]string, error) {
	names := make([]string, len(orgs))
	for i, id := range orgs {
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT name FROM orgs WHERE id = `+a.Add(id), a.Vals...).Scan(&names[i])
		if errors.Is(err, sql.ErrNoRows) {
			return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation with id %d", id)
		}
		if err != nil {
			return nil, internal("reading organisation", err)
		}
	}
	return names, nil
}

// uniqueIDs returns ids sorted, without repeats.
func uniqueIDs(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// setMembers replaces group's members with orgs (sorted, unique).
func (s *Store) setMembers(ctx context.Context, tx *sql.Tx, group int64, orgs []int64) error {
	a := s.d.Args()
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_orgs WHERE grp = `+a.Add(group), a.Vals...); err != nil {
		return internal("setting group members", err)
	}
	for chunk := range slices.Chunk(orgs, 250) {
		a := s.d.Args()
		vals := make([]string, len(chunk))
		for i, o := range chunk {
			vals[i] = "(" + a.Add(group) + ", " + a.Add(o) + ")"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_orgs (grp, org) VALUES `+strings.Join(vals, ", "), a.Vals...); err != nil {
			return internal("setting group members", err)
		}
	}
	return nil
}

// CreateGroup adds a sharing group of existing organisations (possibly
// none yet), setting g's ID and Created and sorting g.Orgs without
// repeats. Returns EINVALID for a bad name, ENOTFOUND for an unknown
// organisation, ECONFLICT when the name is taken.
func (s *Store) CreateGroup(ctx context.Context, g *cyberpact.Group, actor string) error {
	if err := cyberpact.CheckName("group", g.Name); err != nil {
		return err
	}
	orgs := uniqueIDs(g.Orgs)
	created := Now()
	var id int64
	err := s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		taken := fmt.Sprintf("a group named %q exists", g.Name)
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE `+s.d.NameIs("name", a, g.Name), a.Vals...); err != nil {
			return "", internal("creating group", err)
		} else if ok {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		names, err := s.orgNames(ctx, tx, orgs)
		if err != nil {
			return "", err
		}
		a = s.d.Args()
		if id, err = s.insertID(ctx, tx, "creating group", taken, `INSERT INTO groups (name, created) VALUES (`+a.Add(g.Name)+`, `+a.Add(created.UnixMicro())+`) RETURNING id`, a.Vals...); err != nil {
			return "", err
		}
		if err := s.setMembers(ctx, tx, id, orgs); err != nil {
			return "", err
		}
		return fmt.Sprintf("created group %q (id %d) of %s", g.Name, id, listNames(names)), nil
	})
	if err != nil {
		return err
	}
	g.ID, g.Orgs, g.Created = id, orgs, created
	return nil
}

// listNames quotes names for an audit detail.
func listNames(names []string) string {
	if len(names) == 0 {
		return "no organisations"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// SetGroupOrgs replaces a group's members. Returns ENOTFOUND for an unknown
// group or organisation.
func (s *Store) SetGroupOrgs(ctx context.Context, group int64, orgs []int64, actor string) error {
	orgs = uniqueIDs(orgs)
	return s.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		var name string
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = `+a.Add(group)+s.d.ForUpdate(""), a.Vals...).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no group with id %d", group)
		}
		if err != nil {
			return "", internal("reading group", err)
		}
		a = s.d.Args()
		before, err := int64s(tx.QueryContext(ctx, `SELECT org FROM group_orgs WHERE grp = `+a.Add(group)+` ORDER BY org`, a.Vals...))
		if err != nil {
			return "", internal("reading group", err)
		}
		names, err := s.orgNames(ctx, tx, orgs)
		if err != nil {
			return "", err
		}
		was, err := s.orgNames(ctx, tx, before)
		if err != nil {
			return "", err
		}
		if err := s.setMembers(ctx, tx, group, orgs); err != nil {
			return "", err
		}
		return fmt.Sprintf("set members of group %q (id %d) to %s; were %s", name, group, listNames(names), listNames(was)), nil
	})
}

// groups reads groups (all, or the one named) with their members.
func (s *Store) groups(ctx context.Context, name string) ([]*cyberpact.Group, error) {
	a := s.d.Args()
	q := `SELECT g.id, g.name, g.created, m.org FROM groups g LEFT JOIN group_orgs m ON m.grp = g.id`
	if name != "" {
		q += ` WHERE ` + s.d.NameIs("g.name", a, name)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY `+s.d.ByName("g.name")+`, m.org`, a.Vals...)
	if err != nil {
		return nil, internal("listing groups", err)
	}
	defer rows.Close()
	var out []*cyberpact.Group
	for rows.Next() {
		var id, created int64
		var gname string
		var org sql.NullInt64
		if err := rows.Scan(&id, &gname, &created, &org); err != nil {
			return nil, internal("listing groups", err)
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, &cyberpact.Group{ID: id, Name: gname, Orgs: []int64{}, Created: micros(created)})
		}
		if org.Valid {
			g := out[len(out)-1]
			g.Orgs = append(g.Orgs, org.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing groups", err)
	}
	return out, nil
}

// Groups lists the groups by name, each with its members' ids in order.
func (s *Store) Groups(ctx context.Context) ([]*cyberpact.Group, error) {
	return s.groups(ctx, "")
}

// GroupByName returns the group of that name, whatever its case. Returns
// ENOTFOUND when there is none.
func (s *Store) GroupByName(ctx context.Context, name string) (*cyberpact.Group, error) {
	gs, err := s.groups(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no group named %q", name)
	}
	return gs[0], nil
}

// GroupsOf returns the ids of the groups org belongs to, in order.
func (s *Store) GroupsOf(ctx context.Context, org int64) ([]int64, error) {
	a := s.d.Args()
	out, err := int64s(s.read.QueryContext(ctx, `SELECT grp FROM group_orgs WHERE org = `+a.Add(org)+` ORDER BY grp`, a.Vals...))
	if err != nil {
		return nil, internal("reading groups", err)
	}
	return out, nil
}

// CreateUser adds a user, setting u's ID and Created. Returns EINVALID for
// a bad name or role, ENOTFOUND for an unknown organisation, ECONFLICT when
// the name is taken (whatever its case).
func (s *Store) CreateUser(ctx context.Context, u *cyberpact.User, actor string) error {
	if err := cyberpact.CheckUserName(u.Name); err != nil {
		return err
	}
	if !slices.Contains(cyberpact.Roles, u.Role) {
		roles := make([]string, len(cyberpact.Roles))
		for i, r := range cyberpact.Roles {
			roles[i] = string(r)
		}
		return cyberpact.Errorf(cyberpact.EINVALID, "role %q is not one of %s", u.Role, strings.Join(roles, ", "))
	}
	created := Now()
	var id int64
	err := s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		names, err := s.orgNames(ctx, tx, []int64{u.Org})
		if err != nil {
			return "", 0, err
		}
		taken := fmt.Sprintf("a user named %q exists", u.Name)
		a := s.d.Args()
		if ok, err := exists(ctx, tx, `SELECT 1 FROM users WHERE `+s.d.NameIs("name", a, u.Name), a.Vals...); err != nil {
			return "", 0, internal("creating user", err)
		} else if ok {
			return "", 0, cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		a = s.d.Args()
		if id, err = s.insertID(ctx, tx, "creating user", taken, `INSERT INTO users (name, org, role, created)
			VALUES (`+a.Add(u.Name)+`, `+a.Add(u.Org)+`, `+a.Add(string(u.Role))+`, `+a.Add(created.UnixMicro())+`) RETURNING id`, a.Vals...); err != nil {
			return "", 0, err
		}
		return fmt.Sprintf("created user %q (id %d, role %s) in organisation %q", u.Name, id, u.Role, names[0]), u.Org, nil
	})
	if err != nil {
		return err
	}
	u.ID, u.Created = id, created
	return nil
}

const userColumns = `id, name, org, role, created`

func scanUser(row interface{ Scan(...any) error }) (*cyberpact.User, error) {
	var u cyberpact.User
	var created int64
	var role string
	if err := row.Scan(&u.ID, &u.Name, &u.Org, &role, &created); err != nil {
		return nil, err
	}
	u.Role = cyberpact.Role(role)
	u.Created = micros(created)
	return &u, nil
}

// Users lists users by name, of one organisation when org != 0.
func (s *Store) Users(ctx context.Context, org int64) ([]*cyberpact.User, error) {
	a := s.d.Args()
	q := `SELECT ` + userColumns + ` FROM users`
	if org != 0 {
		q += ` WHERE org = ` + a.Add(org)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY `+s.d.ByName("name"), a.Vals...)
	if err != nil {
		return nil, internal("listing users", err)
	}
	defer rows.Close()
	var out []*cyberpact.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, internal("listing users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing users", err)
	}
	return out, nil
}

// UserByName returns the user of that name, whatever its case. Returns
// ENOTFOUND when there is none.
func (s *Store) UserByName(ctx context.Context, name string) (*cyberpact.User, error) {
	a := s.d.Args()
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+s.d.NameIs("name", a, name), a.Vals...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no user named %q", name)
	}
	if err != nil {
		return nil, internal("reading user", err)
	}
	return u, nil
}

// CreateKey makes a new API key for a user (cyberpact.NewAPIKey): 32 bytes
// from crypto/rand, of which only the SHA-256 is stored. It returns the
// key, the only time it is ever shown, with its description. A zero
// expires means the key does not expire. Returns ENOTFOUND for an unknown
// user and EINVALID for an expiry that is not in the future.
func (s *Store) CreateKey(ctx context.Context, user int64, expires time.Time, actor string) (string, *cyberpact.APIKey, error) {
	created := Now()
	expires, err := cyberpact.CheckKeyExpiry(expires, created)
	if err != nil {
		return "", nil, err
	}
	key, prefix, sum, err := cyberpact.NewAPIKey()
	if err != nil {
		return "", nil, internal("making a key", err)
	}
	k := &cyberpact.APIKey{User: user, Prefix: prefix, Created: created, Expires: expires}
	err = s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		var name string
		var org int64
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT name, org FROM users WHERE id = `+a.Add(user), a.Vals...).Scan(&name, &org)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no user with id %d", user)
		}
		if err != nil {
			return "", 0, internal("reading user", err)
		}
		a = s.d.Args()
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_keys (`+s.d.KeyUser+`, hash, prefix, created, expires)
			VALUES (`+a.Add(user)+`, `+a.Add(sum[:])+`, `+a.Add(k.Prefix)+`, `+a.Add(created.UnixMicro())+`, `+a.Add(ToMicros(expires))+`) RETURNING id`, a.Vals...).Scan(&k.ID); err != nil {
			return "", 0, internal("storing a key", err)
		}
		until := "never expires"
		if !expires.IsZero() {
			until = "expires " + expires.Format(time.RFC3339)
		}
		return fmt.Sprintf("created key %d for user %q; %s", k.ID, name, until), org, nil
	})
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// RevokeKey revokes a key by id; revoking a revoked key changes nothing.
// Returns ENOTFOUND.
func (s *Store) RevokeKey(ctx context.Context, id int64, actor string) error {
	err := s.changeFor(ctx, actor, func(tx *sql.Tx) (string, int64, error) {
		var name string
		var revoked, org int64
		a := s.d.Args()
		err := tx.QueryRowContext(ctx, `SELECT u.name, k.revoked, u.org FROM api_keys k JOIN users u ON u.id = k.`+s.d.KeyUser+`
			WHERE k.id = `+a.Add(id)+s.d.ForUpdate("k"), a.Vals...).Scan(&name, &revoked, &org)
		if errors.Is(err, sql.ErrNoRows) {
			return "", 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no key with id %d", id)
		}
		if err != nil {
			return "", 0, internal("reading key", err)
		}
		if revoked != 0 {
			return "", 0, errAlreadyRevoked
		}
		a = s.d.Args()
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked = `+a.Add(Now().UnixMicro())+` WHERE id = `+a.Add(id), a.Vals...); err != nil {
			return "", 0, internal("revoking key", err)
		}
		return fmt.Sprintf("revoked key %d of user %q", id, name), org, nil
	})
	if errors.Is(err, errAlreadyRevoked) {
		return nil
	}
	return err
}

// errAlreadyRevoked stops a revocation that would change nothing.
var errAlreadyRevoked = errors.New("already revoked")

// Keys lists keys by id, of one user when user != 0.
func (s *Store) Keys(ctx context.Context, user int64) ([]*cyberpact.APIKey, error) {
	a := s.d.Args()
	q := `SELECT id, ` + s.d.KeyUser + `, prefix, created, expires, revoked, last_used FROM api_keys`
	if user != 0 {
		q += ` WHERE ` + s.d.KeyUser + ` = ` + a.Add(user)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY id`, a.Vals...)
	if err != nil {
		return nil, internal("listing keys", err)
	}
	defer rows.Close()
	var out []*cyberpact.APIKey
	for rows.Next() {
		var k cyberpact.APIKey
		var created, expires, revoked, used int64
		if err := rows.Scan(&k.ID, &k.User, &k.Prefix, &created, &expires, &revoked, &used); err != nil {
			return nil, internal("listing keys", err)
		}
		k.Created, k.Expires, k.Revoked, k.LastUsed = micros(created), micros(expires), micros(revoked), micros(used)
		out = append(out, &k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing keys", err)
	}
	return out, nil
}

// Authenticate returns the principal a key belongs to: its user, the
// user's organisation and the organisation's groups. When user is not
// empty (HTTP Basic) the key must belong to that user (whatever its case).
// The key is found by its SHA-256, with the organisation's groups in the
// same query, and the stored hash compared in constant time. Returns
// EUNAUTHORIZED for an unknown, expired or revoked key, a disabled user
// (SetDisabled) or a user mismatch, always with the same message. The key's last use is
// written in the background when the stored one is LastUsedEvery old.
func (s *Store) Authenticate(ctx context.Context, user, key string) (*cyberpact.Principal, error) {
	sum, ok := cyberpact.APIKeyHash(key)
	if !ok {
		return nil, cyberpact.ErrInvalidCredentials()
	}
	var p cyberpact.Principal
	var hash []byte
	var k cyberpact.APIKey
	var role string
	var expires, revoked, used, ucreated, ocreated int64
	a := s.d.Args()
	var groups, clearances string
	err := s.read.QueryRowContext(ctx, `SELECT k.id, k.hash, k.expires, k.revoked, k.last_used,
			u.id, u.name, u.org, u.role, u.created, o.id, o.name, o.nation, o.sector, o.clearances, o.created,
			COALESCE((SELECT `+s.d.ListInts("grp")+` FROM group_orgs WHERE org = o.id), '')
		FROM api_keys k JOIN users u ON u.id = k.`+s.d.KeyUser+` JOIN orgs o ON o.id = u.org
		WHERE k.hash = `+a.Add(sum[:])+` AND u.disabled = 0`, a.Vals...).Scan(&k.ID, &hash, &expires, &revoked, &used,
		&p.User.ID, &p.User.Name, &p.User.Org, &role, &ucreated,
		&p.Org.ID, &p.Org.Name, &p.Org.Nation, &p.Org.Sector, &clearances, &ocreated, &groups)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.ErrInvalidCredentials()
	}
	if err != nil {
		return nil, internal("authenticating", err)
	}
	t := time.Now()
	k.Expires, k.Revoked = micros(expires), micros(revoked)
	if subtle.ConstantTimeCompare(hash, sum[:]) != 1 || !k.Active(t) || (user != "" && !strings.EqualFold(user, p.User.Name)) {
		return nil, cyberpact.ErrInvalidCredentials()
	}
	p.User.Role = cyberpact.Role(role)
	p.User.Created, p.Org.Created = micros(ucreated), micros(ocreated)
	p.Org.Clearances = clearancesOf(clearances)
	if p.Groups, err = parseInts(groups); err != nil {
		return nil, internal("authenticating", err)
	}
	if t.Sub(micros(used)) >= LastUsedEvery {
		s.keyUse.note(k.ID, t)
	}
	return &p, nil
}
