package match

import (
	"net/netip"
	"strings"

	"github.com/gaissmai/bart"
)

// This file holds the warning lists: values that are benign or that no
// real attacker could use (reserved and private ranges, big public
// resolvers, big public domains, reserved names). A hit on one is flagged
// in the alert, and dropped only when MatchOptions.SkipWarninglisted says
// so, because exercises run on exactly these reserved values.

var warnPrefixes = []struct{ cidr, name string }{
	{"0.0.0.0/8", "rfc1122-this-network"},
	{"10.0.0.0/8", "rfc1918-private"},
	{"172.16.0.0/12", "rfc1918-private"},
	{"192.168.0.0/16", "rfc1918-private"},
	{"100.64.0.0/10", "rfc6598-shared"},
	{"127.0.0.0/8", "loopback"},
	{"169.254.0.0/16", "link-local"},
	{"192.0.0.0/24", "rfc6890-ietf-protocol"},
	{"192.0.2.0/24", "rfc5737-documentation"},
	{"198.51.100.0/24", "rfc5737-documentation"},
	{"203.0.113.0/24", "rfc5737-documentation"},
	{"198.18.0.0/15", "rfc2544-benchmarking"},
	{"224.0.0.0/4", "multicast"},
	{"240.0.0.0/4", "reserved"},
	{"255.255.255.255/32", "broadcast"},
	{"::/128", "unspecified"},
	{"::1/128", "loopback"},
	{"fe80::/10", "link-local"},
	{"fc00::/7", "unique-local"},
	{"ff00::/8", "multicast"},
	{"2001:db8::/32", "rfc3849-documentation"},
	{"3fff::/20", "rfc9637-documentation"},
	{"100::/64", "discard-only"},
}

var warnAddrs = []string{
	// Big public resolvers.
	"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844",
	"1.1.1.1", "1.0.0.1", "2606:4700:4700::1111", "2606:4700:4700::1001",
	"9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9",
	"208.67.222.222", "208.67.220.220", "94.140.14.14", "94.140.15.15",
	"76.76.2.0", "76.76.10.0", "185.228.168.9",
}

// reservedTLDs are the names RFC 2606, RFC 6761 and RFC 6762 keep out of
// the public DNS.
var reservedTLDs = map[string]string{
	"example": "rfc2606-reserved", "test": "rfc2606-reserved", "invalid": "rfc2606-reserved",
	"localhost": "rfc2606-reserved", "local": "rfc6762-mdns", "onion": "rfc7686-onion",
	"home.arpa": "rfc8375-home",
}

// popularDomains are big public domains whose names show up in every log.
var popularDomains = []string{
	"example.com", "example.net", "example.org",
	"google.com", "googleapis.com", "gstatic.com", "youtube.com", "gmail.com",
	"microsoft.com", "windows.com", "windowsupdate.com", "office.com", "office365.com", "live.com",
	"outlook.com", "bing.com", "azure.com", "msftconnecttest.com",
	"apple.com", "icloud.com", "amazon.com", "amazonaws.com", "cloudflare.com", "akamai.net",
	"akamaiedge.net", "facebook.com", "fbcdn.net", "instagram.com", "whatsapp.net", "linkedin.com",
	"twitter.com", "x.com", "github.com", "githubusercontent.com", "wikipedia.org", "mozilla.org",
	"mozilla.com", "yahoo.com", "netflix.com", "dropbox.com", "zoom.us", "ubuntu.com", "debian.org",
}

// Warnings is a compiled warning list: known-benign and reserved values.
// It is safe for concurrent use.
type Warnings struct {
	nets    bart.Table[string]
	domains map[string]string
}

// DefaultWarnings returns the built-in warning lists.
func DefaultWarnings() *Warnings {
	w := &Warnings{domains: map[string]string{}}
	for _, p := range warnPrefixes {
		w.nets.Insert(netip.MustParsePrefix(p.cidr), p.name)
	}
	for _, a := range warnAddrs {
		ip := netip.MustParseAddr(a)
		w.nets.Insert(netip.PrefixFrom(ip, ip.BitLen()), "public-resolver")
	}
	for t, name := range reservedTLDs {
		w.domains[t] = name
	}
	for _, d := range popularDomains {
		if strings.HasPrefix(d, "example.") {
			w.domains[d] = "rfc2606-reserved"
			continue
		}
		w.domains[d] = "popular-domain"
	}
	return w
}

// IP returns the name of the warning list that holds a, or "".
func (w *Warnings) IP(a netip.Addr) string {
	if w == nil {
		return ""
	}
	name, _ := w.nets.Lookup(a)
	return name
}

// Domain returns the name of the warning list that holds the normalised
// domain name d or one of its parent domains, or "".
func (w *Warnings) Domain(d string) string {
	if w == nil {
		return ""
	}
	for {
		if name, ok := w.domains[d]; ok {
			return name
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return ""
		}
		d = d[i+1:]
	}
}

// Value returns the warning for a normalised value of kind: addresses and
// domains by their lists, URLs and e-mail addresses by their host.
func (w *Warnings) Value(kind Kind, v string) string {
	switch kind {
	case KindIP:
		if a, ok := ParseIP(v); ok {
			return w.IP(a)
		}
	case KindDomain:
		return w.Domain(v)
	case KindEmail:
		if i := strings.LastIndexByte(v, '@'); i >= 0 {
			return w.Domain(v[i+1:])
		}
	case KindURL:
		if i := strings.Index(v, "://"); i >= 0 {
			h := v[i+3:]
			if j := strings.IndexAny(h, "/?#"); j >= 0 {
				h = h[:j]
			}
			if j := strings.LastIndexByte(h, '@'); j >= 0 {
				h = h[j+1:]
			}
			if strings.HasPrefix(h, "[") {
				if j := strings.IndexByte(h, ']'); j > 0 {
					if a, ok := ParseIP(h[1:j]); ok {
						return w.IP(a)
					}
				}
				return ""
			}
			if j := strings.LastIndexByte(h, ':'); j >= 0 {
				h = h[:j]
			}
			if a, ok := ParseIP(h); ok {
				return w.IP(a)
			}
			return w.Domain(h)
		}
	}
	return ""
}
