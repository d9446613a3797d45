package sensor_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sensor"
)

// TestRPZLoadsInBIND loads exported zones with BIND's named-checkzone,
// when it is installed (Debian: bind9-utils): the fixture's, and one of
// domains holding the characters a master file must escape.
func TestRPZLoadsInBIND(t *testing.T) {
	checker, err := exec.LookPath("named-checkzone")
	if err != nil {
		t.Skip("named-checkzone is not installed (Debian: apt-get install bind9-utils)")
	}
	odd := []*cyberpact.Object{}
	for i, d := range []string{"a(b).example", "semi;colon.example", "dollar$.example", "at-start.example", "*.wild.example", "under_score.example", "x\u00e9.example"} {
		odd = append(odd, indicatorObject(t, i+1, "odd", "[domain-name:value = "+stixString(d)+"]"))
	}
	odd = append(odd, indicatorObject(t, 50, "v6", "[ipv6-addr:value = '2001:db8::/32'] OR [ipv6-addr:value = '::1'] OR [ipv4-addr:value = '10.0.0.0/8']"))
	for name, objs := range map[string][]*cyberpact.Object{"fixture": fixture(t), "odd names": odd} {
		got, st := export(t, objs, "rpz", sensor.Options{Zone: "rpz.example.org"})
		if st.Values == 0 {
			t.Fatalf("%s: nothing exported: %v", name, st.Skipped)
		}
		path := filepath.Join(t.TempDir(), "rpz.zone")
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(checker, "rpz.example.org", path).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Errorf("%s: named-checkzone: %v\n%s\n%s", name, err, out, got)
		}
	}
}
