package sensor

import (
	"context"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// Layer is an ATT&CK Navigator layer, layer file format 4.5: the fields
// the hub fills in.
type Layer struct {
	Name        string            `json:"name"`
	Versions    LayerVersions     `json:"versions"`
	Domain      string            `json:"domain"`
	Description string            `json:"description"`
	Sorting     int               `json:"sorting"`
	Layout      LayerLayout       `json:"layout"`
	HideDisable bool              `json:"hideDisabled"`
	Techniques  []LayerTechnique  `json:"techniques"`
	Gradient    LayerGradient     `json:"gradient"`
	LegendItems []json.RawMessage `json:"legendItems"`
	Metadata    []LayerMetadata   `json:"metadata"`

	// Sources are the stored versions the layer shows (the subject and
	// the attack patterns), with ID, Modified and Release only: what it
	// releases, for the audit log.
	Sources []*cyberpact.Object `json:"-"`
}

// LayerVersions names the layer format and the versions it was made for.
type LayerVersions struct {
	Attack    string `json:"attack,omitempty"`
	Navigator string `json:"navigator"`
	Layer     string `json:"layer"`
}

// LayerLayout is how the Navigator shows the matrix.
type LayerLayout struct {
	Layout              string `json:"layout"`
	ShowID              bool   `json:"showID"`
	ShowName            bool   `json:"showName"`
	ShowAggregateScores bool   `json:"showAggregateScores"`
	CountUnscored       bool   `json:"countUnscored"`
	AggregateFunction   string `json:"aggregateFunction"`
}

// LayerTechnique is one technique of a layer and how strongly the subject
// is tied to it.
type LayerTechnique struct {
	TechniqueID string          `json:"techniqueID"`
	Score       int             `json:"score"`
	Comment     string          `json:"comment,omitempty"`
	Enabled     bool            `json:"enabled"`
	Metadata    []LayerMetadata `json:"metadata,omitempty"`
}

// LayerGradient maps scores to colours.
type LayerGradient struct {
	Colors   []string `json:"colors"`
	MinValue int      `json:"minValue"`
	MaxValue int      `json:"maxValue"`
}

// LayerMetadata is a name and a value shown with a layer or technique.
type LayerMetadata struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// The versions a built layer names.
const (
	LayerFormat      = "4.5"
	NavigatorVersion = "5.1.0"
)

// LayerSpec says what a layer shows.
type LayerSpec struct {
	// Of is the id of an intrusion-set, threat-actor or campaign (the
	// techniques it uses, and for a group those of the campaigns
	// attributed to it), or of a report (the techniques it refers to).
	// Empty means every technique that has been sighted: sightings of
	// attack patterns, and of indicators that indicate one.
	Of string
	// Name is the layer's name; empty means one made from the subject.
	Name string
	// Domain is the ATT&CK domain; empty means enterprise-attack.
	Domain string
	// Attack is the ATT&CK version the layer names; empty means none.
	Attack string
}

// Graph is what BuildLayer reads of a store: cyberpact.ObjectStore is one.
type Graph interface {
	FindObjects(ctx context.Context, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error)
	EachObject(ctx context.Context, f cyberpact.ObjectFilter, fn func(*cyberpact.Object) error) error
	Relationships(ctx context.Context, id string, dir cyberpact.Direction, f cyberpact.ObjectFilter) (*cyberpact.ObjectPage, error)
}

// BuildLayer builds the layer spec asks for from what base selects (its
// Viewer, Audience and MaxTLP apply to every object read; its other
// fields are ignored). A technique's score is the number of the subject's
// links to it (uses by the group or one of its campaigns, a report's
// reference) or, for sightings, the sightings' counts summed. Attack
// patterns without an ATT&CK id (external_references with source_name
// mitre-attack) are left out. Returns ENOTFOUND when the subject is not
// visible, EINVALID when it is not of a type layers are built from.
func BuildLayer(ctx context.Context, g Graph, base cyberpact.ObjectFilter, spec LayerSpec) (*Layer, error) {
	base = cyberpact.ObjectFilter{Viewer: base.Viewer, Audience: base.Audience, MaxTLP: base.MaxTLP, MaxPAP: base.MaxPAP, ExcludeRevoked: true}
	b := &layerBuilder{ctx: ctx, g: g, base: base, score: map[string]int{}}
	name := spec.Name
	var err error
	switch typ, _, _ := strings.Cut(spec.Of, "--"); typ {
	case "":
		if name == "" {
			name = "Sighted techniques"
		}
		err = b.sighted()
	case "intrusion-set", "threat-actor", "campaign":
		var subj *cyberpact.Object
		if subj, err = b.one(spec.Of); err != nil {
			return nil, err
		}
		b.source(subj)
		if name == "" {
			name = "Techniques of " + nameOf(subj)
		}
		err = b.uses(spec.Of)
		if err == nil && typ != "campaign" {
			err = b.campaignsOf(spec.Of)
		}
	case "report":
		var subj *cyberpact.Object
		if subj, err = b.one(spec.Of); err != nil {
			return nil, err
		}
		b.source(subj)
		if name == "" {
			name = "Techniques of " + nameOf(subj)
		}
		var r struct {
			Refs []string `json:"object_refs"`
		}
		json.Unmarshal(subj.Raw, &r)
		for _, ref := range r.Refs {
			if strings.HasPrefix(ref, "attack-pattern--") {
				b.score[ref]++
			}
		}
	default:
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%s: layers are built from an intrusion-set, threat-actor, campaign or report, not a %s", spec.Of, typ)
	}
	if err != nil {
		return nil, err
	}
	l := &Layer{
		Name:     name,
		Versions: LayerVersions{Attack: spec.Attack, Navigator: NavigatorVersion, Layer: LayerFormat},
		Domain:   spec.Domain, Sorting: 3,
		Layout:      LayerLayout{Layout: "side", ShowName: true, ShowID: true, AggregateFunction: "sum"},
		Techniques:  []LayerTechnique{},
		LegendItems: []json.RawMessage{},
		Gradient:    LayerGradient{Colors: []string{"#ffe766", "#ff6666"}, MinValue: 0, MaxValue: 1},
	}
	if l.Domain == "" {
		l.Domain = "enterprise-attack"
	}
	if spec.Of != "" {
		l.Description = "ATT&CK techniques of " + spec.Of + ", from the hub's relationships"
		l.Metadata = []LayerMetadata{{Name: "stix_id", Value: spec.Of}}
	} else {
		l.Description = "ATT&CK techniques sighted, scored by the number of sightings"
	}
	err = b.techniques(l)
	l.Sources = b.sources
	return l, err
}

type layerBuilder struct {
	ctx     context.Context
	g       Graph
	base    cyberpact.ObjectFilter
	score   map[string]int // attack-pattern id -> score
	sources []*cyberpact.Object
}

// source records o as shown by the layer.
func (b *layerBuilder) source(o *cyberpact.Object) {
	b.sources = append(b.sources, &cyberpact.Object{Seq: o.Seq, ID: o.ID, Type: o.Type, Modified: o.Modified, Release: o.Release})
}

// one returns the latest visible version of id.
func (b *layerBuilder) one(id string) (*cyberpact.Object, error) {
	f := b.base
	f.IDs = []string{id}
	p, err := b.g.FindObjects(b.ctx, f)
	if err != nil {
		return nil, err
	}
	if len(p.Objects) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "%s not found", id)
	}
	return p.Objects[0], nil
}

