package sqlstore

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Dialect is what the SQL of the two engines needs told apart, beyond
// the placeholders and lists of Args. Each store sets every field.
type Dialect struct {
	// Numbered is PostgreSQL's SQL: $n placeholders, = ANY lists (see
	// Args), names folded with lower() and ordered bytewise, and row
	// locks. Otherwise SQLite's: ?, IN lists, names folded by their
	// columns' COLLATE NOCASE.
	Numbered bool
	// KeyUser and PeerUser name the columns of api_keys and peers that
	// hold the user (SQLite: user; PostgreSQL, where user is reserved:
	// user_id and username).
	KeyUser, PeerUser string
	// Unique and ForeignKey report whether err is the engine's unique or
	// foreign key constraint violation.
	Unique, ForeignKey func(error) bool
}

// Args returns an empty argument list in d's placeholders.
func (d Dialect) Args() *Args { return &Args{Numbered: d.Numbered} }

// NameIs is "the name column col is name, whatever its case", with
// name's placeholder added to a.
func (d Dialect) NameIs(col string, a *Args, name string) string {
	if d.Numbered {
		return "lower(" + col + ") = lower(" + a.Add(name) + ")"
	}
	return col + " = " + a.Add(name) // the column is COLLATE NOCASE
}

// ByName orders rows by their name column col (name, or t.name for the
// table alias t) whatever its case, the same in both engines (bytewise on
// the folded name, whatever the database's collation), ties by the id
// column beside it.
func (d Dialect) ByName(col string) string {
	id := "id"
	if i := len(col) - len("name"); i > 0 {
		id = col[:i] + "id"
	}
	if d.Numbered {
		return "lower(" + col + `) COLLATE "C", ` + id
	}
	return col + ", " + id
}

// ForUpdate is the clause that locks the rows a SELECT reads until its
// transaction ends (of the tables named in of, when not empty). SQLite has
// none and needs none: its writes are serialised.
func (d Dialect) ForUpdate(of string) string {
	if !d.Numbered {
		return ""
	}
	if of != "" {
		return " FOR UPDATE OF " + of
	}
	return " FOR UPDATE"
}

// Greatest is the later of two values.
func (d Dialect) Greatest(x, y string) string {
	if d.Numbered {
		return "GREATEST(" + x + ", " + y + ")"
	}
	return "max(" + x + ", " + y + ")"
}

// ListInts is the aggregate of the integer column col over a group's rows
// as one text, the values separated by commas in no set order (NULL for
// no rows); see parseInts.
func (d Dialect) ListInts(col string) string {
	if d.Numbered {
		return "string_agg((" + col + ")::text, ',')"
	}
	return "group_concat(" + col + ", ',')"
}

