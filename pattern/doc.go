// Package pattern implements the STIX patterning language (STIX 2.1
// section 9, and the STIX 2.0 dialect): a hand-written lexer and parser
// producing an exported syntax tree, a validator for the rules beyond the
// grammar, a matcher over observed data with the semantics of the OASIS
// reference matcher, and an Index that finds, among many compiled
// indicator patterns, the few that could match a given observation.
//
// Parsing:
//
//	p, err := pattern.ParseVersion("[ipv4-addr:value = '198.51.100.7']", "2.1")
//
// Errors are *Error values carrying the byte offset and column of the
// problem and what was expected there. Nesting deeper than MaxDepth is an
// error, not a stack overflow.
//
// Matching takes []Observation, built from decoded JSON (bundles and/or
// observed-data objects) by ObservationsFromJSON:
//
//	obs, err := pattern.ObservationsFromJSON(doc)
//	res, err := p.Match(obs) // res.Matched, res.IDs
//
// The search for bindings is lazy and bounded by a step budget
// (DefaultBudget, MatchOptions.Budget), so patterns built to explode end
// in an error wrapping ErrBudget instead of running without end.
//
// The package is pure: no I/O, no global state beyond constant tables.
package pattern
