// Package eventgen generates indicators and telemetry with known answers
// for the tests and benchmarks of package match: a STIX bundle of
// indicators, each testing one unique value from reserved or private
// ranges (10.0.0.0/8 addresses, 2001:db8::/32, CIDR ranges in
// 172.16.0.0/12, names under .example and .test, hashes), and JSON lines
// in Elastic Common Schema whose fields name some of those values, often
// in another form (upper case, trailing dot, default port, subdomain,
// an address inside a range), reporting which event must hit which
// indicator. Everything depends only on the seed and the counts.
package eventgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
)

// Config sizes a generated set.
type Config struct {
	Indicators int
	Events     int
	// HitRate is the share of events that name an indicator's value.
	HitRate float64
	Seed    uint64
	// Variants writes hit values in other forms that normalise to the
	// indicator's value; without it events write values as indicators do.
	Variants bool
}

// Hit is an expected match: event line Line (from 1), field Field, of
// indicator ID. Subdomain hits need subdomain matching on.
type Hit struct {
	Line      int
	Field     string
	ID        string
	Subdomain bool
}

// Kinds of generated indicators, by i % 20.
const (
	kIPv4 = iota
	kIPv6
	kDomain
	kURL
	kEmail
	kHash
	kCIDR
)

func kindOf(i int) int {
	if i%1000 == 999 && i/1000 < 4096 {
		return kCIDR
	}
	switch r := i % 20; {
	case r < 6:
		return kIPv4
	case r < 8:
		return kIPv6
	case r < 12:
		return kDomain
	case r < 14:
		return kURL
	case r < 15:
		return kEmail
	default:
		return kHash
	}
}

// ID returns the id of indicator i.
func ID(i int) string {
	return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012x", i)
}

var words = [...]string{"login", "cdn", "update", "portal", "secure", "files", "mail", "sync"}

func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func hexOf(i int, n int) string {
	var b strings.Builder
	x := uint64(i) * 7919
	for b.Len() < n {
		x = mix(x)
		fmt.Fprintf(&b, "%016x", x)
	}
	return b.String()[:n]
}

var hashAlgs = [...]struct {
	path, field string
	n           int
}{
	{"file:hashes.MD5", "file.hash.md5", 32},
	{"file:hashes.'SHA-1'", "file.hash.sha1", 40},
	{"file:hashes.'SHA-256'", "file.hash.sha256", 64},
}

// Value returns the value indicator i tests, as its pattern writes it (for
// a CIDR, the range).
func Value(i int) string {
	switch kindOf(i) {
	case kIPv4:
		return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	case kIPv6:
		a := netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 1, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		return a.String()
	case kDomain:
		return fmt.Sprintf("n%d.%s.example", i, words[i%len(words)])
	case kURL:
		return fmt.Sprintf("http://u%d.%s.test/p/%d?q=1", i, words[i%len(words)], i)
	case kEmail:
		return fmt.Sprintf("user%d@m%d.example", i, i)
	case kHash:
		return hexOf(i, hashAlgs[i%3].n)
	case kCIDR:
		j := i / 1000
		return fmt.Sprintf("172.%d.%d.0/24", 16+(j>>8&15), j&255)
	}
	return ""
}

// Pattern returns the pattern of indicator i.
func Pattern(i int) string {
	v := Value(i)
	switch kindOf(i) {
	case kIPv4:
		return "[ipv4-addr:value = '" + v + "']"
	case kIPv6:
		return "[ipv6-addr:value = '" + v + "']"
	case kDomain:
		return "[domain-name:value = '" + v + "']"
	case kURL:
		return "[url:value = '" + v + "']"
	case kEmail:
		return "[email-addr:value = '" + v + "']"
	case kHash:
		return "[" + hashAlgs[i%3].path + " = '" + v + "']"
	case kCIDR:
		return "[ipv4-addr:value ISSUBSET '" + v + "']"
	}
	return ""
}

