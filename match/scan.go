package match

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// This file holds the per-line extractors: a JSON scanner that walks an
// object once, checks its syntax and keeps only the configured fields, and
// the splitters for Zeek TSV and CSV lines. Extracted values are slices
// of the line or of a scratch buffer sized so it never grows while a line
// is scanned, so the values stay valid until the next line.

// extracted is one value found in an event.
type extracted struct {
	field int32 // index into Fields.list
	val   []byte
}

// maxJSONDepth bounds the nesting of an event.
const maxJSONDepth = 64

type jsonScanner struct {
	b       []byte
	i       int
	f       *Fields
	path    []byte
	out     []extracted
	scratch []byte
}

var errJSON = errors.New("invalid JSON")

// scanJSON extracts the configured fields from one JSON object line.
func (s *jsonScanner) scan(line []byte) error {
	s.b, s.i, s.out = line, 0, s.out[:0]
	s.path = s.path[:0]
	if cap(s.scratch) < len(line)+16 {
		s.scratch = make([]byte, 0, 2*len(line)+64)
	}
	s.scratch = s.scratch[:0]
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errors.New("not a JSON object")
	}
	if err := s.object(0, true); err != nil {
		return err
	}
	s.ws()
	if s.i != len(s.b) {
		return errors.New("text after the JSON object")
	}
	return nil
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// object reads an object at s.i; want says whether its keys may be
// configured fields (the object's path is s.path).
func (s *jsonScanner) object(depth int, want bool) error {
	if depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	plen := len(s.path)
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return errJSON
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errJSON
		}
		s.i++
		s.ws()
		field, descend := int32(-1), false
		if want {
			if plen > 0 {
				s.path = append(s.path, '.')
			}
			s.path = append(s.path, k...)
			field, descend = s.f.lookup(s.path)
		}
		if err := s.value(depth+1, field, descend); err != nil {
			return err
		}
		s.path = s.path[:plen]
		s.ws()
		if s.i >= len(s.b) {
			return errJSON
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errJSON
		}
	}
}

// value reads any value; a string or number is recorded as field when
// field >= 0, and an object is walked for fields when descend is set.
func (s *jsonScanner) value(depth int, field int32, descend bool) error {
	if s.i >= len(s.b) {
		return errJSON
	}
	switch c := s.b[s.i]; {
	case c == '"':
		v, err := s.str()
		if err != nil {
			return err
		}
		if field >= 0 {
			s.out = append(s.out, extracted{field, v})
		}
		return nil
	case c == '{':
		return s.object(depth, descend)
	case c == '[':
		if depth > maxJSONDepth {
			return errors.New("JSON nested too deeply")
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return nil
		}
		for {
			s.ws()
			if err := s.value(depth+1, field, false); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) {
				return errJSON
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			return errJSON
		}
	case c == 't' || c == 'f':
		w := "true"
		if c == 'f' {
			w = "false"
		}
		start := s.i
		if err := s.lit(w); err != nil {
			return err
		}
		if field >= 0 {
			s.out = append(s.out, extracted{field, s.b[start:s.i]})
		}
		return nil
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		if c == '-' {
			s.i++
		}
		digits := 0
		for s.i < len(s.b) {
			c := s.b[s.i]
			if c >= '0' && c <= '9' {
				digits++
			} else if c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-' {
				break
			}
			s.i++
		}
		if digits == 0 {
			return errJSON
		}
		if field >= 0 {
			s.out = append(s.out, extracted{field, s.b[start:s.i]})
		}
		return nil
	}
	return errJSON
}

func (s *jsonScanner) lit(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return errJSON
	}
	s.i += len(w)
	return nil
}

