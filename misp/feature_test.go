package misp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

const evUUID = "a6ef17d6-91cb-4a05-b10b-2f045daf874c"

func byType(res *Result, typ string) []*stix.Object {
	var out []*stix.Object
	for _, o := range res.Objects {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	return out
}

func one(t *testing.T, res *Result, typ string) *stix.Object {
	t.Helper()
	os := byType(res, typ)
	if len(os) != 1 {
		t.Fatalf("%d %s objects, want 1", len(os), typ)
	}
	return os[0]
}

func roundTrip(t *testing.T, ev *Event) (*Result, *Event) {
	t.Helper()
	res := checkEvent(t, ev)
	back, err := FromSTIX(res.Objects)
	if err != nil {
		t.Fatal(err)
	}
	return res, back[0]
}

func tagNames(ts []Tag) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestTags(t *testing.T) {
	ev := &Event{UUID: evUUID, Info: "tags", Timestamp: "1603642920",
		Tags: []Tag{{Name: "tlp:amber"}, {Name: "PAP:GREEN"}, {Name: `misp:confidence-level="fairly-confident"`}},
		Attributes: []*Attribute{{UUID: "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", Type: "domain", Category: "Network activity",
			Value: "evil.example", ToIDs: true, Tags: []Tag{{Name: "tlp:clear"}, {Name: "PAP:RED"}}}}}
	res, back := roundTrip(t, ev)
	rep := one(t, res, "report")
	if diff := cmp.Diff([]string{"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"}, rep.ObjectMarkingRefs); diff != "" {
		t.Errorf("report markings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"PAP:GREEN", `misp:confidence-level="fairly-confident"`}, rep.Labels); diff != "" {
		t.Errorf("report labels (-want +got):\n%s", diff)
	}
	ind := one(t, res, "indicator")
	if diff := cmp.Diff([]string{"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"}, ind.ObjectMarkingRefs); diff != "" {
		t.Errorf("indicator markings (-want +got):\n%s", diff)
	}
	if got := len(byType(res, "marking-definition")); got != 2 {
		t.Errorf("%d marking definitions, want the 2 used", got)
	}
	if diff := cmp.Diff([]string{"PAP:GREEN", `misp:confidence-level="fairly-confident"`, "tlp:amber"}, tagNames(back.Tags)); diff != "" {
		t.Errorf("event tags back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"PAP:RED", "tlp:clear"}, tagNames(back.Attributes[0].Tags)); diff != "" {
		t.Errorf("attribute tags back (-want +got):\n%s", diff)
	}
}

func TestGalaxies(t *testing.T) {
	attack := &Galaxy{UUID: "c4e851fa-775f-11e7-8163-b774922098cd", Name: "Attack Pattern", Type: "mitre-attack-pattern",
		Clusters: []*GalaxyCluster{{UUID: "2e34237d-8574-43f6-aace-ae2915de8597", Value: "Spearphishing Attachment - T1566.001",
			Description: "Adversaries may send spearphishing emails with a malicious attachment.",
			Meta:        map[string]any{"external_id": "T1566.001", "kill_chain": []any{"mitre-attack:enterprise-attack:initial-access"}}}}}
	actor := &Galaxy{UUID: "698774c7-8022-42c4-917f-8d6e4f06ada3", Name: "Threat Actor", Type: "threat-actor",
		Clusters: []*GalaxyCluster{{UUID: "11e17436-6ede-4733-8547-4ce0254ea19e", Value: "Cutting Kitten",
			Meta: map[string]any{"synonyms": []any{"Ghambar"}}}}}
	set := &Galaxy{Name: "Intrusion Set", Type: "mitre-intrusion-set",
		Clusters: []*GalaxyCluster{{UUID: "bef4c620-0787-42a8-a96d-b7eb6e85917c", Value: "APT28 - G0007", Meta: map[string]any{"external_id": "G0007"}}}}
	odd := &Galaxy{Name: "Tea Matrix", Type: "tea-matrix", Clusters: []*GalaxyCluster{{UUID: "bcc2bbc6-9d6d-4e1a-b3d6-a6c0a3e9f0a1", Value: "Milk in tea"}}}
	ev := &Event{UUID: evUUID, Info: "galaxies", Timestamp: "1603642920", Galaxies: []*Galaxy{attack, actor, odd},
		Attributes: []*Attribute{{UUID: "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", Type: "ip-dst", Category: "Network activity",
			Value: "198.51.100.7", ToIDs: true, Galaxies: []*Galaxy{set}}}}
	res, back := roundTrip(t, ev)
	ap := one(t, res, "attack-pattern")
	if len(ap.ExternalReferences) == 0 || ap.ExternalReferences[0].SourceName != "mitre-attack" || ap.ExternalReferences[0].ExternalID != "T1566.001" {
		t.Errorf("attack-pattern external references %+v, want mitre-attack T1566.001", ap.ExternalReferences)
	}
	if diff := cmp.Diff([]any{map[string]any{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}}, ap.Props["kill_chain_phases"]); diff != "" {
		t.Errorf("kill chain (-want +got):\n%s", diff)
	}
	ta := one(t, res, "threat-actor")
	if ta.String("name") != "Cutting Kitten" || !cmp.Equal(ta.Props["aliases"], []any{"Ghambar"}) {
		t.Errorf("threat-actor %s", ta.Raw)
	}
	is := one(t, res, "intrusion-set")
	ind := one(t, res, "indicator")
	var rel *stix.Object
	for _, r := range byType(res, "relationship") {
		if r.String("source_ref") == ind.ID && r.String("target_ref") == is.ID {
			rel = r
		}
	}
	if rel == nil || rel.String("relationship_type") != "indicates" {
		t.Errorf("no indicates relationship from the indicator to the intrusion set")
	}
	one(t, res, "x-misp-galaxy-cluster")
	var gotTypes []string
	for _, g := range back.Galaxies {
		for _, c := range g.Clusters {
			gotTypes = append(gotTypes, g.Type+"/"+c.Value)
		}
	}
	if diff := cmp.Diff([]string{"mitre-attack-pattern/Spearphishing Attachment - T1566.001", "threat-actor/Cutting Kitten", "tea-matrix/Milk in tea"}, gotTypes); diff != "" {
		t.Errorf("event galaxies back (-want +got):\n%s", diff)
	}
	if g := back.Galaxies[0].Clusters[0]; g.Meta["external_id"] != "T1566.001" || g.UUID != "2e34237d-8574-43f6-aace-ae2915de8597" {
		t.Errorf("ATT&CK cluster back %+v", g)
	}
	a := back.Attributes[0]
	if len(a.Galaxies) != 1 || a.Galaxies[0].Type != "mitre-intrusion-set" || a.Galaxies[0].Clusters[0].Value != "APT28 - G0007" {
		t.Errorf("attribute galaxies back %+v", a.Galaxies)
	}
}

// TestClusterSharedByEventsOfOneInstant holds the conversion of a cluster
// apart from the event it hangs on: two events by two organisations, of
// one timestamp, attaching the same ATT&CK technique convert it to one
// object, so a feed carrying both imports without a conflict.
func TestClusterSharedByEventsOfOneInstant(t *testing.T) {
	cluster := func() []*Galaxy {
		return []*Galaxy{{UUID: "c4e851fa-775f-11e7-8163-b774922098cd", Name: "Attack Pattern", Type: "mitre-attack-pattern",
			Clusters: []*GalaxyCluster{{UUID: "2e34237d-8574-43f6-aace-ae2915de8597", Value: "Spearphishing Attachment - T1566.001",
				Meta: map[string]any{"external_id": "T1566.001"}}}}}
	}
	a := &Event{UUID: "5e384ae7-672c-4250-9cda-3b4da964451a", Info: "a", Timestamp: "1603642920", Galaxies: cluster(),
		Orgc: &Org{UUID: "a0c22599-9e58-4da4-96ac-7051603fa951", Name: "CIRCL"}}
	b := &Event{UUID: "f93cb275-0366-4ecc-abf0-a17928d1e177", Info: "b", Timestamp: "1603642920", Galaxies: cluster(),
		Orgc: &Org{UUID: "0c5b0a3e-2f1d-4e8a-9b7c-6d5e4f3a2b1c", Name: "CERT-EU"}}
	var buf bytes.Buffer
	if _, err := WriteBundle(&buf, []*Event{a, b}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), `"id":"attack-pattern--2e34237d-8574-43f6-aace-ae2915de8597"`); n != 1 {
		t.Fatalf("the shared cluster written %d times, want once:\n%s", n, buf.String())
	}
	res, err := ToSTIX(a)
	if err != nil {
		t.Fatal(err)
	}
	if ap := one(t, res, "attack-pattern"); ap.String("created_by_ref") != "" {
		t.Errorf("the cluster names a creator: %s", ap.Raw)
	}
}

func TestSightingsReportsAndNotes(t *testing.T) {
	ev := &Event{UUID: evUUID, Info: "sightings", Timestamp: "1603642920",
		Orgc: &Org{UUID: "a0c22599-9e58-4da4-96ac-7051603fa951", Name: "MISP-Project"},
		Attributes: []*Attribute{{UUID: "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", Type: "url", Category: "Network activity",
			Value: "https://evil.example/a", ToIDs: true,
			Sightings: []*Sighting{
				{UUID: "5d1e7a2b-0b7a-4c1d-9c0e-1a2b3c4d5e6f", Type: "0", DateSighting: "1603700000", Source: "sensor-1", Org: &Org{UUID: "b0c22599-9e58-4da4-96ac-7051603fa951", Name: "Bank A"}},
				{UUID: "6d1e7a2b-0b7a-4c1d-9c0e-1a2b3c4d5e6f", Type: "1", DateSighting: "1603800000"},
			}}},
		Objects: []*Object{{UUID: "5d234f25-539c-4d12-bf93-2c46a964451a", Name: "domain-ip", Attributes: []*Attribute{
			{UUID: "0054005c-4834-42da-9451-f8b2b22713b0", Type: "domain", ObjectRelation: "domain", Value: "evil.example",
				Sightings: []*Sighting{{UUID: "7d1e7a2b-0b7a-4c1d-9c0e-1a2b3c4d5e6f", Type: "0", DateSighting: "1603700001"}}}}}},
		Sightings: []*Sighting{{UUID: "8d1e7a2b-0b7a-4c1d-9c0e-1a2b3c4d5e6f", Type: "0", DateSighting: "1603700002", AttributeUUID: "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"}},
		EventReports: []*EventReport{{UUID: "44ceb474-6493-48de-b753-bbd0470e0e54", Name: "Summary",
			Content: "The URL @[attribute](91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f) served the payload.", Timestamp: "1603642920"}},
		Notes: []*AnalystData{{UUID: "bbd17601-425f-4dd5-82ed-0b18115bee98", Authors: "a@example.org", Note: "Straight to the point", Language: "en", Created: "2024-06-25 06:33:45", Modified: "2024-06-25 06:33:45"}},
	}
	res, back := roundTrip(t, ev)
	var s *stix.Object
	for _, x := range byType(res, "sighting") {
		if x.String("sighting_of_ref") == "indicator--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f" && x.Props["x_misp_event_sighting"] == nil {
			s = x
		}
	}
	if s == nil {
		t.Fatalf("no sighting of the indicator")
	}
	if s.String("sighting_of_ref") != "indicator--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f" || s.String("first_seen") != "2020-10-26T08:13:20.000Z" {
		t.Errorf("sighting %s", s.Raw)
	}
	if w := stringsOf(s.Props["where_sighted_refs"]); len(w) != 1 || w[0] != "identity--b0c22599-9e58-4da4-96ac-7051603fa951" {
		t.Errorf("sighting where_sighted_refs %v", w)
	}
	op := one(t, res, "opinion")
	if op.String("opinion") != "strongly-disagree" {
		t.Errorf("false positive became %s", op.Raw)
	}
	var report, note *stix.Object
	for _, n := range byType(res, "note") {
		if strings.Contains(string(n.Raw), "Event Report") {
			report = n
		} else {
			note = n
		}
	}
	if report == nil || report.String("abstract") != "Summary" || !cmp.Equal(stringsOf(report.Props["object_refs"]), []string{"indicator--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f"}) {
		t.Fatalf("event report note: %v", report)
	}
	if note == nil || note.String("content") != "Straight to the point" || !cmp.Equal(stringsOf(note.Props["object_refs"]), []string{"report--" + evUUID}) {
		t.Fatalf("analyst note: %v", note)
	}
	a := back.Attributes[0]
	var types []string
	for _, s := range a.Sightings {
		types = append(types, s.Type+"@"+s.DateSighting)
	}
	if diff := cmp.Diff([]string{"0@1603700000", "1@1603800000"}, types); diff != "" {
		t.Errorf("sightings back (-want +got):\n%s", diff)
	}
	if oa := back.Objects[0].Attributes[0]; len(oa.Sightings) != 1 || oa.Sightings[0].DateSighting != "1603700001" {
		t.Errorf("object attribute's sightings back %+v", oa.Sightings)
	}
	if len(back.Sightings) != 1 || back.Sightings[0].AttributeUUID != "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f" || back.Sightings[0].DateSighting != "1603700002" {
		t.Errorf("event's sightings back %+v", back.Sightings)
	}
	if a.Sightings[0].Source != "sensor-1" || a.Sightings[0].Org == nil || a.Sightings[0].Org.Name != "Bank A" {
		t.Errorf("sighting back %+v", a.Sightings[0])
	}
	if len(back.EventReports) != 1 || back.EventReports[0].Content != ev.EventReports[0].Content || back.EventReports[0].Name != "Summary" {
		t.Errorf("event reports back %+v", back.EventReports)
	}
	if len(back.Notes) != 1 || back.Notes[0].Note != "Straight to the point" || back.Notes[0].Created != "2024-06-25 06:33:45" {
		t.Errorf("notes back %+v", back.Notes)
	}
}

func TestAudience(t *testing.T) {
	for _, tc := range []struct {
		dist string
		want cyberpact.AudienceKind
	}{{"0", cyberpact.AudienceOrg}, {"1", cyberpact.AudienceAll}, {"2", cyberpact.AudienceAll}, {"3", cyberpact.AudienceAll}, {"4", cyberpact.AudienceGroup}, {"5", 0}, {"", 0}} {
		ev := &Event{UUID: evUUID, Info: "d", Timestamp: "1603642920", Distribution: tc.dist}
		if tc.dist == "4" {
			ev.SharingGroup = &SharingGroup{UUID: "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8", Name: "Banks"}
		}
		res, back := roundTrip(t, ev)
		if got := res.Audience.Kind(); got != tc.want {
			t.Errorf("distribution %q: kind %v, want %v", tc.dist, got, tc.want)
		}
		if back.Distribution != tc.dist {
			t.Errorf("distribution %q came back as %q", tc.dist, back.Distribution)
		}
		if tc.dist == "4" && (res.Audience.SharingGroup == nil || res.Audience.SharingGroup.Name != "Banks" || back.SharingGroup == nil || back.SharingGroup.Name != "Banks") {
			t.Errorf("sharing group lost: %+v / %+v", res.Audience.SharingGroup, back.SharingGroup)
		}
	}
}

// TestAudienceNarrowed checks that what an event holds for fewer than the
// event narrows the hint: the objects are released together, and none may
// go further than MISP was told.
func TestAudienceNarrowed(t *testing.T) {
	banks := &SharingGroup{UUID: "c1a2b3c4-d5e6-4f70-8192-a3b4c5d6e7f8", Name: "Banks"}
	for _, tc := range []struct {
		name            string
		event, evGroup  string
		attr, attrGroup string
		inObject        bool
		want, wantGroup string
	}{
		{"OrgOnlyAttribute", "3", "", "0", "", false, "0", ""},
		{"OrgOnlyObjectAttribute", "1", "", "0", "", true, "0", ""},
		{"InheritNarrowsNothing", "3", "", "5", "", false, "3", ""},
		{"TheEventsGroup", "3", "7", "4", "7", false, "4", "Banks"},
		{"AnotherGroup", "4", "7", "4", "8", true, "0", ""},
		{"SameGroup", "4", "7", "4", "7", false, "4", "Banks"},
		{"WiderAttribute", "0", "", "3", "", false, "0", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Attribute{UUID: "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", Type: "domain", Value: "evil.example", Distribution: tc.attr, SharingGroupID: tc.attrGroup}
			ev := &Event{UUID: evUUID, Info: "n", Timestamp: "1603642920", Distribution: tc.event, SharingGroupID: tc.evGroup, SharingGroup: banks}
			if tc.inObject {
				ev.Objects = []*Object{{UUID: "5d234f25-539c-4d12-bf93-2c46a964451a", Name: "domain-ip", Attributes: []*Attribute{a}}}
			} else {
				ev.Attributes = []*Attribute{a}
			}
			res, err := ToSTIX(ev)
			if err != nil {
				t.Fatal(err)
			}
			group := ""
			if res.Audience.SharingGroup != nil {
				group = res.Audience.SharingGroup.Name
			}
			if res.Audience.Distribution != tc.want || (tc.want == "4" && group != tc.wantGroup) {
				t.Errorf("hint %s %q, want %s %q", res.Audience.Distribution, group, tc.want, tc.wantGroup)
			}
		})
	}
}

func TestDecodeForms(t *testing.T) {
	const attr = `{"uuid":"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f","type":"ip-src","category":"Network activity","value":"1.2.3.4","to_ids":"1","timestamp":1603642920,"event_id":"12"}`
	bare := `{"uuid":"` + evUUID + `","info":"x","timestamp":1603642920,"published":false,"distribution":1,"Attribute":[` + attr + `]}`
	for name, in := range map[string]string{
		"Wrapped":  `{"Event":` + bare + `}`,
		"Bare":     bare,
		"List":     `[{"Event":` + bare + `},` + bare + `]`,
		"Response": `{"response":[{"Event":` + bare + `}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if !IsMISP([]byte(in)) {
				t.Errorf("IsMISP false")
			}
			evs, err := Decode(strings.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				a := ev.Attributes[0]
				if ev.Distribution != "1" || a.Timestamp != "1603642920" || !a.ToIDs || string(a.Extra["event_id"]) != `"12"` {
					t.Errorf("decoded %+v / %+v", ev, a)
				}
			}
			// Unknown keys survive Encode.
			var buf bytes.Buffer
			if err := Encode(&buf, evs); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), `"event_id": "12"`) {
				t.Errorf("event_id lost: %s", buf.String())
			}
		})
	}
	for _, in := range []string{`{"type":"bundle","objects":[]}`, `{"type":"indicator"}`, `[]`, `nonsense`} {
		if IsMISP([]byte(in)) {
			t.Errorf("IsMISP(%s) true", in)
		}
	}
}

func TestDecodeErrorsSayWhere(t *testing.T) {
	for in, want := range map[string]string{
		`{"Event":{"uuid":"` + evUUID + `","Attribute":[{"type":"ip-src","value":"1.2.3.4"},{"type":"domain","to_ids":{}}]}}`: "Event.Attribute[1].to_ids",
		`[{"Event":{"uuid":"` + evUUID + `"}},{"Event":{"info":"no uuid"}}]`:                                                  "[1].Event: event has no uuid",
		`{"Event":{"uuid":"` + evUUID + `","Object":[{"name":"file","Attribute":[{"value":["a"]}]}]}}`:                        "Event.Object[0].Attribute[0].value",
		`{"Event":{"uuid":"` + evUUID + `","Object":[{"Attribute":[]}]}}`:                                                     "Event.Object[0]: object has no name",
		`{"Event":{"uuid":"not-a-uuid","info":"x"}}`:                                                                          "",
	} {
		evs, err := DecodeJSON([]byte(in))
		if want == "" {
			if err == nil {
				_, err = ToSTIX(evs[0])
			}
			if err == nil || !strings.Contains(err.Error(), "not-a-uuid") {
				t.Errorf("%s: error %v, want one naming the uuid", in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %q", in, err, want)
		}
	}
}

func TestForeignSTIX(t *testing.T) {
	raw := []string{
		`{"type":"indicator","spec_version":"2.1","id":"indicator--1f6a4d4e-6d5a-4bd3-9f3e-2b3c4d5e6f70","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`,
		`{"type":"indicator","spec_version":"2.1","id":"indicator--2f6a4d4e-6d5a-4bd3-9f3e-2b3c4d5e6f70","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`,
		`{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--3f6a4d4e-6d5a-4bd3-9f3e-2b3c4d5e6f70","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Phishing","external_references":[{"source_name":"mitre-attack","external_id":"T1566"}]}`,
		// An observable on its own, and one read through its observed-data.
		`{"type":"domain-name","spec_version":"2.1","id":"domain-name--4f2ea360-1460-5a03-afb8-4cbce15a9cf0","value":"c2.example"}`,
		`{"type":"url","spec_version":"2.1","id":"url--5f2ea360-1460-5a03-afb8-4cbce15a9cf0","value":"https://c2.example/x"}`,
		`{"type":"observed-data","spec_version":"2.1","id":"observed-data--6f6a4d4e-6d5a-4bd3-9f3e-2b3c4d5e6f70","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","first_observed":"2026-01-01T00:00:00Z","last_observed":"2026-01-01T00:00:00Z","number_observed":1,"object_refs":["url--5f2ea360-1460-5a03-afb8-4cbce15a9cf0"]}`,
	}
	var objs []*stix.Object
	for _, r := range raw {
		o, err := stix.Parse([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	evs, err := FromSTIX(objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	got := attrKeys(evs[0])
	want := []attrKey{{"", "", "domain", "c2.example"}, {"", "", "sha256", "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"},
		{"", "", "stix2-pattern", "[ipv4-addr:value = '198.51.100.1'] OR [domain-name:value = 'evil.example']"},
		{"", "", "url", "https://c2.example/x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if len(evs[0].Galaxies) != 1 || evs[0].Galaxies[0].Type != "mitre-attack-pattern" || evs[0].Galaxies[0].Clusters[0].Meta["external_id"] != "T1566" {
		t.Errorf("galaxies %+v", evs[0].Galaxies)
	}
}

func TestSniff(t *testing.T) {
	for in, want := range map[string]bool{
		`{"Event": {"uuid": "x"}}`:                               true,
		`[{"Event": {`:                                           true,
		`{"response": [{"Event": {}}]}`:                          true,
		`{"uuid": "x", "info": "i", "date": "d", "Attribute": [`: true,
		`{"uuid": "x", "info": "i", "Object": []}`:               true,
		`{"type": "bundle", "id": "bundle--x", "objects": [`:     false,
		`{"id": "bundle--x", "type": "bundle"}`:                  false,
		`[{"type": "indicator"}]`:                                false,
		`{"info": "x", "type": "note", "Attribute": []}`:         false,
		`not json`: false,
	} {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestWriteBundle(t *testing.T) {
	evs := sharedEvents(t)
	list := []*Event{evs["event_with_tlp2_tags.json"], evs["event_with_url_attributes.json"]}
	var buf bytes.Buffer
	hints, err := WriteBundle(&buf, list)
	if err != nil {
		t.Fatal(err)
	}
	if len(hints) != 2 {
		t.Fatalf("%d hints", len(hints))
	}
	r := stix.NewReader(&buf)
	seen := map[string]bool{}
	n := 0
	// Both events have the same uuid and creator: the identity is written
	// once, each event's report (same id, other content) once each.
	for {
		it, err := r.Next()
		if err != nil {
			break
		}
		o, err := stix.Parse(it.Raw)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(o.Raw)] {
			t.Errorf("%s written twice", o.ID)
		}
		seen[string(o.Raw)] = true
		n++
	}
	distinct := map[string]bool{}
	reports := 0
	for _, ev := range list {
		res, _ := ToSTIX(ev)
		for _, o := range res.Objects {
			distinct[string(o.Raw)] = true
			if o.Type == "report" {
				reports++
			}
		}
	}
	if n != len(distinct) || reports != 2 {
		t.Errorf("bundle has %d objects, want the %d distinct ones (%d reports)", n, len(distinct), reports)
	}
}

// TestDecodeLenient reads what MISP writes in more than one way: numbers
// for the string fields of sightings, reports and clusters, an empty list
// for an empty meta.
func TestDecodeLenient(t *testing.T) {
	in := `{"Event":{"uuid":"` + evUUID + `","info":"x","timestamp":1603642920,
		"Attribute":[{"uuid":"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f","type":"domain","value":"evil.example","to_ids":1,
			"Sighting":[{"type":0,"date_sighting":1603700000,"Organisation":{"name":"Bank A","uuid":"b0c22599-9e58-4da4-96ac-7051603fa951"}}]}],
		"Galaxy":[{"type":"threat-actor","name":"Threat Actor","GalaxyCluster":[{"uuid":"11e17436-6ede-4733-8547-4ce0254ea19e","value":"Cutting Kitten","version":3,"meta":[]}]}],
		"EventReport":[{"uuid":"44ceb474-6493-48de-b753-bbd0470e0e54","name":"r","content":"c","timestamp":1603642920,"distribution":5}]}}`
	evs, err := DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	ev := evs[0]
	if s := ev.Attributes[0].Sightings[0]; s.Type != "0" || s.DateSighting != "1603700000" {
		t.Errorf("sighting %+v", s)
	}
	if c := ev.Galaxies[0].Clusters[0]; c.Version != "3" || c.Meta != nil {
		t.Errorf("cluster %+v", c)
	}
	if r := ev.EventReports[0]; r.Timestamp != "1603642920" || r.Distribution != "5" {
		t.Errorf("report %+v", r)
	}
	checkEvent(t, ev)
}

// TestUnknownKeysKept checks that keys this package does not model, at
// every level of an event, survive the trip to STIX and back to MISP
// JSON.
func TestUnknownKeysKept(t *testing.T) {
	in := `{"Event":{"uuid":"` + evUUID + `","info":"x","timestamp":"1603642920","k_event":"e1",
		"Attribute":[{"uuid":"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f","type":"domain","value":"evil.example","to_ids":true,"k_attr":"a1",
			"Sighting":[{"uuid":"5d1e7a2b-0b7a-4c1d-9c0e-1a2b3c4d5e6f","type":"0","date_sighting":"1603700000","k_sighting":"s1"}],
			"Galaxy":[{"type":"threat-actor","name":"Threat Actor","k_galaxy":"g1","GalaxyCluster":[{"uuid":"11e17436-6ede-4733-8547-4ce0254ea19e","value":"Cutting Kitten","k_cluster":"c1"}]}]}],
		"Object":[{"uuid":"5d234f25-539c-4d12-bf93-2c46a964451a","name":"domain-ip","k_object":"o1",
			"Attribute":[{"uuid":"0054005c-4834-42da-9451-f8b2b22713b0","type":"domain","object_relation":"domain","value":"c2.example","k_oattr":"oa1"}],
			"ObjectReference":[{"uuid":"689e7438-1b82-565e-bed6-02bbbc2fb721","referenced_uuid":"91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f","relationship_type":"resolves-to","k_ref":"r1"},
				{"uuid":"789e7438-1b82-565e-bed6-02bbbc2fb721","referenced_uuid":"11111111-1b82-465e-bed6-02bbbc2fb721","relationship_type":"elsewhere","k_ref2":"r2"}]}],
		"EventReport":[{"uuid":"44ceb474-6493-48de-b753-bbd0470e0e54","name":"r","content":"c","k_report":"p1"}],
		"Note":[{"uuid":"bbd17601-425f-4dd5-82ed-0b18115bee98","note":"n","k_note":"n1"}]}}`
	evs, err := DecodeJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	res := checkEvent(t, evs[0])
	back, err := FromSTIX(res.Objects)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, back); err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{`"k_event": "e1"`, `"k_attr": "a1"`, `"k_sighting":"s1"`, `"k_galaxy":"g1"`, `"k_cluster":"c1"`,
		`"k_object": "o1"`, `"k_oattr":"oa1"`, `"k_ref":"r1"`, `"k_ref2":"r2"`, `"k_report":"p1"`, `"k_note":"n1"`} {
		if !strings.Contains(strings.ReplaceAll(buf.String(), `": "`, `":"`), strings.ReplaceAll(kv, `": "`, `":"`)) {
			t.Errorf("%s lost on the way:\n%s", kv, buf.String())
		}
	}
}
