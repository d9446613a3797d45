package stix

import "strings"

// Problem is one broken rule found in an object: which object, where in it
// (a JSON path relative to the object, e.g. external_references[2].url; ""
// for the object as a whole) and what is wrong. A Warning breaks a SHOULD of
// the specification and does not make the object invalid.
type Problem struct {
	ObjectID string `json:"id,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
	Warning  bool   `json:"warning,omitempty"`
}

// Error formats the problem as "ID at PATH: MESSAGE".
func (p Problem) Error() string {
	var b strings.Builder
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.ObjectID != "" {
		b.WriteString(p.ObjectID)
	} else {
		b.WriteString("object")
	}
	if p.Path != "" {
		b.WriteString(" at ")
		b.WriteString(p.Path)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Errors returns the problems that are not warnings.
func Errors(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}
