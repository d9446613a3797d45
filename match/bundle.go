package match

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
)

// maxIndicatorSize bounds one object of a bundle read by BundleIndicators.
const maxIndicatorSize = 16 << 20

// BundleIndicators yields the raw JSON of the indicators in a STIX bundle
// read from r; other objects are passed over without being decoded. A
// file holding a single STIX object is read as a bundle of one. The
// bundle is split by a scanner that tracks only strings and brackets, at
// several hundred megabytes a second; each indicator's JSON is checked
// when it is compiled. A bundle whose brackets do not balance ends with
// an error giving the byte offset.
func BundleIndicators(r io.Reader) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		s := bundleSplitter{r: r, buf: make([]byte, 0, 1<<20)}
		for {
			obj, err := s.next()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !bytes.Contains(obj, []byte(`"indicator"`)) {
				continue
			}
			if !yield(obj, nil) {
				return
			}
		}
	}
}

// bundleSplitter finds the elements of the top-level "objects" array.
type bundleSplitter struct {
	r   io.Reader
	buf []byte // unscanned input is buf[pos:]
	pos int
	off int64 // input offset of buf[0]
	eof bool

	depth    int
	inString bool
	escaped  bool
	keyOn    bool   // reading a string at depth 1
	key      []byte // the last string read at depth 1
	inArray  bool   // inside the top-level "objects" array
	seenArr  bool
	started  bool
	topDone  bool
	collect  bool   // copying input into cur
	cur      []byte // the element being read, or the top object
}

func (s *bundleSplitter) fill() error {
	if s.pos > 0 {
		s.off += int64(s.pos)
		s.buf = s.buf[:copy(s.buf, s.buf[s.pos:])]
		s.pos = 0
	}
	if s.eof {
		return io.EOF
	}
	n, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
	s.buf = s.buf[:len(s.buf)+n]
	if err == io.EOF {
		s.eof = true
		if n == 0 {
			return io.EOF
		}
		return nil
	}
	return err
}

func (s *bundleSplitter) syntax(i int, msg string) error {
	return fmt.Errorf("bundle: byte %d: %s", s.off+int64(s.pos+i), msg)
}

// next returns the next element of the objects array (or, for a file
// holding one object, that object), io.EOF at the end.
func (s *bundleSplitter) next() ([]byte, error) {
	for {
		if s.pos >= len(s.buf) {
			err := s.fill()
			if err == nil {
				continue
			}
			if err != io.EOF {
				return nil, err
			}
			switch {
			case !s.started:
				return nil, errors.New("bundle: no JSON object in the input")
			case s.depth != 0 || s.inString:
				return nil, s.syntax(0, "the input ends inside the bundle")
			case !s.seenArr && s.topDone:
				obj := s.cur
				s.cur, s.topDone = nil, false
				return obj, nil
			}
			return nil, io.EOF
		}
		b := s.buf[s.pos:]
		start := 0
		for i := 0; i < len(b); i++ {
			c := b[i]
			if s.inString {
				if !s.escaped && !s.keyOn {
					// Jump to the closing quote when no backslash comes
					// before it.
					j := bytes.IndexByte(b[i:], '"')
					if j < 0 {
						j = len(b) - i
					}
					if bytes.IndexByte(b[i:i+j], '\\') < 0 {
						i += j
						if i == len(b) {
							break
						}
						c = b[i]
					}
				}
				switch {
				case s.escaped:
					s.escaped = false
				case c == '\\':
					s.escaped = true
				case c == '"':
					s.inString, s.keyOn = false, false
					continue
				}
				if s.keyOn {
					s.key = append(s.key, c)
				}
				continue
			}
			switch c {
			case '"':
				s.inString = true
				if s.depth == 1 && !s.inArray {
					s.keyOn, s.key = true, s.key[:0]
				}
			case '{', '[':
				switch {
				case s.depth == 0:
					if c != '{' || s.started {
						return nil, s.syntax(i, "want a single JSON object")
					}
					s.started, s.collect, start = true, true, i
					s.cur = s.cur[:0]
				case s.depth == 1 && c == '[' && !s.seenArr && string(s.key) == "objects":
					s.seenArr, s.inArray, s.collect = true, true, false
					s.cur = s.cur[:0]
				case s.depth == 2 && s.inArray:
					if c != '{' {
						return nil, s.syntax(i, "an element of objects is not a JSON object")
					}
					s.collect, start = true, i
					s.cur = s.cur[:0]
				}
				s.depth++
			case ' ', '\t', '\r', '\n', ',', ':':
			default:
				if s.inArray && s.depth == 2 {
					return nil, s.syntax(i, "an element of objects is not a JSON object")
				}
			case '}', ']':
				s.depth--
				switch {
				case s.depth < 0:
					return nil, s.syntax(i, "unbalanced "+string(c))
				case s.inArray && s.depth == 1:
					s.inArray = false
				case s.inArray && s.depth == 2:
					obj := append(s.cur, b[start:i+1]...)
					s.cur, s.collect = nil, false
					s.pos += i + 1
					return obj, nil
				case s.depth == 0 && s.collect:
					s.cur = append(s.cur, b[start:i+1]...)
					s.collect, s.topDone = false, true
				}
			}
		}
		if s.collect {
			s.cur = append(s.cur, b[start:]...)
			if len(s.cur) > maxIndicatorSize {
				return nil, s.syntax(len(b), fmt.Sprintf("an object is larger than %d bytes", maxIndicatorSize))
			}
		}
		s.pos += len(b)
	}
}
