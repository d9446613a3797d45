package match

import (
	"net/netip"
	"net/url"
	"strings"
)

// Kind is the kind of observable value a field holds or an indicator tests,
// which decides how the value is normalised and which table it is looked up
// in.
type Kind uint8

// The kinds of values. KindOther is any other equality test, keyed by the
// STIX object type and property path it names (see Field.Path).
const (
	KindNone Kind = iota
	KindIP        // an IPv4 or IPv6 address
	KindDomain
	KindURL
	KindEmail
	KindMD5
	KindSHA1
	KindSHA256
	KindSHA512
	KindHash // any of the hash kinds, told apart by length
	KindOther
	// KindTime is not looked up: it is the event's time (RFC 3339, or
	// seconds since 1970 as Zeek writes them), which the pattern engine
	// uses for FOLLOWEDBY, WITHIN, START and STOP.
	KindTime
	numKinds
)

var kindNames = [...]string{
	KindNone: "none", KindIP: "ip", KindDomain: "domain", KindURL: "url", KindEmail: "email",
	KindMD5: "md5", KindSHA1: "sha1", KindSHA256: "sha256", KindSHA512: "sha512", KindHash: "hash",
	KindOther: "other", KindTime: "time",
}

// String returns the kind's name as used in field mappings.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// ParseKind returns the kind named s: ip, ipv4, ipv6, domain, url, email,
// md5, sha1, sha256, sha512 or hash (any hash, by length). It reports false
// for anything else.
func ParseKind(s string) (Kind, bool) {
	switch strings.ToLower(s) {
	case "ip", "ipv4", "ipv6", "ipv4-addr", "ipv6-addr":
		return KindIP, true
	case "domain", "domain-name", "hostname":
		return KindDomain, true
	case "url", "uri":
		return KindURL, true
	case "email", "email-addr":
		return KindEmail, true
	case "md5":
		return KindMD5, true
	case "sha1", "sha-1":
		return KindSHA1, true
	case "sha256", "sha-256":
		return KindSHA256, true
	case "sha512", "sha-512":
		return KindSHA512, true
	case "hash":
		return KindHash, true
	case "time", "timestamp":
		return KindTime, true
	}
	return KindNone, false
}

// hashKindOfLen returns the hash kind of a hex digest n characters long.
func hashKindOfLen(n int) Kind {
	switch n {
	case 32:
		return KindMD5
	case 40:
		return KindSHA1
	case 64:
		return KindSHA256
	case 128:
		return KindSHA512
	}
	return KindNone
}

// hashKindOfAlg returns the hash kind of a STIX hash algorithm name as it
// appears in a pattern path (MD5, 'SHA-1', 'SHA-256', SHA256...).
func hashKindOfAlg(alg string) Kind {
	alg = strings.Trim(alg, "'\"")
	alg = strings.ReplaceAll(strings.ToUpper(alg), "-", "")
	switch alg {
	case "MD5":
		return KindMD5
	case "SHA1":
		return KindSHA1
	case "SHA256":
		return KindSHA256
	case "SHA512":
		return KindSHA512
	}
	return KindNone
}

// ParseIP parses an IPv4 or IPv6 address as events and indicators write it:
// a zone is dropped and an IPv4-mapped IPv6 address becomes IPv4.
func ParseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		s = strings.TrimSpace(s)
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1]
		}
		if a, err = netip.ParseAddr(s); err != nil {
			return netip.Addr{}, false
		}
	}
	return a.WithZone("").Unmap(), true
}

// ParsePrefix parses a CIDR range, with host bits cleared; an address
// without a length is a single-address prefix.
func ParsePrefix(s string) (netip.Prefix, bool) {
	if !strings.Contains(s, "/") {
		a, ok := ParseIP(s)
		if !ok {
			return netip.Prefix{}, false
		}
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, false
	}
	a := p.Addr()
	bits := p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, false
		}
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}

// NormalizeDomain lower-cases a domain name and strips a trailing dot and
// surrounding space. It reports false for a value that cannot be a domain
// name (empty, or holding spaces, slashes or other separators).
func NormalizeDomain(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return "", false
	}
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			lower = false
		case c <= ' ' || c == '/' || c == '@' || c == '"' || c == '\\' || c == '?' || c == '#':
			return "", false
		}
	}
	if !lower {
		s = strings.ToLower(s)
	}
	return s, true
}

