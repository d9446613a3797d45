package sqlstore

// SetStatsDeleteMax sets statsDeleteMax for a test, returning a function
// that restores it.
func SetStatsDeleteMax(n int) func() {
	old := statsDeleteMax
	statsDeleteMax = n
	return func() { statsDeleteMax = old }
}
