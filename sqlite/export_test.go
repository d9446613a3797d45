package sqlite

// SetBulkAfter sets how many versions an import adds before it may go bulk,
// and returns a function that restores the default.
func SetBulkAfter(n int64) func() {
	old := bulkAfter
	bulkAfter = n
	return func() { bulkAfter = old }
}

// BulkImports counts the imports that went bulk.
func BulkImports() int64 { return bulkImports.Load() }
