package match

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzScanJSON checks the event scanner against encoding/json: it never
// calls a valid JSON object line broken (below the nesting limit), and
// the string it extracts for a field is the one encoding/json decodes.
func FuzzScanJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":"x"}`, `{"source":{"ip":"198.51.100.7"},"a":1}`, `{"a":"\u00e9\ud83d\ude00\n"}`, `{"a":["x","y"]}`,
		`{"b":{"c":[{"d":null}]},"a":true}`, `{"a":-1.5e+3}`, `{"a":"x",}`, `{"a":"\q"}`, ` {"a" : "x" } `,
	} {
		f.Add([]byte(s))
	}
	fields := NewFields([]Field{{Name: "a", Kind: KindDomain}, {Name: "source.ip", Kind: KindIP}})
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\n') >= 0 {
			return
		}
		checkValues := utf8.Valid(line) // encoding/json replaces invalid UTF-8; the scanner keeps bytes as they are
		var s jsonScanner
		s.f = fields
		err := s.scan(line)
		var doc map[string]any
		if jerr := json.Unmarshal(line, &doc); jerr != nil || doc == nil || bytes.Count(line, []byte("[")) > 60 || bytes.Count(line, []byte("{")) > 60 {
			return // invalid JSON may be accepted leniently (numbers); deep nesting is refused
		}
		if err != nil {
			t.Fatalf("valid JSON object refused: %v: %q", err, line)
		}
		want, ok := doc["a"].(string)
		if !ok || !checkValues || strings.Contains(string(line), `"a"`) && bytes.Count(line, []byte(`"a"`)) > 1 {
			return // duplicate keys: encoding/json keeps the last
		}
		for _, e := range s.out {
			if e.field == 0 && string(e.val) != want {
				t.Fatalf("extracted %q, encoding/json decodes %q from %q", e.val, want, line)
			}
		}
	})
}

// FuzzBundleSplitter checks that the bundle splitter never panics and that
// every object it yields from a valid bundle is valid JSON.
func FuzzBundleSplitter(f *testing.F) {
	f.Add([]byte(`{"type":"bundle","objects":[{"type":"indicator","pattern":"[a:b = '}']"}]}`))
	f.Add([]byte(`{"type":"indicator","id":"x"}`))
	f.Add([]byte(`{"objects":[{"a":"\"}"},{"type":"indicator"}]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		valid := json.Valid(in)
		for raw, err := range BundleIndicators(bytes.NewReader(in)) {
			if err != nil {
				return
			}
			if valid && !json.Valid(raw) {
				t.Fatalf("yielded invalid JSON %q from valid %q", raw, in)
			}
		}
	})
}
