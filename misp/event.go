package misp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Event is one MISP event as MISP's JSON carries it. Scalars MISP writes
// sometimes as strings and sometimes as numbers (timestamps, ids,
// distribution) are held as strings; booleans MISP writes as true, "1" or 1
// are held as bool. Keys this package does not model are kept in Extra and
// written back unchanged.
type Event struct {
	UUID             string
	Info             string
	Date             string // YYYY-MM-DD
	Timestamp        string // Unix seconds
	Published        bool
	PublishTimestamp string
	ThreatLevelID    string
	Analysis         string
	Distribution     string // "0" your organisation only ... "4" sharing group
	SharingGroupID   string
	SharingGroup     *SharingGroup
	Org              *Org
	Orgc             *Org
	Attributes       []*Attribute
	Objects          []*Object
	Tags             []Tag
	Galaxies         []*Galaxy
	EventReports     []*EventReport
	Sightings        []*Sighting
	Notes            []*AnalystData
	Opinions         []*AnalystData
	Extra            map[string]json.RawMessage
}

// Org is an organisation as MISP names it: Org (the owner) and Orgc (the
// creator) of an event, the organisation of a sighting.
type Org struct {
	UUID string `json:"uuid,omitempty"`
	Name string `json:"name,omitempty"`
}

// SharingGroup is the MISP sharing group an event or attribute is
// distributed to (distribution 4).
type SharingGroup struct {
	UUID string `json:"uuid,omitempty"`
	Name string `json:"name,omitempty"`
}

// Attribute is one MISP attribute, standalone in an event or part of an
// object (then ObjectRelation names its role in the object's template).
type Attribute struct {
	UUID               string
	Type               string
	Category           string
	Value              string
	ToIDs              bool
	Comment            string
	Timestamp          string
	FirstSeen          string
	LastSeen           string
	ObjectRelation     string
	Data               string // base64 content of attachment and malware-sample
	Distribution       string
	SharingGroupID     string
	DisableCorrelation bool
	Tags               []Tag
	Galaxies           []*Galaxy
	Sightings          []*Sighting
	Notes              []*AnalystData
	Opinions           []*AnalystData
	Extra              map[string]json.RawMessage
}

// Object is one MISP object: attributes grouped by a template (Name).
type Object struct {
	UUID           string
	Name           string
	MetaCategory   string
	Description    string
	TemplateUUID   string
	Comment        string
	Timestamp      string
	FirstSeen      string
	LastSeen       string
	Distribution   string
	SharingGroupID string
	Attributes     []*Attribute
	References     []*ObjectReference
	Notes          []*AnalystData
	Opinions       []*AnalystData
	Extra          map[string]json.RawMessage
}

// ObjectReference is a typed link from an object to another object or an
// attribute of the same event.
type ObjectReference struct {
	UUID             string `json:"uuid,omitempty"`
	ObjectUUID       string `json:"object_uuid,omitempty"`
	ReferencedUUID   string `json:"referenced_uuid"`
	RelationshipType string `json:"relationship_type"`
	Comment          string `json:"comment,omitempty"`
	// Extra holds the keys this package does not model, written back.
	Extra map[string]json.RawMessage `json:"-"`
}

// Tag is a MISP tag, such as tlp:amber, PAP:GREEN or
// misp-galaxy:threat-actor="APT 28".
type Tag struct {
	Name string `json:"name"`
}

// Galaxy is a MISP galaxy with the clusters of it attached to an event or
// attribute.
type Galaxy struct {
	UUID        string           `json:"uuid,omitempty"`
	Name        string           `json:"name,omitempty"`
	Type        string           `json:"type"`
	Description string           `json:"description,omitempty"`
	Namespace   string           `json:"namespace,omitempty"`
	Clusters    []*GalaxyCluster `json:"GalaxyCluster"`
	// Extra holds the keys this package does not model, written back.
	Extra map[string]json.RawMessage `json:"-"`
}

// GalaxyCluster is one cluster (an ATT&CK technique, a threat actor, a
// malware family...) of a galaxy.
type GalaxyCluster struct {
	UUID             string         `json:"uuid,omitempty"`
	Type             string         `json:"type,omitempty"`
	Value            string         `json:"value"`
	TagName          string         `json:"tag_name,omitempty"`
	Description      string         `json:"description,omitempty"`
	Source           string         `json:"source,omitempty"`
	Authors          []string       `json:"authors,omitempty"`
	Version          string         `json:"version,omitempty"`
	RelationshipType string         `json:"relationship_type,omitempty"`
	Meta             map[string]any `json:"meta,omitempty"`
	// Extra holds the keys this package does not model, written back.
	Extra map[string]json.RawMessage `json:"-"`
}

