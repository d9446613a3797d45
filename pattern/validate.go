package pattern

import (
	"regexp"
	"strings"
)

// hashForms are the value forms the reference validator requires for
// well-known hash algorithms, keyed by the algorithm name upper-cased
// without hyphens.
var hashForms = map[string]struct {
	re   *regexp.Regexp
	name string
}{
	"MD5":       {regexp.MustCompile(`^[a-fA-F0-9]{32}$`), "MD5"},
	"MD6":       {regexp.MustCompile(`^[a-fA-F0-9]{32}`), "MD6"},
	"RIPEMD160": {regexp.MustCompile(`^[a-fA-F0-9]{40}$`), "RIPEMD-160"},
	"SHA1":      {regexp.MustCompile(`^[a-fA-F0-9]{40}$`), "SHA-1"},
	"SHA224":    {regexp.MustCompile(`^[a-fA-F0-9]{56}$`), "SHA-224"},
	"SHA256":    {regexp.MustCompile(`^[a-fA-F0-9]{64}$`), "SHA-256"},
	"SHA384":    {regexp.MustCompile(`^[a-fA-F0-9]{96}$`), "SHA-384"},
	"SHA512":    {regexp.MustCompile(`^[a-fA-F0-9]{128}$`), "SHA-512"},
	"SHA3224":   {regexp.MustCompile(`^[a-fA-F0-9]{56}$`), "SHA3-224"},
	"SHA3256":   {regexp.MustCompile(`^[a-fA-F0-9]{64}$`), "SHA3-256"},
	"SHA3384":   {regexp.MustCompile(`^[a-fA-F0-9]{96}$`), "SHA3-384"},
	"SHA3512":   {regexp.MustCompile(`^[a-fA-F0-9]{128}$`), "SHA3-512"},
	"SSDEEP":    {regexp.MustCompile(`^[a-zA-Z0-9/+:.]{1,128}$`), "SSDEEP"},
	"WHIRLPOOL": {regexp.MustCompile(`^[a-fA-F0-9]{128}$`), "WHIRLPOOL"},
}

// Validate checks a pattern against the grammar of the given STIX version
// ("2.0" or "2.1") and the rules the OASIS reference validator applies
// beyond it:
//
//   - no two qualifiers of the same kind directly on one bracketed
//     observation expression (STIX 2.1; a parenthesised group may take
//     another), e.g. "[a:b=1] WITHIN 5 SECONDS WITHIN 6 SECONDS";
//   - values compared with a hash (a path through "hashes" ending in a
//     known algorithm such as 'SHA-256') have that algorithm's form;
//   - REPEATS counts are at least 1.
//
// Like the reference validator it accepts timestamp literals that match
// the grammar but name no real instant, such as t'2023-02-29T00:00:00Z';
// Match and ValidateStrict reject them.
//
// It returns nil or the first problem as an *Error with its byte offset.
// See ValidateStrict for the spec's naming rules.
func Validate(src, version string) error {
	p, err := ParseVersion(src, version)
	if err != nil {
		return err
	}
	return p.Validate()
}

// Validate checks the rules of the package-level Validate on a parsed
// pattern.
func (p *Pattern) Validate() error {
	if len(p.problems) > 0 {
		return p.problems[0]
	}
	var err error
	walkComparisons(p.Root, func(c *Comparison) bool {
		err = p.checkHash(c)
		return err == nil
	})
	return err
}

// ValidateStrict is Validate plus rules of the STIX specification that the
// reference validator does not enforce: object type names of 3 to 250
// lower-case ASCII letters, digits and hyphens starting with a letter;
// top-level property names of ASCII letters, digits and underscores;
// timestamps that name real instants; and a WITHIN duration greater than
// zero.
func ValidateStrict(src, version string) error {
	p, err := ParseVersion(src, version)
	if err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	walkComparisons(p.Root, func(c *Comparison) bool {
		if !validTypeName(c.Path.Type) {
			err = newError(p.src, c.Pos, false, "object type %q must be 3 to 250 lower-case ASCII letters, digits or hyphens, starting with a letter", c.Path.Type)
			return false
		}
		for _, l := range append([]Literal{c.Value}, c.List...) {
			if l.bad != "" {
				err = newError(p.src, l.Pos, false, "%s", l.bad)
				return false
			}
		}
		if k := c.Path.Steps[0].Key; !validPropName(k) {
			err = newError(p.src, c.Pos, false, "property name %q must be ASCII letters, digits or underscores, at most 250 characters", k)
			return false
		}
		return true
	})
	if err != nil {
		return err
	}
	walkObs(p.Root, func(e ObservationExpr) {
		q, ok := e.(*ObservationQualified)
		if !ok || err != nil {
			return
		}
		switch {
		case q.Kind == QualWithin && !(q.Seconds > 0):
			err = newError(p.src, q.Pos, false, "WITHIN duration must be greater than zero, got %s", q.SecondsText)
		case q.startErr != "":
			err = newError(p.src, q.Pos, false, "invalid START timestamp %q: %s", q.StartText, q.startErr)
		case q.stopErr != "":
			err = newError(p.src, q.Pos, false, "invalid STOP timestamp %q: %s", q.StopText, q.stopErr)
		}
	})
	return err
}

func validTypeName(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || isDigit(c) || c == '-') {
			return false
		}
	}
	return true
}

func validPropName(s string) bool {
	if s == "" || len(s) > 250 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// checkHash applies the hash-form rule to one comparison.
func (p *Pattern) checkHash(c *Comparison) error {
	if c.Value.Kind != LitString || c.Op == OpLike || c.Op == OpMatches || c.Op == OpExists || c.Op == OpIn {
		return nil
	}
	steps := c.Path.Steps
	last := steps[len(steps)-1]
	if last.Kind != StepKey {
		return nil
	}
	through := false
	for _, s := range steps {
		if s.Kind == StepKey && s.Key == "hashes" {
			through = true
		}
	}
	if !through {
		return nil
	}
	alg := strings.ReplaceAll(strings.ToUpper(last.Key), "-", "")
	f, ok := hashForms[alg]
	if !ok {
		return nil
	}
	if !f.re.MatchString(c.Value.Str) {
		return newError(p.src, c.Value.Pos, false, "%q is not a valid %s hash", c.Value.Str, f.name)
	}
	return nil
}

// walkObs calls fn for every observation expression, parents first.
func walkObs(e ObservationExpr, fn func(ObservationExpr)) {
	stack := []ObservationExpr{e}
	for len(stack) > 0 {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(e)
		switch e := e.(type) {
		case *ObservationBinary:
			stack = append(stack, e.Right, e.Left)
		case *ObservationQualified:
			stack = append(stack, e.Expr)
		}
	}
}

// walkComparisons calls fn for every comparison in source order until fn
// returns false.
func walkComparisons(e ObservationExpr, fn func(*Comparison) bool) {
	stop := false
	walkObs(e, func(o ObservationExpr) {
		b, ok := o.(*ObservationBracket)
		if !ok || stop {
			return
		}
		stack := []ComparisonExpr{b.Expr}
		for len(stack) > 0 && !stop {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch c := c.(type) {
			case *ComparisonBinary:
				stack = append(stack, c.Right, c.Left)
			case *Comparison:
				if !fn(c) {
					stop = true
				}
			}
		}
	})
}
