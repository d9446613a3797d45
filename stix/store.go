package stix

import (
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/pattern"
)

// Stored returns the version of o that the store keeps, with the properties
// it indexes read out: search text and, for relationships and sightings,
// the objects they link.
func (o *Object) Stored() *cyberpact.Object {
	s := &cyberpact.Object{
		ID:          o.ID,
		Type:        o.Type,
		SpecVersion: o.SpecVersion,
		Created:     NormTime(o.Created),
		Modified:    NormTime(o.VersionKey()),
		Revoked:     o.Revoked,
		Labels:      o.Labels,
		Raw:         o.Raw,
	}
	if s.SpecVersion == "" {
		s.SpecVersion = "2.1"
	}
	s.TLP = o.TLP()
	for _, m := range o.ObjectMarkingRefs {
		if tlpLevel(m) == cyberpact.TLPUnknown {
			s.MarkingRefs = append(s.MarkingRefs, CanonicalID(m))
		}
	}
	for _, g := range o.GranularMarkings {
		if g.MarkingRef != "" && tlpLevel(g.MarkingRef) == cyberpact.TLPUnknown { // a lang marking has none
			s.GranularMarkingRefs = append(s.GranularMarkingRefs, CanonicalID(g.MarkingRef))
		}
	}
	s.CreatedBy, _ = o.Props["created_by_ref"].(string)
	o.searchText(&s.Text, &s.Observables)
	switch o.Type {
	case "relationship":
		s.Refs = o.refs("source_ref", "target_ref")
	case "sighting":
		s.Refs = o.refs("sighting_of_ref", "where_sighted_refs", "observed_data_refs")
	}
	return s
}

func (o *Object) refs(props ...string) []cyberpact.Ref {
	var out []cyberpact.Ref
	for _, p := range props {
		switch v := o.Props[p].(type) {
		case string:
			out = append(out, cyberpact.Ref{Prop: p, ID: v})
		case []any:
			for _, item := range v {
				if id, ok := item.(string); ok {
					out = append(out, cyberpact.Ref{Prop: p, ID: id})
				}
			}
		}
	}
	return out
}

// searchText collects the words full-text search finds the object by.
// It also collects the object's observable values, with their kinds, for
// correlation: the pattern is parsed once for both.
func (o *Object) searchText(t *cyberpact.SearchText, obs *[]cyberpact.Observable) {
	t.Name = o.String("name")
	if t.Name == "" {
		t.Name = o.String("title") // not a 2.1 property, common in custom objects
	}
	t.Description = o.String("description")
	var aliases, values, ids []string
	for k, v := range o.Props {
		if k == "aliases" || strings.HasSuffix(k, "_aliases") {
			aliases = append(aliases, stringList(v)...)
		}
	}
	for _, r := range o.ExternalReferences {
		if r.ExternalID != "" {
			ids = append(ids, r.ExternalID)
		}
	}
	if o.Type == "indicator" {
		t.Pattern = o.String("pattern")
		if pt := o.String("pattern_type"); pt == "" || pt == "stix" {
			p := o.pattern
			if p == nil {
				p = parsePattern(t.Pattern, o.String("pattern_version"))
			}
			if p != nil {
				for _, v := range p.Values() {
					// A value quoted verbatim in the pattern is found
					// through the pattern's own words already.
					if !strings.Contains(t.Pattern, "'"+v+"'") {
						values = append(values, v)
					}
				}
				*obs = patternObservables(p)
			}
		}
	}
	if KindOf(o.Type) == KindSCO {
		*obs = o.scoObservables()
		for _, p := range []string{"value", "name", "number", "key", "user_id", "account_login", "display_name", "subject", "path", "serial_number", "command_line"} {
			if s := o.String(p); s != "" {
				values = append(values, s)
			}
		}
		if h, ok := o.Props["hashes"].(map[string]any); ok {
			for _, v := range h {
				if s, ok := v.(string); ok {
					values = append(values, s)
				}
			}
		}
	}
	t.Aliases = strings.Join(aliases, " ")
	t.ExternalIDs = strings.Join(ids, " ")
	t.Values = strings.Join(values, " ")
}

