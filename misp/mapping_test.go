package misp

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/stix"
)

// hashLen is the number of hex digits of each fixed-length hash.
var hashLen = map[string]int{
	"MD5": 32, "SHA-1": 40, "SHA-224": 56, "SHA-256": 64, "SHA-384": 96, "SHA-512": 128,
	"SHA3-224": 56, "SHA3-256": 64, "SHA3-384": 96, "SHA3-512": 128, "SHA-512-224": 56,
	"SHA-512-256": 64, "IMPHASH": 32, "TLSH": 70, "PEHASH": 40, "AUTHENTIHASH": 64,
	"TELFHASH": 70, "VHASH": 36,
}

// sample returns a well-formed value for a field, drawn from rng.
func sample(rng *rand.Rand, f field) string {
	hex := func(n int) string {
		const digits = "0123456789abcdef"
		b := make([]byte, n)
		for i := range b {
			b[i] = digits[rng.Intn(16)]
		}
		return string(b)
	}
	word := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz"
		b := make([]byte, 3+rng.Intn(8))
		for i := range b {
			b[i] = letters[rng.Intn(len(letters))]
		}
		return string(b)
	}
	ip := func() string {
		if rng.Intn(4) == 0 {
			return fmt.Sprintf("2001:db8::%x", rng.Intn(65535))
		}
		return fmt.Sprintf("%d.%d.%d.%d", 1+rng.Intn(222), rng.Intn(256), rng.Intn(256), 1+rng.Intn(254))
	}
	segs, _ := splitPath(f.path)
	last := segs[len(segs)-1].name
	switch {
	case last == "end" || last == "validity_not_after":
		return fmt.Sprintf("2021-%02d-%02dT12:31:22Z", 1+rng.Intn(12), 1+rng.Intn(28))
	case timeProps[last]:
		return fmt.Sprintf("2019-%02d-%02dT12:31:22.%03dZ", 1+rng.Intn(12), 1+rng.Intn(28), rng.Intn(1000))
	case floatProps[last]:
		return strconv.FormatFloat(float64(rng.Intn(8000))/1000, 'f', -1, 64)
	case len(segs) > 1 && segs[len(segs)-2].name == "hashes":
		if n := hashLen[last]; n > 0 {
			return hex(n)
		}
		return "96:" + hex(20) + ":" + hex(12)
	case intProps[last]:
		return strconv.Itoa(1 + rng.Intn(65000))
	case f.obj == "autonomous-system":
		return strconv.Itoa(rng.Intn(400000))
	case strings.HasSuffix(segs[0].name, "_ref") && f.obj == "network-traffic", segs[0].name == "resolves_to_refs":
		if segs[0].name == "dst_ref" && rng.Intn(3) == 0 {
			return word() + ".example"
		}
		return ip()
	case f.obj == "domain-name":
		return word() + "." + word() + ".example"
	case f.obj == "url":
		return "https://" + word() + ".example/" + word() + "?q=" + word()
	case f.obj == "mac-addr":
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", rng.Intn(256), rng.Intn(256), rng.Intn(256), rng.Intn(256), rng.Intn(256), rng.Intn(256))
	case last == "value":
		return word() + "@" + word() + ".example"
	case f.obj == "windows-registry-key" && last == "key":
		return `HKLM\Software\` + word() + `\` + word()
	case last == "cpe":
		return "cpe:2.3:a:" + word() + ":" + word() + ":1.0:*:*:*:*:*:*:*"
	case last == "data_type":
		return []string{"REG_SZ", "REG_DWORD", "REG_BINARY"}[rng.Intn(3)]
	case last == "mime_type":
		return "application/" + word()
	}
	// Free text, with what needs escaping in a pattern.
	extras := []string{"", "'", `\`, " ", "é", `"`, "%"}
	return word() + extras[rng.Intn(len(extras))] + word()
}

