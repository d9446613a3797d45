package match

import (
	"fmt"
	"testing"

	"github.com/cyberpact/cyberpact/internal/eventgen"
	"github.com/cyberpact/cyberpact/pattern"
)

// TestFastPathAgreesWithParser checks that the patterns fastSimple takes
// get the keys the parser-driven path gives them, and that it leaves the
// rest to the parser.
func TestFastPathAgreesWithParser(t *testing.T) {
	pats := []string{
		"[ipv4-addr:value = '198.51.100.7']",
		"[ipv4-addr:value='198.51.100.7']",
		"[ipv6-addr:value = '2001:DB8::1']",
		"[ipv4-addr:value ISSUBSET '203.0.113.0/24']",
		"[ipv4-addr:value = '203.0.113.0/24']",
		"[domain-name:value = 'Evil.Example.']",
		"[url:value = 'HTTP://evil.example:80/a?b=c']",
		"[email-addr:value = 'A@Evil.Example']",
		"[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']",
		"[file:hashes.'SHA-256' = '" + fmt.Sprintf("%064d", 1) + "']",
		"[file:hashes.'SHA-1' = '" + fmt.Sprintf("%040d", 1) + "']",
		"[process:name = 'evil.exe']",
		"[user-account:user_id = '1001']",
		"[x-custom:some_prop = 'x']",
	}
	slowOnly := []string{
		"[ipv4-addr:value != '198.51.100.7']",
		"[ipv4-addr:value <= '198.51.100.7']",
		"[ipv4-addr:value NOT = '198.51.100.7']",
		"[domain-name:value = 'a.test' OR domain-name:value = 'b.test']",
		"[network-traffic:dst_ref.value = '198.51.100.7']",
		"[process:name = 'it''s']",
		"[windows-registry-key:key = 'HKLM\\\\Run']",
		"[domain-name:value LIKE '%.test']",
		"[domain-name:value = 'a.test'] WITHIN 5 SECONDS",
		"[file:hashes.'x y' = 'a']",
		"[domain-name:value ISSUBSET 'a.test']",
	}
	for i := range 200 {
		pats = append(pats, eventgen.Pattern(i*997+i%20))
	}
	for _, p := range pats {
		var fast compiled
		if !fast.fastSimple(p) {
			t.Errorf("fast path refused %s", p)
			continue
		}
		var slow compiled
		pp, err := pattern.Parse(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !slow.obs(pp.Root) {
			t.Errorf("parser path does not find %s simple", p)
		}
		if fmt.Sprint(fast.keys, fast.prefixes) != fmt.Sprint(slow.keys, slow.prefixes) {
			t.Errorf("%s: fast path keys %v %v, parser path %v %v", p, fast.keys, fast.prefixes, slow.keys, slow.prefixes)
		}
	}
	for _, p := range slowOnly {
		var c compiled
		if c.fastSimple(p) || len(c.keys) > 0 || len(c.prefixes) > 0 {
			t.Errorf("fast path took %s", p)
		}
	}
}
