package misp

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// Result is one MISP event converted to STIX 2.1.
type Result struct {
	// Objects are the STIX objects, each valid by stix.Validate: the
	// creator's identity and TLP marking definitions first, the report
	// standing for the event last.
	Objects []*stix.Object
	// ReportID is the id of the report standing for the event.
	ReportID string
	// Audience is the event's MISP distribution, narrowed by anything in
	// it distributed more narrowly, for the caller to map onto its own
	// audiences.
	Audience Audience
}

// Audience is a MISP distribution level and sharing group: who MISP was
// told to share the event with. It is a hint for the caller, which alone
// knows its organisations and groups.
type Audience struct {
	Distribution string        // "0" organisation only, "1" community, "2" connected communities, "3" all, "4" sharing group
	SharingGroup *SharingGroup // for distribution "4"
}

// eventAudience is the narrowest distribution of the event and of what it
// holds, as the objects are released together: an attribute or object for
// the organisation only makes the whole event so, one for a sharing group
// makes a community-wide event that group's, and one for another sharing
// group than the event's (which only a local id names) the organisation's.
// "5" (inherit) and "" narrow nothing.
func eventAudience(ev *Event) Audience {
	a := Audience{Distribution: ev.Distribution, SharingGroup: ev.SharingGroup}
	narrow := func(dist, group string) {
		switch dist {
		case "0":
			a = Audience{Distribution: "0"}
		case "4":
			switch a.Distribution {
			case "0":
			case "4":
				if group != ev.SharingGroupID || group == "" {
					a = Audience{Distribution: "0"}
				}
			default:
				if group != "" && group == ev.SharingGroupID && ev.SharingGroup != nil {
					a = Audience{Distribution: "4", SharingGroup: ev.SharingGroup}
				} else {
					a = Audience{Distribution: "0"}
				}
			}
		}
	}
	for _, at := range ev.Attributes {
		narrow(at.Distribution, at.SharingGroupID)
	}
	for _, o := range ev.Objects {
		narrow(o.Distribution, o.SharingGroupID)
		for _, at := range o.Attributes {
			narrow(at.Distribution, at.SharingGroupID)
		}
	}
	return a
}

// Kind returns the cyberpact audience kind closest to the distribution:
// AudienceOrg for "0", AudienceAll for "1" to "3", AudienceGroup for "4"
// (the caller resolves the group, by SharingGroup's name or uuid), and 0
// (no hint: the caller's default) for anything else.
func (a Audience) Kind() cyberpact.AudienceKind {
	switch a.Distribution {
	case "0":
		return cyberpact.AudienceOrg
	case "1", "2", "3":
		return cyberpact.AudienceAll
	case "4":
		return cyberpact.AudienceGroup
	}
	return 0
}

// tlpTags maps MISP tlp: tags to the STIX TLP marking definitions, TLP 1.0
// where the level exists there (as misp-stix does), TLP 2.0 otherwise.
var tlpTags = map[string]string{
	"tlp:white":        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
	"tlp:green":        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
	"tlp:amber":        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
	"tlp:red":          "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
	"tlp:clear":        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	"tlp:amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
}

// markingTags is the reverse of tlpTags, TLP 2.0 ids included.
var markingTags = map[string]string{
	"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "tlp:green",
	"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "tlp:amber",
	"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "tlp:red",
}

func init() {
	for tag, id := range tlpTags {
		markingTags[id] = tag
	}
}

// Labels this package writes for its own bookkeeping; any other label is
// a MISP tag.
var reservedLabels = map[string]bool{
	"type": true, "category": true, "to_ids": true, "name": true, "meta-category": true,
	"galaxy-name": true, "galaxy-type": true, "data-layer": true,
}

func label(k, v string) string { return "misp:" + k + "=" + strconv.Quote(v) }

// ToSTIX converts one MISP event to STIX 2.1 objects. Attributes with
// to_ids become indicators with STIX patterns, the others observed-data
// with cyber observables; objects likewise, or the domain object their
// template describes; galaxy clusters become attack-pattern,
// threat-actor, intrusion-set, malware, tool... objects; tags become
// labels, tlp: tags marking references; event reports and analyst notes
// become notes, sightings sightings (false positives opinions); the
// event becomes a report referring to everything. What STIX has no
// property for is kept in x_misp_* custom properties. Every object
// returned passes stix.Validate without errors.
func ToSTIX(ev *Event) (*Result, error) {
	c := &conv{ev: ev, containers: map[string]string{}, clusters: map[string]string{}, markings: map[string]bool{}, identities: map[string]bool{}, scos: map[string]string{}, used: map[string]bool{},
		absorbed: map[*Object]bool{}, groups: map[*Object][]*Object{}, objByUUID: map[string]*Object{}, objIndex: map[*Object]int{}}
	return c.run()
}

type conv struct {
	ev         *Event
	identity   string
	evTime     string // the event's timestamp as a STIX timestamp
	out        []map[string]any
	head       []map[string]any // identities and markings, written first
	refs       []string
	containers map[string]string // attribute or object uuid -> STIX id
	clusters   map[string]string // cluster key -> STIX id
	markings   map[string]bool
	identities map[string]bool
	scos       map[string]string     // observable id -> its JSON
	absorbed   map[*Object]bool      // objects folded into another's STIX form
	groups     map[*Object][]*Object // a file, its pe and the pe's sections
	objByUUID  map[string]*Object
	objIndex   map[*Object]int
	used       map[string]bool // uuids given to containers
	pending    []pendingRel
}

// pendingRel is a relationship whose target may not be converted yet.
type pendingRel struct {
	src, srcUUID, targetUUID, typ, id, comment string
	extra                                      map[string]json.RawMessage
}

