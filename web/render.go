package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Every value rendered here is escaped with html.EscapeString before it is
// put in markup; links are made only to the hub's own object pages (the id
// path-escaped) and to http(s) URLs.

// prop is one property of an object as its page shows it.
type prop struct {
	Name  string
	Value template.HTML
}

// propOrder puts the common properties first; the rest follow by name.
var propOrder = []string{"type", "id", "spec_version", "name", "description", "pattern", "pattern_type", "valid_from",
	"valid_until", "created", "modified", "created_by_ref", "labels"}

// props renders the properties of an object.
func props(m map[string]any) []prop {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		if i := slices.Index(propOrder, k); i >= 0 {
			return i
		}
		return len(propOrder)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	out := make([]prop, len(keys))
	for i, k := range keys {
		out[i] = prop{Name: k, Value: renderProp(k, m[k])}
	}
	return out
}

var esc = html.EscapeString

// objectLink links to the hub's page of id.
func objectLink(id string) string {
	return `<a href="/objects/` + esc(url.PathEscape(id)) + `"><code>` + esc(id) + `</code></a>`
}

// safeURL reports whether u is an http(s) URL, the only links followed.
func safeURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != ""
}

func externalLink(u, text string) string {
	return `<a href="` + esc(u) + `" rel="noopener noreferrer">` + esc(text) + `</a>`
}

// renderProp renders one property by its name and type.
func renderProp(k string, v any) template.HTML {
	switch {
	case k == "pattern":
		if s, ok := v.(string); ok {
			return template.HTML(`<code class="pattern">` + highlightPattern(s) + `</code>`)
		}
	case strings.HasSuffix(k, "_ref"):
		if s, ok := v.(string); ok {
			return template.HTML(objectLink(s))
		}
	case strings.HasSuffix(k, "_refs"):
		if l, ok := v.([]any); ok {
			var b strings.Builder
			b.WriteString(`<ul class="refs">`)
			for _, x := range l {
				if s, ok := x.(string); ok {
					b.WriteString("<li>" + objectLink(s) + "</li>")
				}
			}
			return template.HTML(b.String() + "</ul>")
		}
	case k == "external_references":
		if l, ok := v.([]any); ok {
			return template.HTML(externalRefs(l))
		}
	case k == "kill_chain_phases":
		if l, ok := v.([]any); ok {
			var b strings.Builder
			b.WriteString("<ul>")
			for _, x := range l {
				if m, ok := x.(map[string]any); ok {
					fmt.Fprintf(&b, "<li>%s: <strong>%s</strong></li>", esc(str(m["kill_chain_name"])), esc(str(m["phase_name"])))
				}
			}
			return template.HTML(b.String() + "</ul>")
		}
	case k == "hashes":
		if m, ok := v.(map[string]any); ok {
			var b strings.Builder
			b.WriteString(`<dl class="hashes">`)
			for _, alg := range sortedKeys(m) {
				fmt.Fprintf(&b, "<dt>%s</dt><dd><code>%s</code></dd>", esc(alg), esc(str(m[alg])))
			}
			return template.HTML(b.String() + "</dl>")
		}
	}
	switch x := v.(type) {
	case string:
		return template.HTML(`<span class="text">` + esc(x) + `</span>`)
	case bool, float64, json.Number:
		return template.HTML(esc(fmt.Sprint(x)))
	case []any:
		if allStrings(x) {
			parts := make([]string, len(x))
			for i, s := range x {
				parts[i] = esc(s.(string))
			}
			return template.HTML(strings.Join(parts, ", "))
		}
	}
	return template.HTML("<pre>" + esc(indentJSON(v)) + "</pre>")
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func allStrings(l []any) bool {
	for _, x := range l {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func indentJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	return strings.TrimSpace(buf.String())
}

// attackID and capecID recognise ATT&CK technique and CAPEC ids.
var (
	attackID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	capecID  = regexp.MustCompile(`^CAPEC-(\d+)$`)
)

// externalRefs renders external references, linking each to its URL, or
// an ATT&CK technique or CAPEC entry without one to its page.
func externalRefs(l []any) string {
	var b strings.Builder
	b.WriteString(`<ul class="extrefs">`)
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		src, id, u := str(m["source_name"]), str(m["external_id"]), str(m["url"])
		text := src
		if id != "" {
			text += " " + id
		}
		if u == "" {
			switch {
			case attackID.MatchString(id):
				u = "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/"
			case capecID.MatchString(id):
				u = "https://capec.mitre.org/data/definitions/" + capecID.FindStringSubmatch(id)[1] + ".html"
			}
		}
		b.WriteString("<li>")
		if safeURL(u) {
			b.WriteString(externalLink(u, text))
		} else {
			b.WriteString(esc(text))
		}
		if d := str(m["description"]); d != "" {
			b.WriteString(" — " + esc(d))
		}
		b.WriteString("</li>")
	}
	return b.String() + "</ul>"
}

// patternToken splits a STIX pattern into quoted strings, and the rest.
var patternToken = regexp.MustCompile(`'(?:[^'\\]|\\.)*'|\b(?:AND|OR|NOT|FOLLOWEDBY|WITHIN|START|STOP|REPEATS|TIMES|SECONDS|LIKE|MATCHES|ISSUBSET|ISSUPERSET|IN|EXISTS)\b`)

// highlightPattern marks a pattern's strings and keywords.
func highlightPattern(p string) string {
	var b strings.Builder
	last := 0
	for _, m := range patternToken.FindAllStringIndex(p, -1) {
		b.WriteString(esc(p[last:m[0]]))
		tok := p[m[0]:m[1]]
		class := "kw"
		if tok[0] == '\'' {
			class = "str"
		}
		b.WriteString(`<span class="` + class + `">` + esc(tok) + `</span>`)
		last = m[1]
	}
	b.WriteString(esc(p[last:]))
	return b.String()
}

// diffRow is one property that differs between two versions.
type diffRow struct {
	Name     string
	Old, New string // the values as JSON, "" when absent
	Change   string // "added", "removed" or "changed"
}

// diff lists the top-level properties that differ between two versions.
func diff(a, b json.RawMessage) ([]diffRow, error) {
	var ma, mb map[string]any
	if err := json.Unmarshal(a, &ma); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &mb); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for k := range ma {
		keys[k] = true
	}
	for k := range mb {
		keys[k] = true
	}
	var out []diffRow
	for _, k := range sortedKeys(map[string]any(func() map[string]any {
		m := map[string]any{}
		for k := range keys {
			m[k] = nil
		}
		return m
	}())) {
		va, ina := ma[k]
		vb, inb := mb[k]
		row := diffRow{Name: k}
		switch {
		case ina && !inb:
			row.Old, row.Change = indentJSON(va), "removed"
		case !ina && inb:
			row.New, row.Change = indentJSON(vb), "added"
		default:
			row.Old, row.New = indentJSON(va), indentJSON(vb)
			if row.Old == row.New {
				continue
			}
			row.Change = "changed"
		}
		out = append(out, row)
	}
	return out, nil
}

