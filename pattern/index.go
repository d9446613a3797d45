package pattern

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// Atom is one comparison of a pattern, flattened for indexing: the object
// type, the path below it, the operator and the literal(s).
type Atom struct {
	// Bracket is the position, in source order, of the bracketed
	// observation expression the comparison sits in.
	Bracket int
	Type    string
	// Path is the property path without the type, e.g. hashes.'SHA-256'.
	Path    string
	Steps   []PathStep
	Op      CompOp
	Negated bool
	// Value is the literal; Values holds the members of an IN list.
	Value  Literal
	Values []Literal
}

// Equality reports whether the atom is a positive equality test (= or
// IN without NOT), the kind an exact-value index can serve.
func (a Atom) Equality() bool {
	return !a.Negated && (a.Op == OpEq || a.Op == OpIn)
}

// Atoms lists every comparison in the pattern in source order. Use
// Atom.Equality to pick the (type, path, value) tests an exact-value index
// can answer.
func (p *Pattern) Atoms() []Atom {
	var out []Atom
	bracket := -1
	walkObs(p.Root, func(e ObservationExpr) {
		b, ok := e.(*ObservationBracket)
		if !ok {
			return
		}
		bracket++
		stack := []ComparisonExpr{b.Expr}
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch c := c.(type) {
			case *ComparisonBinary:
				stack = append(stack, c.Right, c.Left)
			case *Comparison:
				out = append(out, Atom{
					Bracket: bracket, Type: c.Path.Type, Path: stepsString(c.Path.Steps),
					Steps: c.Path.Steps, Op: c.Op, Negated: c.Negated, Value: c.Value, Values: c.List,
				})
			}
		}
	})
	return out
}

func stepsString(steps []PathStep) string {
	s := ObjectPath{Steps: steps}.String()
	return s[1:] // drop the ':' after the empty type
}

