package misp

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact/stix"
)

// A MISP feed is a directory of files that a MISP instance polls:
// manifest.json (every event's uuid with its header and timestamp),
// hashes.csv (the MD5 of every attribute value with its event's uuid, for
// MISP's feed correlation cache) and one UUID.json per event. MISP fetches
// the manifest, then only the events it does not hold or holds with an
// older timestamp. These functions build such a feed from stored STIX
// objects; MAPPING.md ("Serving a MISP feed") says how objects are grouped
// into events.

// FeedItem is one stored object version a feed may carry: the parsed
// object and what the hub knows of the version.
type FeedItem struct {
	Object   *stix.Object
	Seq      int64     // the version's place in the hub's sequence
	Added    time.Time // when the hub stored it
	Producer int64     // the organisation that released it (0: the hub)
}

// FeedEvent is one event of a feed: the items it holds, before they are
// converted.
type FeedEvent struct {
	UUID string
	// Report is the report or grouping the event is made of; nil for the
	// event of one producer's loose objects of one day.
	Report *FeedItem
	// Producer and Day name a day event: the producer organisation and
	// the UTC day (YYYY-MM-DD) its objects were created.
	Producer int64
	Day      string
	// Items are what the event holds: the report first, then the objects
	// it refers to (and the relationships from them); or the loose
	// objects of the day.
	Items []*FeedItem
	// Timestamp is when the hub last stored a version the event holds, in
	// Unix seconds: it grows whenever one of them changes, which is what
	// MISP compares to decide whether to fetch the event again.
	Timestamp int64
}

// dayNamespace is the namespace of the uuids of day events.
const dayNamespace = "6c0e4cb4-1b7e-4b83-9d0a-5f1a2c3d4e5f"

// DayEventUUID is the uuid of the event holding the loose objects that
// producer (named org, for uuids that differ between hubs' organisations of
// the same number) created on day: the same on every fetch, whatever the
// event holds.
func DayEventUUID(producer int64, org, day string) string {
	return uuid5(dayNamespace, fmt.Sprintf("cyberpact-day:%d:%s:%s", producer, org, day))
}

// orgNamespace is the namespace of the uuids of organisations.
const orgNamespace = "0b3f2e7a-5c1d-4e8f-a6b2-9d4c7e1f3a58"

// OrgOf is organisation id of the hub, named name, as MISP names
// organisations: a uuid made from both, the same on every fetch.
func OrgOf(id int64, name string) Org {
	return Org{UUID: uuid5(orgNamespace, fmt.Sprintf("cyberpact-org:%d:%s", id, name)), Name: name}
}

// GroupFeed groups items into the events of a feed: one per report or
// grouping, holding the objects it refers to that are among items; and,
// for each producer, one per UTC day of creation (of the version's
// storage for objects without a created time, such as cyber observables)
// holding its objects no report refers to. Relationships, identities and
// marking definitions are never loose: they go with the objects they
// link, as FromSTIX reads them, and so do cyber observables reached from
// an observed-data. orgName names a producer for day events' uuids.
// Events come sorted by uuid.
func GroupFeed(items []*FeedItem, orgName func(int64) string) []*FeedEvent {
	byID := map[string]*FeedItem{}
	rels := map[string][]*FeedItem{}
	for _, it := range items {
		byID[it.Object.ID] = it
		if it.Object.Type == "relationship" {
			src := it.Object.String("source_ref")
			rels[src] = append(rels[src], it)
		}
	}
	var events []*FeedEvent
	claimed := map[string]bool{}
	for _, it := range items {
		o := it.Object
		if o.Type != "report" && o.Type != "grouping" {
			continue
		}
		ev := &FeedEvent{UUID: uuidOf(o.ID), Report: it, Producer: it.Producer, Items: []*FeedItem{it}}
		claimed[o.ID] = true
		seen := map[string]bool{o.ID: true}
		for _, id := range stringsOf(o.Props["object_refs"]) {
			claimed[id] = true
			if x := byID[id]; x != nil && !seen[id] {
				seen[id] = true
				ev.Items = append(ev.Items, x)
			}
		}
		for _, x := range ev.Items[1:] {
			for _, r := range rels[x.Object.ID] {
				if !seen[r.Object.ID] {
					seen[r.Object.ID] = true
					ev.Items = append(ev.Items, r)
				}
			}
		}
		events = append(events, ev)
	}
	reached := map[string]bool{}
	for _, it := range items {
		o := it.Object
		if o.Type == "observed-data" || stix.KindOf(o.Type) == stix.KindSCO {
			collectRefs(o.Props, func(id string) {
				if id != o.ID {
					reached[id] = true
				}
			})
		}
	}
	days := map[string]*FeedEvent{}
	for _, it := range items {
		o := it.Object
		if claimed[o.ID] || o.Type == "marking-definition" || o.Type == "identity" || o.Type == "relationship" {
			continue
		}
		if stix.KindOf(o.Type) == stix.KindSCO && reached[o.ID] {
			continue
		}
		t := o.Created
		if t.IsZero() {
			t = it.Added
		}
		day := t.UTC().Format("2006-01-02")
		key := strconv.FormatInt(it.Producer, 10) + " " + day
		ev := days[key]
		if ev == nil {
			ev = &FeedEvent{UUID: DayEventUUID(it.Producer, orgName(it.Producer), day), Producer: it.Producer, Day: day}
			days[key] = ev
			events = append(events, ev)
		}
		ev.Items = append(ev.Items, it)
	}
	for _, ev := range days {
		seen := map[string]bool{}
		for _, x := range ev.Items {
			seen[x.Object.ID] = true
		}
		for _, x := range ev.Items {
			for _, r := range rels[x.Object.ID] {
				if !seen[r.Object.ID] {
					seen[r.Object.ID] = true
					ev.Items = append(ev.Items, r)
				}
			}
		}
	}
	for _, ev := range events {
		for _, x := range ev.Items {
			if t := x.Added.Unix(); t > ev.Timestamp {
				ev.Timestamp = t
			}
		}
	}
	sort.Slice(events, func(i, j int) bool { return events[i].UUID < events[j].UUID })
	return events
}