// relationships calls fn for each relationship of id on dir's end.
func (b *layerBuilder) relationships(id string, dir cyberpact.Direction, fn func(r *relationship)) error {
	f := b.base
	f.Types = []string{"relationship"}
	for {
		p, err := b.g.Relationships(b.ctx, id, dir, f)
		if err != nil {
			return err
		}
		for _, o := range p.Objects {
			var r relationship
			if json.Unmarshal(o.Raw, &r) == nil {
				fn(&r)
			}
		}
		if !p.More {
			return nil
		}
		f.After = p.Next
	}
}

type relationship struct {
	Type   string `json:"relationship_type"`
	Source string `json:"source_ref"`
	Target string `json:"target_ref"`
}

// uses scores the attack patterns id uses.
func (b *layerBuilder) uses(id string) error {
	return b.relationships(id, cyberpact.Outgoing, func(r *relationship) {
		if r.Type == "uses" && r.Source == id && strings.HasPrefix(r.Target, "attack-pattern--") {
			b.score[r.Target]++
		}
	})
}

// campaignsOf scores the techniques of the campaigns attributed to group.
func (b *layerBuilder) campaignsOf(group string) error {
	var campaigns []string
	err := b.relationships(group, cyberpact.Incoming, func(r *relationship) {
		if r.Type == "attributed-to" && r.Target == group && strings.HasPrefix(r.Source, "campaign--") {
			campaigns = append(campaigns, r.Source)
		}
	})
	for _, c := range campaigns {
		if err == nil {
			err = b.uses(c)
		}
	}
	return err
}

