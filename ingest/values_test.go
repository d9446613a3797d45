package ingest

import (
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/pattern"
)

// TestValueTypesAndPatterns: each value's type is told from its form or
// checked against the one given, and its pattern is valid STIX patterning
// that quotes the value safely.
func TestValueTypesAndPatterns(t *testing.T) {
	for _, c := range []struct {
		typ, value, want, pattern string
	}{
		{"auto", "198.51.100.7", "ipv4-addr", "[ipv4-addr:value = '198.51.100.7']"},
		{"auto", "198.51.100.0/24", "ipv4-addr", "[ipv4-addr:value = '198.51.100.0/24']"},
		{"auto", "2001:db8::1", "ipv6-addr", "[ipv6-addr:value = '2001:db8::1']"},
		{"ip-dst", "2001:db8::/32", "ipv6-addr", "[ipv6-addr:value = '2001:db8::/32']"},
		{"auto", "http://evil.example/a'b\\c", "url", `[url:value = 'http://evil.example/a\'b\\c']`},
		{"auto", "evil.example", "domain-name", "[domain-name:value = 'evil.example']"},
		{"hostname", "intranet", "domain-name", "[domain-name:value = 'intranet']"},
		{"auto", "ops@evil.example", "email-addr", "[email-addr:value = 'ops@evil.example']"},
		{"auto", "d41d8cd98f00b204e9800998ecf8427e", "md5", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"},
		{"SHA-1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "sha1", "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"},
		{"sha256", strings.Repeat("ab", 32), "sha256", "[file:hashes.'SHA-256' = '" + strings.Repeat("ab", 32) + "']"},
	} {
		got, err := valueType(c.typ, c.value)
		if err != nil || got != c.want {
			t.Errorf("valueType(%q, %q) = %q, %v; want %q", c.typ, c.value, got, err, c.want)
			continue
		}
		p := patternOf(got, c.value)
		if p != c.pattern {
			t.Errorf("patternOf(%q, %q) = %s, want %s", got, c.value, p, c.pattern)
		}
		if _, err := pattern.Parse(p); err != nil {
			t.Errorf("%s does not parse: %v", p, err)
		}
	}
	for _, c := range []struct{ typ, value, why string }{
		{"auto", "not a value", "cannot tell"},
		{"ipv4-addr", "evil.example", "is not a ipv4-addr"},
		{"md5", "d41d8cd9", "is not a md5"},
		{"ipv5", "198.51.100.7", "is not one of"},
	} {
		if _, err := valueType(c.typ, c.value); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("valueType(%q, %q): %v, want an error saying %q", c.typ, c.value, err, c.why)
		}
	}
}

// TestCSVRowsReadByTheColumnMap: columns by number, a header skipped,
// comments and short rows, each bad row named by its line.
func TestCSVRowsReadByTheColumnMap(t *testing.T) {
	src := &cyberpact.Source{Kind: cyberpact.SourceCSV, URL: "http://127.0.0.1/x.csv", Columns: "value=2,type=1,description=3,labels=4,header"}
	body := "type,value,description,labels\n# a comment\nipv4-addr,192.0.2.1,\"scanner, noisy\",scan|noise\ndomain\nauto,???,,\nmd5,d41d8cd98f00b204e9800998ecf8427e,,\n"
	rows, bad, err := parseValues(src, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].value != "192.0.2.1" || rows[0].descr != "scanner, noisy" || strings.Join(rows[0].labels, ",") != "scan,noise" || rows[1].typ != "md5" {
		t.Errorf("rows: %+v", rows)
	}
	if len(bad) != 2 || !strings.HasPrefix(bad[0], "line 4: no column 2") || !strings.HasPrefix(bad[1], "line 5:") {
		t.Errorf("bad rows: %q", bad)
	}
}
