// Package demo builds a believable STIX 2.1 bundle for demonstrations and
// tests: a partnership of government agencies, a defence ministry, banks, an
// exchange and grid operators sharing what they know about a handful of
// invented threat actors and their campaigns. Every observable value comes
// from the ranges reserved for documentation (RFC 5737, RFC 3849, .example
// and .test), so nothing in it can match a real host.
package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
)

// obj is one STIX object under construction.
type obj = map[string]any

// builder holds the state of one demo bundle.
type builder struct {
	r    *rand.Rand
	now  time.Time
	objs []obj
}

// Bundle returns the demonstration bundle as JSON, one object per line.
// The same seed and now give the same bytes. Objects are created over the
// eight weeks before now (partner identities earlier); some have later
// versions in the bundle and one indicator is revoked. It holds the five
// TLP 2.0 marking definitions, the partners' identities, threat actors,
// intrusion sets, malware families, campaigns, ATT&CK attack patterns,
// indicators with their relationships, partners' sightings, observed data
// with its cyber observables and a report on one campaign.
func Bundle(seed int64, now time.Time) ([]byte, error) {
	b := &builder{r: rand.New(rand.NewPCG(uint64(seed), 0xde5c0de)), now: now.UTC().Truncate(time.Millisecond)}
	bundleID := "bundle--" + gen.UUID4(b.r)
	b.build()

	var buf bytes.Buffer
	buf.WriteString(`{"type":"bundle","id":"` + bundleID + `","objects":[`)
	for i, o := range b.objs {
		raw, err := stix.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("demo: encoding object %d (%v): %w", i, o["id"], err)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		buf.Write(raw)
	}
	buf.WriteString("\n]}\n")
	return buf.Bytes(), nil
}

// ago returns a time between lo and hi days before now, to the millisecond.
func (b *builder) ago(lo, hi float64) time.Time {
	d := lo + b.r.Float64()*(hi-lo)
	return b.now.Add(-time.Duration(d * float64(24*time.Hour))).Truncate(time.Millisecond)
}

// after returns a time up to days after t, never after now.
func (b *builder) after(t time.Time, days float64) time.Time {
	u := t.Add(time.Duration(b.r.Float64() * days * float64(24*time.Hour))).Truncate(time.Millisecond)
	if u.After(b.now) {
		return b.now
	}
	return u
}

func ts(t time.Time) string { return stix.FormatTime(t) }

func (b *builder) id(typ string) string { return typ + "--" + gen.UUID4(b.r) }

// sdo appends a new SDO or SRO created at created by by, marked with
// marking, and returns it for further properties.
func (b *builder) sdo(typ, by string, created time.Time, marking string, props obj) obj {
	o := obj{
		"type":                typ,
		"spec_version":        "2.1",
		"id":                  b.id(typ),
		"created":             ts(created),
		"modified":            ts(created),
		"object_marking_refs": []any{marking},
	}
	if by != "" {
		o["created_by_ref"] = by
	}
	for k, v := range props {
		o[k] = v
	}
	b.objs = append(b.objs, o)
	return o
}

// revise appends a later version of o with changes applied, modified at
// when, and returns it.
func (b *builder) revise(o obj, when time.Time, changes obj) obj {
	v := make(obj, len(o)+len(changes))
	for k, val := range o {
		v[k] = val
	}
	for k, val := range changes {
		v[k] = val
	}
	v["modified"] = ts(when)
	b.objs = append(b.objs, v)
	return v
}

// rel appends a relationship.
func (b *builder) rel(by, typ string, src, dst obj, created time.Time, marking string) obj {
	return b.sdo("relationship", by, created, marking, obj{
		"relationship_type": typ,
		"source_ref":        src["id"],
		"target_ref":        dst["id"],
	})
}

func created(o obj) time.Time {
	t, _ := stix.ParseTime(o["created"].(string))
	return t
}

// later returns the later of two objects' creation times plus a little, so
// that a relationship is never older than its ends.
func (b *builder) later(x, y obj) time.Time {
	t := created(x)
	if u := created(y); u.After(t) {
		t = u
	}
	return b.after(t, 3)
}

