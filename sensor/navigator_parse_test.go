package sensor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// This file checks ATT&CK Navigator layers against the layer file format
// 4.5 as MITRE documents it (attack-navigator, layers/spec/v4.5): every
// property known and of its type, the required ones present, versions
// naming layer 4.5 and a Navigator of at least 4.9.0, the domain one of
// the three, technique ids T#### or T####.###, gradients of at least two
// hex colours with maxValue above minValue, and the enumerations of
// sorting and layout.

type navLayer struct {
	Versions                      *navVersions                     `json:"versions"`
	Name                          *string                          `json:"name"`
	Description                   string                           `json:"description"`
	Domain                        *string                          `json:"domain"`
	CustomDataURL                 string                           `json:"customDataURL"`
	Filters                       *struct{ Platforms []string }    `json:"filters"`
	Sorting                       *int                             `json:"sorting"`
	Layout                        *navLayout                       `json:"layout"`
	HideDisabled                  *bool                            `json:"hideDisabled"`
	Techniques                    []navTechnique                   `json:"techniques"`
	Gradient                      *navGradient                     `json:"gradient"`
	LegendItems                   []struct{ Label, Color *string } `json:"legendItems"`
	ShowTacticRowBackground       *bool                            `json:"showTacticRowBackground"`
	TacticRowBackground           *string                          `json:"tacticRowBackground"`
	SelectTechniquesAcrossTactics *bool                            `json:"selectTechniquesAcrossTactics"`
	SelectSubtechniquesWithParent *bool                            `json:"selectSubtechniquesWithParent"`
	SelectVisibleTechniques       *bool                            `json:"selectVisibleTechniques"`
	Metadata                      []navMeta                        `json:"metadata"`
	Links                         []navLink                        `json:"links"`
}

type navVersions struct {
	Attack    string  `json:"attack"`
	Navigator *string `json:"navigator"`
	Layer     *string `json:"layer"`
}

type navLayout struct {
	Layout                string `json:"layout"`
	ShowID                *bool  `json:"showID"`
	ShowName              *bool  `json:"showName"`
	ShowAggregateScores   *bool  `json:"showAggregateScores"`
	CountUnscored         *bool  `json:"countUnscored"`
	AggregateFunction     string `json:"aggregateFunction"`
	ExpandedSubtechniques string `json:"expandedSubtechniques"`
}

type navTechnique struct {
	TechniqueID       *string   `json:"techniqueID"`
	Tactic            string    `json:"tactic"`
	Comment           string    `json:"comment"`
	Enabled           *bool     `json:"enabled"`
	Score             *float64  `json:"score"`
	Color             string    `json:"color"`
	Metadata          []navMeta `json:"metadata"`
	Links             []navLink `json:"links"`
	ShowSubtechniques *bool     `json:"showSubtechniques"`
}

type navGradient struct {
	Colors   []string `json:"colors"`
	MinValue *float64 `json:"minValue"`
	MaxValue *float64 `json:"maxValue"`
}

// navMeta is a Metadata object or a Divider object.
type navMeta struct {
	Name    *string `json:"name"`
	Value   *string `json:"value"`
	Divider *bool   `json:"divider"`
}

type navLink struct {
	Label   *string `json:"label"`
	URL     *string `json:"url"`
	Divider *bool   `json:"divider"`
}

var (
	techniqueIDRe = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	tacticRe      = regexp.MustCompile(`^[a-z]+(-[a-z]+)*$`)
	colorRe       = regexp.MustCompile(`^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$`)
)

// parseLayer decodes a layer and checks it against the 4.5 format.
func parseLayer(data []byte) (*navLayer, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var l navLayer
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("not a layer: %w", err)
	}
	switch {
	case l.Name == nil:
		return nil, fmt.Errorf("name is required")
	case l.Domain == nil:
		return nil, fmt.Errorf("domain is required")
	case *l.Domain != "enterprise-attack" && *l.Domain != "mobile-attack" && *l.Domain != "ics-attack":
		return nil, fmt.Errorf("domain %q", *l.Domain)
	case l.Versions == nil || l.Versions.Layer == nil || *l.Versions.Layer != "4.5":
		return nil, fmt.Errorf("versions.layer must be 4.5")
	case l.Versions.Navigator == nil || !atLeast(*l.Versions.Navigator, "4.9.0"):
		return nil, fmt.Errorf("versions.navigator must be at least 4.9.0")
	case l.Sorting != nil && (*l.Sorting < 0 || *l.Sorting > 3):
		return nil, fmt.Errorf("sorting %d", *l.Sorting)
	}
	if lo := l.Layout; lo != nil {
		if lo.Layout != "" && lo.Layout != "side" && lo.Layout != "flat" && lo.Layout != "mini" {
			return nil, fmt.Errorf("layout.layout %q", lo.Layout)
		}
		if f := lo.AggregateFunction; f != "" && f != "average" && f != "min" && f != "max" && f != "sum" {
			return nil, fmt.Errorf("layout.aggregateFunction %q", f)
		}
		if e := lo.ExpandedSubtechniques; e != "" && e != "none" && e != "all" && e != "annotated" {
			return nil, fmt.Errorf("layout.expandedSubtechniques %q", e)
		}
	}
	for i, t := range l.Techniques {
		where := fmt.Sprintf("techniques[%d]", i)
		switch {
		case t.TechniqueID == nil || !techniqueIDRe.MatchString(*t.TechniqueID):
			return nil, fmt.Errorf("%s: techniqueID missing or not T#### / T####.###", where)
		case t.Tactic != "" && !tacticRe.MatchString(t.Tactic):
			return nil, fmt.Errorf("%s: tactic %q", where, t.Tactic)
		case t.Color != "" && !colorRe.MatchString(t.Color):
			return nil, fmt.Errorf("%s: color %q", where, t.Color)
		}
		if err := checkMeta(where, t.Metadata, t.Links); err != nil {
			return nil, err
		}
	}
	if g := l.Gradient; g != nil {
		if len(g.Colors) < 2 || g.MinValue == nil || g.MaxValue == nil || *g.MaxValue <= *g.MinValue {
			return nil, fmt.Errorf("gradient needs two colours and maxValue > minValue")
		}
		for _, c := range g.Colors {
			if !colorRe.MatchString(c) {
				return nil, fmt.Errorf("gradient colour %q", c)
			}
		}
	}
	for i, li := range l.LegendItems {
		if li.Label == nil || li.Color == nil {
			return nil, fmt.Errorf("legendItems[%d]: label and color are required", i)
		}
	}
	return &l, checkMeta("layer", l.Metadata, l.Links)
}

func checkMeta(where string, ms []navMeta, ls []navLink) error {
	for i, m := range ms {
		if m.Divider != nil {
			if m.Name != nil || m.Value != nil {
				return fmt.Errorf("%s.metadata[%d]: divider with a name or value", where, i)
			}
			continue
		}
		if m.Name == nil || m.Value == nil {
			return fmt.Errorf("%s.metadata[%d]: name and value are required", where, i)
		}
	}
	for i, l := range ls {
		if l.Divider != nil {
			continue
		}
		if l.Label == nil || l.URL == nil || !strings.Contains(*l.URL, "://") {
			return fmt.Errorf("%s.links[%d]: label and a url with its protocol are required", where, i)
		}
	}
	return nil
}

// atLeast compares dotted version numbers.
func atLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := 0; i < len(b); i++ {
		x, y := 0, 0
		if i < len(a) {
			x, _ = strconv.Atoi(a[i])
		}
		y, _ = strconv.Atoi(b[i])
		if x != y {
			return x > y
		}
	}
	return true
}
