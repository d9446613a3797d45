package postgres

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// Ensure DB manages accounts.
var _ cyberpact.AccountService = (*DB)(nil)

// Organisations, sharing groups, users and API keys (migration 0001). Each
// change runs in one transaction that also appends its audit entry, so no
// change is ever left unaudited and no entry describes a change that did
// not happen. Names are unique whatever their case through unique indexes
// on lower(name); a name taken by a concurrent change is reported as
// ECONFLICT like one taken before.

// lastUsedEvery is how stale a key's recorded last use may get: a key used
// all the time is written at most once per this period.
const lastUsedEvery = time.Minute

// micros turns a stored time (unix microseconds, 0 for none) into a time.
func micros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// toMicros is the reverse of micros.
func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// now is the current time as stored: UTC, to the microsecond.
func now() time.Time { return time.UnixMicro(time.Now().UnixMicro()).UTC() }

// change runs fn in a transaction, appends the audit entry describing the
// change (fn's result) in the same transaction and commits both.
func (db *DB) change(ctx context.Context, actor string, fn func(tx pgx.Tx) (string, error)) error {
	if err := cyberpact.CheckActor(actor); err != nil {
		return err
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return internal("beginning account change", err)
	}
	defer tx.Rollback(ctx)
	detail, err := fn(tx)
	if err != nil {
		return err
	}
	e := &cyberpact.AuditEntry{Action: cyberpact.AuditAccount, Actor: actor, Detail: detail}
	if actor == "cli" {
		e.Via = "cli"
	} else if err := tx.QueryRow(ctx, `SELECT org FROM users WHERE lower(name) = lower($1)`, actor).Scan(&e.ActorOrg); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return internal("reading actor", err)
	}
	req, err := newAuditReq([]*cyberpact.AuditEntry{e})
	if err != nil {
		return err
	}
	set, err := appendAudit(ctx, tx, []*auditReq{req})
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		if isUniqueViolation(err) {
			return cyberpact.Errorf(cyberpact.ECONFLICT, "the name is taken")
		}
		return internal("committing account change", err)
	}
	set()
	return nil
}

// exists reports whether the query finds a row.
func exists(ctx context.Context, q querier, sql string, args ...any) (bool, error) {
	var one int
	err := q.QueryRow(ctx, sql, args...).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// insertID runs an INSERT ... RETURNING id, reporting a unique violation
// as ECONFLICT with taken.
func insertID(ctx context.Context, tx pgx.Tx, op, taken, sql string, args ...any) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, sql, args...).Scan(&id)
	if isUniqueViolation(err) {
		return 0, cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
	}
	if err != nil {
		return 0, internal(op, err)
	}
	return id, nil
}

// CreateOrg adds an organisation, setting o's ID and Created and writing
// its Nation in upper case and Sector in lower case. Returns EINVALID for
// a bad name, a nation that is not an assigned ISO 3166-1 alpha-2 code, or
// a sector not in cyberpact.Sectors; ECONFLICT when the name is taken
// (whatever its case).
func (db *DB) CreateOrg(ctx context.Context, o *cyberpact.Org, actor string) error {
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
	created := now()
	var id int64
	err = db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		taken := fmt.Sprintf("an organisation named %q exists", o.Name)
		if ok, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE lower(name) = lower($1)`, o.Name); err != nil {
			return "", internal("creating organisation", err)
		} else if ok {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		if id, err = insertID(ctx, tx, "creating organisation", taken, `INSERT INTO orgs (name, nation, sector, created) VALUES ($1, $2, $3, $4) RETURNING id`,
			o.Name, nation, sector, created.UnixMicro()); err != nil {
			return "", err
		}
		return fmt.Sprintf("created organisation %q (id %d, nation %s, sector %s)", o.Name, id, nation, sector), nil
	})
	if err != nil {
		return err
	}
	o.ID, o.Nation, o.Sector, o.Created = id, nation, sector, created
	return nil
}

const orgColumns = `id, name, nation, sector, created`

func scanOrg(row pgx.Row) (*cyberpact.Org, error) {
	var o cyberpact.Org
	var created int64
	if err := row.Scan(&o.ID, &o.Name, &o.Nation, &o.Sector, &created); err != nil {
		return nil, err
	}
	o.Created = micros(created)
	return &o, nil
}

// byName orders rows by name whatever its case, as the SQLite store does,
// and independently of the database's collation.
const byName = `lower(name) COLLATE "C", id`

// Orgs lists the organisations by name.
func (db *DB) Orgs(ctx context.Context) ([]*cyberpact.Org, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+orgColumns+` FROM orgs ORDER BY `+byName)
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
func (db *DB) OrgByName(ctx context.Context, name string) (*cyberpact.Org, error) {
	o, err := scanOrg(db.pool.QueryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE lower(name) = lower($1)`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation named %q", name)
	}
	if err != nil {
		return nil, internal("reading organisation", err)
	}
	return o, nil
}

