package pattern

import (
	"encoding/json"
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	"[ipv4-addr:value = '198.51.100.7']",
	"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] AND [domain-name:value = 'x.example']",
	"[network-traffic:dst_ref.value ISSUBSET '198.51.100.0/24' AND network-traffic:dst_port IN (80, 443)]",
	"[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name LIKE 'Final%']",
	"([file:name = 'a'] FOLLOWEDBY [file:name = 'b']) WITHIN 300 SECONDS REPEATS 2 TIMES",
	"[x:y = h'0a0b' OR x:z = b'AQIDBA==' OR x:t > t'2016-06-01T01:30:00.123Z'] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00Z'",
	"[NOT EXISTS file:parent_directory_ref] OR [file:size NOT <= -1.5]",
	"[a:b[0].'c d'[*] != true] /* comment */ // line",
}

// FuzzParse checks that parsing never panics and that the canonical form
// of anything that parses parses again to the same canonical form.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, src string, v20 bool) {
		ver := "2.1"
		if v20 {
			ver = "2.0"
		}
		p, err := ParseVersion(src, ver)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Offset < 0 || pe.Offset > len(src) {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		_ = p.Validate()
		_ = p.Atoms()
		_ = p.Values()
		s := p.String()
		p2, err := ParseVersion(s, ver)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", s, src, err)
		}
		if s2 := p2.String(); s2 != s {
			t.Fatalf("canonical form unstable: %q -> %q", s, s2)
		}
	})
}

const fuzzData = `[{"type": "bundle", "objects": [
 {"type": "observed-data", "id": "observed-data--1", "first_observed": "2016-06-01T01:30:00Z", "last_observed": "2016-06-01T01:31:00Z", "number_observed": 3, "object_refs": ["file--1", "x--1", "network-traffic--1", "ipv4-addr--1"]},
 {"type": "file", "id": "file--1", "name": "a", "size": 10, "hashes": {"SHA-256": "aa"}, "parent_directory_ref": "x--1"},
 {"type": "x", "id": "x--1", "y": "\n", "z_bin": "AQIDBA==", "z_hex": "0102", "t": "2016-06-01T01:30:00.5Z", "b": [{"c d": [true, 1, "x"]}]},
 {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1", "dst_port": 443, "src_refs": ["ipv4-addr--1", 7]},
 {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"},
 {"type": "observed-data", "id": "observed-data--2", "first_observed": "2016-06-01T01:35:00Z", "last_observed": "2016-06-01T01:35:00Z", "number_observed": 2, "object_refs": ["file--2"]},
 {"type": "file", "id": "file--2", "name": "b", "size": 1.5}
]}]`

// FuzzMatch checks that matching any parsable pattern against fixed data
// ends, within its budget, in a result or an error and never panics.
func FuzzMatch(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	var doc any
	if err := json.Unmarshal([]byte(fuzzData), &doc); err != nil {
		f.Fatal(err)
	}
	obs, err := ObservationsFromJSON(doc)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Parse(src)
		if err != nil {
			return
		}
		r, err := p.MatchWith(obs, MatchOptions{Budget: 20000})
		if err == nil && r.Matched && len(r.Indices) == 0 {
			t.Fatalf("matched with no observations")
		}
		ix := NewIndex([]*Pattern{p})
		got, _ := ix.MatchObservations(obs)
		if err == nil && r.Matched && len(got) != 1 {
			t.Fatalf("Index missed a matching pattern %q", src)
		}
	})
}