// TestMappingTable converts one attribute of every type in the table,
// with and without to_ids, and checks it becomes what the table says:
// an indicator whose pattern compares each of the type's paths, or
// observed-data whose observables have them, or the rule indicator or
// domain object named.
func TestMappingTable(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	rows := Mapping()
	kinds := map[string]int{}
	for _, r := range rows {
		kinds[r.Kind]++
	}
	if kinds["attribute"] < 60 || kinds["object"] < 25 || kinds["galaxy"] < 20 {
		t.Fatalf("mapping table too small: %v", kinds)
	}
	for _, r := range rows {
		if r.Kind != "attribute" {
			continue
		}
		for _, toIDs := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/to_ids=%v", r.Name, toIDs), func(t *testing.T) {
				var value string
				switch {
				case attributeFields[r.Name] != nil:
					var parts []string
					for _, f := range attributeFields[r.Name] {
						parts = append(parts, sample(rng, f))
					}
					value = strings.Join(parts, "|")
				case r.Name == "vulnerability":
					value = "CVE-2021-44228"
				default:
					value = "rule or name " + strconv.Itoa(rng.Intn(1000))
				}
				ev := &Event{UUID: "a6ef17d6-91cb-4a05-b10b-2f045daf874c", Info: "table", Timestamp: "1603642920",
					Attributes: []*Attribute{{UUID: "91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f", Type: r.Name, Category: "Network activity", Value: value, ToIDs: toIDs}}}
				res := checkEvent(t, ev)
				var container string
				for _, o := range res.Objects {
					if strings.HasSuffix(o.ID, "--91ae0a21-c7ae-4c7f-b84b-b84a7ce53d1f") {
						container = o.Type
						switch o.Type {
						case "indicator":
							if o.String("pattern_type") == "stix" {
								for _, f := range attributeFields[r.Name] {
									if !strings.Contains(o.String("pattern"), f.String()+" = ") {
										t.Errorf("pattern %s does not compare %s", o.String("pattern"), f)
									}
								}
							}
						case "observed-data":
							pvs := flatten(stringsOf(o.Props["object_refs"]), indexOf(res))
							for _, f := range attributeFields[r.Name] {
								found := false
								for _, pv := range pvs {
									found = found || pv.f == f.String()
								}
								if !found {
									t.Errorf("observables %v have nothing at %s", pvs, f)
								}
							}
						}
					}
				}
				want := ""
				switch {
				case ruleTypes[r.Name] != "":
					want = "indicator"
				case sdoTypes[r.Name] != "":
					want = sdoTypes[r.Name]
				case toIDs:
					want = "indicator"
				case patternOnly[r.Name]:
					want = "x-misp-attribute"
				default:
					want = "observed-data"
				}
				if container != want {
					t.Errorf("%s (to_ids %v) became %q, want %q (value %q)", r.Name, toIDs, container, want, value)
				}
			})
		}
	}
}

func indexOf(res *Result) map[string]*stixObject {
	m := map[string]*stixObject{}
	for _, o := range res.Objects {
		m[o.ID] = o
	}
	return m
}

