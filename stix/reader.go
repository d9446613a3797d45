package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Limits that keep a hostile or broken input from taking unbounded memory
// or stack. Both can be changed per Reader.
const (
	DefaultMaxObjectSize = 16 << 20 // bytes of one object's compact JSON
	DefaultMaxDepth      = 100      // nesting of arrays and objects inside one object
)

// SyntaxError is a problem with the input as JSON or as a bundle: where it
// is (byte offset and line, from 1) and what is wrong. After a SyntaxError
// the input cannot be read further.
type SyntaxError struct {
	Offset int64
	Line   int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d (byte %d): %s", e.Line, e.Offset, e.Msg)
}

// Item is one raw object read from a bundle.
type Item struct {
	Raw   []byte // the object's compact JSON; owned by the caller
	Index int    // position in the bundle's objects array, from 0
	Line  int    // line of the object's first byte, from 1
	// Err, with Reader.SkipOverLimit, is why an object over the size or
	// depth limit was skipped (Raw is then nil); ID and Modified are its
	// "id" and "modified" when they came before the limit was reached.
	Err      *SyntaxError
	ID       string
	Modified string
}

// Reader reads a STIX bundle object by object without holding the whole
// file: memory is bounded by a small multiple of the largest object. It
// also accepts a file holding one STIX object, read as a bundle of one.
//
// Top-level properties may come in any order; those after "objects" are
// checked when the input ends, so a caller must read until io.EOF before
// trusting that the input was a well-formed bundle.
type Reader struct {
	MaxObjectSize int
	MaxDepth      int
	// SkipJSONCheck leaves the full JSON check of each object to a caller
	// that parses every object anyway (the Decoder does), saving a pass.
	// The reader still checks brackets, strings and the limits, so the
	// objects are delimited correctly either way.
	SkipJSONCheck bool
	// SkipOverLimit makes an object of the objects array that is larger
	// than MaxObjectSize or nests deeper than MaxDepth an Item with Err
	// set instead of an error that ends the input: the object is read
	// past in constant memory and the following objects are read as
	// usual. Federation uses it so that one bad object of a peer's page
	// does not keep the objects beside it out.
	SkipOverLimit bool

	r    io.Reader
	buf  []byte
	pos  int   // next unread byte in buf
	base int64 // offset of buf[0] in the input
	line int
	eof  bool
	rerr error

	state    int // see the st* constants
	index    int
	bundleID string
	typ      string
	sawObjs  bool
	single   []byte
	err      error
	scratch  []byte
	valBuf   []byte // readValue's reused buffer
	bundleSV string
	props    map[string][]byte // top-level properties other than objects
	over     *overLimit        // set by readValue when it stopped at a limit
}

// overLimit is where readValue stopped an object at a limit: what it had
// read, the open brackets, and the error.
type overLimit struct {
	prefix []byte
	stack  []byte
	err    *SyntaxError
}

// maxPropSize is the largest top-level property kept for Property.
const maxPropSize = 64 << 10

// Property returns the JSON of a top-level property of the bundle or
// envelope other than "objects" (an envelope's "more" and "next"), nil
// when it has none or it is longer than 64 KiB. Properties after the
// objects array are known only once Next has returned io.EOF.
func (r *Reader) Property(name string) []byte {
	return r.props[name]
}

const (
	stStart   = iota
	stKeys    // inside the top-level object, expecting a key or '}'
	stObjects // inside the objects array
	stSingle  // the input was one object, not yet returned
	stDone
)

// NewReader returns a Reader of r with the default limits.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, MaxObjectSize: DefaultMaxObjectSize, MaxDepth: DefaultMaxDepth, line: 1, buf: make([]byte, 0, 256<<10)}
}

// BundleID returns the bundle's id once it has been read ("" before, or for
// a single object).
func (r *Reader) BundleID() string { return r.bundleID }

// SpecVersion returns the bundle's spec_version property, present on STIX 2.0
// bundles, once it has been read.
func (r *Reader) SpecVersion() string { return r.bundleSV }

// Next returns the next object of the bundle, io.EOF after the last one
// when the whole input was a well-formed bundle, or a *SyntaxError.
func (r *Reader) Next() (Item, error) {
	if r.err != nil {
		return Item{}, r.err
	}
	it, err := r.next()
	if err != nil {
		r.err = err
	}
	return it, err
}

