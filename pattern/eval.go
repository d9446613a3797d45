package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// prepared holds what matching needs beyond the tree: compiled regular
// expressions, IN sets and CIDR blocks, keyed by comparison, plus the
// first static error (an error the reference matcher raises whatever the
// data, such as an invalid regular expression).
type prepared struct {
	once  sync.Once
	err   error
	comps map[*Comparison]*compiled
}

type compiled struct {
	re     *regexp.Regexp // LIKE and MATCHES
	binRe  *regexp.Regexp // MATCHES against binary values; nil if impossible
	prefix netip.Prefix   // ISSUBSET, ISSUPERSET
	set    []Literal      // IN
	setTS  bool           // IN with timestamps
}

func (p *Pattern) prepare() (*prepared, error) {
	pr := &p.prep
	pr.once.Do(func() {
		pr.comps = map[*Comparison]*compiled{}
		pr.err = p.prepObs(pr, p.Root)
	})
	return pr, pr.err
}

func (p *Pattern) staticErr(off int, format string, args ...any) error {
	return newError(p.src, off, false, format, args...)
}

func (p *Pattern) prepObs(pr *prepared, e ObservationExpr) error {
	switch e := e.(type) {
	case *ObservationBracket:
		return p.prepCmp(pr, e.Expr)
	case *ObservationBinary:
		if err := p.prepObs(pr, e.Left); err != nil {
			return err
		}
		return p.prepObs(pr, e.Right)
	case *ObservationQualified:
		if err := p.prepObs(pr, e.Expr); err != nil {
			return err
		}
		switch e.Kind {
		case QualWithin:
			if !(e.Seconds > 0) {
				return p.staticErr(e.Pos, "WITHIN duration must be positive, got %s", e.SecondsText)
			}
		case QualRepeats:
			if e.Times < 1 {
				return p.staticErr(e.Pos, "REPEATS count must be at least 1, got %d", e.Times)
			}
		case QualStartStop:
			if e.startErr != "" {
				return p.staticErr(e.Pos, "invalid START timestamp %q: %s", e.StartText, e.startErr)
			}
			if e.stopErr != "" {
				return p.staticErr(e.Pos, "invalid STOP timestamp %q: %s", e.StopText, e.stopErr)
			}
		}
	}
	return nil
}

func (p *Pattern) prepCmp(pr *prepared, e ComparisonExpr) error {
	switch e := e.(type) {
	case *ComparisonBinary:
		if err := p.prepCmp(pr, e.Left); err != nil {
			return err
		}
		return p.prepCmp(pr, e.Right)
	case *Comparison:
		for _, s := range e.Path.Steps {
			if s.Kind == StepIndex && s.Index < 0 {
				return p.staticErr(e.Pos, "invalid list index %d in %s", s.Index, e.Path)
			}
		}
		if e.Value.bad != "" {
			return p.staticErr(e.Value.Pos, "%s", e.Value.bad)
		}
		c := &compiled{}
		switch e.Op {
		case OpLike:
			if !utf8.ValidString(e.Value.Str) {
				// No text can match it: strings are compared as Unicode.
				return p.staticErr(e.Value.Pos, "LIKE pattern %s is not valid UTF-8", e.Value.Raw)
			}
			like := norm.NFC.String(e.Value.Str)
			re, err := regexp.Compile(likeToRegexp(like))
			if err != nil {
				return p.staticErr(e.Value.Pos, "LIKE pattern %s: %v", e.Value.Raw, err)
			}
			c.re = re
			if _, ok := latin1(like); ok {
				c.binRe = c.re
			}
		case OpMatches:
			src := norm.NFC.String(e.Value.Str)
			re, err := regexp.Compile(src)
			if err != nil {
				return p.staticErr(e.Value.Pos, "invalid regular expression %s: %v", e.Value.Raw, err)
			}
			c.re = re
			if _, ok := latin1(src); ok {
				c.binRe = re
			}
		case OpIsSubset, OpIsSuperset:
			pf, err := parsePrefix(e.Value.Str)
			if err != nil {
				return p.staticErr(e.Value.Pos, "invalid IP address or CIDR block %s: %v", e.Value.Raw, err)
			}
			c.prefix = pf
		case OpIn:
			kind := LiteralKind(0)
			numeric := true
			homogeneous := true
			for i := range e.List {
				l := &e.List[i]
				if l.bad != "" {
					return p.staticErr(l.Pos, "%s", l.bad)
				}
				k := l.Kind
				if k == LitHex {
					k = LitBinary
				}
				if kind == 0 {
					kind = k
				} else if k != kind {
					homogeneous = false
				}
				if l.Kind != LitInt && l.Kind != LitFloat {
					numeric = false
				}
			}
			if !homogeneous && !numeric {
				return p.staticErr(e.Pos, "the IN list mixes literal types; all members must have the same type")
			}
			c.set = e.List
			c.setTS = kind == LitTimestamp
		}
		pr.comps[e] = c
	}
	return nil
}

