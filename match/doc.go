// Package match compiles STIX indicators into indexes for line-rate
// matching of telemetry: exact-value hash tables for addresses, domains,
// URLs, e-mail addresses, file hashes and other equality tests, a prefix
// table for CIDR ranges, and the pattern engine (package pattern) for the
// patterns an index cannot decide alone, run only on events that pass one
// of their atoms.
//
// An Index is immutable; a Matcher holds the current one behind an atomic
// pointer, so indicators can be added, updated and revoked while matching
// goes on. Indicators come in as raw JSON from any iterator (a bundle
// file, a store), so the source is the caller's choice.
//
// Events are read line by line from JSON lines (Elastic Common Schema field
// names, nested or dotted), Zeek TSV logs or CSV with a header, by Stream,
// which extracts only the configured fields with a small hand-written
// scanner and spreads the work over the cores while keeping output in input
// order.
//
// The package is pure: no I/O beyond the readers and writers it is handed.
package match
