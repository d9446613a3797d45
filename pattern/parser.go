package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxDepth is the deepest nesting of parentheses and brackets the parser
// accepts. Deeper patterns are rejected with an error rather than risking
// the stack.
const MaxDepth = 1000

// DefaultVersion is the STIX version Parse uses.
const DefaultVersion = "2.1"

// Parse parses a STIX 2.1 pattern. It reports syntax errors only; see
// Validate for the rules beyond the grammar.
func Parse(src string) (*Pattern, error) {
	return ParseVersion(src, DefaultVersion)
}

// ParseVersion parses a pattern with the grammar of the given STIX version,
// "2.0" or "2.1" ("" means 2.1). The grammars differ in the START/STOP
// qualifier: 2.1 takes timestamp literals (t'...'), 2.0 plain strings.
// The error, if any, is an *Error giving the byte offset and what was
// expected there.
func ParseVersion(src, version string) (*Pattern, error) {
	switch version {
	case "":
		version = DefaultVersion
	case "2.0", "2.1":
	default:
		return nil, &Error{Offset: -1, Msg: fmt.Sprintf("unsupported STIX version %q (want 2.0 or 2.1)", version), Syntax: true}
	}
	p := parser{lex: lexer{src: src}, src: src, v20: version == "2.0"}
	p.advance()
	root := p.observationExprs()
	if p.err == nil && p.tok.kind != tEOF {
		p.fail(p.tok.start, "expected AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern, found %s", p.describe(p.tok))
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Pattern{Version: version, Root: root, src: src, problems: p.problems}, nil
}

// MustParse is like Parse but panics on error. It is meant for patterns
// written in Go source.
func MustParse(src string) *Pattern {
	p, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return p
}

type parser struct {
	lex      lexer
	src      string
	tok      token
	v20      bool
	depth    int
	err      *Error
	problems []*Error
}

func (p *parser) advance() { p.tok = p.lex.next() }

func (p *parser) text(t token) string { return p.src[t.start:t.end] }

// fail records the first syntax error; later calls are ignored so the
// first problem is the one reported.
func (p *parser) fail(off int, format string, args ...any) {
	if p.err == nil {
		p.err = newError(p.src, off, true, format, args...)
		// Stop the lexer so callers unwind quickly.
		p.lex.pos = len(p.src)
		p.tok = token{kind: tEOF, start: len(p.src), end: len(p.src)}
	}
}

// problem records a rule violation that is not a syntax error.
func (p *parser) problem(off int, format string, args ...any) {
	p.problems = append(p.problems, newError(p.src, off, false, format, args...))
}

func (p *parser) describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of pattern"
	case tInvalid:
		return fmt.Sprintf("invalid character %q", p.text(t))
	}
	if t.bad != 0 {
		return "malformed " + t.bad.String()
	}
	s := p.text(t)
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func (p *parser) expect(k tokKind, what string) (token, bool) {
	if p.tok.kind != k {
		p.fail(p.tok.start, "expected %s, found %s", what, p.describe(p.tok))
		return token{}, false
	}
	t := p.tok
	p.advance()
	return t, true
}

func (p *parser) enter(off int) bool {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(off, "nesting deeper than %d levels", MaxDepth)
		return false
	}
	return true
}

// observationExprs parses: obsOr (FOLLOWEDBY obsOr)*.
func (p *parser) observationExprs() ObservationExpr {
	left := p.observationOr()
	for p.err == nil && p.tok.kind == tFOLLOWEDBY {
		pos := p.tok.start
		p.advance()
		right := p.observationOr()
		left = &ObservationBinary{Op: ObsFollowedBy, Left: left, Right: right, Pos: pos}
	}
	return left
}

func (p *parser) observationOr() ObservationExpr {
	left := p.observationAnd()
	for p.err == nil && p.tok.kind == tOR {
		pos := p.tok.start
		p.advance()
		right := p.observationAnd()
		left = &ObservationBinary{Op: ObsOr, Left: left, Right: right, Pos: pos}
	}
	return left
}

func (p *parser) observationAnd() ObservationExpr {
	left := p.observation()
	for p.err == nil && p.tok.kind == tAND {
		pos := p.tok.start
		p.advance()
		right := p.observation()
		left = &ObservationBinary{Op: ObsAnd, Left: left, Right: right, Pos: pos}
	}
	return left
}

