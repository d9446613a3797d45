package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Pattern is a parsed STIX pattern: a tree of observation expressions. It is
// immutable once parsed and safe for concurrent use.
type Pattern struct {
	// Version is the STIX version whose grammar parsed the pattern: "2.0"
	// or "2.1".
	Version string
	// Root is the top observation expression.
	Root ObservationExpr

	src      string
	problems []*Error // rule violations found while parsing, for Validate
	prep     prepared // compiled on first match
}

// Source returns the text the pattern was parsed from.
func (p *Pattern) Source() string { return p.src }

// ObservationExpr is a node of the observation-expression level of a
// pattern: *ObservationBracket, *ObservationBinary or *ObservationQualified.
type ObservationExpr interface {
	obsNode()
	// Offset returns the byte offset where the expression starts in the
	// source.
	Offset() int
}

// ObservationOp is an operator between two observation expressions.
type ObservationOp uint8

// The observation operators, from loosest to tightest binding.
const (
	ObsFollowedBy ObservationOp = iota // a FOLLOWEDBY b: b observed at or after a
	ObsOr                              // a OR b
	ObsAnd                             // a AND b, matched by distinct observations
)

func (o ObservationOp) String() string {
	switch o {
	case ObsFollowedBy:
		return "FOLLOWEDBY"
	case ObsOr:
		return "OR"
	}
	return "AND"
}

// ObservationBracket is one bracketed comparison expression, [ ... ],
// which must be satisfied by a single observation.
type ObservationBracket struct {
	Expr ComparisonExpr
	Pos  int
}

// ObservationBinary joins two observation expressions with AND, OR or
// FOLLOWEDBY.
type ObservationBinary struct {
	Op          ObservationOp
	Left, Right ObservationExpr
	Pos         int
}

// QualifierKind says which qualifier an ObservationQualified carries.
type QualifierKind uint8

// The qualifiers.
const (
	QualWithin    QualifierKind = iota + 1 // WITHIN n SECONDS
	QualStartStop                          // START t'..' STOP t'..'
	QualRepeats                            // REPEATS n TIMES
)

func (k QualifierKind) String() string {
	switch k {
	case QualWithin:
		return "WITHIN"
	case QualStartStop:
		return "STARTSTOP"
	}
	return "REPEATS"
}

// ObservationQualified applies one qualifier to an observation expression.
// Only the fields for its Kind are set.
type ObservationQualified struct {
	Expr ObservationExpr
	Kind QualifierKind
	// Seconds is the WITHIN duration; SecondsText its source text.
	Seconds     float64
	SecondsText string
	// Start and Stop are the START/STOP bounds. StartText and StopText hold
	// the literal text inside the quotes (in STIX 2.0 these are plain
	// strings and are only checked when matching).
	Start, Stop         time.Time
	StartText, StopText string
	// Times is the REPEATS count.
	Times int
	// Pos is the byte offset of the qualifier keyword.
	Pos int
	// startErr and stopErr record a STIX 2.0 START/STOP string that is not
	// a valid timestamp.
	startErr, stopErr string
}

func (*ObservationBracket) obsNode()   {}
func (*ObservationBinary) obsNode()    {}
func (*ObservationQualified) obsNode() {}

// Offset returns the byte offset of the opening bracket.
func (o *ObservationBracket) Offset() int { return o.Pos }

// Offset returns the byte offset of the left operand.
func (o *ObservationBinary) Offset() int { return o.Left.Offset() }

// Offset returns the byte offset of the qualified expression.
func (o *ObservationQualified) Offset() int { return o.Expr.Offset() }

// ComparisonExpr is a node inside brackets: *ComparisonBinary or
// *Comparison.
type ComparisonExpr interface {
	cmpNode()
}

// BoolOp is AND or OR between comparison expressions.
type BoolOp uint8

// The boolean operators inside brackets; AND binds tighter than OR.
const (
	BoolOr BoolOp = iota
	BoolAnd
)

func (o BoolOp) String() string {
	if o == BoolAnd {
		return "AND"
	}
	return "OR"
}

// ComparisonBinary joins two comparison expressions with AND or OR.
type ComparisonBinary struct {
	Op          BoolOp
	Left, Right ComparisonExpr
}

// CompOp is a comparison operator.
type CompOp uint8

// The comparison operators.
const (
	OpEq CompOp = iota
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpIn
	OpLike
	OpMatches
	OpIsSubset
	OpIsSuperset
	OpExists
)

