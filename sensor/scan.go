package sensor

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact/stix"
)

// This file reads the top-level properties of an indicator in one pass
// over its JSON, checking the syntax of everything it skips, instead of
// encoding/json's two (a validity scan, then the decode): reading is most
// of an export's work. Property names match exactly, as STIX's are
// case-sensitive; a null value leaves a property unset; for any other
// property a value of the wrong JSON type is an error, as it is for
// encoding/json. FuzzScanMatchesEncodingJSON holds it to encoding/json.

type scanner struct {
	b   []byte
	i   int
	buf []byte
}

var errSyntax = errors.New("invalid JSON")

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{s.i}, args...)...)
}

// scanIndicator fills j from the JSON object raw.
func scanIndicator(raw []byte, j *indicatorJSON) error {
	s := &scanner{b: raw}
	s.ws()
	if !s.peek('{') {
		return s.errorf("not a JSON object")
	}
	s.i++
	s.ws()
	if s.peek('}') {
		s.i++
		return s.end()
	}
	for {
		s.ws()
		key, err := s.strBytes()
		if err != nil {
			return err
		}
		s.ws()
		if !s.peek(':') {
			return s.errorf("expected ':'")
		}
		s.i++
		s.ws()
		if err := s.field(key, j); err != nil {
			return err
		}
		s.ws()
		switch {
		case s.peek(','):
			s.i++
		case s.peek('}'):
			s.i++
			return s.end()
		default:
			return s.errorf("expected ',' or '}'")
		}
	}
}

func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errorf("text after the JSON object")
	}
	return nil
}

// field reads the value of property key into j, or skips it.
func (s *scanner) field(key []byte, j *indicatorJSON) error {
	var dst *string
	switch string(key) {
	case "type":
		dst = &j.Type
	case "id":
		dst = &j.ID
	case "spec_version":
		dst = &j.SpecVersion
	case "name":
		dst = &j.Name
	case "created":
		dst = &j.Created
	case "modified":
		dst = &j.Modified
	case "valid_from":
		dst = &j.ValidFrom
	case "valid_until":
		dst = &j.ValidUntil
	case "pattern":
		dst = &j.Pattern
	case "pattern_type":
		dst = &j.PatternType
	case "pattern_version":
		dst = &j.PatternVersion
	case "labels":
		if s.null() {
			j.Labels = nil
			return nil
		}
		if !s.peek('[') {
			return s.errorf("labels is not an array")
		}
		s.i++
		j.Labels = j.Labels[:0]
		if j.Labels == nil {
			j.Labels = []string{}
		}
		s.ws()
		if s.peek(']') {
			s.i++
			return nil
		}
		for {
			s.ws()
			if !s.peek('"') {
				return s.errorf("labels holds a value that is not a string")
			}
			l, err := s.str()
			if err != nil {
				return err
			}
			j.Labels = append(j.Labels, l)
			s.ws()
			switch {
			case s.peek(','):
				s.i++
			case s.peek(']'):
				s.i++
				return nil
			default:
				return s.errorf("expected ',' or ']'")
			}
		}
	case "confidence":
		if s.null() {
			return nil
		}
		start := s.i
		if err := s.number(); err != nil {
			return err
		}
		n, err := strconv.Atoi(string(s.b[start:s.i]))
		if err != nil {
			return fmt.Errorf("confidence %s is not an integer", s.b[start:s.i])
		}
		j.Confidence = &n
		return nil
	case "revoked":
		switch {
		case s.null():
		case s.lit("true"):
			j.Revoked = true
		case s.lit("false"):
			j.Revoked = false
		default:
			return s.errorf("revoked is not a boolean")
		}
		return nil
	default:
		return s.skip(0)
	}
	if s.null() {
		return nil
	}
	if !s.peek('"') {
		return s.errorf("%s is not a string", string(key))
	}
	v, err := s.str()
	*dst = v
	return err
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek(c byte) bool { return s.i < len(s.b) && s.b[s.i] == c }

// lit consumes the literal w if it is next.
func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

func (s *scanner) null() bool { return s.lit("null") }

// skip checks and passes over one value.
func (s *scanner) skip(depth int) error {
	if depth > 10000 {
		return s.errorf("nested too deeply")
	}
	if s.i >= len(s.b) {
		return s.errorf("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, err := s.strBytes()
		return err
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		s.i++
		s.ws()
		if s.peek(closing) {
			s.i++
			return nil
		}
		for {
			s.ws()
			if c == '{' {
				if !s.peek('"') {
					return s.errorf("expected a key")
				}
				if _, err := s.strBytes(); err != nil {
					return err
				}
				s.ws()
				if !s.peek(':') {
					return s.errorf("expected ':'")
				}
				s.i++
				s.ws()
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			s.ws()
			switch {
			case s.peek(','):
				s.i++
			case s.peek(closing):
				s.i++
				return nil
			default:
				return s.errorf("expected ',' or '%c'", closing)
			}
		}
	case c == 't':
		if s.lit("true") {
			return nil
		}
	case c == 'f':
		if s.lit("false") {
			return nil
		}
	case c == 'n':
		if s.null() {
			return nil
		}
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return s.errorf("unexpected character %q", s.b[s.i])
}

// number passes over a JSON number.
func (s *scanner) number() error {
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.peek('-') {
		s.i++
	}
	switch {
	case s.peek('0'):
		s.i++
	case digits() == 0:
		return s.errorf("bad number")
	}
	if s.peek('.') {
		s.i++
		if digits() == 0 {
			return s.errorf("bad number")
		}
	}
	if s.peek('e') || s.peek('E') {
		s.i++
		if s.peek('+') || s.peek('-') {
			s.i++
		}
		if digits() == 0 {
			return s.errorf("bad number")
		}
	}
	return nil
}

// str reads a string at s.i, unescaping it; invalid UTF-8 becomes U+FFFD
// byte by byte, as encoding/json does.
func (s *scanner) str() (string, error) {
	b, err := s.strBytes()
	return string(b), err
}

// strBytes is str without the copy: the bytes are valid until the next
// string is read.
func (s *scanner) strBytes() ([]byte, error) {
	if !s.peek('"') {
		return nil, s.errorf("expected a string")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], nil
		case c == '\\' || c >= utf8.RuneSelf:
			return s.strSlow(start)
		case c < 0x20:
			return nil, s.errorf("control character in a string")
		}
		s.i++
	}
	return nil, s.errorf("string not closed")
}

func (s *scanner) strSlow(start int) ([]byte, error) {
	b, i, why := stix.AppendJSONString(append(s.buf[:0], s.b[start:s.i]...), s.b, s.i)
	s.i = i
	if why != "" {
		return nil, s.errorf("%s", why)
	}
	s.buf = b
	return b, nil
}
