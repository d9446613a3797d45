package cyberpact

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Markings beside TLP. An object version may carry, besides its TLP level:
//
//   - releasability ("REL TO US, JP"): the nations, and optionally the
//     sectors, of the organisations it may reach. A member organisation of
//     another nation (or sector) never sees it, whatever its audience, on
//     any path; a peer hub is a member organisation with a nation, so
//     federation follows the same rule.
//   - PAP (Permissible Actions Protocol, as OpenCTI and MISP mark it):
//     what recipients may do with it. It does not hide the object from
//     people; PAP:RED objects never leave the hub by a machine path
//     (sensor and feed exports, federation), see MayForward and
//     ObjectFilter.MaxPAP.
//   - a level in each of the hub's ordered marking sets (MarkingSet, e.g.
//     a national classification): only viewers whose organisation holds a
//     clearance at that level or above in that set see it.
//
// They come from marking definitions: the cyberpact extension marking
// (MarkingExtension) or a PAP marking definition, referred to by the
// object's object_marking_refs, and from the releasability of the sharing
// agreement it is shared under (Agreement.RelNations) when it carries none
// of its own. The store keeps them as Marks, one string the rule reads in
// Go (MaySee) and in SQL (sqlstore.Scope).

// PAP is a Permissible Actions Protocol level; the zero value is an
// object without a PAP marking.
type PAP int

const (
	PAPUnknown PAP = iota // not marked
	PAPClear              // any action
	PAPGreen              // active actions within the community
	PAPAmber              // passive cross-checks only
	PAPRed                // no action that could be detected; never leaves the hub by machine
)

var papNames = [...]string{"", "clear", "green", "amber", "red"}

// String names the level: clear, green, amber, red ("" when unmarked).
func (p PAP) String() string {
	if p < 0 || int(p) >= len(papNames) {
		return fmt.Sprintf("pap(%d)", int(p))
	}
	return papNames[p]
}

// ParsePAP reads a level name, with or without the "PAP:" prefix, any
// case (WHITE is read as CLEAR). Returns EINVALID for anything else.
func ParsePAP(s string) (PAP, error) {
	n := s
	if len(n) > 4 && strings.EqualFold(n[:4], "PAP:") {
		n = n[4:]
	}
	for i, name := range papNames {
		if i > 0 && strings.EqualFold(name, n) {
			return PAP(i), nil
		}
	}
	if strings.EqualFold(n, "white") {
		return PAPClear, nil
	}
	return PAPUnknown, Errorf(EINVALID, "%q is not a PAP level (clear, green, amber, red)", s)
}

// Marks are an object version's markings beside TLP (releasability, PAP,
// marking-set levels) in the one canonical form the stores keep and the
// SQL rule matches: tokens "<n:CC>" (releasable to nation CC), "<s:SECTOR>"
// (releasable to sector), "<p:N>" (PAP level N) and "<m:SET:L>" (level L
// of marking set SET), sorted and without repeats; "" when there are none.
type Marks string

// MarkLevel is one level of a marking set an object carries: Level counts
// from 1 (the set's lowest level).
type MarkLevel struct {
	Set   string `json:"set"`
	Level int    `json:"level"`
}

// MarkParts are Marks taken apart.
type MarkParts struct {
	Nations []string    `json:"rel_nations,omitempty"`
	Sectors []string    `json:"rel_sectors,omitempty"`
	PAP     PAP         `json:"-"`
	Levels  []MarkLevel `json:"levels,omitempty"`
}

// Marks encodes p canonically: the most restrictive PAP, the highest level
// of each set; nations and sectors as given (a union; see Restrict for
// combining two releasabilities).
func (p MarkParts) Marks() Marks {
	var toks []string
	for _, n := range p.Nations {
		toks = append(toks, "<n:"+n+">")
	}
	for _, s := range p.Sectors {
		toks = append(toks, "<s:"+s+">")
	}
	if p.PAP > PAPUnknown {
		toks = append(toks, "<p:"+strconv.Itoa(int(p.PAP))+">")
	}
	top := map[string]int{}
	for _, l := range p.Levels {
		top[l.Set] = max(top[l.Set], l.Level)
	}
	for s, l := range top {
		toks = append(toks, "<m:"+s+":"+strconv.Itoa(l)+">")
	}
	slices.Sort(toks)
	return Marks(strings.Join(slices.Compact(toks), ""))
}

