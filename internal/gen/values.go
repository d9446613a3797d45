package gen

import (
	"math/rand/v2"
	"strconv"

	"github.com/google/uuid"
)

// This file holds the value helpers: observable values drawn only from the
// ranges reserved for documentation, so that generated intelligence can
// never match a real host, and the id helpers.

// The documentation ranges every generated value comes from: RFC 5737 for
// IPv4, RFC 3849 for IPv6, RFC 2606 / RFC 6761 top-level domains.
var (
	ipv4Nets = [...]string{"192.0.2.", "198.51.100.", "203.0.113."}
	tlds     = [...]string{".example", ".test", ".example", ".example"}
)

// scoNamespace is the STIX 2.1 namespace of deterministic SCO ids
// (section 2.9).
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// Words that generated host names and paths are built from: the vocabulary
// of phishing kits and command-and-control panels.
var (
	hostWords = [...]string{
		"login", "secure", "update", "cdn", "portal", "auth", "sso", "mail", "vpn", "files",
		"sync", "docs", "account", "verify", "billing", "support", "static", "api", "gateway", "cloud",
		"drive", "owa", "remote", "helpdesk", "payments", "invoice", "share", "assets", "telemetry", "status",
	}
	orgWords = [...]string{
		"northwind", "contoso-pay", "harbor-clearing", "gridline", "meridian", "fabrikam", "atlas-energy",
		"kestrel-bank", "tessera", "bluefin", "orchard", "pinecrest", "lumen-grid", "corvid", "halcyon",
	}
	pathWords = [...]string{
		"wp-content", "images", "dl", "gate.php", "index", "auth", "update", "content", "api/v2", "static/js",
		"invoice", "doc", "cgi-bin", "upload", "session",
	}
	userWords = [...]string{
		"hr.notice", "it-support", "payroll", "no-reply", "security-team", "ceo.office", "invoices",
		"helpdesk", "recruiting", "compliance",
	}
)

// IPv4 returns an address in one of the RFC 5737 documentation networks
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
func IPv4(r *rand.Rand) string {
	return ipv4Nets[r.IntN(len(ipv4Nets))] + strconv.Itoa(1+r.IntN(254))
}

// IPv4At returns the i-th of the 762 host addresses of the RFC 5737
// networks, for 0 <= i < NumIPv4; each i gives a different address.
func IPv4At(i int) string {
	return ipv4Nets[i/254] + strconv.Itoa(1+i%254)
}

// NumIPv4 is how many distinct host addresses IPv4At gives.
const NumIPv4 = 3 * 254

// IPv6 returns an address in the RFC 3849 documentation prefix
// 2001:db8::/32.
func IPv6(r *rand.Rand) string {
	return string(appendIPv6(nil, r, r.Uint64()))
}

// appendIPv6 appends an address of 2001:db8::/32 whose last 64 bits are
// low, so that distinct low values give distinct addresses.
func appendIPv6(b []byte, r *rand.Rand, low uint64) []byte {
	b = append(b, "2001:db8:"...)
	b = strconv.AppendUint(b, uint64(r.IntN(0x10000)), 16)
	b = append(b, ':')
	b = strconv.AppendUint(b, uint64(r.IntN(0x10000)), 16)
	for i := 3; i >= 0; i-- {
		b = append(b, ':')
		b = strconv.AppendUint(b, (low>>(16*i))&0xffff, 16)
	}
	return b
}

// Domain returns a host name under a reserved top-level domain (.example
// or .test), e.g. "sso.kestrel-bank-login.example".
func Domain(r *rand.Rand) string {
	return string(appendDomain(nil, r, -1))
}

// appendDomain appends a reserved host name; a tag >= 0 is written into
// the name so that distinct tags give distinct names.
func appendDomain(b []byte, r *rand.Rand, tag int64) []byte {
	if r.IntN(3) == 0 {
		b = append(b, hostWords[r.IntN(len(hostWords))]...)
		b = append(b, '.')
	}
	b = append(b, orgWords[r.IntN(len(orgWords))]...)
	b = append(b, '-')
	b = append(b, hostWords[r.IntN(len(hostWords))]...)
	if tag >= 0 {
		b = append(b, '-')
		b = strconv.AppendInt(b, tag, 36)
	}
	return append(b, tlds[r.IntN(len(tlds))]...)
}

// URL returns an https URL on a reserved host name.
func URL(r *rand.Rand) string {
	return string(appendURL(nil, r, -1))
}

func appendURL(b []byte, r *rand.Rand, tag int64) []byte {
	b = append(b, "https://"...)
	b = appendDomain(b, r, -1)
	b = append(b, '/')
	b = append(b, pathWords[r.IntN(len(pathWords))]...)
	b = append(b, '/')
	if tag >= 0 {
		b = strconv.AppendInt(b, tag, 36)
		b = append(b, '-')
	}
	return appendHex(b, r, 4)
}

// Email returns a mailbox on a reserved host name.
func Email(r *rand.Rand) string {
	return string(appendEmail(nil, r))
}

func appendEmail(b []byte, r *rand.Rand) []byte {
	b = append(b, userWords[r.IntN(len(userWords))]...)
	b = append(b, '@')
	return appendDomain(b, r, -1)
}

// Hex returns n random bytes as 2n lowercase hex digits: Hex(r, 16) is an
// MD5-sized hash, 20 a SHA-1, 32 a SHA-256.
func Hex(r *rand.Rand, n int) string {
	return string(appendHex(nil, r, n))
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, r *rand.Rand, n int) []byte {
	for n > 0 {
		v := r.Uint64()
		k := min(n, 8)
		for i := 0; i < k; i++ {
			c := byte(v >> (8 * i))
			b = append(b, hexDigits[c>>4], hexDigits[c&15])
		}
		n -= k
	}
	return b
}

// UUID4 returns a random version 4 UUID drawn from r, so that a seeded
// generator gives the same ids every time.
func UUID4(r *rand.Rand) string {
	return string(appendUUID4(nil, r.Uint64(), r.Uint64()))
}

// appendUUID4 formats hi and lo as a version 4, variant 1 UUID.
func appendUUID4(b []byte, hi, lo uint64) []byte {
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return b
}

// SCOID returns the deterministic id of a cyber observable of type typ
// whose only ID contributing property is value (ipv4-addr, ipv6-addr,
// domain-name, url, email-addr, ...): UUIDv5 in the STIX namespace over the
// canonical JSON {"value":"..."}. value must need no JSON escaping.
func SCOID(typ, value string) string {
	return typ + "--" + uuid.NewSHA1(scoNamespace, []byte(`{"value":"`+value+`"}`)).String()
}

// FileID returns the deterministic id of a file SCO with one hash and a
// name: UUIDv5 over {"hashes":{"ALG":"HASH"},"name":"NAME"}. The values
// must need no JSON escaping.
func FileID(alg, hash, name string) string {
	return "file--" + uuid.NewSHA1(scoNamespace, []byte(`{"hashes":{"`+alg+`":"`+hash+`"},"name":"`+name+`"}`)).String()
}