// Sighting is a MISP sighting of an attribute. Type "0" is a sighting,
// "1" a false positive, "2" an expiration.
type Sighting struct {
	UUID          string `json:"uuid,omitempty"`
	Type          string `json:"type,omitempty"`
	DateSighting  string `json:"date_sighting,omitempty"`
	Source        string `json:"source,omitempty"`
	AttributeUUID string `json:"attribute_uuid,omitempty"`
	Org           *Org   `json:"Organisation,omitempty"`
	// Extra holds the keys this package does not model, written back.
	Extra map[string]json.RawMessage `json:"-"`
}

// EventReport is a MISP event report: a Markdown document attached to an
// event.
type EventReport struct {
	UUID         string `json:"uuid,omitempty"`
	Name         string `json:"name"`
	Content      string `json:"content"`
	Timestamp    string `json:"timestamp,omitempty"`
	Distribution string `json:"distribution,omitempty"`
	// Extra holds the keys this package does not model, written back.
	Extra map[string]json.RawMessage `json:"-"`
}

// AnalystData is a MISP analyst note (Note) or opinion (Opinion) on an
// event, object, attribute or report.
type AnalystData struct {
	UUID     string `json:"uuid,omitempty"`
	Authors  string `json:"authors,omitempty"`
	Created  string `json:"created,omitempty"`
	Modified string `json:"modified,omitempty"`
	Note     string `json:"note,omitempty"`
	Language string `json:"language,omitempty"`
	Opinion  string `json:"opinion,omitempty"`
	Comment  string `json:"comment,omitempty"`
	// Extra holds the keys this package does not model, written back.
	Extra map[string]json.RawMessage `json:"-"`
}

// Decode reads MISP JSON: one event in the {"Event": {...}} form or bare,
// a list of either, or a MISP search response {"response": [...]}. Every
// error names the JSON path of what was wrong (for example
// "[2].Event.Attribute[5].to_ids").
func Decode(r io.Reader) ([]*Event, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("misp: not JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("misp: more than one JSON value")
	}
	return decodeValue(v, "")
}

// DecodeJSON is Decode over bytes already read.
func DecodeJSON(b []byte) ([]*Event, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("misp: empty input")
	}
	return Decode(bytes.NewReader(b))
}

// decodeValue reads events from a decoded JSON document (numbers as
// json.Number), which is walked once.
func decodeValue(v any, path string) ([]*Event, error) {
	switch x := v.(type) {
	case []any:
		out := make([]*Event, 0, len(x))
		for i, item := range x {
			p := fmt.Sprintf("%s[%d]", path, i)
			m, ok := item.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("misp: %s: not a JSON object", p)
			}
			ev, err := decodeEvent(m, p)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
		return out, nil
	case map[string]any:
		if resp, ok := x["response"]; ok && len(x) == 1 {
			return decodeValue(resp, join(path, "response"))
		}
		ev, err := decodeEvent(x, path)
		if err != nil {
			return nil, err
		}
		return []*Event{ev}, nil
	}
	return nil, fmt.Errorf("misp: %s: not a JSON object or list", orRoot(path))
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// IsMISP reports whether b looks like MISP JSON rather than a STIX bundle:
// an object with an "Event" key, a bare event (an "info" and an
// "Attribute" or "Object" key, no "type"), a search response, or a list
// whose first element is one of these.
func IsMISP(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	return isMISPValue(v)
}

func isMISPValue(v any) bool {
	switch x := v.(type) {
	case []any:
		return len(x) > 0 && isMISPValue(x[0])
	case map[string]any:
		if _, ok := x["Event"]; ok {
			return true
		}
		if r, ok := x["response"]; ok {
			return isMISPValue(r)
		}
		_, info := x["info"]
		_, attrs := x["Attribute"]
		_, objs := x["Object"]
		_, typ := x["type"]
		return info && (attrs || objs) && !typ
	}
	return false
}

// fields is a JSON object being decoded: known keys are taken out, what is
// left is kept as the value's Extra.
type fields struct {
	m    map[string]any
	path string
	err  error
}

func newFields(v any, path string) (*fields, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("misp: %s: not a JSON object", orRoot(path))
	}
	return &fields{m: m, path: path}, nil
}

