package sqlite

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
)

// Accounts are in the objects' file (migration 0003): organisations,
// sharing groups, users and API keys. Changes go through the one writer,
// each in a transaction that commits only after its audit entry is on disk,
// so no change is ever left unaudited. Reads, Authenticate among them, use
// the read pool and never wait for a writer.

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

// change runs fn in a write transaction and commits it only once the
// audit entry describing it (fn's result) is durable.
func (db *DB) change(ctx context.Context, actor string, fn func(tx *sql.Tx) (string, error)) error {
	if err := cyberpact.CheckActor(actor); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("beginning account change", err)
	}
	defer tx.Rollback()
	detail, err := fn(tx)
	if err != nil {
		return err
	}
	e := &cyberpact.AuditEntry{Action: cyberpact.AuditAccount, Actor: actor, Detail: detail}
	if actor == "cli" {
		e.Via = "cli"
	} else if err := tx.QueryRowContext(ctx, `SELECT org FROM users WHERE name = ?`, actor).Scan(&e.ActorOrg); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return internal("reading actor", err)
	}
	if err := db.Audit(ctx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal("committing account change", err)
	}
	return nil
}

// exists reports whether the query finds a row.
func exists(ctx context.Context, tx *sql.Tx, q string, args ...any) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
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
	err = db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		if taken, err := exists(ctx, tx, `SELECT 1 FROM orgs WHERE name = ?`, o.Name); err != nil {
			return "", internal("creating organisation", err)
		} else if taken {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "an organisation named %q exists", o.Name)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO orgs (name, nation, sector, created) VALUES (?, ?, ?, ?) RETURNING id`,
			o.Name, nation, sector, created.UnixMicro()).Scan(&id); err != nil {
			return "", internal("creating organisation", err)
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

func scanOrg(row interface{ Scan(...any) error }) (*cyberpact.Org, error) {
	var o cyberpact.Org
	var created int64
	if err := row.Scan(&o.ID, &o.Name, &o.Nation, &o.Sector, &created); err != nil {
		return nil, err
	}
	o.Created = micros(created)
	return &o, nil
}

// Orgs lists the organisations by name.
func (db *DB) Orgs(ctx context.Context) ([]*cyberpact.Org, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+orgColumns+` FROM orgs ORDER BY name`)
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
	o, err := scanOrg(db.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no organisation named %q", name)
	}
	if err != nil {
		return nil, internal("reading organisation", err)
	}
	return o, nil
}

// OrgByID returns ENOTFOUND when there is none.
func (db *DB) OrgByID(ctx context.Context, id int64) (*cyberpact.Org, error) {
	o, err := scanOrg(db.read.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id))
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
func orgNames(ctx context.Context, tx *sql.Tx, orgs []int64) ([]string, error) {
	names := make([]string, len(orgs))
	for i, id := range orgs {
		err := tx.QueryRowContext(ctx, `SELECT name FROM orgs WHERE id = ?`, id).Scan(&names[i])
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
func setMembers(ctx context.Context, tx *sql.Tx, group int64, orgs []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM group_orgs WHERE grp = ?`, group); err != nil {
		return internal("setting group members", err)
	}
	for _, o := range orgs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO group_orgs (grp, org) VALUES (?, ?)`, group, o); err != nil {
			return internal("setting group members", err)
		}
	}
	return nil
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
	err := db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		if taken, err := exists(ctx, tx, `SELECT 1 FROM groups WHERE name = ?`, g.Name); err != nil {
			return "", internal("creating group", err)
		} else if taken {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "a group named %q exists", g.Name)
		}
		names, err := orgNames(ctx, tx, orgs)
		if err != nil {
			return "", err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO groups (name, created) VALUES (?, ?) RETURNING id`, g.Name, created.UnixMicro()).Scan(&id); err != nil {
			return "", internal("creating group", err)
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
func (db *DB) SetGroupOrgs(ctx context.Context, group int64, orgs []int64, actor string) error {
	orgs = uniqueIDs(orgs)
	return db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = ?`, group).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no group with id %d", group)
		}
		if err != nil {
			return "", internal("reading group", err)
		}
		var before []int64
		rows, err := tx.QueryContext(ctx, `SELECT org FROM group_orgs WHERE grp = ? ORDER BY org`, group)
		if err != nil {
			return "", internal("reading group", err)
		}
		for rows.Next() {
			var o int64
			if err := rows.Scan(&o); err != nil {
				rows.Close()
				return "", internal("reading group", err)
			}
			before = append(before, o)
		}
		rows.Close()
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
	q := `SELECT g.id, g.name, g.created, m.org FROM groups g LEFT JOIN group_orgs m ON m.grp = g.id`
	var args []any
	if name != "" {
		q += ` WHERE g.name = ?`
		args = append(args, name)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY g.name, g.id, m.org`, args...)
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
	return groupsOf(ctx, db.read, org)
}

