package stix

import (
	"fmt"

	"github.com/cyberpact/cyberpact"
)

// Anonymise returns a source that yields next's objects as an anonymous
// publication (see cyberpact.AnonymousImport) makes them: created_by_ref
// names hubIdentity, the hub's identity, on every object that is not a
// cyber observable; a sighting's where_sighted_refs, which name where the
// reporter saw it (its own identity, as a rule), are left out. An identity
// object is refused: it would name who published. Every object it changes
// is parsed and encoded again, its other properties unchanged, and its
// indexed fields read again from the new JSON.
func Anonymise(next cyberpact.ObjectSource, hubIdentity string) cyberpact.ObjectSource {
	return func() (*cyberpact.Object, error) {
		o, err := next()
		if err != nil {
			return o, err
		}
		if o.Type == "identity" {
			return nil, &cyberpact.Rejection{Index: o.Index, Line: o.Line, ID: o.ID, Modified: o.Modified,
				Reason: "an anonymous publication may not carry identity objects: they would name who published it (the hub's identity stands as producer)"}
		}
		if cyberpact.IsObservable(o.Type) || o.Type == "marking-definition" && o.CreatedBy == "" {
			return o, nil
		}
		p, err := Parse(o.Raw)
		if err != nil {
			return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "anonymising an object", Err: err}
		}
		p.Props["created_by_ref"] = hubIdentity
		delete(p.Props, "where_sighted_refs")
		n, err := FromProps(p.Props)
		if err != nil {
			return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "anonymising an object", Err: fmt.Errorf("%s: %w", o.ID, err)}
		}
		Validate(n) // parses an indicator's pattern, for its observables
		s := n.Stored()
		s.Index, s.Line, s.TLP = o.Index, o.Line, o.TLP
		return s, nil
	}
}