func (c *conv) run() (*Result, error) {
	ev := c.ev
	c.evTime = stixTime(ev.Timestamp, ev.Date)
	if c.evTime == "" {
		// No time at all: the epoch, the report keeps x_misp_no_timestamp.
		c.evTime = "1970-01-01T00:00:00.000Z"
	}
	if !validUUID(ev.UUID) {
		return nil, fmt.Errorf("misp: event uuid %q is not a UUID", ev.UUID)
	}
	if ev.Orgc != nil && ev.Orgc.Name != "" {
		c.identity = c.orgIdentity(ev.Orgc)
	}
	for i, a := range ev.Attributes {
		c.attribute(a, fmt.Sprintf("Attribute[%d]", i))
	}
	for i, o := range ev.Objects {
		c.objIndex[o] = i
		if o.UUID != "" {
			c.objByUUID[o.UUID] = o
		}
	}
	// Files with the pe they include fold it in, wherever the pe and its
	// sections are listed.
	for _, o := range ev.Objects {
		if g := c.peGroup(o); g != nil {
			c.groups[o] = g
			for _, m := range g[1:] {
				c.absorbed[m] = true
			}
		}
	}
	for i, o := range ev.Objects {
		c.object(o, fmt.Sprintf("Object[%d]", i))
	}
	for i, o := range ev.Objects {
		for j, r := range o.References {
			src := c.containers[o.UUID]
			if src == "" {
				continue
			}
			id := "relationship--" + c.uuidFor(r.UUID, fmt.Sprintf("Object[%d].ObjectReference[%d]", i, j))
			c.pending = append(c.pending, pendingRel{src: src, srcUUID: o.UUID, targetUUID: r.ReferencedUUID, typ: r.RelationshipType, id: id, comment: r.Comment, extra: r.Extra})
		}
	}
	for _, p := range c.pending {
		tgt := c.containers[p.targetUUID]
		if tgt == "" || tgt == p.src {
			// The reference points outside the event, or within one STIX
			// object (a file and its pe): kept on the source.
			c.addExtraRef(p)
			continue
		}
		typ := p.typ
		if typ == "" {
			typ = "related-to"
		}
		rel := c.sdo("relationship", p.id, c.evTime)
		rel["relationship_type"] = sanitizeRelType(typ)
		if rel["relationship_type"] != typ {
			rel["x_misp_relationship_type"] = typ
		}
		rel["source_ref"] = p.src
		rel["target_ref"] = tgt
		setStr(rel, "x_misp_object_uuid", p.srcUUID)
		setStr(rel, "x_misp_referenced_uuid", p.targetUUID)
		if len(p.extra) > 0 {
			rel["x_misp_extra"] = rawMap(p.extra)
		}
		setStr(rel, "description", p.comment)
		c.emit(rel)
	}
	var evGalaxies []string
	for _, g := range ev.Galaxies {
		evGalaxies = append(evGalaxies, c.galaxy(g)...)
	}
	for i, r := range ev.EventReports {
		c.eventReport(r, fmt.Sprintf("EventReport[%d]", i))
	}
	c.analystOn(ev.Notes, ev.Opinions, "report--"+ev.UUID, "", "Event")
	for i, s := range ev.Sightings {
		c.sighting(s, s.AttributeUUID, fmt.Sprintf("Sighting[%d]", i))
	}
	report := c.sdo("report", "report--"+ev.UUID, c.evTime)
	name := ev.Info
	if name == "" {
		name = "MISP event " + ev.UUID
		report["x_misp_no_info"] = true
	}
	report["name"] = name
	pub := c.evTime
	if ev.Published && ev.PublishTimestamp != "" {
		if pub = stixTime(ev.PublishTimestamp, ""); pub == "" {
			pub = c.evTime
		}
	}
	report["published"] = pub
	c.tags(report, ev.Tags)
	setStr(report, "x_misp_date", ev.Date)
	if ev.Date == "" {
		report["x_misp_no_date"] = true
	}
	if ev.Published {
		report["x_misp_published"] = true
	}
	setStr(report, "x_misp_publish_timestamp", ev.PublishTimestamp)
	setStr(report, "x_misp_threat_level_id", ev.ThreatLevelID)
	setStr(report, "x_misp_analysis", ev.Analysis)
	setStr(report, "x_misp_distribution", ev.Distribution)
	setStr(report, "x_misp_sharing_group_id", ev.SharingGroupID)
	if ev.SharingGroup != nil {
		report["x_misp_sharing_group"] = map[string]any{"uuid": ev.SharingGroup.UUID, "name": ev.SharingGroup.Name}
	}
	if ev.Org != nil {
		report["x_misp_org"] = map[string]any{"uuid": ev.Org.UUID, "name": ev.Org.Name}
	}
	if ev.Orgc != nil && c.identity == "" {
		report["x_misp_orgc"] = map[string]any{"uuid": ev.Orgc.UUID, "name": ev.Orgc.Name}
	}
	if ev.Timestamp == "" {
		report["x_misp_no_timestamp"] = true
	} else if stixTime(ev.Timestamp, "") == "" {
		report["x_misp_timestamp"] = ev.Timestamp
	}
	if len(evGalaxies) > 0 {
		report["x_misp_galaxy_refs"] = toAny(evGalaxies)
	}
	if len(ev.Extra) > 0 {
		report["x_misp_extra"] = rawMap(ev.Extra)
	}
	refs := c.refs
	if len(refs) == 0 {
		// A report must refer to something: an empty event refers to its
		// creator.
		if c.identity != "" {
			refs = []string{c.identity}
		} else {
			refs = []string{report["id"].(string)}
		}
	}
	report["object_refs"] = toAny(refs)
	res := &Result{ReportID: report["id"].(string), Audience: eventAudience(ev)}
	all := append(append(c.head, c.out...), report)
	res.Objects = make([]*stix.Object, 0, len(all))
	for _, m := range all {
		o, err := stix.FromProps(m)
		if err != nil {
			return nil, fmt.Errorf("misp: event %s: %s: %w", ev.UUID, m["id"], err)
		}
		for _, p := range stix.Validate(o) {
			if !p.Warning {
				return nil, fmt.Errorf("misp: event %s: converted object is not valid STIX: %w", ev.UUID, p)
			}
		}
		res.Objects = append(res.Objects, o)
	}
	return res, nil
}

// emit adds an object the report refers to.
func (c *conv) emit(m map[string]any) {
	c.out = append(c.out, m)
	c.refs = append(c.refs, m["id"].(string))
}

// addSCOs adds the cyber observables of one observed-data, which the
// report reaches through it. An observable already added (the same
// deterministic id) is added once; false, adding nothing, when one has
// the id of an observable already added with other properties, which
// would make the two observed-data say the same thing.
func (c *conv) addSCOs(scos []map[string]any) bool {
	raws := make([]string, len(scos))
	for i, m := range scos {
		b, err := marshal(m)
		if err != nil {
			return false
		}
		raws[i] = string(b)
		if prev, ok := c.scos[m["id"].(string)]; ok && prev != raws[i] {
			return false
		}
	}
	for i, m := range scos {
		id := m["id"].(string)
		if _, ok := c.scos[id]; !ok {
			c.scos[id] = raws[i]
			c.out = append(c.out, m)
		}
	}
	return true
}

// orgIdentityTime is the created and modified time of the identity of a
// MISP organisation, which MISP does not date.
const orgIdentityTime = "2000-01-01T00:00:00.000Z"