func groupsOf(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, org int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT grp FROM group_orgs WHERE org = ? ORDER BY grp`, org)
	if err != nil {
		return nil, internal("reading groups", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			return nil, internal("reading groups", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading groups", err)
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
	err := db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		names, err := orgNames(ctx, tx, []int64{u.Org})
		if err != nil {
			return "", err
		}
		if taken, err := exists(ctx, tx, `SELECT 1 FROM users WHERE name = ?`, u.Name); err != nil {
			return "", internal("creating user", err)
		} else if taken {
			return "", cyberpact.Errorf(cyberpact.ECONFLICT, "a user named %q exists", u.Name)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO users (name, org, role, created) VALUES (?, ?, ?, ?) RETURNING id`,
			u.Name, u.Org, string(u.Role), created.UnixMicro()).Scan(&id); err != nil {
			return "", internal("creating user", err)
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

func scanUser(row interface{ Scan(...any) error }) (*cyberpact.User, error) {
	var u cyberpact.User
	var created int64
	if err := row.Scan(&u.ID, &u.Name, &u.Org, &u.Role, &created); err != nil {
		return nil, err
	}
	u.Created = micros(created)
	return &u, nil
}

// Users lists users by name, of one organisation when org != 0.
func (db *DB) Users(ctx context.Context, org int64) ([]*cyberpact.User, error) {
	q, args := `SELECT `+userColumns+` FROM users`, []any{}
	if org != 0 {
		q += ` WHERE org = ?`
		args = append(args, org)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY name`, args...)
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
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
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
	err = db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		var name string
		err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE id = ?`, user).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no user with id %d", user)
		}
		if err != nil {
			return "", internal("reading user", err)
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_keys (user, hash, prefix, created, expires) VALUES (?, ?, ?, ?, ?) RETURNING id`,
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
	var already bool
	err := db.change(ctx, actor, func(tx *sql.Tx) (string, error) {
		var name string
		var revoked int64
		err := tx.QueryRowContext(ctx, `SELECT u.name, k.revoked FROM api_keys k JOIN users u ON u.id = k.user WHERE k.id = ?`, id).Scan(&name, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no key with id %d", id)
		}
		if err != nil {
			return "", internal("reading key", err)
		}
		if revoked != 0 {
			already = true
			return "", errAlreadyRevoked
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked = ? WHERE id = ?`, now().UnixMicro(), id); err != nil {
			return "", internal("revoking key", err)
		}
		return fmt.Sprintf("revoked key %d of user %q", id, name), nil
	})
	if already {
		return nil
	}
	return err
}

// errAlreadyRevoked stops a revocation that would change nothing.
var errAlreadyRevoked = errors.New("already revoked")

const keyColumns = `id, user, prefix, created, expires, revoked, last_used`

// Keys lists keys by id, of one user when user != 0.
func (db *DB) Keys(ctx context.Context, user int64) ([]*cyberpact.APIKey, error) {
	q, args := `SELECT `+keyColumns+` FROM api_keys`, []any{}
	if user != 0 {
		q += ` WHERE user = ?`
		args = append(args, user)
	}
	rows, err := db.read.QueryContext(ctx, q+` ORDER BY id`, args...)
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
	var expires, revoked, used, ucreated, ocreated int64
	err := db.read.QueryRowContext(ctx, `SELECT k.id, k.hash, k.expires, k.revoked, k.last_used,
			u.id, u.name, u.org, u.role, u.created, o.id, o.name, o.nation, o.sector, o.created
		FROM api_keys k JOIN users u ON u.id = k.user JOIN orgs o ON o.id = u.org
		WHERE k.hash = ?`, sum[:]).Scan(&k.ID, &hash, &expires, &revoked, &used,
		&p.User.ID, &p.User.Name, &p.User.Org, &p.User.Role, &ucreated,
		&p.Org.ID, &p.Org.Name, &p.Org.Nation, &p.Org.Sector, &ocreated)
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
	p.User.Created, p.Org.Created = micros(ucreated), micros(ocreated)
	if p.Groups, err = groupsOf(ctx, db.read, p.Org.ID); err != nil {
		return nil, err
	}
	if t.Sub(micros(used)) >= lastUsedEvery {
		db.keyUse.note(k.ID, t)
	}
	return &p, nil
}

// keyUse writes keys' last-used times in the background, so that an
// authentication never waits for the objects' writer (which a long import
// may hold), and at most once a minute per key.
type keyUse struct {
	db *sql.DB

	mu     sync.Mutex
	closed bool
	queued map[int64]time.Time // when each key's use was last handed to the writer
	uses   chan keyUsed
	done   chan struct{}
}

type keyUsed struct {
	id int64
	at time.Time
}

func startKeyUse(db *sql.DB) *keyUse {
	u := &keyUse{db: db, queued: map[int64]time.Time{}, uses: make(chan keyUsed, 256), done: make(chan struct{})}
	go u.writer()
	return u
}

// note records that key id was used at t, unless that was done less than
// a minute ago. It never blocks: when the writer is behind, the use is
// dropped and a later one recorded instead.
func (u *keyUse) note(id int64, t time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed || t.Sub(u.queued[id]) < lastUsedEvery {
		return
	}
	select {
	case u.uses <- keyUsed{id, t}:
		u.queued[id] = t
	default:
	}
}

func (u *keyUse) writer() {
	defer close(u.done)
	for first := range u.uses {
		batch := map[int64]time.Time{first.id: first.at}
	more:
		for {
			select {
			case x, ok := <-u.uses:
				if !ok {
					break more
				}
				batch[x.id] = x.at
			default:
				break more
			}
		}
		// Best effort: a failed write is retried on a later use.
		if err := u.write(batch); err != nil {
			u.mu.Lock()
			for id := range batch {
				delete(u.queued, id)
			}
			u.mu.Unlock()
		}
	}
}

func (u *keyUse) write(batch map[int64]time.Time) error {
	ctx := context.Background()
	tx, err := u.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for id, at := range batch {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used = max(last_used, ?) WHERE id = ?`, at.UnixMicro(), id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// close writes the uses noted so far and stops the writer.
func (u *keyUse) close() {
	u.mu.Lock()
	if !u.closed {
		u.closed = true
		close(u.uses)
	}
	u.mu.Unlock()
	<-u.done
}

// auditChange records e, describing an account or peer change, before the
// change commits: the audit log is a file of its own, and the change
// commits only once its entry is on disk.
func (db *DB) auditChange(ctx context.Context, _ *sql.Conn, e *cyberpact.AuditEntry) (func(), error) {
	return nil, db.Audit(ctx, e)
}
