package misp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
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

// readsExactly are the templates whose misp-stix STIX FromSTIX reads back
// with every attribute's relation and value. For the others misp-stix
// puts values where this package's mapping does not look (timestamps
// rewritten, protocols lower-cased, extensions), and FromSTIX names them
// by their STIX path: MAPPING.md says so.
var readsExactly = map[string]bool{
	"android-app": true, "asn": true, "credential": true, "domain-ip": true,
	"gitlab-user": true, "hashlookup": true, "mutex": true, "registry-key-value": true, "url": true,
}

// TestMispStixObjects reads the STIX that misp-stix documents for each
// object template (stix21_to_misp_objects.json) and checks FromSTIX gives
// one object of the template documented beside it, and, for the templates
// of readsExactly, every attribute's relation and value.
func TestMispStixObjects(t *testing.T) {
	doc := documented(t, "stix21_to_misp_objects.json")
	names := make([]string, 0, len(doc))
	for k := range doc {
		names = append(names, k)
	}
	sort.Strings(names)
	matched, total := 0, 0
	for _, name := range names {
		for variant, ex := range doc[name] {
			var want Object
			var raw map[string]any
			if json.Unmarshal(ex.MISP, &raw) != nil || raw["name"] == nil {
				continue // several objects, or a galaxy: not one object
			}
			evs, err := DecodeJSON([]byte(`{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","Object":[` + string(ex.MISP) + `]}}`))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want = *evs[0].Objects[0]
			if _, known := templates[want.Name]; !known {
				continue
			}
			total++
			t.Run(name+"/"+variant, func(t *testing.T) {
				var keep []*stix.Object
				for _, o := range stixObjects(t, ex.STIX) {
					if variant == "Observed Data" && (o.Type == "indicator" || o.Type == "relationship") {
						continue
					}
					keep = append(keep, o)
				}
				evs, err := FromSTIX(keep)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != 1 || len(evs[0].Objects) != 1 {
					t.Fatalf("not one object back")
				}
				got := evs[0].Objects[0]
				pairs := func(o *Object) []string {
					var out []string
					for _, a := range o.Attributes {
						out = append(out, a.ObjectRelation+"="+asNumber(a.Type, a.Value))
					}
					sort.Strings(out)
					return out
				}
				if got.Name != want.Name {
					t.Fatalf("misp-stix's %s came back as a %s object, want %s", variant, got.Name, want.Name)
				}
				if !cmp.Equal(pairs(got), pairs(&want)) {
					report := t.Logf
					if readsExactly[want.Name] {
						report = t.Errorf
					}
					report("misp-stix's %s came back as %q, want %q", variant, pairs(got), pairs(&want))
					return
				}
				matched++
			})
		}
	}
	t.Logf("%d of %d documented objects of supported templates read back exactly", matched, total)
}