// OrgByID returns ENOTFOUND when there is none.
func (db *DB) OrgByID(ctx context.Context, id int64) (*cyberpact.Org, error) {
	o, err := scanOrg(db.pool.QueryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation with id %d", id)
	}
	if err != nil {
		return nil, internal("reading organisation", err)
	}
	return o, nil
}

// orgNames returns the names of orgs, in order, inside tx. Returns
// ENOTFOUND naming the first id that is no organisation.
func orgNames(ctx context.Context, tx pgx.Tx, orgs []int64) ([]string, error) {
	names := make([]string, len(orgs))
	for i, id := range orgs {
		err := tx.QueryRow(ctx, `SELECT name FROM orgs WHERE id = $1`, id).Scan(&names[i])
		if errors.Is(err, pgx.ErrNoRows) {
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

// setMembers replaces group's members with orgs.
func setMembers(ctx context.Context, tx pgx.Tx, group int64, orgs []int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM group_orgs WHERE grp = $1`, group); err != nil {
		return internal("setting group members", err)
	}
	if len(orgs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO group_orgs (grp, org) SELECT $1, unnest($2::bigint[])`, group, orgs); err != nil {
		return internal("setting group members", err)
	}
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

// CreateGroup adds a sharing group of existing organisations (possibly
// none yet), setting g's ID and Created and sorting g.Orgs without
// repeats. Returns EINVALID for a bad name, ENOTFOUND for an unknown
// organisation, ECONFLICT when the name is taken.
func (db *DB) CreateGroup(ctx context.Context, g *cyberpact.Group, actor string) error {
	if err := cyberpact.CheckName("group", g.Name); err != nil {
		return err
	}
	orgs := uniqueIDs(g.Orgs)
	created := now()
	var id int64
	err := db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		taken := fmt.Sprintf("a group named %q exists", g.Name)
		if ok, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE lower(name) = lower($1)`, g.Name); err != nil {
			return "", internal("creating group", err)
		} else if ok {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		names, err := orgNames(ctx, tx, orgs)
		if err != nil {
			return "", err
		}
		if id, err = insertID(ctx, tx, "creating group", taken, `INSERT INTO groups (name, created) VALUES ($1, $2) RETURNING id`, g.Name, created.UnixMicro()); err != nil {
			return "", err
		}
		if err := setMembers(ctx, tx, id, orgs); err != nil {
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

// SetGroupOrgs replaces a group's members. Returns ENOTFOUND for an unknown
// group or organisation.
func (db *DB) SetGroupOrgs(ctx context.Context, group int64, orgs []int64, actor string) error {
	orgs = uniqueIDs(orgs)
	return db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM groups WHERE id = $1 FOR UPDATE`, group).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no group with id %d", group)
		}
		if err != nil {
			return "", internal("reading group", err)
		}
		rows, err := tx.Query(ctx, `SELECT org FROM group_orgs WHERE grp = $1 ORDER BY org`, group)
		if err != nil {
			return "", internal("reading group", err)
		}
		before, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return "", internal("reading group", err)
		}
		names, err := orgNames(ctx, tx, orgs)
		if err != nil {
			return "", err
		}
		was, err := orgNames(ctx, tx, before)
		if err != nil {
			return "", err
		}
		if err := setMembers(ctx, tx, group, orgs); err != nil {
			return "", err
		}
		return fmt.Sprintf("set members of group %q (id %d) to %s; were %s", name, group, listNames(names), listNames(was)), nil
	})
}

