// Package gen generates large, valid STIX 2.1 bundles for benchmarks and
// tests: a realistic mix of indicators, cyber observables, relationships,
// sightings and the threat objects they point at, every observable value
// drawn from the ranges reserved for documentation. Output is streamed, so a
// bundle of any size costs a few kilobytes of memory, and it depends only on
// the seed.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Base is the time every generated timestamp is at or before: objects are
// created over the year before it. It is fixed so that output depends on
// the seed alone.
var Base = time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC)

// TLP 2.0 marking definitions (FIRST TLP 2.0 as published in OASIS
// cti-stix-common-objects, extension-definitions/tlp-2.0).
const (
	tlpExtension   = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
	TLPClear       = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
	TLPGreen       = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
	TLPAmber       = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
	TLPAmberStrict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
	TLPRed         = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
)

// TLPMarking is one TLP 2.0 marking definition.
type TLPMarking struct {
	ID    string // marking-definition--...
	Name  string // TLP:CLEAR, ...
	Level string // the tlp_2_0 value: clear, green, amber, amber+strict, red
}

// TLPMarkings lists the five TLP 2.0 marking definitions, least
// restrictive first.
var TLPMarkings = []TLPMarking{
	{TLPClear, "TLP:CLEAR", "clear"},
	{TLPGreen, "TLP:GREEN", "green"},
	{TLPAmber, "TLP:AMBER", "amber"},
	{TLPAmberStrict, "TLP:AMBER+STRICT", "amber+strict"},
	{TLPRed, "TLP:RED", "red"},
}

// MarkingJSON returns the published STIX 2.1 object of a TLP 2.0 marking
// definition, compact, properties in the published order.
func (m TLPMarking) MarkingJSON() []byte {
	return []byte(`{"type":"marking-definition","spec_version":"2.1","id":"` + m.ID +
		`","created":"2022-10-01T00:00:00.000Z","name":"` + m.Name + `","extensions":{"` + tlpExtension +
		`":{"extension_type":"property-extension","tlp_2_0":"` + m.Level + `"}}}`)
}

// Write streams a bundle of n STIX 2.1 objects to w. The mix is about 60%
// indicators (patterns over IPv4, IPv6, domain, URL, email and MD5, SHA-1,
// SHA-256 file hashes), 15% cyber observables (ipv4-addr or, once the 762
// reserved IPv4 hosts are used, ipv6-addr; domain-name, url, file) with
// their deterministic ids, 10% relationships, 5% malware, threat actors,
// campaigns and attack patterns, and 10% sightings; the first objects are
// the five TLP 2.0 marking definitions and the partner identities that the
// rest refer to. Relationships and sightings only point at objects written
// before them. Every id is unique, the output is the same for the same n
// and seed, and memory use does not grow with n.
func Write(w io.Writer, n int, seed int64) error {
	if n < 0 {
		return fmt.Errorf("gen: negative object count %d", n)
	}
	g := newGenerator(seed)
	bw := bufio.NewWriterSize(w, 256<<10)
	g.buf = append(g.buf[:0], `{"type":"bundle","id":"bundle--`...)
	g.buf = appendUUID4(g.buf, g.r.Uint64(), g.r.Uint64())
	g.buf = append(g.buf, `","objects":[`...)
	for i := 0; i < n; i++ {
		if i > 0 {
			g.buf = append(g.buf, ',')
		}
		g.buf = append(g.buf, '\n')
		g.buf = g.next(g.buf)
		if len(g.buf) > 128<<10 {
			if _, err := bw.Write(g.buf); err != nil {
				return err
			}
			g.buf = g.buf[:0]
		}
	}
	if n > 0 {
		g.buf = append(g.buf, '\n')
	}
	g.buf = append(g.buf, "]}\n"...)
	if _, err := bw.Write(g.buf); err != nil {
		return err
	}
	return bw.Flush()
}

// ring keeps the ids of the last objects of one kind written, for
// relationships and sightings to point at.
type ring struct {
	ids  [64]string
	n    int
	next int
}

func (q *ring) add(id string) {
	q.ids[q.next] = id
	q.next = (q.next + 1) % len(q.ids)
	if q.n < len(q.ids) {
		q.n++
	}
}

func (q *ring) pick(r *rand.Rand) string { return q.ids[r.IntN(q.n)] }

// generator holds the state of one bundle.
type generator struct {
	r       *rand.Rand
	buf     []byte
	scratch []byte
	key     uint64 // mixes the id counter, so seeds give different ids
	count   uint64 // objects written, the source of unique id tails
	header  int    // how many header objects (markings, identities) are written

	identities []string
	indicators ring
	threats    ring // malware, threat actors, campaigns: what indicators indicate
	actors     ring
	malware    ring
	campaigns  ring
	patterns   ring
	ipv4       int // ipv4-addr SCOs written
}