// Values returns the literal observable values the pattern looks for:
// strings compared with = or IN (or ISSUBSET/ISSUPERSET, the CIDR text),
// and binary literals in lower-case hex, without NOT, in source order and
// without duplicates. It is meant for making indicators searchable by the
// addresses, domains and hashes inside their patterns.
func (p *Pattern) Values() []string {
	var out []string
	seen := map[string]bool{}
	add := func(l Literal) {
		var s string
		switch l.Kind {
		case LitString:
			s = l.Str
		case LitHex, LitBinary:
			s = hex.EncodeToString(l.Bytes)
		default:
			return
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, a := range p.Atoms() {
		if a.Negated {
			continue
		}
		switch a.Op {
		case OpEq, OpIsSubset, OpIsSuperset:
			add(a.Value)
		case OpIn:
			for _, v := range a.Values {
				add(v)
			}
		}
	}
	return out
}

// Index holds compiled patterns and finds, for an observation, the few
// patterns that could match it: those with an equality test whose value
// the observation has at that path, and those that only need an object of
// a type the observation has. Patterns are evaluated once per
// observation, never re-parsed. An Index is safe for concurrent use once
// built.
type Index struct {
	patterns []*Pattern
	// exact maps type, path and value key to patterns.
	exact map[exactKey][]int32
	// paths lists the paths per type that exact keys use.
	paths map[string][]pathEntry
	// byType maps a type to patterns needing only an object of that type.
	byType map[string][]int32
}

type exactKey struct{ typ, path, val string }

type pathEntry struct {
	text  string
	steps []PathStep
}

// requirement is a necessary condition for a pattern to match: one of the
// alternatives must be present in the observed data. An alternative with
// an empty val needs only an object of the type.
type requirement []exactKey

// Compile parses every pattern with the grammar of version and builds an
// Index over them. Patterns that fail to parse are reported together in
// the error (each with its position in srcs) and left out; the Index
// numbers the rest in their original order, so Index.Source maps back.
func Compile(srcs []string, version string) (*Index, error) {
	ps := make([]*Pattern, 0, len(srcs))
	var errs []error
	for i, s := range srcs {
		p, err := ParseVersion(s, version)
		if err != nil {
			errs = append(errs, fmt.Errorf("pattern %d: %w", i, err))
			continue
		}
		ps = append(ps, p)
	}
	return NewIndex(ps), errors.Join(errs...)
}

// NewIndex builds an Index over parsed patterns; pattern i of the slice is
// number i in results.
func NewIndex(ps []*Pattern) *Index {
	ix := &Index{
		patterns: ps,
		exact:    map[exactKey][]int32{},
		paths:    map[string][]pathEntry{},
		byType:   map[string][]int32{},
	}
	seenPath := map[exactKey]bool{}
	for i, p := range ps {
		p.prepare() // compile regexes and sets now, not on the hot path
		for _, k := range obsRequirement(p.Root) {
			if k.val == "" {
				ix.byType[k.typ] = appendOnce(ix.byType[k.typ], int32(i))
				continue
			}
			ix.exact[k] = appendOnce(ix.exact[k], int32(i))
			pk := exactKey{typ: k.typ, path: k.path}
			if !seenPath[pk] {
				seenPath[pk] = true
				ix.paths[k.typ] = append(ix.paths[k.typ], pathEntry{text: k.path, steps: findSteps(p, k.typ, k.path)})
			}
		}
	}
	return ix
}

func appendOnce(s []int32, v int32) []int32 {
	if len(s) > 0 && s[len(s)-1] == v {
		return s
	}
	return append(s, v)
}

func findSteps(p *Pattern, typ, path string) []PathStep {
	for _, a := range p.Atoms() {
		if a.Type == typ && a.Path == path {
			return a.Steps
		}
	}
	return nil
}

// Len returns the number of patterns in the index.
func (ix *Index) Len() int { return len(ix.patterns) }

// Pattern returns pattern i.
func (ix *Index) Pattern(i int) *Pattern { return ix.patterns[i] }

// obsRequirement computes a necessary condition for an observation
// expression: OR needs either side, AND and FOLLOWEDBY need both so the
// more selective side suffices.
func obsRequirement(e ObservationExpr) requirement {
	switch e := e.(type) {
	case *ObservationBracket:
		return cmpRequirement(e.Expr)
	case *ObservationQualified:
		return obsRequirement(e.Expr)
	case *ObservationBinary:
		l, r := obsRequirement(e.Left), obsRequirement(e.Right)
		if e.Op == ObsOr {
			return append(l, r...)
		}
		return pickSelective(l, r)
	}
	return nil
}

func cmpRequirement(e ComparisonExpr) requirement {
	switch e := e.(type) {
	case *ComparisonBinary:
		l, r := cmpRequirement(e.Left), cmpRequirement(e.Right)
		if e.Op == BoolOr {
			return append(l, r...)
		}
		return pickSelective(l, r)
	case *Comparison:
		typeOnly := requirement{{typ: e.Path.Type}}
		if e.Negated {
			return typeOnly
		}
		path := stepsString(e.Path.Steps)
		switch e.Op {
		case OpEq:
			if k, ok := litKey(e.Value); ok {
				return requirement{{typ: e.Path.Type, path: path, val: k}}
			}
		case OpIn:
			var req requirement
			for _, l := range e.List {
				k, ok := litKey(l)
				if !ok {
					return typeOnly
				}
				req = append(req, exactKey{typ: e.Path.Type, path: path, val: k})
			}
			if len(req) == 0 {
				return nil // IN () matches nothing
			}
			return req
		}
		return typeOnly
	}
	return nil
}

// pickSelective chooses, of two conditions that must both hold, the one
// cheaper to test: exact values beat type-only alternatives, fewer beats
// more.
func pickSelective(l, r requirement) requirement {
	score := func(q requirement) int {
		s := len(q)
		for _, k := range q {
			if k.val == "" {
				s += 1 << 20
			}
		}
		return s
	}
	if score(r) < score(l) {
		return r
	}
	return l
}

// litKey is the exact-match key of a literal, or ok == false for literals
// whose equality is not a plain value comparison (binary and timestamps).
func litKey(l Literal) (string, bool) {
	switch l.Kind {
	case LitString:
		return "s:" + l.Str, true
	case LitInt, LitFloat:
		return "n:" + strconv.FormatFloat(l.Float, 'g', -1, 64), true
	}
	return "", false
}

// valueKeys appends the exact-match keys of an observed value.
func valueKeys(v any, dst []string) []string {
	switch v := v.(type) {
	case string:
		return append(dst, "s:"+v)
	case []byte:
		return append(dst, "s:"+latin1String(v))
	case bool:
		if v {
			return append(dst, "n:1")
		}
		return append(dst, "n:0")
	}
	if f, _, _, ok := number(v); ok {
		return append(dst, "n:"+strconv.FormatFloat(f, 'g', -1, 64))
	}
	return dst
}

// Candidates appends to dst the numbers of the patterns that could match
// an observation set containing o, ascending and without duplicates.
func (ix *Index) Candidates(o *Observation, dst []int) []int {
	v := o.getView()
	mark := make([]uint64, (len(ix.patterns)+63)/64)
	add := func(ids []int32) {
		for _, id := range ids {
			mark[id/64] |= 1 << (id % 64)
		}
	}
	var vals, next []any
	var keys []string
	for typ, objs := range v.byType {
		add(ix.byType[typ])
		for _, pe := range ix.paths[typ] {
			for _, oi := range objs {
				vals = append(vals[:0], v.objs[oi])
				for _, st := range pe.steps {
					var err error
					next, err = step(o, vals, st, next[:0])
					if err != nil {
						// Let the full evaluation report it.
						vals = vals[:0]
						break
					}
					vals, next = next, vals
				}
				keys = keys[:0]
				for _, x := range vals {
					keys = valueKeys(x, keys)
				}
				for _, k := range keys {
					add(ix.exact[exactKey{typ: typ, path: pe.text, val: k}])
				}
			}
		}
	}
	for w, bits := range mark {
		for bits != 0 {
			b := bits & -bits
			dst = append(dst, w*64+trailingZeros(b))
			bits &^= b
		}
	}
	return dst
}

// MatchObservation evaluates, against the single observation o, only the
// patterns that could match it, and returns the numbers of those that do.
// Patterns whose evaluation fails (for example on malformed data) are
// reported in the error, joined, and not counted as matches.
func (ix *Index) MatchObservation(o *Observation) ([]int, error) {
	return ix.MatchObservations([]Observation{*o})
}

// MatchObservations evaluates the candidate patterns of every observation
// against the whole set (so patterns joining several observations with
// AND or FOLLOWEDBY can match) and returns the numbers of the patterns
// that match, ascending.
func (ix *Index) MatchObservations(obs []Observation) ([]int, error) {
	var cands []int
	seen := map[int]bool{}
	for i := range obs {
		for _, c := range ix.Candidates(&obs[i], nil) {
			if !seen[c] {
				seen[c] = true
				cands = append(cands, c)
			}
		}
	}
	sortInts(cands)
	var out []int
	var errs []error
	for _, c := range cands {
		r, err := ix.patterns[c].Match(obs)
		if err != nil {
			errs = append(errs, fmt.Errorf("pattern %d: %w", c, err))
			continue
		}
		if r.Matched {
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}
