package misp

import (
	"testing"

	"github.com/cyberpact/cyberpact/stix"
)

// FuzzRoundTrip feeds arbitrary JSON to Decode: it must not panic, and an
// event it accepts must convert to valid STIX (refused only for a uuid
// that is not one) and come back with every attribute's type and value.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","info":"x","Attribute":[{"type":"ip-src|port","value":"1.2.3.4|80","to_ids":true}]}}`,
		`{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","info":"x","Object":[{"name":"file","Attribute":[{"object_relation":"filename","type":"filename","value":"a'b\\c"},{"object_relation":"size-in-bytes","type":"size-in-bytes","value":"08"}]}]}`,
		`[{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","Tag":[{"name":"tlp:red"}],"Galaxy":[{"type":"mitre-attack-pattern","GalaxyCluster":[{"value":"T1","meta":{"external_id":"T1"}}]}]}}]`,
		`{"response":[{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","Attribute":[{"type":"AS","value":"AS1"},{"type":"domain|ip","value":"a|b|c"}]}}]}`,
		`{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","Object":[{"name":"email","Attribute":[{"object_relation":"to","type":"email-dst","value":"a@b"},{"object_relation":"to","type":"email-dst","value":"c@d","to_ids":"1"}],"ObjectReference":[{"referenced_uuid":"x","relationship_type":"r"}]}]}}`,
		`{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","Object":[{"name":"pe","uuid":"2183705f-e8d6-4c08-a820-5b56a1303bb1","Attribute":[{"object_relation":"type","value":"exe"},{"object_relation":"number-sections","value":"8"}],"ObjectReference":[{"referenced_uuid":"68bd413b-5392-4239-93a9-e574fb80af8c","relationship_type":"includes"}]},{"name":"file","uuid":"5ac47782-e1b8-40b6-96b4-02510a00020f","Attribute":[{"object_relation":"filename","type":"filename","value":"a.exe"}],"ObjectReference":[{"referenced_uuid":"2183705f-e8d6-4c08-a820-5b56a1303bb1","relationship_type":"includes"}]},{"name":"pe-section","uuid":"68bd413b-5392-4239-93a9-e574fb80af8c","Attribute":[{"object_relation":"entropy","value":"7.5"},{"object_relation":"size-in-bytes","value":"512","to_ids":true}]}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := DecodeJSON(b)
		if err != nil {
			return
		}
		for _, ev := range evs {
			res, err := ToSTIX(ev)
			if err != nil {
				// Only an event uuid that is not a UUID is refused.
				if validUUID(ev.UUID) {
					t.Fatalf("ToSTIX refused an event with a valid uuid: %v", err)
				}
				continue
			}
			for _, o := range res.Objects {
				if ps := stix.Errors(stix.Validate(o)); len(ps) > 0 {
					t.Fatalf("invalid STIX %s: %v", o.Raw, ps[0])
				}
			}
			back, err := FromSTIX(res.Objects)
			if err != nil {
				t.Fatalf("FromSTIX: %v", err)
			}
			if len(back) != 1 {
				t.Fatalf("%d events back", len(back))
			}
			want, got := attrKeys(ev), attrKeys(back[0])
			if len(want) != len(got) {
				t.Fatalf("%d attributes back, want %d: %q / %q", len(got), len(want), got, want)
			}
			for i := range want {
				if want[i] != got[i] {
					t.Fatalf("attribute back as %q, want %q", got[i], want[i])
				}
			}
		}
	})
}