// partners are the organisations whose identities open every generated
// bundle.
var partners = [...]struct{ name, class, sector string }{
	{"National Cyber Coordination Centre", "organization", "government"},
	{"Federal Grid Security Office", "organization", "government"},
	{"Ministry of Defence CSIRT", "organization", "defense"},
	{"Harbourside Clearing Bank", "organization", "financial-services"},
	{"Continental Securities Exchange", "organization", "financial-services"},
	{"Northern Interconnect Grid Operator", "organization", "utilities"},
	{"Pacific Rail and Ports Authority", "organization", "transportation"},
	{"Meridian Telecom Group", "organization", "telecommunications"},
}

func newGenerator(seed int64) *generator {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5d1c0a7e9f3b2c41))
	g := &generator{r: r, key: r.Uint64(), buf: make([]byte, 0, 160<<10)}
	return g
}

// next appends the next object.
func (g *generator) next(b []byte) []byte {
	g.count++
	if g.header < len(TLPMarkings) {
		m := TLPMarkings[g.header]
		g.header++
		return append(b, m.MarkingJSON()...)
	}
	if k := g.header - len(TLPMarkings); k < len(partners) {
		g.header++
		return g.identity(b, k)
	}
	switch x := g.r.IntN(100); {
	case x < 60:
		return g.indicator(b)
	case x < 75:
		return g.sco(b)
	case x < 85:
		if g.indicators.n > 0 && g.threats.n > 0 {
			return g.relationship(b)
		}
		return g.threat(b)
	case x < 90:
		return g.threat(b)
	default:
		if g.indicators.n > 0 {
			return g.sighting(b)
		}
		return g.indicator(b)
	}
}

// mask48 bounds the unique tail of every UUID.
const mask48 = 1<<48 - 1

// newID returns a fresh identifier of type typ: a version 4 UUID whose
// last 48 bits are a bijection of the object counter, so ids never repeat
// within a bundle, and whose other bits are random.
func (g *generator) newID(typ string) string {
	x := (g.count ^ g.key) & mask48
	x = (x * 0x9e3779b97f4b) & mask48
	x ^= x >> 23
	x = (x * 0xc2b2ae3d27d5) & mask48 // odd multipliers: bijective mod 2^48
	hi := g.r.Uint64()
	lo := g.r.Uint64()&^mask48 | x
	g.scratch = append(append(g.scratch[:0], typ...), "--"...)
	g.scratch = appendUUID4(g.scratch, hi, lo)
	return string(g.scratch)
}

// times returns a created and a modified timestamp: created in the year
// before Base, modified equal to it or up to 30 days later.
func (g *generator) times() (created, modified time.Time) {
	created = Base.Add(-time.Duration(g.r.Int64N(int64(365*24*time.Hour/time.Millisecond))) * time.Millisecond)
	modified = created
	if g.r.IntN(4) == 0 {
		modified = created.Add(time.Duration(g.r.Int64N(int64(30*24*time.Hour/time.Millisecond))) * time.Millisecond)
		if modified.After(Base) {
			modified = Base
		}
	}
	return created, modified
}

func appendTime(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, "2006-01-02T15:04:05.000Z")
}

// appendCommon appends the opening of an SDO or SRO: type through modified,
// and created_by_ref when by is not "".
func (g *generator) appendCommon(b []byte, typ, id, by string, created, modified time.Time) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","spec_version":"2.1","id":"`...)
	b = append(b, id...)
	b = append(b, `","created":"`...)
	b = appendTime(b, created)
	b = append(b, `","modified":"`...)
	b = appendTime(b, modified)
	b = append(b, '"')
	if by != "" {
		b = append(b, `,"created_by_ref":"`...)
		b = append(b, by...)
		b = append(b, '"')
	}
	return b
}

// appendMarking closes an object with its TLP marking and confidence.
func (g *generator) appendTail(b []byte) []byte {
	b = append(b, `,"confidence":`...)
	b = strconv.AppendInt(b, int64(50+5*g.r.IntN(11)), 10)
	b = append(b, `,"object_marking_refs":["`...)
	// Mostly GREEN and AMBER, as a sharing partnership's feed is.
	var m string
	switch x := g.r.IntN(20); {
	case x < 3:
		m = TLPClear
	case x < 12:
		m = TLPGreen
	case x < 17:
		m = TLPAmber
	case x < 19:
		m = TLPAmberStrict
	default:
		m = TLPRed
	}
	b = append(b, m...)
	return append(b, `"]}`...)
}