func orRoot(p string) string {
	if p == "" {
		return "top level"
	}
	return p
}

func (f *fields) at(k string) string { return join(f.path, k) }

func (f *fields) fail(k, format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf("misp: %s: %s", f.at(k), fmt.Sprintf(format, args...))
	}
}

func (f *fields) failAt(path, msg string) {
	if f.err == nil {
		f.err = fmt.Errorf("misp: %s: %s", path, msg)
	}
}

// take removes and returns key k; absent and null are the same.
func (f *fields) take(k string) (any, bool) {
	v, ok := f.m[k]
	if ok {
		delete(f.m, k)
	}
	if v == nil {
		return nil, false
	}
	return v, ok
}

// str reads a scalar as a string: strings as they are, numbers as written,
// booleans as "1" or "0".
func (f *fields) str(k string) string {
	v, ok := f.take(k)
	if !ok {
		return ""
	}
	s, err := scalarString(v)
	if err != nil {
		f.fail(k, "%v", err)
	}
	return s
}

func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	}
	b, _ := json.Marshal(v)
	return "", fmt.Errorf("expected a string or number, got %.40s", b)
}

// boolean reads true, false, "1", "0", "true", "false", 1 or 0.
func (f *fields) boolean(k string) bool {
	v, ok := f.take(k)
	if !ok {
		return false
	}
	s, err := scalarString(v)
	if err == nil {
		switch s {
		case "1", "true", "True":
			return true
		case "0", "false", "False", "":
			return false
		}
	}
	b, _ := json.Marshal(v)
	f.fail(k, "expected a boolean, got %.40s", b)
	return false
}

// into decodes key k into dst, for the small structures (galaxies,
// sightings, organisations) decoded by encoding/json.
func (f *fields) into(k string, dst any) {
	v, ok := f.take(k)
	if !ok {
		return
	}
	if l, isList := v.([]any); isList && len(l) == 0 {
		return
	}
	if m, isMap := v.(map[string]any); isMap && len(m) == 0 {
		return
	}
	b, err := json.Marshal(lenient(v))
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		f.fail(k, "%v", err)
	}
}

// lenient rewrites what MISP writes in more than one way into the form
// the structures expect: numbers as strings (timestamps, types, ids), and
// an empty meta list as no meta. A cluster's meta stays as it is.
func lenient(v any) any {
	switch x := v.(type) {
	case json.Number:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = lenient(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if k == "meta" {
				if l, isList := e.([]any); isList && len(l) == 0 {
					continue
				}
				out[k] = e
				continue
			}
			out[k] = lenient(e)
		}
		return out
	}
	return v
}

// list returns the elements of the list at k with their paths.
func (f *fields) list(k string) ([]any, []string) {
	v, ok := f.take(k)
	if !ok {
		return nil, nil
	}
	items, ok := v.([]any)
	if !ok {
		// MISP writes an empty list as {} in places.
		if m, isMap := v.(map[string]any); isMap && len(m) == 0 {
			return nil, nil
		}
		f.fail(k, "expected a list")
		return nil, nil
	}
	paths := make([]string, len(items))
	for i := range items {
		paths[i] = fmt.Sprintf("%s[%d]", f.at(k), i)
	}
	return items, paths
}

// rest returns the keys not taken, as JSON.
func (f *fields) rest() map[string]json.RawMessage {
	if len(f.m) == 0 {
		return nil
	}
	out := make(map[string]json.RawMessage, len(f.m))
	for k, v := range f.m {
		if b, err := marshal(v); err == nil {
			out[k] = b
		}
	}
	return out
}