func (c *conv) orgIdentity(o *Org) string {
	u := o.UUID
	if !validUUID(u) {
		u = uuid5(c.ev.UUID, "org:"+o.Name)
	}
	id := "identity--" + u
	if !c.identities[id] {
		c.identities[id] = true
		// The same in every event the organisation made: members who
		// import different events of one MISP community then hold one
		// identity (the hub answers "already present" to all but the
		// first), instead of a version per event that only its first
		// importer may add to.
		m := map[string]any{"type": "identity", "spec_version": "2.1", "id": id,
			"created": orgIdentityTime, "modified": orgIdentityTime, "name": o.Name, "identity_class": "organization"}
		if o.Name == "" {
			m["name"] = "MISP organisation " + o.UUID
		}
		c.head = append(c.head, m)
	}
	return id
}

// sdo starts a STIX domain object with the common properties.
func (c *conv) sdo(typ, id, ts string) map[string]any {
	m := map[string]any{"type": typ, "spec_version": "2.1", "id": id, "created": ts, "modified": ts}
	if c.identity != "" {
		m["created_by_ref"] = c.identity
	}
	return m
}

// tags puts tlp: tags in object_marking_refs and every other tag in
// labels.
func (c *conv) tags(m map[string]any, tags []Tag) {
	labels, _ := m["labels"].([]any)
	var marks []any
	for _, t := range tags {
		if id, ok := tlpTags[strings.ToLower(t.Name)]; ok && t.Name == strings.ToLower(t.Name) {
			marks = append(marks, id)
			if !c.markings[id] {
				c.markings[id] = true
				if def, ok := stix.TLPDefinition(id); ok {
					c.head = append(c.head, def)
				}
			}
			continue
		}
		labels = append(labels, t.Name)
	}
	if len(labels) > 0 {
		m["labels"] = labels
	}
	if len(marks) > 0 {
		m["object_marking_refs"] = marks
	}
}

// attrMeta puts the attribute's own fields that STIX has no common
// property for on its container.
func attrMeta(m map[string]any, a *Attribute) {
	setStr(m, "x_misp_distribution", a.Distribution)
	setStr(m, "x_misp_sharing_group_id", a.SharingGroupID)
	setStr(m, "x_misp_first_seen", a.FirstSeen)
	setStr(m, "x_misp_last_seen", a.LastSeen)
	if a.DisableCorrelation {
		m["x_misp_disable_correlation"] = true
	}
	if a.Timestamp == "" {
		m["x_misp_no_timestamp"] = true
	} else if stixTime(a.Timestamp, "") == "" {
		m["x_misp_timestamp"] = a.Timestamp
	}
	if a.UUID == "" {
		m["x_misp_no_uuid"] = true
	}
	if len(a.Extra) > 0 {
		m["x_misp_extra"] = rawMap(a.Extra)
	}
}

func (c *conv) attrLabels(a *Attribute) []any {
	l := []any{label("type", a.Type)}
	if a.Category != "" {
		l = append(l, label("category", a.Category))
	}
	if a.ToIDs {
		l = append(l, label("to_ids", "True"))
	}
	return l
}

// attribute converts one standalone attribute.
func (c *conv) attribute(a *Attribute, path string) {
	u := c.containerUUID(a.UUID, path)
	ts := stixTime(a.Timestamp, "")
	if ts == "" {
		ts = c.evTime
	}
	var m map[string]any
	switch {
	case ruleTypes[a.Type] != "" && a.Value != "":
		m = c.sdo("indicator", "indicator--"+u, ts)
		m["pattern"] = a.Value
		m["pattern_type"] = ruleTypes[a.Type]
		m["valid_from"] = validFrom(a.FirstSeen, ts)
		setStr(m, "description", a.Comment)
		c.killChain(m, a.Category)
	case sdoTypes[a.Type] != "" && a.Value != "":
		st := sdoTypes[a.Type]
		m = c.sdo(st, st+"--"+u, ts)
		m["name"] = a.Value
		setStr(m, "description", a.Comment)
		if st == "vulnerability" && cveRE.MatchString(a.Value) {
			m["external_references"] = []any{map[string]any{"source_name": "cve", "external_id": a.Value}}
		}
	case attributeFields[a.Type] != nil:
		cs, ok := attrComparisons(a)
		if ok && a.ToIDs {
			m = c.sdo("indicator", "indicator--"+u, ts)
			m["pattern"] = buildPattern(cs)
			m["pattern_type"] = "stix"
			m["pattern_version"] = "2.1"
			m["valid_from"] = validFrom(a.FirstSeen, ts)
			if vu := stixISO(a.LastSeen); vu != "" && vu > m["valid_from"].(string) {
				m["valid_until"] = vu
			}
			setStr(m, "description", a.Comment)
			c.killChain(m, a.Category)
			if a.Data != "" && !hasData(cs) {
				m["x_misp_data"] = a.Data
			}
			if !validMap(m) {
				// A value the pattern language refuses (a malformed
				// hash): kept as an observable or custom object.
				m = nil
			}
		}
		if m == nil && ok {
			scos, refs, ok2 := buildObservables(cs, u)
			if ok2 && c.addSCOs(scos) {
				m = c.sdo("observed-data", "observed-data--"+u, ts)
				c.observed(m, a.FirstSeen, a.LastSeen, ts, refs)
				setStr(m, "x_misp_comment", a.Comment)
				if a.Data != "" && !hasData(cs) {
					m["x_misp_data"] = a.Data
				}
			}
		}
	}
	if m != nil && a.Type == "AS" && asNumber(a.Type, a.Value) == a.Value {
		// A number without MISP's "AS": FromSTIX would add it.
		m["x_misp_value"] = a.Value
	}
	if m == nil {
		m = c.sdo("x-misp-attribute", "x-misp-attribute--"+u, ts)
		m["x_misp_type"] = a.Type
		m["x_misp_value"] = a.Value
		setStr(m, "x_misp_category", a.Category)
		setStr(m, "x_misp_comment", a.Comment)
		setStr(m, "x_misp_data", a.Data)
	}
	m["labels"] = c.attrLabels(a)
	c.tags(m, a.Tags)
	attrMeta(m, a)
	if a.UUID != "" && a.UUID != u {
		// A uuid the event repeats, or not a UUID, or in capitals.
		m["x_misp_uuid"] = a.UUID
	}
	id := m["id"].(string)
	if a.UUID != "" {
		c.containers[a.UUID] = id
	}
	c.emit(m)
	c.attrExtras(a, id, path)
}