func (r *Reader) next() (Item, error) {
	for {
		switch r.state {
		case stStart:
			c, err := r.skipSpace()
			if err != nil {
				if err == io.EOF {
					return Item{}, r.syntax("the input is empty: expected a STIX bundle")
				}
				return Item{}, err
			}
			if c != '{' {
				return Item{}, r.syntax(fmt.Sprintf("expected a STIX bundle (a JSON object) but found %s", describe(c)))
			}
			r.pos++
			r.state = stKeys
			// The first key decides between a bundle and a single object
			// only in the sense that a single object has no "objects"; we
			// find out at the end.
		case stKeys:
			c, err := r.skipSpace()
			if err != nil {
				return Item{}, r.truncated("the bundle")
			}
			if c == '}' {
				r.pos++
				if err := r.finish(); err != nil {
					return Item{}, err
				}
				continue
			}
			if c == ',' {
				r.pos++
				c, err = r.skipSpace()
				if err != nil {
					return Item{}, r.truncated("the bundle")
				}
			}
			if c != '"' {
				return Item{}, r.syntax(fmt.Sprintf("expected a property name in the bundle but found %s", describe(c)))
			}
			key, err := r.readValue()
			if err != nil {
				return Item{}, err
			}
			var name string
			if err := json.Unmarshal(key, &name); err != nil {
				return Item{}, r.syntax("malformed property name in the bundle")
			}
			c, err = r.skipSpace()
			if err != nil {
				return Item{}, r.truncated("the bundle")
			}
			if c != ':' {
				return Item{}, r.syntax(fmt.Sprintf("expected ':' after %q but found %s", name, describe(c)))
			}
			r.pos++
			c, err = r.skipSpace()
			if err != nil {
				return Item{}, r.truncated("the bundle")
			}
			if name == "objects" && c == 'n' {
				// "objects": null, as some servers write an empty page.
				v, err := r.readValue()
				if err != nil {
					return Item{}, err
				}
				if string(v) != "null" {
					return Item{}, r.syntax(fmt.Sprintf("the bundle's \"objects\" must be an array but is %s", v))
				}
				r.sawObjs = true
				continue
			}
			if name == "objects" {
				if c != '[' {
					return Item{}, r.syntax(fmt.Sprintf("the bundle's \"objects\" must be an array but is %s", describe(c)))
				}
				r.pos++
				r.sawObjs = true
				r.state = stObjects
				continue
			}
			start := r.line
			v, err := r.readValue()
			if err != nil {
				return Item{}, err
			}
			if err := r.topLevel(name, v, start); err != nil {
				return Item{}, err
			}
		case stObjects:
			c, err := r.skipSpace()
			if err != nil {
				return Item{}, r.truncated(fmt.Sprintf("the objects array after object #%d", r.index))
			}
			if c == ']' {
				r.pos++
				r.state = stKeys
				continue
			}
			if r.index > 0 {
				if c != ',' {
					return Item{}, r.syntax(fmt.Sprintf("expected ',' or ']' after object #%d but found %s", r.index-1, describe(c)))
				}
				r.pos++
				if c, err = r.skipSpace(); err != nil {
					return Item{}, r.truncated("the objects array")
				}
			}
			if c != '{' {
				return Item{}, r.syntax(fmt.Sprintf("object #%d of the bundle is %s, not a JSON object", r.index, describe(c)))
			}
			line, off := r.line, r.base+int64(r.pos)
			r.over = nil
			raw, err := r.readValue()
			if err != nil && r.over != nil && r.SkipOverLimit {
				over := r.over
				r.over = nil
				id, mod, err := r.skipRest(over.stack)
				if err != nil {
					return Item{}, err
				}
				it := Item{Index: r.index, Line: line, Err: over.err}
				it.ID, it.Modified = peekIDs(over.prefix)
				if it.ID == "" {
					it.ID = id
				}
				if it.Modified == "" {
					it.Modified = mod
				}
				r.index++
				return it, nil
			}
			if err != nil {
				return Item{}, err
			}
			if !r.SkipJSONCheck {
				if err := checkJSON(raw, r.index, line, off); err != nil {
					return Item{}, err
				}
			}
			it := Item{Raw: raw, Index: r.index, Line: line}
			r.index++
			return it, nil
		case stSingle:
			r.state = stDone
			return Item{Raw: r.single, Index: 0, Line: 1}, nil
		case stDone:
			return Item{}, io.EOF
		}
	}
}

