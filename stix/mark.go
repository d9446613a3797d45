package stix

import (
	"fmt"

	"github.com/cyberpact/cyberpact"
)

// MarkUnmarked returns a source that yields next's objects with every
// object that carries no TLP marking anywhere (neither in
// object_marking_refs nor in granular_markings) marked with level's TLP
// 2.0 marking definition, added to its object_marking_refs: the level the
// importer chose for it then travels with the object, and a peer that
// receives it does not apply a default of its own. Marking definitions
// themselves are left as they are. Each object it marks is parsed and
// encoded again, its other properties unchanged.
func MarkUnmarked(next cyberpact.ObjectSource, level cyberpact.TLP) cyberpact.ObjectSource {
	marking := TLPMarking(level)
	return func() (*cyberpact.Object, error) {
		o, err := next()
		if err != nil || o.TLP != cyberpact.TLPUnknown || o.Type == "marking-definition" || marking == "" {
			return o, err
		}
		p, err := Parse(o.Raw)
		if err != nil {
			return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "marking an object", Err: err}
		}
		refs, _ := p.Props["object_marking_refs"].([]any)
		p.Props["object_marking_refs"] = append(refs, marking)
		n, err := FromProps(p.Props)
		if err != nil {
			return nil, &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "marking an object", Err: fmt.Errorf("%s: %w", o.ID, err)}
		}
		o.Raw, o.TLP = n.Raw, level
		return o, nil
	}
}