// FeedIndex is the objects feed events are converted from: every object
// a reader may see, so that an event never names what its reader may not.
// It is read only: one index serves any number of conversions at once.
type FeedIndex struct {
	r *rev
}

// NewFeedIndex indexes objs for FeedEventOf.
func NewFeedIndex(objs []*stix.Object) *FeedIndex {
	r := &rev{index: map[string]*stix.Object{}, rels: map[string][]*stix.Object{}}
	for _, o := range objs {
		r.index[o.ID] = o
		if o.Type == "relationship" {
			src := o.String("source_ref")
			r.rels[src] = append(r.rels[src], o)
		}
	}
	return &FeedIndex{r: r}
}

// FeedEventOf converts one feed event to MISP from the objects of ix; org
// is its creator organisation as MISP names it when the objects name
// none. The event's timestamp is the feed's, and a day event is titled by
// its producer and day. headerOnly converts the event's header alone
// (what manifest.json shows), not what it holds.
func FeedEventOf(fe *FeedEvent, ix *FeedIndex, org Org, headerOnly bool) (*Event, error) {
	r := ix.r
	var ev *Event
	var err error
	if fe.Report != nil {
		var refs []string
		if !headerOnly {
			refs = stringsOf(fe.Report.Object.Props["object_refs"])
		}
		ev, err = r.event(fe.Report.Object, refs)
	} else {
		refs := make([]string, 0, len(fe.Items))
		for _, x := range fe.Items {
			if x.Object.Type != "relationship" && !headerOnly {
				refs = append(refs, x.Object.ID)
			}
		}
		ev, err = r.event(nil, refs)
		if err == nil {
			ev.Info = fmt.Sprintf("%s: indicators and objects of %s", org.Name, fe.Day)
			ev.Date = fe.Day
		}
	}
	if err != nil {
		return nil, err
	}
	ev.UUID = fe.UUID
	ev.Timestamp = strconv.FormatInt(fe.Timestamp, 10)
	if ev.Date == "" {
		ev.Date = time.Unix(fe.Timestamp, 0).UTC().Format("2006-01-02")
	}
	if ev.Orgc == nil || ev.Orgc.Name == "" {
		o := org
		ev.Orgc = &o
	}
	if ev.Analysis == "" {
		ev.Analysis = "2" // completed: the hub serves what it holds
	}
	if ev.ThreatLevelID == "" {
		ev.ThreatLevelID = "4" // undefined
	}
	return ev, nil
}

// ManifestEntry is an event's line in manifest.json, as MISP's feed
// generator writes it.
type ManifestEntry struct {
	Orgc          Org       `json:"Orgc"`
	Tag           []FeedTag `json:"Tag"`
	Info          string    `json:"info"`
	Date          string    `json:"date"`
	Analysis      int       `json:"analysis"`
	ThreatLevelID int       `json:"threat_level_id"`
	Timestamp     int64     `json:"timestamp"`
	UUID          string    `json:"-"`
}

// FeedTag is a tag as a manifest lists it.
type FeedTag struct {
	Name   string `json:"name"`
	Colour string `json:"colour,omitempty"`
}

// ManifestOf returns the manifest line of ev.
func ManifestOf(ev *Event) ManifestEntry {
	m := ManifestEntry{Info: ev.Info, Date: ev.Date, Tag: []FeedTag{}, UUID: ev.UUID}
	if ev.Orgc != nil {
		m.Orgc = *ev.Orgc
	}
	for _, t := range ev.Tags {
		m.Tag = append(m.Tag, FeedTag{Name: t.Name})
	}
	m.Analysis, _ = strconv.Atoi(ev.Analysis)
	m.ThreatLevelID, _ = strconv.Atoi(ev.ThreatLevelID)
	m.Timestamp, _ = strconv.ParseInt(ev.Timestamp, 10, 64)
	return m
}

// AttributeHashes returns the lines of hashes.csv for ev: for every
// attribute (in the event and in its objects), the MD5 of its value with
// the event's uuid; a composite value (type and value with a "|", such
// as ip-dst|port or filename|sha256) gives a line for each part, as
// MISP's feed generator writes them.
func AttributeHashes(ev *Event) []string {
	var out []string
	add := func(a *Attribute) {
		parts := []string{a.Value}
		if strings.Contains(a.Type, "|") && strings.Contains(a.Value, "|") {
			parts = strings.SplitN(a.Value, "|", 2)
		}
		for _, p := range parts {
			sum := md5.Sum([]byte(p))
			out = append(out, hex.EncodeToString(sum[:])+","+ev.UUID)
		}
	}
	for _, a := range ev.Attributes {
		add(a)
	}
	for _, ob := range ev.Objects {
		for _, a := range ob.Attributes {
			add(a)
		}
	}
	return out
}