// WriteIndicators writes a STIX 2.1 bundle of cfg.Indicators indicators.
func WriteIndicators(w io.Writer, cfg Config) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[`)
	for i := range cfg.Indicators {
		if i > 0 {
			bw.WriteByte(',')
		}
		p := strings.ReplaceAll(Pattern(i), `\`, `\\`)
		fmt.Fprintf(bw, "\n"+`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"generated %d","indicator_types":["malicious-activity"],"pattern":"%s","pattern_type":"stix","pattern_version":"2.1","valid_from":"2026-01-01T00:00:00Z","confidence":%d}`,
			ID(i), i, p, 50+i%50)
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// WriteValues writes the values of the indicators one a line, as events
// without variants write them (a CIDR as its first three octets and a
// dot), for comparing with grep -F -f.
func WriteValues(w io.Writer, cfg Config) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for i := range cfg.Indicators {
		v := Value(i)
		if kindOf(i) == kCIDR {
			v = strings.TrimSuffix(v, "0/24")
		}
		bw.WriteString(v)
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// event types
const (
	evConn = iota
	evDNS
	evHTTP
	evFile
	evMail
)

// WriteEvents writes cfg.Events JSON lines and calls hit, when not nil,
// for every match an event must give.
func WriteEvents(w io.Writer, cfg Config, hit func(Hit)) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5eed))
	var b []byte
	for line := 1; line <= cfg.Events; line++ {
		src := fmt.Sprintf("192.168.%d.%d", r.IntN(256), 1+r.IntN(254))
		ts := fmt.Sprintf("2026-11-20T%02d:%02d:%02d.%03dZ", r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000))
		typ := r.IntN(5)
		idx := -1
		if cfg.Indicators > 0 && r.Float64() < cfg.HitRate {
			idx = r.IntN(cfg.Indicators)
			switch kindOf(idx) {
			case kIPv4, kIPv6, kCIDR:
				typ = evConn
			case kDomain:
				typ = evDNS
			case kURL:
				typ = evHTTP
			case kHash:
				typ = evFile
			case kEmail:
				typ = evMail
			}
		}
		variant := 0
		if cfg.Variants {
			variant = r.IntN(3)
		}
		report := func(field string, sub bool) {
			if hit != nil {
				hit(Hit{Line: line, Field: field, ID: ID(idx), Subdomain: sub})
			}
		}
		b = append(b[:0], `{"@timestamp":"`...)
		b = append(b, ts...)
		b = append(b, `","event":{"kind":"event","dataset":"`...)
		switch typ {
		case evConn:
			dst := fmt.Sprintf("100.%d.%d.%d", 64+r.IntN(64), r.IntN(256), 1+r.IntN(254))
			if idx >= 0 {
				v := Value(idx)
				switch kindOf(idx) {
				case kCIDR:
					v = strings.TrimSuffix(v, "0/24") + strconv.Itoa(1+r.IntN(254))
				case kIPv6:
					if variant == 1 {
						v = strings.ToUpper(v)
					}
				}
				dst = v
				report("destination.ip", false)
			}
			b = fmt.Appendf(b, `network.flow"},"source":{"ip":"%s","port":%d},"destination":{"ip":"%s","port":%d},"network":{"transport":"tcp","bytes":%d}}`,
				src, 1024+r.IntN(60000), dst, []int{80, 443, 22, 53}[r.IntN(4)], r.IntN(100000))
		case evDNS:
			name := fmt.Sprintf("miss%d.%s.example", r.IntN(1<<30), words[r.IntN(len(words))])
			if idx >= 0 {
				v := Value(idx)
				switch variant {
				case 1:
					v = strings.ToUpper(v) + "."
					report("dns.question.name", false)
				case 2:
					v = "www." + v
					report("dns.question.name", true)
				default:
					report("dns.question.name", false)
				}
				name = v
			}
			b = fmt.Appendf(b, `dns"},"source":{"ip":"%s"},"dns":{"question":{"name":"%s","type":"A"}}}`, src, name)
		case evHTTP:
			u := fmt.Sprintf("https://miss%d.%s.test/index.html", r.IntN(1<<30), words[r.IntN(len(words))])
			if idx >= 0 {
				v := Value(idx)
				switch variant {
				case 1:
					host, rest, _ := strings.Cut(strings.TrimPrefix(v, "http://"), "/")
					v = "HTTP://" + strings.ToUpper(host) + ":80/" + rest
				case 2:
					host, rest, _ := strings.Cut(strings.TrimPrefix(v, "http://"), "/")
					v = "http://" + host + "./" + rest + "#frag"
				}
				u = v
				report("url.full", false)
			}
			b = fmt.Appendf(b, `http"},"source":{"ip":"%s"},"url":{"full":"%s"},"http":{"request":{"method":"GET"}}}`, src, u)
		case evFile:
			h, field := hexOf(1<<40+r.IntN(1<<30), 64), "file.hash.sha256"
			if idx >= 0 {
				h, field = Value(idx), hashAlgs[idx%3].field
				if variant == 1 {
					h = strings.ToUpper(h)
				}
				report(field, false)
			}
			b = fmt.Appendf(b, `file"},"host":{"name":"ws%d"},"file":{"name":"doc%d.exe","hash":{"%s":"%s"}}}`, r.IntN(1000), r.IntN(1000), field[len("file.hash."):], h)
		case evMail:
			from := fmt.Sprintf("sender%d@miss.example", r.IntN(1<<30))
			if idx >= 0 {
				from = Value(idx)
				if variant == 1 {
					from = strings.ToUpper(from)
				}
				report("email.from.address", false)
			}
			b = fmt.Appendf(b, `email"},"source":{"ip":"%s"},"email":{"from":{"address":["%s"]},"subject":"invoice %d"}}`, src, from, r.IntN(1000))
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
