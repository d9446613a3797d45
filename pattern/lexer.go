package pattern

import (
	"unicode/utf8"
)

// tokKind identifies the kind of a lexical token.
type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tIdentHyphen
	tString
	tIntPos
	tIntNeg
	tFloatPos
	tFloatNeg
	tHex
	tBinary
	tTimestamp
	tBool
	tAND
	tOR
	tNOT
	tFOLLOWEDBY
	tLIKE
	tMATCHES
	tISSUPERSET
	tISSUBSET
	tEXISTS
	tLAST
	tIN
	tSTART
	tSTOP
	tSECONDS
	tWITHIN
	tREPEATS
	tTIMES
	tEQ
	tNEQ
	tLT
	tLE
	tGT
	tGE
	tColon
	tDot
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tStar
	tInvalid
)

var tokNames = [...]string{
	tEOF:         "end of pattern",
	tIdent:       "identifier",
	tIdentHyphen: "identifier",
	tString:      "string literal",
	tIntPos:      "integer",
	tIntNeg:      "negative integer",
	tFloatPos:    "float",
	tFloatNeg:    "negative float",
	tHex:         "hex literal",
	tBinary:      "binary literal",
	tTimestamp:   "timestamp literal",
	tBool:        "boolean",
	tAND:         "AND",
	tOR:          "OR",
	tNOT:         "NOT",
	tFOLLOWEDBY:  "FOLLOWEDBY",
	tLIKE:        "LIKE",
	tMATCHES:     "MATCHES",
	tISSUPERSET:  "ISSUPERSET",
	tISSUBSET:    "ISSUBSET",
	tEXISTS:      "EXISTS",
	tLAST:        "LAST",
	tIN:          "IN",
	tSTART:       "START",
	tSTOP:        "STOP",
	tSECONDS:     "SECONDS",
	tWITHIN:      "WITHIN",
	tREPEATS:     "REPEATS",
	tTIMES:       "TIMES",
	tEQ:          "'='",
	tNEQ:         "'!='",
	tLT:          "'<'",
	tLE:          "'<='",
	tGT:          "'>'",
	tGE:          "'>='",
	tColon:       "':'",
	tDot:         "'.'",
	tLParen:      "'('",
	tRParen:      "')'",
	tLBrack:      "'['",
	tRBrack:      "']'",
	tComma:       "','",
	tStar:        "'*'",
	tInvalid:     "invalid character",
}

func (k tokKind) String() string { return tokNames[k] }

// keywords maps reserved words to their token kinds. Keywords are case
// sensitive, as in the STIX grammar.
var keywords = map[string]tokKind{
	"AND":        tAND,
	"OR":         tOR,
	"NOT":        tNOT,
	"FOLLOWEDBY": tFOLLOWEDBY,
	"LIKE":       tLIKE,
	"MATCHES":    tMATCHES,
	"ISSUPERSET": tISSUPERSET,
	"ISSUBSET":   tISSUBSET,
	"EXISTS":     tEXISTS,
	"LAST":       tLAST,
	"IN":         tIN,
	"START":      tSTART,
	"STOP":       tSTOP,
	"SECONDS":    tSECONDS,
	"WITHIN":     tWITHIN,
	"REPEATS":    tREPEATS,
	"TIMES":      tTIMES,
	"true":       tBool,
	"false":      tBool,
}

// token is one lexical token: its kind and its byte span in the source.
type token struct {
	kind       tokKind
	start, end int
	// bad is set on an identifier token "h", "b" or "t" that is directly
	// followed by a quote but does not start a well-formed literal, so the
	// parser can say which literal was malformed.
	bad tokKind
}