func appendStr(b []byte, key, val string) []byte {
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":"`...)
	b = append(b, val...)
	return append(b, '"')
}

func (g *generator) identity(b []byte, k int) []byte {
	p := partners[k]
	id := g.newID("identity")
	g.identities = append(g.identities, id)
	created := Base.AddDate(-1, 0, -30+k)
	b = g.appendCommon(b, "identity", id, "", created, created)
	b = appendStr(b, "name", p.name)
	b = appendStr(b, "identity_class", p.class)
	b = append(b, `,"sectors":["`...)
	b = append(b, p.sector...)
	b = append(b, `"],"contact_information":"soc@`...)
	for i := 0; i < len(p.name); i++ {
		c := p.name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b = append(b, c+'a'-'A')
		case c == ' ':
			b = append(b, '-')
		default:
			b = append(b, c)
		}
	}
	b = append(b, `.example"`...)
	b = append(b, `,"object_marking_refs":["`+TLPClear+`"]}`...)
	return b
}

func (g *generator) author() string {
	if len(g.identities) == 0 {
		return ""
	}
	return g.identities[g.r.IntN(len(g.identities))]
}

// indicatorKinds are the observable kinds an indicator's pattern tests, with
// the words of its name and the kill-chain phase it belongs to.
var indicatorKinds = [...]struct {
	what, phase, label string
	weight             int
}{
	{"IPv4 address", "command-and-control", "c2", 22},
	{"IPv6 address", "command-and-control", "c2", 6},
	{"domain", "command-and-control", "c2", 20},
	{"URL", "initial-access", "phishing", 14},
	{"MD5", "execution", "malware-sample", 10},
	{"SHA-1", "execution", "malware-sample", 8},
	{"SHA-256", "execution", "malware-sample", 14},
	{"email sender", "initial-access", "phishing", 6},
}

var indicatorNotes = [...]string{
	"Observed by partner sensors; block and hunt retrospectively.",
	"Seen in phishing against member institutions.",
	"Infrastructure linked to an active campaign.",
	"Confirmed in incident response.",
}

var indicatorTypes = [...]string{"malicious-activity", "malicious-activity", "attribution", "compromised", "anomalous-activity"}

func (g *generator) indicator(b []byte) []byte {
	id := g.newID("indicator")
	g.indicators.add(id)
	created, modified := g.times()
	b = g.appendCommon(b, "indicator", id, g.author(), created, modified)
	w := g.r.IntN(100)
	k := 0
	for w >= indicatorKinds[k].weight {
		w -= indicatorKinds[k].weight
		k++
	}
	kind := indicatorKinds[k]
	// The value, written once into scratch and copied into name and pattern.
	v := g.scratch[:0]
	var path string
	switch k {
	case 0:
		v = append(v, IPv4(g.r)...)
		path = "ipv4-addr:value"
	case 1:
		v = appendIPv6(v, g.r, g.r.Uint64())
		path = "ipv6-addr:value"
	case 2:
		v = appendDomain(v, g.r, -1)
		path = "domain-name:value"
	case 3:
		v = appendURL(v, g.r, -1)
		path = "url:value"
	case 4:
		v = appendHex(v, g.r, 16)
		path = "file:hashes.MD5"
	case 5:
		v = appendHex(v, g.r, 20)
		path = "file:hashes.'SHA-1'"
	case 6:
		v = appendHex(v, g.r, 32)
		path = "file:hashes.'SHA-256'"
	default:
		v = appendEmail(v, g.r)
		path = "email-addr:value"
	}
	g.scratch = v
	b = append(b, `,"name":"Malicious `...)
	b = append(b, kind.what...)
	b = append(b, ' ')
	b = append(b, v...)
	b = append(b, `","description":"`...)
	b = append(b, indicatorNotes[g.r.IntN(len(indicatorNotes))]...)
	b = append(b, '"')
	b = append(b, `,"indicator_types":["`...)
	b = append(b, indicatorTypes[g.r.IntN(len(indicatorTypes))]...)
	b = append(b, `"],"pattern":"[`...)
	b = append(b, path...)
	b = append(b, ` = '`...)
	b = append(b, v...)
	b = append(b, `']","pattern_type":"stix","pattern_version":"2.1","valid_from":"`...)
	b = appendTime(b, created)
	b = append(b, `","valid_until":"`...)
	b = appendTime(b, created.AddDate(0, 0, 90+g.r.IntN(275)))
	b = append(b, `","kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"`...)
	b = append(b, kind.phase...)
	b = append(b, `"}],"labels":["`...)
	b = append(b, kind.label...)
	b = append(b, `"]`...)
	return g.appendTail(b)
}