// groups reads groups (all, or the one named) with their members.
func (db *DB) groups(ctx context.Context, name string) ([]*cyberpact.Group, error) {
	q := `SELECT g.id, g.name, g.created, COALESCE(array_agg(m.org ORDER BY m.org) FILTER (WHERE m.org IS NOT NULL), '{}')
		FROM groups g LEFT JOIN group_orgs m ON m.grp = g.id`
	var a args
	if name != "" {
		q += ` WHERE lower(g.name) = lower(` + a.add(name) + `)`
	}
	rows, err := db.pool.Query(ctx, q+` GROUP BY g.id ORDER BY lower(g.name) COLLATE "C", g.id`, a...)
	if err != nil {
		return nil, internal("listing groups", err)
	}
	defer rows.Close()
	var out []*cyberpact.Group
	for rows.Next() {
		var g cyberpact.Group
		var created int64
		if err := rows.Scan(&g.ID, &g.Name, &created, &g.Orgs); err != nil {
			return nil, internal("listing groups", err)
		}
		g.Created = micros(created)
		out = append(out, &g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("listing groups", err)
	}
	return out, nil
}

// Groups lists the groups by name, each with its members' ids in order.
func (db *DB) Groups(ctx context.Context) ([]*cyberpact.Group, error) {
	return db.groups(ctx, "")
}

// GroupByName returns the group of that name, whatever its case. Returns
// ENOTFOUND when there is none.
func (db *DB) GroupByName(ctx context.Context, name string) (*cyberpact.Group, error) {
	gs, err := db.groups(ctx, name)
	if err != nil {
		return nil, err
	}
	if len(gs) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no group named %q", name)
	}
	return gs[0], nil
}

// GroupsOf returns the ids of the groups org belongs to, in order.
func (db *DB) GroupsOf(ctx context.Context, org int64) ([]int64, error) {
	return groupsOf(ctx, db.pool, org)
}

func groupsOf(ctx context.Context, q querier, org int64) ([]int64, error) {
	rows, err := q.Query(ctx, `SELECT grp FROM group_orgs WHERE org = $1 ORDER BY grp`, org)
	if err != nil {
		return nil, internal("reading groups", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, internal("reading groups", err)
	}
	if out == nil {
		out = []int64{}
	}
	return out, nil
}

// CreateUser adds a user, setting u's ID and Created. Returns EINVALID for
// a bad name or role, ENOTFOUND for an unknown organisation, ECONFLICT when
// the name is taken (whatever its case).
func (db *DB) CreateUser(ctx context.Context, u *cyberpact.User, actor string) error {
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
	created := now()
	var id int64
	err := db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		names, err := orgNames(ctx, tx, []int64{u.Org})
		if err != nil {
			return "", err
		}
		taken := fmt.Sprintf("a user named %q exists", u.Name)
		if ok, err := exists(ctx, tx, `SELECT 1 FROM users WHERE lower(name) = lower($1)`, u.Name); err != nil {
			return "", internal("creating user", err)
		} else if ok {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
		}
		if id, err = insertID(ctx, tx, "creating user", taken, `INSERT INTO users (name, org, role, created) VALUES ($1, $2, $3, $4) RETURNING id`,
			u.Name, u.Org, string(u.Role), created.UnixMicro()); err != nil {
			return "", err
		}
		return fmt.Sprintf("created user %q (id %d, role %s) in organisation %q", u.Name, id, u.Role, names[0]), nil
	})
	if err != nil {
		return err
	}
	u.ID, u.Created = id, created
	return nil
}

const userColumns = `id, name, org, role, created`