// attrExtras converts what hangs off an attribute: galaxy clusters
// (related to its container), sightings and analyst data.
func (c *conv) attrExtras(a *Attribute, container, path string) {
	for gi, g := range a.Galaxies {
		for ci, cid := range c.galaxy(g) {
			rel := c.sdo("relationship", "relationship--"+uuid5(c.ev.UUID, fmt.Sprintf("%s.Galaxy[%d].%d", path, gi, ci)), c.evTime)
			typ := "related-to"
			if strings.HasPrefix(container, "indicator--") {
				typ = "indicates"
			}
			rel["relationship_type"] = typ
			rel["source_ref"] = container
			rel["target_ref"] = cid
			rel["x_misp_attribute_uuid"] = a.UUID
			c.emit(rel)
		}
	}
	for i, s := range a.Sightings {
		c.sightingOf(s, container, a.UUID, fmt.Sprintf("%s.Sighting[%d]", path, i))
	}
	c.analystOn(a.Notes, a.Opinions, container, a.UUID, path)
}

var cveRE = regexp.MustCompile(`^CVE-\d{4}-\d+$`)

func hasData(cs []comparison) bool {
	for _, c := range cs {
		if c.kind == litBinary {
			return true
		}
	}
	return false
}

// attrComparisons splits a standalone attribute's value over its type's
// fields. ok is false when the value does not fit them (a composite type
// without its parts, a non-integer port).
func attrComparisons(a *Attribute) ([]comparison, bool) {
	fs := attributeFields[a.Type]
	var parts []string
	if len(fs) == 1 {
		parts = []string{asNumber(a.Type, a.Value)}
	} else {
		parts = strings.SplitN(a.Value, "|", len(fs))
		if len(parts) != len(fs) {
			return nil, false
		}
	}
	cs := make([]comparison, 0, len(fs)+1)
	for i, f := range fs {
		k, ok := kindFor(f, parts[i])
		if !ok || parts[i] == "" {
			return nil, false
		}
		cs = append(cs, comparison{f: f, value: parts[i], kind: k})
	}
	if a.Data != "" && (a.Type == "attachment" || a.Type == "malware-sample") && isBase64(a.Data) {
		cs = append(cs, comparison{f: fld("file:content_ref.payload_bin"), value: a.Data, kind: litBinary})
	}
	return cs, true
}

// asNumber returns the number of an AS attribute's value written as MISP
// writes it, "AS174" (what STIX's autonomous-system number holds; FromSTIX
// writes the "AS" back); other values and types unchanged.
func asNumber(typ, v string) string {
	if typ == "AS" && asRE.MatchString(v) {
		return v[2:]
	}
	return v
}

var asRE = regexp.MustCompile(`^AS(0|[1-9][0-9]*)$`)

func isBase64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return err == nil
}

// kindFor says how a value is written at a field: integer properties need
// the canonical form of an integer, fractional ones of a number (ok false
// otherwise, as "08" or "7.50" would not come back as written), timestamp
// ones a STIX timestamp.
func kindFor(f field, v string) (litKind, bool) {
	segs, err := splitPath(f.path)
	if err != nil {
		return 0, false
	}
	last := segs[len(segs)-1].name
	switch {
	case intProps[last]:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != v || n < 0 {
			return 0, false
		}
		return litInt, true
	case floatProps[last]:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || strconv.FormatFloat(x, 'f', -1, 64) != v {
			return 0, false
		}
		return litFloat, true
	case timeProps[last]:
		if _, err := stix.ParseTime(v); err != nil {
			return 0, false
		}
	}
	return litString, true
}

func (c *conv) killChain(m map[string]any, category string) {
	if category != "" {
		m["kill_chain_phases"] = []any{map[string]any{"kill_chain_name": "misp-category", "phase_name": category}}
	}
}

func (c *conv) observed(m map[string]any, first, last, ts string, refs []string) {
	fo := stixISO(first)
	if fo == "" {
		fo = ts
	}
	lo := stixISO(last)
	if lo == "" || lo < fo {
		lo = fo
	}
	m["first_observed"] = fo
	m["last_observed"] = lo
	m["number_observed"] = 1
	m["object_refs"] = toAny(refs)
}

// object converts one MISP object, and with a file object the pe object it
// includes and that pe's sections, folded into the file's Windows PE
// binary extension, with a registry-key the values it contains, as
// misp-stix does; when the fold would not be valid STIX each is converted
// on its own.
func (c *conv) object(o *Object, path string) {
	if c.absorbed[o] {
		return
	}
	if group := c.groups[o]; group != nil {
		if c.convert(group, path) {
			return
		}
		c.convert([]*Object{o}, path)
		for _, m := range group[1:] {
			i := c.objIndex[m]
			c.convert([]*Object{m}, fmt.Sprintf("Object[%d]", i))
		}
		return
	}
	c.convert([]*Object{o}, path)
}

// peGroup returns a file object, the one pe object it includes and the
// pe-sections that pe includes, or a registry-key object and the
// registry-key-values it contains; nil for any other object.
func (c *conv) peGroup(o *Object) []*Object {
	if o.Name == "registry-key" {
		group := []*Object{o}
		for _, r := range o.References {
			if t := c.objByUUID[r.ReferencedUUID]; t != nil && t.Name == "registry-key-value" && r.RelationshipType == "contains" && !c.absorbed[t] && !contains(group, t) {
				group = append(group, t)
			}
		}
		if len(group) == 1 {
			return nil
		}
		return group
	}
	if o.Name != "file" {
		return nil
	}
	var pe *Object
	for _, r := range o.References {
		if t := c.objByUUID[r.ReferencedUUID]; t != nil && t.Name == "pe" && r.RelationshipType == "includes" && !c.absorbed[t] {
			if pe != nil {
				return nil // two: which is the file's is not clear
			}
			pe = t
		}
	}
	if pe == nil {
		return nil
	}
	group := []*Object{o, pe}
	for _, r := range pe.References {
		if t := c.objByUUID[r.ReferencedUUID]; t != nil && t.Name == "pe-section" && r.RelationshipType == "includes" && !c.absorbed[t] {
			group = append(group, t)
		}
	}
	return group
}

func contains(group []*Object, o *Object) bool {
	for _, g := range group {
		if g == o {
			return true
		}
	}
	return false
}