var scoTypes = [...]string{"ipv4-addr", "domain-name", "url", "file"}

var fileNames = [...]string{"invoice", "update", "setup", "report", "payload", "svchost", "loader", "scan", "agent", "readme"}
var fileExts = [...]string{".exe", ".dll", ".js", ".docm", ".xlsm", ".ps1", ".lnk", ".zip"}

func (g *generator) sco(b []byte) []byte {
	typ := scoTypes[g.r.IntN(len(scoTypes))]
	v := g.scratch[:0]
	var id string
	switch typ {
	case "ipv4-addr":
		if g.ipv4 < NumIPv4 {
			// The reserved networks hold only 762 hosts: use each once,
			// in an order that depends on the seed.
			v = append(v, IPv4At(int((uint64(g.ipv4)*389+g.key)%NumIPv4))...)
			g.ipv4++
		} else {
			typ = "ipv6-addr"
			v = appendIPv6(v, g.r, g.count)
		}
		id = SCOID(typ, string(v))
	case "domain-name":
		v = appendDomain(v, g.r, int64(g.count))
		id = SCOID(typ, string(v))
	case "url":
		v = appendURL(v, g.r, int64(g.count))
		id = SCOID(typ, string(v))
	case "file":
		v = append(v, fileNames[g.r.IntN(len(fileNames))]...)
		v = append(v, '-')
		v = strconv.AppendUint(v, g.count, 36)
		v = append(v, fileExts[g.r.IntN(len(fileExts))]...)
		name := string(v)
		hash := Hex(g.r, 32)
		id = FileID("SHA-256", hash, name)
		g.scratch = v
		b = append(b, `{"type":"file","spec_version":"2.1","id":"`...)
		b = append(b, id...)
		b = append(b, `","hashes":{"SHA-256":"`...)
		b = append(b, hash...)
		b = append(b, `"},"size":`...)
		b = strconv.AppendInt(b, int64(4096+g.r.IntN(4<<20)), 10)
		b = appendStr(b, "name", name)
		return append(b, `,"object_marking_refs":["`+TLPGreen+`"]}`...)
	}
	g.scratch = v
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","spec_version":"2.1","id":"`...)
	b = append(b, id...)
	b = append(b, `","value":"`...)
	b = append(b, v...)
	return append(b, `","object_marking_refs":["`+TLPGreen+`"]}`...)
}

// Invented threat names: nothing here names a real group or family.
var (
	actorAdjectives = [...]string{"Umbral", "Glass", "Silent", "Copper", "Hollow", "Saffron", "Iron", "Pale", "Ashen", "Velvet", "Frost", "Cobalt"}
	actorAnimals    = [...]string{"Lynx", "Heron", "Jackal", "Mantis", "Kestrel", "Viper", "Marten", "Ibis", "Otter", "Wolf", "Crane", "Moth"}
	malwareStems    = [...]string{"Shadow", "Quill", "Ember", "Tide", "Loom", "Brine", "Sable", "Gorse", "Flint", "Mire", "Husk", "Wren"}
	malwareTails    = [...]string{"Loader", "Rat", "Drop", "Crypt", "Stealer", "Gate", "Wiper", "Door", "Spy", "Bot"}
	malwareTypes    = [...]string{"downloader", "remote-access-trojan", "dropper", "ransomware", "spyware", "backdoor", "wiper", "backdoor", "spyware", "bot"}
	campaignWords   = [...]string{"Lantern", "Tollgate", "Cinder", "Harbour", "Ledger", "Switchyard", "Paper Moon", "Black Tide", "Quiet Meter", "Salt Road"}
)