func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// actor describes one invented threat actor with its intrusion set,
// malware and campaigns.
type actor struct {
	name, alias, setName, description string
	types                             []string
	motivation, sophistication        string
	resource                          string
	goals                             []string
	malware                           []family
	campaigns                         []string
	techniques                        []string // ATT&CK ids
	sectors                           []int    // indexes into Partners that its campaigns target
}

type family struct {
	name, kind, description string
	capabilities            []string
}

// actors are invented: no name here is a real group, family or operation.
var actors = []actor{
	{
		name: "Umbral Lynx", alias: "TEMP.Lanternfish", setName: "UL-Cluster 7",
		description: "State-sponsored espionage operator focused on defence ministries and their suppliers in East Asia and Europe. Favors spearphishing with weaponised documents and long-dwell implants.",
		types:       []string{"nation-state", "spy"}, motivation: "organizational-gain", sophistication: "expert", resource: "government",
		goals: []string{"Collect defence procurement and force-posture documents", "Maintain persistent access to ministry networks"},
		malware: []family{
			{"QuillDoor", "backdoor", "Modular backdoor loaded by a signed-binary side-load; speaks HTTPS to rotating front domains.", []string{"communicates-with-c2", "persists-after-system-reboot", "exfiltrates-data"}},
			{"EmberLoader", "downloader", "Small first-stage loader delivered in macro-enabled documents.", []string{"communicates-with-c2", "evades-av"}},
		},
		campaigns:  []string{"Operation Paper Moon", "Operation Quiet Harbour"},
		techniques: []string{"T1566.001", "T1204.002", "T1059.001", "T1547.001", "T1071.001", "T1027", "T1041", "T1036.005"},
		sectors:    []int{2, 0, 8},
	},
	{
		name: "Copper Heron", alias: "Grid Wraith", setName: "CH-Energy Set",
		description: "Operator pre-positioning in electricity transmission and distribution networks, with tooling for operational-technology reconnaissance.",
		types:       []string{"nation-state"}, motivation: "ideology", sophistication: "advanced", resource: "government",
		goals: []string{"Pre-position for disruption of electricity transmission", "Map control-centre and substation networks"},
		malware: []family{
			{"GorseRat", "remote-access-trojan", "Remote-access trojan with a SOCKS proxy module, deployed on jump hosts between IT and OT.", []string{"communicates-with-c2", "captures-input-peripherals", "accesses-remote-machines"}},
			{"FlintWiper", "wiper", "Destructive wiper that overwrites the boot record and engineering-workstation project files.", []string{"compromises-data-availability", "compromises-system-availability"}},
		},
		campaigns:  []string{"Operation Switchyard"},
		techniques: []string{"T1190", "T1133", "T1078", "T1046", "T1018", "T1021.001", "T1572", "T1090.003", "T1486"},
		sectors:    []int{5, 6},
	},
	{
		name: "Saffron Jackal", alias: "LockTide Affiliates", setName: "SJ-Ransom Crew",
		description: "Financially motivated ransomware affiliate group targeting banks, payment processors and exchanges; steals data before encrypting.",
		types:       []string{"crime-syndicate"}, motivation: "personal-gain", sophistication: "intermediate", resource: "organization",
		goals: []string{"Extort payment through encryption and data-leak threats"},
		malware: []family{
			{"TideCrypt", "ransomware", "Ransomware encrypting file shares and virtual-machine disks; deletes shadow copies first.", []string{"communicates-with-c2", "evades-av"}},
			{"BrineStealer", "spyware", "Credential and browser-session stealer used for initial foothold expansion.", []string{"steals-authentication-credentials", "exfiltrates-data"}},
			{"SableGate", "dropper", "Dropper distributed through fake payment-portal invoices.", []string{"communicates-with-c2"}},
		},
		campaigns:  []string{"Operation Tollgate", "Operation Ledger Lock"},
		techniques: []string{"T1566.002", "T1110.003", "T1003.001", "T1562.001", "T1490", "T1486", "T1567.002", "T1560.001", "T1053.005"},
		sectors:    []int{3, 4, 7},
	},
	{
		name: "Glass Mantis", alias: "Hollow Banner", setName: "GM-Supply Chain Set",
		description: "Operator compromising software vendors and managed service providers to reach financial and government customers.",
		types:       []string{"nation-state", "spy"}, motivation: "organizational-gain", sophistication: "advanced", resource: "government",
		goals: []string{"Gain access to customers through trusted suppliers"},
		malware: []family{
			{"WrenSpy", "backdoor", "Implant hidden in a trojanised software update; beacons over DNS.", []string{"communicates-with-c2", "persists-after-system-reboot"}},
		},
		campaigns:  []string{"Operation Salt Road"},
		techniques: []string{"T1195.002", "T1199", "T1071.004", "T1505.003", "T1098", "T1055", "T1070.004", "T1583.001", "T1595.002", "T1105", "T1059.003"},
		sectors:    []int{0, 1, 4, 8},
	},
}

