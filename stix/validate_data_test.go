package stix

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedData is the shared reference material, relative to the package.
const sharedData = "../../shared"

// loadObjects returns the raw objects of a bundle file, or the file itself
// when it holds a single object.
func loadObjects(tb testing.TB, file string) []json.RawMessage {
	tb.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	var b struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	if b.Type != "bundle" {
		return []json.RawMessage{data}
	}
	return b.Objects
}

// parseUpgraded parses raw and upgrades it when it is STIX 2.0.
func parseUpgraded(tb testing.TB, raw []byte) *Object {
	tb.Helper()
	o, err := Parse(raw)
	if err != nil {
		tb.Fatal(err)
	}
	if IsSTIX20(o.Props) {
		if err := Upgrade20(o.Props); err != nil {
			tb.Fatalf("%s: upgrade: %v", o.ID, err)
		}
		if o, err = FromProps(o.Props); err != nil {
			tb.Fatal(err)
		}
	}
	return o
}

func needShared(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		tb.Skipf("shared reference material not found at %s: %v", sharedData, err)
	}
}

// TestValidateAcceptsReferenceData checks that every object of the OASIS
// examples and of MITRE's ATT&CK and CAPEC datasets (the enterprise one
// after the STIX 2.0 upgrade) validates without errors. Warnings are
// allowed.
func TestValidateAcceptsReferenceData(t *testing.T) {
	needShared(t)
	var files []string
	for _, glob := range []string{
		"conformance/stix-schemas/examples/*.json",
		"conformance/stix-schemas/examples/threat-reports/*.json",
	} {
		m, err := filepath.Glob(filepath.Join(sharedData, glob))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	files = append(files,
		filepath.Join(sharedData, "data/ics-attack-18.1.json"),
		filepath.Join(sharedData, "data/capec.stix21.json"),
		filepath.Join(sharedData, "data/enterprise-attack-18.1.stix20.json"),
	)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			objs := loadObjects(t, f)
			if len(objs) == 0 {
				t.Fatal("no objects")
			}
			errs, warns := 0, 0
			for _, raw := range objs {
				o := parseUpgraded(t, raw)
				for _, p := range Validate(o) {
					if p.Warning {
						warns++
						continue
					}
					errs++
					if errs <= 20 {
						t.Errorf("%v", p)
					}
				}
			}
			if errs > 20 {
				t.Errorf("... %d errors in all", errs)
			}
			t.Logf("%d objects, %d warnings", len(objs), warns)
		})
	}
}

// BenchmarkValidate measures Validate over the enterprise ATT&CK objects,
// upgraded to 2.1 beforehand (parsing and upgrading are not timed).
func BenchmarkValidate(b *testing.B) {
	needShared(b)
	raws := loadObjects(b, filepath.Join(sharedData, "data/enterprise-attack-18.1.stix20.json"))
	objs := make([]*Object, len(raws))
	for i, raw := range raws {
		objs[i] = parseUpgraded(b, raw)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if ps := Validate(objs[i%len(objs)]); len(Errors(ps)) > 0 {
			b.Fatal(ps)
		}
	}
}
