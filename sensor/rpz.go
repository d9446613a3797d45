package sensor

import (
	"bufio"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultZone is the RPZ zone's origin when Options.Zone is empty.
const DefaultZone = "rpz.cyberpact.invalid."

// rpzWriter writes a DNS response policy zone (RFC 1035 master file
// syntax, policy as in the DNS RPZ draft): an SOA and an NS record, then
// for each domain a CNAME to the root (NXDOMAIN) for the name and one for
// its subdomains, and for each address or range a CNAME to the root on its
// rpz-ip trigger, which acts on answers that hold the address.
type rpzWriter struct {
	errWriter
	opt    *Options
	origin string
	seen   map[string]struct{}
}

func newRPZ(w *bufio.Writer, opt *Options) formatter {
	o := opt.Zone
	if o == "" {
		o = DefaultZone
	}
	if !strings.HasSuffix(o, ".") {
		o += "."
	}
	return &rpzWriter{errWriter: errWriter{w}, opt: opt, origin: strings.ToLower(o), seen: map[string]struct{}{}}
}

func (r *rpzWriter) begin() error {
	serial := r.opt.Serial
	if serial == 0 {
		serial = uint32(r.opt.Now.Unix())
	}
	return r.line("$ORIGIN ", r.origin, "\n$TTL 300\n",
		"@ IN SOA localhost. hostmaster.localhost. ( ", strconv.FormatUint(uint64(serial), 10), " 3600 600 2592000 300 )\n",
		"@ IN NS localhost.")
}

func (r *rpzWriter) end() error   { return nil }
func (r *rpzWriter) flush() error { return nil }

func (r *rpzWriter) entry(ind *Indicator, v Value) (string, error) {
	var owners []string
	switch v.Kind {
	case KindDomain:
		name, ok := zoneName(v.Value)
		if !ok {
			return "domain that is not a valid DNS name", nil
		}
		owners = []string{name, "*." + name}
		if strings.HasPrefix(name, "*.") {
			owners = owners[:1] // a wildcard already covers the subdomains
		}
	case KindIP, KindCIDR:
		owners = []string{rpzIP(prefixOf(v))}
	default:
		return "value of kind " + v.Kind.String() + " not exported", nil
	}
	for _, o := range owners {
		if wireLen(o)+wireLen(r.origin)-1 > 255 {
			return "name too long for the zone", nil
		}
	}
	if _, dup := r.seen[owners[0]]; dup {
		return "value already listed", nil
	}
	r.seen[owners[0]] = struct{}{}
	for _, o := range owners {
		if err := r.line(o, " CNAME ."); err != nil {
			return "", err
		}
	}
	return "", nil
}

// zoneName writes a domain as a relative master-file name: its labels
// checked (1 to 63 octets) and every octet other than a letter, digit,
// hyphen or underscore written as \DDD. A "*" label stays a wildcard only
// in first place.
func zoneName(d string) (string, bool) {
	var b strings.Builder
	labels := strings.Split(d, ".")
	for i, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return "", false
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if l == "*" && i == 0 {
			b.WriteByte('*')
			continue
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
				b.WriteByte(c)
				continue
			}
			b.WriteByte('\\')
			b.WriteString(strconv.Itoa(int(c) + 1000)[1:])
		}
	}
	return b.String(), true
}

// wireLen returns the length of a master-file name in wire form: each
// label's octets (a \DDD escape is one) plus its length byte, plus the
// root's; a name ending in "." counts its empty root label once.
func wireLen(name string) int {
	n := 1
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return n
	}
	for _, l := range strings.Split(name, ".") {
		n += 1 + len(l) - 3*strings.Count(l, "\\")
	}
	return n
}

// rpzIP returns the rpz-ip trigger name of a range: the prefix length,
// then the address reversed, IPv4 octets in decimal, IPv6 16-bit words in
// hex with the longest run of zero words (two or more) written "zz".
func rpzIP(p netip.Prefix) string {
	p = p.Masked()
	parts := []string{strconv.Itoa(p.Bits())}
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		for i := 3; i >= 0; i-- {
			parts = append(parts, strconv.Itoa(int(b[i])))
		}
		return strings.Join(parts, ".") + ".rpz-ip"
	}
	b := a.As16()
	var words [8]uint16
	for i := range words {
		words[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	// The longest run of zero words, the first of equals.
	best, bestLen := -1, 1
	for i := 0; i < 8; {
		if words[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && words[j] == 0 {
			j++
		}
		if j-i > bestLen {
			best, bestLen = i, j-i
		}
		i = j
	}
	for i := 7; i >= 0; i-- {
		if best >= 0 && i >= best && i < best+bestLen {
			if i == best {
				parts = append(parts, "zz")
			}
			continue
		}
		parts = append(parts, strconv.FormatUint(uint64(words[i]), 16))
	}
	return strings.Join(parts, ".") + ".rpz-ip"
}
