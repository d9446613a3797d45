package misp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cyberpact/cyberpact/stix"
)

const mappingDir = "../../shared/data/misp/mapping"

// documented reads one of misp-stix's mapping documents, skipping the
// test when it is absent.
func documented(t *testing.T, name string) map[string]map[string]struct {
	MISP json.RawMessage
	STIX json.RawMessage
} {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mappingDir, name))
	if err != nil {
		t.Skipf("no misp-stix mapping documentation (%v)", err)
	}
	var doc map[string]map[string]struct {
		MISP json.RawMessage
		STIX json.RawMessage
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func stixObjects(t *testing.T, raw json.RawMessage) []*stix.Object {
	t.Helper()
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []json.RawMessage{raw}
	}
	var out []*stix.Object
	for _, r := range list {
		o, err := stix.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

// TestMispStixAttributes reads the STIX that misp-stix documents for each
// attribute type (stix21_to_misp_attributes.json), as indicator and as
// observed-data, and checks FromSTIX gives the MISP attribute it documents
// beside it: what a MISP user who exported with misp-stix expects back.
func TestMispStixAttributes(t *testing.T) {
	doc := documented(t, "stix21_to_misp_attributes.json")
	types := make([]string, 0, len(doc))
	for k := range doc {
		types = append(types, k)
	}
	sort.Strings(types)
	// misp-stix's examples disagree with themselves here: the MISP value
	// has doubled backslashes that the pattern beside it, unescaped as the
	// pattern grammar says, does not.
	inconsistent := map[string]bool{"regkey/Indicator": true, "regkey|value/Indicator": true}
	for _, typ := range types {
		for variant, ex := range doc[typ] {
			t.Run(typ+"/"+variant, func(t *testing.T) {
				if inconsistent[typ+"/"+variant] {
					t.Skip("misp-stix's example is inconsistent: the MISP value doubles the backslashes the pattern escapes")
				}
				var want struct {
					Type, Value, Category string
					ToIDs                 bool `json:"to_ids"`
				}
				if err := json.Unmarshal(ex.MISP, &want); err != nil {
					t.Skipf("documented MISP side is not one attribute: %s", ex.MISP)
				}
				objs := stixObjects(t, ex.STIX)
				// The observed-data examples also list the indicator: each
				// form is read on its own.
				var keep []*stix.Object
				for _, o := range objs {
					if variant == "Observed Data" && (o.Type == "indicator" || o.Type == "relationship") {
						continue
					}
					keep = append(keep, o)
				}
				evs, err := FromSTIX(keep)
				if err != nil {
					t.Fatal(err)
				}
				var got []*Attribute
				for _, ev := range evs {
					got = append(got, ev.Attributes...)
				}
				if len(got) != 1 || got[0].Type != want.Type || got[0].Value != want.Value {
					var gs []string
					for _, a := range got {
						gs = append(gs, a.Type+"="+a.Value)
					}
					t.Errorf("misp-stix's %s came back as %q, want %s=%s", variant, gs, want.Type, want.Value)
				}
			})
		}
	}
}