// topLevel records or collects a top-level property other than objects.
func (r *Reader) topLevel(name string, v []byte, line int) error {
	if r.single != nil || !r.sawObjs {
		// Until "objects" is seen this may be a single object: keep the
		// properties to rebuild it.
		r.scratch = appendMember(r.scratch, name, v)
	}
	if len(v) <= maxPropSize {
		if r.props == nil {
			r.props = map[string][]byte{}
		}
		r.props[name] = v
	}
	switch name {
	case "type":
		if err := json.Unmarshal(v, &r.typ); err != nil {
			return &SyntaxError{Offset: r.base + int64(r.pos), Line: line, Msg: "the top-level \"type\" is not a string"}
		}
	case "id":
		_ = json.Unmarshal(v, &r.bundleID)
	case "spec_version":
		_ = json.Unmarshal(v, &r.bundleSV)
	}
	return nil
}

func appendMember(b []byte, name string, v []byte) []byte {
	if len(b) > 0 {
		b = append(b, ',')
	}
	k, _ := json.Marshal(name)
	b = append(b, k...)
	b = append(b, ':')
	return append(b, v...)
}

// finish checks, at the end of the top-level object, that it was a bundle
// or a single STIX object, and that nothing follows it.
func (r *Reader) finish() error {
	if c, err := r.skipSpace(); err == nil {
		return r.syntax(fmt.Sprintf("unexpected %s after the end of the bundle", describe(c)))
	} else if err != io.EOF {
		return err
	}
	switch {
	case r.typ == "bundle":
		// A bundle without an objects property holds nothing; that is valid.
		r.state = stDone
		return nil
	case r.sawObjs && r.typ == "":
		return r.syntax("not a STIX bundle: the top-level object has \"objects\" but no \"type\": \"bundle\"")
	case r.sawObjs:
		return r.syntax(fmt.Sprintf("not a STIX bundle: the top-level type is %q", r.typ))
	case r.typ == "" || r.bundleID == "":
		return r.syntax("not a STIX bundle: a JSON object with no STIX \"type\" and \"id\"")
	}
	// One STIX object on its own: read as a bundle of one.
	r.single = append(append([]byte{'{'}, r.scratch...), '}')
	if err := checkJSON(r.single, 0, 1, 0); err != nil {
		return err
	}
	r.scratch = nil
	r.bundleID = ""
	r.state = stSingle
	return nil
}

func (r *Reader) syntax(msg string) error {
	return &SyntaxError{Offset: r.base + int64(r.pos), Line: r.line, Msg: msg}
}

func (r *Reader) truncated(where string) error {
	if r.rerr != nil && r.rerr != io.EOF {
		return r.rerr
	}
	return r.syntax("truncated input: the file ends inside " + where)
}