// observation parses a bracketed comparison expression or a parenthesised
// observation expression, followed by any number of qualifiers.
func (p *parser) observation() ObservationExpr {
	var e ObservationExpr
	// quals tracks qualifier kinds applied directly to a bracket; nil
	// after a parenthesised group, whose qualifiers are not limited.
	var quals map[QualifierKind]bool
	switch p.tok.kind {
	case tLBrack:
		pos := p.tok.start
		if !p.enter(pos) {
			return nil
		}
		p.advance()
		c := p.comparisonOr()
		if p.err != nil {
			return nil
		}
		if p.tok.kind != tRBrack {
			p.fail(p.tok.start, "expected AND, OR or ']' to close the '[' at offset %d, found %s", pos, p.describe(p.tok))
			return nil
		}
		p.advance()
		p.depth--
		e = &ObservationBracket{Expr: c, Pos: pos}
		quals = map[QualifierKind]bool{}
	case tLParen:
		pos := p.tok.start
		if !p.enter(pos) {
			return nil
		}
		p.advance()
		e = p.observationExprs()
		if p.err != nil {
			return nil
		}
		if p.tok.kind != tRParen {
			p.fail(p.tok.start, "expected AND, OR, FOLLOWEDBY, a qualifier or ')' to close the '(' at offset %d, found %s", pos, p.describe(p.tok))
			return nil
		}
		p.advance()
		p.depth--
	default:
		if p.tok.start == 0 {
			p.fail(p.tok.start, "expected '[' or '(': a pattern starts with an observation expression in square brackets, found %s", p.describe(p.tok))
		} else {
			p.fail(p.tok.start, "expected '[' or '(' to start an observation expression, found %s", p.describe(p.tok))
		}
		return nil
	}
	for p.err == nil {
		q := p.qualifier(e)
		if q == nil {
			break
		}
		if quals != nil {
			if quals[q.Kind] && !p.v20 {
				p.problem(q.Pos, "duplicate qualifier type encountered: %s", q.Kind)
			}
			quals[q.Kind] = true
		}
		e = q
	}
	if p.err != nil {
		return nil
	}
	return e
}

// qualifier parses one qualifier applied to e, or returns nil if the next
// token does not start one.
func (p *parser) qualifier(e ObservationExpr) *ObservationQualified {
	pos := p.tok.start
	switch p.tok.kind {
	case tWITHIN:
		p.advance()
		t := p.tok
		if t.kind != tIntPos && t.kind != tFloatPos {
			p.fail(t.start, "expected a positive number of seconds after WITHIN, found %s", p.describe(t))
			return nil
		}
		p.advance()
		txt := p.text(t)
		f, err := strconv.ParseFloat(txt, 64)
		if err != nil || math.IsInf(f, 0) {
			p.fail(t.start, "WITHIN duration %s is out of range", txt)
			return nil
		}
		if _, ok := p.expect(tSECONDS, "SECONDS"); !ok {
			return nil
		}
		return &ObservationQualified{Expr: e, Kind: QualWithin, Seconds: f, SecondsText: txt, Pos: pos}
	case tREPEATS:
		p.advance()
		t := p.tok
		if t.kind != tIntPos {
			p.fail(t.start, "expected a positive integer after REPEATS, found %s", p.describe(t))
			return nil
		}
		p.advance()
		n, err := strconv.ParseInt(strings.TrimPrefix(p.text(t), "+"), 10, 32)
		if err != nil {
			p.fail(t.start, "REPEATS count %s is out of range", p.text(t))
			return nil
		}
		if _, ok := p.expect(tTIMES, "TIMES"); !ok {
			return nil
		}
		if n < 1 {
			p.problem(t.start, "REPEATS count must be at least 1, got %d", n)
		}
		return &ObservationQualified{Expr: e, Kind: QualRepeats, Times: int(n), Pos: pos}
	case tSTART:
		p.advance()
		q := &ObservationQualified{Expr: e, Kind: QualStartStop, Pos: pos}
		var ok bool
		if q.StartText, q.startErr, ok = p.startStopTime("START"); !ok {
			return nil
		}
		if _, ok := p.expect(tSTOP, "STOP"); !ok {
			return nil
		}
		if q.StopText, q.stopErr, ok = p.startStopTime("STOP"); !ok {
			return nil
		}
		if q.startErr == "" {
			q.Start, _ = parseTimestamp(q.StartText)
		}
		if q.stopErr == "" {
			q.Stop, _ = parseTimestamp(q.StopText)
		}
		return q
	}
	return nil
}

// startStopTime parses the time operand of START or STOP: a timestamp
// literal in STIX 2.1, a string in 2.0. It returns the text inside the
// quotes and, if that text is not a usable timestamp, why.
func (p *parser) startStopTime(kw string) (text, bad string, ok bool) {
	t := p.tok
	if p.v20 {
		if t.kind != tString {
			p.fail(t.start, "expected a timestamp string after %s, found %s", kw, p.describe(t))
			return "", "", false
		}
		p.advance()
		s := unquote(p.text(t))
		if _, err := parseTimestamp(s); err != nil {
			bad = err.Error()
		}
		return s, bad, true
	}
	if t.kind != tTimestamp {
		p.fail(t.start, "expected a timestamp literal t'YYYY-MM-DDThh:mm:ssZ' after %s, found %s", kw, p.describe(t))
		return "", "", false
	}
	p.advance()
	s := p.text(t)
	s = s[2 : len(s)-1]
	if _, err := parseTimestamp(s); err != nil {
		bad = err.Error()
	}
	return s, bad, true
}

