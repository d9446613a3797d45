package match_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/internal/eventgen"
	"github.com/cyberpact/cyberpact/match"
)

// testNow is the time every test judges scores and expiry at.
var testNow = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

func buildFrom(t testing.TB, bundle []byte) *match.Index {
	t.Helper()
	ix, err := match.Build(match.BundleIndicators(bytes.NewReader(bundle)), match.BuildOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

type alert struct {
	Event      json.RawMessage `json:"event"`
	Line       int             `json:"line"`
	Field      string          `json:"field"`
	Value      string          `json:"value"`
	Indicators []string        `json:"indicators"`
	Score      int             `json:"score"`
	Warning    string          `json:"warning"`
}

func runStream(t testing.TB, ix *match.Index, events []byte, opt match.StreamOptions) ([]alert, match.Summary) {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return testNow }
	}
	var out bytes.Buffer
	sum, err := match.Stream(context.Background(), match.NewMatcher(ix), bytes.NewReader(events), &out, opt)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []alert
	for _, l := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var a alert
		if err := json.Unmarshal(l, &a); err != nil {
			t.Fatalf("alert is not JSON: %v: %s", err, l)
		}
		alerts = append(alerts, a)
	}
	return alerts, sum
}

// TestKnownAnswers generates indicators and events where it is known which
// event must hit which indicator, values written in other forms (upper
// case, trailing dots, default ports, fragments, subdomains, addresses
// inside CIDR ranges, hashes in upper case, e-mail in arrays), and checks
// the alerts are exactly those: no false negatives, no false positives.
func TestKnownAnswers(t *testing.T) {
	cfg := eventgen.Config{Indicators: 20000, Events: 60000, HitRate: 0.3, Seed: 7, Variants: true}
	var ind, ev bytes.Buffer
	if err := eventgen.WriteIndicators(&ind, cfg); err != nil {
		t.Fatal(err)
	}
	var hits []eventgen.Hit
	if err := eventgen.WriteEvents(&ev, cfg, func(h eventgen.Hit) { hits = append(hits, h) }); err != nil {
		t.Fatal(err)
	}
	ix := buildFrom(t, ind.Bytes())
	if ix.Len() != cfg.Indicators {
		t.Fatalf("indexed %d indicators, want %d (stats %+v)", ix.Len(), cfg.Indicators, ix.Stats())
	}
	for _, tc := range []struct {
		name       string
		subdomains bool
		workers    int
	}{
		{"SubdomainsOn", true, 2},
		{"SubdomainsOff", false, 2},
		{"OneWorker", true, 1},
		{"ManyWorkers", true, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, h := range hits {
				if h.Subdomain && !tc.subdomains {
					continue
				}
				want[fmt.Sprintf("%d %s %s", h.Line, h.Field, h.ID)] = true
			}
			alerts, sum := runStream(t, ix, ev.Bytes(), match.StreamOptions{Subdomains: tc.subdomains, Workers: tc.workers})
			got := map[string]bool{}
			lastLine := 0
			for _, a := range alerts {
				if a.Line < lastLine {
					t.Fatalf("alert for line %d after line %d: output out of input order", a.Line, lastLine)
				}
				lastLine = a.Line
				for _, id := range a.Indicators {
					got[fmt.Sprintf("%d %s %s", a.Line, a.Field, id)] = true
				}
			}
			var missing, extra []string
			for k := range want {
				if !got[k] {
					missing = append(missing, k)
				}
			}
			for k := range got {
				if !want[k] {
					extra = append(extra, k)
				}
			}
			sort.Strings(missing)
			sort.Strings(extra)
			if len(missing) > 0 || len(extra) > 0 {
				t.Errorf("%d false negatives (first %q), %d false positives (first %q)", len(missing), missing[:min(5, len(missing))], len(extra), extra[:min(5, len(extra))])
			}
			if sum.Events != int64(cfg.Events) || sum.Broken != 0 {
				t.Errorf("summary %+v, want %d events and none broken", sum, cfg.Events)
			}
			if len(want) < 1000 {
				t.Errorf("only %d expected hits; the generator is not exercising the matcher", len(want))
			}
		})
	}
}