// str reads a string at s.i (on its quote) and returns its contents,
// unescaped into the scratch buffer when it has escapes.
func (s *jsonScanner) str() ([]byte, error) {
	s.i++
	start := s.i
	// Skip eight bytes at a time while none is a quote, a backslash or a
	// control character.
	for s.i+8 <= len(s.b) {
		x := binary.LittleEndian.Uint64(s.b[s.i:])
		if hasSpecial(x) {
			break
		}
		s.i += 8
	}
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.b[start:s.i]
			s.i++
			return v, nil
		}
		if c == '\\' {
			return s.strEscaped(start)
		}
		if c < 0x20 {
			return nil, errors.New("control character in JSON string")
		}
		s.i++
	}
	return nil, errors.New("unterminated JSON string")
}

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

// hasSpecial reports whether any byte of x is a quote, a backslash or
// below 0x20 (bytes of 0x80 and above are flagged too, harmlessly: the
// caller then looks at each byte).
func hasSpecial(x uint64) bool {
	q := x ^ (lo8 * '"')
	b := x ^ (lo8 * '\\')
	return ((q-lo8)|(b-lo8)|(x-lo8*0x20))&hi8 != 0
}

func (s *jsonScanner) strEscaped(start int) ([]byte, error) {
	from := len(s.scratch)
	s.scratch = append(s.scratch, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.scratch[from:len(s.scratch):len(s.scratch)], nil
		case c < 0x20:
			return nil, errors.New("control character in JSON string")
		case c != '\\':
			s.scratch = append(s.scratch, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			s.scratch = append(s.scratch, e)
		case 'b':
			s.scratch = append(s.scratch, '\b')
		case 'f':
			s.scratch = append(s.scratch, '\f')
		case 'n':
			s.scratch = append(s.scratch, '\n')
		case 'r':
			s.scratch = append(s.scratch, '\r')
		case 't':
			s.scratch = append(s.scratch, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, errors.New("bad \\u escape in JSON string")
			}
			if r >= 0xD800 && r < 0xDC00 && s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
				// A surrogate pair when the next escape is a low
				// surrogate; otherwise that escape is read on its own,
				// and the lone high surrogate becomes U+FFFD, as
				// encoding/json decodes it.
				at := s.i
				s.i += 2
				r2, ok := s.hex4()
				if !ok {
					return nil, errors.New("bad \\u escape in JSON string")
				}
				if r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
				} else {
					s.i = at
				}
			}
			s.scratch = utf8.AppendRune(s.scratch, r) // a lone surrogate is written as U+FFFD
		default:
			return nil, errors.New("bad escape in JSON string")
		}
	}
	return nil, errors.New("unterminated JSON string")
}

func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// splitTSV splits a Zeek line on sep into dst.
func splitSep(line []byte, sep byte, dst [][]byte) [][]byte {
	dst = dst[:0]
	for {
		i := indexByte(line, sep)
		if i < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:i])
		line = line[i+1:]
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// splitCSV splits one CSV record (RFC 4180 quoting, on one line) into
// dst, unquoting into scratch (which must have room for the line).
func splitCSV(line []byte, dst [][]byte, scratch []byte) ([][]byte, []byte, error) {
	dst = dst[:0]
	i := 0
	for {
		if i < len(line) && line[i] == '"' {
			from := len(scratch)
			i++
			for {
				if i >= len(line) {
					return nil, scratch, errors.New("unterminated quoted CSV field")
				}
				if line[i] == '"' {
					if i+1 < len(line) && line[i+1] == '"' {
						scratch = append(scratch, '"')
						i += 2
						continue
					}
					i++
					break
				}
				scratch = append(scratch, line[i])
				i++
			}
			dst = append(dst, scratch[from:len(scratch):len(scratch)])
			if i == len(line) {
				return dst, scratch, nil
			}
			if line[i] != ',' {
				return nil, scratch, errors.New("text after a quoted CSV field")
			}
			i++
			continue
		}
		j := indexByte(line[i:], ',')
		if j < 0 {
			return append(dst, line[i:]), scratch, nil
		}
		dst = append(dst, line[i:i+j])
		i += j + 1
	}
}
