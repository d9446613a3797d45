package sensor_test

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// This file is a parser of DNS master files (RFC 1035 section 5: $ORIGIN
// and $TTL, owner / TTL / class / type / RDATA, a blank owner repeating
// the previous one, "@" for the origin, parentheses joining lines, ';'
// comments, \X and \DDD escapes in names) and a checker of what a
// response policy zone needs (the DNS RPZ draft): one SOA at the apex
// first, an NS at the apex, CNAME . as the NXDOMAIN policy, nothing else
// at a CNAME's owner (RFC 1034 3.6.2), and well-formed rpz-ip triggers.

// zoneRR is one record with its owner as a list of unescaped labels,
// origin included.
type zoneRR struct {
	Owner []string
	TTL   int
	Type  string
	RData []string
}

type zone struct {
	Origin []string
	RRs    []zoneRR
}

// parseZone reads a master file.
func parseZone(data string) (*zone, error) {
	z := &zone{}
	ttl := -1
	var prev []string
	lines := strings.Split(data, "\n")
	for n := 0; n < len(lines); n++ {
		where := fmt.Sprintf("line %d", n+1)
		line := stripComment(lines[n])
		// Parentheses join lines.
		for strings.Count(line, "(") > strings.Count(line, ")") {
			n++
			if n == len(lines) {
				return nil, fmt.Errorf("%s: parenthesis not closed", where)
			}
			line += " " + stripComment(lines[n])
		}
		if strings.Count(line, "(") != strings.Count(line, ")") {
			return nil, fmt.Errorf("%s: unbalanced parentheses", where)
		}
		blankOwner := len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
		f := strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(line))
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "$ORIGIN":
			if len(f) != 2 || !strings.HasSuffix(f[1], ".") {
				return nil, fmt.Errorf("%s: $ORIGIN needs one absolute name", where)
			}
			o, err := zoneLabels(f[1], nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			z.Origin = o
			continue
		case "$TTL":
			if len(f) != 2 {
				return nil, fmt.Errorf("%s: $TTL needs one number", where)
			}
			t, err := strconv.ParseUint(f[1], 10, 31)
			if err != nil {
				return nil, fmt.Errorf("%s: $TTL %q: %v", where, f[1], err)
			}
			ttl = int(t)
			continue
		}
		if strings.HasPrefix(f[0], "$") {
			return nil, fmt.Errorf("%s: unknown directive %s", where, f[0])
		}
		rr := zoneRR{TTL: ttl}
		if blankOwner {
			if prev == nil {
				return nil, fmt.Errorf("%s: blank owner with no previous record", where)
			}
			rr.Owner = prev
		} else {
			if z.Origin == nil && f[0] != "@" && !strings.HasSuffix(f[0], ".") {
				return nil, fmt.Errorf("%s: relative name with no $ORIGIN", where)
			}
			o, err := zoneLabels(f[0], z.Origin)
			if err != nil {
				return nil, fmt.Errorf("%s: owner: %w", where, err)
			}
			rr.Owner = o
			f = f[1:]
		}
		// [TTL] [class] or [class] [TTL], then the type.
		for len(f) > 0 {
			if t, err := strconv.ParseUint(f[0], 10, 31); err == nil {
				rr.TTL = int(t)
			} else if f[0] != "IN" {
				break
			}
			f = f[1:]
		}
		if rr.TTL < 0 {
			return nil, fmt.Errorf("%s: no TTL and no $TTL before", where)
		}
		if len(f) == 0 {
			return nil, fmt.Errorf("%s: no type", where)
		}
		rr.Type, rr.RData = f[0], f[1:]
		switch rr.Type {
		case "SOA":
			if len(rr.RData) != 7 {
				return nil, fmt.Errorf("%s: SOA has %d fields, want 7", where, len(rr.RData))
			}
			for _, v := range rr.RData[2:] {
				if _, err := strconv.ParseUint(v, 10, 32); err != nil {
					return nil, fmt.Errorf("%s: SOA number %q: %v", where, v, err)
				}
			}
			fallthrough
		case "NS", "CNAME":
			for _, nm := range rr.RData[:map[string]int{"SOA": 2, "NS": 1, "CNAME": 1}[rr.Type]] {
				if _, err := zoneLabels(nm, z.Origin); err != nil {
					return nil, fmt.Errorf("%s: %s target: %w", where, rr.Type, err)
				}
			}
			if rr.Type != "SOA" && len(rr.RData) != 1 {
				return nil, fmt.Errorf("%s: %s has %d fields, want 1", where, rr.Type, len(rr.RData))
			}
		default:
			return nil, fmt.Errorf("%s: type %s not expected in a policy zone", where, rr.Type)
		}
		prev = rr.Owner
		z.RRs = append(z.RRs, rr)
	}
	return z, nil
}

func stripComment(s string) string {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ';':
			return s[:i]
		}
	}
	return s
}

