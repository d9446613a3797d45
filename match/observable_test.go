package match_test

import (
	"testing"

	"github.com/cyberpact/cyberpact/match"
)

func TestObservableKey(t *testing.T) {
	tests := []struct {
		name, kind, value, want string
		wantKind                match.Kind
		ok                      bool
	}{
		{"DomainCaseAndTrailingDotMeet", "domain", " EVIL.example. ", "evil.example", match.KindDomain, true},
		{"IPv4MappedBecomesIPv4", "ip", "::ffff:198.51.100.7", "198.51.100.7", match.KindIP, true},
		{"CIDRKeptAsPrefix", "ip", "198.51.100.9/24", "198.51.100.0/24", match.KindIP, true},
		{"HashLowerCasedAndResolved", "hash", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", match.KindMD5, true},
		{"URLHostLowerCased", "url", "HTTP://Evil.Example./a", "http://evil.example/a", match.KindURL, true},
		{"OtherKeptAsWritten", "other", " Evil.EXE ", "Evil.EXE", match.KindOther, true},
		{"BrokenAddressRefused", "ip", "not an address", "", match.KindNone, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, k, ok := match.ObservableKey(tc.kind, tc.value)
			if ok != tc.ok || (ok && (got != tc.want || k != tc.wantKind)) {
				t.Errorf("ObservableKey(%q, %q) = %q, %v, %v; want %q, %v, %v", tc.kind, tc.value, got, k, ok, tc.want, tc.wantKind, tc.ok)
			}
		})
	}
}

func TestObservableKeysGuessTheKind(t *testing.T) {
	tests := []struct {
		name, value string
		want        []string
	}{
		{"Address", "198.51.100.7", []string{"198.51.100.7"}},
		{"DomainAlsoAsWritten", "EVIL.example.", []string{"evil.example", "EVIL.example."}},
		{"FileNameBothWays", "evil.exe", []string{"evil.exe"}},
		{"PlainWord", "mutex-1", []string{"mutex-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range match.ObservableKeys(tc.value) {
				got = append(got, c.Key)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ObservableKeys(%q) = %q, want %q", tc.value, got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("ObservableKeys(%q) = %q, want %q", tc.value, got, tc.want)
				}
			}
		})
	}
}
