package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Ensure Store keeps POST statuses.
var _ cyberpact.StatusStore = (*Store)(nil)

// CreateStatus stores st, readable afterwards by st.Org alone. Returns
// EINVALID when st has no id and ECONFLICT when its id is taken.
func (s *Store) CreateStatus(ctx context.Context, st *cyberpact.Status) error {
	if st.ID == "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "a status needs an id")
	}
	if st.RequestTimestamp.IsZero() {
		st.RequestTimestamp = time.Now().UTC()
	}
	body, err := json.Marshal(st)
	if err != nil {
		return internal("encoding status", err)
	}
	a := s.d.Args()
	res, err := s.write.ExecContext(ctx, `INSERT INTO statuses (id, org, created, body) VALUES (`+a.Add(st.ID)+`, `+a.Add(st.Org)+`, `+a.Add(st.RequestTimestamp.UnixMicro())+`, `+a.Add(body)+`)
		ON CONFLICT (id) DO NOTHING`, a.Vals...)
	if err != nil {
		return internal("storing status", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return cyberpact.Errorf(cyberpact.ECONFLICT, "status %s already exists", st.ID)
	}
	return nil
}

// Status returns the status id posted by org. Returns ENOTFOUND when there
// is none or another organisation posted it: the two look the same.
func (s *Store) Status(ctx context.Context, id string, org int64) (*cyberpact.Status, error) {
	var body []byte
	a := s.d.Args()
	err := s.read.QueryRowContext(ctx, `SELECT body FROM statuses WHERE id = `+a.Add(id)+` AND org = `+a.Add(org), a.Vals...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no status %s", id)
	}
	if err != nil {
		return nil, internal("reading status", err)
	}
	var st cyberpact.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, internal("decoding status", err)
	}
	st.Org = org
	return &st, nil
}
