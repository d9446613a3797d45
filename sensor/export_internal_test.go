package sensor

// SetManyIndicators sets the threshold of sighted indicators above which
// a sighted layer reads the relationships in one pass, for tests.
func SetManyIndicators(n int) { manyIndicators = n }
