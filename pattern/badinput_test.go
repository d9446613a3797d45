package pattern

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestHugePatternEndsInResult(t *testing.T) {
	var b strings.Builder
	b.WriteString("[ipv4-addr:value = '198.51.100.7']")
	for b.Len() < 1<<20 {
		b.WriteString(" OR [ipv4-addr:value = '203.0.113.1']")
	}
	p, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Match(sample(t))
	if err != nil && !errors.Is(err, ErrBudget) {
		t.Fatal(err)
	}
	if err == nil && !r.Matched {
		t.Fatal("a 1 MB OR chain whose first term matches did not match")
	}
	if s := p.String(); len(s) < 1<<20 {
		t.Fatalf("String() of a 1 MB pattern is only %d bytes", len(s))
	}
}

func TestHugeAndChainEndsInError(t *testing.T) {
	var b strings.Builder
	b.WriteString("[ipv4-addr:value = '198.51.100.7']")
	for b.Len() < 1<<20 {
		b.WriteString(" AND [ipv4-addr:value = '198.51.100.7']")
	}
	p, err := Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	obs := sample(t)
	obs[1].NumberObserved = 1 << 20
	r, err := p.Match(obs)
	if err == nil && r.Matched {
		t.Fatal("matched although each term needs its own observation")
	}
}

func TestHugeStringLiteral(t *testing.T) {
	src := "[file:name = '" + strings.Repeat("x", 1<<20) + "']"
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Match(sample(t)); err != nil {
		t.Fatal(err)
	}
}

func TestDeepNestingIsRejected(t *testing.T) {
	tests := map[string]string{
		"ObservationParens": strings.Repeat("(", 10000) + "[a:b = 1]" + strings.Repeat(")", 10000),
		"ComparisonParens":  "[" + strings.Repeat("(", 10000) + "a:b = 1" + strings.Repeat(")", 10000) + "]",
		"Unclosed":          strings.Repeat("(", 10000),
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(src)
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "nesting deeper than") {
				t.Fatalf("Parse = %v, want a nesting error", err)
			}
		})
	}
	ok := strings.Repeat("(", MaxDepth-1) + "[a:b = 1]" + strings.Repeat(")", MaxDepth-1)
	if _, err := Parse(ok); err != nil {
		t.Fatalf("nesting %d deep: %v", MaxDepth-1, err)
	}
}

// manyObservations returns n observations one second apart, each holding
// one person aged 10.
func manyObservations(n int) []Observation {
	obs := make([]Observation, n)
	base := time.Date(2004, 10, 11, 21, 44, 0, 0, time.UTC)
	for i := range obs {
		ts := base.Add(time.Duration(i) * time.Second)
		obs[i] = Observation{
			ID: fmt.Sprintf("observed-data--%d", i), FirstObserved: ts, LastObserved: ts, NumberObserved: 1,
			Objects: map[string]map[string]any{"0": {"type": "person", "age": float64(10)}},
		}
		obs[i].Prepare()
	}
	return obs
}

func TestExplodingPatternsEndInErrorOrResult(t *testing.T) {
	obs := manyObservations(40)
	tests := []string{
		"[person:age < 20] REPEATS 20 TIMES WITHIN 5 SECONDS",
		"([person:age < 20] FOLLOWEDBY [person:age < 20]) REPEATS 20 TIMES WITHIN 10 SECONDS",
		"([person:age < 20] REPEATS 5 TIMES) REPEATS 5 TIMES FOLLOWEDBY [person:age > 20]",
		"[person:age < 20] REPEATS 1000000 TIMES",
		"([person:age < 20] AND [person:age < 20] AND [person:age < 20]) REPEATS 14 TIMES",
	}
	for _, src := range tests {
		t.Run(src, func(t *testing.T) {
			p, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			r, err := p.MatchWith(obs, MatchOptions{Budget: 1_000_000})
			if err != nil && !errors.Is(err, ErrBudget) {
				t.Fatal(err)
			}
			if err == nil && r.Matched {
				t.Fatalf("matched: %v", r.IDs)
			}
		})
	}
}

func TestHugeNumberObservedIsBounded(t *testing.T) {
	obs := manyObservations(2)
	obs[0].NumberObserved = 1 << 40
	p := MustParse("[person:age < 20] REPEATS 3 TIMES START t'2000-01-01T00:00:00Z' STOP t'2000-01-02T00:00:00Z'")
	_, err := p.MatchWith(obs, MatchOptions{Budget: 100_000})
	if !errors.Is(err, ErrBudget) {
		t.Fatalf("Match = %v, want the budget error", err)
	}
}
