package misp

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const eventsDir = "../../shared/data/misp/events"

// sharedEvents returns the shared MISP events by file name, skipping the
// test when they are absent.
func sharedEvents(t testing.TB) map[string]*Event {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("no MISP events in %s", eventsDir)
	}
	out := map[string]*Event{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		evs, err := DecodeJSON(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(evs) != 1 {
			t.Fatalf("%s: %d events", f, len(evs))
		}
		out[filepath.Base(f)] = evs[0]
	}
	return out
}

// attrKey is what a round trip must keep of an attribute.
type attrKey struct{ Object, Relation, Type, Value string }

func attrKeys(ev *Event) []attrKey {
	var out []attrKey
	for _, a := range ev.Attributes {
		out = append(out, attrKey{"", "", a.Type, a.Value})
	}
	for _, o := range ev.Objects {
		for _, a := range o.Attributes {
			out = append(out, attrKey{o.Name, a.ObjectRelation, a.Type, a.Value})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		if a.Relation != b.Relation {
			return a.Relation < b.Relation
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Value < b.Value
	})
	return out
}

// checkEvent converts ev to STIX and back and checks what the issue asks:
// every object valid STIX (patterns parsed by the pattern package), every
// attribute value present in some object, and every attribute's type and
// value back.
func checkEvent(t *testing.T, ev *Event) *Result {
	t.Helper()
	res, err := ToSTIX(ev)
	if err != nil {
		t.Fatalf("ToSTIX: %v", err)
	}
	ids := map[string]bool{}
	for _, o := range res.Objects {
		if ids[o.ID] {
			t.Errorf("%s appears twice", o.ID)
		}
		ids[o.ID] = true
		for _, p := range stix.Validate(o) {
			if !p.Warning {
				t.Errorf("invalid STIX: %v\n%s", p, o.Raw)
			}
		}
		if o.Type == "indicator" && o.String("pattern_type") == "stix" {
			if _, err := pattern.Parse(o.String("pattern")); err != nil {
				t.Errorf("%s: pattern %q: %v", o.ID, o.String("pattern"), err)
			}
		}
	}
	// Every reference resolves within the result.
	for _, o := range res.Objects {
		collectRefs(o.Props, func(id string) {
			if !ids[id] && !strings.HasPrefix(id, "marking-definition--") {
				t.Errorf("%s refers to %s, not in the result", o.ID, id)
			}
		})
	}
	// Every value accounted for: in some object's pattern, observable
	// value or custom property.
	var strs []string
	for _, o := range res.Objects {
		collectStrings(o.Props, &strs)
	}
	// The values present: every string (or number) in an object, and every
	// literal an indicator's pattern compares; a value is accounted for
	// when it is one of them exactly, or each |-separated part is.
	present := map[string]bool{}
	for _, v := range strs {
		present[v] = true
	}
	for _, o := range res.Objects {
		if o.Type == "indicator" {
			cs, _ := parsePattern(o.String("pattern"))
			for _, c := range cs {
				present[c.value] = true
			}
		}
	}
	// An AS value "AS174" may be the autonomous-system number 174; a
	// composite value splits into as many parts as its type has fields.
	check := func(where, typ, v string) {
		if v == "" || present[v] || present[asNumber(typ, v)] {
			return
		}
		n := len(attributeFields[typ])
		if n < 2 {
			t.Errorf("%s: value %q is in no STIX object", where, v)
			return
		}
		for _, p := range strings.SplitN(v, "|", n) {
			if !present[p] {
				t.Errorf("%s: part %q of %q is in no STIX object", where, p, v)
			}
		}
	}
	for _, a := range ev.Attributes {
		check(a.Type, a.Type, a.Value)
	}
	for _, o := range ev.Objects {
		for _, a := range o.Attributes {
			check(o.Name+"."+a.ObjectRelation, a.Type, a.Value)
		}
	}
	back, err := FromSTIX(res.Objects)
	if err != nil {
		t.Fatalf("FromSTIX: %v", err)
	}
	if len(back) != 1 {
		t.Fatalf("FromSTIX gave %d events, want 1", len(back))
	}
	want, got := attrKeys(ev), attrKeys(back[0])
	if len(want) != len(got) {
		t.Errorf("%d attributes back, want %d\nwant %q\ngot  %q", len(got), len(want), want, got)
	} else {
		for i := range want {
			if want[i] != got[i] {
				t.Errorf("attribute back as %q, want %q", got[i], want[i])
			}
		}
	}
	// Every attribute's other fields come back too.
	if diff := cmp.Diff(attrDetails(ev), attrDetails(back[0])); diff != "" {
		t.Errorf("attribute fields back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(objectDetails(ev), objectDetails(back[0])); diff != "" {
		t.Errorf("objects back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tagNames(ev.Tags), tagNames(back[0].Tags), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("event tags back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(clusterNames(ev.Galaxies), clusterNames(back[0].Galaxies)); diff != "" {
		t.Errorf("event galaxies back (-want +got):\n%s", diff)
	}
	if back[0].UUID != ev.UUID || back[0].Info != ev.Info || back[0].Timestamp != ev.Timestamp || back[0].Date != ev.Date ||
		back[0].Distribution != ev.Distribution || back[0].Published != ev.Published {
		t.Errorf("event fields back %q %q %q %q %q %v, want %q %q %q %q %q %v", back[0].UUID, back[0].Info, back[0].Timestamp, back[0].Date, back[0].Distribution, back[0].Published,
			ev.UUID, ev.Info, ev.Timestamp, ev.Date, ev.Distribution, ev.Published)
	}
	// The MISP JSON written back decodes to the same attributes.
	var buf bytes.Buffer
	if err := Encode(&buf, back); err != nil {
		t.Fatal(err)
	}
	again, err := Decode(&buf)
	if err != nil {
		t.Fatalf("decoding what Encode wrote: %v", err)
	}
	if k := attrKeys(again[0]); len(k) != len(want) {
		t.Errorf("MISP JSON written back has %d attributes, want %d", len(k), len(want))
	}
	return res
}

// attrDetails lists every attribute with the fields a round trip keeps,
// sorted.
func attrDetails(ev *Event) []string {
	var out []string
	add := func(obj string, a *Attribute) {
		tags := tagNames(a.Tags)
		sort.Strings(tags)
		var gal []string
		for _, c := range clusterNames(a.Galaxies) {
			gal = append(gal, c)
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%q|uuid=%s|cat=%s|ids=%v|comment=%q|ts=%s|first=%s|last=%s|data=%d|tags=%v|galaxies=%v|sightings=%d|notes=%d|opinions=%d",
			obj, a.ObjectRelation, a.Type, a.Value, a.UUID, a.Category, a.ToIDs, a.Comment, a.Timestamp, a.FirstSeen, a.LastSeen, len(a.Data), tags, gal,
			len(a.Sightings), len(a.Notes), len(a.Opinions)))
	}
	for _, a := range ev.Attributes {
		add("", a)
	}
	for _, o := range ev.Objects {
		for _, a := range o.Attributes {
			add(o.Name, a)
		}
	}
	sort.Strings(out)
	return out
}

// objectDetails lists every object's template, fields and references
// (by the referenced attribute's or object's value-independent uuid).
func objectDetails(ev *Event) []string {
	var out []string
	for _, o := range ev.Objects {
		var refs []string
		for _, r := range o.References {
			refs = append(refs, r.RelationshipType+">"+r.ReferencedUUID)
		}
		sort.Strings(refs)
		out = append(out, fmt.Sprintf("%s|%s|%q|ts=%s|attrs=%d|refs=%v", o.Name, o.MetaCategory, o.Comment, o.Timestamp, len(o.Attributes), refs))
	}
	sort.Strings(out)
	return out
}

func clusterNames(gs []*Galaxy) []string {
	var out []string
	for _, g := range gs {
		for _, c := range g.Clusters {
			out = append(out, g.Type+"/"+c.UUID+"/"+c.Value)
		}
	}
	sort.Strings(out)
	return out
}

func collectStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case map[string]any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case []any:
		for _, e := range x {
			collectStrings(e, out)
		}
	case int64:
		*out = append(*out, strconv.FormatInt(x, 10))
	case float64:
		*out = append(*out, strconv.FormatFloat(x, 'f', -1, 64))
	case int:
		*out = append(*out, strconv.Itoa(x))
	default:
		if x != nil {
			if s, ok := v.(interface{ String() string }); ok {
				*out = append(*out, s.String())
			}
		}
	}
}

func TestSharedEventsRoundTrip(t *testing.T) {
	evs := sharedEvents(t)
	names := make([]string, 0, len(evs))
	for n := range evs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Run(strings.TrimSuffix(n, ".json"), func(t *testing.T) {
			checkEvent(t, evs[n])
		})
	}
}
