package demo

import (
	"bytes"
	"io"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/internal/stixschema"
	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/stix"
)

var now = time.Date(2025, time.March, 14, 9, 30, 0, 0, time.UTC)

func parseAll(t *testing.T, raw []byte) []*stix.Object {
	t.Helper()
	r := stix.NewReader(bytes.NewReader(raw))
	var objs []*stix.Object
	for {
		it, err := r.Next()
		if err == io.EOF {
			return objs
		}
		if err != nil {
			t.Fatal(err)
		}
		o, err := stix.Parse(it.Raw)
		if err != nil {
			t.Fatalf("object %d: %v", it.Index, err)
		}
		objs = append(objs, o)
	}
}

func TestBundleIsValid(t *testing.T) {
	raw, err := Bundle(1, now)
	if err != nil {
		t.Fatal(err)
	}
	objs := parseAll(t, raw)
	if len(objs) < 200 || len(objs) > 400 {
		t.Errorf("%d objects, want 200..400", len(objs))
	}
	for _, o := range objs {
		for _, p := range stix.Validate(o) {
			if p.Warning {
				t.Logf("%v", p)
				continue
			}
			t.Errorf("%v", p)
		}
		if o.Type == "indicator" {
			if err := pattern.Validate(o.String("pattern"), "2.1"); err != nil {
				t.Errorf("%s: pattern %q: %v", o.ID, o.String("pattern"), err)
			}
		}
	}
	dir, ok := stixschema.SharedDir()
	if !ok {
		t.Skip("shared folder not found: skipping the JSON-schema check")
	}
	v, err := stixschema.Compile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateBundle(raw); err != nil {
		t.Error(err)
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := Bundle(3, now)
	b, _ := Bundle(3, now)
	c, _ := Bundle(4, now)
	d, _ := Bundle(3, now.Add(time.Hour))
	if !bytes.Equal(a, b) {
		t.Error("the same seed and time gave different bundles")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 3 and 4 gave the same bundle")
	}
	if bytes.Equal(a, d) {
		t.Error("a different now gave the same bundle")
	}
}

// TestContents checks that the bundle tells the story it should.
func TestContents(t *testing.T) {
	raw, err := Bundle(2, now)
	if err != nil {
		t.Fatal(err)
	}
	objs := parseAll(t, raw)
	types := make(map[string]int)
	versions := make(map[string]int)
	byID := make(map[string]*stix.Object)
	relTypes := make(map[string]int)
	revoked := 0
	for _, o := range objs {
		types[o.Type]++
		versions[o.ID]++
		if prev := byID[o.ID]; prev == nil || o.Modified.After(prev.Modified) {
			byID[o.ID] = o
		}
		if o.Revoked {
			revoked++
		}
		if o.Type == "relationship" {
			relTypes[o.String("relationship_type")]++
		}
		if !o.Created.IsZero() && (o.Created.After(now) || o.Modified.After(now)) {
			t.Errorf("%s is from the future: created %v modified %v", o.ID, o.Created, o.Modified)
		}
		if !o.Modified.IsZero() && o.Modified.Before(o.Created) {
			t.Errorf("%s modified before created", o.ID)
		}
	}
	for _, tt := range []struct {
		typ string
		min int
	}{
		{"marking-definition", 5}, {"identity", 7}, {"threat-actor", 3}, {"intrusion-set", 3}, {"malware", 6},
		{"campaign", 4}, {"attack-pattern", 20}, {"indicator", 60}, {"relationship", 60}, {"sighting", 20},
		{"observed-data", 3}, {"report", 1}, {"location", 3},
	} {
		if types[tt.typ] < tt.min {
			t.Errorf("%d %s objects, want at least %d", types[tt.typ], tt.typ, tt.min)
		}
	}
	for _, rt := range []string{"indicates", "uses", "attributed-to", "targets"} {
		if relTypes[rt] == 0 {
			t.Errorf("no %s relationship", rt)
		}
	}
	if revoked != 1 {
		t.Errorf("%d revoked versions, want 1", revoked)
	}
	multi := 0
	for _, n := range versions {
		if n > 1 {
			multi++
		}
	}
	if multi < 3 {
		t.Errorf("%d objects with several versions, want at least 3", multi)
	}

	// Every reference resolves to an object in the bundle, except the TLP
	// 2.0 extension definition, which its publisher keeps.
	refRE := regexp.MustCompile(`"([a-z0-9-]+--[0-9a-f-]{36})"`)
	for _, o := range objs {
		for _, m := range refRE.FindAllStringSubmatch(string(o.Raw), -1) {
			if byID[m[1]] == nil && !strings.HasPrefix(m[1], "extension-definition--") {
				t.Errorf("%s refers to %s, which is not in the bundle", o.ID, m[1])
			}
		}
	}

	// Markings: the TLP 2.0 definitions as FIRST published them.
	for _, m := range gen.TLPMarkings {
		md := byID[m.ID]
		if md == nil {
			t.Fatalf("marking definition %s missing", m.Name)
		}
		if md.String("name") != m.Name || md.String("created") != "2022-10-01T00:00:00.000Z" {
			t.Errorf("marking %s: %s", m.Name, md.Raw)
		}
	}

	// Sightings are by partners and of indicators.
	for _, o := range objs {
		if o.Type != "sighting" {
			continue
		}
		if of := byID[o.String("sighting_of_ref")]; of == nil || of.Type != "indicator" {
			t.Errorf("%s is not a sighting of an indicator", o.ID)
		}
		for _, w := range o.Props["where_sighted_refs"].([]any) {
			if byID[w.(string)].Type != "identity" {
				t.Errorf("%s sighted at %v, not an identity", o.ID, w)
			}
		}
	}

	// Attack patterns cite ATT&CK.
	for _, o := range objs {
		if o.Type != "attack-pattern" {
			continue
		}
		if len(o.ExternalReferences) == 0 || o.ExternalReferences[0].SourceName != "mitre-attack" ||
			!regexp.MustCompile(`^T\d{4}(\.\d{3})?$`).MatchString(o.ExternalReferences[0].ExternalID) {
			t.Errorf("%s: external references %+v", o.ID, o.ExternalReferences)
		}
	}
}

// TestReservedValuesOnly checks that every address and host name anywhere in
// the bundle is in a documentation range.
func TestReservedValuesOnly(t *testing.T) {
	raw, err := Bundle(5, now)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	v4 := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	for _, m := range regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`).FindAllString(s, -1) {
		a, err := netip.ParseAddr(m)
		if err != nil {
			continue
		}
		if !v4[0].Contains(a) && !v4[1].Contains(a) && !v4[2].Contains(a) {
			t.Errorf("IPv4 %s outside RFC 5737", m)
		}
	}
	for _, m := range regexp.MustCompile(`\b[0-9a-f]{1,4}:[0-9a-f:]{2,}[0-9a-f]\b`).FindAllString(s, -1) {
		a, err := netip.ParseAddr(m)
		if err != nil {
			continue
		}
		if !netip.MustParsePrefix("2001:db8::/32").Contains(a) {
			t.Errorf("IPv6 %s outside RFC 3849", m)
		}
	}
	hostRE := regexp.MustCompile(`(?:https?://|@)([a-z0-9.-]+)`)
	for _, m := range hostRE.FindAllStringSubmatch(s, -1) {
		h := m[1]
		if strings.HasSuffix(h, ".example") || strings.HasSuffix(h, ".test") || h == "attack.mitre.org" {
			continue
		}
		t.Errorf("host %s is not reserved", h)
	}
	for _, m := range regexp.MustCompile(`domain-name:value = '([^']+)'`).FindAllStringSubmatch(s, -1) {
		if !strings.HasSuffix(m[1], ".example") && !strings.HasSuffix(m[1], ".test") {
			t.Errorf("domain %s is not reserved", m[1])
		}
	}
}
