package stix

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode"

	"github.com/cyberpact/cyberpact"
)

// The TLP marking definition ids, TLP 2.0's and TLP 1.0's, with the level
// each stands for.
var tlpIDs = []struct {
	id    string
	level cyberpact.TLP
}{
	{"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", cyberpact.TLPClear},
	{"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", cyberpact.TLPGreen},
	{"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", cyberpact.TLPAmber},
	{"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", cyberpact.TLPAmberStrict},
	{"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", cyberpact.TLPRed},
	{"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", cyberpact.TLPClear},
	{"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", cyberpact.TLPGreen},
	{"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", cyberpact.TLPAmber},
	{"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", cyberpact.TLPRed},
}

const (
	tlp2Red    = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
	tlp2Strict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	tlp2Green  = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	tlp2Clear  = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	tlp1Red    = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
)

// spellings returns id written four ways: as published, with its UUID in
// upper case, entirely in upper case, and in alternating case.
func spellings(id string) map[string]string {
	i := strings.Index(id, "--")
	mixed := []rune(id)
	for j := range mixed {
		if j%2 == 0 {
			mixed[j] = unicode.ToUpper(mixed[j])
		}
	}
	return map[string]string{
		"Lower":     id,
		"UpperUUID": id[:i+2] + strings.ToUpper(id[i+2:]),
		"Upper":     strings.ToUpper(id),
		"Mixed":     string(mixed),
	}
}

// decodeOne runs one object through the Decoder, the edge every import
// goes through, and returns what the store would keep or the rejection.
func decodeOne(t *testing.T, obj string) (*cyberpact.Object, error) {
	t.Helper()
	dec := NewDecoder(strings.NewReader(`{"type":"bundle","id":"bundle--` + u5 + `","objects":[` + obj + `]}`))
	defer dec.Close()
	o, err := dec.Next()
	if err != nil {
		var rs cyberpact.Rejections
		if !errors.As(err, &rs) {
			t.Fatalf("decoding %s: %v", obj, err)
		}
		return nil, err
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("more than one object decoded from %s: %v", obj, err)
	}
	return o, nil
}

// markedIndicator is a valid indicator with these object_marking_refs and
// granular_markings (JSON lists, empty for none).
func markedIndicator(refs, granular string) string {
	var b bytes.Buffer
	b.WriteString(`{"type":"indicator","id":"indicator--` + u1 + `",` + sdoCommon +
		`,"name":"beacon","description":"seen at the ministry","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",` +
		`"pattern":"[ipv4-addr:value = '198.51.100.7']"`)
	if refs != "" {
		b.WriteString(`,"object_marking_refs":` + refs)
	}
	if granular != "" {
		b.WriteString(`,"granular_markings":` + granular)
	}
	b.WriteString("}")
	return b.String()
}

// TestUpperCaseRedMarkingIsRed shows that a TLP marking id means its level
// however it is cased: every TLP 1.0 and 2.0 id, in every spelling, in
// object_marking_refs, gives the object that level when parsed, and at
// the import edge the object is either stored at that level or refused
// (an upper-case type prefix is not a valid identifier), never stored at a
// lower one.
func TestUpperCaseRedMarkingIsRed(t *testing.T) {
	for _, m := range tlpIDs {
		for name, id := range spellings(m.id) {
			t.Run(m.level.String()+"/"+m.id[20:28]+"/"+name, func(t *testing.T) {
				if got := TLPOf([]string{id}); got != m.level {
					t.Errorf("TLPOf(%s) = %s, want %s", id, got, m.level)
				}
				raw := markedIndicator(`["`+id+`"]`, "")
				o, err := Parse([]byte(raw))
				if err != nil {
					t.Fatal(err)
				}
				if got := o.TLP(); got != m.level {
					t.Errorf("parsed object marked %s: TLP %s, want %s", id, got, m.level)
				}
				stored, err := decodeOne(t, raw)
				switch {
				case name == "Upper" || name == "Mixed":
					// The type prefix is not lower case: not an identifier.
					if err == nil {
						t.Errorf("object marked %s stored (TLP %s), want it refused for its identifier", id, stored.TLP)
					} else if !strings.Contains(err.Error(), "object_marking_refs") {
						t.Errorf("refusal of the object marked %s does not say where: %v", id, err)
					}
				case err != nil:
					t.Errorf("object marked %s refused: %v", id, err)
				case stored.TLP != m.level:
					t.Errorf("object marked %s stored at TLP %s, want %s", id, stored.TLP, m.level)
				}
			})
		}
	}
	t.Run("MostRestrictiveOfMixedSpellings", func(t *testing.T) {
		up := spellings(tlp1Red)["UpperUUID"]
		if got := TLPOf([]string{tlp2Green, up, tlp2Clear}); got != cyberpact.TLPRed {
			t.Errorf("GREEN, %s, CLEAR: TLP %s, want RED", up, got)
		}
	})
	t.Run("NotATLPMarking", func(t *testing.T) {
		for _, id := range []string{"marking-definition--" + u2, "MARKING-DEFINITION--" + strings.ToUpper(u2), "", "e828b379-4e03-4974-9ac4-e53a884c97c1", tlp2Red + " "} {
			if got := TLPOf([]string{id}); got != cyberpact.TLPUnknown {
				t.Errorf("TLPOf(%q) = %s, want no level", id, got)
			}
		}
	})
}

