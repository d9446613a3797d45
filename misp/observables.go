package misp

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact/stix"
)

// node is a cyber observable under construction. Its props hold strings,
// int64s, maps, lists, and *node for references, replaced by ids once
// every property is known (deterministic ids depend on them).
type node struct {
	typ   string
	props map[string]any
}

// buildObservables makes cyber observables that hold the comparisons'
// values: each comparison's value lands at its path in the last observable
// of its type that has no value there yet, or in a new one. It returns the
// observables (valid STIX, each checked) and the ids of the roots in
// order, or ok false when the result would not be valid STIX.
func buildObservables(cs []comparison, seed string) (objs []map[string]any, roots []string, ok bool) {
	var top []*node
	for _, c := range cs {
		segs, err := splitPath(c.f.path)
		if err != nil {
			return nil, nil, false
		}
		var v any = c.value
		switch c.kind {
		case litInt:
			n, err := strconv.ParseInt(c.value, 10, 64)
			if err != nil {
				return nil, nil, false
			}
			v = n
		case litFloat:
			x, err := strconv.ParseFloat(c.value, 64)
			if err != nil {
				return nil, nil, false
			}
			v = x
		}
		// A value goes to the last observable of its type, a list item
		// (protocols[*]) to the first, so that defaults given to the
		// others later (protocols tcp) do not come before it.
		placed := false
		if len(segs) == 1 && segs[0].list {
			for _, n := range top {
				if n.typ == c.f.obj {
					placed = setIn(n.props, segs, v)
					break
				}
			}
		} else {
			for i := len(top) - 1; i >= 0; i-- {
				if top[i].typ == c.f.obj {
					placed = setIn(top[i].props, segs, v)
					break
				}
			}
		}
		if !placed {
			n := &node{typ: c.f.obj, props: map[string]any{}}
			if !setIn(n.props, segs, v) {
				return nil, nil, false
			}
			top = append(top, n)
		}
	}
	seq := 0
	var finish func(n *node) string
	finish = func(n *node) string {
		props := resolve(n.props, finish).(map[string]any)
		props["type"] = n.typ
		props["spec_version"] = "2.1"
		switch n.typ {
		case "network-traffic":
			if _, has := props["protocols"]; !has {
				props["protocols"] = []any{"tcp"}
			}
		case "email-message":
			parts, multi := props["body_multipart"].([]any)
			props["is_multipart"] = multi
			if body, has := props["body"]; has && multi {
				// A multipart message has its body as its first part
				// (flatten reads it back as body).
				props["body_multipart"] = append([]any{map[string]any{"body": body, "content_type": "text/plain"}}, parts...)
				delete(props, "body")
			}
		}
		id, det := stix.SCOID(props)
		if !det {
			seq++
			id = n.typ + "--" + uuidHash(seed, "sco:"+strconv.Itoa(seq), 4)
		}
		props["id"] = id
		objs = append(objs, props)
		return id
	}
	for _, n := range top {
		roots = append(roots, finish(n))
	}
	for _, m := range objs {
		if !validMap(m) {
			return nil, nil, false
		}
	}
	// Referenced observables were finished before the ones referring to
	// them; the observed-data lists roots first, then the others.
	seen := map[string]bool{}
	for _, r := range roots {
		seen[r] = true
	}
	refs := append([]string(nil), roots...)
	for _, m := range objs {
		if id := m["id"].(string); !seen[id] {
			seen[id] = true
			refs = append(refs, id)
		}
	}
	// Two observables with the same deterministic id would be one, and
	// the values of one of them lost.
	dup := map[string]bool{}
	for _, m := range objs {
		id := m["id"].(string)
		if dup[id] {
			return nil, nil, false
		}
		dup[id] = true
	}
	return objs, refs, true
}

// resolve copies v replacing every *node by the id finish gives it.
func resolve(v any, finish func(*node) string) any {
	switch x := v.(type) {
	case *node:
		return finish(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolve(e, finish)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolve(e, finish)
		}
		return out
	}
	return v
}

// refType is the type of the observable a reference property points to.
func refType(name string, v any) string {
	if t := refTargets[name]; t != "" {
		return t
	}
	s, _ := v.(string)
	return ipKind(s)
}

