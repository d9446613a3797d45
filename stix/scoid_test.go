package stix

import (
	"strings"
	"testing"
)

func scoProps(t *testing.T, s string) map[string]any {
	t.Helper()
	o, err := Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return o.Props
}

// TestSCOIDKnownValues checks SCOID against ids published by others; each
// case names its source. None of the expected values was computed here.
func TestSCOIDKnownValues(t *testing.T) {
	cases := []struct {
		name, source, obj, want string
	}{
		{
			"IPv4Address",
			"STIX 2.1 specification, section 2.9 (Identifier), example",
			`{"type":"ipv4-addr","value":"198.51.100.3"}`,
			"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4",
		},
		{
			"IPv4AddressOfNetworkTrafficExample",
			"STIX 2.1 specification, section 6.12 (Network Traffic), Basic TCP Network Traffic example",
			`{"type":"ipv4-addr","value":"198.51.100.2"}`,
			"ipv4-addr--9cf4a8ec-7640-5f40-a006-79942896168b",
		},
		{
			"IPv4AddressOfNetflowExample",
			"STIX 2.1 specification, section 6.12 (Network Traffic), Network Traffic with Netflow Data example",
			`{"type":"ipv4-addr","value":"203.0.113.1"}`,
			"ipv4-addr--ad74bc22-43d2-52ed-890e-7d382f58e1eb",
		},
		{
			"EmailAddressIgnoresDisplayName",
			"STIX 2.1 specification, section 6.5 (Email Address) example",
			`{"type":"email-addr","value":"john@example.com","display_name":"John Doe"}`,
			"email-addr--7165e2a9-671f-585d-b1e1-ca59c671d934",
		},
		{
			"EmailAddressOfEmailMessageExample",
			"STIX 2.1 specification, section 6.6 (Email Message), Simple Email Message example",
			`{"type":"email-addr","value":"mary@example.com","display_name":"Mary Smith"}`,
			"email-addr--2aeeb98c-9db4-525e-874d-221fdfe9f76e",
		},
		{
			"DomainName",
			"STIX 2.1 specification domain-name example, asserted by several independent STIX libraries' tests",
			`{"type":"domain-name","value":"example.com"}`,
			"domain-name--bedb4899-d24b-5401-bc86-8f6b4cc18ec7",
		},
		{
			"URL",
			"STIX 2.1 specification, section 6.15 (URL) example",
			`{"type":"url","value":"https://example.com/research/index.html"}`,
			"url--47c3cf9a-5027-5bf0-997a-017c7edc7c55",
		},
		{
			"Mutex",
			"STIX 2.1 specification, section 6.11 (Mutex) example",
			`{"type":"mutex","name":"__CLEANSWEEP__"}`,
			"mutex--f93fe911-e545-5239-b9b0-597840d0c871",
		},
		{
			"AutonomousSystemIgnoresNonContributingProperties",
			"STIX 2.1 specification, section 6.2 (Autonomous System) example",
			`{"type":"autonomous-system","number":15139,"name":"Slime Industries","rir":"ARIN"}`,
			"autonomous-system--3aa27478-50b5-5ab8-9da9-cdc12b657fff",
		},
		{
			"FileWithNestedExtensionAndFloat",
			"oasis-open/cti-python-stix2, stix2/test/v21/test_deterministic_ids.py, test_id_gen_recursive_dict_conversion_1",
			`{"type":"file","name":"example.exe","size":68000,"magic_number_hex":"50000000",
			  "hashes":{"SHA-256":"841a8921140aba50671ebb0770fecc4ee308c4952cfeff8de154ab14eeef4649"},
			  "extensions":{"windows-pebinary-ext":{"pe_type":"exe","machine_hex":"014c","sections":[
			    {"name":".data","size":4096,"entropy":7.980693,
			     "hashes":{"SHA-256":"6e3b6f3978e5cd96ba7abee35c24e867b7e64072e2ecb22d0ee7a6e6af6894d0"}}]}}}`,
			"file--ced31cd4-bdcb-537d-aefa-92d291bfc11d",
		},
		{
			"RegistryKeyValues",
			"oasis-open/cti-python-stix2, stix2/test/v21/test_deterministic_ids.py, test_id_gen_recursive_dict_conversion_2",
			`{"type":"windows-registry-key","values":[{"name":"Foo","data":"qwerty"},{"name":"Bar","data":"42"}]}`,
			"windows-registry-key--36594eba-bcc7-5014-9835-0e154264e588",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := SCOID(scoProps(t, tc.obj))
			if !ok || got != tc.want {
				t.Errorf("SCOID = %q, %v; want %q (source: %s)", got, ok, tc.want, tc.source)
			}
		})
	}
}