// Parts takes m apart; tokens it does not know are ignored (the stores
// only ever keep what Marks wrote).
func (m Marks) Parts() MarkParts {
	var p MarkParts
	s := string(m)
	for len(s) > 0 {
		end := strings.IndexByte(s, '>')
		if s[0] != '<' || end < 0 {
			break
		}
		tok := s[1:end]
		s = s[end+1:]
		kind, val, _ := strings.Cut(tok, ":")
		switch kind {
		case "n":
			p.Nations = append(p.Nations, val)
		case "s":
			p.Sectors = append(p.Sectors, val)
		case "p":
			n, _ := strconv.Atoi(val)
			p.PAP = max(p.PAP, PAP(n))
		case "m":
			set, l, _ := strings.Cut(val, ":")
			n, _ := strconv.Atoi(l)
			p.Levels = append(p.Levels, MarkLevel{set, n})
		}
	}
	return p
}

// PAP is m's PAP level.
func (m Marks) PAP() PAP { return m.Parts().PAP }

// Permit reports whether m lets viewer v see the version: v's nation is
// among the releasable nations (when m names any), its sector among the
// releasable sectors (when m names any), and it holds a clearance at or
// above each marking-set level m carries. A viewer without a nation (the
// public collection, the hub's own reads under a viewer) passes only
// versions without such restrictions. PAP does not restrict seeing.
func (m Marks) Permit(v Viewer) bool {
	if m == "" {
		return true
	}
	p := m.Parts()
	if len(p.Nations) > 0 && (v.Nation == "" || !slices.Contains(p.Nations, v.Nation)) {
		return false
	}
	if len(p.Sectors) > 0 && (v.Sector == "" || !slices.Contains(p.Sectors, v.Sector)) {
		return false
	}
	for _, l := range p.Levels {
		if v.Clearances[l.Set] < l.Level {
			return false
		}
	}
	return true
}

// String writes m for people: "REL TO GB, US; sectors finance; PAP:RED;
// UK-CLASS 2", "" when there are none.
func (m Marks) String() string {
	p := m.Parts()
	var out []string
	if len(p.Nations) > 0 {
		out = append(out, "REL TO "+strings.Join(p.Nations, ", "))
	}
	if len(p.Sectors) > 0 {
		out = append(out, "sectors "+strings.Join(p.Sectors, ", "))
	}
	if p.PAP > PAPUnknown {
		out = append(out, "PAP:"+strings.ToUpper(p.PAP.String()))
	}
	for _, l := range p.Levels {
		out = append(out, fmt.Sprintf("%s %d", l.Set, l.Level))
	}
	return strings.Join(out, "; ")
}

// Restrict combines the markings of one object from several marking
// definitions: nations and sectors each the intersection of those given
// (REL TO US, JP and REL TO US, GB is REL TO US; an empty intersection
// releases to no nation but the producer's own holding), the most
// restrictive PAP, the highest level of each set.
func Restrict(a, b MarkParts) MarkParts {
	out := MarkParts{PAP: max(a.PAP, b.PAP), Levels: append(slices.Clone(a.Levels), b.Levels...)}
	out.Nations = intersect(a.Nations, b.Nations)
	out.Sectors = intersect(a.Sectors, b.Sectors)
	return out
}

// intersect is the intersection of two lists where an empty list means
// "no restriction"; a restriction that excludes everything is kept as the
// impossible nation "--" so that it still restricts.
func intersect(a, b []string) []string {
	if len(a) == 0 {
		return slices.Clone(b)
	}
	if len(b) == 0 {
		return slices.Clone(a)
	}
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return []string{"--"}
	}
	return out
}

// MarkingExtension is the id of cyberpact's extension definition for
// marking definitions. A marking definition carrying it, e.g.
//
//	{"type": "marking-definition", "spec_version": "2.1",
//	 "id": "marking-definition--...", "created": "...", "name": "REL TO US, JP",
//	 "extensions": {"extension-definition--3c0e2b4e-5f7d-4f43-9f62-9d7a0c1b2a11":
//	   {"extension_type": "property-extension",
//	    "rel_nations": ["US", "JP"], "rel_sectors": ["defence"],
//	    "pap": "red", "marking_set": "UK-CLASS", "level": 2}}}
//
// marks every object that refers to it in object_marking_refs with
// releasability to those nations (and sectors), the PAP level and the
// level of the marking set; every property is optional.
const MarkingExtension = "extension-definition--3c0e2b4e-5f7d-4f43-9f62-9d7a0c1b2a11"