// parsePattern parses an indicator's STIX pattern, whose literal values
// (addresses, domains, hashes...) let indicators be found by the
// observables they describe. It returns nil for a pattern that does not
// parse.
func parsePattern(src, version string) *pattern.Pattern {
	if version != "2.0" {
		version = "2.1"
	}
	p, err := pattern.ParseVersion(src, version)
	if err != nil {
		return nil
	}
	return p
}

// tlpLevels maps the TLP marking definitions, by their fixed ids, to
// levels: TLP 2.0's five, and STIX 2.1's own TLP 1.0 four with WHITE read
// as CLEAR.
var tlpLevels = map[string]cyberpact.TLP{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": cyberpact.TLPClear,
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": cyberpact.TLPGreen,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": cyberpact.TLPAmber,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": cyberpact.TLPAmberStrict,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": cyberpact.TLPRed,

	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": cyberpact.TLPClear,
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": cyberpact.TLPGreen,
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": cyberpact.TLPAmber,
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": cyberpact.TLPRed,
}

// TLP returns the TLP level that decides the release of the whole object:
// the most restrictive TLP marking anywhere in it, whether in
// object_marking_refs or as the marking_ref of any of its
// granular_markings, TLPUnknown when it has none. A granular TLP marking
// thus marks the whole object, not only the properties its selectors name:
// the hub releases objects whole, so an object carrying a TLP:RED
// description is a TLP:RED object. Marking ids are compared in canonical
// form (CanonicalID), so a marking written in upper or mixed case counts
// as the same marking. Validate refuses what would let a recipient read
// another level from the same text: a property given twice, and TLP
// marking definitions other than the published ones.
func (o *Object) TLP() cyberpact.TLP {
	level := TLPOf(o.ObjectMarkingRefs)
	for _, g := range o.GranularMarkings {
		if l := tlpLevel(g.MarkingRef); l > level {
			level = l
		}
	}
	return level
}

// TLPOf returns the TLP level of an object marked with these marking
// definitions: the most restrictive TLP marking among them, compared in
// canonical form (CanonicalID), TLPUnknown when there is none.
func TLPOf(markings []string) cyberpact.TLP {
	level := cyberpact.TLPUnknown
	for _, m := range markings {
		if l := tlpLevel(m); l > level {
			level = l
		}
	}
	return level
}

// tlpLevel returns the level of the TLP marking definition id, in any
// case, TLPUnknown when id is not one of theirs.
func tlpLevel(id string) cyberpact.TLP {
	return tlpLevels[CanonicalID(id)]
}

// CanonicalID returns a STIX identifier in the form identifiers are
// compared in: ASCII letters lower-cased, everything else as it is. The
// type part of an identifier is lower-case by definition, and its UUID is
// hexadecimal, which RFC 4122 reads in either case, so
// MARKING-DEFINITION--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED is the TLP:RED
// marking definition. It returns id itself, without copying, when it is
// already canonical.
func CanonicalID(id string) string {
	i := 0
	for i < len(id) && !('A' <= id[i] && id[i] <= 'Z') {
		i++
	}
	if i == len(id) {
		return id
	}
	b := []byte(id)
	for ; i < len(b); i++ {
		if 'A' <= b[i] && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// TLPMarking returns the TLP 2.0 marking definition id of a level.
func TLPMarking(level cyberpact.TLP) string {
	for id, l := range tlpLevels {
		if l == level && strings.HasPrefix(id, "marking-definition--") && tlp20[id] {
			return id
		}
	}
	return ""
}

var tlp20 = map[string]bool{
	"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": true,
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": true,
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": true,
	"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": true,
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": true,
}
