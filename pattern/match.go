package pattern

import (
	"sort"
	"time"
)

// DefaultBudget is the number of search steps Match may take before it
// gives up with an error wrapping ErrBudget. Patterns such as
// "[a:x=1] REPEATS 50 TIMES" over many observations have astronomically
// many candidate bindings; the budget keeps such searches bounded.
const DefaultBudget = 20_000_000

// MatchResult says whether a pattern matched and which observations the
// match used.
type MatchResult struct {
	// Matched is true if the pattern matched.
	Matched bool
	// Indices are the positions, in the slice given to Match, of the
	// observations bound by the first binding found (the same binding the
	// reference matcher reports), ascending.
	Indices []int
	// IDs are the ids of those observations (empty strings for
	// observations without an id).
	IDs []string
}

// MatchOptions tunes Match.
type MatchOptions struct {
	// Budget caps the search steps; 0 means DefaultBudget.
	Budget int
}

// Match matches the pattern against observations with the semantics of
// the STIX reference matcher (oasis-open/cti-pattern-matcher):
//
//   - Inside brackets, all comparisons joined by AND must hold for the same
//     root object: the object of the path's type where the path starts,
//     even when the path then follows *_ref or *_refs references. A path
//     step [*] makes the comparison hold if any list element satisfies it.
//     A comparison on a property an object lacks is false, with or
//     without NOT.
//   - Observation expressions joined by AND, OR and FOLLOWEDBY bind
//     distinct observations; an observed-data object with number_observed
//     n counts as n observations. FOLLOWEDBY requires that timestamps can
//     be chosen within each observation's first_observed..last_observed
//     window so that the right side is not earlier than the left.
//   - WITHIN n SECONDS requires that such timestamps fit in a window of n
//     seconds; START/STOP requires each window to overlap [start, stop);
//     REPEATS n requires n disjoint bindings of its expression.
//   - LIKE and MATCHES compare NFC-normalised text. Equality does not
//     normalise: 'é' written precomposed and decomposed are different.
//
// MATCHES uses Go's RE2 syntax (package regexp), not PCRE or Python re:
// backreferences and lookaround are not supported (the pattern is
// rejected with an error), \d, \w, \s and \b are ASCII-only, and $ matches
// only at the very end of the text (Python's $ also matches before a
// final newline). LIKE keeps Python's behaviour for the final newline.
//
// The error, if any, is an *Error: a problem with the pattern that the
// reference matcher also refuses (an invalid regular expression, WITHIN
// 0, a malformed timestamp), a problem in the data (a string compared
// with a timestamp that is not one, a *_ref that is not a string), or the
// search budget running out (errors.Is(err, ErrBudget)).
func (p *Pattern) Match(obs []Observation) (MatchResult, error) {
	return p.MatchWith(obs, MatchOptions{})
}

// MatchWith is Match with options.
func (p *Pattern) MatchWith(obs []Observation, opt MatchOptions) (MatchResult, error) {
	pr, err := p.prepare()
	if err != nil {
		return MatchResult{}, err
	}
	m := &matcher{p: p, pr: pr, obs: obs, budget: opt.Budget}
	if m.budget <= 0 {
		m.budget = DefaultBudget
	}
	m.offsets = make([]int, len(obs)+1)
	for i := range obs {
		n := obs[i].NumberObserved
		if n < 1 {
			return MatchResult{}, matchError("observation %d (%s) has number_observed %d, want at least 1", i, obs[i].ID, n)
		}
		m.offsets[i+1] = m.offsets[i] + n
	}
	m.views = make([]*obsView, len(obs))
	for i := range obs {
		m.views[i] = obs[i].getView()
	}
	root, err := m.build(p.Root)
	if err != nil {
		return MatchResult{}, err
	}
	b, ok, err := root.at(0)
	if err != nil {
		return MatchResult{}, err
	}
	if !ok {
		return MatchResult{}, nil
	}
	return m.result(b), nil
}

// MatchOne is a convenience for matching a single observation.
func (p *Pattern) MatchOne(o *Observation) (bool, error) {
	r, err := p.Match([]Observation{*o})
	return r.Matched, err
}

type matcher struct {
	p       *Pattern
	pr      *prepared
	obs     []Observation
	views   []*obsView
	offsets []int // offsets[i] is the first expanded observation of obs[i]
	steps   int
	budget  int
}

func (m *matcher) charge(n int) error {
	m.steps += n
	if m.steps > m.budget {
		return &budgetError{steps: m.steps}
	}
	return nil
}

// sdo returns the index into obs of expanded observation x.
func (m *matcher) sdo(x int) int {
	return sort.Search(len(m.obs), func(i int) bool { return m.offsets[i+1] > x })
}

func (m *matcher) result(b []int) MatchResult {
	r := MatchResult{Matched: true}
	idx := make([]int, 0, len(b))
	for _, x := range b {
		idx = append(idx, m.sdo(x))
	}
	sort.Ints(idx)
	for i, x := range idx {
		if i > 0 && idx[i-1] == x {
			continue
		}
		r.Indices = append(r.Indices, x)
		r.IDs = append(r.IDs, m.obs[x].ID)
	}
	return r
}