func scanUser(row pgx.Row) (*cyberpact.User, error) {
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
func (db *DB) Users(ctx context.Context, org int64) ([]*cyberpact.User, error) {
	var a args
	q := `SELECT ` + userColumns + ` FROM users`
	if org != 0 {
		q += ` WHERE org = ` + a.add(org)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY `+byName, a...)
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
func (db *DB) UserByName(ctx context.Context, name string) (*cyberpact.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(name) = lower($1)`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no user named %q", name)
	}
	if err != nil {
		return nil, internal("reading user", err)
	}
	return u, nil
}

// CreateKey makes a new API key for a user (cyberpact.NewAPIKey): 32 bytes from
// crypto/rand, of which only the SHA-256 is stored. It returns the key,
// the only time it is ever shown, with its description. A zero expires
// means the key does not expire. Returns ENOTFOUND for an unknown user and
// EINVALID for an expiry that is not in the future.
func (db *DB) CreateKey(ctx context.Context, user int64, expires time.Time, actor string) (string, *cyberpact.APIKey, error) {
	created := now()
	expires, err := cyberpact.CheckKeyExpiry(expires, created)
	if err != nil {
		return "", nil, err
	}
	key, prefix, sum, err := cyberpact.NewAPIKey()
	if err != nil {
		return "", nil, internal("making a key", err)
	}
	k := &cyberpact.APIKey{User: user, Prefix: prefix, Created: created, Expires: expires}
	err = db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		var name string
		err := tx.QueryRow(ctx, `SELECT name FROM users WHERE id = $1`, user).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no user with id %d", user)
		}
		if err != nil {
			return "", internal("reading user", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO api_keys (user_id, hash, prefix, created, expires) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			user, sum[:], k.Prefix, created.UnixMicro(), toMicros(expires)).Scan(&k.ID); err != nil {
			return "", internal("storing a key", err)
		}
		until := "never expires"
		if !expires.IsZero() {
			until = "expires " + expires.Format(time.RFC3339)
		}
		return fmt.Sprintf("created key %d for user %q; %s", k.ID, name, until), nil
	})
	if err != nil {
		return "", nil, err
	}
	return key, k, nil
}

