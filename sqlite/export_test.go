package sqlite

import (
	"database/sql"

	"github.com/cyberpact/cyberpact/sqlstore"
)

// SetBulkAfter sets how many versions an import adds before it may go bulk,
// and returns a function that restores the default.
func SetBulkAfter(n int64) func() {
	old := bulkAfter
	bulkAfter = n
	return func() { bulkAfter = old }
}

// SetObsRunRows sets how many correlation rows a bulk import stages before
// it writes them, and returns a function that restores the setting.
func SetObsRunRows(n int) func() {
	old := obsRunRows
	obsRunRows = n
	return func() { obsRunRows = old }
}

// BulkImports counts the imports that went bulk.
func BulkImports() int64 { return bulkImports.Load() }

// SQL returns the store's writing connection and its dialect.
func (db *DB) SQL() (*sql.DB, sqlstore.Dialect) { return db.write, dialect }

// BreakAuditLog closes the connection the audit log is appended through,
// so that every later append fails, as on a full disk.
func (db *DB) BreakAuditLog() error { return db.audit.write.Close() }