var countryNames = map[string]string{"US": "United States", "GB": "United Kingdom", "JP": "Japan", "DE": "Germany"}

var countryRegions = map[string]string{"US": "northern-america", "GB": "northern-europe", "JP": "eastern-asia", "DE": "western-europe"}

// campaignObjectives are what each campaign is after, by actor.
var campaignObjectives = []string{
	"Theft of defence procurement and planning documents",
	"Pre-positioning in transmission control networks",
	"Data theft and extortion of financial market infrastructure",
	"Access to government and exchange networks through a software supplier",
}

func (b *builder) build() {
	// Marking definitions, exactly as published.
	for _, m := range gen.TLPMarkings {
		var o obj
		if err := json.Unmarshal(m.MarkingJSON(), &o); err != nil {
			panic(err) // a constant: cannot fail
		}
		b.objs = append(b.objs, o)
	}

	// The partners and the hub.
	members := append([]*Partner{Hub}, Partners...)
	idents := make(map[string]obj)
	for i, p := range members {
		when := b.now.AddDate(0, 0, -120+i).Truncate(24 * time.Hour)
		o := obj{
			"type": "identity", "spec_version": "2.1", "id": p.ID,
			"created": ts(when), "modified": ts(when),
			"name": p.Name, "description": p.Description, "identity_class": "organization",
			"sectors": strs(p.Sectors...), "contact_information": p.Contact,
			"object_marking_refs": strs(gen.TLPClear),
		}
		b.objs = append(b.objs, o)
		idents[p.ID] = o
	}
	// Where the partners are: one location per country, linked by
	// located-at relationships.
	locs := make(map[string]obj)
	for _, p := range Partners {
		if locs[p.Country] != nil {
			continue
		}
		when := b.now.AddDate(0, 0, -125).Truncate(24 * time.Hour)
		locs[p.Country] = b.sdo("location", Hub.ID, when, gen.TLPClear, obj{
			"name": countryNames[p.Country], "country": p.Country, "region": countryRegions[p.Country],
		})
	}
	for _, p := range Partners {
		b.rel(Hub.ID, "located-at", idents[p.ID], locs[p.Country], b.now.AddDate(0, 0, -100).Truncate(time.Hour), gen.TLPClear)
	}
	hub := Hub.ID
	partner := func() *Partner { return Partners[b.r.IntN(len(Partners))] }

	// Attack patterns: every technique any actor uses, authored by the hub.
	aps := make(map[string]obj)
	var techIDs []string
	for _, a := range actors {
		techIDs = append(techIDs, a.techniques...)
	}
	sort.Strings(techIDs)
	for _, id := range techIDs {
		if aps[id] != nil {
			continue
		}
		t := technique(id)
		aps[id] = b.sdo("attack-pattern", hub, b.ago(50, 56), gen.TLPClear, obj{
			"name": t.Name,
			"external_references": []any{obj{
				"source_name": "mitre-attack", "external_id": t.ID, "url": t.URL(),
			}},
			"kill_chain_phases": []any{obj{"kill_chain_name": "mitre-attack", "phase_name": t.Phase}},
		})
	}

	var allIndicators []obj
	var report obj
	for ai, a := range actors {
		author := Partners[a.sectors[0]]
		if ai == 0 {
			author = Partners[1] // the UK centre tracks the espionage actor
		}
		ta := b.sdo("threat-actor", author.ID, b.ago(45, 55), gen.TLPAmber, obj{
			"name": a.name, "description": a.description, "threat_actor_types": strs(a.types...),
			"aliases": strs(a.alias), "roles": strs("agent"), "goals": strs(a.goals...),
			"sophistication": a.sophistication, "resource_level": a.resource, "primary_motivation": a.motivation,
			"first_seen": ts(b.ago(300, 700)), "confidence": 70,
		})
		is := b.sdo("intrusion-set", author.ID, b.ago(40, 50), gen.TLPAmber, obj{
			"name": a.setName, "description": "Activity cluster tracked by the partnership and attributed to " + a.name + ".",
			"aliases": strs(a.alias), "goals": strs(a.goals...), "resource_level": a.resource,
			"primary_motivation": a.motivation, "first_seen": ts(b.ago(200, 600)),
		})
		b.rel(author.ID, "attributed-to", is, ta, b.later(is, ta), gen.TLPAmber)
		for _, tid := range a.techniques {
			b.rel(hub, "uses", is, aps[tid], b.later(is, aps[tid]), gen.TLPGreen)
		}

		var fams []obj
		for fi, f := range a.malware {
			m := b.sdo("malware", author.ID, b.ago(35, 50), gen.TLPGreen, obj{
				"name": f.name, "description": f.description, "malware_types": strs(f.kind),
				"is_family": true, "capabilities": strs(f.capabilities...),
				"implementation_languages":    strs([]string{"c++", "go", "c", "c#"}[b.r.IntN(4)]),
				"architecture_execution_envs": strs("x86-64"), "first_seen": ts(b.ago(100, 400)),
			})
			fams = append(fams, m)
			b.rel(author.ID, "uses", is, m, b.later(is, m), gen.TLPGreen)
			// Each family uses two of the actor's techniques.
			for k := 0; k < 2; k++ {
				ap := aps[a.techniques[(fi*2+k)%len(a.techniques)]]
				b.rel(hub, "uses", m, ap, b.later(m, ap), gen.TLPGreen)
			}
		}

		for ci, cname := range a.campaigns {
			first := b.ago(30, 42)
			c := b.sdo("campaign", author.ID, first, gen.TLPAmber, obj{
				"name": cname, "description": "Campaign of " + a.setName + " reported across partner networks.",
				"objective": campaignObjectives[ai], "first_seen": ts(first),
			})
			b.rel(author.ID, "attributed-to", c, is, b.later(c, is), gen.TLPAmber)
			for _, pi := range a.sectors {
				b.rel(author.ID, "targets", c, idents[Partners[pi].ID], b.after(created(c), 5), gen.TLPAmberStrict)
			}
			// The campaign grows: a second version with last_seen.
			var cLatest = c
			if ci == 0 {
				cLatest = b.revise(c, b.ago(2, 10), obj{"last_seen": ts(b.ago(1, 2)), "description": c["description"].(string) + " Still active; see the joint report."})
			}

			// Indicators of the campaign: observables of its infrastructure
			// and samples of its families.
			nInd := 8 + b.r.IntN(4)
			var inds []obj
			for k := 0; k < nInd; k++ {
				src := Partners[a.sectors[b.r.IntN(len(a.sectors))]]
				in := b.indicator(src.ID, cname, fams[k%len(fams)])
				inds = append(inds, in)
				allIndicators = append(allIndicators, in)
				b.rel(src.ID, "indicates", in, fams[k%len(fams)], b.after(created(in), 1), in["object_marking_refs"].([]any)[0].(string))
				if k%4 == 0 {
					b.rel(src.ID, "indicates", in, c, b.after(created(in), 1), in["object_marking_refs"].([]any)[0].(string))
				}
			}

			// Partners see them.
			for k := 0; k < 4+b.r.IntN(4); k++ {
				b.sighting(partner(), inds[b.r.IntN(len(inds))], nil)
			}

			if ai == 2 && ci == 0 {
				report = b.campaignReport(ta, is, cLatest, fams, inds, a)
			}
		}
	}

	// Observed data from the grid operator and the bank, with the
	// observables themselves, and sightings that cite them.
	b.observations(allIndicators)

	// One indicator turns out to be a shared CDN address: revoked.
	bad := allIndicators[3]
	for _, in := range allIndicators {
		if strings.HasPrefix(in["pattern"].(string), "[ipv4-addr:value") {
			bad = in
			break
		}
	}
	b.revise(bad, b.ago(0.2, 1), obj{"revoked": true, "description": "Revoked: the address belongs to a shared content-delivery network and caused false positives."})
	// Two others are confirmed: confidence raised in a later version.
	for _, k := range []int{7, 19} {
		in := allIndicators[k]
		if in["id"] == bad["id"] {
			continue // revoked is final
		}
		when := b.after(created(in).Add(time.Hour), 10)
		b.revise(in, when, obj{"confidence": 95, "labels": strs("confirmed")})
	}

	// A partner's opinion on the report.
	if report != nil {
		b.sdo("opinion", Partners[4].ID, b.after(created(report), 2), gen.TLPAmber, obj{
			"opinion": "strongly-agree", "explanation": "Matches what our member firms saw in the same window.",
			"object_refs": strs(report["id"].(string)),
		})
		b.sdo("note", Partners[3].ID, b.after(created(report), 2), gen.TLPAmberStrict, obj{
			"abstract": "Blocked at the payment gateway", "content": "All listed domains were sinkholed at our resolvers; no successful logins observed.",
			"authors": strs("Thamesgate SOC"), "object_refs": strs(report["id"].(string)),
		})
	}
}

