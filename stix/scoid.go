package stix

// SCOID returns the deterministic id of a cyber observable: UUIDv5 in the
// STIX namespace over the canonical JSON of its ID-contributing properties.
// ok is false when the type has none of them present (a UUIDv4 is then
// allowed).
func SCOID(props map[string]any) (id string, ok bool) {
	return "", false
}
