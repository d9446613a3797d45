package sensor_test

import (
	"bytes"
	"encoding/csv"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sensor"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the time the fixture is exported at.
var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fixture reads testdata/indicators.json as the store would hand it out.
func fixture(t testing.TB) []*cyberpact.Object {
	t.Helper()
	f, err := os.Open("testdata/indicators.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := stix.NewDecoder(f)
	defer dec.Close()
	var out []*cyberpact.Object
	for {
		o, err := dec.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
}

func sliceSource(objs []*cyberpact.Object) sensor.Source {
	return func(fn func(*cyberpact.Object) error) error {
		for _, o := range objs {
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	}
}

func export(t testing.TB, objs []*cyberpact.Object, format string, opt sensor.Options) (string, *sensor.Stats) {
	t.Helper()
	if opt.Now.IsZero() {
		opt.Now = now
	}
	var b bytes.Buffer
	st, err := sensor.Export(&b, format, sliceSource(objs), opt)
	if err != nil {
		t.Fatalf("%s: %v", format, err)
	}
	return b.String(), st
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sensor -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, d)
	}
}

var goldenNames = map[string]string{
	"suricata": "suricata.rules", "snort": "snort.rules", "zeek": "intel.dat", "csv": "indicators.csv",
	"blocklist-ip": "blocklist-ip.txt", "blocklist-cidr": "blocklist-cidr.txt", "blocklist-domain": "blocklist-domain.txt",
	"blocklist-url": "blocklist-url.txt", "blocklist-hash": "blocklist-hash.txt", "blocklist-email": "blocklist-email.txt",
	"rpz": "rpz.zone",
}

// exportable is the model of what the fixture exports: every value of an
// indicator the rules of Options keep, from ReadIndicator, by kind.
func exportable(t *testing.T, objs []*cyberpact.Object, opt sensor.Options) map[sensor.Kind][]string {
	out := map[sensor.Kind][]string{}
	for _, o := range objs {
		if o.Type != "indicator" {
			continue
		}
		ind, err := sensor.ReadIndicator(o)
		if err != nil {
			t.Fatal(err)
		}
		if ind.Revoked || ind.Values == nil || (!ind.ValidFrom.IsZero() && now.Before(ind.ValidFrom)) || (!ind.ValidUntil.IsZero() && !now.Before(ind.ValidUntil)) {
			continue
		}
		if len(opt.TLPs) > 0 && !slices.Contains(opt.TLPs, ind.TLP) {
			continue
		}
		for _, v := range ind.Values {
			if !slices.Contains(out[v.Kind], v.Value) {
				out[v.Kind] = append(out[v.Kind], v.Value)
			}
		}
	}
	for _, vs := range out {
		sort.Strings(vs)
	}
	return out
}

func TestGolden(t *testing.T) {
	objs := fixture(t)
	for format, file := range goldenNames {
		t.Run(format, func(t *testing.T) {
			got, _ := export(t, objs, format, sensor.Options{})
			golden(t, file, got)
		})
	}
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestBlocklistsHoldEveryExportableValueOnce(t *testing.T) {
	objs := fixture(t)
	want := exportable(t, objs, sensor.Options{})
	for format, kinds := range map[string][]sensor.Kind{
		"blocklist-ip": {sensor.KindIP}, "blocklist-domain": {sensor.KindDomain}, "blocklist-url": {sensor.KindURL},
		"blocklist-email": {sensor.KindEmail}, "blocklist-hash": {sensor.KindMD5, sensor.KindSHA1, sensor.KindSHA256, sensor.KindSHA512},
	} {
		got, _ := export(t, objs, format, sensor.Options{})
		var w []string
		for _, k := range kinds {
			w = append(w, want[k]...)
		}
		if d := cmp.Diff(sorted(w), sorted(lines(got))); d != "" {
			t.Errorf("%s (-want +got):\n%s", format, d)
		}
	}
	got, _ := export(t, objs, "blocklist-cidr", sensor.Options{})
	var w []string
	for _, v := range append(want[sensor.KindIP], want[sensor.KindCIDR]...) {
		w = append(w, asPrefix(v))
	}
	if d := cmp.Diff(sorted(w), sorted(lines(got))); d != "" {
		t.Errorf("blocklist-cidr (-want +got):\n%s", d)
	}
}

func TestRulesParseAndCarryTheirValues(t *testing.T) {
	objs := fixture(t)
	want := exportable(t, objs, sensor.Options{})
	mods := map[string]time.Time{}
	for _, o := range objs {
		if ind, err := sensor.ReadIndicator(o); err == nil {
			mods[ind.ID] = ind.Modified
		}
	}
	for _, engine := range []string{"suricata", "snort"} {
		t.Run(engine, func(t *testing.T) {
			got, st := export(t, objs, engine, sensor.Options{})
			sids := map[string]bool{}
			found := map[sensor.Kind][]string{}
			for i, line := range lines(got) {
				if strings.HasPrefix(line, "#") {
					continue
				}
				r, err := parseRule(engine, line)
				if err != nil {
					t.Fatalf("line %d: %v\n%s", i+1, err, line)
				}
				sid, _ := r.opt("sid")
				if sids[sid.Value] {
					t.Errorf("line %d: sid %s used twice", i+1, sid.Value)
				}
				sids[sid.Value] = true
				md, _ := r.opt("metadata")
				id := strings.Fields(strings.Split(md.Value, ",")[0])[1]
				rev, _ := r.opt("rev")
				if rev.Value != itoa(sensor.Rev(mods[id])) {
					t.Errorf("line %d: rev %s, want %d from %s's modified", i+1, rev.Value, sensor.Rev(mods[id]), id)
				}
				k, v := ruleValue(t, engine, r)
				found[k] = append(found[k], v)
				msg, _ := r.opt("msg")
				if !strings.Contains(msg.Text, v) {
					t.Errorf("line %d: msg %q does not name %s", i+1, msg.Text, v)
				}
			}
			for _, k := range []sensor.Kind{sensor.KindIP, sensor.KindCIDR, sensor.KindDomain, sensor.KindURL} {
				w := want[k]
				if engine == "snort" && k == sensor.KindDomain {
					w = withoutWildcards(w)
				}
				// Two indicators of one value get a rule each.
				if d := cmp.Diff(w, slices.Compact(sorted(found[k]))); d != "" {
					t.Errorf("%s values (-want +got):\n%s", k, d)
				}
			}
			if st.Values != len(sids) {
				t.Errorf("stats say %d values, %d rules written", st.Values, len(sids))
			}
		})
	}
}

func itoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// ruleValue recovers the value a parsed rule matches, from its header or
// its content options.
func ruleValue(t *testing.T, engine string, r *rule) (sensor.Kind, string) {
	t.Helper()
	contents := r.opts("content")
	switch {
	case r.Proto == "ip":
		if strings.Contains(r.Dst, "/") {
			return sensor.KindCIDR, r.Dst
		}
		return sensor.KindIP, r.Dst
	case r.Proto == "dns":
		if _, dot := r.opt("dotprefix"); !dot {
			return sensor.KindDomain, "*" + string(contents[0].Bytes) // the subdomains alone
		}
		return sensor.KindDomain, strings.TrimPrefix(string(contents[0].Bytes), ".")
	case r.Proto == "udp":
		// DNS wire form back to a name.
		b := contents[0].Bytes
		var labels []string
		for len(b) > 0 && b[0] != 0 {
			labels = append(labels, string(b[1:1+int(b[0])]))
			b = b[1+int(b[0]):]
		}
		return sensor.KindDomain, strings.Join(labels, ".")
	case r.Proto == "http" && engine == "suricata":
		host, uri := string(contents[0].Bytes), string(contents[1].Bytes)
		return sensor.KindURL, urlOf(t, r, host, uri)
	case r.Proto == "tcp":
		uri := string(contents[0].Bytes)
		host := strings.TrimSuffix(strings.TrimPrefix(string(contents[1].Bytes), "Host: "), "\r\n")
		return sensor.KindURL, urlOf(t, r, host, uri)
	}
	t.Fatalf("rule of unknown shape: %+v", r)
	return 0, ""
}

// urlOf finds the exported URL with this host and request URI in the
// rule's msg (which names the value), checking they agree.
func urlOf(t *testing.T, r *rule, host, uri string) string {
	msg, _ := r.opt("msg")
	for _, f := range strings.Fields(msg.Text) {
		f = strings.TrimSuffix(f, ":")
		if strings.Contains(f, "://") {
			if !strings.Contains(f, "://"+host) || !strings.HasSuffix(f, uri) {
				t.Errorf("rule for %s matches host %q and uri %q", f, host, uri)
			}
			return f
		}
	}
	t.Fatalf("msg %q names no URL", msg.Text)
	return ""
}

func TestZeekIntelParses(t *testing.T) {
	objs := fixture(t)
	want := exportable(t, objs, sensor.Options{})
	got, _ := export(t, objs, "zeek", sensor.Options{LinkBase: "https://hub.example/api/v1/objects/"})
	items, err := parseIntel(got)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]string{}
	for _, it := range items {
		byType[it.Type] = append(byType[it.Type], it.Indicator)
		if !strings.HasPrefix(it.Meta["url"], "https://hub.example/api/v1/objects/indicator--") {
			t.Errorf("%s: meta.url %q", it.Indicator, it.Meta["url"])
		}
	}
	var urls, hashes []string
	for _, u := range want[sensor.KindURL] {
		urls = append(urls, u[strings.Index(u, "://")+3:])
	}
	for _, k := range []sensor.Kind{sensor.KindMD5, sensor.KindSHA1, sensor.KindSHA256, sensor.KindSHA512} {
		hashes = append(hashes, want[k]...)
	}
	for typ, w := range map[string][]string{
		"Intel::ADDR": want[sensor.KindIP], "Intel::SUBNET": want[sensor.KindCIDR], "Intel::DOMAIN": withoutWildcards(want[sensor.KindDomain]),
		"Intel::URL": urls, "Intel::EMAIL": want[sensor.KindEmail], "Intel::FILE_HASH": hashes,
	} {
		if d := cmp.Diff(sorted(w), sorted(slices.Compact(sorted(byType[typ])))); d != "" {
			t.Errorf("%s (-want +got):\n%s", typ, d)
		}
	}
}

func TestCSVRoundTrips(t *testing.T) {
	objs := fixture(t)
	want := exportable(t, objs, sensor.Options{})
	got, _ := export(t, objs, "csv", sensor.Options{})
	rows, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sensor.CSVHeader, rows[0]); d != "" {
		t.Errorf("header (-want +got):\n%s", d)
	}
	found := map[sensor.Kind][]string{}
	for _, r := range rows[1:] {
		ks, err := sensor.ParseKind(r[1])
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(found[ks[0]], r[2]) {
			found[ks[0]] = append(found[ks[0]], r[2])
		}
	}
	for k, w := range want {
		if d := cmp.Diff(w, sorted(found[k])); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
}

func TestRPZIsAZoneWithEveryDomainAndAddress(t *testing.T) {
	objs := fixture(t)
	want := exportable(t, objs, sensor.Options{})
	got, _ := export(t, objs, "rpz", sensor.Options{Zone: "rpz.example.org", Serial: 7})
	z, err := parseZone(got)
	if err != nil {
		t.Fatal(err)
	}
	names, ips, err := checkRPZ(z)
	if err != nil {
		t.Fatal(err)
	}
	if z.RRs[0].RData[2] != "7" {
		t.Errorf("serial %s, want 7", z.RRs[0].RData[2])
	}
	var wantNames []string
	for _, d := range want[sensor.KindDomain] {
		wantNames = append(wantNames, d)
		if !strings.HasPrefix(d, "*.") {
			wantNames = append(wantNames, "*."+d)
		}
	}
	if d := cmp.Diff(sorted(wantNames), sorted(names)); d != "" {
		t.Errorf("names (-want +got):\n%s", d)
	}
	var wantIPs, gotIPs []string
	for _, v := range append(want[sensor.KindIP], want[sensor.KindCIDR]...) {
		wantIPs = append(wantIPs, asPrefix(v))
	}
	for _, p := range ips {
		gotIPs = append(gotIPs, p.String())
	}
	if d := cmp.Diff(sorted(wantIPs), sorted(gotIPs)); d != "" {
		t.Errorf("rpz-ip triggers (-want +got):\n%s", d)
	}
}

// asPrefix writes an address as the range of that address alone, and a
// range as itself.
func asPrefix(v string) string {
	if strings.Contains(v, "/") {
		return netip.MustParsePrefix(v).String()
	}
	a := netip.MustParseAddr(v)
	return netip.PrefixFrom(a, a.BitLen()).String()
}

// withoutWildcards leaves out the "*." domains, which Snort's DNS content
// and Zeek's DOMAIN intel cannot say.
func withoutWildcards(ds []string) []string {
	var out []string
	for _, d := range ds {
		if !strings.HasPrefix(d, "*.") {
			out = append(out, d)
		}
	}
	return out
}