// likeToRegexp turns a LIKE pattern into an anchored regular expression:
// % is any run of characters, _ is one character. As in the reference
// matcher (Python re.match with ^...$), '.' does not match a newline and
// the end may precede one final newline.
func likeToRegexp(like string) string {
	var b strings.Builder
	b.WriteString(`^(?:`)
	start := 0
	flush := func(i int) {
		b.WriteString(regexp.QuoteMeta(like[start:i]))
	}
	for i := 0; i < len(like); i++ {
		switch like[i] {
		case '%':
			flush(i)
			b.WriteString(`.*`)
			start = i + 1
		case '_':
			flush(i)
			b.WriteString(`.`)
			start = i + 1
		}
	}
	flush(len(like))
	b.WriteString(`)\n?\z`)
	return b.String()
}

// bitset is a set of object positions within one observation.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)   { b[i/64] |= 1 << (i % 64) }
func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// evalCmp evaluates a comparison expression against one observation and
// returns the set of root objects satisfying it. Like the reference
// matcher it evaluates every comparison (no short circuit) so errors in
// the data are reported the same way whatever the outcome.
func (p *Pattern) evalCmp(pr *prepared, e ComparisonExpr, o *Observation, v *obsView) (bitset, error) {
	switch e := e.(type) {
	case *ComparisonBinary:
		l, err := p.evalCmp(pr, e.Left, o, v)
		if err != nil {
			return nil, err
		}
		r, err := p.evalCmp(pr, e.Right, o, v)
		if err != nil {
			return nil, err
		}
		for i := range l {
			if e.Op == BoolAnd {
				l[i] &= r[i]
			} else {
				l[i] |= r[i]
			}
		}
		return l, nil
	case *Comparison:
		out := newBitset(len(v.objs))
		c := pr.comps[e]
		var vals, next []any
		for _, idx := range v.byType[e.Path.Type] {
			vals = append(vals[:0], v.objs[idx])
			var err error
			for _, st := range e.Path.Steps {
				next, err = step(o, vals, st, next[:0])
				if err != nil {
					return nil, err
				}
				vals, next = next, vals
				if len(vals) == 0 {
					break
				}
			}
			if e.Op == OpExists {
				if (len(vals) > 0) != e.Negated {
					out.set(idx)
				}
				continue
			}
			for _, val := range vals {
				ok, err := p.test(e, c, val)
				if err != nil {
					return nil, err
				}
				if ok {
					out.set(idx)
					break
				}
			}
		}
		return out, nil
	}
	return nil, nil
}

// step takes one path step from every value in vals, appending what it
// reaches to out. Properties whose names end in _hex or _bin are decoded
// to binary, and *_ref / *_refs properties are replaced by the objects
// they reference (unresolvable references are dropped).
func step(o *Observation, vals []any, st PathStep, out []any) ([]any, error) {
	switch st.Kind {
	case StepIndex:
		for _, v := range vals {
			if l, ok := v.([]any); ok && st.Index < len(l) {
				out = append(out, l[st.Index])
			}
		}
		return out, nil
	case StepAny:
		for _, v := range vals {
			if l, ok := v.([]any); ok {
				out = append(out, l...)
			}
		}
		return out, nil
	}
	key := st.Key
	for _, v := range vals {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		x, ok := m[key]
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(key, "_hex"):
			s, ok := x.(string)
			if !ok {
				return nil, matchError("property %q is not a hex string", key)
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return nil, matchError("property %q is not valid hex: %v", key, err)
			}
			x = b
		case strings.HasSuffix(key, "_bin"):
			s, ok := x.(string)
			if !ok {
				return nil, matchError("property %q is not a base64 string", key)
			}
			b, err := decodeBase64(s)
			if err != nil {
				return nil, matchError("property %q is not valid base64: %v", key, err)
			}
			x = b
		case strings.HasSuffix(key, "_ref"):
			ref, ok := x.(string)
			if !ok {
				return nil, matchError("the value of reference property %q is not a string: %v", key, x)
			}
			if obj, ok := o.resolve(ref); ok {
				out = append(out, obj)
			}
			continue
		case strings.HasSuffix(key, "_refs"):
			refs, ok := x.([]any)
			if !ok {
				return nil, matchError("the value of reference list property %q is not a list: %v", key, x)
			}
			var objs []any
			for _, r := range refs {
				ref, ok := r.(string)
				if !ok {
					return nil, matchError("a value of reference property %q is not a string: %v", key, r)
				}
				if obj, ok := o.resolve(ref); ok {
					objs = append(objs, obj)
				}
			}
			if len(objs) > 0 {
				out = append(out, objs)
			}
			continue
		}
		out = append(out, x)
	}
	return out, nil
}