// zoneLabels reads a name, unescaping \X and \DDD, appending origin to a
// relative one, and checks RFC 1035's limits (labels 1 to 63 octets, 255
// octets in all).
func zoneLabels(s string, origin []string) ([]string, error) {
	if s == "@" {
		return origin, nil
	}
	if s == "." {
		return []string{}, nil
	}
	abs := strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "\\.")
	var labels []string
	var cur []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+3 < len(s)+0 && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]):
			n, _ := strconv.Atoi(s[i+1 : i+4])
			if n > 255 {
				return nil, fmt.Errorf("%q: escape \\%03d above 255", s, n)
			}
			cur = append(cur, byte(n))
			i += 3
		case c == '\\' && i+1 < len(s):
			i++
			cur = append(cur, s[i])
		case c == '\\':
			return nil, fmt.Errorf("%q: escape at the end", s)
		case c == '.':
			labels = append(labels, string(cur))
			cur = cur[:0]
		case c <= ' ' || c == '"' || c == '(' || c == ')' || c == ';' || c > 0x7e:
			return nil, fmt.Errorf("%q: byte %#x must be escaped", s, c)
		default:
			cur = append(cur, c)
		}
	}
	if !abs {
		labels = append(labels, string(cur))
		labels = append(labels, origin...)
	}
	total := 1
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 {
			return nil, fmt.Errorf("%q: label %q not 1 to 63 octets", s, l)
		}
		total += 1 + len(l)
	}
	if total > 255 {
		return nil, fmt.Errorf("%q: %d octets, over 255", s, total)
	}
	return labels, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// checkRPZ checks the zone as a response policy zone and returns its
// policy triggers: the QNAME triggers as names relative to the origin
// (lower-case, dot-joined) and the rpz-ip triggers as ranges.
func checkRPZ(z *zone) (names []string, ips []netip.Prefix, err error) {
	if len(z.RRs) == 0 || z.RRs[0].Type != "SOA" || !sameName(z.RRs[0].Owner, z.Origin) {
		return nil, nil, fmt.Errorf("first record is not the SOA at the origin")
	}
	owners := map[string][]string{}
	ns := false
	for i, rr := range z.RRs {
		key := strings.ToLower(strings.Join(rr.Owner, "."))
		owners[key] = append(owners[key], rr.Type)
		switch rr.Type {
		case "SOA":
			if i > 0 {
				return nil, nil, fmt.Errorf("a second SOA")
			}
		case "NS":
			ns = ns || sameName(rr.Owner, z.Origin)
		case "CNAME":
			if rr.RData[0] != "." {
				return nil, nil, fmt.Errorf("%s: CNAME %s, not the NXDOMAIN policy \".\"", key, rr.RData[0])
			}
			rel := rr.Owner[:len(rr.Owner)-len(z.Origin)]
			if !sameName(rr.Owner[len(rel):], z.Origin) {
				return nil, nil, fmt.Errorf("%s: not inside the zone", key)
			}
			if len(rel) > 1 && strings.EqualFold(rel[len(rel)-1], "rpz-ip") {
				p, err := rpzIPTrigger(rel[:len(rel)-1])
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %w", key, err)
				}
				ips = append(ips, p)
			} else {
				names = append(names, strings.ToLower(strings.Join(rel, ".")))
			}
		}
	}
	if !ns {
		return nil, nil, fmt.Errorf("no NS record at the apex")
	}
	for o, types := range owners {
		for _, t := range types {
			if t == "CNAME" && len(types) > 1 {
				return nil, nil, fmt.Errorf("%s: CNAME beside other data (%v)", o, types)
			}
		}
	}
	return names, ips, nil
}

func sameName(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// rpzIPTrigger reads the labels of an rpz-ip trigger before "rpz-ip": a
// prefix length, then the address reversed, four decimal octets or IPv6
// 16-bit words in hex with at most one "zz" for a run of zeros.
func rpzIPTrigger(l []string) (netip.Prefix, error) {
	bits, err := strconv.Atoi(l[0])
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("prefix length %q", l[0])
	}
	rest := l[1:]
	var a netip.Addr
	if len(rest) == 4 && !strings.Contains(strings.Join(rest, ""), "zz") {
		var b [4]byte
		for i, s := range rest {
			n, err := strconv.ParseUint(s, 10, 8)
			if err != nil || (len(s) > 1 && s[0] == '0') {
				return netip.Prefix{}, fmt.Errorf("octet %q", s)
			}
			b[3-i] = byte(n)
		}
		a = netip.AddrFrom4(b)
	} else {
		var words []uint16
		zz := -1
		for i := len(rest) - 1; i >= 0; i-- {
			if rest[i] == "zz" {
				if zz >= 0 {
					return netip.Prefix{}, fmt.Errorf("two zz")
				}
				zz = len(words)
				continue
			}
			n, err := strconv.ParseUint(rest[i], 16, 16)
			if err != nil || (len(rest[i]) > 1 && rest[i][0] == '0') || strings.ToLower(rest[i]) != rest[i] {
				return netip.Prefix{}, fmt.Errorf("word %q", rest[i])
			}
			words = append(words, uint16(n))
		}
		if zz >= 0 {
			if len(words) >= 8 {
				return netip.Prefix{}, fmt.Errorf("zz stands for no zeros")
			}
			fill := make([]uint16, 8-len(words))
			words = append(words[:zz], append(fill, words[zz:]...)...)
		}
		if len(words) != 8 {
			return netip.Prefix{}, fmt.Errorf("%d IPv6 words", len(words))
		}
		var b [16]byte
		for i, w := range words {
			b[2*i], b[2*i+1] = byte(w>>8), byte(w)
		}
		a = netip.AddrFrom16(b)
	}
	p := netip.PrefixFrom(a, bits)
	if !p.IsValid() || p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("prefix %v invalid or with host bits set", p)
	}
	return p, nil
}