// convert converts an object (group[0]) with the members folded into it;
// false, converting nothing, when a group of several would not be valid
// STIX.
func (c *conv) convert(group []*Object, path string) bool {
	o := group[0]
	u := c.containerUUID(o.UUID, path)
	ts := stixTime(o.Timestamp, "")
	if ts == "" {
		ts = c.evTime
	}
	labels := []any{label("name", o.Name)}
	if o.MetaCategory != "" {
		labels = append(labels, label("meta-category", o.MetaCategory))
	}
	toIDs := false
	for _, g := range group {
		for _, a := range g.Attributes {
			toIDs = toIDs || a.ToIDs
		}
	}
	if toIDs {
		labels = append(labels, label("to_ids", "True"))
	}
	var m map[string]any
	if st, ok := sdoTemplates[o.Name]; ok && len(group) == 1 {
		m = c.sdoObject(o, st, u, ts)
	} else if t, ok := templates[o.Name]; ok {
		var cs []comparison
		var meta []any
		for i, g := range group {
			tp, custom := t, ""
			if i > 0 {
				tp, custom = memberTemplates[g.Name], memberCustom[g.Name]
			}
			gcs, gmeta := objComparisons(tp, custom, g.Attributes)
			if tp.accountType != "" && len(gcs) > 0 {
				gcs = append([]comparison{{f: field{obj: tp.main, path: "account_type"}, value: tp.accountType}}, gcs...)
			}
			if i > 0 {
				for _, e := range gmeta {
					e.(map[string]any)["object"] = i
				}
			}
			cs, meta = append(cs, gcs...), append(meta, gmeta...)
		}
		if toIDs && len(cs) > 0 {
			m = c.sdo("indicator", "indicator--"+u, ts)
			m["pattern"] = buildPattern(cs)
			m["pattern_type"] = "stix"
			m["pattern_version"] = "2.1"
			m["valid_from"] = validFrom(o.FirstSeen, ts)
			setStr(m, "description", o.Comment)
			c.killChain(m, o.MetaCategory)
			m["x_misp_attributes"] = meta
			if !validMap(m) {
				m = nil
			}
		}
		if m == nil && len(cs) > 0 {
			if scos, refs, ok := buildObservables(cs, u); ok && c.addSCOs(scos) {
				m = c.sdo("observed-data", "observed-data--"+u, ts)
				c.observed(m, o.FirstSeen, o.LastSeen, ts, refs)
				setStr(m, "x_misp_comment", o.Comment)
				m["x_misp_attributes"] = meta
			}
		}
	}
	if m == nil && len(group) > 1 {
		c.used[u] = false
		return false
	}
	if m == nil {
		m = c.sdo("x-misp-object", "x-misp-object--"+u, ts)
		m["x_misp_name"] = o.Name
		setStr(m, "x_misp_comment", o.Comment)
		m["x_misp_attributes"] = fullEntries(o.Attributes)
	}
	objectMeta(m, o)
	if len(group) > 1 {
		var ms []any
		for _, g := range group[1:] {
			gm := map[string]any{"name": g.Name}
			setStr(gm, "uuid", g.UUID)
			setStr(gm, "meta-category", g.MetaCategory)
			setStr(gm, "comment", g.Comment)
			setStr(gm, "timestamp", g.Timestamp)
			objectMeta(gm, g)
			ms = append(ms, gm)
		}
		m["x_misp_objects"] = ms
	}
	m["labels"] = labels
	if o.UUID != "" && o.UUID != u {
		m["x_misp_uuid"] = o.UUID
	}
	id := m["id"].(string)
	for _, g := range group {
		if g.UUID != "" {
			c.containers[g.UUID] = id
		}
		for _, a := range g.Attributes {
			if a.UUID != "" {
				c.containers[a.UUID] = id
			}
		}
	}
	c.emit(m)
	for gi, g := range group {
		gpath := path
		if gi > 0 {
			gpath = fmt.Sprintf("Object[%d]", c.objIndex[g])
		}
		for i, a := range g.Attributes {
			c.attrExtras(a, id, fmt.Sprintf("%s.Attribute[%d]", gpath, i))
		}
		c.analystOn(g.Notes, g.Opinions, id, g.UUID, gpath)
	}
	return true
}

// objectMeta keeps an object's fields STIX has no property for.
func objectMeta(m map[string]any, o *Object) {
	setStr(m, "x_misp_description", o.Description)
	setStr(m, "x_misp_template_uuid", o.TemplateUUID)
	setStr(m, "x_misp_distribution", o.Distribution)
	setStr(m, "x_misp_sharing_group_id", o.SharingGroupID)
	setStr(m, "x_misp_first_seen", o.FirstSeen)
	setStr(m, "x_misp_last_seen", o.LastSeen)
	if o.Timestamp == "" {
		m["x_misp_no_timestamp"] = true
	} else if stixTime(o.Timestamp, "") == "" {
		m["x_misp_timestamp"] = o.Timestamp
	}
	if len(o.Extra) > 0 {
		m["x_misp_extra"] = rawMap(o.Extra)
	}
}

// objComparisons places an object's attributes: each at its relation's
// path in the template, or in a custom property (under custom, else of
// the template's main observable) when the relation has none or the value
// does not fit it. It returns the comparisons and the x_misp_attributes
// entries, which name each value's path.
func objComparisons(t template, custom string, attrs []*Attribute) ([]comparison, []any) {
	cs := make([]comparison, 0, len(attrs))
	meta := make([]any, 0, len(attrs))
	repeated := map[string]int{}
	for _, a := range attrs {
		repeated[a.ObjectRelation]++
	}
	for _, a := range attrs {
		f, has := t.fields[a.ObjectRelation]
		k, fits := litString, true
		v := a.Value
		if has {
			v = asNumber(a.Type, a.Value)
			k, fits = kindFor(f, v)
		}
		if !has || !fits || strings.Contains(a.Type, "|") || a.Value == "" {
			// A relation STIX has no property for: a custom one, a
			// list when the object repeats the relation.
			p := custom + customProp(a.ObjectRelation)
			if repeated[a.ObjectRelation] > 1 && custom == "" {
				p += "[*]"
			}
			f, k, v = field{obj: t.main, path: p}, litString, a.Value
		}
		cs = append(cs, comparison{f: f, value: v, kind: k})
		e := attrEntry(a)
		if v != a.Value {
			e["prefix"] = strings.TrimSuffix(a.Value, v)
		}
		e["path"] = f.String()
		meta = append(meta, e)
	}
	return cs, meta
}

