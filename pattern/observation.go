package pattern

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Observation is one observed-data object: a time window, a count, and the
// cyber observables seen. Patterns are matched against a slice of them.
type Observation struct {
	// ID is the observed-data id, if it has one.
	ID string
	// FirstObserved and LastObserved bound when the objects were seen.
	FirstObserved, LastObserved time.Time
	// NumberObserved is how many times the objects were seen; the matcher
	// treats the observation as that many separate observations. It must
	// be at least 1.
	NumberObserved int
	// Objects holds the cyber observables by reference key: the id of
	// each SCO for STIX 2.1, or "0", "1", ... for a STIX 2.0 objects
	// dictionary. Values are decoded JSON (map[string]any, []any, string,
	// float64 or json.Number, bool, nil). *_ref and *_refs properties are
	// resolved against these keys.
	Objects map[string]map[string]any

	// extra resolves references to objects of the same bundle that the
	// observed-data does not list itself.
	extra map[string]map[string]any
	view  *obsView
}

// obsView is an Observation arranged for evaluation: objects in a fixed
// order, indexed by type.
type obsView struct {
	keys   []string
	objs   []map[string]any
	byType map[string][]int
}

func buildView(o *Observation) *obsView {
	v := &obsView{byType: make(map[string][]int)}
	v.keys = make([]string, 0, len(o.Objects))
	for k := range o.Objects {
		v.keys = append(v.keys, k)
	}
	sort.Strings(v.keys)
	v.objs = make([]map[string]any, len(v.keys))
	for i, k := range v.keys {
		obj := o.Objects[k]
		v.objs[i] = obj
		if t, ok := obj["type"].(string); ok {
			v.byType[t] = append(v.byType[t], i)
		}
	}
	return v
}

// getView returns the evaluation view, building a temporary one for an
// Observation not made by this package's constructors.
func (o *Observation) getView() *obsView {
	if o.view != nil {
		return o.view
	}
	return buildView(o)
}

// Prepare indexes the observation's objects for matching. The
// constructors in this package call it; call it yourself after building
// an Observation by hand and before sharing it between goroutines, so
// that every match does not redo the work.
func (o *Observation) Prepare() { o.view = buildView(o) }

// Types returns the object types present in the observation, sorted.
func (o *Observation) Types() []string {
	v := o.getView()
	ts := make([]string, 0, len(v.byType))
	for t := range v.byType {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// resolve looks up a reference.
func (o *Observation) resolve(ref string) (map[string]any, bool) {
	if obj, ok := o.Objects[ref]; ok {
		return obj, true
	}
	obj, ok := o.extra[ref]
	return obj, ok
}

// ObservationsFromJSON builds observations from decoded JSON: a slice
// whose elements are STIX 2.1 bundles (observed-data objects in the bundle
// reference SCOs of the same bundle through object_refs), observed-data
// objects with a STIX 2.0 "objects" dictionary, or STIX 2.1 observed-data
// objects whose object_refs can only be resolved if their SCOs appear as
// further elements of the same slice. Elements of other types are
// ignored. A single bundle or object (map[string]any) is accepted too.
func ObservationsFromJSON(doc any) ([]Observation, error) {
	var items []any
	switch d := doc.(type) {
	case []any:
		items = d
	case map[string]any:
		items = []any{d}
	default:
		return nil, fmt.Errorf("pattern: observed data must be a JSON array or object, got %T", doc)
	}
	// Loose SCOs at top level serve as the lookup table for loose
	// observed-data objects that use object_refs.
	loose := map[string]map[string]any{}
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if id, ok := m["id"].(string); ok && m["type"] != "bundle" && m["type"] != "observed-data" {
				loose[id] = m
			}
		}
	}
	var out []Observation
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("pattern: observed data element %d is %T, not an object", i, it)
		}
		switch m["type"] {
		case "bundle":
			objs, _ := m["objects"].([]any)
			table := map[string]map[string]any{}
			for _, o := range objs {
				if om, ok := o.(map[string]any); ok {
					if id, ok := om["id"].(string); ok {
						table[id] = om
					}
				}
			}
			for j, o := range objs {
				om, ok := o.(map[string]any)
				if !ok || om["type"] != "observed-data" {
					continue
				}
				ob, err := ObservationFromJSON(om, table)
				if err != nil {
					return nil, fmt.Errorf("pattern: element %d, bundle object %d: %w", i, j, err)
				}
				out = append(out, ob)
			}
		default:
			if _, has := m["first_observed"]; !has && m["type"] != "observed-data" {
				continue
			}
			ob, err := ObservationFromJSON(m, loose)
			if err != nil {
				return nil, fmt.Errorf("pattern: element %d: %w", i, err)
			}
			out = append(out, ob)
		}
	}
	return out, nil
}

// ObservationFromJSON builds one observation from a decoded observed-data
// object. Its cyber observables come from its STIX 2.0 "objects"
// dictionary or, for STIX 2.1, from looking up each id of object_refs in
// table (typically every object of the enclosing bundle by id); ids not
// in table are skipped.
func ObservationFromJSON(od map[string]any, table map[string]map[string]any) (Observation, error) {
	var o Observation
	o.ID, _ = od["id"].(string)
	what := "observed-data"
	if o.ID != "" {
		what = o.ID
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"first_observed", &o.FirstObserved}, {"last_observed", &o.LastObserved}} {
		s, ok := od[f.name].(string)
		if !ok {
			return o, fmt.Errorf("%s: %s is missing or not a string", what, f.name)
		}
		t, err := parseTimestamp(s)
		if err != nil || strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") {
			return o, fmt.Errorf("%s: %s %q is not a valid timestamp", what, f.name, s)
		}
		*f.dst = t
	}
	f, i, isInt, ok := number(od["number_observed"])
	if !ok || (!isInt && f != float64(int64(f))) {
		return o, fmt.Errorf("%s: number_observed is missing or not an integer", what)
	}
	if !isInt {
		i = int64(f)
	}
	if i < 1 {
		return o, fmt.Errorf("%s: number_observed must be at least 1, got %d", what, i)
	}
	if i > 1<<40 {
		return o, fmt.Errorf("%s: number_observed %d is too large", what, i)
	}
	o.NumberObserved = int(i)
	o.Objects = map[string]map[string]any{}
	if objs, ok := od["objects"].(map[string]any); ok {
		for k, v := range objs {
			if m, ok := v.(map[string]any); ok {
				o.Objects[k] = m
			}
		}
	}
	if refs, ok := od["object_refs"].([]any); ok {
		for _, r := range refs {
			id, ok := r.(string)
			if !ok {
				continue
			}
			if m, ok := table[id]; ok {
				o.Objects[id] = m
			}
		}
		o.extra = table
	}
	o.Prepare()
	return o, nil
}
