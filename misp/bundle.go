package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/cyberpact/cyberpact/stix"
)

// Sniff reports whether a JSON document is MISP JSON rather than STIX,
// from its first bytes alone (a few kilobytes are plenty): its first
// object (the document, or the first element of a top-level list) has a
// top-level key "Event" or "response", or is a bare event (keys "info"
// and "Attribute" or "Object") with no "type" key before them.
func Sniff(prefix []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	if tok == json.Delim('[') {
		if tok, err = dec.Token(); err != nil {
			return false
		}
	}
	if tok != json.Delim('{') {
		return false
	}
	info, content := false, false
	for {
		k, err := dec.Token()
		if err != nil {
			break
		}
		key, ok := k.(string)
		if !ok {
			break
		}
		switch key {
		case "Event", "response":
			return true
		case "type":
			return false
		case "info":
			info = true
		case "Attribute", "Object":
			content = true
		}
		if info && content {
			return true
		}
		if !skipValue(dec) {
			break
		}
	}
	return info && content
}

// skipValue reads one value's tokens; false at the end of the input.
func skipValue(dec *json.Decoder) bool {
	depth := 0
	for {
		t, err := dec.Token()
		if err != nil {
			return false
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return true
		}
	}
}

// WriteBundle converts events to STIX and writes every object as one
// STIX 2.1 bundle, an object several events share (an identity, a marking
// definition) written once: identical objects are written once, objects
// with the same id and other content each (for the store to refuse as the
// conflict it is). It returns each event's audience hint, in
// order.
func WriteBundle(w io.Writer, events []*Event) ([]Audience, error) {
	sw := stix.NewWriter(w)
	seen := map[string]bool{}
	hints := make([]Audience, 0, len(events))
	for _, ev := range events {
		res, err := ToSTIX(ev)
		if err != nil {
			return nil, err
		}
		hints = append(hints, res.Audience)
		for _, o := range res.Objects {
			key := string(o.Raw)
			if seen[key] {
				continue
			}
			seen[key] = true
			if err := sw.Write(o.Raw); err != nil {
				return nil, err
			}
		}
	}
	if err := sw.Close(); err != nil {
		return nil, err
	}
	return hints, nil
}

// CommonAudience returns the audience hint events share, ok false when
// they differ (or there are none).
func CommonAudience(hints []Audience) (Audience, bool) {
	if len(hints) == 0 {
		return Audience{}, false
	}
	h := hints[0]
	for _, x := range hints[1:] {
		if x.Distribution != h.Distribution || !sameGroup(x.SharingGroup, h.SharingGroup) {
			return Audience{}, false
		}
	}
	return h, true
}

func sameGroup(a, b *SharingGroup) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// String describes the hint for messages: "distribution 4 (sharing group
// Banks)".
func (a Audience) String() string {
	names := map[string]string{"0": "your organisation only", "1": "this community only", "2": "connected communities",
		"3": "all communities", "4": "sharing group", "5": "inherit event"}
	s := fmt.Sprintf("distribution %s", a.Distribution)
	if n := names[a.Distribution]; n != "" {
		s += " (" + n
		if a.Distribution == "4" && a.SharingGroup != nil {
			s += " " + a.SharingGroup.Name
		}
		s += ")"
	}
	return s
}