// TestGeneratedRoundTrip builds events the tests have not seen: random
// attribute types from the table with random values (well-formed or not),
// in random objects of the supported templates, and checks each the way
// the shared events are checked.
func TestGeneratedRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(int64(19)))
	var attrTypes []string
	for _, r := range Mapping() {
		if r.Kind == "attribute" {
			attrTypes = append(attrTypes, r.Name)
		}
	}
	attrTypes = append(attrTypes, "text", "btc", "comment", "whois-registrant-email")
	var tmplNames []string
	for n := range templates {
		tmplNames = append(tmplNames, n)
	}
	for n := range sdoTemplates {
		tmplNames = append(tmplNames, n)
	}
	sortStrings(tmplNames)
	uuid := func() string { return uuidHash("a6ef17d6-91cb-4a05-b10b-2f045daf874c", strconv.Itoa(rng.Int()), 4) }
	junk := []string{"", "|", "'", `\\`, "a|b|c", "ünï", " spaced ", "08", "-1"}
	value := func(typ string) string {
		if rng.Intn(8) == 0 {
			return junk[rng.Intn(len(junk))] + strconv.Itoa(rng.Intn(100))
		}
		fs := attributeFields[typ]
		if fs == nil {
			return "value " + strconv.Itoa(rng.Intn(1e6)) + junk[rng.Intn(len(junk))]
		}
		var parts []string
		for _, f := range fs {
			parts = append(parts, sample(rng, f))
		}
		return strings.Join(parts, "|")
	}
	for i := 0; i < 200; i++ {
		ev := &Event{UUID: uuid(), Info: "generated " + strconv.Itoa(i), Date: "2026-01-02", Timestamp: strconv.Itoa(1700000000 + rng.Intn(1e7)),
			Orgc: &Org{UUID: uuid(), Name: "Org " + strconv.Itoa(rng.Intn(5))}, Distribution: strconv.Itoa(rng.Intn(5))}
		for j := rng.Intn(12); j > 0; j-- {
			typ := attrTypes[rng.Intn(len(attrTypes))]
			a := &Attribute{UUID: uuid(), Type: typ, Category: "Network activity", Value: value(typ), ToIDs: rng.Intn(2) == 0,
				Comment: []string{"", "a comment", "it's"}[rng.Intn(3)], Timestamp: []string{strconv.Itoa(1600000000 + rng.Intn(1e7)), "", "yesterday"}[rng.Intn(3)]}
			if rng.Intn(5) == 0 {
				a.Tags = []Tag{{Name: []string{"tlp:green", "tlp:red", "PAP:AMBER", `misp-galaxy:threat-actor="Sofacy"`}[rng.Intn(4)]}}
			}
			ev.Attributes = append(ev.Attributes, a)
		}
		for j := rng.Intn(4); j > 0; j-- {
			name := tmplNames[rng.Intn(len(tmplNames))]
			o := &Object{UUID: uuid(), Name: name, MetaCategory: "misc", Timestamp: ev.Timestamp}
			var rels []string
			if tp, ok := templates[name]; ok {
				for rel := range tp.fields {
					rels = append(rels, rel)
				}
			}
			rels = append(rels, "name", "text", "comment", "first-seen")
			sortStrings(rels)
			for k := 1 + rng.Intn(6); k > 0; k-- {
				rel := rels[rng.Intn(len(rels))]
				var v, typ string
				if f, ok := templates[name].fields[rel]; ok && rng.Intn(6) != 0 {
					v, typ = sample(rng, f), "text"
				} else {
					v, typ = value("text"), "text"
				}
				if v == "" {
					v = "x"
				}
				o.Attributes = append(o.Attributes, &Attribute{UUID: uuid(), Type: typ, ObjectRelation: rel, Value: v, ToIDs: rng.Intn(3) == 0})
			}
			ev.Objects = append(ev.Objects, o)
		}
		// Sometimes a file with the pe it includes and its sections,
		// which fold into one STIX object.
		if rng.Intn(3) == 0 {
			mk := func(name string, tp template) *Object {
				o := &Object{UUID: uuid(), Name: name, Timestamp: ev.Timestamp}
				var rels []string
				for rel := range tp.fields {
					rels = append(rels, rel)
				}
				sortStrings(rels)
				for _, rel := range rels {
					if rng.Intn(2) == 0 {
						o.Attributes = append(o.Attributes, &Attribute{UUID: uuid(), Type: "text", ObjectRelation: rel, Value: sample(rng, tp.fields[rel]), ToIDs: rng.Intn(4) == 0})
					}
				}
				o.Attributes = append(o.Attributes, &Attribute{UUID: uuid(), Type: "text", ObjectRelation: "comment", Value: value("text")})
				return o
			}
			file, pe := mk("file", templates["file"]), mk("pe", memberTemplates["pe"])
			file.References = append(file.References, &ObjectReference{UUID: uuid(), ReferencedUUID: pe.UUID, RelationshipType: "includes"})
			if rng.Intn(2) == 0 {
				ev.Objects = append(ev.Objects, file, pe)
			} else {
				ev.Objects = append(ev.Objects, pe, file) // the pe listed first
			}
			for k := rng.Intn(3); k > 0; k-- {
				sec := mk("pe-section", memberTemplates["pe-section"])
				pe.References = append(pe.References, &ObjectReference{UUID: uuid(), ReferencedUUID: sec.UUID, RelationshipType: "includes"})
				ev.Objects = append(ev.Objects, sec)
			}
		}
		// Sometimes a registry key with the values it contains.
		if rng.Intn(4) == 0 {
			key := &Object{UUID: uuid(), Name: "registry-key", Timestamp: ev.Timestamp,
				Attributes: []*Attribute{{UUID: uuid(), Type: "regkey", ObjectRelation: "key", Value: sample(rng, fld("windows-registry-key:key"))}}}
			ev.Objects = append(ev.Objects, key)
			for k := 1 + rng.Intn(2); k > 0; k-- {
				v := &Object{UUID: uuid(), Name: "registry-key-value", Timestamp: ev.Timestamp}
				for _, rel := range []string{"data", "data-type", "name"} {
					if rng.Intn(3) != 0 {
						v.Attributes = append(v.Attributes, &Attribute{UUID: uuid(), Type: "text", ObjectRelation: rel, Value: sample(rng, templates["registry-key-value"].fields[rel])})
					}
				}
				key.References = append(key.References, &ObjectReference{UUID: uuid(), ReferencedUUID: v.UUID, RelationshipType: "contains"})
				ev.Objects = append(ev.Objects, v)
			}
		}
		// References from objects to attributes and objects of the event.
		var targets []string
		for _, a := range ev.Attributes {
			targets = append(targets, a.UUID)
		}
		for _, o := range ev.Objects {
			targets = append(targets, o.UUID)
		}
		for _, o := range ev.Objects {
			if rng.Intn(2) == 0 && len(targets) > 1 {
				tgt := targets[rng.Intn(len(targets))]
				if tgt != o.UUID {
					o.References = append(o.References, &ObjectReference{UUID: uuid(), ObjectUUID: o.UUID, ReferencedUUID: tgt,
						RelationshipType: []string{"related-to", "downloaded-from", "Drops"}[rng.Intn(3)]})
				}
			}
		}
		t.Run(strconv.Itoa(i), func(t *testing.T) { checkEvent(t, ev) })
	}
}

