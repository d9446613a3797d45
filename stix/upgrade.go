package stix

// IsSTIX20 reports whether props is a STIX 2.0 object: an object of a type
// that carries spec_version in 2.1 but lacks it.
func IsSTIX20(props map[string]any) bool {
	_, has := props["spec_version"]
	return !has
}

// Upgrade20 converts a STIX 2.0 object to 2.1 in place.
func Upgrade20(props map[string]any) error {
	props["spec_version"] = "2.1"
	return nil
}