// stream is an ordered, lazily computed sequence of bindings. A binding
// lists expanded observation indices, one per bracketed expression bound.
type stream interface {
	at(i int) ([]int, bool, error)
	// known returns the length if the sequence is fully computed.
	known() (int, bool)
}

// leafStream is the bindings of one bracketed expression: its passing
// observations, each expanded number_observed times.
type leafStream struct {
	m     *matcher
	sdos  []int // passing observations, in reference order
	cum   []int // cum[i] = expanded count of sdos[:i]
	total int
}

func (l *leafStream) at(i int) ([]int, bool, error) {
	if i >= l.total {
		return nil, false, nil
	}
	if err := l.m.charge(1); err != nil {
		return nil, false, err
	}
	k := sort.Search(len(l.sdos), func(j int) bool { return l.cum[j+1] > i })
	return []int{l.m.offsets[l.sdos[k]] + i - l.cum[k]}, true, nil
}

func (l *leafStream) known() (int, bool) { return l.total, true }

// memo caches the bindings a generator produces.
type memo struct {
	items [][]int
	done  bool
	gen   func() ([]int, bool, error)
}

func (s *memo) at(i int) ([]int, bool, error) {
	for len(s.items) <= i && !s.done {
		b, ok, err := s.gen()
		if err != nil {
			return nil, false, err
		}
		if !ok {
			s.done = true
			break
		}
		s.items = append(s.items, b)
	}
	if i < len(s.items) {
		return s.items[i], true, nil
	}
	return nil, false, nil
}

func (s *memo) known() (int, bool) { return len(s.items), s.done }

// build evaluates every bracket against every observation (so errors in
// the data surface as they would in the reference matcher) and assembles
// the lazy binding streams.
func (m *matcher) build(e ObservationExpr) (stream, error) {
	switch e := e.(type) {
	case *ObservationBracket:
		order, err := m.evalBracket(e.Expr)
		if err != nil {
			return nil, err
		}
		l := &leafStream{m: m, sdos: order, cum: make([]int, len(order)+1)}
		for i, s := range order {
			l.cum[i+1] = l.cum[i] + m.obs[s].NumberObserved
		}
		l.total = l.cum[len(order)]
		return l, nil
	case *ObservationBinary:
		left, err := m.build(e.Left)
		if err != nil {
			return nil, err
		}
		right, err := m.build(e.Right)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case ObsOr:
			return m.or(left, right), nil
		case ObsAnd:
			return m.join(left, right, false), nil
		}
		return m.join(left, right, true), nil
	case *ObservationQualified:
		in, err := m.build(e.Expr)
		if err != nil {
			return nil, err
		}
		switch e.Kind {
		case QualRepeats:
			if e.Times == 1 {
				return in, nil
			}
			return m.repeats(in, e.Times), nil
		case QualWithin:
			d := durationOf(e.Seconds)
			return m.filter(in, func(b []int) bool { return m.within(b, d) }), nil
		case QualStartStop:
			start, stop := e.Start, e.Stop
			if !start.Before(stop) {
				return &memo{done: true}, nil
			}
			return m.filter(in, func(b []int) bool {
				for _, x := range b {
					o := &m.obs[m.sdo(x)]
					if !(o.FirstObserved.Before(stop) && !start.After(o.LastObserved)) {
						return false
					}
				}
				return true
			}), nil
		}
	}
	return &memo{done: true}, nil
}

// evalBracket returns the observations satisfying a comparison
// expression, ordered as the reference matcher orders them: ascending for
// a single comparison, the left operand's order for AND, and the left
// operand's followed by the right's new ones for OR.
func (m *matcher) evalBracket(e ComparisonExpr) ([]int, error) {
	order, _, err := m.evalAll(e)
	return order, err
}

// evalAll evaluates e against every observation, returning the root-object
// sets per observation and the reference order of the passing ones.
func (m *matcher) evalAll(e ComparisonExpr) ([]int, []bitset, error) {
	if b, ok := e.(*ComparisonBinary); ok {
		lo, ls, err := m.evalAll(b.Left)
		if err != nil {
			return nil, nil, err
		}
		ro, rs, err := m.evalAll(b.Right)
		if err != nil {
			return nil, nil, err
		}
		var out []int
		for i := range ls {
			for w := range ls[i] {
				if b.Op == BoolAnd {
					ls[i][w] &= rs[i][w]
				} else {
					ls[i][w] |= rs[i][w]
				}
			}
		}
		if b.Op == BoolAnd {
			for _, x := range lo {
				if !ls[x].empty() {
					out = append(out, x)
				}
			}
			return out, ls, nil
		}
		seen := make([]bool, len(ls))
		out = append(out, lo...)
		for _, x := range lo {
			seen[x] = true
		}
		for _, x := range ro {
			if !seen[x] {
				out = append(out, x)
			}
		}
		return out, ls, nil
	}
	sets := make([]bitset, len(m.obs))
	var order []int
	for i := range m.obs {
		if err := m.charge(1); err != nil {
			return nil, nil, err
		}
		s, err := m.p.evalCmp(m.pr, e, &m.obs[i], m.views[i])
		if err != nil {
			return nil, nil, err
		}
		sets[i] = s
		if !s.empty() {
			order = append(order, i)
		}
	}
	return order, sets, nil
}