// comparisonOr parses: comparisonAnd (OR comparisonAnd)*.
func (p *parser) comparisonOr() ComparisonExpr {
	left := p.comparisonAnd()
	for p.err == nil && p.tok.kind == tOR {
		p.advance()
		right := p.comparisonAnd()
		left = &ComparisonBinary{Op: BoolOr, Left: left, Right: right}
	}
	return left
}

func (p *parser) comparisonAnd() ComparisonExpr {
	left := p.propTest()
	for p.err == nil && p.tok.kind == tAND {
		p.advance()
		right := p.propTest()
		left = &ComparisonBinary{Op: BoolAnd, Left: left, Right: right}
	}
	return left
}

func (p *parser) propTest() ComparisonExpr {
	switch p.tok.kind {
	case tLParen:
		pos := p.tok.start
		if !p.enter(pos) {
			return nil
		}
		p.advance()
		c := p.comparisonOr()
		if p.err != nil {
			return nil
		}
		if p.tok.kind != tRParen {
			p.fail(p.tok.start, "expected AND, OR or ')' to close the '(' at offset %d, found %s", pos, p.describe(p.tok))
			return nil
		}
		p.advance()
		p.depth--
		return c
	case tNOT, tEXISTS:
		pos := p.tok.start
		neg := false
		if p.tok.kind == tNOT {
			neg = true
			p.advance()
			if p.tok.kind != tEXISTS {
				p.fail(p.tok.start, "expected EXISTS after a leading NOT (NOT goes after the object path for other operators), found %s", p.describe(p.tok))
				return nil
			}
		}
		p.advance()
		path, ok := p.objectPath()
		if !ok {
			return nil
		}
		return &Comparison{Path: path, Op: OpExists, Negated: neg, Pos: pos}
	}
	pos := p.tok.start
	path, ok := p.objectPath()
	if !ok {
		return nil
	}
	c := &Comparison{Path: path, Pos: pos}
	if p.tok.kind == tNOT {
		c.Negated = true
		p.advance()
	}
	switch p.tok.kind {
	case tEQ, tNEQ:
		c.Op = OpEq
		if p.tok.kind == tNEQ {
			c.Op = OpNe
		}
		p.advance()
		c.Value, ok = p.literal(true)
	case tLT, tLE, tGT, tGE:
		c.Op = map[tokKind]CompOp{tLT: OpLt, tLE: OpLe, tGT: OpGt, tGE: OpGe}[p.tok.kind]
		p.advance()
		c.Value, ok = p.literal(false)
	case tIN:
		c.Op = OpIn
		p.advance()
		c.List, ok = p.setLiteral()
	case tLIKE, tMATCHES, tISSUBSET, tISSUPERSET:
		c.Op = map[tokKind]CompOp{tLIKE: OpLike, tMATCHES: OpMatches, tISSUBSET: OpIsSubset, tISSUPERSET: OpIsSuperset}[p.tok.kind]
		p.advance()
		if p.tok.kind != tString {
			p.fail(p.tok.start, "expected a string literal after %s, found %s", c.Op, p.describe(p.tok))
			return nil
		}
		c.Value, ok = p.literal(false)
	default:
		if c.Negated {
			p.fail(p.tok.start, "expected a comparison operator after NOT, found %s", p.describe(p.tok))
		} else {
			p.fail(p.tok.start, "expected a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET) or NOT, found %s", p.describe(p.tok))
		}
		return nil
	}
	if !ok {
		return nil
	}
	return c
}