type stixObject = stix.Object

func sortStrings(s []string) { sort.Strings(s) }

// sdoSamples are plausible attributes for the templates that describe a
// domain object.
var sdoSamples = map[string][][2]string{
	"vulnerability":    {{"id", "CVE-2021-44228"}, {"summary", "Log4Shell"}},
	"attack-pattern":   {{"name", "Buffer overflow"}, {"id", "9"}},
	"course-of-action": {{"name", "Block the C2"}, {"description", "At the perimeter"}},
	"identity":         {{"name", "John Doe"}, {"identity_class", "individual"}},
	"organization":     {{"name", "CIRCL"}, {"role", "national CERT"}},
	"person":           {{"first-name", "John"}, {"last-name", "Smith"}},
	"employee":         {{"first-name", "Jane"}, {"last-name", "Doe"}, {"employee-type", "Supervisor"}},
	"news-agency":      {{"name", "AFP"}, {"link", "https://www.afp.com/"}},
	"legal-entity":     {{"name", "ACME Ltd"}},
	"geolocation":      {{"latitude", "49.6116"}, {"longitude", "6.1319"}, {"country", "LU"}},
	"yara":             {{"yara", "rule x { condition: true }"}, {"yara-rule-name", "x"}},
	"sigma":            {{"sigma", "title: x\ndetection: {}"}, {"sigma-rule-name", "x"}},
	"suricata":         {{"suricata", `alert dns any any -> any any (msg:"x"; sid:1;)`}},
	"snort":            {{"snort", `alert tcp any any -> any 80 (msg:"x"; sid:2;)`}},
	"intrusion-set":    {{"name", "APT28"}},
	"threat-actor":     {{"name", "Cutting Kitten"}},
	"nova-rule":        {{"raw-rule", "rule x { keywords: $a = \"ignore\" condition: $a }"}, {"rule-name", "x"}},
	"wazuh-rule":       {{"wazuh-rule", `<rule id="200996" level="12"></rule>`}, {"rule-id", "200996"}},
	"owasp-crs-rule":   {{"raw-rule", `SecRule ARGS "@rx x" "id:1"`}, {"rule-id", "1"}},
	"script":           {{"filename", "infected.py"}, {"state", "Malicious"}, {"language", "Python"}, {"comment", "infects shells"}},
}

