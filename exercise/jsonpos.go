package exercise

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// positions maps the JSON path of every value of a document ("steps[2].at",
// "" for the document itself) to the line it starts on, from 1, so that an
// error found after decoding can still say where it is.
type positions struct {
	data  []byte
	lines map[string]int
	offs  map[string]int // byte offset of each value's start
	order []string       // paths in document order
}

// scanPositions walks data with a token decoder and records where each
// value starts. It fails only on a JSON syntax error, which it reports with
// its line.
func scanPositions(data []byte) (*positions, error) {
	p := &positions{data: data, lines: map[string]int{}, offs: map[string]int{}}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := p.value(dec, ""); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FileError{Line: p.lineAt(int(dec.InputOffset())), Msg: "unexpected data after the top-level object"}
	}
	return p, nil
}

// lineAt returns the line of byte offset off.
func (p *positions) lineAt(off int) int {
	off = min(off, len(p.data))
	return 1 + bytes.Count(p.data[:off], []byte{'\n'})
}

// valueStart returns the offset of the next value after the decoder's
// position, skipping white space, a colon or a comma.
func (p *positions) valueStart(off int) int {
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func (p *positions) syntax(dec *json.Decoder, err error) error {
	var se *json.SyntaxError
	off := int(dec.InputOffset())
	if errors.As(err, &se) {
		off = int(se.Offset)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FileError{Line: p.lineAt(len(p.data)), Msg: "the file ends inside a JSON value"}
	}
	return &FileError{Line: p.lineAt(off), Msg: "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
}

func (p *positions) value(dec *json.Decoder, path string) error {
	start := p.valueStart(int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return p.syntax(dec, err)
	}
	p.lines[path] = p.lineAt(start)
	p.offs[path] = start
	p.order = append(p.order, path)
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return p.syntax(dec, err)
			}
			k, _ := kt.(string)
			child := k
			if path != "" {
				child = path + "." + k
			}
			if err := p.value(dec, child); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := p.value(dec, path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return p.syntax(dec, err)
	}
	return nil
}

// line returns the line of path, or of its nearest enclosing value that has
// one.
func (p *positions) line(path string) int {
	for {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return p.lines[""]
		}
		path = path[:i]
	}
}

// FileError is a problem in a scenario or profiles file: the file, the line
// (from 1) and the field's JSON path (e.g. steps[2].technique) where it is,
// and what is wrong.
type FileError struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the problem as "FILE:LINE: FIELD: MESSAGE".
func (e *FileError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// decodeStrict decodes data into v, refusing unknown fields and values of
// the wrong type with the line and field they are at.
func decodeStrict(data []byte, pos *positions, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		path := pathOfField(pos, te.Field, int(te.Offset))
		return &FileError{Line: pos.line(path), Field: path,
			Msg: fmt.Sprintf("want %s, not a JSON %s", kindName(te.Type.String()), te.Value)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		for _, path := range pos.order {
			if path == name || strings.HasSuffix(path, "."+name) {
				return &FileError{Line: pos.line(path), Field: path, Msg: "unknown field"}
			}
		}
		return &FileError{Field: name, Msg: "unknown field"}
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	return &FileError{Msg: err.Error()}
}

// pathOfField turns encoding/json's dotted field name (which leaves out
// array indexes) into the path of the document it names: the last value
// of that name that starts before offset, where decoding stopped.
func pathOfField(pos *positions, field string, offset int) string {
	if _, ok := pos.lines[field]; ok {
		return field
	}
	best, bestOff := field, -1
	for _, path := range pos.order {
		if o := pos.offs[path]; stripIndexes(path) == field && o < offset && o > bestOff {
			best, bestOff = path, o
		}
	}
	return best
}

func stripIndexes(path string) string {
	var b strings.Builder
	skip := false
	for _, c := range path {
		switch {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func kindName(goType string) string {
	switch {
	case goType == "string", goType == "exercise.Duration", goType == "exercise.Probability":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "exercise."), strings.HasPrefix(goType, "struct"):
		return "an object"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return goType
}
