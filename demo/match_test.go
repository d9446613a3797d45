package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/pattern"
)

// eventFor makes an event satisfying the first alternative of pattern p:
// for each comparison, the field of fields that stands for its path,
// holding a value the comparison accepts. Comparisons on the type of
// what a reference points to are left to the value (an IPv4 address is an
// ipv4-addr). It reports false when a comparison names a path no field
// stands for, or an operator it cannot satisfy.
func eventFor(p *pattern.Pattern, fields *match.Fields) (map[string]any, error) {
	byPath := map[string]match.Field{}
	for _, f := range fields.List() {
		if _, dup := byPath[f.Path]; !dup && f.Path != "" {
			byPath[f.Path] = f
		}
	}
	ev := map[string]any{}
	var walk func(e pattern.ComparisonExpr) error
	walk = func(e pattern.ComparisonExpr) error {
		switch e := e.(type) {
		case *pattern.ComparisonBinary:
			if e.Op == pattern.BoolOr {
				return walk(e.Left)
			}
			if err := walk(e.Left); err != nil {
				return err
			}
			return walk(e.Right)
		case *pattern.Comparison:
			if e.Negated {
				return fmt.Errorf("NOT %s", e.Path)
			}
			path := e.Path.String()
			if strings.HasSuffix(path, "_ref.type") {
				return nil // the address value decides the type
			}
			if e.Path.Type == "ipv6-addr" {
				path = "ipv4-addr" + strings.TrimPrefix(path, "ipv6-addr") // the map's address fields hold both
			}
			f, ok := byPath[path]
			if !ok {
				return fmt.Errorf("no field stands for %s", path)
			}
			var v any
			switch e.Op {
			case pattern.OpEq:
				switch e.Value.Kind {
				case pattern.LitString:
					v = e.Value.Str
				case pattern.LitInt:
					v = e.Value.Int
				default:
					return fmt.Errorf("literal %s", e.Value)
				}
			case pattern.OpIn:
				v = e.List[0].Str
				if e.List[0].Kind == pattern.LitInt {
					v = e.List[0].Int
				}
			case pattern.OpLike:
				v = strings.NewReplacer("%", "x", "_", "y").Replace(e.Value.Str)
			case pattern.OpIsSubset:
				pfx, err := netip.ParsePrefix(e.Value.Str)
				if err != nil {
					return err
				}
				v = pfx.Addr().Next().String()
			default:
				return fmt.Errorf("operator %s", e.Op)
			}
			ev[f.Name] = v
		}
		return nil
	}
	root := p.Root
	for {
		switch r := root.(type) {
		case *pattern.ObservationBinary:
			root = r.Left
			continue
		case *pattern.ObservationQualified:
			root = r.Expr
			continue
		case *pattern.ObservationBracket:
			return ev, walk(r.Expr)
		}
		return nil, fmt.Errorf("unexpected %T", root)
	}
}

// TestDemoIndicatorsFire makes, for every current indicator the demo
// seeds, an ECS event and a Zeek line from its own pattern, and checks
// that match fires that indicator on it: issue 16 found 15 of 56 that
// could never fire on default input (comparison order, email.subject).
func TestDemoIndicatorsFire(t *testing.T) {
	raw, err := Bundle(1, now)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := match.Build(match.BundleIndicators(bytes.NewReader(raw)), match.BuildOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	// The current version of each indicator, as the index keeps it.
	var doc struct {
		Objects []struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Pattern  string `json:"pattern"`
			Modified string `json:"modified"`
			Revoked  bool   `json:"revoked"`
		} `json:"objects"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	type ind struct{ pattern, modified string }
	latest := map[string]ind{}
	revoked := map[string]bool{}
	for _, o := range doc.Objects {
		if o.Type != "indicator" {
			continue
		}
		if cur, ok := latest[o.ID]; !ok || o.Modified > cur.modified {
			latest[o.ID] = ind{o.Pattern, o.Modified}
			revoked[o.ID] = o.Revoked
		}
	}
	if len(latest) < 40 {
		t.Fatalf("the demo seeds %d indicators; expected dozens", len(latest))
	}
	if st := ix.Stats(); st.Indicators+st.Revoked != len(latest) {
		t.Errorf("index stats %+v for %d indicators", st, len(latest))
	}
	for _, format := range []struct {
		name   string
		format match.Format
		fields *match.Fields
	}{{"ECS", match.JSONLines, match.ECSFields()}, {"Zeek", match.Zeek, match.ZeekFields()}} {
		t.Run(format.name, func(t *testing.T) {
			var in strings.Builder
			var ids []string
			line := 0
			if format.format == match.Zeek {
				in.WriteString("#separator \\x09\n")
				line++
			}
			lineOf := map[string]int{}
			https := 0 // URLs that no http.log line can show
			for id, in2 := range latest {
				if revoked[id] {
					continue
				}
				p, err := pattern.Parse(in2.pattern)
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				ev, err := eventFor(p, format.fields)
				if err != nil {
					t.Errorf("%s: no event for %s: %v", id, in2.pattern, err)
					continue
				}
				if format.format == match.Zeek {
					if u, ok := ev["host+uri"].(string); ok {
						// http.log has a URL as its host and uri columns,
						// and shows cleartext HTTP only.
						pu, err := url.Parse(u)
						if err != nil {
							t.Fatalf("%s: %v", id, err)
						}
						if pu.Scheme != "http" {
							https++
							continue
						}
						delete(ev, "host+uri")
						ev["host"], ev["uri"] = pu.Host, pu.RequestURI()
					}
					var cols, vals []string
					for k, v := range ev {
						cols = append(cols, k)
						vals = append(vals, fmt.Sprint(v))
					}
					in.WriteString("#fields\t" + strings.Join(cols, "\t") + "\n" + strings.Join(vals, "\t") + "\n")
					line += 2
				} else {
					b, _ := json.Marshal(ev)
					in.Write(append(b, '\n'))
					line++
				}
				lineOf[id] = line
				ids = append(ids, id)
			}
			var out bytes.Buffer
			_, err := match.Stream(context.Background(), match.NewMatcher(ix), strings.NewReader(in.String()), &out,
				match.StreamOptions{Format: format.format, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			fired := map[string]map[int]bool{}
			for _, l := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
				var a struct {
					Line       int      `json:"line"`
					Indicators []string `json:"indicators"`
				}
				if err := json.Unmarshal(l, &a); err != nil {
					t.Fatalf("alert %s: %v", l, err)
				}
				for _, id := range a.Indicators {
					if fired[id] == nil {
						fired[id] = map[int]bool{}
					}
					fired[id][a.Line] = true
				}
			}
			for _, id := range ids {
				if !fired[id][lineOf[id]] {
					t.Errorf("%s (%s) did not fire on its own event, line %d:\n%s", id, latest[id].pattern, lineOf[id],
						strings.Split(in.String(), "\n")[lineOf[id]-1])
				}
			}
			t.Logf("%d indicators fired on their own events (%d revoked, %d HTTPS URLs that Zeek's http.log cannot show)", len(ids), countTrue(revoked), https)
			if len(ids) == 0 {
				t.Fatal("no indicator tried")
			}
		})
	}
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
