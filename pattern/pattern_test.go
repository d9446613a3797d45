package pattern

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, version string
		offset             int
		msg                string
	}{
		{"MissingBrackets", "file:size = 1280", "2.1", 0, "expected '[' or '('"},
		{"MissingValue", "[file:size = ]", "2.1", 13, "expected a literal"},
		{"UnquotedValue", "[file:hashes.MD5 = cead3f77]", "2.1", 19, "expected a literal"},
		{"DotInsteadOfColon", "[file.size = 1280]", "2.1", 5, "expected ':'"},
		{"HyphenInProperty", "[some-type:needs-quotes = 1]", "2.1", 11, "contains a hyphen"},
		{"LowercaseKeyword", "[foo:bar=1] within 2 seconds", "2.1", 12, "expected AND, OR, FOLLOWEDBY"},
		{"WithinNegative", "[a:b = 1] WITHIN -5 SECONDS", "2.1", 17, "positive number of seconds"},
		{"WithinWrongUnit", "[a:b = 1] WITHIN 5 HOURS", "2.1", 19, "expected SECONDS"},
		{"StartWithoutStop", "[a:b = 1] START t'1994-11-29T13:37:58Z'", "2.1", 39, "expected STOP"},
		{"StartStringIn21", "[a:b = 1] START '1994-11-29T13:37:58Z' STOP '1994-11-29T13:37:59Z'", "2.1", 16, "expected a timestamp literal"},
		{"StartTimestampIn20", "[a:b = 1] START t'1994-11-29T13:37:58Z' STOP t'1994-11-29T13:37:59Z'", "2.0", 16, "expected a timestamp string"},
		{"MalformedTimestamp", "[a:b = t'2010-05-21T13:21:43']", "2.1", 7, "malformed timestamp literal"},
		{"MalformedBinary", "[a:b = b'====']", "2.1", 7, "malformed binary literal"},
		{"OddHex", "[a:b = h'abc']", "2.1", 7, "malformed hex literal"},
		{"Null", "[a:b = null]", "2.1", 7, "expected a literal"},
		{"UnclosedBracket", "[a:b = 1", "2.1", 8, "to close the '['"},
		{"TrailingGarbage", "[a:b = 1] ]", "2.1", 10, "end of the pattern"},
		{"BoolOrdering", "[a:b > true]", "2.1", 7, "expected a string, number"},
		{"UnknownVersion", "[a:b = 1]", "2.2", -1, "unsupported STIX version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseVersion(tt.src, tt.version)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("ParseVersion(%q) = %v, want *Error", tt.src, err)
			}
			if pe.Offset != tt.offset || !strings.Contains(pe.Msg, tt.msg) {
				t.Fatalf("ParseVersion(%q) error = %q at %d, want %q at %d", tt.src, pe.Msg, pe.Offset, tt.msg, tt.offset)
			}
			if !pe.Syntax {
				t.Fatalf("error %v not marked as a syntax error", pe)
			}
		})
	}
}