// technique returns the ATT&CK technique with id.
func technique(id string) gen.Technique {
	for _, t := range gen.Techniques {
		if t.ID == id {
			return t
		}
	}
	panic("demo: unknown ATT&CK technique " + id)
}

// indicator appends one indicator by author for a campaign, testing an
// observable of the given malware family's infrastructure or samples.
func (b *builder) indicator(author, campaign string, fam obj) obj {
	r := b.r
	famName := fam["name"].(string)
	var name, pattern, kind, phase string
	switch r.IntN(9) {
	case 0, 1:
		ip := gen.IPv4(r)
		name, kind, phase = "C2 address "+ip, "malicious-activity", "command-and-control"
		pattern = "[ipv4-addr:value = '" + ip + "']"
	case 2:
		ip := gen.IPv6(r)
		name, kind, phase = "C2 address "+ip, "malicious-activity", "command-and-control"
		pattern = "[ipv6-addr:value = '" + ip + "']"
	case 3:
		d := gen.Domain(r)
		name, kind, phase = "C2 domain "+d, "malicious-activity", "command-and-control"
		pattern = "[domain-name:value = '" + d + "']"
	case 4:
		u := gen.URL(r)
		name, kind, phase = "Phishing URL "+u, "malicious-activity", "initial-access"
		pattern = "[url:value = '" + u + "']"
	case 5:
		h := gen.Hex(r, 32)
		name, kind, phase = famName+" sample "+h[:12], "malicious-activity", "execution"
		pattern = "[file:hashes.'SHA-256' = '" + h + "']"
	case 6:
		h1, h2 := gen.Hex(r, 16), gen.Hex(r, 20)
		name, kind, phase = famName+" dropper "+h1[:12], "malicious-activity", "execution"
		pattern = "[file:hashes.MD5 = '" + h1 + "' OR file:hashes.'SHA-1' = '" + h2 + "']"
	case 7:
		e := gen.Email(r)
		name, kind, phase = "Phishing sender "+e, "attribution", "initial-access"
		pattern = "[email-message:from_ref.value = '" + e + "' AND email-message:subject LIKE 'Invoice%']"
	default:
		ip := gen.IPv4(r)
		port := []int{443, 8443, 53, 8080}[r.IntN(4)]
		name, kind, phase = "Beacon to "+ip+":"+strconv.Itoa(port), "malicious-activity", "command-and-control"
		pattern = "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '" + ip +
			"' AND network-traffic:dst_port = " + strconv.Itoa(port) + "]"
	}
	created := b.ago(3, 35)
	marking := []string{gen.TLPGreen, gen.TLPGreen, gen.TLPAmber, gen.TLPAmber, gen.TLPAmberStrict}[r.IntN(5)]
	return b.sdo("indicator", author, created, marking, obj{
		"name":            name,
		"description":     "Associated with " + famName + " in " + campaign + ".",
		"indicator_types": strs(kind),
		"pattern":         pattern, "pattern_type": "stix", "pattern_version": "2.1",
		"valid_from":        ts(created),
		"valid_until":       ts(created.AddDate(0, 6, 0)),
		"kill_chain_phases": []any{obj{"kill_chain_name": "mitre-attack", "phase_name": phase}},
		"confidence":        50 + 5*r.IntN(8),
	})
}

