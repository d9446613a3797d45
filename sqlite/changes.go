package sqlite

import (
	"github.com/cyberpact/cyberpact"
)

// Ensure DB tells of changes (LastSeq and DeletedSince come from the
// shared store core).
var _ cyberpact.ChangeNotifier = (*DB)(nil)

// Changes subscribes to committed imports and deletes; see
// cyberpact.ChangeNotifier. The embedded store has one process, so its
// own writes (db.changes.Notify) are all there is to hear of.
func (db *DB) Changes() (<-chan struct{}, func()) {
	return db.changes.Subscribe()
}