func decodeEvent(v any, path string) (*Event, error) {
	f, err := newFields(v, path)
	if err != nil {
		return nil, err
	}
	if inner, ok := f.m["Event"]; ok {
		ev, err := decodeEvent(inner, f.at("Event"))
		if err != nil {
			return nil, err
		}
		delete(f.m, "Event")
		// Siblings of "Event" (rare) are kept with the event.
		for k, v := range f.rest() {
			if ev.Extra == nil {
				ev.Extra = map[string]json.RawMessage{}
			}
			ev.Extra[k] = v
		}
		return ev, nil
	}
	ev := &Event{}
	ev.UUID = f.str("uuid")
	ev.Info = f.str("info")
	ev.Date = f.str("date")
	ev.Timestamp = f.str("timestamp")
	ev.Published = f.boolean("published")
	ev.PublishTimestamp = f.str("publish_timestamp")
	ev.ThreatLevelID = f.str("threat_level_id")
	ev.Analysis = f.str("analysis")
	ev.Distribution = f.str("distribution")
	ev.SharingGroupID = f.str("sharing_group_id")
	f.into("SharingGroup", &ev.SharingGroup)
	f.into("Org", &ev.Org)
	f.into("Orgc", &ev.Orgc)
	items, paths := f.list("Attribute")
	for i, it := range items {
		a, err := decodeAttribute(it, paths[i])
		if err != nil {
			return nil, err
		}
		ev.Attributes = append(ev.Attributes, a)
	}
	items, paths = f.list("Object")
	for i, it := range items {
		o, err := decodeObject(it, paths[i])
		if err != nil {
			return nil, err
		}
		ev.Objects = append(ev.Objects, o)
	}
	ev.Tags = decodeTags(f, "Tag")
	ev.Tags = append(ev.Tags, decodeTags(f, "EventTag")...)
	f.into("Galaxy", &ev.Galaxies)
	f.into("EventReport", &ev.EventReports)
	f.into("Sighting", &ev.Sightings)
	f.into("Note", &ev.Notes)
	f.into("Opinion", &ev.Opinions)
	if f.err != nil {
		return nil, f.err
	}
	ev.Extra = f.rest()
	if ev.UUID == "" {
		return nil, fmt.Errorf("misp: %s: event has no uuid", orRoot(path))
	}
	return ev, nil
}

// decodeTags reads a list of tags, each {"name": ...} or, as EventTag
// lists have it, {"Tag": {"name": ...}}.
func decodeTags(f *fields, k string) []Tag {
	items, paths := f.list(k)
	var out []Tag
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			f.failAt(paths[i], "not a tag")
			continue
		}
		if inner, ok := m["Tag"].(map[string]any); ok {
			m = inner
		}
		name, ok := m["name"].(string)
		if !ok {
			f.failAt(paths[i]+".name", "a tag needs a name")
			continue
		}
		if name != "" {
			out = append(out, Tag{Name: name})
		}
	}
	return out
}

func decodeAttribute(v any, path string) (*Attribute, error) {
	f, err := newFields(v, path)
	if err != nil {
		return nil, err
	}
	a := &Attribute{}
	a.UUID = f.str("uuid")
	a.Type = f.str("type")
	a.Category = f.str("category")
	a.Value = f.str("value")
	a.ToIDs = f.boolean("to_ids")
	a.Comment = f.str("comment")
	a.Timestamp = f.str("timestamp")
	a.FirstSeen = f.str("first_seen")
	a.LastSeen = f.str("last_seen")
	a.ObjectRelation = f.str("object_relation")
	a.Data = f.str("data")
	a.Distribution = f.str("distribution")
	a.SharingGroupID = f.str("sharing_group_id")
	a.DisableCorrelation = f.boolean("disable_correlation")
	a.Tags = decodeTags(f, "Tag")
	a.Tags = append(a.Tags, decodeTags(f, "AttributeTag")...)
	f.into("Galaxy", &a.Galaxies)
	f.into("Sighting", &a.Sightings)
	f.into("Note", &a.Notes)
	f.into("Opinion", &a.Opinions)
	if f.err != nil {
		return nil, f.err
	}
	// value1/value2 repeat the halves of a composite value.
	delete(f.m, "value1")
	delete(f.m, "value2")
	a.Extra = f.rest()
	return a, nil
}

func decodeObject(v any, path string) (*Object, error) {
	f, err := newFields(v, path)
	if err != nil {
		return nil, err
	}
	o := &Object{}
	o.UUID = f.str("uuid")
	o.Name = f.str("name")
	o.MetaCategory = f.str("meta-category")
	o.Description = f.str("description")
	o.TemplateUUID = f.str("template_uuid")
	o.Comment = f.str("comment")
	o.Timestamp = f.str("timestamp")
	o.FirstSeen = f.str("first_seen")
	o.LastSeen = f.str("last_seen")
	o.Distribution = f.str("distribution")
	o.SharingGroupID = f.str("sharing_group_id")
	items, paths := f.list("Attribute")
	for i, it := range items {
		a, err := decodeAttribute(it, paths[i])
		if err != nil {
			return nil, err
		}
		o.Attributes = append(o.Attributes, a)
	}
	f.into("ObjectReference", &o.References)
	f.into("Note", &o.Notes)
	f.into("Opinion", &o.Opinions)
	if f.err != nil {
		return nil, f.err
	}
	if o.Name == "" {
		return nil, fmt.Errorf("misp: %s: object has no name", path)
	}
	o.Extra = f.rest()
	return o, nil
}