func disjoint(a, b []int) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return false
			}
		}
	}
	return true
}

func concat(a, b []int) []int {
	out := make([]int, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// or yields the left bindings, then the right ones.
func (m *matcher) or(l, r stream) stream {
	i, j := 0, 0
	return &memo{gen: func() ([]int, bool, error) {
		if b, ok, err := l.at(i); err != nil || ok {
			i++
			return b, ok, err
		}
		b, ok, err := r.at(j)
		j++
		return b, ok, err
	}}
}

// join yields, for each left binding in order, each right binding that
// uses different observations (and, for FOLLOWEDBY, can come after it).
func (m *matcher) join(l, r stream, followed bool) stream {
	i, j := 0, 0
	var latestFirst time.Time
	return &memo{gen: func() ([]int, bool, error) {
		for {
			lb, ok, err := l.at(i)
			if err != nil || !ok {
				return nil, false, err
			}
			if j == 0 {
				if _, ok, err := r.at(0); err != nil || !ok {
					return nil, false, err
				}
				if followed {
					latestFirst = time.Time{}
					for k, x := range lb {
						t := m.obs[m.sdo(x)].FirstObserved
						if k == 0 || t.After(latestFirst) {
							latestFirst = t
						}
					}
				}
			}
			rb, ok, err := r.at(j)
			if err != nil {
				return nil, false, err
			}
			if !ok {
				i, j = i+1, 0
				continue
			}
			j++
			if err := m.charge(1 + len(lb)*len(rb)/16); err != nil {
				return nil, false, err
			}
			if !disjoint(lb, rb) {
				continue
			}
			if followed {
				var earliestLast time.Time
				for k, x := range rb {
					t := m.obs[m.sdo(x)].LastObserved
					if k == 0 || t.Before(earliestLast) {
						earliestLast = t
					}
				}
				if latestFirst.After(earliestLast) {
					continue
				}
			}
			return concat(lb, rb), true, nil
		}
	}}
}

// filter keeps the bindings satisfying keep.
func (m *matcher) filter(in stream, keep func([]int) bool) stream {
	i := 0
	return &memo{gen: func() ([]int, bool, error) {
		for {
			b, ok, err := in.at(i)
			if err != nil || !ok {
				return nil, false, err
			}
			i++
			if err := m.charge(1 + len(b)/16); err != nil {
				return nil, false, err
			}
			if keep(b) {
				return b, true, nil
			}
		}
	}}
}

// within reports whether timestamps can be picked from each observation's
// window so that all lie within d of each other.
func (m *matcher) within(b []int, d time.Duration) bool {
	var earliestLast, latestFirst time.Time
	for k, x := range b {
		o := &m.obs[m.sdo(x)]
		if k == 0 || o.LastObserved.Before(earliestLast) {
			earliestLast = o.LastObserved
		}
		if k == 0 || o.FirstObserved.After(latestFirst) {
			latestFirst = o.FirstObserved
		}
	}
	return !latestFirst.After(earliestLast.Add(d))
}

// repeats yields the combinations of n pairwise-disjoint bindings of in,
// in lexicographic order of their positions, each flattened.
func (m *matcher) repeats(in stream, n int) stream {
	var idx []int
	used := map[int]int{}
	cand := 0
	started := false
	add := func(b []int, d int) {
		for _, x := range b {
			used[x] += d
			if used[x] == 0 {
				delete(used, x)
			}
		}
	}
	pop := func() error {
		last := idx[len(idx)-1]
		idx = idx[:len(idx)-1]
		b, _, err := in.at(last)
		if err != nil {
			return err
		}
		add(b, -1)
		cand = last + 1
		return nil
	}
	return &memo{gen: func() ([]int, bool, error) {
		if started {
			if err := pop(); err != nil {
				return nil, false, err
			}
		}
		started = true
		for {
			if len(idx) == n {
				var out []int
				for _, k := range idx {
					b, _, _ := in.at(k)
					out = append(out, b...)
				}
				if err := m.charge(1 + len(out)/16); err != nil {
					return nil, false, err
				}
				return out, true, nil
			}
			if err := m.charge(1); err != nil {
				return nil, false, err
			}
			// Not enough bindings left to complete the combination.
			exhausted := false
			if total, done := in.known(); done && total-cand < n-len(idx) {
				exhausted = true
			}
			var b []int
			if !exhausted {
				var ok bool
				var err error
				b, ok, err = in.at(cand)
				if err != nil {
					return nil, false, err
				}
				exhausted = !ok
			}
			if exhausted {
				if len(idx) == 0 {
					return nil, false, nil
				}
				if err := pop(); err != nil {
					return nil, false, err
				}
				continue
			}
			free := true
			for _, x := range b {
				if used[x] > 0 {
					free = false
					break
				}
			}
			if free {
				idx = append(idx, cand)
				add(b, 1)
			}
			cand++
		}
	}}
}