// setIn puts v at segs in m, following and creating references, lists
// and dictionaries; false when a value is already there.
func setIn(m map[string]any, segs []segment, v any) bool {
	s := segs[0]
	last := len(segs) == 1
	switch {
	case !last && strings.HasSuffix(s.name, "_ref"):
		if cur, ok := m[s.name].(*node); ok {
			return setIn(cur.props, segs[1:], v)
		}
		if _, exists := m[s.name]; exists {
			return false
		}
		n := &node{typ: refType(s.name, v), props: map[string]any{}}
		if !setIn(n.props, segs[1:], v) {
			return false
		}
		m[s.name] = n
		return true
	case !last && strings.HasSuffix(s.name, "_refs"):
		list, _ := m[s.name].([]any)
		if len(list) > 0 {
			if n, ok := list[len(list)-1].(*node); ok && setIn(n.props, segs[1:], v) {
				return true
			}
		}
		n := &node{typ: refType(s.name, v), props: map[string]any{}}
		if !setIn(n.props, segs[1:], v) {
			return false
		}
		m[s.name] = append(list, n)
		return true
	case s.list:
		list, _ := m[s.name].([]any)
		if last {
			m[s.name] = append(list, v)
			return true
		}
		if len(list) > 0 {
			if d, ok := list[len(list)-1].(map[string]any); ok && setIn(d, segs[1:], v) {
				return true
			}
		}
		d := map[string]any{}
		if !setIn(d, segs[1:], v) {
			return false
		}
		m[s.name] = append(list, d)
		return true
	case last:
		if _, exists := m[s.name]; exists {
			return false
		}
		m[s.name] = v
		return true
	}
	d, ok := m[s.name].(map[string]any)
	if !ok {
		if _, exists := m[s.name]; exists {
			return false
		}
		d = map[string]any{}
		if !setIn(d, segs[1:], v) {
			return false
		}
		m[s.name] = d
		return true
	}
	return setIn(d, segs[1:], v)
}

// pathValue is one value of an observable at a pattern path.
type pathValue struct {
	f     string // object:path, as field.String writes it
	value string
}

// skipProps are observable properties that carry structure rather than
// values.
var skipProps = map[string]bool{
	"type": true, "id": true, "spec_version": true, "is_multipart": true, "defanged": true,
	"object_marking_refs": true, "granular_markings": true,
}

// flatten lists the values of the observables of an observed-data, root
// by root in object_refs order (a root being one no other of them refers
// to), with the pattern path each would have.
func flatten(refs []string, index map[string]*stix.Object) []pathValue {
	referenced := map[string]bool{}
	inSet := map[string]bool{}
	for _, r := range refs {
		inSet[r] = true
	}
	for _, r := range refs {
		if o := index[r]; o != nil {
			collectRefs(o.Props, func(id string) {
				if id != r && inSet[id] {
					referenced[id] = true
				}
			})
		}
	}
	var out []pathValue
	for _, r := range refs {
		o := index[r]
		if o == nil || referenced[r] {
			continue
		}
		walkProps(o.Type+":", o.Props, index, &out, 0, true)
	}
	for i := range out {
		switch out[i].f {
		case "email-message:body_multipart[*].body":
			out[i].f = "email-message:body"
		case "email-message:body_multipart[*].content_type":
			out[i].f = "" // structure, not a value
		}
	}
	return out
}

// collectRefs calls f with every identifier v refers to, custom x_misp_
// properties aside (they hold MISP's own keys).
func collectRefs(v any, f func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if strings.HasPrefix(k, "x_misp_") {
				continue
			}
			if strings.HasSuffix(k, "_ref") {
				if s, ok := e.(string); ok {
					f(s)
				}
			} else if strings.HasSuffix(k, "_refs") {
				for _, s := range stringsOf(e) {
					f(s)
				}
			} else {
				collectRefs(e, f)
			}
		}
	case []any:
		for _, e := range x {
			collectRefs(e, f)
		}
	}
}

func walkProps(prefix string, m map[string]any, index map[string]*stix.Object, out *[]pathValue, depth int, top bool) {
	if depth > 8 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if top && skipProps[k] {
			continue
		}
		name := k
		if !top {
			name = quoteKey(k)
		}
		v := m[k]
		switch {
		case strings.HasSuffix(k, "_ref"):
			if id, ok := v.(string); ok {
				if o := index[id]; o != nil {
					walkProps(prefix+name+".", o.Props, index, out, depth+1, true)
				}
			}
			continue
		case strings.HasSuffix(k, "_refs"):
			for _, id := range stringsOf(v) {
				if o := index[id]; o != nil {
					walkProps(prefix+name+"[*].", o.Props, index, out, depth+1, true)
				}
			}
			continue
		}
		walkValue(prefix+name, v, index, out, depth)
	}
}

func walkValue(p string, v any, index map[string]*stix.Object, out *[]pathValue, depth int) {
	switch x := v.(type) {
	case string:
		*out = append(*out, pathValue{p, x})
	case json.Number:
		*out = append(*out, pathValue{p, x.String()})
	case float64:
		*out = append(*out, pathValue{p, strconv.FormatFloat(x, 'f', -1, 64)})
	case int64:
		*out = append(*out, pathValue{p, strconv.FormatInt(x, 10)})
	case int:
		*out = append(*out, pathValue{p, strconv.Itoa(x)})
	case bool:
		*out = append(*out, pathValue{p, strconv.FormatBool(x)})
	case map[string]any:
		walkProps(p+".", x, index, out, depth+1, false)
	case []any:
		for _, e := range x {
			walkValue(p+"[*]", e, index, out, depth)
		}
	}
}