var compOpNames = [...]string{"=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"}

func (o CompOp) String() string { return compOpNames[o] }

// Comparison tests one object path against a literal: path [NOT] op
// value, or [NOT] EXISTS path.
type Comparison struct {
	Path ObjectPath
	Op   CompOp
	// Negated is set for NOT, which per the spec negates the operator: a
	// comparison "x NOT = 1" holds for an object whose x is not 1, and not
	// for an object without x.
	Negated bool
	// Value is the operand; unused for IN and EXISTS.
	Value Literal
	// List is the operand of IN.
	List []Literal
	// Pos is the byte offset of the object path (or of EXISTS).
	Pos int
}

func (*ComparisonBinary) cmpNode() {}
func (*Comparison) cmpNode()       {}

// ObjectPath names a property of a cyber observable: type:step.step[0]...
type ObjectPath struct {
	// Type is the object type, e.g. "file" or a custom "x-foo".
	Type string
	// Steps has at least one element; the first is always a key.
	Steps []PathStep
}

// StepKind is the kind of one object path step.
type StepKind uint8

// The path steps.
const (
	StepKey   StepKind = iota // .name or .'quoted name'
	StepIndex                 // [n]
	StepAny                   // [*]
)

// PathStep is one step of an object path.
type PathStep struct {
	Kind  StepKind
	Key   string // for StepKey, unquoted
	Index int    // for StepIndex; may be negative, which never matches
}

// String returns the path in canonical form, quoting keys that are not
// plain identifiers.
func (p ObjectPath) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p ObjectPath) write(b *strings.Builder) {
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			if isPlainIdent(s.Key) {
				b.WriteString(s.Key)
			} else {
				writeQuoted(b, s.Key)
			}
		case StepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.Index))
			b.WriteByte(']')
		case StepAny:
			b.WriteString("[*]")
		}
	}
}

// isPlainIdent reports whether s can be written as an unquoted path key.
func isPlainIdent(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	_, kw := keywords[s]
	return !kw
}

// LiteralKind is the type of a literal.
type LiteralKind uint8

// The literal kinds.
const (
	LitString LiteralKind = iota + 1
	LitInt
	LitFloat
	LitBool
	LitHex       // h'..', value in Bytes
	LitBinary    // b'..', value in Bytes
	LitTimestamp // t'..', value in Time
)

func (k LiteralKind) String() string {
	switch k {
	case LitString:
		return "string"
	case LitInt:
		return "integer"
	case LitFloat:
		return "float"
	case LitBool:
		return "boolean"
	case LitHex:
		return "hex"
	case LitBinary:
		return "binary"
	case LitTimestamp:
		return "timestamp"
	}
	return "none"
}

// Literal is a constant in a pattern. Only the field for its Kind is set.
type Literal struct {
	Kind  LiteralKind
	Str   string // LitString, unescaped
	Int   int64
	Float float64
	Bool  bool
	Bytes []byte    // LitHex, LitBinary
	Time  time.Time // LitTimestamp, UTC
	// Raw is the literal's source text.
	Raw string
	// Pos is its byte offset.
	Pos int
	// bad holds a reason the literal cannot be used for matching, e.g. a
	// timestamp naming a day that does not exist.
	bad string
}

// String returns the literal in canonical pattern syntax.
func (l Literal) String() string {
	var b strings.Builder
	l.write(&b)
	return b.String()
}

func (l Literal) write(b *strings.Builder) {
	switch l.Kind {
	case LitString:
		writeQuoted(b, l.Str)
	case LitInt:
		b.WriteString(strconv.FormatInt(l.Int, 10))
	case LitFloat:
		if l.Raw != "" {
			b.WriteString(strings.TrimPrefix(l.Raw, "+"))
		} else {
			b.WriteString(strconv.FormatFloat(l.Float, 'f', -1, 64))
		}
	case LitBool:
		b.WriteString(strconv.FormatBool(l.Bool))
	case LitHex:
		b.WriteString("h'")
		b.WriteString(hex.EncodeToString(l.Bytes))
		b.WriteByte('\'')
	case LitBinary:
		b.WriteString("b'")
		b.WriteString(base64.StdEncoding.EncodeToString(l.Bytes))
		b.WriteByte('\'')
	case LitTimestamp:
		b.WriteString("t'")
		if l.Raw != "" {
			b.WriteString(l.Raw[2 : len(l.Raw)-1])
		} else {
			b.WriteString(l.Time.UTC().Format("2006-01-02T15:04:05.999999999Z"))
		}
		b.WriteByte('\'')
	}
}

