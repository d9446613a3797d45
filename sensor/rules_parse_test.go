package sensor_test

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// This file is a parser of the Suricata and Snort rule language, written
// from the engines' documentation of the rule format (Suricata's "Rules
// Format" and "Payload Keywords", the Snort 2.9 manual's "Writing Snort
// Rules"), to check what the exporters write:
//
//	action protocol source source_port direction destination destination_port (options)
//
// Options are "name;" or "name:value;", separated by optional spaces. An
// option ends at the first ';' not escaped by a backslash; quotes do not
// protect a ';'. A quoted value holds no unescaped '"'. Inside a content
// value, |..| holds hex byte pairs separated by spaces, and outside it
// \" \; \\ and \: are the only escapes.

// rule is one parsed rule.
type rule struct {
	Action, Proto, Src, SrcPort, Dir, Dst, DstPort string
	Options                                        []option
}

// option is one rule option; for quoted values Text is the unescaped
// text, and for content Bytes are the bytes it matches.
type option struct {
	Name, Value string
	Quoted      bool
	Text        string
	Bytes       []byte
}

func (r *rule) opt(name string) (option, bool) {
	for _, o := range r.Options {
		if o.Name == name {
			return o, true
		}
	}
	return option{}, false
}

func (r *rule) opts(name string) []option {
	var out []option
	for _, o := range r.Options {
		if o.Name == name {
			out = append(out, o)
		}
	}
	return out
}

var ruleActions = map[string]bool{"alert": true, "pass": true, "drop": true, "reject": true, "rejectsrc": true, "rejectdst": true, "rejectboth": true, "log": true, "sdrop": true}

// The keywords each engine knows among those a generated rule may use,
// with whether they take a value, and which are content modifiers (they
// must follow a content) or sticky buffers (a content must follow them).
type keyword struct {
	value, modifier, sticky bool
}

var suricataKeywords = map[string]keyword{
	"msg": {value: true}, "content": {value: true}, "sid": {value: true}, "rev": {value: true},
	"metadata": {value: true}, "flow": {value: true}, "classtype": {value: true}, "reference": {value: true},
	"nocase": {modifier: true}, "endswith": {modifier: true}, "startswith": {modifier: true},
	"bsize": {value: true, sticky: false}, "dotprefix": {},
	"dns.query": {sticky: true}, "http.host": {sticky: true}, "http.uri": {sticky: true}, "tls.sni": {sticky: true},
}

var snortKeywords = map[string]keyword{
	"msg": {value: true}, "content": {value: true}, "sid": {value: true}, "rev": {value: true},
	"metadata": {value: true}, "flow": {value: true}, "classtype": {value: true}, "reference": {value: true},
	"nocase": {modifier: true}, "http_uri": {modifier: true}, "http_header": {modifier: true},
	"urilen": {value: true},
}

var ruleProtos = map[string]map[string]bool{
	"suricata": {"ip": true, "tcp": true, "udp": true, "icmp": true, "dns": true, "http": true, "tls": true},
	"snort":    {"ip": true, "tcp": true, "udp": true, "icmp": true},
}