// TestGranularRedMarkingDecidesTLP shows that a TLP marking given as a
// granular marking decides the release of the whole object, with the
// most restrictive TLP anywhere in the object winning, in any case.
func TestGranularRedMarkingDecidesTLP(t *testing.T) {
	red := spellings(tlp2Red)["UpperUUID"]
	statement := "marking-definition--" + u2
	for _, tc := range []struct {
		name, refs, granular string
		want                 cyberpact.TLP
	}{
		{"GranularRedOverObjectGreen", `["` + tlp2Green + `"]`, `[{"marking_ref":"` + tlp2Red + `","selectors":["description"]}]`, cyberpact.TLPRed},
		{"GranularRedAlone", "", `[{"marking_ref":"` + tlp2Red + `","selectors":["description"]}]`, cyberpact.TLPRed},
		{"GranularUpperCaseRed", `["` + tlp2Clear + `"]`, `[{"marking_ref":"` + red + `","selectors":["name","description"]}]`, cyberpact.TLPRed},
		{"GranularTLP1Red", "", `[{"marking_ref":"` + spellings(tlp1Red)["UpperUUID"] + `","selectors":["pattern"]}]`, cyberpact.TLPRed},
		{"GranularAmberStrictAmongOthers", `["` + tlp2Clear + `"]`,
			`[{"lang":"en","selectors":["name"]},{"marking_ref":"` + tlp2Green + `","selectors":["name"]},{"marking_ref":"` + tlp2Strict + `","selectors":["pattern"]}]`, cyberpact.TLPAmberStrict},
		{"ObjectRedOverGranularGreen", `["` + tlp2Red + `"]`, `[{"marking_ref":"` + tlp2Green + `","selectors":["description"]}]`, cyberpact.TLPRed},
		{"GranularGreenAlone", "", `[{"marking_ref":"` + tlp2Green + `","selectors":["description"]}]`, cyberpact.TLPGreen},
		{"GranularLangOnly", `["` + tlp2Green + `"]`, `[{"lang":"en","selectors":["description"]}]`, cyberpact.TLPGreen},
		{"GranularStatementOnly", "", `[{"marking_ref":"` + statement + `","selectors":["description"]}]`, cyberpact.TLPUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := markedIndicator(tc.refs, tc.granular)
			o, err := Parse([]byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			if got := o.TLP(); got != tc.want {
				t.Errorf("parsed: TLP %s, want %s", got, tc.want)
			}
			stored, err := decodeOne(t, raw)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if stored.TLP != tc.want {
				t.Errorf("stored at TLP %s, want %s", stored.TLP, tc.want)
			}
		})
	}
}

