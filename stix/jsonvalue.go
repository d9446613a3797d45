package stix

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON parses one JSON value into the generic form encoding/json
// produces with UseNumber (map[string]any, []any, string, json.Number,
// bool, nil), with the same results for every input it accepts: strings
// unescaped with invalid UTF-8 and lone surrogates replaced by U+FFFD,
// the last of duplicate keys winning. It exists because decoding every
// imported object is a third of an import's work and encoding/json's
// reflection-driven decoder spends most of that on bookkeeping.
func parseJSON(data []byte) (any, error) {
	v, _, err := parseJSONDup(data)
	return v, err
}

// duplicateName is a property name found more than once within one JSON
// object; depth is 1 for the outermost object.
type duplicateName struct {
	name  string
	depth int
}

// parseJSONDup is parseJSON that also returns the first property name
// found twice within one JSON object, at any depth (zero when none is).
func parseJSONDup(data []byte) (any, duplicateName, error) {
	d := jsonDecoder{data: data}
	d.skip()
	v, err := d.value(0)
	if err != nil {
		return nil, duplicateName{}, err
	}
	d.skip()
	if d.pos != len(d.data) {
		return nil, duplicateName{}, d.errorf("data after the value")
	}
	return v, d.dup, nil
}

// maxJSONDepth bounds nesting; the bundle reader's own limit is lower.
const maxJSONDepth = 10000

type jsonDecoder struct {
	data []byte
	pos  int
	buf  []byte
	dup  duplicateName // the first name seen twice in one object
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) skip() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		if depth >= maxJSONDepth {
			return nil, d.errorf("nesting too deep")
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= maxJSONDepth {
			return nil, d.errorf("nesting too deep")
		}
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errorf("unexpected %q", c)
	}
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return d.errorf("invalid literal")
	}
	d.pos += len(lit)
	return nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	d.pos++ // {
	hint := 4
	if depth == 1 {
		hint = 24 // a STIX object's own properties: sized once, never regrown
	}
	m := make(map[string]any, hint)
	d.skip()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return m, nil
	}
	for {
		d.skip()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("expected a property name")
		}
		k, err := d.key()
		if err != nil {
			return nil, err
		}
		d.skip()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("expected ':' after property name")
		}
		d.pos++
		d.skip()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		n := len(m)
		m[k] = v
		if len(m) == n && d.dup.depth == 0 {
			d.dup = duplicateName{k, depth}
		}
		d.skip()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input in an object")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return m, nil
		default:
			return nil, d.errorf("expected ',' or '}' in an object")
		}
	}
}

func (d *jsonDecoder) array(depth int) (any, error) {
	d.pos++ // [
	a := make([]any, 0, 4)
	d.skip()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return a, nil
	}
	for {
		d.skip()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.skip()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of input in an array")
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return a, nil
		default:
			return nil, d.errorf("expected ',' or ']' in an array")
		}
	}
}

func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	p := d.pos
	if d.data[p] == '-' {
		p++
	}
	digits := func() int {
		n := 0
		for p < len(d.data) && d.data[p] >= '0' && d.data[p] <= '9' {
			p++
			n++
		}
		return n
	}
	if p < len(d.data) && d.data[p] == '0' {
		p++
	} else if digits() == 0 {
		d.pos = p
		return nil, d.errorf("invalid number")
	}
	if p < len(d.data) && d.data[p] == '.' {
		p++
		if digits() == 0 {
			d.pos = p
			return nil, d.errorf("invalid number")
		}
	}
	if p < len(d.data) && (d.data[p] == 'e' || d.data[p] == 'E') {
		p++
		if p < len(d.data) && (d.data[p] == '+' || d.data[p] == '-') {
			p++
		}
		if digits() == 0 {
			d.pos = p
			return nil, d.errorf("invalid number")
		}
	}
	d.pos = p
	return json.Number(d.data[start:p]), nil
}

// names holds the property names the specification defines, in an
// open-addressing table hashed by nameHash: decoding an object takes its
// keys from here rather than allocating each one. internName fills it
// with the validation tables.
var (
	names     [1024]string
	namesUsed int
)

func nameHash(h uint32, c byte) uint32 { return h*31 + uint32(c) }

