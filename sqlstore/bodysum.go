package sqlstore

import (
	"bytes"
	"context"

	"github.com/cyberpact/cyberpact"
)

// Ensure the shared store finds and repairs damaged bodies.
var _ cyberpact.BodyChecker = (*Store)(nil)

// DamagedBodies reads every stored body that has a checksum and returns
// the versions whose body does not match it; see cyberpact.BodyChecker.
func (s *Store) DamagedBodies(ctx context.Context) ([]cyberpact.DamagedVersion, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT seq, id, version, body, sum FROM objects WHERE sum IS NOT NULL ORDER BY seq`)
	if err != nil {
		return nil, internal("reading stored bodies", err)
	}
	defer rows.Close()
	var out []cyberpact.DamagedVersion
	for rows.Next() {
		var d cyberpact.DamagedVersion
		var body []byte
		var sum int64
		if err := rows.Scan(&d.Seq, &d.ID, &d.Modified, &body, &sum); err != nil {
			return nil, internal("reading stored bodies", err)
		}
		if cyberpact.BodySum(body) != sum {
			out = append(out, d)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, internal("reading stored bodies", err)
	}
	return out, nil
}

// RepairBodies restores damaged versions from good copies; see
// cyberpact.BodyChecker.
func (s *Store) RepairBodies(ctx context.Context, good []*cyberpact.Object) ([]cyberpact.DamagedVersion, error) {
	defer s.lock()()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal("beginning repair", err)
	}
	defer tx.Rollback()
	var out []cyberpact.DamagedVersion
	for _, o := range good {
		sum := cyberpact.BodySum(o.Raw)
		a := s.d.Args()
		rows, err := tx.QueryContext(ctx, `SELECT seq, body FROM objects WHERE id = `+a.Add(o.ID)+` AND version = `+a.Add(o.Modified)+` AND sum = `+a.Add(sum), a.Vals...)
		if err != nil {
			return nil, internal("reading stored bodies", err)
		}
		var seqs []int64
		for rows.Next() {
			var seq int64
			var body []byte
			if err := rows.Scan(&seq, &body); err != nil {
				rows.Close()
				return nil, internal("reading stored bodies", err)
			}
			if !bytes.Equal(body, o.Raw) {
				seqs = append(seqs, seq)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, internal("reading stored bodies", err)
		}
		for _, seq := range seqs {
			a := s.d.Args()
			if _, err := tx.ExecContext(ctx, `UPDATE objects SET body = `+a.Add([]byte(o.Raw))+` WHERE seq = `+a.Add(seq), a.Vals...); err != nil {
				return nil, internal("repairing a stored body", err)
			}
			out = append(out, cyberpact.DamagedVersion{Seq: seq, ID: o.ID, Modified: o.Modified})
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, internal("committing repair", err)
	}
	return out, nil
}