// ParseMarkingDefinition reads the markings a marking-definition object
// (its JSON) stands for: cyberpact's extension (MarkingExtension), or a
// PAP marking definition as OpenCTI and MISP write it (definition_type
// "PAP" or a name "PAP:RED"). ok is false for any other marking definition
// (TLP's and statements are not marks). Returns EINVALID naming the
// property for a malformed extension.
func ParseMarkingDefinition(raw json.RawMessage) (p MarkParts, ok bool, err error) {
	var md struct {
		Type           string                     `json:"type"`
		Name           string                     `json:"name"`
		DefinitionType string                     `json:"definition_type"`
		Definition     map[string]any             `json:"definition"`
		Extensions     map[string]json.RawMessage `json:"extensions"`
	}
	if err := json.Unmarshal(raw, &md); err != nil || md.Type != "marking-definition" {
		return p, false, nil
	}
	if ext, has := md.Extensions[MarkingExtension]; has {
		var e struct {
			Nations []string `json:"rel_nations"`
			Sectors []string `json:"rel_sectors"`
			PAP     string   `json:"pap"`
			Set     string   `json:"marking_set"`
			Level   int      `json:"level"`
		}
		if err := json.Unmarshal(ext, &e); err != nil {
			return p, false, Errorf(EINVALID, "extensions.%s: %v", MarkingExtension, err)
		}
		if p.Nations, err = CheckNations(e.Nations); err != nil {
			return p, false, Errorf(EINVALID, "extensions.%s.rel_nations: %s", MarkingExtension, ErrorMessage(err))
		}
		if p.Sectors, err = CheckSectors(e.Sectors); err != nil {
			return p, false, Errorf(EINVALID, "extensions.%s.rel_sectors: %s", MarkingExtension, ErrorMessage(err))
		}
		if e.PAP != "" {
			if p.PAP, err = ParsePAP(e.PAP); err != nil {
				return p, false, Errorf(EINVALID, "extensions.%s.pap: %s", MarkingExtension, ErrorMessage(err))
			}
		}
		if e.Set != "" || e.Level != 0 {
			if err := CheckSetName(e.Set); err != nil {
				return p, false, Errorf(EINVALID, "extensions.%s.marking_set: %s", MarkingExtension, ErrorMessage(err))
			}
			if e.Level < 1 || e.Level > MaxLevels {
				return p, false, Errorf(EINVALID, "extensions.%s.level: %d is not a level from 1 to %d", MarkingExtension, e.Level, MaxLevels)
			}
			p.Levels = []MarkLevel{{e.Set, e.Level}}
		}
		return p, true, nil
	}
	name := md.Name
	if strings.EqualFold(md.DefinitionType, "PAP") {
		if s, _ := md.Definition["PAP"].(string); s != "" {
			name = s
		}
	}
	if len(name) > 4 && strings.EqualFold(name[:4], "PAP:") {
		if p.PAP, err = ParsePAP(name); err == nil {
			return p, true, nil
		}
	}
	return p, false, nil
}

// CheckNations validates and upper-cases nation codes, sorted without
// repeats.
func CheckNations(ns []string) ([]string, error) {
	var out []string
	for _, n := range ns {
		c, err := CheckNation(n)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// CheckSectors validates and lower-cases sectors, sorted without repeats.
func CheckSectors(ss []string) ([]string, error) {
	var out []string
	for _, s := range ss {
		c, err := CheckSector(s)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// MaxLevels is the most levels a marking set may have.
const MaxLevels = 9

// MarkingSet is an ordered set of marking levels a hub admin defines, such
// as a national classification ("OFFICIAL", "SECRET", "TOP SECRET"). An
// object marked at level L of the set (counting from 1) is seen only by
// organisations holding a clearance of at least L in it (Org.Clearances).
type MarkingSet struct {
	Name   string   `json:"name"`   // upper-case letters, digits and -, e.g. UK-CLASS
	Levels []string `json:"levels"` // names of the levels, lowest first
}

// CheckSetName validates a marking set's name: 1 to 32 upper-case ASCII
// letters, digits and -.
func CheckSetName(name string) error {
	if name == "" || len(name) > 32 {
		return Errorf(EINVALID, "marking set name %q must be 1 to 32 characters", name)
	}
	for _, r := range name {
		if !('A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
			return Errorf(EINVALID, "marking set name %q: only upper-case letters, digits and - are allowed", name)
		}
	}
	return nil
}

// Clearances are an organisation's clearance in each marking set: the
// highest level (from 1) it may see; a set it is not listed in is 0.
type Clearances map[string]int

// String encodes the clearances as the stores keep them: "SET:L,SET:L"
// sorted by set.
func (c Clearances) String() string {
	var out []string
	for s, l := range c {
		if l > 0 {
			out = append(out, s+":"+strconv.Itoa(l))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// ParseClearances reads the form String writes. Returns EINVALID.
func ParseClearances(s string) (Clearances, error) {
	c := Clearances{}
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x == "" {
			continue
		}
		set, l, ok := strings.Cut(x, ":")
		n, err := strconv.Atoi(l)
		if !ok || err != nil || n < 0 || n > MaxLevels {
			return nil, Errorf(EINVALID, "clearance %q is not SET:LEVEL with a level from 0 to %d", x, MaxLevels)
		}
		if err := CheckSetName(set); err != nil {
			return nil, err
		}
		c[set] = n
	}
	return c, nil
}
