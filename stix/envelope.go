package stix

import (
	"bufio"
	"io"
	"strings"
)

// NewEnvelopeReader returns a Reader of a TAXII 2.1 envelope: a JSON object
// whose optional "objects" array holds the STIX objects, beside "more" and
// "next", and no "type". It reads the envelope as a bundle by putting
// "type": "bundle" before its first property, so every limit and error of a
// bundle applies, line numbers included; anything that is not a JSON object
// is refused as a bundle would be. An envelope may still carry its own
// "type" property, which then has to be "bundle".
func NewEnvelopeReader(r io.Reader) *Reader {
	return NewReader(envelopeAsBundle(r))
}

// envelopeAsBundle returns the input with `"type":"bundle"` inserted after
// the opening brace, or the input unchanged when it does not open with one.
func envelopeAsBundle(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	var lead []byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			return io.MultiReader(strings.NewReader(string(lead)), br)
		}
		lead = append(lead, c)
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
		default:
			return io.MultiReader(strings.NewReader(string(lead)), br)
		}
		break
	}
	prefix := string(lead) + `"type":"bundle"`
	// A comma goes between our property and the envelope's first one, but
	// not before the closing brace of an empty envelope.
	for {
		c, err := br.ReadByte()
		if err != nil {
			return io.MultiReader(strings.NewReader(prefix), br)
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			prefix += string(c)
			continue
		case '}':
			return io.MultiReader(strings.NewReader(prefix+"}"), br)
		}
		return io.MultiReader(strings.NewReader(prefix+","+string(c)), br)
	}
}
