package privacy_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/privacy"
)

// score counts one detector's findings against the labels.
type score struct{ tp, fp, fn int }

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

// tally compares found with want (both "kind\x00where\x00value" keys,
// counted) and adds to scores by kind; it returns what was missed and
// what was wrongly found, for the log.
func tally(scores map[string]*score, found, want []string) (missed, wrong []string) {
	left := map[string]int{}
	for _, w := range want {
		left[w]++
	}
	for _, f := range found {
		k := strings.SplitN(f, "\x00", 2)[0]
		if scores[k] == nil {
			scores[k] = &score{}
		}
		if left[f] > 0 {
			left[f]--
			scores[k].tp++
		} else {
			scores[k].fp++
			wrong = append(wrong, f)
		}
	}
	for w, n := range left {
		k := strings.SplitN(w, "\x00", 2)[0]
		if scores[k] == nil {
			scores[k] = &score{}
		}
		scores[k].fn += n
		for range n {
			missed = append(missed, w)
		}
	}
	return missed, wrong
}

var mark = regexp.MustCompile(`\[(email|phone|name|address):([^\]]+)\]`)

// TestDetectorsOverCorpus measures each detector's precision and recall
// over testdata/corpus.txt (labelled free text, negatives included) and
// testdata/objects.jsonl (labelled STIX objects, read as one import so that
// what earlier objects say of attackers counts), prints the figures, and
// holds them above floors a little under what the heuristics reach today
// (see the README's "Personal data"): recall is what protects people, so
// its floors are the higher; names, found by heuristics without a model,
// have the lowest.
func TestDetectorsOverCorpus(t *testing.T) {
	scores := map[string]*score{}
	f, err := os.Open("testdata/corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	snippets := 0
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		snippets++
		var want []string
		text := mark.ReplaceAllStringFunc(line, func(m string) string {
			p := mark.FindStringSubmatch(m)
			want = append(want, p[1]+"\x00\x00"+p[2])
			return p[2]
		})
		var found []string
		for _, fd := range privacy.FindText(text, privacy.All()) {
			if text[fd.Start:fd.End] != fd.Value {
				t.Errorf("line %d: finding %q at %d:%d does not match the text", n, fd.Value, fd.Start, fd.End)
			}
			found = append(found, string(fd.Kind)+"\x00\x00"+fd.Value)
		}
		missed, wrong := tally(scores, found, want)
		for _, m := range missed {
			t.Logf("corpus line %d: missed %s", n, strings.ReplaceAll(m, "\x00", " "))
		}
		for _, w := range wrong {
			t.Logf("corpus line %d: wrongly found %s", n, strings.ReplaceAll(w, "\x00", " "))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	of, err := os.Open("testdata/objects.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	osc := bufio.NewScanner(of)
	osc.Buffer(nil, 1<<20)
	var c privacy.Context
	objects := 0
	for n := 1; osc.Scan(); n++ {
		var item struct {
			Object map[string]any
			Expect []struct{ Kind, Path, Value string }
		}
		if err := json.Unmarshal(osc.Bytes(), &item); err != nil {
			t.Fatalf("objects.jsonl line %d: %v", n, err)
		}
		objects++
		c.Learn(item.Object)
		var found, want []string
		for _, fd := range privacy.FindObject(item.Object, privacy.All(), &c) {
			found = append(found, string(fd.Kind)+"\x00"+fd.Path+"\x00"+fd.Value)
		}
		for _, e := range item.Expect {
			want = append(want, e.Kind+"\x00"+e.Path+"\x00"+e.Value)
		}
		missed, wrong := tally(scores, found, want)
		for _, m := range missed {
			t.Logf("objects line %d: missed %s", n, strings.ReplaceAll(m, "\x00", " "))
		}
		for _, w := range wrong {
			t.Logf("objects line %d: wrongly found %s", n, strings.ReplaceAll(w, "\x00", " "))
		}
	}
	if snippets < 150 {
		t.Errorf("the corpus has %d snippets; it should keep at least 150", snippets)
	}
	floors := map[string][2]float64{ // precision, recall
		"email":      {0.85, 0.90},
		"phone":      {0.90, 0.90},
		"name":       {0.80, 0.80},
		"account":    {0.75, 0.90},
		"individual": {1, 1},
		"address":    {0.85, 0.85},
	}
	kinds := make([]string, 0, len(scores))
	for k := range scores {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var table strings.Builder
	fmt.Fprintf(&table, "%d snippets, %d objects\n%-10s %4s %4s %4s %9s %6s\n", snippets, objects, "detector", "tp", "fp", "fn", "precision", "recall")
	for _, k := range kinds {
		s := scores[k]
		fmt.Fprintf(&table, "%-10s %4d %4d %4d %9.3f %6.3f\n", k, s.tp, s.fp, s.fn, s.precision(), s.recall())
		fl, ok := floors[k]
		if !ok {
			t.Errorf("no floor for detector %s", k)
			continue
		}
		if s.precision() < fl[0] || s.recall() < fl[1] {
			t.Errorf("%s: precision %.3f (floor %.2f), recall %.3f (floor %.2f)", k, s.precision(), fl[0], s.recall(), fl[1])
		}
	}
	for k := range floors {
		if scores[k] == nil || scores[k].tp == 0 {
			t.Errorf("detector %s found nothing in the corpus", k)
		}
	}
	t.Logf("precision and recall per detector:\n%s", table.String())
	fmt.Print(table.String())
}