// NormalizeEmail lower-cases an e-mail address, taking the part in angle
// brackets of "Name <a@b>" forms. It reports false for a value without
// exactly one @.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return "", false
	}
	d, ok := NormalizeDomain(s[at+1:])
	if !ok {
		return "", false
	}
	return strings.ToLower(s[:at]) + "@" + d, true
}

// NormalizeHash lower-cases a hex digest and checks that it is hex of the
// length of kind (or any known length for KindHash). It returns the kind
// the digest has.
func NormalizeHash(s string, kind Kind) (string, Kind, bool) {
	s = strings.TrimSpace(s)
	k := hashKindOfLen(len(s))
	if k == KindNone || (kind != KindHash && kind != k) {
		return "", KindNone, false
	}
	lower := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			lower = false
		default:
			return "", KindNone, false
		}
	}
	if !lower {
		s = strings.ToLower(s)
	}
	return s, k, true
}

// defaultPorts are the ports a URL names by default for its scheme.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ftp": "21", "ws": "80", "wss": "443"}

// NormalizeURL puts a URL in the form both indicators and events are
// compared in: scheme and host lower-cased, a trailing dot on the host
// dropped, the scheme's default port removed, an empty path made "/", the
// fragment dropped; a URL without a scheme is taken as http. Path and
// query are kept as written. It reports false for a value that does not
// parse as a URL with a host.
func NormalizeURL(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := u.Hostname()
	port := u.Port()
	if h, ok := NormalizeDomain(host); ok {
		host = h
	} else {
		return "", false
	}
	if port == defaultPorts[scheme] {
		port = ""
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	b.WriteString(scheme)
	b.WriteString("://")
	if u.User != nil {
		b.WriteString(u.User.String())
		b.WriteByte('@')
	}
	if strings.IndexByte(host, ':') >= 0 {
		b.WriteByte('[')
		b.WriteString(host)
		b.WriteByte(']')
	} else {
		b.WriteString(host)
	}
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	p := u.EscapedPath()
	if p == "" {
		p = "/"
	}
	b.WriteString(p)
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(u.RawQuery)
	}
	return b.String(), true
}

// Normalize returns value in the normal form of kind, the kind it turned
// out to be (KindHash resolves to the digest's algorithm), and whether it
// is a valid value of that kind. IP addresses come back in netip's
// canonical text form.
func Normalize(kind Kind, value string) (string, Kind, bool) {
	switch kind {
	case KindIP:
		a, ok := ParseIP(value)
		if !ok {
			return "", KindNone, false
		}
		return a.String(), KindIP, true
	case KindDomain:
		s, ok := NormalizeDomain(value)
		return s, kind, ok
	case KindURL:
		s, ok := NormalizeURL(value)
		return s, kind, ok
	case KindEmail:
		s, ok := NormalizeEmail(value)
		return s, kind, ok
	case KindMD5, KindSHA1, KindSHA256, KindSHA512, KindHash:
		return NormalizeHash(value, kind)
	case KindOther:
		return value, kind, true
	}
	return "", KindNone, false
}

// urlSafe marks the bytes a URL's path and query may hold for urlNormal.
var urlSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=:@/?" {
		t[c] = true
	}
	return t
}()

// urlNormal reports whether v is already a URL in the form NormalizeURL
// gives, a check much cheaper than parsing: a lower-case scheme, "://", a
// lower-case host name without port, user or trailing dot, then a path
// starting with "/" and an optional query, of plain characters only (no
// percent escapes, no fragment).
func urlNormal(v []byte) bool {
	i := 0
	for i < len(v) && v[i] >= 'a' && v[i] <= 'z' {
		i++
	}
	if i == 0 || len(v) < i+4 || string(v[i:i+3]) != "://" {
		return false
	}
	i += 3
	h := i
	for i < len(v) && (v[i] >= 'a' && v[i] <= 'z' || v[i] >= '0' && v[i] <= '9' || v[i] == '.' || v[i] == '-') {
		i++
	}
	if i == h || i == len(v) || v[i] != '/' || v[i-1] == '.' {
		return false
	}
	for ; i < len(v); i++ {
		if !urlSafe[v[i]] {
			return false
		}
	}
	return true
}