// TestTLPMarkingDefinitionInAnyCase shows that a TLP marking definition
// object is recognised by its id in any case: the published object with
// its id in upper case is accepted, and other content under such an id is
// refused as it is under the lower-case id. A TLP 2.0 definition under an
// id of its own is refused too, as a TLP 1.0 one always was: objects
// marked with it would be read as unmarked here.
func TestTLPMarkingDefinitionInAnyCase(t *testing.T) {
	published := func(id, tlp string) string {
		return `{"type":"marking-definition","spec_version":"2.1","id":"` + id + `","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED",` +
			`"extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"` + tlp + `"}}}`
	}
	up := spellings(tlp2Red)["UpperUUID"]
	if _, err := decodeOne(t, published(up, "red")); err != nil {
		t.Errorf("the published TLP:RED definition with its id in upper case refused: %v", err)
	}
	for _, id := range []string{tlp2Red, up} {
		_, err := decodeOne(t, published(id, "clear"))
		if err == nil || !strings.Contains(err.Error(), "published TLP marking definition") {
			t.Errorf("a TLP:CLEAR definition under the TLP:RED id %s: %v, want it refused", id, err)
		}
	}
	for _, ext := range []string{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d", "extension-definition--60A3C5C5-0D10-413E-AAB3-9E08DDE9E88D"} {
		own := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u2 + `","created":"2022-10-01T00:00:00.000Z","name":"TLP:RED",` +
			`"extensions":{"` + ext + `":{"extension_type":"property-extension","tlp_2_0":"red"}}}`
		if _, err := decodeOne(t, own); err == nil || !strings.Contains(err.Error(), "TLP 2.0 marking definitions must be the published ones") {
			t.Errorf("a TLP 2.0 definition of its own (extension %s): %v, want it refused", ext, err)
		}
	}
	for _, dt := range []string{"tlp", "TLP"} {
		own := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u2 + `","created":"2017-01-20T00:00:00.000Z",` +
			`"definition_type":"` + dt + `","definition":{"tlp":"red"}}`
		if _, err := decodeOne(t, own); err == nil || !strings.Contains(err.Error(), "TLP marking definitions must be the published ones") {
			t.Errorf("a TLP 1.0 definition of its own (definition_type %s): %v, want it refused", dt, err)
		}
	}
	self := `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--` + u2 + `","created":"2022-10-01T00:00:00.000Z",` +
		`"definition_type":"statement","definition":{"statement":"mine"},"object_marking_refs":["marking-definition--` + strings.ToUpper(u2) + `"]}`
	if _, err := decodeOne(t, self); err == nil || !strings.Contains(err.Error(), "must not mark itself") {
		t.Errorf("a marking definition marking itself in another case: %v, want it refused", err)
	}
}

func TestCanonicalID(t *testing.T) {
	for in, want := range map[string]string{
		tlp2Red:                  tlp2Red,
		strings.ToUpper(tlp2Red): tlp2Red,
		"Indicator--" + u1:       "indicator--" + u1,
		"":                       "",
		"x-ÄÖ--AB":               "x-ÄÖ--ab",
	} {
		if got := CanonicalID(in); got != want {
			t.Errorf("CanonicalID(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDuplicateMarkingPropertyRefused shows that an object giving a
// property twice is refused with the place named, so that no marking can
// be read one way here (the last value) and another way by a recipient of
// the stored text (the first): TLP:RED followed by TLP:CLEAR is not stored
// as TLP:CLEAR.
func TestDuplicateMarkingPropertyRefused(t *testing.T) {
	for _, tc := range []struct{ name, obj, path, says string }{
		{"ObjectMarkingRefs", markedIndicator(`["`+tlp2Red+`"],"object_marking_refs":["`+tlp2Clear+`"]`, ""),
			"object_marking_refs", "given more than once"},
		{"GranularMarkingRef", markedIndicator("", `[{"marking_ref":"`+tlp2Red+`","marking_ref":"`+tlp2Clear+`","selectors":["description"]}]`),
			"", `"marking_ref" is given more than once`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := decodeOne(t, tc.obj)
			if err == nil {
				t.Fatalf("stored at TLP %s, want it refused", o.TLP)
			}
			var rs cyberpact.Rejections
			errors.As(err, &rs)
			if len(rs) != 1 || rs[0].Path != tc.path || !strings.Contains(rs[0].Reason, tc.says) {
				t.Errorf("refused with %v, want one rejection at %q saying %q", err, tc.path, tc.says)
			}
		})
	}
}
