package pattern

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// Error is a problem with a pattern (a syntax error or a broken rule) or
// with matching it. Offset is the byte offset into the pattern where the
// problem is, or -1 when it is not tied to a place in the pattern (for
// example a bad timestamp in the observed data).
type Error struct {
	// Offset is the 0-based byte offset into the pattern, or -1.
	Offset int
	// Column is the 1-based column, counted in characters, or 0.
	Column int
	// Msg says what was wrong.
	Msg string
	// Syntax is set for errors in the pattern text itself (what the
	// reference implementation calls a ParseException), as opposed to
	// errors found while matching.
	Syntax bool
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return "pattern: " + e.Msg
	}
	return fmt.Sprintf("pattern: offset %d (column %d): %s", e.Offset, e.Column, e.Msg)
}

// ErrBudget is returned (wrapped in an *Error) when matching a pattern
// would take more search steps than the configured budget allows.
var ErrBudget = errors.New("search budget exhausted")

// budgetError wraps ErrBudget with the position-free *Error shape.
type budgetError struct{ steps int }

func (b *budgetError) Error() string {
	return fmt.Sprintf("pattern: matching stopped after %d search steps: %v", b.steps, ErrBudget)
}
func (b *budgetError) Unwrap() error { return ErrBudget }

func newError(src string, off int, syntax bool, format string, args ...any) *Error {
	if off > len(src) {
		off = len(src)
	}
	col := 0
	if off >= 0 {
		col = utf8.RuneCountInString(src[:off]) + 1
	}
	return &Error{Offset: off, Column: col, Msg: fmt.Sprintf(format, args...), Syntax: syntax}
}

// matchError is an error found while matching, not tied to the pattern.
func matchError(format string, args ...any) *Error {
	return &Error{Offset: -1, Msg: fmt.Sprintf(format, args...)}
}
