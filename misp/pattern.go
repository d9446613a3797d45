package misp

import (
	"fmt"
	"strings"
)

// comparison is one "object:path = value" of a STIX pattern.
type comparison struct {
	f     field
	value string
	kind  litKind
}

type litKind int

const (
	litString litKind = iota
	litInt
	litBinary
	litFloat
)

// quoteKey returns a dictionary key or extension name as a STIX pattern
// path writes it: bare when it is an identifier, in single quotes
// otherwise.
func quoteKey(k string) string {
	if isIdent(k) {
		return k
	}
	return "'" + strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `'`, `\'`) + "'"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// segment is one step of an object path: a property or dictionary key,
// and whether it is followed by [*] (a list).
type segment struct {
	name string
	list bool
}

// splitPath splits an object path (hashes.'SHA-256', to_refs[*].value)
// into its segments, unquoting quoted keys.
func splitPath(p string) ([]segment, error) {
	var segs []segment
	i := 0
	for i < len(p) {
		var s segment
		if p[i] == '\'' {
			var b strings.Builder
			i++
			for ; i < len(p) && p[i] != '\''; i++ {
				if p[i] == '\\' && i+1 < len(p) {
					i++
				}
				b.WriteByte(p[i])
			}
			if i >= len(p) {
				return nil, fmt.Errorf("unterminated quoted key in %q", p)
			}
			i++
			s.name = b.String()
		} else {
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			s.name = p[i:j]
			i = j
		}
		if strings.HasPrefix(p[i:], "[") {
			j := strings.IndexByte(p[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("unterminated index in %q", p)
			}
			s.list = true
			i += j + 1
		}
		if s.name == "" {
			return nil, fmt.Errorf("empty step in %q", p)
		}
		segs = append(segs, s)
		if i < len(p) {
			if p[i] != '.' {
				return nil, fmt.Errorf("unexpected %q in %q", p[i], p)
			}
			i++
		}
	}
	return segs, nil
}

// joinPath writes segments back in the canonical form splitPath reads:
// the first step bare, later non-identifier keys quoted, lists as [*].
func joinPath(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(quoteKey(s.name))
		if s.list {
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// buildPattern writes comparisons as one observation expression joined by
// AND.
func buildPattern(cs []comparison) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, c := range cs {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteString(c.f.String())
		b.WriteString(" = ")
		switch c.kind {
		case litInt, litFloat:
			b.WriteString(c.value)
		case litBinary:
			b.WriteString("b'")
			b.WriteString(c.value)
			b.WriteByte('\'')
		default:
			b.WriteString(quoteString(c.value))
		}
	}
	b.WriteByte(']')
	return b.String()
}

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

// parsePattern extracts the equality comparisons of a STIX pattern in the
// order written. complete is false when the pattern holds anything else
// (other operators, OR, qualifiers, several observations), so that the
// comparisons alone do not say what the pattern means.
func parsePattern(src string) (cs []comparison, complete bool) {
	complete = true
	s := &scanner{src: src}
	brackets := 0
	for {
		s.space()
		if s.i >= len(s.src) {
			break
		}
		c := s.src[s.i]
		switch {
		case c == '[':
			brackets++
			if brackets > 1 {
				complete = false
			}
			s.i++
		case c == ']' || c == '(' || c == ')':
			s.i++
		case isPathStart(c):
			word := s.word()
			switch strings.ToUpper(word) {
			case "AND":
				continue
			case "OR", "NOT", "FOLLOWEDBY", "WITHIN", "REPEATS", "START", "STOP", "TIMES", "SECONDS":
				complete = false
				continue
			}
			i := strings.IndexByte(word, ':')
			if i < 0 {
				complete = false
				continue
			}
			s.space()
			op := s.op()
			s.space()
			val, kind, ok := s.literal()
			if !ok || op != "=" {
				complete = false
				continue
			}
			segs, err := splitPath(word[i+1:])
			if err != nil {
				complete = false
				continue
			}
			cs = append(cs, comparison{f: field{obj: word[:i], path: joinPath(segs)}, value: val, kind: kind})
		default:
			complete = false
			s.i++
		}
	}
	return cs, complete
}

type scanner struct {
	src string
	i   int
}

func isPathStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (s *scanner) space() {
	for s.i < len(s.src) && strings.IndexByte(" \t\r\n", s.src[s.i]) >= 0 {
		s.i++
	}
}

// word reads an object path or keyword, quoted keys included.
func (s *scanner) word() string {
	start := s.i
	for s.i < len(s.src) {
		c := s.src[s.i]
		if c == '\'' {
			s.i++
			for s.i < len(s.src) && s.src[s.i] != '\'' {
				if s.src[s.i] == '\\' {
					s.i++
				}
				s.i++
			}
			s.i++
			continue
		}
		if strings.IndexByte(" \t\r\n=!<>()[]", c) >= 0 {
			// [*] and [n] belong to the path.
			if c == '[' && s.i+1 < len(s.src) && (s.src[s.i+1] == '*' || s.src[s.i+1] >= '0' && s.src[s.i+1] <= '9') {
				j := strings.IndexByte(s.src[s.i:], ']')
				if j > 0 {
					s.i += j + 1
					continue
				}
			}
			break
		}
		s.i++
	}
	if s.i > len(s.src) {
		s.i = len(s.src)
	}
	return s.src[start:s.i]
}

func (s *scanner) op() string {
	for _, op := range []string{"!=", "<=", ">=", "=", "<", ">"} {
		if strings.HasPrefix(s.src[s.i:], op) {
			s.i += len(op)
			return op
		}
	}
	w := s.word()
	return strings.ToUpper(w)
}

// literal reads a string, binary, number or boolean literal.
func (s *scanner) literal() (string, litKind, bool) {
	if s.i >= len(s.src) {
		return "", 0, false
	}
	kind := litString
	if strings.HasPrefix(s.src[s.i:], "b'") || strings.HasPrefix(s.src[s.i:], "h'") || strings.HasPrefix(s.src[s.i:], "t'") {
		if s.src[s.i] == 'b' {
			kind = litBinary
		}
		s.i++
	}
	if s.src[s.i] == '\'' {
		var b strings.Builder
		s.i++
		for s.i < len(s.src) && s.src[s.i] != '\'' {
			if s.src[s.i] == '\\' && s.i+1 < len(s.src) {
				s.i++
			}
			b.WriteByte(s.src[s.i])
			s.i++
		}
		if s.i >= len(s.src) {
			return "", 0, false
		}
		s.i++
		return b.String(), kind, true
	}
	start := s.i
	for s.i < len(s.src) && strings.IndexByte(" \t\r\n)]", s.src[s.i]) < 0 {
		s.i++
	}
	if start == s.i {
		return "", 0, false
	}
	return s.src[start:s.i], litInt, true
}