// fill reads more input into buf, keeping the unread bytes from keep on.
// It returns false at the end of input.
func (r *Reader) fill(keep int) bool {
	if r.eof {
		return false
	}
	if keep > 0 {
		n := copy(r.buf, r.buf[keep:])
		r.buf = r.buf[:n]
		r.base += int64(keep)
		r.pos -= keep
	}
	if len(r.buf) == cap(r.buf) {
		nb := make([]byte, len(r.buf), 2*cap(r.buf))
		copy(nb, r.buf)
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	if err != nil {
		r.eof = true
		if err != io.EOF {
			r.rerr = fmt.Errorf("reading input: %w", err)
		}
	}
	return n > 0 || !r.eof
}

// skipSpace moves past white space and returns the next byte without
// consuming it.
func (r *Reader) skipSpace() (byte, error) {
	for {
		for r.pos < len(r.buf) {
			c := r.buf[r.pos]
			switch c {
			case ' ', '\t', '\r':
			case '\n':
				r.line++
			default:
				return c, nil
			}
			r.pos++
		}
		if !r.fill(r.pos) {
			if r.rerr != nil {
				return 0, r.rerr
			}
			return 0, io.EOF
		}
	}
}

// readValue reads one JSON value starting at pos (white space already
// skipped) and returns it compacted into a new slice. It checks the
// structure (matching brackets, strings, depth and size limits); the finer
// grammar of numbers and literals is left to the JSON decoder that parses
// the value afterwards.
// keptValueBuf is the largest buffer readValue keeps between objects.
const keptValueBuf = 1 << 20

func (r *Reader) readValue() ([]byte, error) {
	// Values are built in a buffer reused across calls and copied out at
	// their exact size: one allocation per object instead of a growing one.
	// A buffer grown past keptValueBuf by a large object is let go, so
	// that the rest of the input does not keep twice that object's size.
	out := r.valBuf[:0]
	defer func() {
		if cap(out) > keptValueBuf {
			out = nil
		}
		r.valBuf = out[:0]
	}()
	var stack []byte
	inString := false
	startLine := r.line
	startOff := r.base + int64(r.pos)
	limit := r.MaxObjectSize
	if limit <= 0 {
		limit = DefaultMaxObjectSize
	}
	maxDepth := r.MaxDepth
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	tooBig := func() error {
		e := &SyntaxError{Offset: startOff, Line: startLine, Msg: fmt.Sprintf("object #%d is larger than the limit of %d bytes", r.index, limit)}
		r.over = &overLimit{prefix: bytes.Clone(out), stack: stack, err: e}
		if inString {
			r.over.stack = append(bytes.Clone(stack), '"')
		}
		return e
	}
	for {
		if r.pos >= len(r.buf) {
			if !r.fill(r.pos) {
				return nil, r.truncated(fmt.Sprintf("object #%d, which starts on line %d", r.index, startLine))
			}
			continue
		}
		c := r.buf[r.pos]
		switch c {
		case ' ', '\t', '\r':
			r.pos++
			continue
		case '\n':
			r.line++
			r.pos++
			continue
		case '"':
			// Copy the whole string, honouring escapes.
			out = append(out, '"')
			r.pos++
			inString = true
			for {
				if r.pos >= len(r.buf) {
					if !r.fill(r.pos) {
						return nil, r.truncated(fmt.Sprintf("a string in object #%d, which starts on line %d", r.index, startLine))
					}
					continue
				}
				i := r.pos
				for i < len(r.buf) && r.buf[i] != '"' && r.buf[i] != '\\' && r.buf[i] != '\n' {
					i++
				}
				out = append(out, r.buf[r.pos:i]...)
				r.pos = i
				if len(out) > limit {
					return nil, tooBig()
				}
				if i == len(r.buf) {
					continue
				}
				if r.buf[i] == '\n' {
					return nil, r.syntax(fmt.Sprintf("a string in object #%d breaks across lines (unescaped newline)", r.index))
				}
				if r.buf[i] == '"' {
					out = append(out, '"')
					r.pos++
					inString = false
					break
				}
				// A backslash: copy it and the escaped byte together.
				if r.pos+1 >= len(r.buf) {
					if !r.fill(r.pos) {
						return nil, r.truncated(fmt.Sprintf("a string in object #%d", r.index))
					}
					continue
				}
				out = append(out, r.buf[r.pos], r.buf[r.pos+1])
				r.pos += 2
			}
		case '{', '[':
			if len(stack) >= maxDepth {
				e := &SyntaxError{Offset: startOff, Line: startLine, Msg: fmt.Sprintf("object #%d nests deeper than %d levels", r.index, maxDepth)}
				r.over = &overLimit{prefix: bytes.Clone(out), stack: stack, err: e}
				return nil, e
			}
			stack = append(stack, c)
			out = append(out, c)
			r.pos++
		case '}', ']':
			open := byte('{')
			if c == ']' {
				open = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return nil, r.syntax(fmt.Sprintf("unexpected %q in object #%d", c, r.index))
			}
			stack = stack[:len(stack)-1]
			out = append(out, c)
			r.pos++
		default:
			if c < 0x20 {
				return nil, r.syntax(fmt.Sprintf("control character 0x%02x in object #%d", c, r.index))
			}
			out = append(out, c)
			r.pos++
		}
		if len(out) > limit {
			return nil, tooBig()
		}
		if len(stack) == 0 {
			// A scalar ends at the next delimiter; a container at its
			// closing bracket.
			if out[0] == '{' || out[0] == '[' || out[0] == '"' {
				return bytes.Clone(out), nil
			}
			if r.pos >= len(r.buf) && !r.fill(r.pos) {
				return bytes.Clone(out), nil
			}
			if r.pos < len(r.buf) {
				switch r.buf[r.pos] {
				case ',', '}', ']', ' ', '\t', '\r', '\n':
					return bytes.Clone(out), nil
				}
			}
		}
	}
}

// skipRest reads past the rest of an object readValue stopped at a limit:
// stack holds its open brackets (and a '"' when it stopped inside a
// string). Only the nesting is kept, one bit a level, so memory stays
// constant however large or deep the object; on the way it notes the
// object's "id" and "modified" when they come after the cut.
func (r *Reader) skipRest(stack []byte) (id, modified string, err error) {
	var bits []uint64 // 1 for '[', 0 for '{'
	depth := 0
	push := func(c byte) {
		if depth/64 >= len(bits) {
			bits = append(bits, 0)
		}
		if c == '[' {
			bits[depth/64] |= 1 << (depth % 64)
		} else {
			bits[depth/64] &^= 1 << (depth % 64)
		}
		depth++
	}
	inString := false
	for _, c := range stack {
		if c == '"' {
			inString = true
			continue
		}
		push(c)
	}
	// The members of the object itself (depth 1): whether a name comes
	// next (unknown at the cut: wait for a comma), the last name, and the
	// string being read when it may be a name or a value of interest.
	expectKey, capturing, capTooLong := false, false, false
	var key string
	var capBuf []byte
	endString := func() {
		if !capturing {
			return
		}
		capturing = false
		if capTooLong {
			key = ""
			return
		}
		var v string
		if json.Unmarshal(append(append([]byte{'"'}, capBuf...), '"'), &v) != nil {
			return
		}
		switch {
		case expectKey:
			key = v
		case key == "id":
			id = v
		case key == "modified":
			modified = v
		}
	}
	for depth > 0 || inString {
		if r.pos >= len(r.buf) {
			if !r.fill(r.pos) {
				return id, modified, r.truncated(fmt.Sprintf("object #%d", r.index))
			}
			continue
		}
		c := r.buf[r.pos]
		if inString {
			switch c {
			case '\\':
				if r.pos+1 >= len(r.buf) {
					if !r.fill(r.pos) {
						return id, modified, r.truncated(fmt.Sprintf("a string in object #%d", r.index))
					}
					continue
				}
				if capturing && len(capBuf) < 256 {
					capBuf = append(capBuf, c, r.buf[r.pos+1])
				}
				r.pos += 2
				continue
			case '"':
				inString = false
				endString()
			case '\n':
				return id, modified, r.syntax(fmt.Sprintf("a string in object #%d breaks across lines (unescaped newline)", r.index))
			default:
				if capturing {
					if len(capBuf) < 256 {
						capBuf = append(capBuf, c)
					} else {
						capTooLong = true
					}
				}
			}
			r.pos++
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 {
				capturing, capTooLong, capBuf = true, false, capBuf[:0]
			}
		case '\n':
			r.line++
		case ':':
			if depth == 1 {
				expectKey = false
			}
		case ',':
			if depth == 1 {
				expectKey = true
			}
		case '{', '[':
			push(c)
		case '}', ']':
			depth--
			isArray := bits[depth/64]&(1<<(depth%64)) != 0
			if isArray != (c == ']') {
				return id, modified, r.syntax(fmt.Sprintf("unexpected %q in object #%d", c, r.index))
			}
		}
		r.pos++
	}
	return id, modified, nil
}

// peekIDs reads the "id" and "modified" of an object from the start of
// its JSON, which may be cut anywhere: those that come before the cut.
func peekIDs(prefix []byte) (id, modified string) {
	dec := json.NewDecoder(bytes.NewReader(prefix))
	depth := 0
	key := true // at depth 1, whether the next token is a member name
	var name string
	for {
		tok, err := dec.Token()
		if err != nil {
			return id, modified
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
				if depth == 2 {
					key = true // this value's members are not ours
				}
			case '}', ']':
				depth--
				if depth == 1 {
					key = true
				}
			}
			continue
		}
		if depth != 1 {
			continue
		}
		if key {
			name, _ = tok.(string)
			key = false
			continue
		}
		if v, ok := tok.(string); ok && len(v) <= 256 {
			switch name {
			case "id":
				id = v
			case "modified":
				modified = v
			}
		}
		key = true
		if id != "" && modified != "" {
			return id, modified
		}
	}
}

// checkJSON makes sure an object the reader hands out is valid JSON:
// readValue checks only the structure (brackets, strings, limits), so a
// bad literal, number, escape or a missing colon or comma is caught here,
// where the error can still say which object and line it is in.
func checkJSON(raw []byte, index, line int, off int64) error {
	if json.Valid(raw) {
		return nil
	}
	var v json.RawMessage
	msg := "not valid JSON"
	if err := json.Unmarshal(raw, &v); err != nil {
		msg = err.Error()
	}
	return &SyntaxError{Offset: off, Line: line, Msg: fmt.Sprintf("object #%d, which starts on line %d, is not valid JSON: %s", index, line, msg)}
}

func describe(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	}
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
