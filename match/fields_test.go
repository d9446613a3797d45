package match_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/pattern"
)

// fieldValue returns a value of the right form for field fd, as event text
// and as a pattern literal.
func fieldValue(fd match.Field) (text, literal string) {
	switch fd.Kind {
	case match.KindIP:
		return "198.51.100.7", "'198.51.100.7'"
	case match.KindDomain:
		return "evil.example", "'evil.example'"
	case match.KindURL:
		return "http://evil.example/a", "'http://evil.example/a'"
	case match.KindEmail:
		return "ceo@evil.example", "'ceo@evil.example'"
	case match.KindMD5:
		return strings.Repeat("a", 32), "'" + strings.Repeat("a", 32) + "'"
	case match.KindSHA1:
		return strings.Repeat("b", 40), "'" + strings.Repeat("b", 40) + "'"
	case match.KindSHA256:
		return strings.Repeat("c", 64), "'" + strings.Repeat("c", 64) + "'"
	case match.KindSHA512:
		return strings.Repeat("d", 128), "'" + strings.Repeat("d", 128) + "'"
	}
	switch {
	case strings.HasSuffix(fd.Path, "_port"), strings.HasSuffix(fd.Path, "_count"), strings.HasSuffix(fd.Path, "_packets"),
		strings.HasSuffix(fd.Path, "pid"), strings.HasSuffix(fd.Path, ":size"), strings.HasSuffix(fd.Path, "exponent"):
		return "4444", "4444"
	}
	return "v " + fd.Name, "'v " + fd.Name + "'"
}

// TestEveryDefaultFieldFires holds the default field maps to what they
// document: every ECS field and Zeek column (but the time) stands for a
// STIX path written canonically, and an indicator testing that path fires
// on an event holding only that field, while one testing another value
// does not.
func TestEveryDefaultFieldFires(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format match.Format
		fields *match.Fields
	}{
		{"ECS", match.JSONLines, match.ECSFields()},
		{"Zeek", match.Zeek, match.ZeekFields()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, fd := range tc.fields.List() {
				if fd.Kind == match.KindTime || fd.Name == "host+uri" {
					continue
				}
				t.Run(fd.Name, func(t *testing.T) {
					p, err := pattern.Parse("[" + fd.Path + " = 1]")
					if err != nil {
						t.Fatalf("path %q: %v", fd.Path, err)
					}
					if canon := p.Root.(*pattern.ObservationBracket).Expr.(*pattern.Comparison).Path.String(); canon != fd.Path {
						t.Errorf("path %q is not canonical (%q)", fd.Path, canon)
					}
					text, lit := fieldValue(fd)
					other := strings.Replace(lit, "7", "8", 1)
					other = strings.Replace(other, "4", "5", 1)
					other = strings.Replace(other, "v ", "w ", 1)
					other = strings.Replace(other, "evil", "good", 1)
					other = strings.Replace(other, "aa", "ab", 1)
					other = strings.Replace(other, "bb", "ab", 1)
					other = strings.Replace(other, "cc", "ab", 1)
					other = strings.Replace(other, "dd", "ab", 1)
					ix := build(t,
						ind(1, "["+fd.Path+" = "+lit+"]", ""),
						ind(2, "["+fd.Path+" = "+other+"]", ""))
					var events string
					if tc.format == match.Zeek {
						events = "#separator \\x09\n#fields\t" + fd.Name + "\n" + text + "\n"
					} else {
						b, _ := json.Marshal(map[string]string{fd.Name: text})
						if strings.HasSuffix(lit, "4444") {
							b = []byte(fmt.Sprintf(`{%q:4444}`, fd.Name))
						}
						events = string(b) + "\n"
					}
					alerts, _ := runStream(t, ix, []byte(events), match.StreamOptions{Format: tc.format})
					var got []string
					for _, a := range alerts {
						got = append(got, a.Indicators...)
					}
					if !slices.Equal(got, []string{id(1)}) {
						t.Errorf("[%s = %s] on %s: fired %v, want only %s", fd.Path, lit, strings.TrimSpace(events), got, id(1))
					}
				})
			}
		})
	}
}