// customProp names the custom property that holds an object attribute
// STIX has no property for.
func customProp(rel string) string {
	var b strings.Builder
	b.WriteString("x_misp_")
	for _, r := range strings.ToLower(rel) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// attrEntry is the x_misp_attributes entry of an object attribute: what
// STIX has no place for. The value is in the pattern or observables, at
// the entry's path, unless the entry has a value of its own.
func attrEntry(a *Attribute) map[string]any {
	e := map[string]any{"object_relation": a.ObjectRelation}
	setStr(e, "type", a.Type)
	setStr(e, "uuid", a.UUID)
	setStr(e, "category", a.Category)
	if a.ToIDs {
		e["to_ids"] = true
	}
	setStr(e, "comment", a.Comment)
	setStr(e, "timestamp", a.Timestamp)
	setStr(e, "first_seen", a.FirstSeen)
	setStr(e, "last_seen", a.LastSeen)
	setStr(e, "distribution", a.Distribution)
	setStr(e, "sharing_group_id", a.SharingGroupID)
	setStr(e, "data", a.Data)
	if a.DisableCorrelation {
		e["disable_correlation"] = true
	}
	if len(a.Tags) > 0 {
		tags := make([]any, len(a.Tags))
		for i, t := range a.Tags {
			tags[i] = t.Name
		}
		e["tags"] = tags
	}
	if len(a.Extra) > 0 {
		e["extra"] = rawMap(a.Extra)
	}
	return e
}

func fullEntries(attrs []*Attribute) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		e := attrEntry(a)
		e["value"] = a.Value
		out[i] = e
	}
	return out
}

// sdoObject converts an object whose template describes a STIX domain
// object; nil when the attributes do not make a valid one.
func (c *conv) sdoObject(o *Object, st, u, ts string) map[string]any {
	val := func(rels ...string) string {
		for _, r := range rels {
			for _, a := range o.Attributes {
				if a.ObjectRelation == r && a.Value != "" {
					return a.Value
				}
			}
		}
		return ""
	}
	if o.Name == "script" {
		st = "malware"
	}
	m := c.sdo(st, st+"--"+u, ts)
	switch o.Name {
	case "vulnerability":
		id := val("id")
		m["name"] = firstNonEmpty(id, val("summary"))
		setStr(m, "description", val("summary", "description"))
		if cveRE.MatchString(id) {
			m["external_references"] = []any{map[string]any{"source_name": "cve", "external_id": id}}
		}
	case "attack-pattern":
		m["name"] = firstNonEmpty(val("name"), val("id"))
		setStr(m, "description", val("summary"))
		if id := val("id"); id != "" {
			m["external_references"] = []any{map[string]any{"source_name": "capec", "external_id": "CAPEC-" + strings.TrimPrefix(id, "CAPEC-")}}
		}
	case "course-of-action", "intrusion-set", "threat-actor":
		m["name"] = val("name")
		setStr(m, "description", val("description"))
	case "geolocation":
		for rel, prop := range map[string]string{"latitude": "latitude", "longitude": "longitude"} {
			if v := val(rel); v != "" {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return nil
				}
				m[prop] = f
			}
		}
		setStr(m, "country", val("countrycode", "country"))
		setStr(m, "city", val("city"))
		setStr(m, "region", strings.ToLower(val("region")))
		setStr(m, "postal_code", val("zipcode"))
		setStr(m, "street_address", val("address"))
		if _, lat := m["latitude"]; !lat && m["country"] == nil && m["region"] == nil {
			return nil
		}
	case "yara", "sigma", "suricata", "snort", "nova-rule", "wazuh-rule", "owasp-crs-rule":
		// The pattern types misp-stix writes.
		kind := map[string]string{"nova-rule": "nova", "wazuh-rule": "wazuh", "owasp-crs-rule": "crs"}[o.Name]
		if kind == "" {
			kind = o.Name
		}
		rule := val(o.Name, "raw-rule")
		if rule == "" {
			return nil
		}
		m["pattern"] = rule
		m["pattern_type"] = kind
		m["valid_from"] = ts
		setStr(m, "name", val(o.Name+"-rule-name", "rule-name", "rule-id"))
	case "script":
		// A malicious script is malware, another a tool, as in misp-stix.
		name := val("filename")
		if name == "" {
			return nil
		}
		if val("state") != "Malicious" {
			st = "tool"
			m["type"], m["id"] = st, st+"--"+u
		} else {
			st = "malware"
			m["type"], m["id"] = st, st+"--"+u
			m["is_family"] = false
			if l := val("language"); l != "" {
				m["implementation_languages"] = []any{strings.ToLower(l)}
			}
		}
		m["name"] = name
		setStr(m, "description", val("comment"))
	default: // identities
		name := val("name")
		if name == "" {
			name = strings.TrimSpace(val("first-name") + " " + val("last-name"))
		}
		m["name"] = firstNonEmpty(name, val("text"))
		class := "organization"
		if o.Name == "person" || o.Name == "employee" {
			class = "individual"
		}
		m["identity_class"] = class
		setStr(m, "description", val("description", "text"))
		setStr(m, "contact_information", val("contact_information", "e-mail", "email-address", "phone-number"))
	}
	if n, _ := m["name"].(string); n == "" && st != "location" && st != "indicator" {
		return nil
	}
	m["x_misp_attributes"] = fullEntries(o.Attributes)
	obj, err := stix.FromProps(m)
	if err != nil {
		return nil
	}
	for _, p := range stix.Validate(obj) {
		if !p.Warning {
			return nil
		}
	}
	return m
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// galaxy converts a galaxy's clusters, each once per event, and returns
// their ids.
func (c *conv) galaxy(g *Galaxy) []string {
	var ids []string
	for _, cl := range g.Clusters {
		key := cl.UUID
		if key == "" {
			key = g.Type + "\x00" + cl.Value
		}
		if id, ok := c.clusters[key]; ok {
			ids = append(ids, id)
			continue
		}
		st := galaxyTypes[g.Type]
		if st == "" {
			st = "x-misp-galaxy-cluster"
		}
		u := cl.UUID
		if !validUUID(u) {
			u = uuid5(c.ev.UUID, "cluster:"+key)
		}
		m := c.cluster(g, cl, st, u)
		if st != "x-misp-galaxy-cluster" && !validMap(m) {
			m = c.cluster(g, cl, "x-misp-galaxy-cluster", u)
		}
		id := m["id"].(string)
		c.clusters[key] = id
		c.emit(m)
		ids = append(ids, id)
	}
	return ids
}