func TestStringIsCanonicalAndReparses(t *testing.T) {
	tests := []struct{ src, want string }{
		{"[ipv4-addr:value='198.51.100.7']", "[ipv4-addr:value = '198.51.100.7']"},
		{"[a:b == 1 AND (a:c <> 'x' OR a:d NOT IN (1, 2.5))]", "[a:b = 1 AND (a:c != 'x' OR a:d NOT IN (1, 2.5))]"},
		{"[file:hashes.'SHA-256' = 'ab'] FOLLOWEDBY ([x:y=1] OR [x:z=2])", "[file:hashes.'SHA-256' = 'ab'] FOLLOWEDBY [x:y = 1] OR [x:z = 2]"},
		{"([a:b = 'it\\'s'] REPEATS 2 TIMES) REPEATS 3 TIMES", "([a:b = 'it\\'s'] REPEATS 2 TIMES) REPEATS 3 TIMES"},
		{"[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES", "[a:b = 1] WITHIN 5 SECONDS REPEATS 2 TIMES"},
		{"([a:b = 1] AND [a:c = 2]) WITHIN +5.5 SECONDS", "([a:b = 1] AND [a:c = 2]) WITHIN 5.5 SECONDS"},
		{"[a:l[*].x_ref.'y z'[0] = h'0A'] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00.5Z'",
			"[a:l[*].x_ref.'y z'[0] = h'0a'] START t'2016-06-01T01:30:00Z' STOP t'2016-06-01T02:20:00.5Z'"},
		{"[a:b = b'AQIDBA=='] OR [a:c = true] AND [NOT EXISTS a:d]", "[a:b = b'AQIDBA=='] OR [a:c = true] AND [NOT EXISTS a:d]"},
		{"[a:b = 1 /* comment */ ] // trailing", "[a:b = 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got := p.String()
			if got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			p2, err := Parse(got)
			if err != nil {
				t.Fatalf("canonical form does not parse: %v", err)
			}
			if p2.String() != got {
				t.Fatalf("canonical form not stable: %q then %q", got, p2.String())
			}
		})
	}
}

// TestCanonicalStartStopWithEscapedQuote is issue 16's fuzzing find: a
// STIX 2.0 START/STOP string holding an escaped quote or backslash is
// printed escaped, so the canonical form parses back to the same bounds.
func TestCanonicalStartStopWithEscapedQuote(t *testing.T) {
	for _, tt := range []struct{ src, want, start, stop string }{
		{`[A:A=0]START'\''STOP''`, `[A:A = 0] START '\'' STOP ''`, `'`, ``},
		{`[a:b = 1] START 'x\\y' STOP '2016-06-01T01:30:00Z'`, `[a:b = 1] START 'x\\y' STOP '2016-06-01T01:30:00Z'`, `x\y`, `2016-06-01T01:30:00Z`},
	} {
		t.Run(tt.src, func(t *testing.T) {
			p, err := ParseVersion(tt.src, "2.0")
			if err != nil {
				t.Fatal(err)
			}
			got := p.String()
			if got != tt.want {
				t.Fatalf("String() = %q, want %q", got, tt.want)
			}
			p2, err := ParseVersion(got, "2.0")
			if err != nil {
				t.Fatalf("canonical form %q does not parse: %v", got, err)
			}
			q := p2.Root.(*ObservationQualified)
			if q.StartText != tt.start || q.StopText != tt.stop {
				t.Errorf("bounds read back %q, %q; want %q, %q", q.StartText, q.StopText, tt.start, tt.stop)
			}
		})
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name, src string
		ok        bool
	}{
		{"DuplicateWithin", "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", false},
		{"DuplicateRepeatsInGroupAllowed", "([a:b = 1] REPEATS 2 TIMES) REPEATS 3 TIMES", true},
		{"BadSHA256", "[file:hashes.'SHA-256' = 'f00']", false},
		{"GoodMD5", "[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879f']", true},
		{"UnknownHashAlgorithmFree", "[file:hashes.x_mine = 'f00']", true},
		{"RepeatsZero", "[a:b = 1] REPEATS 0 TIMES", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.src, "2.1")
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%q) = %v, want ok=%v", tt.src, err, tt.ok)
			}
		})
	}
}

func TestValidateStrict(t *testing.T) {
	tests := []struct {
		name, src string
		ok        bool
	}{
		{"ShortTypeName", "[x:created = 1]", false},
		{"UpperTypeName", "[File:name = 'a']", false},
		{"ImpossibleDate", "[file:created = t'2023-02-29T00:00:00Z']", false},
		{"WithinZero", "[file:name = 'a'] WITHIN 0 SECONDS", false},
		{"Fine", "[file:name = 'a'] WITHIN 1 SECONDS", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateStrict(tt.src, "2.1")
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateStrict(%q) = %v, want ok=%v", tt.src, err, tt.ok)
			}
		})
	}
}