func TestSCOIDBehaviour(t *testing.T) {
	id := func(t *testing.T, s string) string {
		t.Helper()
		got, ok := SCOID(scoProps(t, s))
		if !ok {
			t.Fatalf("SCOID(%s) not ok", s)
		}
		return got
	}
	t.Run("ProcessHasNoDeterministicID", func(t *testing.T) {
		if got, ok := SCOID(scoProps(t, `{"type":"process","pid":1}`)); ok {
			t.Errorf("got %q", got)
		}
	})
	t.Run("NoContributingPropertyPresentNotOK", func(t *testing.T) {
		if got, ok := SCOID(scoProps(t, `{"type":"email-message","is_multipart":false}`)); ok {
			t.Errorf("got %q", got)
		}
	})
	t.Run("CustomTypeNotOK", func(t *testing.T) {
		if got, ok := SCOID(scoProps(t, `{"type":"x-thing","value":"a"}`)); ok {
			t.Errorf("got %q", got)
		}
	})
	t.Run("IDIsUUIDv5WithTypePrefix", func(t *testing.T) {
		got := id(t, `{"type":"email-addr","value":"john@example.com"}`)
		if !strings.HasPrefix(got, "email-addr--") || uuidVersion(got[len("email-addr--"):]) != 5 {
			t.Errorf("got %q", got)
		}
	})
	t.Run("NonContributingPropertiesIgnored", func(t *testing.T) {
		a := id(t, `{"type":"email-addr","value":"john@example.com","display_name":"Johnny Doe"}`)
		b := id(t, `{"type":"email-addr","value":"john@example.com","display_name":"Janey Doe","id":"email-addr--`+u1+`"}`)
		if a != b {
			t.Errorf("%s != %s", a, b)
		}
	})
	t.Run("ContributingValuesDistinguish", func(t *testing.T) {
		if id(t, `{"type":"email-addr","value":"john@example.com"}`) == id(t, `{"type":"email-addr","value":"jane@example.com"}`) {
			t.Error("same id for different values")
		}
	})
	t.Run("KeyOrderIrrelevant", func(t *testing.T) {
		a := id(t, `{"type":"software","name":"Word","vendor":"Microsoft","version":"2002"}`)
		b := id(t, `{"version":"2002","vendor":"Microsoft","type":"software","name":"Word"}`)
		if a != b {
			t.Errorf("%s != %s", a, b)
		}
	})
	t.Run("MD5PreferredOverSHA256", func(t *testing.T) {
		both := id(t, `{"type":"file","hashes":{"SHA-256":"effb46bba03f6c8aea5c653f9cf984f170dcdd3bbbe2ff6843c3e5da0e698766","MD5":"3773a88f65a5e780c8dff9cdc3a056f3"}}`)
		md5 := id(t, `{"type":"file","hashes":{"MD5":"3773a88f65a5e780c8dff9cdc3a056f3"}}`)
		if both != md5 {
			t.Errorf("%s != %s", both, md5)
		}
	})
	t.Run("SHA256PreferredOverCustomHash", func(t *testing.T) {
		both := id(t, `{"type":"file","hashes":{"x_foo":"aaaa","SHA-256":"effb46bba03f6c8aea5c653f9cf984f170dcdd3bbbe2ff6843c3e5da0e698766"}}`)
		sha := id(t, `{"type":"file","hashes":{"SHA-256":"effb46bba03f6c8aea5c653f9cf984f170dcdd3bbbe2ff6843c3e5da0e698766"}}`)
		if both != sha {
			t.Errorf("%s != %s", both, sha)
		}
	})
	t.Run("EqualNumbersSameID", func(t *testing.T) {
		if id(t, `{"type":"autonomous-system","number":15139}`) != id(t, `{"type":"autonomous-system","number":1.5139e4}`) {
			t.Error("JCS number forms differ")
		}
	})
}

// TestCanonicalJSON checks the RFC 8785 serialisation against the rules and
// examples of the RFC (section 3.2.2.3 numbers, 3.2.2.2 strings, 3.2.3
// member order).
func TestCanonicalJSON(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"SortedMembersNoWhitespace", map[string]any{"b": true, "a": nil, "c": []any{"x", false}}, `{"a":null,"b":true,"c":["x",false]}`},
		{"IntegerNumber", 15139.0, `15139`},
		{"FractionNumber", 7.980693, `7.980693`},
		{"LargeNumberExponent", 1e21, `1e+21`},
		{"BelowExponentThreshold", 1e20, `100000000000000000000`},
		{"SmallNumberExponent", 1e-7, `1e-7`},
		{"SmallNumberFixed", 0.000001, `0.000001`},
		{"NegativeZero", negZero(), `0`},
		{"ControlCharactersEscaped", "a\"b\\c\n\u0001\u001f", `"a\"b\\c\n\u0001\u001f"`},
		{"NonASCIIUnescaped", "quêry \u2028", "\"quêry \u2028\""},
		{"HTMLUnescaped", "<&>", `"<&>"`},
		{"UTF16MemberOrder", map[string]any{"\U0001F600": 1, "\uffff": 2, "a": 3}, "{\"a\":3,\"\U0001F600\":1,\"\uffff\":2}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendCanonical(nil, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func negZero() float64 {
	z := 0.0
	return -z
}

func TestValidateSCOIdentifiers(t *testing.T) {
	t.Run("DeterministicIDAccepted", func(t *testing.T) {
		ps := validateRaw(t, []byte(`{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.3"}`))
		if len(ps) != 0 {
			t.Errorf("got %v", ps)
		}
	})
	t.Run("RandomUUIDv4Warned", func(t *testing.T) {
		ps := validateRaw(t, []byte(`{"type":"ipv4-addr","id":"ipv4-addr--`+u1+`","value":"198.51.100.3"}`))
		if len(ps) != 1 || !ps[0].Warning || ps[0].Path != "id" {
			t.Errorf("got %v", ps)
		}
	})
	t.Run("WrongUUIDv5Rejected", func(t *testing.T) {
		ps := validateRaw(t, []byte(`{"type":"ipv4-addr","id":"ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4","value":"198.51.100.4"}`))
		if len(Errors(ps)) != 1 || ps[0].Path != "id" {
			t.Errorf("got %v", ps)
		}
	})
	t.Run("ProcessUUIDv4Accepted", func(t *testing.T) {
		ps := validateRaw(t, []byte(`{"type":"process","id":"process--`+u1+`","pid":4}`))
		if len(ps) != 0 {
			t.Errorf("got %v", ps)
		}
	})
}
