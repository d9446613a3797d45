// Package stix is the STIX 2.1 object model: parsing with typed access to
// the common properties, validation of the specification's rules, the
// upgrade of STIX 2.0 input, deterministic ids for cyber observables, and a
// streaming bundle reader and writer. It is pure: no I/O beyond the
// io.Reader and io.Writer it is handed.
package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact/pattern"
)

// Object is one parsed STIX object. Props holds every property as decoded
// JSON (numbers as json.Number, so nothing is rounded); the typed fields are
// the common properties read from it once. Raw is the object's compact JSON:
// the input's own bytes for 2.1 input, a re-encoding for upgraded input.
type Object struct {
	Raw   []byte
	Props map[string]any

	Type               string
	ID                 string
	SpecVersion        string
	Created            time.Time // zero when absent or malformed
	Modified           time.Time // zero when absent or malformed
	CreatedByRef       string
	Revoked            bool
	Labels             []string
	Confidence         int
	HasConfidence      bool
	Lang               string
	ObjectMarkingRefs  []string
	GranularMarkings   []GranularMarking
	ExternalReferences []ExternalReference

	pattern *pattern.Pattern // an indicator's pattern, parsed by Validate
	// dup is the first property name Raw gives twice within one JSON
	// object, which Validate refuses: readers disagree on which of the
	// values holds, so a marking could be read one way here and another
	// way by a recipient.
	dup duplicateName
}

// GranularMarking is one entry of granular_markings.
type GranularMarking struct {
	Lang       string   `json:"lang,omitempty"`
	MarkingRef string   `json:"marking_ref,omitempty"`
	Selectors  []string `json:"selectors"`
}

// ExternalReference is one entry of external_references.
type ExternalReference struct {
	SourceName  string            `json:"source_name"`
	Description string            `json:"description,omitempty"`
	URL         string            `json:"url,omitempty"`
	Hashes      map[string]string `json:"hashes,omitempty"`
	ExternalID  string            `json:"external_id,omitempty"`
}

// Parse decodes one STIX object from its JSON. It fails only when raw is not
// a JSON object; whether the object is valid STIX is Validate's question.
// The typed fields are filled from whatever properties have the right JSON
// type; Validate reports the ones that do not.
func Parse(raw []byte) (*Object, error) {
	v, dup, err := parseJSONDup(raw)
	if err != nil {
		return nil, err
	}
	props, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object but %s", jsonKind(v))
	}
	o := &Object{Raw: raw, Props: props, dup: dup}
	o.readCommon()
	return o, nil
}

// FromProps builds an Object from already decoded properties, encoding Raw
// from them.
func FromProps(props map[string]any) (*Object, error) {
	raw, err := Marshal(props)
	if err != nil {
		return nil, err
	}
	o := &Object{Raw: raw, Props: props}
	o.readCommon()
	return o, nil
}

// Marshal encodes v as compact JSON without HTML escaping, map keys sorted.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// readCommon fills the typed fields from Props.
func (o *Object) readCommon() {
	p := o.Props
	o.Type, _ = p["type"].(string)
	o.ID, _ = p["id"].(string)
	o.SpecVersion, _ = p["spec_version"].(string)
	if s, ok := p["created"].(string); ok {
		o.Created, _ = ParseTime(s)
	}
	if s, ok := p["modified"].(string); ok {
		o.Modified, _ = ParseTime(s)
	}
	o.CreatedByRef, _ = p["created_by_ref"].(string)
	o.Revoked, _ = p["revoked"].(bool)
	o.Labels = stringList(p["labels"])
	if n, ok := p["confidence"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			o.Confidence, o.HasConfidence = int(v), true
		}
	}
	o.Lang, _ = p["lang"].(string)
	o.ObjectMarkingRefs = stringList(p["object_marking_refs"])
	if list, ok := p["granular_markings"].([]any); ok {
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			g := GranularMarking{Selectors: stringList(m["selectors"])}
			g.Lang, _ = m["lang"].(string)
			g.MarkingRef, _ = m["marking_ref"].(string)
			o.GranularMarkings = append(o.GranularMarkings, g)
		}
	}
	if list, ok := p["external_references"].([]any); ok {
		for _, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				continue
			}
			var r ExternalReference
			r.SourceName, _ = m["source_name"].(string)
			r.Description, _ = m["description"].(string)
			r.URL, _ = m["url"].(string)
			r.ExternalID, _ = m["external_id"].(string)
			if h, ok := m["hashes"].(map[string]any); ok {
				r.Hashes = make(map[string]string, len(h))
				for k, v := range h {
					if s, ok := v.(string); ok {
						r.Hashes[k] = s
					}
				}
			}
			o.ExternalReferences = append(o.ExternalReferences, r)
		}
	}
}

// VersionKey returns the property that tells this object's versions apart:
// modified, else created, else "" (cyber observables have one version).
func (o *Object) VersionKey() time.Time {
	if !o.Modified.IsZero() {
		return o.Modified
	}
	return o.Created
}

// String returns the property p as a string, "" when absent or not one.
func (o *Object) String(p string) string {
	s, _ := o.Props[p].(string)
	return s
}

func stringList(v any) []string {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// jsonKind names the JSON type of a decoded value, for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