// sampleObservations is a bundle of two observed-data objects: a file with
// a hash at 10:00 and a network connection at 10:05.
const sampleObservations = `[{"type": "bundle", "id": "bundle--1", "objects": [
 {"type": "observed-data", "id": "observed-data--a", "first_observed": "2024-01-01T10:00:00Z",
  "last_observed": "2024-01-01T10:00:00Z", "number_observed": 1, "object_refs": ["file--1"]},
 {"type": "file", "id": "file--1", "name": "Final Report.exe", "hashes": {"SHA-256": "aa"}, "size": 1280},
 {"type": "observed-data", "id": "observed-data--b", "first_observed": "2024-01-01T10:05:00Z",
  "last_observed": "2024-01-01T10:05:00Z", "number_observed": 1,
  "object_refs": ["network-traffic--1", "ipv4-addr--1", "ipv6-addr--1"]},
 {"type": "network-traffic", "id": "network-traffic--1", "dst_ref": "ipv4-addr--1", "dst_port": 443,
  "protocols": ["tcp", "tls"], "src_ref": "ipv6-addr--1"},
 {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "198.51.100.7"},
 {"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:db8::1"}
]}]`

func sample(t testing.TB) []Observation {
	var doc any
	if err := json.Unmarshal([]byte(sampleObservations), &doc); err != nil {
		t.Fatal(err)
	}
	obs, err := ObservationsFromJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func TestMatch(t *testing.T) {
	obs := sample(t)
	tests := []struct {
		name, src string
		want      bool
		ids       []string
	}{
		{"Equality", "[ipv4-addr:value = '198.51.100.7']", true, []string{"observed-data--b"}},
		{"QuotedHashKey", "[file:hashes.'SHA-256' = 'aa']", true, []string{"observed-data--a"}},
		{"ReferenceDereference", "[network-traffic:dst_ref.value = '198.51.100.7']", true, nil},
		{"ListWildcard", "[network-traffic:protocols[*] = 'tls']", true, nil},
		{"ListIndex", "[network-traffic:protocols[1] = 'tcp']", false, nil},
		{"NotAppliesToOperator", "[file:size NOT = 1280]", false, nil},
		{"NotOnMissingPropertyIsFalse", "[file:missing NOT = 1]", false, nil},
		{"SubsetIPv4", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']", true, nil},
		{"SubsetIPv6", "[ipv6-addr:value ISSUBSET '2001:db8::/32']", true, nil},
		{"SupersetMismatchedFamily", "[ipv6-addr:value ISSUPERSET '198.51.100.7']", false, nil},
		{"Like", "[file:name LIKE 'Final%.exe']", true, nil},
		{"Matches", "[file:name MATCHES '^Final.+\\\\.exe$']", true, nil},
		{"AndNeedsSameObject", "[file:name = 'Final Report.exe' AND ipv4-addr:value = '198.51.100.7']", false, nil},
		{"AndAcrossObservations", "[file:size = 1280] AND [ipv4-addr:value = '198.51.100.7']", true, []string{"observed-data--a", "observed-data--b"}},
		{"FollowedByInOrder", "[file:size = 1280] FOLLOWEDBY [network-traffic:dst_port = 443]", true, nil},
		{"FollowedByOutOfOrder", "[network-traffic:dst_port = 443] FOLLOWEDBY [file:size = 1280]", false, nil},
		{"WithinTooShort", "([file:size = 1280] AND [network-traffic:dst_port = 443]) WITHIN 60 SECONDS", false, nil},
		{"WithinLongEnough", "([file:size = 1280] AND [network-traffic:dst_port = 443]) WITHIN 300 SECONDS", true, nil},
		{"StartStopExcludesStop", "[file:size = 1280] START t'2024-01-01T09:00:00Z' STOP t'2024-01-01T10:00:00Z'", false, nil},
		{"StartStopIncludesStart", "[file:size = 1280] START t'2024-01-01T10:00:00Z' STOP t'2024-01-01T11:00:00Z'", true, nil},
		{"RepeatsNeedsDistinct", "[file:size = 1280] REPEATS 2 TIMES", false, nil},
		{"Exists", "[EXISTS file:hashes]", true, nil},
		{"NotExists", "[NOT EXISTS file:parent_directory_ref]", true, nil},
		{"CustomType", "[x-custom:anything = 1]", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.Match(obs)
			if err != nil {
				t.Fatal(err)
			}
			if r.Matched != tt.want {
				t.Fatalf("Match(%s) = %v, want %v", tt.src, r.Matched, tt.want)
			}
			if tt.ids != nil && !slices.Equal(r.IDs, tt.ids) {
				t.Fatalf("Match(%s) ids = %v, want %v", tt.src, r.IDs, tt.ids)
			}
		})
	}
}

func TestMatchErrors(t *testing.T) {
	obs := sample(t)
	tests := []struct{ name, src string }{
		{"BadRegexp", "[file:name MATCHES '(?<=x)y']"},
		{"WithinZero", "[file:name = 'x'] WITHIN 0 SECONDS"},
		{"ImpossibleDate", "[file:name = t'2023-02-29T00:00:00Z']"},
		{"StringIsNotTimestamp", "[file:name = t'2023-02-28T00:00:00Z']"},
		{"MixedInList", "[file:name IN ('a', 1)]"},
		// Found by scripts/fuzz.sh (FuzzMatch): a LIKE pattern of invalid
		// UTF-8 panicked in regexp.MustCompile.
		{"LikeInvalidUTF8", "[A:A LIKE'\xff']"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Match(obs); err == nil {
				t.Fatalf("Match(%s) succeeded, want an error", tt.src)
			}
		})
	}
}

