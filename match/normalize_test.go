package match

import "testing"

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  Kind
		in    string
		want  string
		wantK Kind
		ok    bool
	}{
		{"IPv4Plain", KindIP, "198.51.100.7", "198.51.100.7", KindIP, true},
		{"IPv4MappedBecomesIPv4", KindIP, "::ffff:198.51.100.7", "198.51.100.7", KindIP, true},
		{"IPv6UpperCaseCompressed", KindIP, "2001:DB8:0:0:0:0:0:1", "2001:db8::1", KindIP, true},
		{"IPv6ZoneDropped", KindIP, "fe80::1%eth0", "fe80::1", KindIP, true},
		{"IPv6Bracketed", KindIP, "[2001:db8::2]", "2001:db8::2", KindIP, true},
		{"IPNotAnAddress", KindIP, "evil.example", "", KindNone, false},
		{"DomainLowerCasedTrailingDotStripped", KindDomain, "WWW.Evil.Example.", "www.evil.example", KindDomain, true},
		{"DomainWithSlashRefused", KindDomain, "evil.example/x", "", KindDomain, false},
		{"URLSchemeAndHostLowerCased", KindURL, "HTTP://Evil.Example/Path?Q=1", "http://evil.example/Path?Q=1", KindURL, true},
		{"URLDefaultPortRemoved", KindURL, "https://evil.example:443/a", "https://evil.example/a", KindURL, true},
		{"URLOtherPortKept", KindURL, "http://evil.example:8080/a", "http://evil.example:8080/a", KindURL, true},
		{"URLEmptyPathIsSlash", KindURL, "http://evil.example", "http://evil.example/", KindURL, true},
		{"URLFragmentDropped", KindURL, "http://evil.example/a#top", "http://evil.example/a", KindURL, true},
		{"URLWithoutSchemeIsHTTP", KindURL, "evil.example/a", "http://evil.example/a", KindURL, true},
		{"URLHostTrailingDot", KindURL, "http://evil.example./a", "http://evil.example/a", KindURL, true},
		{"URLIPv6Host", KindURL, "http://[2001:DB8::1]:80/", "http://[2001:db8::1]/", KindURL, true},
		{"EmailLowerCased", KindEmail, "Alice@Evil.Example", "alice@evil.example", KindEmail, true},
		{"EmailDisplayName", KindEmail, "Alice <alice@evil.example>", "alice@evil.example", KindEmail, true},
		{"EmailTwoAtsRefused", KindEmail, "a@b@c", "", KindEmail, false},
		{"MD5UpperCase", KindMD5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e", KindMD5, true},
		{"HashKindByLength", KindHash, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", KindSHA1, true},
		{"SHA256WrongLength", KindSHA256, "d41d8cd98f00b204e9800998ecf8427e", "", KindNone, false},
		{"HashNotHex", KindMD5, "z41d8cd98f00b204e9800998ecf8427e", "", KindNone, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, k, ok := Normalize(tc.kind, tc.in)
			if ok != tc.ok || (ok && (got != tc.want || k != tc.wantK)) {
				t.Errorf("Normalize(%v, %q) = %q, %v, %v; want %q, %v, %v", tc.kind, tc.in, got, k, ok, tc.want, tc.wantK, tc.ok)
			}
		})
	}
}

func TestParseIPBytesAgreesWithParseIP(t *testing.T) {
	for _, s := range []string{"1.2.3.4", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3",
		"2001:db8::1", "::1", "::ffff:1.2.3.4", "", "a", "10.0.0.1 "} {
		a, ok := parseIP([]byte(s))
		b, ok2 := ParseIP(s)
		if ok != ok2 || a != b {
			t.Errorf("parseIP(%q) = %v, %v; ParseIP says %v, %v", s, a, ok, b, ok2)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"198.51.100.0/24", "198.51.100.0/24"},
		{"198.51.100.77/24", "198.51.100.0/24"},
		{"198.51.100.7", "198.51.100.7/32"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"::ffff:198.51.100.0/120", "198.51.100.0/24"},
	} {
		p, ok := ParsePrefix(tc.in)
		if !ok || p.String() != tc.want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", tc.in, p, ok, tc.want)
		}
	}
}

func TestURLNormalAgreesWithNormalizeURL(t *testing.T) {
	for _, u := range []string{
		"http://evil.example/", "http://evil.example/a/b?c=d&e=f", "https://x.test/p/1?q=1", "http://evil.example",
		"http://Evil.example/", "HTTP://evil.example/", "http://evil.example:80/", "http://evil.example./a",
		"http://evil.example/a#f", "http://evil.example/a%20b", "http://evil.example/a b", "http://u@evil.example/",
		"http://evil.example?x", "evil.example/a", "http://[2001:db8::1]/", "http://evil.example/é",
		"ftp://files.test/a;type=i", "http://a.test/x?y=z/w:v@u", "http://a.test/\\x", "http://a.test/{x}",
	} {
		n, ok := NormalizeURL(u)
		if urlNormal([]byte(u)) && (!ok || n != u) {
			t.Errorf("urlNormal(%q) says normal, but NormalizeURL gives %q, %v", u, n, ok)
		}
	}
}
