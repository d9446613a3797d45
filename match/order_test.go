package match_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/match"
)

// TestMatchIndependentOfComparisonOrder is issue 16's "match misses
// indicators depending on the order of the comparisons": the demo's
// beacon pattern, with its three comparisons in every order, fires on an
// ECS and a Zeek event with that address and port, and on neither when
// the port or the address differs.
func TestMatchIndependentOfComparisonOrder(t *testing.T) {
	cmps := []string{
		"network-traffic:dst_ref.type = 'ipv4-addr'",
		"network-traffic:dst_ref.value = '203.0.113.31'",
		"network-traffic:dst_port = 8443",
	}
	perms := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	var objs []string
	var want []string
	for i, p := range perms {
		pat := "[" + cmps[p[0]] + " AND " + cmps[p[1]] + " AND " + cmps[p[2]] + "]"
		objs = append(objs, ind(i+1, pat, ""))
		want = append(want, id(i+1))
	}
	ix := build(t, objs...)
	ecs := `{"source":{"ip":"10.0.0.5","port":51000},"destination":{"ip":"203.0.113.31","port":8443}}
{"source":{"ip":"10.0.0.5","port":51000},"destination":{"ip":"203.0.113.31","port":443}}
{"source":{"ip":"10.0.0.5","port":51000},"destination":{"ip":"203.0.113.32","port":8443}}
{"source":{"ip":"203.0.113.31","port":8443},"destination":{"ip":"10.0.0.5","port":51000}}
`
	zeek := "#separator \\x09\n#path\tconn\n#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\n" +
		"1767225600.0\t10.0.0.5\t51000\t203.0.113.31\t8443\n" +
		"1767225600.0\t10.0.0.5\t51000\t203.0.113.31\t443\n" +
		"1767225600.0\t10.0.0.5\t51000\t203.0.113.32\t8443\n" +
		"1767225600.0\t203.0.113.31\t8443\t10.0.0.5\t51000\n"
	for _, tc := range []struct {
		name   string
		format match.Format
		events string
		first  int // the line of the event that must fire
	}{
		{"ECS", match.JSONLines, ecs, 1},
		{"Zeek", match.Zeek, zeek, 4}, // after three header lines
	} {
		t.Run(tc.name, func(t *testing.T) {
			alerts, _ := runStream(t, ix, []byte(tc.events), match.StreamOptions{Format: tc.format})
			got := map[int][]string{}
			for _, a := range alerts {
				got[a.Line] = append(got[a.Line], a.Indicators...)
			}
			for line, ids := range got {
				slices.Sort(ids)
				if line != tc.first {
					t.Errorf("line %d fired %v; only line %d has that address and port", line, ids, tc.first)
				}
			}
			if !slices.Equal(got[tc.first], want) {
				t.Errorf("line %d fired %s, want every order:\n%s", tc.first, fmt.Sprint(got[tc.first]), strings.Join(want, "\n"))
			}
		})
	}
}