func TestAtomsAndValues(t *testing.T) {
	p := MustParse("[file:hashes.'SHA-256' = 'aa' AND file:size > 10] OR [domain-name:value IN ('x.example', 'y.example')] AND [url:value NOT = 'z']")
	var eq []string
	for _, a := range p.Atoms() {
		if a.Equality() {
			eq = append(eq, a.Type+":"+a.Path)
		}
	}
	if want := []string{"file:hashes.'SHA-256'", "domain-name:value"}; !slices.Equal(eq, want) {
		t.Fatalf("equality atoms = %v, want %v", eq, want)
	}
	if got, want := p.Values(), []string{"aa", "x.example", "y.example"}; !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
}

func TestIndexFindsOnlyPossibleMatches(t *testing.T) {
	srcs := []string{
		"[ipv4-addr:value = '198.51.100.7']",
		"[ipv4-addr:value = '203.0.113.1']",
		"[file:hashes.'SHA-256' = 'aa'] AND [domain-name:value = 'x.example']",
		"[network-traffic:dst_ref.value = '198.51.100.7']",
		"[file:size > 1000]",
		"[network-traffic:dst_port IN (80, 443)]",
	}
	ix, err := Compile(srcs, "2.1")
	if err != nil {
		t.Fatal(err)
	}
	obs := sample(t)
	cands := ix.Candidates(&obs[1], nil)
	if want := []int{0, 3, 5}; !slices.Equal(cands, want) {
		t.Fatalf("Candidates(observation b) = %v, want %v", cands, want)
	}
	got, err := ix.MatchObservations(obs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 3, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("MatchObservations = %v, want %v", got, want)
	}
}

func TestCompileReportsBadPatterns(t *testing.T) {
	ix, err := Compile([]string{"[a:b = 1]", "[a:b = ]"}, "2.1")
	if err == nil || !strings.Contains(err.Error(), "pattern 1") {
		t.Fatalf("Compile error = %v, want one naming pattern 1", err)
	}
	if ix.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", ix.Len())
	}
}
