package stix

import (
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Retraction returns the retraction object (cyberpact.RetractionType)
// with id, saying that the producer of ref (whose created_by_ref is
// createdBy, "" when it has none) withdrew it at now, marked at level's
// TLP 2.0 marking (none for TLPUnknown): the object that carries a
// delete to the peers that received ref (see cyberpact.ApplyRetractions).
func Retraction(id, ref, createdBy string, level cyberpact.TLP, now time.Time) (*cyberpact.Object, error) {
	t := now.UTC().Format("2006-01-02T15:04:05.000Z")
	props := map[string]any{"type": cyberpact.RetractionType, "spec_version": "2.1", "id": id,
		"created": t, "modified": t, "retracted_ref": ref}
	if createdBy != "" {
		props["created_by_ref"] = createdBy
	}
	if m := TLPMarking(level); m != "" {
		props["object_marking_refs"] = []any{m}
	}
	o, err := FromProps(props)
	if err != nil {
		return nil, err
	}
	if ps := Errors(Validate(o)); len(ps) > 0 {
		return nil, fmt.Errorf("retraction of %s: %s: %s", ref, ps[0].Path, ps[0].Message)
	}
	return o.Stored(), nil
}
