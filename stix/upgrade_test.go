package stix

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact/internal/stixschema"
	"github.com/google/go-cmp/cmp"
)

func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	o, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o.Props
}

func TestIsSTIX20(t *testing.T) {
	cases := []struct {
		name string
		obj  string
		want bool
	}{
		{"SDOWithoutSpecVersionIs20", `{"type":"malware","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00Z"}`, true},
		{"SROWithoutSpecVersionIs20", `{"type":"relationship","id":"relationship--` + u1 + `"}`, true},
		{"MarkingWithoutSpecVersionIs20", `{"type":"marking-definition","id":"marking-definition--` + u1 + `"}`, true},
		{"SpecVersion20Is20", `{"type":"malware","spec_version":"2.0"}`, true},
		{"SpecVersion21IsNot20", `{"type":"malware","spec_version":"2.1"}`, false},
		{"SCOWithoutSpecVersionIsNot20", `{"type":"ipv4-addr","value":"1.2.3.4"}`, false},
		{"CustomObjectWithCreatedIs20", `{"type":"x-mitre-tactic","created":"2017-01-01T00:00:00Z"}`, true},
		{"CustomObservableIsNot20", `{"type":"x-thing","value":"a"}`, false},
		{"LanguageContentIsNot20", `{"type":"language-content","created":"2017-01-01T00:00:00Z"}`, false},
		{"ExtensionDefinitionIsNot20", `{"type":"extension-definition","created":"2017-01-01T00:00:00Z"}`, false},
		{"UntypedIsNot20", `{"id":"x"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSTIX20(decodeJSON(t, tc.obj)); got != tc.want {
				t.Errorf("IsSTIX20 = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUpgrade20(t *testing.T) {
	cases := []struct {
		name     string
		in, want string
	}{
		{
			"MalwareLabelsBecomeMalwareTypesAndIsFamily",
			`{"type":"malware","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"Poison Ivy","labels":["remote-access-trojan"]}`,
			`{"type":"malware","spec_version":"2.1","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"Poison Ivy","malware_types":["remote-access-trojan"],"is_family":true}`,
		},
		{
			"ATTACKMalwareLabelDropped",
			`{"type":"malware","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"X","labels":["malware"]}`,
			`{"type":"malware","spec_version":"2.1","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"X","is_family":true}`,
		},
		{
			"ExistingIsFamilyKept",
			`{"type":"malware","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","is_family":false}`,
			`{"type":"malware","spec_version":"2.1","id":"malware--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","is_family":false}`,
		},
		{
			"IndicatorGetsPatternTypeAndIndicatorTypes",
			`{"type":"indicator","id":"indicator--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","labels":["malicious-activity"],"pattern":"[file:name = 'x']","valid_from":"2017-01-01T00:00:00Z"}`,
			`{"type":"indicator","spec_version":"2.1","id":"indicator--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","indicator_types":["malicious-activity"],"pattern":"[file:name = 'x']","pattern_type":"stix","valid_from":"2017-01-01T00:00:00Z"}`,
		},
		{
			"ToolThreatActorReportLabelsMoved",
			`{"type":"threat-actor","id":"threat-actor--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"A","labels":["crime-syndicate"]}`,
			`{"type":"threat-actor","spec_version":"2.1","id":"threat-actor--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"A","threat_actor_types":["crime-syndicate"]}`,
		},
		{
			"Existing21TypesKeepLabels",
			`{"type":"tool","id":"tool--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"T","labels":["mine"],"tool_types":["remote-access"]}`,
			`{"type":"tool","spec_version":"2.1","id":"tool--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"T","labels":["mine"],"tool_types":["remote-access"]}`,
		},
		{
			"TimestampsPaddedToMilliseconds",
			`{"type":"campaign","id":"campaign--` + u1 + `","created":"2017-05-31T21:30:19.73Z","modified":"2017-06-01T00:00:00Z","name":"C","first_seen":"2017-01-01T00:00:00Z"}`,
			`{"type":"campaign","spec_version":"2.1","id":"campaign--` + u1 + `","created":"2017-05-31T21:30:19.730Z","modified":"2017-06-01T00:00:00.000Z","name":"C","first_seen":"2017-01-01T00:00:00Z"}`,
		},
		{
			"TLPMarkingGetsPublishedName",
			`{"type":"marking-definition","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","definition":{"tlp":"amber"}}`,
			`{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82","created":"2017-01-20T00:00:00.000Z","definition_type":"tlp","name":"TLP:AMBER","definition":{"tlp":"amber"}}`,
		},
		{
			"ObservableContainerPropertiesRenamed",
			`{"type":"observed-data","id":"observed-data--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","first_observed":"2017-01-01T00:00:00Z","last_observed":"2017-01-01T00:00:00Z","number_observed":1,
			  "objects":{"0":{"type":"file","name":"a.exe","created":"2016-01-01T00:00:00Z","hashes":{"ssdeep":"3:a:b"}},"1":{"type":"process","binary_ref":"0"},"2":{"type":"windows-registry-key","key":"hkey_local_machine\\x","modified":"2016-01-01T00:00:00Z"}}}`,
			`{"type":"observed-data","spec_version":"2.1","id":"observed-data--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","first_observed":"2017-01-01T00:00:00Z","last_observed":"2017-01-01T00:00:00Z","number_observed":1,
			  "objects":{"0":{"type":"file","name":"a.exe","ctime":"2016-01-01T00:00:00Z","hashes":{"SSDEEP":"3:a:b"}},"1":{"type":"process","image_ref":"0"},"2":{"type":"windows-registry-key","key":"hkey_local_machine\\x","modified_time":"2016-01-01T00:00:00Z"}}}`,
		},
		{
			"ExternalReferenceHashesLimitedTo21Vocabulary",
			`{"type":"tool","id":"tool--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"T","labels":["tool"],"external_references":[` +
				`{"source_name":"a","url":"u","hashes":{"ssdeep":"3:a:b","WHIRLPOOL":"aa"}},{"source_name":"b","url":"v","hashes":{"SHA-224":"aa"}}]}`,
			`{"type":"tool","spec_version":"2.1","id":"tool--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"T","external_references":[` +
				`{"source_name":"a","url":"u","hashes":{"SSDEEP":"3:a:b"}},{"source_name":"b","url":"v"}]}`,
		},
		{
			"IdentityWithoutClassUnchanged",
			`{"type":"identity","id":"identity--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"I","identity_class":"organization","x_custom":1}`,
			`{"type":"identity","spec_version":"2.1","id":"identity--` + u1 + `","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z","name":"I","identity_class":"organization","x_custom":1}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeJSON(t, tc.in)
			if err := Upgrade20(got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(decodeJSON(t, tc.want), got); diff != "" {
				t.Errorf("upgrade mismatch (-want +got):\n%s", diff)
			}
			o, err := FromProps(got)
			if err != nil {
				t.Fatal(err)
			}
			if ps := Errors(Validate(o)); len(ps) > 0 {
				t.Errorf("upgraded object invalid: %v", ps)
			}
		})
	}
	t.Run("UpgradedTLPIsThePublishedObject", func(t *testing.T) {
		for id, def := range tlpDefinitions {
			if _, tlp1 := def["definition_type"]; !tlp1 {
				continue
			}
			in := deepCopyJSON(def).(map[string]any)
			delete(in, "spec_version")
			delete(in, "name")
			if err := Upgrade20(in); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(def, in); diff != "" {
				t.Errorf("%s (-want +got):\n%s", id, diff)
			}
		}
	})
	t.Run("STIX21ObjectRefused", func(t *testing.T) {
		m := decodeJSON(t, `{"type":"malware","spec_version":"2.1","labels":["a"]}`)
		if err := Upgrade20(m); err == nil {
			t.Error("no error")
		}
		if _, moved := m["malware_types"]; moved {
			t.Error("object changed")
		}
	})
	t.Run("UntypedObjectRefused", func(t *testing.T) {
		if err := Upgrade20(map[string]any{"id": "x"}); err == nil {
			t.Error("no error")
		}
	})
}

// TestUpgradedATTACKMatchesSchemas upgrades every object of the enterprise
// ATT&CK 2.0 bundle and checks the result against the OASIS STIX 2.1 JSON
// schemas, an oracle independent of Validate.
func TestUpgradedATTACKMatchesSchemas(t *testing.T) {
	needShared(t)
	v, err := stixschema.Compile(sharedData)
	if err != nil {
		t.Fatal(err)
	}
	upgraded := 0
	failures := 0
	for _, raw := range loadObjects(t, filepath.Join(sharedData, "data/enterprise-attack-18.1.stix20.json")) {
		o, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !IsSTIX20(o.Props) {
			t.Fatalf("%s not recognised as STIX 2.0", o.ID)
		}
		if err := Upgrade20(o.Props); err != nil {
			t.Fatal(err)
		}
		upgraded++
		enc, err := Marshal(o.Props)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.ValidateObject(json.RawMessage(enc)); err != nil {
			failures++
			if failures <= 10 {
				t.Error(err)
			}
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d upgraded objects fail the schemas", failures, upgraded)
	}
}