// TestDefaultECSMapHasEmailSubject is issue 16's "the default ECS field
// map leaves out email.subject": the demo's phishing pattern fires on an
// ECS event and a Zeek smtp.log line with its sender and subject, and not
// on one with another subject.
func TestDefaultECSMapHasEmailSubject(t *testing.T) {
	ix := build(t, ind(1, "[email-message:from_ref.value = 'billing@evil.example' AND email-message:subject LIKE 'Invoice%']", ""))
	ecs := `{"email":{"from":{"address":"billing@evil.example"},"subject":"Invoice 4471"}}
{"email":{"from":{"address":"billing@evil.example"},"subject":"Hello"}}
`
	zeek := "#separator \\x09\n#fields\tts\tfrom\tsubject\n1767225600.0\tbilling@evil.example\tInvoice 4471\n1767225600.0\tbilling@evil.example\tHello\n"
	for _, f := range []struct {
		format match.Format
		events string
		line   int
	}{{match.JSONLines, ecs, 1}, {match.Zeek, zeek, 3}} {
		alerts, _ := runStream(t, ix, []byte(f.events), match.StreamOptions{Format: f.format})
		if len(alerts) != 1 || alerts[0].Line != f.line {
			t.Errorf("format %d: alerts %+v, want one on line %d", f.format, alerts, f.line)
		}
	}
}

// TestIntegerPropertiesByValue checks that an integer property is
// compared by its value whatever its text (quoted, a leading zero, a zero
// fraction), as the pattern engine compares numbers, and that text where
// a number belongs (a quoted literal) never equals it.
func TestIntegerPropertiesByValue(t *testing.T) {
	ix := build(t,
		ind(1, "[network-traffic:dst_port = 8443]", ""),
		ind(2, "[network-traffic:dst_port = '8443']", ""),
		ind(3, "[network-traffic:dst_port = 8443 AND network-traffic:src_port = 51000]", ""))
	events := `{"destination":{"port":8443}}
{"destination":{"port":"8443"}}
{"destination":{"port":"08443"}}
{"destination":{"port":8443.0}}
{"destination":{"port":8444}}
{"destination":{"port":8443},"source":{"port":"051000"}}
`
	got := hitsOf(t, ix, events, match.StreamOptions{})
	want := map[int][]string{1: {id(1)}, 2: {id(1)}, 3: {id(1)}, 4: {id(1)}, 6: {id(1), id(3)}}
	for line := 1; line <= 6; line++ {
		if !slices.Equal(got[line], want[line]) {
			t.Errorf("line %d fired %v, want %v", line, got[line], want[line])
		}
	}
}

// TestComplexPatternsCompareInNormalForm checks that a pattern the engine
// confirms compares addresses, domains and hashes in normal form on both
// sides, as the index does for the patterns it decides alone: mixed case
// in the indicator or in the event makes no difference.
func TestComplexPatternsCompareInNormalForm(t *testing.T) {
	ix := build(t,
		ind(1, "[email-message:from_ref.value = 'Billing@Evil.Example' AND email-message:subject LIKE 'Invoice%']", ""),
		ind(2, "[email-addr:value = 'Billing@Evil.Example']", ""),
		ind(3, "[file:hashes.MD5 = '"+strings.Repeat("AB", 16)+"' AND file:name = 'x.exe']", ""),
		ind(4, "[domain-name:value IN ('WWW.Evil.Example', 'other.example') AND domain-name:value != 'z']", ""))
	events := `{"email":{"from":{"address":"billing@evil.example"},"subject":"Invoice 1"}}
{"email":{"from":{"address":"BILLING@EVIL.EXAMPLE"},"subject":"Invoice 2"}}
{"file":{"hash":{"md5":"` + strings.Repeat("ab", 16) + `"},"name":"x.exe"}}
{"dns":{"question":{"name":"www.EVIL.example."}}}
`
	got := hitsOf(t, ix, events, match.StreamOptions{})
	want := map[int][]string{1: {id(1), id(2)}, 2: {id(1), id(2)}, 3: {id(3)}, 4: {id(4)}}
	for line := 1; line <= 4; line++ {
		if !slices.Equal(got[line], want[line]) {
			t.Errorf("line %d fired %v, want %v", line, got[line], want[line])
		}
	}
}
