package sensor

import (
	"bufio"
	"github.com/cyberpact/cyberpact"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SIDBase and SIDSpan bound the signature ids of exported rules: every sid
// is in [SIDBase, SIDBase+SIDSpan), above the 1,000,000 to 1,999,999
// range Snort reserves for local rules of hand-written sets and below
// 2^31, so that any engine's signed 32-bit sid holds it.
const (
	SIDBase = 1_000_000_000
	SIDSpan = 1_000_000_000
)

// SID returns the signature id of the rule for value v of indicator id: a
// hash of both, so the same indicator value keeps its sid from one export
// to the next whatever else the export holds. Two values whose hashes
// collide within one export are told apart by rehashing the later one
// (see sids.assign), so a sid is stable as long as the value that
// first took it stays in the export.
func SID(id string, v Value) uint32 {
	h := fnv.New64a()
	h.Write([]byte(id))
	h.Write([]byte{0, byte(v.Kind)})
	h.Write([]byte(v.Value))
	return uint32(SIDBase + h.Sum64()%SIDSpan)
}

// Rev returns the revision of a rule from its indicator version's modified
// time: seconds since 2000-01-01T00:00:00Z, at least 1, so a later version
// of the indicator (modified at least a second later) has a higher rev.
func Rev(modified time.Time) uint32 {
	s := modified.Unix() - epoch2000
	if s < 1 {
		return 1
	}
	return uint32(s)
}

const epoch2000 = 946684800

// sids hands out unique sids within one export.
type sids map[uint32]struct{}

func (s sids) assign(id string, v Value) uint32 {
	sid := SID(id, v)
	for {
		if _, taken := s[sid]; !taken {
			s[sid] = struct{}{}
			return sid
		}
		// Rehash deterministically into the same range.
		x := uint64(sid)*0x9E3779B97F4A7C15 + 1
		sid = uint32(SIDBase + x%SIDSpan)
	}
}

// ruleWriter writes Suricata or Snort rules.
type ruleWriter struct {
	errWriter
	opt    *Options
	snort  bool
	issued sids
	b      strings.Builder
}

func newSuricata(w *bufio.Writer, opt *Options) formatter {
	return &ruleWriter{errWriter: errWriter{w}, opt: opt, issued: sids{}}
}

func newSnort(w *bufio.Writer, opt *Options) formatter {
	return &ruleWriter{errWriter: errWriter{w}, opt: opt, snort: true, issued: sids{}}
}

func (r *ruleWriter) begin() error {
	engine := "Suricata"
	if r.snort {
		engine = "Snort 2.9"
	}
	return r.line("# ", engine, " rules from ", r.opt.Source, " indicators, generated ", r.opt.Now.Format(time.RFC3339))
}

func (r *ruleWriter) end() error   { return nil }
func (r *ruleWriter) flush() error { return nil }

func (r *ruleWriter) entry(ind *Indicator, v Value) (string, error) {
	b := &r.b
	b.Reset()
	switch v.Kind {
	case KindIP, KindCIDR:
		b.WriteString("alert ip $HOME_NET any <> ")
		b.WriteString(v.Value)
		b.WriteString(" any (")
		r.msg(ind, v)
	case KindDomain:
		wild := strings.HasPrefix(v.Value, "*.")
		if r.snort {
			if wild {
				return "wildcard domain (the DNS wire form cannot leave out the bare name)", nil
			}
			b.WriteString("alert udp $HOME_NET any -> any 53 (")
			r.msg(ind, v)
			// The name in DNS wire form: each label after its length.
			// Matching it as content also matches its subdomains, whose
			// wire form ends with it.
			var wire []byte
			for _, l := range strings.Split(v.Value, ".") {
				if len(l) == 0 || len(l) > 63 {
					return "domain with an empty or over-long label", nil
				}
				wire = append(wire, byte(len(l)))
				wire = append(wire, l...)
			}
			wire = append(wire, 0)
			b.WriteString(` content:"`)
			writeContent(b, wire, true)
			b.WriteString(`"; nocase;`)
		} else {
			b.WriteString("alert dns $HOME_NET any -> any any (")
			r.msg(ind, v)
			if wild {
				// "*.evil.example": the subdomains, not the name itself,
				// whose query has no dot before it.
				b.WriteString(` dns.query; content:"`)
				writeContent(b, []byte(v.Value[1:]), false)
			} else {
				// dotprefix puts a dot before the query, so ".evil.example"
				// at the end matches the name and its subdomains only.
				b.WriteString(` dns.query; dotprefix; content:"`)
				writeContent(b, []byte("."+v.Value), false)
			}
			b.WriteString(`"; nocase; endswith;`)
		}
	case KindURL:
		u, err := url.Parse(v.Value)
		if err != nil || u.Host == "" {
			return "URL without a host", nil
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "URL scheme other than http or https", nil
		}
		// Both engines' host buffers hold the name without the port.
		host := u.Hostname()
		uri := u.RequestURI()
		if r.snort {
			b.WriteString("alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (")
			r.msg(ind, v)
			b.WriteString(` flow:to_server,established; content:"`)
			writeContent(b, []byte(uri), false)
			b.WriteString(`"; http_uri; urilen:`)
			b.WriteString(strconv.Itoa(len(uri)))
			b.WriteString(`; content:"Host|3A| `)
			writeContent(b, []byte(host), false)
			b.WriteString(`|0D 0A|"; http_header; nocase;`)
		} else {
			b.WriteString("alert http $HOME_NET any -> any any (")
			r.msg(ind, v)
			b.WriteString(` flow:to_server,established; http.host; content:"`)
			writeContent(b, []byte(host), false)
			b.WriteString(`"; bsize:`)
			b.WriteString(strconv.Itoa(len(host)))
			b.WriteString(`; http.uri; content:"`)
			writeContent(b, []byte(uri), false)
			b.WriteString(`"; bsize:`)
			b.WriteString(strconv.Itoa(len(uri)))
			b.WriteString(";")
		}
	default:
		return "value of kind " + v.Kind.String() + " not exported", nil
	}
	b.WriteString(" metadata:stix_id ")
	b.WriteString(ind.ID)
	if ind.TLP != cyberpact.TLPUnknown {
		b.WriteString(", tlp ")
		b.WriteString(strings.ReplaceAll(ind.TLP.String(), "+", "_"))
	}
	b.WriteString(", score ")
	b.WriteString(strconv.Itoa(ind.Score))
	b.WriteString("; sid:")
	b.WriteString(strconv.FormatUint(uint64(r.issued.assign(ind.ID, v)), 10))
	b.WriteString("; rev:")
	b.WriteString(strconv.FormatUint(uint64(Rev(ind.Modified)), 10))
	b.WriteString(";)")
	return "", r.line(b.String())
}

// msg writes the msg option: the indicator's name (its id when it has
// none) and the value, printable ASCII only, with the characters the rule
// language gives meaning to (; " \) escaped by a backslash.
func (r *ruleWriter) msg(ind *Indicator, v Value) {
	b := &r.b
	name := ind.Name
	if name == "" {
		name = ind.ID
	}
	b.WriteString(`msg:"`)
	writeMsg(b, r.opt.Source+" "+v.Kind.String()+" "+v.Value+": "+name)
	b.WriteString(`";`)
}

// writeMsg writes s as the text of a quoted msg: bytes outside printable
// ASCII become '?', and ; " \ are escaped.
func writeMsg(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ';' || c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
}

// writeContent writes data as the text of a quoted content option:
// printable ASCII as itself, every other byte and the characters the rule
// language reserves inside content (" ; \ | :) in |hex| form, adjacent hex
// bytes sharing one pair of bars. With lengths, data is a name in DNS wire
// form and its label-length bytes are written in hex too.
func writeContent(b *strings.Builder, data []byte, lengths bool) {
	const hexdigits = "0123456789ABCDEF"
	inHex := false
	next := 0 // for lengths: index of the next length byte
	for i, c := range data {
		asHex := c < 0x20 || c > 0x7e || c == '"' || c == ';' || c == '\\' || c == '|' || c == ':'
		if lengths && i == next {
			asHex = true
			next = i + 1 + int(c)
		}
		switch {
		case asHex && !inHex:
			b.WriteByte('|')
			inHex = true
		case asHex:
			b.WriteByte(' ')
		case inHex:
			b.WriteByte('|')
			inHex = false
		}
		if asHex {
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	if inHex {
		b.WriteByte('|')
	}
}