// graphSVG draws an object and its neighbours: the object in the middle,
// each neighbour (at most 24) on a circle around it, linked to its page,
// each edge labelled with the relationship's type and pointing from source
// to target. Following a neighbour's link shows its own neighbours: that
// is how the graph expands, with no script.
func graphSVG(name string, rels []relRow) template.HTML {
	const w, hgt, cx, cy, radius = 720, 480, 360, 240, 190
	type node struct {
		id, name string
		x, y     float64
	}
	var nodes []node
	idx := map[string]int{}
	for _, r := range rels {
		if r.Other == "" || len(nodes) == 24 {
			continue
		}
		if _, ok := idx[r.Other]; !ok {
			idx[r.Other] = len(nodes)
			n := r.OtherName
			if n == "" {
				n = r.Other
			}
			nodes = append(nodes, node{id: r.Other, name: n})
		}
	}
	if len(nodes) == 0 {
		return ""
	}
	for i := range nodes {
		a := 2*math.Pi*float64(i)/float64(len(nodes)) - math.Pi/2
		nodes[i].x, nodes[i].y = cx+radius*math.Cos(a), cy+radius*0.8*math.Sin(a)
	}
	short := func(s string) string {
		if r := []rune(s); len(r) > 28 {
			return string(r[:27]) + "…"
		}
		return s
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="graph" viewBox="0 0 %d %d" role="group" aria-labelledby="graph-title"><title id="graph-title">%s and the objects it is related to</title>`, w, hgt, esc(name))
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#555"/></marker></defs>`)
	seen := map[string]bool{}
	for _, r := range rels {
		i, ok := idx[r.Other]
		if !ok || seen[r.Other+r.Type] {
			continue
		}
		seen[r.Other+r.Type] = true
		n := nodes[i]
		x1, y1, x2, y2 := float64(cx), float64(cy), n.x, n.y
		if !r.Outgoing {
			x1, y1, x2, y2 = n.x, n.y, cx, cy
		}
		// stop short of the node's label
		dx, dy := x2-x1, y2-y1
		l := math.Hypot(dx, dy)
		x2, y2 = x2-dx/l*30, y2-dy/l*30
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#555" marker-end="url(#arrow)"/>`, x1, y1, x2, y2)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="edge" text-anchor="middle">%s</text>`, (x1+x2)/2, (y1+y2)/2-4, esc(r.Type))
	}
	fmt.Fprintf(&b, `<g class="node self"><circle cx="%d" cy="%d" r="8"/><text x="%d" y="%d" text-anchor="middle">%s</text></g>`, cx, cy, cx, cy-14, esc(short(name)))
	for _, n := range nodes {
		fmt.Fprintf(&b, `<a href="/objects/%s"><g class="node"><circle cx="%.0f" cy="%.0f" r="6"/><text x="%.0f" y="%.0f" text-anchor="middle">%s</text></g></a>`,
			esc(url.PathEscape(n.id)), n.x, n.y, n.x, n.y-10, esc(short(n.name)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
