package postgres_test

import (
	"testing"

	"github.com/cyberpact/cyberpact/storetest"
)

// TestAuditScopes runs the suite of compact audit entries every store
// passes.
func TestAuditScopes(t *testing.T) {
	requirePostgres(t)
	storetest.RunAuditScopes(t, func(t *testing.T) storetest.AuditStore { return openDB(t) })
}