// Encode writes events as MISP JSON: one event as {"Event": {...}}, several
// as a list of them.
func Encode(w io.Writer, events []*Event) error {
	var v any
	if len(events) == 1 {
		v = map[string]any{"Event": events[0]}
	} else {
		list := make([]any, len(events))
		for i, ev := range events {
			list[i] = map[string]any{"Event": ev}
		}
		v = list
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	return enc.Encode(v)
}

// object is a JSON object under construction: set skips empty values,
// Extra keys are merged in, and the keys come out sorted.
type object map[string]any

func (o object) set(k string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case nil:
		return
	}
	o[k] = v
}

func (o object) extra(m map[string]json.RawMessage) {
	for k := range m {
		if _, taken := o[k]; !taken {
			o[k] = m[k]
		}
	}
}

// MarshalJSON writes the event in MISP's form.
func (ev *Event) MarshalJSON() ([]byte, error) {
	o := object{}
	o.set("uuid", ev.UUID)
	o.set("info", ev.Info)
	o.set("date", ev.Date)
	o.set("timestamp", ev.Timestamp)
	o["published"] = ev.Published
	o.set("publish_timestamp", ev.PublishTimestamp)
	o.set("threat_level_id", ev.ThreatLevelID)
	o.set("analysis", ev.Analysis)
	o.set("distribution", ev.Distribution)
	o.set("sharing_group_id", ev.SharingGroupID)
	if ev.SharingGroup != nil {
		o["SharingGroup"] = ev.SharingGroup
	}
	if ev.Org != nil {
		o["Org"] = ev.Org
	}
	if ev.Orgc != nil {
		o["Orgc"] = ev.Orgc
	}
	o["Attribute"] = nonNil(ev.Attributes)
	o["Object"] = nonNil(ev.Objects)
	o["Tag"] = nonNil(ev.Tags)
	o["Galaxy"] = nonNil(ev.Galaxies)
	if len(ev.EventReports) > 0 {
		o["EventReport"] = ev.EventReports
	}
	if len(ev.Sightings) > 0 {
		o["Sighting"] = ev.Sightings
	}
	if len(ev.Notes) > 0 {
		o["Note"] = ev.Notes
	}
	if len(ev.Opinions) > 0 {
		o["Opinion"] = ev.Opinions
	}
	o.extra(ev.Extra)
	return marshal(o)
}

// MarshalJSON writes the attribute in MISP's form.
func (a *Attribute) MarshalJSON() ([]byte, error) {
	o := object{}
	o.set("uuid", a.UUID)
	if a.Type != "" {
		o["type"] = a.Type
	}
	o.set("category", a.Category)
	o["value"] = a.Value
	o["to_ids"] = a.ToIDs
	o.set("comment", a.Comment)
	o.set("timestamp", a.Timestamp)
	o.set("first_seen", a.FirstSeen)
	o.set("last_seen", a.LastSeen)
	o.set("object_relation", a.ObjectRelation)
	o.set("data", a.Data)
	o.set("distribution", a.Distribution)
	o.set("sharing_group_id", a.SharingGroupID)
	if a.DisableCorrelation {
		o["disable_correlation"] = true
	}
	if len(a.Tags) > 0 {
		o["Tag"] = a.Tags
	}
	if len(a.Galaxies) > 0 {
		o["Galaxy"] = a.Galaxies
	}
	if len(a.Sightings) > 0 {
		o["Sighting"] = a.Sightings
	}
	if len(a.Notes) > 0 {
		o["Note"] = a.Notes
	}
	if len(a.Opinions) > 0 {
		o["Opinion"] = a.Opinions
	}
	o.extra(a.Extra)
	return marshal(o)
}