// lexer splits a pattern into tokens the way the STIX ANTLR grammar does:
// longest match, keywords before identifiers, whitespace and comments
// skipped.
type lexer struct {
	src string
	pos int
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
func isB64(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/'
}

// skipSpace skips whitespace and comments.
func (l *lexer) skipSpace() {
	s := l.src
	for l.pos < len(s) {
		c := s[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '*':
			end := -1
			for i := l.pos + 2; i+1 < len(s); i++ {
				if s[i] == '*' && s[i+1] == '/' {
					end = i + 2
					break
				}
			}
			if end < 0 {
				return // an unterminated comment is an invalid '/'
			}
			l.pos = end
		case c == '/' && l.pos+1 < len(s) && s[l.pos+1] == '/':
			i := l.pos + 2
			for i < len(s) && s[i] != '\r' && s[i] != '\n' {
				i++
			}
			l.pos = i
		case c >= 0x80:
			r, n := utf8.DecodeRuneInString(s[l.pos:])
			if !isUnicodeSpace(r) {
				return
			}
			l.pos += n
		default:
			return
		}
	}
}

func isUnicodeSpace(r rune) bool {
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// next returns the next token.
func (l *lexer) next() token {
	l.skipSpace()
	s := l.src
	start := l.pos
	if start >= len(s) {
		return token{kind: tEOF, start: start, end: start}
	}
	c := s[start]
	tok := func(k tokKind, n int) token {
		l.pos = start + n
		return token{kind: k, start: start, end: start + n}
	}
	switch c {
	case '\'':
		if n := scanString(s[start:]); n > 0 {
			return tok(tString, n)
		}
		return tok(tInvalid, 1)
	case '=':
		if start+1 < len(s) && s[start+1] == '=' {
			return tok(tEQ, 2)
		}
		return tok(tEQ, 1)
	case '!':
		if start+1 < len(s) && s[start+1] == '=' {
			return tok(tNEQ, 2)
		}
		return tok(tInvalid, 1)
	case '<':
		if start+1 < len(s) {
			switch s[start+1] {
			case '=':
				return tok(tLE, 2)
			case '>':
				return tok(tNEQ, 2)
			}
		}
		return tok(tLT, 1)
	case '>':
		if start+1 < len(s) && s[start+1] == '=' {
			return tok(tGE, 2)
		}
		return tok(tGT, 1)
	case ':':
		return tok(tColon, 1)
	case '(':
		return tok(tLParen, 1)
	case ')':
		return tok(tRParen, 1)
	case '[':
		return tok(tLBrack, 1)
	case ']':
		return tok(tRBrack, 1)
	case ',':
		return tok(tComma, 1)
	case '*':
		return tok(tStar, 1)
	case '.', '+', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if k, n := scanNumber(s[start:]); n > 0 {
			return tok(k, n)
		}
		if c == '.' {
			return tok(tDot, 1)
		}
		return tok(tInvalid, 1)
	}
	if isLetter(c) {
		if start+1 < len(s) && s[start+1] == '\'' {
			var n int
			var k tokKind
			switch c {
			case 'h':
				k, n = tHex, scanHex(s[start:])
			case 'b':
				k, n = tBinary, scanBinary(s[start:])
			case 't':
				k, n = tTimestamp, scanTimestamp(s[start:])
			}
			if n > 0 {
				return tok(k, n)
			}
			if k != tEOF {
				t := tok(tIdent, 1)
				t.bad = k
				return t
			}
		}
		i := start + 1
		hyphen := false
		for i < len(s) && (isLetter(s[i]) || isDigit(s[i]) || s[i] == '-') {
			if s[i] == '-' {
				hyphen = true
			}
			i++
		}
		if hyphen {
			return tok(tIdentHyphen, i-start)
		}
		if k, ok := keywords[s[start:i]]; ok {
			return tok(k, i-start)
		}
		return tok(tIdent, i-start)
	}
	if c >= 0x80 {
		_, n := utf8.DecodeRuneInString(s[start:])
		return tok(tInvalid, n)
	}
	return tok(tInvalid, 1)
}

// scanString returns the length of the string literal at the start of s,
// or 0 if there is none. Inside, a backslash may only escape a quote or a
// backslash.
func scanString(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\'':
			return i + 1
		case '\\':
			if i+1 < len(s) && (s[i+1] == '\'' || s[i+1] == '\\') {
				i++
				continue
			}
			return 0
		}
	}
	return 0
}

// scanNumber returns the kind and length of the numeric literal at the
// start of s, or n == 0.
func scanNumber(s string) (tokKind, int) {
	i := 0
	neg := false
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		i++
	}
	digits := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intEnd := i
	// Float: [0-9]* '.' [0-9]+
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j > i+1 {
			if neg {
				return tFloatNeg, j
			}
			return tFloatPos, j
		}
	}
	if intEnd == digits {
		return 0, 0
	}
	// Int: '0' | [1-9][0-9]*
	if s[digits] == '0' {
		intEnd = digits + 1
	}
	if neg {
		return tIntNeg, intEnd
	}
	return tIntPos, intEnd
}

func scanHex(s string) int {
	i := 2
	for i+1 < len(s) && isHex(s[i]) && isHex(s[i+1]) {
		i += 2
	}
	if i < len(s) && s[i] == '\'' {
		return i + 1
	}
	return 0
}

// scanBinary accepts b'...' holding at least one base64 quantum, the last
// one optionally padded.
func scanBinary(s string) int {
	i := 2
	n := 0
	for i < len(s) && isB64(s[i]) {
		i++
		n++
	}
	pad := 0
	for i < len(s) && s[i] == '=' && pad < 2 {
		i++
		pad++
	}
	if n == 0 || (n+pad)%4 != 0 || (pad > 0 && n%4 == 0) {
		return 0
	}
	if i < len(s) && s[i] == '\'' {
		return i + 1
	}
	return 0
}

// scanTimestamp accepts t'YYYY-MM-DDTHH:MM:SS[.frac]Z' with the digit
// ranges of the STIX grammar.
func scanTimestamp(s string) int {
	if len(s) < 2 {
		return 0
	}
	n := timestampLen(s[2:])
	if n == 0 || 2+n >= len(s) || s[2+n] != '\'' {
		return 0
	}
	return n + 3
}

// timestampLen returns the length of the grammar-valid timestamp at the
// start of s, or 0.
func timestampLen(s string) int {
	if len(s) < 20 {
		return 0
	}
	d := func(i int) bool { return isDigit(s[i]) }
	if !(d(0) && d(1) && d(2) && d(3) && s[4] == '-') {
		return 0
	}
	if !((s[5] == '0' && s[6] >= '1' && s[6] <= '9') || (s[5] == '1' && s[6] >= '0' && s[6] <= '2')) || s[7] != '-' {
		return 0
	}
	if !((s[8] == '0' && s[9] >= '1' && s[9] <= '9') || ((s[8] == '1' || s[8] == '2') && d(9)) || (s[8] == '3' && (s[9] == '0' || s[9] == '1'))) {
		return 0
	}
	if s[10] != 'T' {
		return 0
	}
	if !(((s[11] == '0' || s[11] == '1') && d(12)) || (s[11] == '2' && s[12] >= '0' && s[12] <= '3')) || s[13] != ':' {
		return 0
	}
	if !(s[14] >= '0' && s[14] <= '5' && d(15)) || s[16] != ':' {
		return 0
	}
	if !((s[17] >= '0' && s[17] <= '5' && d(18)) || (s[17] == '6' && s[18] == '0')) {
		return 0
	}
	i := 19
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 {
			return 0
		}
		i = j
	}
	if i >= len(s) || s[i] != 'Z' {
		return 0
	}
	return i + 1
}