// objectPath parses: type ':' first ( '.' key | '[' index ']' )*.
func (p *parser) objectPath() (ObjectPath, bool) {
	var path ObjectPath
	t := p.tok
	if t.kind != tIdent && t.kind != tIdentHyphen {
		p.fail(t.start, "expected an object path such as file:name, found %s", p.describe(t))
		return path, false
	}
	path.Type = p.text(t)
	p.advance()
	if _, ok := p.expect(tColon, "':' between the object type and the property"); !ok {
		return path, false
	}
	key, ok := p.pathKey()
	if !ok {
		return path, false
	}
	path.Steps = append(make([]PathStep, 0, 2), PathStep{Kind: StepKey, Key: key})
	for {
		switch p.tok.kind {
		case tDot:
			p.advance()
			key, ok := p.pathKey()
			if !ok {
				return path, false
			}
			path.Steps = append(path.Steps, PathStep{Kind: StepKey, Key: key})
			continue
		case tFloatPos:
			// ".5" lexes as a float: a numeric key is not allowed.
			if p.src[p.tok.start] == '.' {
				p.fail(p.tok.start+1, "expected a property name or quoted string after '.', found %q", p.text(p.tok)[1:])
				return path, false
			}
		case tLBrack:
			p.advance()
			switch p.tok.kind {
			case tStar:
				path.Steps = append(path.Steps, PathStep{Kind: StepAny})
			case tIntPos, tIntNeg:
				n, err := strconv.Atoi(strings.TrimPrefix(p.text(p.tok), "+"))
				if err != nil {
					p.fail(p.tok.start, "list index %s is out of range", p.text(p.tok))
					return path, false
				}
				path.Steps = append(path.Steps, PathStep{Kind: StepIndex, Index: n})
			default:
				p.fail(p.tok.start, "expected a list index or '*' inside '[ ]', found %s", p.describe(p.tok))
				return path, false
			}
			p.advance()
			if _, ok := p.expect(tRBrack, "']' after the list index"); !ok {
				return path, false
			}
			continue
		}
		return path, true
	}
}

// pathKey parses a property name: an identifier without hyphens or a
// quoted string.
func (p *parser) pathKey() (string, bool) {
	t := p.tok
	switch t.kind {
	case tIdent:
		if t.bad == 0 {
			p.advance()
			return p.text(t), true
		}
	case tString:
		p.advance()
		return unquote(p.text(t)), true
	case tIdentHyphen:
		p.fail(t.start, "property name %q contains a hyphen: quote it as '%s'", p.text(t), p.text(t))
		return "", false
	}
	p.fail(t.start, "expected a property name or quoted string, found %s", p.describe(t))
	return "", false
}

func (p *parser) setLiteral() ([]Literal, bool) {
	if _, ok := p.expect(tLParen, "'(' to start the IN list"); !ok {
		return nil, false
	}
	var list []Literal
	if p.tok.kind == tRParen {
		p.advance()
		return list, true
	}
	for {
		l, ok := p.literal(true)
		if !ok {
			return nil, false
		}
		list = append(list, l)
		switch p.tok.kind {
		case tComma:
			p.advance()
			continue
		case tRParen:
			p.advance()
			return list, true
		}
		p.fail(p.tok.start, "expected ',' or ')' in the IN list, found %s", p.describe(p.tok))
		return nil, false
	}
}

// literal parses a literal; allowBool permits true/false (not allowed
// with the ordering operators).
func (p *parser) literal(allowBool bool) (Literal, bool) {
	t := p.tok
	raw := p.text(t)
	l := Literal{Raw: raw, Pos: t.start}
	switch t.kind {
	case tString:
		l.Kind, l.Str = LitString, unquote(raw)
	case tIntPos, tIntNeg:
		n, err := strconv.ParseInt(strings.TrimPrefix(raw, "+"), 10, 64)
		if err != nil {
			p.fail(t.start, "integer %s is out of range", raw)
			return l, false
		}
		l.Kind, l.Int, l.Float = LitInt, n, float64(n)
	case tFloatPos, tFloatNeg:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			p.fail(t.start, "float %s is out of range", raw)
			return l, false
		}
		l.Kind, l.Float = LitFloat, f
	case tBool:
		if !allowBool {
			p.fail(t.start, "expected a string, number, binary or timestamp literal to compare with, found %s", p.describe(t))
			return l, false
		}
		l.Kind, l.Bool = LitBool, raw == "true"
	case tHex:
		b, err := hex.DecodeString(raw[2 : len(raw)-1])
		if err != nil {
			p.fail(t.start, "invalid hex literal: %v", err)
			return l, false
		}
		l.Kind, l.Bytes = LitHex, b
	case tBinary:
		// The lexer only accepts well-formed base64, so this cannot fail.
		b, _ := base64.StdEncoding.DecodeString(raw[2 : len(raw)-1])
		l.Kind, l.Bytes = LitBinary, b
	case tTimestamp:
		ts, err := parseTimestamp(raw[2 : len(raw)-1])
		l.Kind, l.Time = LitTimestamp, ts
		if err != nil {
			// The grammar accepts it (the reference validator does too);
			// matching and ValidateStrict reject it.
			l.bad = fmt.Sprintf("invalid timestamp %s: %v", raw, err)
		}
	default:
		p.fail(t.start, "expected a literal (string, number, boolean, h'hex', b'base64' or t'timestamp'), found %s", p.describe(t))
		return l, false
	}
	p.advance()
	return l, true
}

// unquote removes the quotes of a string literal and resolves its \' and
// \\ escapes.
func unquote(s string) string {
	s = s[1 : len(s)-1]
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