// cluster converts one galaxy cluster. A cluster is the galaxy's shared
// knowledge (an ATT&CK technique, a malware family), attached to many
// events by many organisations under its one uuid: it carries no
// created_by_ref, so that the same cluster in two events of one instant
// converts to the same object, not to two versions that conflict.
func (c *conv) cluster(g *Galaxy, cl *GalaxyCluster, st, u string) map[string]any {
	m := c.sdo(st, st+"--"+u, c.evTime)
	delete(m, "created_by_ref")
	m["name"] = cl.Value
	setStr(m, "description", cl.Description)
	m["labels"] = []any{label("galaxy-name", g.Name), label("galaxy-type", g.Type)}
	gal := map[string]any{"type": g.Type}
	setStr(gal, "uuid", g.UUID)
	setStr(gal, "name", g.Name)
	setStr(gal, "description", g.Description)
	setStr(gal, "namespace", g.Namespace)
	m["x_misp_galaxy"] = gal
	cm := map[string]any{}
	setStr(cm, "type", cl.Type)
	setStr(cm, "tag_name", cl.TagName)
	setStr(cm, "source", cl.Source)
	setStr(cm, "version", cl.Version)
	setStr(cm, "relationship_type", cl.RelationshipType)
	if len(cl.Authors) > 0 {
		cm["authors"] = toAny(cl.Authors)
	}
	if cl.UUID == "" {
		cm["no_uuid"] = true
	}
	if len(cl.Extra) > 0 {
		cm["extra"] = rawMap(cl.Extra)
	}
	if len(g.Extra) > 0 {
		gal["extra"] = rawMap(g.Extra)
	}
	if len(cm) > 0 {
		m["x_misp_cluster"] = cm
	}
	if len(cl.Meta) > 0 {
		m["x_misp_meta"] = cl.Meta
	}
	if st == "x-misp-galaxy-cluster" {
		return m
	}
	var refs []any
	if id, ok := cl.Meta["external_id"].(string); ok && id != "" {
		src := "mitre-attack"
		if strings.HasPrefix(id, "CAPEC-") {
			src = "capec"
		} else if strings.HasPrefix(id, "CVE-") {
			src = "cve"
		}
		refs = append(refs, map[string]any{"source_name": src, "external_id": id})
	}
	for _, r := range stringsOf(cl.Meta["refs"]) {
		refs = append(refs, map[string]any{"source_name": "url", "url": r})
	}
	if len(refs) > 0 {
		m["external_references"] = refs
	}
	if syn := stringsOf(cl.Meta["synonyms"]); len(syn) > 0 && (st == "threat-actor" || st == "intrusion-set" || st == "malware" || st == "tool" || st == "campaign") {
		if st == "tool" || st == "malware" {
			// malware and tool call them aliases too, as an extension in
			// 2.1: kept custom.
			m["x_misp_synonyms"] = toAny(syn)
		} else {
			m["aliases"] = toAny(syn)
		}
	}
	if st == "attack-pattern" || st == "malware" || st == "tool" {
		var phases []any
		for _, k := range stringsOf(cl.Meta["kill_chain"]) {
			i := strings.LastIndexByte(k, ':')
			if i <= 0 {
				continue
			}
			chain := k[:i]
			if j := strings.IndexByte(chain, ':'); j > 0 {
				chain = chain[:j]
			}
			phases = append(phases, map[string]any{"kill_chain_name": chain, "phase_name": k[i+1:]})
		}
		if len(phases) > 0 {
			m["kill_chain_phases"] = phases
		}
	}
	if st == "malware" {
		m["is_family"] = true
	}
	return m
}

func validMap(m map[string]any) bool {
	o, err := stix.FromProps(m)
	if err != nil {
		return false
	}
	for _, p := range stix.Validate(o) {
		if !p.Warning {
			return false
		}
	}
	return true
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return x
	case string:
		return []string{x}
	}
	return nil
}

var mentionRE = regexp.MustCompile(`@\[(?:object|attribute|tag|galaxymatrix)\]\(([0-9a-fA-F-]{36})\)`)

// eventReport converts an event report to a note about the objects it
// mentions (the event's report when it mentions none known).
func (c *conv) eventReport(r *EventReport, path string) {
	ts := stixTime(r.Timestamp, "")
	if ts == "" {
		ts = c.evTime
	}
	m := c.sdo("note", "note--"+c.uuidFor(r.UUID, path), ts)
	m["content"] = r.Content
	setStr(m, "abstract", r.Name)
	m["labels"] = []any{label("data-layer", "Event Report")}
	setStr(m, "x_misp_distribution", r.Distribution)
	if len(r.Extra) > 0 {
		m["x_misp_extra"] = rawMap(r.Extra)
	}
	var refs []any
	seen := map[string]bool{}
	for _, mm := range mentionRE.FindAllStringSubmatch(r.Content, -1) {
		if id := c.containers[mm[1]]; id != "" && !seen[id] {
			seen[id] = true
			refs = append(refs, id)
		}
	}
	if len(refs) == 0 {
		refs = []any{"report--" + c.ev.UUID}
	}
	m["object_refs"] = refs
	c.emit(m)
}

// analystOn converts analyst notes and opinions on one container.
func (c *conv) analystOn(notes, opinions []*AnalystData, container, uuid, path string) {
	for i, n := range notes {
		ts := stixDateTime(n.Modified, c.evTime)
		m := c.sdo("note", "note--"+c.uuidFor(n.UUID, fmt.Sprintf("%s.Note[%d]", path, i)), stixDateTime(n.Created, ts))
		m["modified"] = ts
		m["content"] = n.Note
		if m["content"] == "" {
			m["content"] = "(empty note)"
		}
		if n.Authors != "" {
			m["authors"] = []any{n.Authors}
		}
		setStr(m, "lang", n.Language)
		m["labels"] = []any{label("data-layer", "Analyst Note")}
		m["object_refs"] = []any{container}
		setStr(m, "x_misp_target_uuid", uuid)
		if len(n.Extra) > 0 {
			m["x_misp_extra"] = rawMap(n.Extra)
		}
		c.fixOrder(m)
		c.emit(m)
	}
	for i, o := range opinions {
		ts := stixDateTime(o.Modified, c.evTime)
		m := c.sdo("opinion", "opinion--"+c.uuidFor(o.UUID, fmt.Sprintf("%s.Opinion[%d]", path, i)), stixDateTime(o.Created, ts))
		m["modified"] = ts
		m["opinion"] = opinionLevel(o.Opinion)
		setStr(m, "x_misp_opinion", o.Opinion)
		setStr(m, "explanation", o.Comment)
		if o.Authors != "" {
			m["authors"] = []any{o.Authors}
		}
		m["labels"] = []any{label("data-layer", "Analyst Opinion")}
		m["object_refs"] = []any{container}
		setStr(m, "x_misp_target_uuid", uuid)
		if len(o.Extra) > 0 {
			m["x_misp_extra"] = rawMap(o.Extra)
		}
		c.fixOrder(m)
		c.emit(m)
	}
}

