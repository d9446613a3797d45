package stix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stdDecode is the reference: encoding/json with UseNumber, over input
// that json.Valid accepts as exactly one value.
func stdDecode(data []byte) (any, error) {
	if !json.Valid(data) {
		return nil, errors.New("invalid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func TestParseJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"Object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`},
		{"Numbers", `[0,-0,1.5,-2e10,3E+2,4.25e-3,123456789012345678901234567890]`},
		{"Escapes", `"a\"b\\c\/d\b\f\n\r\t\u00e9\u4e2d"`},
		{"SurrogatePair", `"\ud83d\ude00"`},
		{"LoneSurrogate", `"\ud83d x"`},
		{"LoneLowSurrogate", `"\ude00"`},
		{"InvalidUTF8", "\"a\xffb\""},
		{"InvalidUTF8WithEscape", "\"a\xff\\nb\""},
		{"DuplicateKeysLastWins", `{"a":1,"a":2}`},
		{"Whitespace", " \t\n{ \"a\" : [ 1 , 2 ] } \n"},
		{"EmptyContainers", `{"a":{},"b":[]}`},
		{"Unicode", `{"名前":"値"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, werr := stdDecode([]byte(tc.in))
			got, gerr := parseJSON([]byte(tc.in))
			if (werr != nil) != (gerr != nil) {
				t.Fatalf("error: got %v, encoding/json %v", gerr, werr)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("differs from encoding/json (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJSONRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, in := range []string{
		`{"a":1`, `{"a" 1}`, `{a:1}`, `[1,]`, `[01]`, `[1.]`, `[.5]`, `[-]`, `[1e]`, `"abc`,
		"\"a\x01b\"", `"\x"`, `"\u12"`, `tru`, `nul`, `{"a":1}x`, `{"a":1,}`, `[1 2]`, ``,
	} {
		_, werr := stdDecode([]byte(in))
		_, gerr := parseJSON([]byte(in))
		if werr == nil || gerr == nil {
			t.Errorf("%q: encoding/json error %v, parseJSON error %v; both must fail", in, werr, gerr)
		}
	}
}

// FuzzParseJSON checks that parseJSON accepts exactly what encoding/json
// accepts and decodes it to the same value.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,"x",{"b":null}]}`, `"\ud83d\ude00"`, "\"\xff\"", `[1e5,-0.5]`} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("../../shared/conformance/stix-schemas/examples/infrastructure.json"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := stdDecode(data)
		got, gerr := parseJSON(data)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("%q: error %v, encoding/json %v", data, gerr, werr)
		}
		if werr == nil && !cmp.Equal(want, got) {
			t.Fatalf("%q: differs:\n%s", data, cmp.Diff(want, got))
		}
	})
}

func BenchmarkDecodeObject(b *testing.B) {
	obj := []byte(`{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"C2 server 123","description":"Command and control address observed in campaign 12 by partner reports","indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z","labels":["c2"],"confidence":80,"object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}`)
	b.Run("parseJSON", func(b *testing.B) {
		b.SetBytes(int64(len(obj)))
		for b.Loop() {
			if _, err := parseJSON(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EncodingJSONBaseline", func(b *testing.B) {
		b.SetBytes(int64(len(obj)))
		for b.Loop() {
			if _, err := stdDecode(obj); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestParseJSONInternedNames decodes objects keyed by every interned
// property name, and by near misses of them, as encoding/json does.
func TestParseJSONInternedNames(t *testing.T) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	for _, name := range names {
		if name == "" {
			continue
		}
		for _, k := range []string{name, name + "x", name[1:], `\u00` + fmt.Sprintf("%02x", name[0]) + name[1:], name + "é"} {
			if n > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s":%d`, k, n)
			n++
		}
	}
	b.WriteByte('}')
	want, err := stdDecode(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseJSON(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(want, got) {
		t.Fatalf("differs:\n%s", cmp.Diff(want, got))
	}
	if namesUsed < 300 {
		t.Errorf("only %d names interned", namesUsed)
	}
}