// parseInts reads a ListInts text, sorted; an empty slice for none.
func parseInts(list string) ([]int64, error) {
	out := []int64{}
	for f := range strings.SplitSeq(list, ",") {
		if f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// chunk is how many values one IN list may hold: SQLite takes a
// placeholder for each, PostgreSQL one array for all.
func (d Dialect) chunk() int {
	if d.Numbered {
		return 1 << 20
	}
	return 500
}

// Hooks are what each store does its own way around the common reads and
// writes. Audit is required (a change is refused without it); every other
// hook may be nil where the store has nothing to do (without Sealer, the
// store keeps no peers).
type Hooks struct {
	// Audit records e, the description of an account or peer change made
	// in a transaction still open on conn, so that the change commits only
	// with its entry recorded; after, when not nil, runs once the change
	// has committed.
	Audit func(ctx context.Context, conn *sql.Conn, e *cyberpact.AuditEntry) (after func(), err error)
	// Sealer returns the AEAD that seals peers' keys.
	Sealer func(ctx context.Context) (cipher.AEAD, error)
	// Purging runs in the transaction of an exercise's purge, before it
	// commits, with the seqs of the object versions it deleted.
	Purging func(ctx context.Context, tx *sql.Tx, seqs []int64) error
	// Purge runs in the transaction of a retention purge (PurgeVersions),
	// before it commits, with the seqs of the versions it removed: it
	// removes what the engine keeps of them beyond the shared tables
	// (search terms, correlation rows). PurgeVersions itself logs the
	// purge in the log of deletes.
	Purge func(ctx context.Context, tx *sql.Tx, seqs []int64) error
	// Residue counts what the engine still keeps of the versions seqs
	// ("what: n rows" for each place holding any).
	Residue func(ctx context.Context, seqs []int64) ([]string, error)
	// DeleteLock, when not nil, runs first in a transaction that deletes
	// object versions (StatsDeleting): it holds the lock under which the
	// log of deletes is written (PostgreSQL: the import lock), so that the
	// last delete read at its start is the last before its own.
	DeleteLock func(ctx context.Context, tx *sql.Tx) error
	// Changed runs after a delete of object versions has committed.
	Changed func()
	// WriteMu, when not nil, is held by the exercises' writes (SQLite:
	// the lock that keeps them from interleaving with an import).
	WriteMu *sync.Mutex
}

// Store is the reads and writes both SQL stores share: accounts, peers,
// exercises and POST statuses, over database/sql. sqlite.DB and
// postgres.DB embed it for their methods.
type Store struct {
	read, write *sql.DB
	d           Dialect
	h           Hooks
	keyUse      *keyUse // API keys' last uses waiting to be written
	stats       statsCache
}

// New returns the shared store over read (for reads) and write (for
// writes; the same *sql.DB where the engine has no single writer). Close
// stops its background writer.
func New(read, write *sql.DB, d Dialect, h Hooks) *Store {
	return &Store{read: read, write: write, d: d, h: h, keyUse: startKeyUse(write, d)}
}

// Close writes the keys' uses noted so far and stops the background
// writer; the store's own Close calls it before closing the connections.
func (s *Store) Close() error {
	s.FlushStats()
	s.keyUse.close()
	return nil
}

// lock holds the hooks' write lock, if any, until the returned function
// is called.
func (s *Store) lock() func() {
	if s.h.WriteMu == nil {
		return func() {}
	}
	s.h.WriteMu.Lock()
	return s.h.WriteMu.Unlock
}

// internal wraps an unexpected database error.
func internal(op string, err error) error {
	return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: op, Err: err}
}

// micros turns a stored time (unix microseconds, 0 for none) into a time:
// the reverse of ToMicros.
func micros(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// ToMicros is a time as both stores keep it: unix microseconds, 0 for the
// zero time.
func ToMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// Now is the current time as stored: UTC, to the microsecond.
func Now() time.Time { return time.UnixMicro(time.Now().UnixMicro()).UTC() }

// querier is what a *sql.DB, *sql.Conn and *sql.Tx offer alike.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exists reports whether the query finds a row.
func exists(ctx context.Context, q querier, query string, args ...any) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// unique reports whether err is a unique constraint violation.
func (s *Store) unique(err error) bool { return err != nil && s.d.Unique != nil && s.d.Unique(err) }

// insertID runs an INSERT ... RETURNING id, reporting a unique violation
// as ECONFLICT with the message taken.
func (s *Store) insertID(ctx context.Context, q querier, op, taken, query string, args ...any) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, query, args...).Scan(&id)
	if s.unique(err) {
		return 0, cyberpact.Errorf(cyberpact.ECONFLICT, "%s", taken)
	}
	if err != nil {
		return 0, internal(op, err)
	}
	return id, nil
}

// int64s reads a one-column result of integers, an empty slice for none.
func int64s(rows *sql.Rows, err error) ([]int64, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Contains is "the text column col holds the text of the placeholder
// param".
func (d Dialect) Contains(col, param string) string {
	if d.Numbered {
		return "strpos(" + col + ", " + param + ") > 0"
	}
	return "instr(" + col + ", " + param + ") > 0"
}