// fixOrder keeps created no later than modified.
func (c *conv) fixOrder(m map[string]any) {
	if m["created"].(string) > m["modified"].(string) {
		m["created"] = m["modified"]
	}
}

// opinionLevel maps MISP's 0-100 opinion onto STIX's five levels.
func opinionLevel(s string) string {
	n, err := strconv.Atoi(s)
	if err != nil {
		return "neutral"
	}
	switch {
	case n < 20:
		return "strongly-disagree"
	case n < 40:
		return "disagree"
	case n <= 60:
		return "neutral"
	case n <= 80:
		return "agree"
	}
	return "strongly-agree"
}

// sighting converts a sighting the event lists (rather than its
// attribute), marked so that it comes back there.
func (c *conv) sighting(s *Sighting, attrUUID, path string) {
	container := c.containers[attrUUID]
	if container == "" {
		container = "report--" + c.ev.UUID
	}
	c.sightingOf(s, container, attrUUID, path)
	c.out[len(c.out)-1]["x_misp_event_sighting"] = true
}

// sightingOf converts a sighting (type 0) or expiration (type 2) to a
// sighting, a false positive (type 1) to an opinion that disagrees.
func (c *conv) sightingOf(s *Sighting, container, attrUUID, path string) {
	ts := stixTime(s.DateSighting, "")
	if ts == "" {
		ts = c.evTime
	}
	u := c.uuidFor(s.UUID, path)
	var m map[string]any
	if s.Type == "1" {
		m = c.sdo("opinion", "opinion--"+u, ts)
		m["opinion"] = "strongly-disagree"
		m["explanation"] = "False positive sighting"
		m["object_refs"] = []any{container}
	} else {
		m = c.sdo("sighting", "sighting--"+u, ts)
		m["sighting_of_ref"] = container
		m["count"] = 1
		m["first_seen"] = ts
		m["last_seen"] = ts
		if s.Org != nil && s.Org.Name != "" {
			m["where_sighted_refs"] = []any{c.orgIdentity(s.Org)}
		}
	}
	m["labels"] = []any{label("data-layer", "Sighting")}
	setStr(m, "x_misp_sighting_type", s.Type)
	setStr(m, "x_misp_source", s.Source)
	setStr(m, "x_misp_attribute_uuid", attrUUID)
	if s.Org != nil {
		m["x_misp_org"] = map[string]any{"uuid": s.Org.UUID, "name": s.Org.Name}
	}
	if len(s.Extra) > 0 {
		m["x_misp_extra"] = rawMap(s.Extra)
	}
	c.emit(m)
}

func (c *conv) addExtraRef(p pendingRel) {
	for _, m := range c.out {
		if m["id"] == p.src {
			list, _ := m["x_misp_references"].([]any)
			ref := map[string]any{"referenced_uuid": p.targetUUID, "relationship_type": p.typ, "uuid": strings.TrimPrefix(p.id, "relationship--")}
			setStr(ref, "object_uuid", p.srcUUID)
			setStr(ref, "comment", p.comment)
			if len(p.extra) > 0 {
				ref["extra"] = rawMap(p.extra)
			}
			m["x_misp_references"] = append(list, ref)
			return
		}
	}
}

var relTypeRE = regexp.MustCompile(`^[a-z0-9-]+$`)

func sanitizeRelType(s string) string {
	if relTypeRE.MatchString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "related-to"
	}
	return b.String()
}

// uuidFor returns u when it is a UUID, else one derived from the event's
// uuid and the item's place in it (the same every time).
func (c *conv) uuidFor(u, path string) string {
	if validUUID(u) {
		return strings.ToLower(u)
	}
	return uuid5(c.ev.UUID, path)
}

// containerUUID is uuidFor made unique among the event's attributes and
// objects: MISP events can repeat a uuid.
func (c *conv) containerUUID(u, path string) string {
	v := c.uuidFor(u, path)
	if c.used[v] {
		v = uuid5(c.ev.UUID, path)
	}
	c.used[v] = true
	return v
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$`)

func validUUID(s string) bool { return uuidRE.MatchString(s) }

// uuid5 returns a UUID derived from name in namespace ns by SHA-1, as
// version 5 does, but marked version 4: the validator expects SDOs to have
// random-looking UUIDs and reserves version 5 for observables.
func uuid5(ns, name string) string { return uuidHash(ns, name, 4) }

func uuidHash(ns, name string, version byte) string {
	nsb, _ := hex.DecodeString(strings.ReplaceAll(ns, "-", ""))
	h := sha1.New()
	h.Write(nsb)
	h.Write([]byte(name))
	s := h.Sum(nil)[:16]
	s[6] = s[6]&0x0f | version<<4
	s[8] = s[8]&0x3f | 0x80
	x := hex.EncodeToString(s)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// stixTime turns a MISP timestamp (Unix seconds) into a STIX timestamp;
// failing that the date (YYYY-MM-DD) at midnight; failing that "".
func stixTime(unix, date string) string {
	if n, ok := unixOf(unix); ok && n >= 0 && n < 253402300800 {
		return time.Unix(n, 0).UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if t, err := time.Parse("2006-01-02", date); err == nil {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return ""
}

// stixISO turns a MISP first_seen/last_seen (ISO 8601) into a STIX
// timestamp, "" when it is not one.
func stixISO(s string) string {
	if s == "" {
		return ""
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999Z0700", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format("2006-01-02T15:04:05.000Z")
		}
	}
	return ""
}

// stixDateTime turns MISP's "2024-06-12 12:49:45" into a STIX timestamp,
// def when it is not one.
func stixDateTime(s, def string) string {
	if t, err := time.Parse("2006-01-02 15:04:05", s); err == nil {
		return t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if v := stixISO(s); v != "" {
		return v
	}
	return def
}

func validFrom(first, ts string) string {
	if v := stixISO(first); v != "" {
		return v
	}
	return ts
}

func setStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func rawMap(m map[string]json.RawMessage) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		var x any
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if dec.Decode(&x) == nil {
			out[k] = x
		}
	}
	return out
}

// ipKind returns the observable type of an address value: ipv4-addr or
// ipv6-addr for addresses and CIDR blocks, domain-name otherwise.
func ipKind(v string) string {
	if a, err := netip.ParseAddr(v); err == nil {
		if a.Is4() {
			return "ipv4-addr"
		}
		return "ipv6-addr"
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		if p.Addr().Is4() {
			return "ipv4-addr"
		}
		return "ipv6-addr"
	}
	return "domain-name"
}