// TestObjectTemplates converts an object of every template in the table,
// one attribute per mapped relation, and checks it becomes what the table
// says: an indicator whose pattern compares every relation's field (when
// an attribute has to_ids), observed-data whose observables have them
// (otherwise), or the domain object the template describes.
func TestObjectTemplates(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, r := range Mapping() {
		if r.Kind != "object" {
			continue
		}
		for _, toIDs := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/to_ids=%v", r.Name, toIDs), func(t *testing.T) {
				// "pe (in a group)": a pe folded into the file including it.
				name := strings.TrimSuffix(r.Name, " (in a group)")
				inGroup := name != r.Name
				o := &Object{UUID: "5d234f25-539c-4d12-bf93-2c46a964451a", Name: name, MetaCategory: "misc", Timestamp: "1603642920"}
				tp, observable := templates[name]
				if inGroup {
					tp, observable = memberTemplates[name], true
				}
				if observable {
					rels := make([]string, 0, len(tp.fields))
					for rel := range tp.fields {
						rels = append(rels, rel)
					}
					sort.Strings(rels)
					seen := map[string]bool{}
					for _, rel := range rels {
						f := tp.fields[rel]
						if seen[f.String()] {
							continue // one relation per field: two would need two observables
						}
						seen[f.String()] = true
						o.Attributes = append(o.Attributes, &Attribute{Type: "text", ObjectRelation: rel, Value: sample(rng, f), ToIDs: toIDs})
					}
				} else {
					for _, kv := range sdoSamples[name] {
						o.Attributes = append(o.Attributes, &Attribute{Type: "text", ObjectRelation: kv[0], Value: kv[1], ToIDs: toIDs})
					}
					if len(o.Attributes) == 0 {
						t.Fatalf("no sample attributes for template %s", r.Name)
					}
				}
				ev := &Event{UUID: evUUID, Info: "templates", Timestamp: "1603642920", Objects: []*Object{o}}
				container := o.UUID
				if inGroup && name == "registry-key-value" {
					key := &Object{UUID: "6d234f25-539c-4d12-bf93-2c46a964451a", Name: "registry-key", Timestamp: "1603642920",
						Attributes: []*Attribute{{Type: "regkey", ObjectRelation: "key", Value: `HKLM\Software\x`}},
						References: []*ObjectReference{{UUID: "9d234f25-539c-4d12-bf93-2c46a964451a", ReferencedUUID: o.UUID, RelationshipType: "contains"}}}
					ev.Objects = append([]*Object{key}, ev.Objects...)
					container = key.UUID
				} else if inGroup {
					// A pe or pe-section is folded into the file that
					// includes it (through its pe).
					file := &Object{UUID: "6d234f25-539c-4d12-bf93-2c46a964451a", Name: "file", Timestamp: "1603642920",
						Attributes: []*Attribute{{Type: "filename", ObjectRelation: "filename", Value: "a.exe"}}}
					pe := o
					if name == "pe-section" {
						pe = &Object{UUID: "7d234f25-539c-4d12-bf93-2c46a964451a", Name: "pe", Timestamp: "1603642920",
							Attributes: []*Attribute{{Type: "text", ObjectRelation: "type", Value: "dll"}}}
						pe.References = []*ObjectReference{{UUID: "8d234f25-539c-4d12-bf93-2c46a964451a", ReferencedUUID: o.UUID, RelationshipType: "includes"}}
						ev.Objects = append(ev.Objects, pe)
					}
					file.References = []*ObjectReference{{UUID: "9d234f25-539c-4d12-bf93-2c46a964451a", ReferencedUUID: pe.UUID, RelationshipType: "includes"}}
					ev.Objects = append([]*Object{file}, ev.Objects...)
					container = file.UUID
				}
				res := checkEvent(t, ev)
				var got *stix.Object
				for _, x := range res.Objects {
					if strings.HasSuffix(x.ID, "--"+container) {
						got = x
					}
				}
				if got == nil {
					t.Fatalf("no STIX object for the MISP object")
				}
				want := sdoTemplates[name]
				if name == "script" {
					want = "malware" // its state is Malicious
				}
				if observable {
					want = "observed-data"
					if toIDs {
						want = "indicator"
					}
				}
				if got.Type != want {
					t.Fatalf("%s (to_ids %v) became %s, want %s: %s", r.Name, toIDs, got.Type, want, got.Raw)
				}
				if !observable {
					return
				}
				var paths []string
				if got.Type == "indicator" {
					cs, _ := parsePattern(got.String("pattern"))
					for _, c := range cs {
						paths = append(paths, c.f.String())
					}
				} else {
					for _, pv := range flatten(stringsOf(got.Props["object_refs"]), indexOf(res)) {
						paths = append(paths, pv.f)
					}
				}
				if len(o.Attributes) == 0 {
					t.Fatalf("no attributes tried")
				}
				for _, a := range o.Attributes {
					f := tp.fields[a.ObjectRelation].String()
					found := false
					for _, p := range paths {
						found = found || p == f
					}
					if !found {
						t.Errorf("relation %s: nothing at %s in %v", a.ObjectRelation, f, paths)
					}
				}
			})
		}
	}
}