// MarshalJSON writes the object in MISP's form.
func (ob *Object) MarshalJSON() ([]byte, error) {
	o := object{}
	o.set("uuid", ob.UUID)
	o.set("name", ob.Name)
	o.set("meta-category", ob.MetaCategory)
	o.set("description", ob.Description)
	o.set("template_uuid", ob.TemplateUUID)
	o.set("comment", ob.Comment)
	o.set("timestamp", ob.Timestamp)
	o.set("first_seen", ob.FirstSeen)
	o.set("last_seen", ob.LastSeen)
	o.set("distribution", ob.Distribution)
	o.set("sharing_group_id", ob.SharingGroupID)
	o["Attribute"] = nonNil(ob.Attributes)
	if len(ob.References) > 0 {
		o["ObjectReference"] = ob.References
	}
	if len(ob.Notes) > 0 {
		o["Note"] = ob.Notes
	}
	if len(ob.Opinions) > 0 {
		o["Opinion"] = ob.Opinions
	}
	o.extra(ob.Extra)
	return marshal(o)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// unixOf parses a MISP timestamp (Unix seconds) or returns ok false.
func unixOf(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// The structures decoded by encoding/json keep the keys they do not model
// in Extra, and write them back.

// UnmarshalJSON reads the reference, keeping unknown keys.
func (x *ObjectReference) UnmarshalJSON(b []byte) error {
	type plain ObjectReference
	var p plain
	extra, err := withExtra(b, &p)
	*x = ObjectReference(p)
	x.Extra = extra
	return err
}

// MarshalJSON writes the reference with its unknown keys.
func (x ObjectReference) MarshalJSON() ([]byte, error) {
	type plain ObjectReference
	return marshalExtra(plain(x), x.Extra)
}

// UnmarshalJSON reads the galaxy, keeping unknown keys.
func (x *Galaxy) UnmarshalJSON(b []byte) error {
	type plain Galaxy
	var p plain
	extra, err := withExtra(b, &p)
	*x = Galaxy(p)
	x.Extra = extra
	return err
}

// MarshalJSON writes the galaxy with its unknown keys.
func (x Galaxy) MarshalJSON() ([]byte, error) {
	type plain Galaxy
	return marshalExtra(plain(x), x.Extra)
}

// UnmarshalJSON reads the cluster, keeping unknown keys.
func (x *GalaxyCluster) UnmarshalJSON(b []byte) error {
	type plain GalaxyCluster
	var p plain
	extra, err := withExtra(b, &p)
	*x = GalaxyCluster(p)
	x.Extra = extra
	return err
}

// MarshalJSON writes the cluster with its unknown keys.
func (x GalaxyCluster) MarshalJSON() ([]byte, error) {
	type plain GalaxyCluster
	return marshalExtra(plain(x), x.Extra)
}

// UnmarshalJSON reads the sighting, keeping unknown keys.
func (x *Sighting) UnmarshalJSON(b []byte) error {
	type plain Sighting
	var p plain
	extra, err := withExtra(b, &p)
	*x = Sighting(p)
	x.Extra = extra
	return err
}

// MarshalJSON writes the sighting with its unknown keys.
func (x Sighting) MarshalJSON() ([]byte, error) {
	type plain Sighting
	return marshalExtra(plain(x), x.Extra)
}

// UnmarshalJSON reads the report, keeping unknown keys.
func (x *EventReport) UnmarshalJSON(b []byte) error {
	type plain EventReport
	var p plain
	extra, err := withExtra(b, &p)
	*x = EventReport(p)
	x.Extra = extra
	return err
}

// MarshalJSON writes the report with its unknown keys.
func (x EventReport) MarshalJSON() ([]byte, error) {
	type plain EventReport
	return marshalExtra(plain(x), x.Extra)
}

// UnmarshalJSON reads the note or opinion, keeping unknown keys.
func (x *AnalystData) UnmarshalJSON(b []byte) error {
	type plain AnalystData
	var p plain
	extra, err := withExtra(b, &p)
	*x = AnalystData(p)
	x.Extra = extra
	return err
}

// MarshalJSON writes the note or opinion with its unknown keys.
func (x AnalystData) MarshalJSON() ([]byte, error) {
	type plain AnalystData
	return marshalExtra(plain(x), x.Extra)
}

// withExtra decodes b into p (a pointer to a struct) and returns the keys
// of b that no field of it names.
func withExtra(b []byte, p any) (map[string]json.RawMessage, error) {
	if err := json.Unmarshal(b, p); err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, k := range jsonNames(reflect.TypeOf(p).Elem()) {
		delete(m, k)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// jsonNames lists the JSON names of a struct type's fields.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// marshalExtra writes v (a struct) with the extra keys it does not have.
func marshalExtra(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, x := range extra {
		if _, taken := m[k]; !taken {
			m[k] = x
		}
	}
	return marshal(m)
}
