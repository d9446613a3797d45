package stix

import (
	"testing"
)

// FuzzValidate parses arbitrary bytes and validates the result; neither
// may panic. STIX 2.0 input is also upgraded and SCO ids computed, the
// other two steps every imported object goes through.
func FuzzValidate(f *testing.F) {
	for _, s := range baseObjects {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"type":"observed-data","objects":{"0":{"type":"file","created":"2016-01-01T00:00:00Z","hashes":{"ssdeep":"x"}}}}`))
	f.Add([]byte(`{"type":"campaign","granular_markings":[{"selectors":["a.[0].b","[1]",".","x."],"lang":"en"}],"a":[{"b":1}]}`))
	f.Add([]byte(`{"type":"marking-definition","id":"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","definition_type":"tlp","definition":{"tlp":"white"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse(data)
		if err != nil {
			return
		}
		for _, p := range Validate(o) {
			if p.Message == "" {
				t.Errorf("problem without message: %+v", p)
			}
		}
		SCOID(o.Props)
		if IsSTIX20(o.Props) {
			if err := Upgrade20(o.Props); err != nil {
				return
			}
			o2, err := FromProps(o.Props)
			if err != nil {
				return
			}
			Validate(o2)
		}
	})
}
