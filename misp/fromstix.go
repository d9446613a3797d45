package misp

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact/stix"
)

// FromSTIX converts STIX 2.1 objects to MISP events: one event per report
// (or grouping), holding what it refers to; objects no report refers to
// go to one more event. STIX this package wrote comes back as the event
// it was made from: every attribute with its type, category, value,
// to_ids, comment, uuid and timestamp, objects with their template and
// relations, tags, galaxies, sightings, reports and analyst data. Other
// STIX is read as well as its form allows: indicator patterns and
// observables become attributes of the types their properties imply,
// attack patterns, threat actors, intrusion sets, malware, tools and
// campaigns galaxy clusters.
func FromSTIX(objs []*stix.Object) ([]*Event, error) {
	r := &rev{index: map[string]*stix.Object{}, rels: map[string][]*stix.Object{}}
	for _, o := range objs {
		if o.ID == "" {
			return nil, fmt.Errorf("misp: a STIX object of type %q has no id", o.Type)
		}
		r.index[o.ID] = o
	}
	for _, o := range objs {
		if o.Type == "relationship" {
			src := o.String("source_ref")
			r.rels[src] = append(r.rels[src], o)
		}
	}
	var events []*Event
	claimed := map[string]bool{}
	for _, o := range objs {
		if o.Type != "report" && o.Type != "grouping" {
			continue
		}
		refs := stringsOf(o.Props["object_refs"])
		for _, id := range refs {
			claimed[id] = true
		}
		claimed[o.ID] = true
		ev, err := r.event(o, refs)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	// Observables reached from an observed-data or another observable are
	// read through those; the others stand on their own.
	reached := map[string]bool{}
	for _, o := range objs {
		if o.Type == "observed-data" || stix.KindOf(o.Type) == stix.KindSCO {
			collectRefs(o.Props, func(id string) {
				if id != o.ID {
					reached[id] = true
				}
			})
		}
	}
	var rest []string
	for _, o := range objs {
		if claimed[o.ID] || o.Type == "marking-definition" || o.Type == "identity" || o.Type == "relationship" {
			continue
		}
		if stix.KindOf(o.Type) == stix.KindSCO && reached[o.ID] {
			continue
		}
		rest = append(rest, o.ID)
	}
	if len(rest) > 0 {
		ev, err := r.event(nil, rest)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

type rev struct {
	index map[string]*stix.Object
	rels  map[string][]*stix.Object
}

// labelsOf splits an object's labels into this package's misp:key="value"
// labels and the rest (tags).
func labelsOf(o *stix.Object) (meta map[string]string, tags []Tag) {
	meta = map[string]string{}
	for _, l := range o.Labels {
		if strings.HasPrefix(l, "misp:") {
			if i := strings.IndexByte(l, '='); i > 0 && reservedLabels[l[5:i]] {
				if v, err := strconv.Unquote(l[i+1:]); err == nil {
					meta[l[5:i]] = v
					continue
				}
			}
		}
		tags = append(tags, Tag{Name: l})
	}
	for _, m := range o.ObjectMarkingRefs {
		if t, ok := markingTags[m]; ok {
			tags = append(tags, Tag{Name: t})
		}
	}
	return meta, tags
}

func uuidOf(id string) string {
	if i := strings.Index(id, "--"); i >= 0 {
		return id[i+2:]
	}
	return id
}

// unixTime turns a STIX timestamp into MISP's Unix seconds.
func unixTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.Unix(), 10)
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func (r *rev) event(rep *stix.Object, refs []string) (*Event, error) {
	ev := &Event{}
	galaxyRefs := map[string]bool{}
	if rep != nil {
		p := rep.Props
		ev.UUID = uuidOf(rep.ID)
		ev.Info = rep.String("name")
		if p["x_misp_no_info"] == true {
			ev.Info = ""
		}
		ev.Date = str(p, "x_misp_date")
		if ev.Date == "" && !rep.Created.IsZero() && p["x_misp_no_date"] != true {
			ev.Date = rep.Created.UTC().Format("2006-01-02")
		}
		if p["x_misp_no_timestamp"] != true {
			ev.Timestamp = unixTime(rep.Modified)
		}
		if ts, ok := p["x_misp_timestamp"].(string); ok {
			ev.Timestamp = ts
		}
		ev.Published = p["x_misp_published"] == true
		ev.PublishTimestamp = str(p, "x_misp_publish_timestamp")
		ev.ThreatLevelID = str(p, "x_misp_threat_level_id")
		ev.Analysis = str(p, "x_misp_analysis")
		ev.Distribution = str(p, "x_misp_distribution")
		ev.SharingGroupID = str(p, "x_misp_sharing_group_id")
		if sg, ok := p["x_misp_sharing_group"].(map[string]any); ok {
			ev.SharingGroup = &SharingGroup{UUID: str(sg, "uuid"), Name: str(sg, "name")}
		}
		if org, ok := p["x_misp_org"].(map[string]any); ok {
			ev.Org = &Org{UUID: str(org, "uuid"), Name: str(org, "name")}
		}
		if org, ok := p["x_misp_orgc"].(map[string]any); ok {
			ev.Orgc = &Org{UUID: str(org, "uuid"), Name: str(org, "name")}
		}
		if id := rep.CreatedByRef; id != "" {
			if idn := r.index[id]; idn != nil && idn.Type == "identity" {
				ev.Orgc = &Org{UUID: uuidOf(id), Name: idn.String("name")}
			}
		}
		_, ev.Tags = labelsOf(rep)
		ev.Extra = extraOf(p)
		for _, g := range stringsOf(p["x_misp_galaxy_refs"]) {
			galaxyRefs[g] = true
		}
	} else {
		ev.UUID = uuid5("00abedb4-aa42-466c-9c01-fed23315a9b7", "misp-from-stix:"+strings.Join(refs, ","))
		ev.Info = "STIX objects without a report"
	}
	if ev.UUID == "" {
		return nil, fmt.Errorf("misp: report %s has no uuid", rep.ID)
	}
	if ev.Timestamp == "" && (rep == nil || rep.Props["x_misp_no_timestamp"] != true) {
		// The latest change of what the event holds.
		var latest time.Time
		for _, id := range refs {
			if o := r.index[id]; o != nil && o.VersionKey().After(latest) {
				latest = o.VersionKey()
			}
		}
		ev.Timestamp = unixTime(latest)
		if ev.Date == "" && !latest.IsZero() {
			ev.Date = latest.UTC().Format("2006-01-02")
		}
	}
	// Containers first, so that galaxies, sightings and notes find the
	// attributes they hang off.
	attrByContainer := map[string][]*Attribute{}
	objByContainer := map[string]*Object{}
	objByUUID := map[string]*Object{}
	attrByUUID := map[string]*Attribute{}
	var clusterIDs []string
	var later []*stix.Object
	for _, id := range refs {
		o := r.index[id]
		if o == nil {
			continue
		}
		meta, _ := labelsOf(o)
		switch {
		case meta["galaxy-type"] != "" || (defaultGalaxy[o.Type] != "" && meta["type"] == "" && meta["name"] == ""):
			clusterIDs = append(clusterIDs, id)
		case meta["name"] == "" && (o.Type == "note" || o.Type == "opinion" || o.Type == "sighting" || o.Type == "relationship" || o.Type == "identity" || o.Type == "marking-definition"):
			later = append(later, o)
		case meta["name"] != "" || o.Type == "x-misp-object":
			obs := r.objects(o, meta)
			if len(obs) == 0 {
				continue
			}
			ev.Objects = append(ev.Objects, obs...)
			objByContainer[id] = obs[0]
			for _, ob := range obs {
				if ob.UUID != "" {
					objByUUID[ob.UUID] = ob
				}
				for _, a := range ob.Attributes {
					attrByContainer[id] = append(attrByContainer[id], a)
					if a.UUID != "" {
						attrByUUID[a.UUID] = a
					}
				}
			}
		default:
			as := r.attributes(o, meta)
			ev.Attributes = append(ev.Attributes, as...)
			attrByContainer[id] = as
			for _, a := range as {
				if a.UUID != "" {
					attrByUUID[a.UUID] = a
				}
			}
		}
	}
	// Galaxies: event-level clusters, and those related to attributes.
	attrClusters := map[string]bool{}
	for container, as := range attrByContainer {
		for _, rel := range r.rels[container] {
			tgt := r.index[rel.String("target_ref")]
			if tgt == nil {
				continue
			}
			if tm, _ := labelsOf(tgt); tm["galaxy-type"] == "" && (defaultGalaxy[tgt.Type] == "" || tm["type"] != "" || tm["name"] != "") {
				continue
			}
			attrClusters[tgt.ID] = true
			target := as
			if u := rel.String("x_misp_attribute_uuid"); u != "" && attrByUUID[u] != nil {
				target = []*Attribute{attrByUUID[u]}
			} else if len(as) > 1 {
				target = as[:1]
			}
			for _, a := range target {
				a.Galaxies = addCluster(a.Galaxies, tgt)
			}
		}
	}
	for _, id := range clusterIDs {
		if len(galaxyRefs) > 0 && !galaxyRefs[id] {
			continue
		}
		if len(galaxyRefs) == 0 && attrClusters[id] {
			continue
		}
		ev.Galaxies = addCluster(ev.Galaxies, r.index[id])
	}
	// Object references: from the object the relationship names (a pe
	// folded into its file's STIX object) or the container's, to the
	// object or attribute it names, else the target container's.
	for container, ob := range objByContainer {
		for _, rel := range r.rels[container] {
			src := ob
			if x := objByUUID[rel.String("x_misp_object_uuid")]; x != nil {
				src = x
			}
			tgtID := rel.String("target_ref")
			tgtUUID := rel.String("x_misp_referenced_uuid")
			switch {
			case tgtUUID != "" && (objByUUID[tgtUUID] != nil || attrByUUID[tgtUUID] != nil):
			case objByContainer[tgtID] != nil:
				tgtUUID = objByContainer[tgtID].UUID
			case len(attrByContainer[tgtID]) == 1:
				tgtUUID = attrByContainer[tgtID][0].UUID
			default:
				continue
			}
			typ := rel.String("relationship_type")
			if t := rel.String("x_misp_relationship_type"); t != "" {
				typ = t
			}
			src.References = append(src.References, &ObjectReference{UUID: uuidOf(rel.ID), ObjectUUID: src.UUID,
				ReferencedUUID: tgtUUID, RelationshipType: typ, Comment: rel.String("description"), Extra: extraOf(rel.Props)})
		}
		if list, ok := r.index[container].Props["x_misp_references"].([]any); ok {
			for _, e := range list {
				if m, ok := e.(map[string]any); ok {
					src := ob
					if x := objByUUID[str(m, "object_uuid")]; x != nil {
						src = x
					}
					var extra map[string]json.RawMessage
					if x, ok := m["extra"].(map[string]any); ok {
						extra = extraOf(map[string]any{"x_misp_extra": x})
					}
					src.References = append(src.References, &ObjectReference{UUID: str(m, "uuid"), ObjectUUID: src.UUID,
						ReferencedUUID: str(m, "referenced_uuid"), RelationshipType: str(m, "relationship_type"), Comment: str(m, "comment"), Extra: extra})
				}
			}
		}
	}
	for _, ob := range ev.Objects {
		sort.SliceStable(ob.References, func(i, j int) bool { return ob.References[i].UUID < ob.References[j].UUID })
	}
	// Notes, opinions, sightings.
	for _, o := range later {
		meta, _ := labelsOf(o)
		targets := stringsOf(o.Props["object_refs"])
		attrUUID := o.String("x_misp_attribute_uuid")
		if attrUUID == "" {
			attrUUID = o.String("x_misp_target_uuid")
		}
		switch {
		case o.Type == "note" && meta["data-layer"] == "Event Report":
			ev.EventReports = append(ev.EventReports, &EventReport{UUID: uuidOf(o.ID), Name: o.String("abstract"),
				Content: o.String("content"), Timestamp: unixTime(o.Modified), Distribution: o.String("x_misp_distribution"), Extra: extraOf(o.Props)})
		case o.Type == "note" || o.Type == "opinion" && meta["data-layer"] != "Sighting":
			d := &AnalystData{UUID: uuidOf(o.ID), Created: mispDateTime(o.Created), Modified: mispDateTime(o.Modified), Extra: extraOf(o.Props)}
			if a := stringsOf(o.Props["authors"]); len(a) > 0 {
				d.Authors = a[0]
			}
			if o.Type == "note" {
				d.Note, d.Language = o.String("content"), o.Lang
				if d.Note == "" {
					d.Note = o.String("abstract")
				}
			} else {
				d.Opinion, d.Comment = o.String("x_misp_opinion"), o.String("explanation")
				if d.Opinion == "" {
					d.Opinion = opinionValue(o.String("opinion"))
				}
			}
			attach := func(notes, opinions *[]*AnalystData) {
				if o.Type == "note" {
					*notes = append(*notes, d)
				} else {
					*opinions = append(*opinions, d)
				}
			}
			switch {
			case attrUUID != "" && attrByUUID[attrUUID] != nil:
				a := attrByUUID[attrUUID]
				attach(&a.Notes, &a.Opinions)
			case attrUUID != "" && objByUUID[attrUUID] != nil:
				ob := objByUUID[attrUUID]
				attach(&ob.Notes, &ob.Opinions)
			case len(targets) == 1 && objByContainer[targets[0]] != nil:
				ob := objByContainer[targets[0]]
				attach(&ob.Notes, &ob.Opinions)
			case len(targets) == 1 && len(attrByContainer[targets[0]]) == 1:
				a := attrByContainer[targets[0]][0]
				attach(&a.Notes, &a.Opinions)
			default:
				attach(&ev.Notes, &ev.Opinions)
			}
		case o.Type == "sighting" || o.Type == "opinion":
			s := &Sighting{UUID: uuidOf(o.ID), Type: o.String("x_misp_sighting_type"), Source: o.String("x_misp_source"), Extra: extraOf(o.Props)}
			if o.Type == "opinion" {
				s.Type = "1"
			}
			if t, err := stix.ParseTime(o.String("first_seen")); err == nil {
				s.DateSighting = unixTime(t)
			} else {
				s.DateSighting = unixTime(o.Created)
			}
			if org, ok := o.Props["x_misp_org"].(map[string]any); ok {
				s.Org = &Org{UUID: str(org, "uuid"), Name: str(org, "name")}
			}
			target := o.String("sighting_of_ref")
			if target == "" && len(targets) > 0 {
				target = targets[0]
			}
			var a *Attribute
			if attrUUID != "" {
				a = attrByUUID[attrUUID]
			} else if as := attrByContainer[target]; len(as) > 0 {
				a = as[0]
			}
			if a == nil || o.Props["x_misp_event_sighting"] == true {
				// Listed by the event (MISP's Sighting list), or of
				// nothing this event holds.
				s.AttributeUUID = attrUUID
				if s.AttributeUUID == "" && a != nil {
					s.AttributeUUID = a.UUID
				}
				ev.Sightings = append(ev.Sightings, s)
				continue
			}
			a.Sightings = append(a.Sightings, s)
		}
	}
	return ev, nil
}

func opinionValue(s string) string {
	switch s {
	case "strongly-disagree":
		return "0"
	case "disagree":
		return "25"
	case "neutral":
		return "50"
	case "agree":
		return "75"
	case "strongly-agree":
		return "100"
	}
	return ""
}

func mispDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

func extraOf(p map[string]any) map[string]json.RawMessage {
	m, ok := p["x_misp_extra"].(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		b, err := marshal(v)
		if err == nil {
			out[k] = b
		}
	}
	return out
}

// addCluster adds the cluster a STIX object stands for to its galaxy in
// gs, creating the galaxy.
func addCluster(gs []*Galaxy, o *stix.Object) []*Galaxy {
	meta, _ := labelsOf(o)
	p := o.Props
	gtype := meta["galaxy-type"]
	if gtype == "" {
		gtype = defaultGalaxy[o.Type]
	}
	var g *Galaxy
	for _, x := range gs {
		if x.Type == gtype {
			g = x
		}
	}
	if g == nil {
		g = &Galaxy{Type: gtype, Name: meta["galaxy-name"]}
		if gm, ok := p["x_misp_galaxy"].(map[string]any); ok {
			g.UUID, g.Name, g.Description, g.Namespace = str(gm, "uuid"), str(gm, "name"), str(gm, "description"), str(gm, "namespace")
			if x, ok := gm["extra"].(map[string]any); ok {
				g.Extra = extraOf(map[string]any{"x_misp_extra": x})
			}
		}
		gs = append(gs, g)
	}
	cl := &GalaxyCluster{UUID: uuidOf(o.ID), Value: o.String("name"), Description: o.String("description")}
	if cm, ok := p["x_misp_cluster"].(map[string]any); ok {
		cl.Type, cl.TagName, cl.Source, cl.Version, cl.RelationshipType = str(cm, "type"), str(cm, "tag_name"), str(cm, "source"), str(cm, "version"), str(cm, "relationship_type")
		cl.Authors = stringsOf(cm["authors"])
		if cm["no_uuid"] == true {
			cl.UUID = ""
		}
		if x, ok := cm["extra"].(map[string]any); ok {
			cl.Extra = extraOf(map[string]any{"x_misp_extra": x})
		}
	}
	if m, ok := p["x_misp_meta"].(map[string]any); ok {
		cl.Meta = plain(m).(map[string]any)
	} else {
		cl.Meta = map[string]any{}
		for _, r := range o.ExternalReferences {
			if r.ExternalID != "" && cl.Meta["external_id"] == nil {
				cl.Meta["external_id"] = r.ExternalID
			}
			if r.URL != "" {
				refs, _ := cl.Meta["refs"].([]any)
				cl.Meta["refs"] = append(refs, r.URL)
			}
		}
		if a := stringsOf(p["aliases"]); len(a) > 0 {
			cl.Meta["synonyms"] = toAny(a)
		}
		if len(cl.Meta) == 0 {
			cl.Meta = nil
		}
	}
	for _, x := range g.Clusters {
		if x.UUID == cl.UUID && x.Value == cl.Value {
			return gs
		}
	}
	g.Clusters = append(g.Clusters, cl)
	return gs
}

// plain turns json.Number back into float64 (or int64) so that metadata
// reads like MISP's.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

// values returns the values an indicator's pattern or an observed-data's
// observables hold, with their pattern paths, and whether they say all the
// pattern means.
func (r *rev) values(o *stix.Object) ([]pathValue, bool) {
	switch o.Type {
	case "indicator":
		if pt := o.String("pattern_type"); pt != "" && pt != "stix" {
			return nil, false
		}
		cs, complete := parsePattern(o.String("pattern"))
		out := make([]pathValue, len(cs))
		for i, c := range cs {
			out[i] = pathValue{c.f.String(), c.value}
		}
		return out, complete
	case "observed-data":
		return flatten(stringsOf(o.Props["object_refs"]), r.index), true
	}
	return nil, false
}

// take removes and returns the first value at path f.
func take(pvs []pathValue, used []bool, f string) (string, bool) {
	for i, pv := range pvs {
		if !used[i] && pv.f == f {
			used[i] = true
			return pv.value, true
		}
	}
	return "", false
}

// common fills what every attribute container says the same way.
func commonAttr(a *Attribute, o *stix.Object, meta map[string]string, tags []Tag) {
	p := o.Props
	a.UUID = uuidOf(o.ID)
	if u, ok := p["x_misp_uuid"].(string); ok {
		a.UUID = u
	}
	if p["x_misp_no_uuid"] == true {
		a.UUID = ""
	}
	a.Category = meta["category"]
	a.ToIDs = meta["to_ids"] == "True"
	a.Comment = o.String("x_misp_comment")
	if o.Type == "indicator" || o.Type == "campaign" || o.Type == "vulnerability" || o.Type == "threat-actor" {
		a.Comment = o.String("description")
	}
	if p["x_misp_no_timestamp"] != true {
		a.Timestamp = unixTime(o.Modified)
	}
	if ts, ok := p["x_misp_timestamp"].(string); ok {
		a.Timestamp = ts
	}
	a.FirstSeen = o.String("x_misp_first_seen")
	a.LastSeen = o.String("x_misp_last_seen")
	a.Distribution = o.String("x_misp_distribution")
	a.SharingGroupID = o.String("x_misp_sharing_group_id")
	a.DisableCorrelation = p["x_misp_disable_correlation"] == true
	a.Data = o.String("x_misp_data")
	a.Tags = tags
	a.Extra = extraOf(p)
}

// attributes converts a container that is not a MISP object.
func (r *rev) attributes(o *stix.Object, meta map[string]string) []*Attribute {
	_, tags := labelsOf(o)
	typ := meta["type"]
	if o.Type == "x-misp-attribute" {
		a := &Attribute{Type: o.String("x_misp_type"), Value: o.String("x_misp_value")}
		commonAttr(a, o, meta, tags)
		a.Category = firstNonEmpty(a.Category, o.String("x_misp_category"))
		return []*Attribute{a}
	}
	if typ != "" {
		a := &Attribute{Type: typ}
		commonAttr(a, o, meta, tags)
		switch {
		case ruleTypes[typ] != "" && o.Type == "indicator":
			a.Value = o.String("pattern")
			return []*Attribute{a}
		case sdoTypes[typ] != "":
			a.Value = o.String("name")
			return []*Attribute{a}
		case attributeFields[typ] != nil:
			pvs, _ := r.values(o)
			var used []bool
			var parts []string
			ok := false
			for _, fs := range append([][]field{attributeFields[typ]}, altFields[typ]...) {
				used = make([]bool, len(pvs))
				parts = parts[:0]
				ok = true
				for _, f := range fs {
					v, found := take(pvs, used, f.String())
					ok = ok && found
					parts = append(parts, v)
				}
				if ok {
					break
				}
			}
			if ok {
				if typ == "AS" {
					parts[0] = "AS" + parts[0]
				}
				a.Value = strings.Join(parts, "|")
				if v, kept := o.Props["x_misp_value"].(string); kept {
					a.Value = v
				}
				if d, found := take(pvs, used, "file:content_ref.payload_bin"); found {
					a.Data = d
				}
				return []*Attribute{a}
			}
		}
	}
	return r.foreign(o, tags)
}

// foreign converts STIX this package did not write.
func (r *rev) foreign(o *stix.Object, tags []Tag) []*Attribute {
	mk := func(typ, value string) *Attribute {
		a := &Attribute{Type: typ, Value: value, Category: categoryOf(typ), Timestamp: unixTime(o.Modified), Tags: tags}
		return a
	}
	switch o.Type {
	case "indicator":
		pt := o.String("pattern_type")
		if pt != "" && pt != "stix" {
			t := pt
			if ruleTypes[pt] == "" {
				t = "text"
			}
			a := mk(t, o.String("pattern"))
			a.UUID, a.ToIDs, a.Comment = uuidOf(o.ID), true, o.String("description")
			return []*Attribute{a}
		}
		pvs, complete := r.values(o)
		as := attrsFromValues(pvs, mk)
		if !complete || len(as) == 0 {
			a := mk("stix2-pattern", o.String("pattern"))
			a.UUID, a.ToIDs, a.Comment, a.Category = uuidOf(o.ID), true, o.String("description"), "Network activity"
			return []*Attribute{a}
		}
		for i, a := range as {
			a.ToIDs = true
			a.Comment = o.String("description")
			if i == 0 {
				a.UUID = uuidOf(o.ID)
			}
		}
		return as
	case "observed-data":
		pvs, _ := r.values(o)
		as := attrsFromValues(pvs, mk)
		if len(as) > 0 {
			as[0].UUID = uuidOf(o.ID)
		}
		return as
	default:
		if stix.KindOf(o.Type) == stix.KindSCO {
			// An observable on its own, as an observed-data of it alone.
			as := attrsFromValues(flatten([]string{o.ID}, r.index), mk)
			for i, a := range as {
				a.UUID = uuid5(uuidOf(o.ID), strconv.Itoa(i))
			}
			return as
		}
	case "campaign", "vulnerability", "threat-actor":
		t := map[string]string{"campaign": "campaign-name", "vulnerability": "vulnerability", "threat-actor": "threat-actor"}[o.Type]
		a := mk(t, o.String("name"))
		a.UUID, a.Comment = uuidOf(o.ID), o.String("description")
		return []*Attribute{a}
	}
	return nil
}

// reverseFields maps a pattern path to the attribute type a value there
// is, for STIX from elsewhere.
var reverseFields = map[string]string{
	"ipv4-addr:value": "ip-dst", "ipv6-addr:value": "ip-dst", "domain-name:value": "domain",
	"url:value": "url", "email-addr:value": "email", "file:name": "filename", "mutex:name": "mutex",
	"network-traffic:src_ref.value": "ip-src", "network-traffic:dst_ref.value": "ip-dst",
	"network-traffic:dst_port": "port", "mac-addr:value": "mac-address", "network-traffic:src_port": "port",
	"windows-registry-key:key": "regkey", "autonomous-system:number": "AS",
	"email-message:subject": "email-subject", "email-message:from_ref.value": "email-src",
	"email-message:to_refs[*].value": "email-dst", "user-account:account_login": "text",
	"x509-certificate:hashes.MD5": "x509-fingerprint-md5", "x509-certificate:hashes.'SHA-1'": "x509-fingerprint-sha1",
	"x509-certificate:hashes.'SHA-256'": "x509-fingerprint-sha256", "file:size": "size-in-bytes",
	"domain-name:resolves_to_refs[*].value": "ip-dst", "software:cpe": "cpe",
}

func init() {
	for t, alg := range hashTypes {
		if t == "sha512/224" || t == "sha512/256" {
			continue
		}
		reverseFields["file:hashes."+quoteKey(alg)] = t
		reverseFields["artifact:hashes."+quoteKey(alg)] = t
	}
	reverseFields["file:hashes.'SHA-512-224'"] = "sha512/224"
	reverseFields["file:hashes.'SHA-512-256'"] = "sha512/256"
	for _, t := range []string{"sha224", "sha256", "sha384", "sha512", "sha3-224", "sha3-256", "sha3-384", "sha3-512"} {
		reverseFields["file:hashes."+strings.ReplaceAll(hashTypes[t], "-", "")] = t
	}
	reverseFields["email-message:additional_header_fields.'Reply-To'"] = "email-reply-to"
	reverseFields["email-message:additional_header_fields.'X-Mailer'"] = "email-x-mailer"
	reverseFields["email-message:body"] = "email-body"
	reverseFields["email-message:message_id"] = "email-message-id"
}

func attrsFromValues(pvs []pathValue, mk func(string, string) *Attribute) []*Attribute {
	var out []*Attribute
	for _, pv := range pvs {
		if t := reverseFields[pv.f]; t != "" && pv.value != "" {
			out = append(out, mk(t, pv.value))
		}
	}
	return out
}

// categoryOf is the default MISP category of an attribute type.
func categoryOf(t string) string {
	switch {
	case hashTypes[t] != "" || t == "filename" || t == "size-in-bytes" || strings.HasPrefix(t, "filename|"):
		return "Payload delivery"
	case strings.HasPrefix(t, "email"):
		return "Payload delivery"
	case t == "regkey" || t == "mutex":
		return "Artifacts dropped"
	case t == "campaign-name" || t == "threat-actor":
		return "Attribution"
	case t == "vulnerability":
		return "External analysis"
	case t == "text":
		return "Other"
	}
	return "Network activity"
}

// objects converts a container that stands for a MISP object, and the
// objects folded into it (x_misp_objects: a file's pe and pe-sections).
func (r *rev) objects(o *stix.Object, meta map[string]string) []*Object {
	p := o.Props
	ob := &Object{UUID: uuidOf(o.ID), Name: meta["name"], MetaCategory: meta["meta-category"]}
	if u, ok := p["x_misp_uuid"].(string); ok {
		ob.UUID = u
	}
	if o.Type == "x-misp-object" && ob.Name == "" {
		ob.Name = o.String("x_misp_name")
	}
	ob.Description = o.String("x_misp_description")
	ob.TemplateUUID = o.String("x_misp_template_uuid")
	ob.Comment = o.String("x_misp_comment")
	if o.Type == "indicator" {
		ob.Comment = o.String("description")
	}
	ob.Timestamp = unixTime(o.Modified)
	if p["x_misp_no_timestamp"] == true {
		ob.Timestamp = ""
	}
	if ts, ok := p["x_misp_timestamp"].(string); ok {
		ob.Timestamp = ts
	}
	ob.Distribution = o.String("x_misp_distribution")
	ob.SharingGroupID = o.String("x_misp_sharing_group_id")
	ob.FirstSeen = o.String("x_misp_first_seen")
	ob.LastSeen = o.String("x_misp_last_seen")
	ob.Extra = extraOf(p)
	group := []*Object{ob}
	members, _ := p["x_misp_objects"].([]any)
	for _, x := range members {
		gm, ok := x.(map[string]any)
		if !ok {
			continue
		}
		g := &Object{UUID: str(gm, "uuid"), Name: str(gm, "name"), MetaCategory: str(gm, "meta-category"), Comment: str(gm, "comment"),
			Timestamp: str(gm, "timestamp"), Description: str(gm, "x_misp_description"), TemplateUUID: str(gm, "x_misp_template_uuid"),
			Distribution: str(gm, "x_misp_distribution"), SharingGroupID: str(gm, "x_misp_sharing_group_id"),
			FirstSeen: str(gm, "x_misp_first_seen"), LastSeen: str(gm, "x_misp_last_seen"), Extra: extraOf(gm)}
		group = append(group, g)
	}
	entries, _ := p["x_misp_attributes"].([]any)
	pvs, _ := r.values(o)
	used := make([]bool, len(pvs))
	for _, e := range entries {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		owner := ob
		if n, ok := m["object"].(json.Number); ok {
			if i, err := n.Int64(); err == nil && i > 0 && int(i) < len(group) {
				owner = group[i]
			}
		} else if n, ok := m["object"].(int); ok && n > 0 && n < len(group) {
			owner = group[n]
		}
		a := &Attribute{ObjectRelation: str(m, "object_relation"), Type: str(m, "type"), UUID: str(m, "uuid"),
			Category: str(m, "category"), ToIDs: m["to_ids"] == true, Comment: str(m, "comment"),
			Timestamp: str(m, "timestamp"), FirstSeen: str(m, "first_seen"), LastSeen: str(m, "last_seen"),
			Distribution: str(m, "distribution"), SharingGroupID: str(m, "sharing_group_id"), Data: str(m, "data"),
			DisableCorrelation: m["disable_correlation"] == true}
		for _, t := range stringsOf(m["tags"]) {
			a.Tags = append(a.Tags, Tag{Name: t})
		}
		if x, ok := m["extra"].(map[string]any); ok {
			a.Extra = extraOf(map[string]any{"x_misp_extra": x})
		}
		if v, has := m["value"].(string); has {
			a.Value = v
		} else if v, found := take(pvs, used, str(m, "path")); found {
			a.Value = str(m, "prefix") + v
		} else {
			// The value is neither kept nor where the entry says: the
			// STIX was changed since it was written.
			continue
		}
		owner.Attributes = append(owner.Attributes, a)
	}
	if len(entries) == 0 && ob.Name != "" {
		// A labelled object without its entries (misp-stix writes none):
		// each value's relation from the template's paths or its custom
		// property's name, its type from what the path holds.
		// The same relation and value reached twice (two domains both
		// resolving to one address) is one attribute.
		seen := map[[2]string]bool{}
		for _, pv := range pvs {
			rel, typ := relationOf(ob.Name, pv.f, pv.value)
			if rel == "" || seen[[2]string{rel, pv.value}] {
				continue
			}
			seen[[2]string{rel, pv.value}] = true
			ob.Attributes = append(ob.Attributes, &Attribute{ObjectRelation: rel, Type: typ, Value: pv.value})
		}
	}
	return group
}

// relationOf names the relation and attribute type of a value at path f
// in an object of template name, for STIX that does not say: "" when the
// path is structure rather than a value.
func relationOf(name, f, value string) (rel, typ string) {
	i := strings.IndexByte(f, ':')
	if i < 0 || f == "" {
		return "", ""
	}
	path := f[i+1:]
	if t, ok := templates[name]; ok {
		var cands []string
		for r, tf := range t.fields {
			if tf.String() == f {
				cands = append(cands, r)
			}
		}
		// Relations named after an attribute type first (ip-dst before
		// ip), then by name.
		sort.Slice(cands, func(i, j int) bool {
			ti, tj := attributeFields[cands[i]] != nil, attributeFields[cands[j]] != nil
			if ti != tj {
				return ti
			}
			return cands[i] < cands[j]
		})
		// An address or a name at the same path: ip-dst or hostname-dst
		// by what the value is.
		hasIP, hasHost := false, false
		for _, c := range cands {
			hasIP = hasIP || strings.HasPrefix(c, "ip")
			hasHost = hasHost || strings.HasPrefix(c, "hostname")
		}
		isIP := ipKind(value) != "domain-name"
		for _, c := range cands {
			if rel == "" {
				rel = c
			}
			if hasIP && hasHost && (strings.HasPrefix(c, "ip") && isIP || strings.HasPrefix(c, "hostname") && !isIP) {
				rel = c
				break
			}
		}
	}
	if rel == "" && path == "account_type" && strings.HasPrefix(name, value+"-") {
		return "", "" // github-user's account_type github: the template itself
	}
	if rel == "" {
		p := strings.TrimSuffix(path, "[*]")
		if !strings.HasPrefix(p, "x_misp_") {
			if path == "protocols[*]" || strings.HasSuffix(path, ".type") {
				return "", ""
			}
			rel = path
		} else {
			rel = strings.ReplaceAll(strings.TrimPrefix(p, "x_misp_"), "_", "-")
		}
	}
	typ = reverseFields[f]
	switch {
	case typ != "":
	case attributeFields[rel] != nil || ruleTypes[rel] != "":
		typ = rel
	default:
		typ = "text"
	}
	return rel, typ
}
