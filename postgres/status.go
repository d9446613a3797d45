package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/jackc/pgx/v5"
)

// Ensure DB keeps POST statuses.
var _ cyberpact.StatusStore = (*DB)(nil)

// CreateStatus stores s, readable afterwards by s.Org alone. Returns
// EINVALID when s has no id and ECONFLICT when its id is taken.
func (db *DB) CreateStatus(ctx context.Context, s *cyberpact.Status) error {
	if s.ID == "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "a status needs an id")
	}
	if s.RequestTimestamp.IsZero() {
		s.RequestTimestamp = time.Now().UTC()
	}
	body, err := json.Marshal(s)
	if err != nil {
		return internal("encoding status", err)
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO statuses (id, org, created, body) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
		s.ID, s.Org, s.RequestTimestamp.UnixMicro(), body)
	if err != nil {
		return internal("storing status", err)
	}
	if tag.RowsAffected() == 0 {
		return cyberpact.Errorf(cyberpact.ECONFLICT, "status %s already exists", s.ID)
	}
	return nil
}

// Status returns the status id posted by org. Returns ENOTFOUND when there
// is none or another organisation posted it: the two look the same.
func (db *DB) Status(ctx context.Context, id string, org int64) (*cyberpact.Status, error) {
	var body []byte
	err := db.pool.QueryRow(ctx, `SELECT body FROM statuses WHERE id = $1 AND org = $2`, id, org).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no status %s", id)
	}
	if err != nil {
		return nil, internal("reading status", err)
	}
	var s cyberpact.Status
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, internal("decoding status", err)
	}
	s.Org = org
	return &s, nil
}