// internName adds name to names, while the table is at most half full.
func internName(name string) {
	if namesUsed >= len(names)/2 {
		return
	}
	var h uint32
	for i := 0; i < len(name); i++ {
		h = nameHash(h, name[i])
	}
	for i := h % uint32(len(names)); ; i = (i + 1) % uint32(len(names)) {
		switch names[i] {
		case name:
			return
		case "":
			names[i] = name
			namesUsed++
			return
		}
	}
}

// key reads a property name, from names when it is one of them.
func (d *jsonDecoder) key() (string, error) {
	start := d.pos + 1
	var h uint32
	for p := start; p < len(d.data); p++ {
		c := d.data[p]
		switch {
		case c == '"':
			k := d.data[start:p]
			for i := h % uint32(len(names)); names[i] != ""; i = (i + 1) % uint32(len(names)) {
				if names[i] == string(k) {
					d.pos = p + 1
					return names[i], nil
				}
			}
			return d.str()
		case c == '\\' || c < 0x20 || c >= 0x80:
			return d.str()
		}
		h = nameHash(h, c)
	}
	return d.str()
}

// str reads a string, fast when it has no escapes and is valid UTF-8.
func (d *jsonDecoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	ascii := true
	for p := start; p < len(d.data); p++ {
		c := d.data[p]
		switch {
		case c == '"':
			s := d.data[start:p]
			d.pos = p + 1
			if ascii || utf8.Valid(s) {
				return string(s), nil
			}
			return string(d.appendValid(nil, s)), nil
		case c == '\\':
			d.pos = p
			return d.strEscaped(start)
		case c < 0x20:
			d.pos = p
			return "", d.errorf("control character in a string")
		case c >= 0x80:
			ascii = false
		}
	}
	d.pos = len(d.data)
	return "", d.errorf("unterminated string")
}

// appendValid appends s with each invalid UTF-8 byte replaced by U+FFFD.
func (d *jsonDecoder) appendValid(b, s []byte) []byte {
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[:size]...)
		}
		s = s[size:]
	}
	return b
}

func (d *jsonDecoder) strEscaped(start int) (string, error) {
	b, pos, why := AppendJSONString(d.appendValid(d.buf[:0], d.data[start:d.pos]), d.data, d.pos)
	d.pos = pos
	if why != "" {
		return "", d.errorf("%s", why)
	}
	d.buf = b
	return string(b), nil
}

// AppendJSONString decodes the rest of a JSON string, data[i:] up to its
// closing quote, onto b: escapes resolved, a lone or broken surrogate and
// invalid UTF-8 each become U+FFFD. It returns b, the position after the
// closing quote, and "" or what is wrong (then the position is where).
// The one decoder of escaped strings for every hand-written JSON reader
// of the project.
func AppendJSONString(b, data []byte, i int) ([]byte, int, string) {
	hex4 := func() (rune, bool) {
		if len(data)-i < 4 {
			return 0, false
		}
		n, err := strconv.ParseUint(string(data[i:i+4]), 16, 32)
		if err != nil {
			return 0, false
		}
		i += 4
		return rune(n), true
	}
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			return b, i + 1, ""
		case c < 0x20:
			return b, i, "control character in a string"
		case c == '\\':
			if i+1 >= len(data) {
				return b, i, "unterminated escape"
			}
			e := data[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4()
				if !ok {
					return b, i, "invalid \\u escape"
				}
				if utf16.IsSurrogate(r) {
					// A high surrogate followed by \u and a low one is one rune.
					if i+1 < len(data) && data[i] == '\\' && data[i+1] == 'u' {
						save := i
						i += 2
						if r2, ok := hex4(); ok {
							if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
								b = utf8.AppendRune(b, dec)
								continue
							}
						}
						i = save
					}
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
			default:
				return b, i - 2, fmt.Sprintf("invalid escape \\%c", e)
			}
		case c < 0x80:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				b = utf8.AppendRune(b, utf8.RuneError)
			} else {
				b = append(b, data[i:i+size]...)
			}
			i += size
		}
	}
	return b, i, "unterminated string"
}

// JSONEqual reports whether two JSON texts hold the same value (key order
// and white space aside; numbers compared by their text). Invalid JSON is
// equal to nothing.
func JSONEqual(a, b []byte) bool {
	va, err := parseJSON(a)
	if err != nil {
		return false
	}
	vb, err := parseJSON(b)
	if err != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
