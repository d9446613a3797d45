package postgres

import (
	"database/sql"

	"github.com/cyberpact/cyberpact/sqlstore"
)

// SQL returns the store's pool through database/sql and its dialect.
func (db *DB) SQL() (*sql.DB, sqlstore.Dialect) { return db.sql, dialect }