// parseRule parses one rule line of engine "suricata" or "snort".
func parseRule(engine, line string) (*rule, error) {
	open := strings.IndexByte(line, '(')
	if open < 0 || !strings.HasSuffix(line, ")") {
		return nil, fmt.Errorf("no (options) at the end")
	}
	head := strings.Fields(line[:open])
	if len(head) != 7 {
		return nil, fmt.Errorf("header has %d fields, want 7 (action proto src port dir dst port)", len(head))
	}
	r := &rule{Action: head[0], Proto: head[1], Src: head[2], SrcPort: head[3], Dir: head[4], Dst: head[5], DstPort: head[6]}
	if !ruleActions[r.Action] {
		return nil, fmt.Errorf("unknown action %q", r.Action)
	}
	if !ruleProtos[engine][r.Proto] {
		return nil, fmt.Errorf("protocol %q unknown to %s", r.Proto, engine)
	}
	if r.Dir != "->" && r.Dir != "<>" {
		return nil, fmt.Errorf("direction %q, want -> or <>", r.Dir)
	}
	for _, a := range []string{r.Src, r.Dst} {
		if err := checkAddr(a); err != nil {
			return nil, err
		}
	}
	for _, p := range []string{r.SrcPort, r.DstPort} {
		if err := checkPort(p); err != nil {
			return nil, err
		}
	}
	body := line[open+1 : len(line)-1]
	kw := suricataKeywords
	if engine == "snort" {
		kw = snortKeywords
	}
	lastContent, pendingSticky := false, false
	for i := 0; i < len(body); {
		for i < len(body) && body[i] == ' ' {
			i++
		}
		if i == len(body) {
			break
		}
		// The option runs to the first unescaped ';'.
		j := i
		for j < len(body) && body[j] != ';' {
			if body[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(body) {
			return nil, fmt.Errorf("option %q is not ended by ';'", body[i:])
		}
		text := body[i:j]
		i = j + 1
		o := option{Name: text}
		if k := strings.IndexByte(text, ':'); k >= 0 {
			o.Name, o.Value = strings.TrimSpace(text[:k]), strings.TrimSpace(text[k+1:])
		}
		k, known := kw[o.Name]
		if !known {
			return nil, fmt.Errorf("option %q unknown to %s", o.Name, engine)
		}
		if k.value != (o.Value != "") {
			return nil, fmt.Errorf("option %q: value %q where the keyword takes %v", o.Name, o.Value, map[bool]string{true: "one", false: "none"}[k.value])
		}
		if strings.HasPrefix(o.Value, `"`) {
			t, err := unquote(o.Value)
			if err != nil {
				return nil, fmt.Errorf("option %s: %w", o.Name, err)
			}
			o.Quoted, o.Text = true, t
		}
		switch {
		case o.Name == "content":
			if !o.Quoted {
				return nil, fmt.Errorf("content %s is not quoted", o.Value)
			}
			b, err := contentBytes(o.Text)
			if err != nil {
				return nil, fmt.Errorf("content %s: %w", o.Value, err)
			}
			o.Bytes = b
			lastContent, pendingSticky = true, false
		case o.Name == "msg" && !o.Quoted:
			return nil, fmt.Errorf("msg %s is not quoted", o.Value)
		case o.Name == "sid" || o.Name == "rev" || o.Name == "bsize" || o.Name == "urilen":
			if n, err := strconv.ParseUint(o.Value, 10, 32); err != nil || n == 0 {
				return nil, fmt.Errorf("%s %q is not a positive 32-bit integer", o.Name, o.Value)
			}
		case k.modifier && !lastContent:
			return nil, fmt.Errorf("modifier %s does not follow a content", o.Name)
		case k.sticky:
			pendingSticky, lastContent = true, false
		case o.Name == "metadata":
			for _, kv := range strings.Split(o.Value, ",") {
				if f := strings.Fields(kv); len(f) != 2 {
					return nil, fmt.Errorf("metadata entry %q is not one key and one value", kv)
				}
			}
		}
		r.Options = append(r.Options, o)
	}
	if pendingSticky {
		return nil, fmt.Errorf("sticky buffer without a content")
	}
	for _, need := range []string{"msg", "sid", "rev"} {
		if len(r.opts(need)) != 1 {
			return nil, fmt.Errorf("%d %s options, want 1", len(r.opts(need)), need)
		}
	}
	return r, nil
}

// unquote reads a quoted option value: \" \; \\ and \: stand for the
// character, and no other '"' may appear inside.
func unquote(v string) (string, error) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", fmt.Errorf("%s: quote not closed", v)
	}
	in := v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch c {
		case '\\':
			if i+1 == len(in) || !strings.ContainsRune(`";\:`, rune(in[i+1])) {
				return "", fmt.Errorf("%s: bad escape at %d", v, i)
			}
			i++
			b.WriteByte(in[i])
		case '"':
			return "", fmt.Errorf("%s: unescaped quote at %d", v, i)
		default:
			if c < 0x20 || c > 0x7e {
				return "", fmt.Errorf("%s: byte %#x is not printable ASCII", v, c)
			}
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// contentBytes decodes the text of a content: |hex| sections and literal
// characters.
func contentBytes(t string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(t); i++ {
		if t[i] != '|' {
			out = append(out, t[i])
			continue
		}
		end := strings.IndexByte(t[i+1:], '|')
		if end < 0 {
			return nil, fmt.Errorf("| at %d not closed", i)
		}
		h := strings.ReplaceAll(t[i+1:i+1+end], " ", "")
		b, err := hex.DecodeString(h)
		if err != nil || len(h) == 0 {
			return nil, fmt.Errorf("bad hex %q", t[i+1:i+1+end])
		}
		out = append(out, b...)
		i += end + 1
	}
	return out, nil
}

func checkAddr(a string) error {
	if a == "any" || strings.HasPrefix(a, "$") && len(a) > 1 {
		return nil
	}
	if _, err := netip.ParseAddr(a); err == nil {
		return nil
	}
	if p, err := netip.ParsePrefix(a); err == nil && p == p.Masked() {
		return nil
	}
	return fmt.Errorf("address %q is not any, a $VARIABLE, an address or a range with its host bits clear", a)
}

func checkPort(p string) error {
	if p == "any" || strings.HasPrefix(p, "$") && len(p) > 1 {
		return nil
	}
	if n, err := strconv.Atoi(p); err == nil && n >= 0 && n <= 65535 {
		return nil
	}
	return fmt.Errorf("port %q is not any, a $VARIABLE or a number", p)
}
