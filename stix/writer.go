package stix

import (
	"bufio"
	"io"

	"github.com/google/uuid"
)

// Writer writes one STIX 2.1 bundle object by object, so an export of any
// size holds only one object in memory at a time.
type Writer struct {
	w     *bufio.Writer
	n     int
	err   error
	start bool
}

// NewWriter returns a Writer of a bundle with a new random id.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 256<<10)}
}

func (w *Writer) begin() {
	if w.start {
		return
	}
	w.start = true
	_, w.err = w.w.WriteString(`{"type":"bundle","id":"bundle--` + uuid.NewString() + `","objects":[`)
}

// Write appends one object, given as its JSON.
func (w *Writer) Write(raw []byte) error {
	w.begin()
	if w.err != nil {
		return w.err
	}
	if w.n > 0 {
		w.w.WriteByte(',')
	}
	w.w.WriteByte('\n')
	_, w.err = w.w.Write(raw)
	w.n++
	return w.err
}

// Count returns how many objects have been written.
func (w *Writer) Count() int { return w.n }

// Close ends the bundle and flushes it. It does not close the underlying
// writer.
func (w *Writer) Close() error {
	w.begin()
	if w.err != nil {
		return w.err
	}
	if w.n > 0 {
		w.w.WriteByte('\n')
	}
	w.w.WriteString("]}\n")
	return w.w.Flush()
}