// sighting appends p's sighting of indicator in, citing observed data when
// given.
func (b *builder) sighting(p *Partner, in obj, observed []string) obj {
	first := b.after(created(in), 4)
	last := b.after(first, 6)
	props := obj{
		"sighting_of_ref":    in["id"],
		"where_sighted_refs": strs(p.ID),
		"count":              1 + b.r.IntN(40),
		"first_seen":         ts(first),
		"last_seen":          ts(last),
		"description":        "Detected by " + p.Name + ".",
	}
	if len(observed) > 0 {
		props["observed_data_refs"] = strs(observed...)
	}
	return b.sdo("sighting", p.ID, last, p.Marking, props)
}

// observations appends observed data with its cyber observables: a few
// partners' records of connections and files, each followed by a sighting
// that cites it.
func (b *builder) observations(inds []obj) {
	who := []*Partner{Partners[5], Partners[3], Partners[6], Partners[2]}
	for i, p := range who {
		ip := gen.IPv4At((b.r.IntN(gen.NumIPv4) + 97*i) % gen.NumIPv4)
		ipv4 := obj{"type": "ipv4-addr", "spec_version": "2.1", "id": gen.SCOID("ipv4-addr", ip), "value": ip}
		dom := gen.Domain(b.r)
		dn := obj{"type": "domain-name", "spec_version": "2.1", "id": gen.SCOID("domain-name", dom), "value": dom,
			"resolves_to_refs": strs(ipv4["id"].(string))}
		hash := gen.Hex(b.r, 32)
		fname := []string{"invoice_0425.docm", "update.exe", "vpnclient-setup.msi", "report.lnk"}[i]
		file := obj{"type": "file", "spec_version": "2.1", "id": gen.FileID("SHA-256", hash, fname),
			"name": fname, "hashes": obj{"SHA-256": hash}, "size": 20000 + b.r.IntN(2_000_000)}
		// network-traffic's id contributing properties are many; its
		// deterministic id comes from the stix package when it has one.
		start := b.ago(1, 20)
		nt := obj{"type": "network-traffic", "spec_version": "2.1", "id": "network-traffic--" + gen.UUID4(b.r),
			"dst_ref": ipv4["id"], "dst_port": 443, "protocols": strs("ipv4", "tcp", "tls"), "start": ts(start)}
		if sid, ok := stix.SCOID(nt); ok {
			nt["id"] = sid
		}
		for _, o := range []obj{ipv4, dn, file, nt} {
			o["object_marking_refs"] = strs(p.Marking)
			b.objs = append(b.objs, o)
		}
		od := b.sdo("observed-data", p.ID, b.after(start, 1), p.Marking, obj{
			"first_observed":  ts(start),
			"last_observed":   ts(b.after(start, 1)),
			"number_observed": 1 + b.r.IntN(12),
			"object_refs":     strs(ipv4["id"].(string), dn["id"].(string), file["id"].(string), nt["id"].(string)),
		})
		b.sighting(p, inds[(i*11+5)%len(inds)], []string{od["id"].(string)})
	}
}

// campaignReport appends the joint report on one campaign.
func (b *builder) campaignReport(ta, is, c obj, fams, inds []obj, a actor) obj {
	refs := []string{c["id"].(string), is["id"].(string), ta["id"].(string)}
	for _, f := range fams {
		refs = append(refs, f["id"].(string))
	}
	for _, in := range inds {
		refs = append(refs, in["id"].(string))
	}
	published := b.ago(0.5, 2)
	return b.sdo("report", Hub.ID, published, gen.TLPAmber, obj{
		"name":         c["name"].(string) + ": " + a.name + " against financial market infrastructure",
		"description":  "Joint assessment of the partnership: " + a.description + " This report ties together the campaign, its intrusion set, the families deployed and the indicators partners reported.",
		"report_types": strs("campaign", "threat-actor", "indicator"),
		"published":    ts(published),
		"object_refs":  strs(refs...),
		"labels":       strs("joint-report"),
	})
}