// decodeBase64 decodes standard base64 the way Python's
// base64.standard_b64decode does: characters outside the alphabet are
// dropped, padding is required.
func decodeBase64(s string) ([]byte, error) {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; isB64(c) || c == '=' {
			clean = append(clean, c)
		}
	}
	return base64.StdEncoding.DecodeString(string(clean))
}

// test applies one comparison to one value, including NOT.
func (p *Pattern) test(e *Comparison, c *compiled, v any) (bool, error) {
	var r bool
	switch e.Op {
	case OpEq, OpNe:
		eq, err := litEqual(&e.Value, v)
		if err != nil {
			return false, err
		}
		r = eq == (e.Op == OpEq)
	case OpLt, OpLe, OpGt, OpGe:
		n, ok, err := litCompare(&e.Value, v)
		if err != nil {
			return false, err
		}
		if !ok {
			r = false
			break
		}
		switch e.Op {
		case OpLt:
			r = n < 0
		case OpLe:
			r = n <= 0
		case OpGt:
			r = n > 0
		case OpGe:
			r = n >= 0
		}
	case OpIn:
		var err error
		r, err = inSet(c, v)
		if err != nil {
			return false, err
		}
	case OpLike:
		switch s := v.(type) {
		case string:
			r = c.re.MatchString(norm.NFC.String(s))
		case []byte:
			r = c.binRe != nil && c.binRe.MatchString(latin1String(s))
		}
	case OpMatches:
		switch s := v.(type) {
		case string:
			r = c.re.MatchString(norm.NFC.String(s))
		case []byte:
			r = c.binRe != nil && c.binRe.MatchString(latin1String(s))
		}
	case OpIsSubset, OpIsSuperset:
		s, ok := v.(string)
		if ok {
			pf, err := parsePrefix(s)
			if err != nil {
				return false, matchError("invalid IP address or CIDR block in observed data: %q", s)
			}
			if e.Op == OpIsSubset {
				r = prefixContains(c.prefix, pf)
			} else {
				r = prefixContains(pf, c.prefix)
			}
		}
	}
	if e.Negated {
		r = !r
	}
	return r, nil
}

// inSet reports whether v equals a member of the IN list, with the
// reference matcher's (Python's) equality: numbers compare by value, and a
// boolean counts as the number 0 or 1.
func inSet(c *compiled, v any) (bool, error) {
	if c.setTS {
		if s, ok := v.(string); ok {
			t, err := parseTimestamp(s)
			if err != nil {
				return false, matchError("invalid timestamp in observed data: %q", s)
			}
			for i := range c.set {
				if c.set[i].Time.Equal(t) {
					return true, nil
				}
			}
			return false, nil
		}
	}
	if b, ok := v.(bool); ok {
		n := 0.0
		if b {
			n = 1
		}
		for i := range c.set {
			l := &c.set[i]
			switch l.Kind {
			case LitBool:
				if l.Bool == b {
					return true, nil
				}
			case LitInt, LitFloat:
				if l.Float == n {
					return true, nil
				}
			}
		}
		return false, nil
	}
	for i := range c.set {
		l := &c.set[i]
		switch l.Kind {
		case LitBool:
			if f, _, _, ok := number(v); ok {
				if (f == 1 && l.Bool) || (f == 0 && !l.Bool) {
					return true, nil
				}
			}
			continue
		case LitTimestamp:
			continue
		case LitString:
			if s, ok := v.(string); ok && s == l.Str {
				return true, nil
			}
			continue
		case LitHex, LitBinary:
			if b, ok := v.([]byte); ok && string(b) == string(l.Bytes) {
				return true, nil
			}
			continue
		}
		eq, err := litEqual(l, v)
		if err != nil {
			return false, err
		}
		if eq {
			return true, nil
		}
	}
	return false, nil
}