// RevokeKey revokes a key by id; revoking a revoked key changes nothing.
// Returns ENOTFOUND.
func (db *DB) RevokeKey(ctx context.Context, id int64, actor string) error {
	err := db.change(ctx, actor, func(tx pgx.Tx) (string, error) {
		var name string
		var revoked int64
		err := tx.QueryRow(ctx, `SELECT u.name, k.revoked FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = $1 FOR UPDATE OF k`, id).Scan(&name, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no key with id %d", id)
		}
		if err != nil {
			return "", internal("reading key", err)
		}
		if revoked != 0 {
			return "", errAlreadyRevoked
		}
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked = $1 WHERE id = $2`, now().UnixMicro(), id); err != nil {
			return "", internal("revoking key", err)
		}
		return fmt.Sprintf("revoked key %d of user %q", id, name), nil
	})
	if errors.Is(err, errAlreadyRevoked) {
		return nil
	}
	return err
}

// errAlreadyRevoked stops a revocation that would change nothing.
var errAlreadyRevoked = errors.New("already revoked")

const keyColumns = `id, user_id, prefix, created, expires, revoked, last_used`

// Keys lists keys by id, of one user when user != 0.
func (db *DB) Keys(ctx context.Context, user int64) ([]*cyberpact.APIKey, error) {
	var a args
	q := `SELECT ` + keyColumns + ` FROM api_keys`
	if user != 0 {
		q += ` WHERE user_id = ` + a.add(user)
	}
	rows, err := db.pool.Query(ctx, q+` ORDER BY id`, a...)
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
// The key is found by its SHA-256 and the stored hash compared in constant
// time. Returns EUNAUTHORIZED for an unknown, expired or revoked key, or a
// user mismatch, always with the same message. The key's last use is
// recorded in the background, at most once a minute.
func (db *DB) Authenticate(ctx context.Context, user, key string) (*cyberpact.Principal, error) {
	sum, ok := cyberpact.APIKeyHash(key)
	if !ok {
		return nil, cyberpact.ErrInvalidCredentials()
	}
	var p cyberpact.Principal
	var hash []byte
	var k cyberpact.APIKey
	var role string
	var expires, revoked, used, ucreated, ocreated int64
	err := db.pool.QueryRow(ctx, `SELECT k.id, k.hash, k.expires, k.revoked, k.last_used,
			u.id, u.name, u.org, u.role, u.created, o.id, o.name, o.nation, o.sector, o.created,
			COALESCE((SELECT array_agg(grp ORDER BY grp) FROM group_orgs WHERE org = o.id), '{}')
		FROM api_keys k JOIN users u ON u.id = k.user_id JOIN orgs o ON o.id = u.org
		WHERE k.hash = $1`, sum[:]).Scan(&k.ID, &hash, &expires, &revoked, &used,
		&p.User.ID, &p.User.Name, &p.User.Org, &role, &ucreated,
		&p.Org.ID, &p.Org.Name, &p.Org.Nation, &p.Org.Sector, &ocreated, &p.Groups)
	if errors.Is(err, pgx.ErrNoRows) {
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
	if t.Sub(micros(used)) >= lastUsedEvery {
		db.keyUse.note(k.ID, t)
	}
	return &p, nil
}

// keyUse writes keys' last-used times in the background, so that an
// authentication never waits for a write, at most one write per key at a
// time; Authenticate asks only when the stored time is a minute old.
type keyUse struct {
	pool   *pgxpool.Pool
	mu     sync.Mutex
	closed bool
	queued map[int64]bool // keys whose use is being written
	wg     sync.WaitGroup
}

// note records in the background that key id was used at t.
func (u *keyUse) note(id int64, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || u.queued[id] {
		return
	}
	u.queued[id] = true
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// Best effort: a failed write is retried on a later use.
		u.pool.Exec(ctx, `UPDATE api_keys SET last_used = GREATEST(last_used, $1) WHERE id = $2`, t.UnixMicro(), id)
		u.mu.Lock()
		delete(u.queued, id)
		u.mu.Unlock()
	}()
}

// close waits for the writes under way.
func (u *keyUse) close() {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	u.wg.Wait()
}

// auditChange appends e, describing an account or peer change, to the
// audit chain in the change's own transaction, open on conn: the entry
// commits exactly when the change does. The returned function publishes
// the new head of the chain once the change has committed.
func (db *DB) auditChange(ctx context.Context, conn *sql.Conn, e *cyberpact.AuditEntry) (func(), error) {
	req, err := newAuditReq([]*cyberpact.AuditEntry{e})
	if err != nil {
		return nil, err
	}
	var set func()
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return internal("appending to the audit log", fmt.Errorf("connection is a %T, not pgx's", dc))
		}
		set, err = appendAudit(ctx, connTx{c.Conn()}, []*auditReq{req})
		return err
	})
	return set, err
}

// connTx is a connection inside a transaction that database/sql began on
// it, as the pgx.Tx that appendAudit writes through. It cannot end the
// transaction: database/sql does.
type connTx struct{ c *pgx.Conn }

var _ pgx.Tx = connTx{}

// errNotOwned is the error of ending, or nesting in, a transaction that
// database/sql owns.
var errNotOwned = errors.New("the transaction belongs to database/sql")

func (t connTx) Begin(context.Context) (pgx.Tx, error) { return nil, errNotOwned }
func (t connTx) Commit(context.Context) error          { return errNotOwned }
func (t connTx) Rollback(context.Context) error        { return errNotOwned }
func (t connTx) LargeObjects() pgx.LargeObjects        { return pgx.LargeObjects{} }
func (t connTx) Conn() *pgx.Conn                       { return t.c }

func (t connTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	return t.c.CopyFrom(ctx, table, cols, src)
}

func (t connTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	return t.c.SendBatch(ctx, b)
}

func (t connTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.c.Prepare(ctx, name, sql)
}

func (t connTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t connTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return t.c.Query(ctx, sql, args...)
}

func (t connTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}