// threat appends a malware family, threat actor, campaign or attack pattern.
func (g *generator) threat(b []byte) []byte {
	created, modified := g.times()
	switch g.r.IntN(4) {
	case 0:
		id := g.newID("malware")
		g.malware.add(id)
		g.threats.add(id)
		b = g.appendCommon(b, "malware", id, g.author(), created, modified)
		t := g.r.IntN(len(malwareTails))
		b = append(b, `,"name":"`...)
		b = append(b, malwareStems[g.r.IntN(len(malwareStems))]...)
		b = append(b, malwareTails[t]...)
		b = append(b, `","description":"Malware family tracked by the partnership; samples and infrastructure are linked by relationship objects.","malware_types":["`...)
		b = append(b, malwareTypes[t]...)
		b = append(b, `"],"is_family":true,"architecture_execution_envs":["x86-64"],"implementation_languages":["c++"]`...)
	case 1:
		id := g.newID("threat-actor")
		g.actors.add(id)
		g.threats.add(id)
		b = g.appendCommon(b, "threat-actor", id, g.author(), created, modified)
		b = append(b, `,"name":"`...)
		b = append(b, actorAdjectives[g.r.IntN(len(actorAdjectives))]...)
		b = append(b, ' ')
		b = append(b, actorAnimals[g.r.IntN(len(actorAnimals))]...)
		b = append(b, `","description":"State-aligned intrusion operator targeting finance, energy and government networks.","threat_actor_types":["nation-state"],"roles":["agent"],"sophistication":"advanced","resource_level":"government","primary_motivation":"organizational-gain","first_seen":"`...)
		b = appendTime(b, created)
		b = append(b, '"')
	case 2:
		id := g.newID("campaign")
		g.campaigns.add(id)
		g.threats.add(id)
		b = g.appendCommon(b, "campaign", id, g.author(), created, modified)
		b = append(b, `,"name":"Operation `...)
		b = append(b, campaignWords[g.r.IntN(len(campaignWords))]...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, g.count%997, 10)
		b = append(b, `","description":"Coordinated intrusion activity reported by several partners.","objective":"Access to settlement and control systems","first_seen":"`...)
		b = appendTime(b, created)
		b = append(b, '"')
	default:
		id := g.newID("attack-pattern")
		g.patterns.add(id)
		t := Techniques[g.r.IntN(len(Techniques))]
		b = g.appendCommon(b, "attack-pattern", id, g.author(), created, modified)
		b = appendStr(b, "name", t.Name)
		b = append(b, `,"external_references":[{"source_name":"mitre-attack","url":"`...)
		b = append(b, t.URL()...)
		b = append(b, `","external_id":"`...)
		b = append(b, t.ID...)
		b = append(b, `"}],"kill_chain_phases":[{"kill_chain_name":"mitre-attack","phase_name":"`...)
		b = append(b, t.Phase...)
		b = append(b, `"}]`...)
	}
	return g.appendTail(b)
}

func (g *generator) relationship(b []byte) []byte {
	var typ, src, dst string
	switch x := g.r.IntN(10); {
	case x < 5:
		typ, src, dst = "indicates", g.indicators.pick(g.r), g.threats.pick(g.r)
	case x < 7 && g.actors.n > 0 && g.malware.n > 0:
		typ, src, dst = "uses", g.actors.pick(g.r), g.malware.pick(g.r)
	case x < 8 && g.malware.n > 0 && g.patterns.n > 0:
		typ, src, dst = "uses", g.malware.pick(g.r), g.patterns.pick(g.r)
	case x < 9 && g.campaigns.n > 0 && g.actors.n > 0:
		typ, src, dst = "attributed-to", g.campaigns.pick(g.r), g.actors.pick(g.r)
	case g.campaigns.n > 0 && len(g.identities) > 0:
		typ, src, dst = "targets", g.campaigns.pick(g.r), g.identities[g.r.IntN(len(g.identities))]
	default:
		typ, src, dst = "indicates", g.indicators.pick(g.r), g.threats.pick(g.r)
	}
	created, modified := g.times()
	b = g.appendCommon(b, "relationship", g.newID("relationship"), g.author(), created, modified)
	b = appendStr(b, "relationship_type", typ)
	b = appendStr(b, "source_ref", src)
	b = appendStr(b, "target_ref", dst)
	b = append(b, `,"description":"Link asserted by the reporting partner from shared telemetry."`...)
	return g.appendTail(b)
}

func (g *generator) sighting(b []byte) []byte {
	created, modified := g.times()
	by := g.author()
	b = g.appendCommon(b, "sighting", g.newID("sighting"), by, created, modified)
	b = appendStr(b, "sighting_of_ref", g.indicators.pick(g.r))
	if by != "" {
		b = append(b, `,"where_sighted_refs":["`...)
		b = append(b, by...)
		b = append(b, `"]`...)
	}
	first := created.Add(-time.Duration(g.r.Int64N(int64(14*24*time.Hour/time.Millisecond))) * time.Millisecond)
	b = append(b, `,"first_seen":"`...)
	b = appendTime(b, first)
	b = append(b, `","last_seen":"`...)
	b = appendTime(b, created)
	b = append(b, `","count":`...)
	b = strconv.AppendInt(b, int64(1+g.r.IntN(250)), 10)
	b = append(b, `,"description":"Matched at the partner's perimeter; blocked."`...)
	return g.appendTail(b)
}
