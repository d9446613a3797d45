package cyberpact_test

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

func markingDef(id string, nations ...string) *cyberpact.Object {
	raw, _ := json.Marshal(map[string]any{"type": "marking-definition", "id": id,
		"extensions": map[string]any{cyberpact.MarkingExtension: map[string]any{"rel_nations": nations}}})
	return &cyberpact.Object{ID: id, Type: "marking-definition", Raw: raw}
}

// TestMarkRefusesWhatARefusedMarkingMarks: an object that refers to a
// marking definition refused earlier in the import, or to one not known,
// is refused with the path of the reference; a known one marks it.
func TestMarkRefusesWhatARefusedMarkingMarks(t *testing.T) {
	const bad, good, unknown = "marking-definition--b", "marking-definition--g", "marking-definition--u"
	terms := &cyberpact.Terms{}
	rel := cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}
	if _, rej := terms.Mark(markingDef(bad, "uk"), rel); rej == nil {
		t.Fatal("a definition releasable to uk was accepted")
	}
	if _, rej := terms.Mark(markingDef(good, "gb"), rel); rej != nil {
		t.Fatal(rej)
	}
	for _, tc := range []struct {
		name           string
		refs, granular []string
		path, says     string
	}{
		{"Refused", []string{bad}, nil, "object_marking_refs", "refused"},
		{"RefusedGranularly", []string{good}, []string{bad}, "granular_markings", "refused"},
		{"Unknown", []string{good, unknown}, nil, "object_marking_refs", "not known"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rej := terms.Mark(&cyberpact.Object{ID: "indicator--x", Type: "indicator", MarkingRefs: tc.refs, GranularMarkingRefs: tc.granular}, rel)
			if rej == nil || rej.Path != tc.path || !strings.Contains(rej.Reason, tc.says) {
				t.Errorf("Mark: %v; want refused at %s as %s", rej, tc.path, tc.says)
			}
		})
	}
	got, rej := terms.Mark(&cyberpact.Object{ID: "indicator--y", Type: "indicator", MarkingRefs: []string{good}}, rel)
	if rej != nil || got.Marks != "<n:GB>" {
		t.Errorf("Mark: %v, %v; want REL TO GB", got.Marks, rej)
	}
}

// TestOrderedBringsLaterMarkingsForward: a marking definition later in
// the input than an object referring to it comes before it, the rest in
// input order, and the source is not read past its end.
func TestOrderedBringsLaterMarkingsForward(t *testing.T) {
	const def = "marking-definition--d"
	in := []*cyberpact.Object{
		{ID: "indicator--1", Type: "indicator", MarkingRefs: []string{def}},
		{ID: "indicator--2", Type: "indicator"},
		markingDef(def, "us"),
		{ID: "indicator--3", Type: "indicator", MarkingRefs: []string{def}},
		{ID: "indicator--4", Type: "indicator", MarkingRefs: []string{"marking-definition--never"}},
		{ID: "indicator--5", Type: "indicator"},
	}
	i, ended := 0, 0
	next := func() (*cyberpact.Object, error) {
		if i == len(in) {
			ended++
			return nil, io.EOF
		}
		i++
		return in[i-1], nil
	}
	terms := &cyberpact.Terms{}
	src := terms.Ordered(next)
	var got []string
	for {
		o, err := src()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, o.ID)
		terms.Mark(o, cyberpact.Release{Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen})
	}
	if _, err := src(); err != io.EOF {
		t.Errorf("after the end: %v", err)
	}
	want := []string{def, "indicator--1", "indicator--2", "indicator--3", "indicator--4", "indicator--5"}
	if !slices.Equal(got, want) || ended != 1 {
		t.Errorf("order %v (source read %d times past its end); want %v, once", got, ended, want)
	}
}