func writeQuoted(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
}

// String returns the pattern in canonical form: single spaces between
// tokens, "=" and "!=" for equality, parentheses only where needed, and
// literals written the same way every time.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObs(&b, p.Root, p.Version, 0)
	return b.String()
}

// obsPrec gives the binding strength of an observation node; higher binds
// tighter.
func obsPrec(e ObservationExpr) int {
	switch e := e.(type) {
	case *ObservationBinary:
		return int(e.Op) + 1
	}
	return 4
}

func writeObs(b *strings.Builder, e ObservationExpr, ver string, min int) {
	switch e := e.(type) {
	case *ObservationBracket:
		b.WriteByte('[')
		writeCmp(b, e.Expr, 0)
		b.WriteByte(']')
	case *ObservationBinary:
		prec := int(e.Op) + 1
		paren := prec < min
		if paren {
			b.WriteByte('(')
		}
		writeObs(b, e.Left, ver, prec)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeObs(b, e.Right, ver, prec+1)
		if paren {
			b.WriteByte(')')
		}
	case *ObservationQualified:
		// Qualifiers bind to the nearest observation expression; a
		// qualifier of a kind already applied below is parenthesised so
		// the printed pattern validates as the parsed one did.
		inner := e.Expr
		wrap := obsPrec(inner) < 4 || hasQualifier(inner, e.Kind)
		if wrap {
			b.WriteByte('(')
			writeObs(b, inner, ver, 0)
			b.WriteByte(')')
		} else {
			writeObs(b, inner, ver, 4)
		}
		b.WriteByte(' ')
		switch e.Kind {
		case QualWithin:
			b.WriteString("WITHIN ")
			b.WriteString(strings.TrimPrefix(e.SecondsText, "+"))
			b.WriteString(" SECONDS")
		case QualRepeats:
			b.WriteString("REPEATS ")
			b.WriteString(strconv.Itoa(e.Times))
			b.WriteString(" TIMES")
		case QualStartStop:
			// In STIX 2.0 the bounds are strings, which may hold any
			// text, escaped like every other string; in 2.1 they are
			// timestamp literals, whose text has no quote or backslash.
			b.WriteString("START ")
			writeBound(b, e.StartText, ver)
			b.WriteString(" STOP ")
			writeBound(b, e.StopText, ver)
		}
	}
}

// writeBound writes a START or STOP bound: a string in STIX 2.0, a
// timestamp literal in 2.1.
func writeBound(b *strings.Builder, text, ver string) {
	if ver == "2.0" {
		writeQuoted(b, text)
		return
	}
	b.WriteString("t'")
	b.WriteString(text)
	b.WriteByte('\'')
}

// hasQualifier reports whether e is a chain of qualifiers (without
// parentheses) that includes kind k.
func hasQualifier(e ObservationExpr, k QualifierKind) bool {
	for {
		q, ok := e.(*ObservationQualified)
		if !ok {
			return false
		}
		if q.Kind == k {
			return true
		}
		e = q.Expr
	}
}

func writeCmp(b *strings.Builder, e ComparisonExpr, min int) {
	switch e := e.(type) {
	case *ComparisonBinary:
		prec := int(e.Op)
		paren := prec < min
		if paren {
			b.WriteByte('(')
		}
		writeCmp(b, e.Left, prec)
		b.WriteByte(' ')
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		writeCmp(b, e.Right, prec+1)
		if paren {
			b.WriteByte(')')
		}
	case *Comparison:
		if e.Op == OpExists {
			if e.Negated {
				b.WriteString("NOT ")
			}
			b.WriteString("EXISTS ")
			e.Path.write(b)
			return
		}
		e.Path.write(b)
		b.WriteByte(' ')
		if e.Negated {
			b.WriteString("NOT ")
		}
		b.WriteString(e.Op.String())
		b.WriteByte(' ')
		if e.Op == OpIn {
			b.WriteByte('(')
			for i, v := range e.List {
				if i > 0 {
					b.WriteString(", ")
				}
				v.write(b)
			}
			b.WriteByte(')')
			return
		}
		e.Value.write(b)
	}
}
