package sensor

import (
	"bufio"
	"encoding/csv"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// zeekTypes maps kinds to the Zeek Intelligence Framework's indicator
// types (Intel::Type).
var zeekTypes = map[Kind]string{
	KindIP: "Intel::ADDR", KindCIDR: "Intel::SUBNET", KindDomain: "Intel::DOMAIN", KindURL: "Intel::URL",
	KindEmail: "Intel::EMAIL", KindMD5: "Intel::FILE_HASH", KindSHA1: "Intel::FILE_HASH",
	KindSHA256: "Intel::FILE_HASH", KindSHA512: "Intel::FILE_HASH",
}

// ZeekHeader is the header line of an exported Zeek intel file: the
// fields of Intel::Item it fills, tab separated.
const ZeekHeader = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url"

type zeekWriter struct {
	errWriter
	opt *Options
}

func newZeek(w *bufio.Writer, opt *Options) formatter { return &zeekWriter{errWriter{w}, opt} }

func (z *zeekWriter) begin() error { return z.line(ZeekHeader) }
func (z *zeekWriter) end() error   { return nil }
func (z *zeekWriter) flush() error { return nil }

// entry writes one tab-separated Intel::Item. URLs go without their
// scheme, as Zeek's HTTP analysis sees them; empty fields are "-".
func (z *zeekWriter) entry(ind *Indicator, v Value) (string, error) {
	val := v.Value
	if v.Kind == KindURL {
		u, err := url.Parse(val)
		if err != nil {
			return "URL that does not parse", nil
		}
		val = strings.TrimPrefix(val, u.Scheme+"://")
	}
	if v.Kind == KindDomain && strings.HasPrefix(val, "*.") {
		return "wildcard domain (Zeek's DOMAIN intel matches names exactly)", nil
	}
	if strings.ContainsAny(val, "\t\n\r") || val == "-" || val == "" {
		return "value that Zeek's intel file cannot hold", nil
	}
	desc := ind.Name
	if desc == "" {
		desc = ind.ID
	} else {
		desc += " (" + ind.ID + ")"
	}
	link := "-"
	if z.opt.LinkBase != "" {
		link = zeekField(z.opt.LinkBase + ind.ID)
	}
	return "", z.line(val, "\t", zeekTypes[v.Kind], "\t", zeekField(z.opt.Source), "\t", zeekField(desc), "\t", link)
}

// zeekField makes s one field: tabs and line ends become spaces, and an
// empty field is "-".
func zeekField(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return s
}

// CSVHeader is the header row of a CSV export.
var CSVHeader = []string{"indicator_id", "kind", "value", "name", "labels", "tlp", "confidence", "score", "valid_from", "valid_until", "modified"}

type csvWriter struct {
	c   *csv.Writer
	row []string
}

func newCSV(w *bufio.Writer, opt *Options) formatter {
	return &csvWriter{c: csv.NewWriter(w), row: make([]string, len(CSVHeader))}
}

func (c *csvWriter) begin() error { return c.c.Write(CSVHeader) }
func (c *csvWriter) end() error   { return nil }
func (c *csvWriter) flush() error {
	c.c.Flush()
	return c.c.Error()
}

// entry writes one row, quoted as RFC 4180 says; labels are joined by
// ";", times are RFC 3339 in UTC, an absent confidence or time is empty.
func (c *csvWriter) entry(ind *Indicator, v Value) (string, error) {
	conf := ""
	if ind.Confidence >= 0 {
		conf = strconv.Itoa(ind.Confidence)
	}
	r := c.row
	r[0], r[1], r[2], r[3], r[4] = ind.ID, v.Kind.String(), v.Value, ind.Name, strings.Join(ind.Labels, ";")
	r[5], r[6], r[7] = ind.TLP.String(), conf, strconv.Itoa(ind.Score)
	r[8], r[9], r[10] = csvTime(ind.ValidFrom), csvTime(ind.ValidUntil), csvTime(ind.Modified)
	return "", c.c.Write(r)
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// blocklistWriter writes each distinct value once, a line each, in the
// order first met.
type blocklistWriter struct {
	errWriter
	cidr bool // single addresses as /32 or /128 ranges
	seen map[string]struct{}
}

func newBlocklist(w *bufio.Writer, opt *Options) formatter {
	return &blocklistWriter{errWriter: errWriter{w}, seen: map[string]struct{}{}}
}

func newCIDRList(w *bufio.Writer, opt *Options) formatter {
	return &blocklistWriter{errWriter: errWriter{w}, cidr: true, seen: map[string]struct{}{}}
}

func (b *blocklistWriter) begin() error { return nil }
func (b *blocklistWriter) end() error   { return nil }
func (b *blocklistWriter) flush() error { return nil }

func (b *blocklistWriter) entry(ind *Indicator, v Value) (string, error) {
	s := v.Value
	if b.cidr && v.Kind == KindIP {
		s = prefixOf(v).String()
	}
	if _, dup := b.seen[s]; dup {
		return "value already listed", nil
	}
	b.seen[s] = struct{}{}
	return "", b.line(s)
}