// sighted scores attack patterns by the sightings of them and of the
// indicators that indicate them.
func (b *layerBuilder) sighted() error {
	f := b.base
	f.Types = []string{"sighting"}
	counts := map[string]int{} // sighted id -> sightings
	err := b.g.EachObject(b.ctx, f, func(o *cyberpact.Object) error {
		var s struct {
			Of    string `json:"sighting_of_ref"`
			Count *int   `json:"count"`
		}
		if json.Unmarshal(o.Raw, &s) != nil {
			return nil
		}
		n := 1
		if s.Count != nil {
			n = *s.Count
		}
		counts[s.Of] += n
		return nil
	})
	if err != nil {
		return err
	}
	indicators := 0
	for id, n := range counts {
		switch {
		case strings.HasPrefix(id, "attack-pattern--"):
			b.score[id] += n
		case strings.HasPrefix(id, "indicator--"):
			indicators++
		}
	}
	indicates := func(r *relationship) {
		if n := counts[r.Source]; n > 0 && r.Type == "indicates" && strings.HasPrefix(r.Source, "indicator--") && strings.HasPrefix(r.Target, "attack-pattern--") {
			b.score[r.Target] += n
		}
	}
	if indicators > manyIndicators {
		// One pass over the relationships costs less than a query for
		// each of many indicators.
		f := b.base
		f.Types = []string{"relationship"}
		return b.g.EachObject(b.ctx, f, func(o *cyberpact.Object) error {
			var r relationship
			if json.Unmarshal(o.Raw, &r) == nil {
				indicates(&r)
			}
			return nil
		})
	}
	for id := range counts {
		if strings.HasPrefix(id, "indicator--") {
			if err := b.relationships(id, cyberpact.Outgoing, func(r *relationship) {
				if r.Source == id {
					indicates(r)
				}
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// manyIndicators is the number of sighted indicators above which a
// sighted layer reads every relationship once rather than each
// indicator's.
var manyIndicators = 1000

// techniques reads the scored attack patterns and fills l's techniques,
// merging patterns of one ATT&CK id, sorted by id.
func (b *layerBuilder) techniques(l *Layer) error {
	ids := make([]string, 0, len(b.score))
	for id := range b.score {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	byTech := map[string]*LayerTechnique{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		f := b.base
		f.IDs, f.Types, f.Limit = ids[:n], []string{"attack-pattern"}, n
		ids = ids[n:]
		err := b.g.EachObject(b.ctx, f, func(o *cyberpact.Object) error {
			var ap struct {
				Name string `json:"name"`
				Refs []struct {
					Source string `json:"source_name"`
					ID     string `json:"external_id"`
				} `json:"external_references"`
			}
			if json.Unmarshal(o.Raw, &ap) != nil {
				return nil
			}
			tid := ""
			for _, r := range ap.Refs {
				if r.Source == "mitre-attack" && validTechniqueID(r.ID) {
					tid = r.ID
				}
			}
			if tid == "" {
				return nil
			}
			t := byTech[tid]
			if t == nil {
				t = &LayerTechnique{TechniqueID: tid, Enabled: true, Comment: ap.Name}
				byTech[tid] = t
			}
			t.Score += b.score[o.ID]
			b.source(o)
			t.Metadata = append(t.Metadata, LayerMetadata{Name: "stix_id", Value: o.ID})
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, t := range byTech {
		l.Techniques = append(l.Techniques, *t)
		l.Gradient.MaxValue = max(l.Gradient.MaxValue, t.Score)
	}
	sort.Slice(l.Techniques, func(i, j int) bool { return l.Techniques[i].TechniqueID < l.Techniques[j].TechniqueID })
	return nil
}

// validTechniqueID reports whether s is T followed by four digits,
// optionally a dot and three more (a sub-technique).
func validTechniqueID(s string) bool {
	if len(s) != 5 && len(s) != 9 || s[0] != 'T' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if i == 5 {
			if s[i] != '.' {
				return false
			}
			continue
		}
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func nameOf(o *cyberpact.Object) string {
	var n struct {
		Name string `json:"name"`
	}
	json.Unmarshal(o.Raw, &n)
	if n.Name == "" {
		return o.ID
	}
	return n.Name
}

// WriteLayer writes l as indented JSON.
func WriteLayer(w io.Writer, l *Layer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	return e.Encode(l)
}
