package sensor_test

import (
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sensor"
)

// stixString quotes s as a STIX pattern string literal.
func stixString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// FuzzExports writes indicators with arbitrary names, domains and URLs in
// every format, and checks each output with the format's parser.
func FuzzExports(f *testing.F) {
	f.Add("C2 \"server\"; \\", "evil.example", "http://evil.example/a;b?c=\"d\"|e")
	f.Add("\x00\xff", "xn--80ak6aa92e.example", "https://h.example:8443/%41")
	f.Add("", "a(b).example", "http://[2001:db8::1]/x")
	f.Add("name", "*.wild.example", "ftp://files.example/readme")
	f.Add("\t\n", "semi;colon.example", "http://h.example/\t")
	f.Fuzz(func(t *testing.T, name, domain, u string) {
		objs := []*cyberpact.Object{
			indicatorObject(t, 1, name, "[domain-name:value = "+stixString(domain)+"]"),
			indicatorObject(t, 2, name, "[url:value = "+stixString(u)+"]"),
			indicatorObject(t, 3, name, "[ipv4-addr:value = '192.0.2.1']"),
		}
		for _, engine := range []string{"suricata", "snort"} {
			got, _ := export(t, objs, engine, sensor.Options{})
			for _, line := range lines(got)[1:] {
				if line == "" {
					continue
				}
				if _, err := parseRule(engine, line); err != nil {
					t.Fatalf("%s: %v\n%s", engine, err, line)
				}
			}
		}
		got, _ := export(t, objs, "zeek", sensor.Options{})
		if _, err := parseIntel(got); err != nil {
			t.Fatalf("zeek: %v\n%s", err, got)
		}
		got, _ = export(t, objs, "rpz", sensor.Options{})
		z, err := parseZone(got)
		if err == nil {
			_, _, err = checkRPZ(z)
		}
		if err != nil {
			t.Fatalf("rpz: %v\n%s", err, got)
		}
	})
}
