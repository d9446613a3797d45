package gen

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/internal/stixschema"
	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/stix"
)

// readAll reads a generated bundle back with the project's reader.
func readAll(t *testing.T, data []byte) []stix.Item {
	t.Helper()
	r := stix.NewReader(bytes.NewReader(data))
	var items []stix.Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return items
		}
		if err != nil {
			t.Fatalf("reading the generated bundle: %v", err)
		}
		items = append(items, it)
	}
}

func TestBundleIsValid(t *testing.T) {
	const n = 2000
	var buf bytes.Buffer
	if err := Write(&buf, n, 42); err != nil {
		t.Fatal(err)
	}
	items := readAll(t, buf.Bytes())
	if len(items) != n {
		t.Fatalf("read %d objects, want %d", len(items), n)
	}

	ids := make(map[string]int)
	types := make(map[string]int)
	warnings := make(map[string]int)
	for _, it := range items {
		o, err := stix.Parse(it.Raw)
		if err != nil {
			t.Fatalf("object %d: %v", it.Index, err)
		}
		if prev, dup := ids[o.ID]; dup {
			t.Errorf("id %s of object %d repeats object %d", o.ID, it.Index, prev)
		}
		ids[o.ID] = it.Index
		types[o.Type]++
		if o.Type == "indicator" {
			if err := pattern.Validate(o.String("pattern"), "2.1"); err != nil {
				t.Errorf("object %d: pattern %q: %v", it.Index, o.String("pattern"), err)
			}
		}
		for _, p := range stix.Validate(o) {
			if p.Warning {
				warnings[p.Path+": "+p.Message]++
				continue
			}
			t.Errorf("object %d: %v", it.Index, p)
		}
	}
	for w, c := range warnings {
		t.Logf("warning (%d objects): %s", c, w)
	}

	// The mix: shares of n with some slack for chance.
	scos := types["ipv4-addr"] + types["ipv6-addr"] + types["domain-name"] + types["url"] + types["file"]
	threats := types["malware"] + types["threat-actor"] + types["campaign"] + types["attack-pattern"]
	for _, tt := range []struct {
		name     string
		got      int
		min, max int
	}{
		{"indicators", types["indicator"], 1100, 1300},
		{"observables", scos, 230, 370},
		{"relationships", types["relationship"], 140, 260},
		{"threat objects", threats, 60, 140},
		{"sightings", types["sighting"], 140, 260},
		{"marking definitions", types["marking-definition"], 5, 5},
	} {
		if tt.got < tt.min || tt.got > tt.max {
			t.Errorf("%d %s, want %d..%d (types: %v)", tt.got, tt.name, tt.min, tt.max, types)
		}
	}
	if avg := buf.Len() / n; avg < 400 || avg > 700 {
		t.Errorf("average object size %d bytes, want 400..700", avg)
	}

	dir, ok := stixschema.SharedDir()
	if !ok {
		t.Skip("shared folder not found: skipping the JSON-schema check")
	}
	v, err := stixschema.Compile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ValidateBundle(buf.Bytes()); err != nil {
		t.Error(err)
	}
}

func TestDeterministic(t *testing.T) {
	gen := func(seed int64) []byte {
		var b bytes.Buffer
		if err := Write(&b, 500, seed); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !bytes.Equal(a, b) {
		t.Error("two bundles from seed 7 differ")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 7 and 8 give the same bundle")
	}
}

func TestSmallCounts(t *testing.T) {
	for _, n := range []int{0, 1, 5, 13, 14, 20} {
		var b bytes.Buffer
		if err := Write(&b, n, 1); err != nil {
			t.Fatal(err)
		}
		var bundle struct {
			Type    string            `json:"type"`
			ID      string            `json:"id"`
			Objects []json.RawMessage `json:"objects"`
		}
		if err := json.Unmarshal(b.Bytes(), &bundle); err != nil {
			t.Fatalf("n=%d: not JSON: %v", n, err)
		}
		if bundle.Type != "bundle" || !strings.HasPrefix(bundle.ID, "bundle--") || len(bundle.Objects) != n {
			t.Errorf("n=%d: got type %q id %q and %d objects", n, bundle.Type, bundle.ID, len(bundle.Objects))
		}
	}
	if err := Write(io.Discard, -1, 1); err == nil {
		t.Error("a negative count was accepted")
	}
}

// TestReservedValues checks that every observable value lies in the ranges
// reserved for documentation.
func TestReservedValues(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	v4 := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24")}
	v6 := netip.MustParsePrefix("2001:db8::/32")
	in := func(a netip.Addr, ps ...netip.Prefix) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	reservedHost := func(h string) bool { return strings.HasSuffix(h, ".example") || strings.HasSuffix(h, ".test") }
	for i := 0; i < 2000; i++ {
		if a := netip.MustParseAddr(IPv4(r)); !in(a, v4...) {
			t.Fatalf("IPv4 %s outside RFC 5737", a)
		}
		if a := netip.MustParseAddr(IPv6(r)); !in(a, v6) {
			t.Fatalf("IPv6 %s outside RFC 3849", a)
		}
		if d := Domain(r); !reservedHost(d) {
			t.Fatalf("domain %s not under a reserved TLD", d)
		}
		u := URL(r)
		host, _, _ := strings.Cut(strings.TrimPrefix(u, "https://"), "/")
		if !reservedHost(host) {
			t.Fatalf("URL %s not on a reserved host", u)
		}
		if _, host, _ := strings.Cut(Email(r), "@"); !reservedHost(host) {
			t.Fatalf("email host %s not reserved", host)
		}
	}
	seen := make(map[string]bool)
	for i := 0; i < NumIPv4; i++ {
		a := IPv4At(i)
		if seen[a] || !in(netip.MustParseAddr(a), v4...) {
			t.Fatalf("IPv4At(%d) = %s repeats or is outside RFC 5737", i, a)
		}
		seen[a] = true
	}
	for _, n := range []int{16, 20, 32} {
		if h := Hex(r, n); len(h) != 2*n || strings.Trim(h, "0123456789abcdef") != "" {
			t.Errorf("Hex(%d) = %q", n, h)
		}
	}
}

// TestSCOIDs checks the deterministic observable ids against the STIX 2.1
// specification's own example and against stix.SCOID.
func TestSCOIDs(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want map[string]any
	}{
		{"IPv4", SCOID("ipv4-addr", "198.51.100.3"), map[string]any{"type": "ipv4-addr", "value": "198.51.100.3"}},
		{"Domain", SCOID("domain-name", "login.kestrel-bank-sso.example"), map[string]any{"type": "domain-name", "value": "login.kestrel-bank-sso.example"}},
		{"File", FileID("SHA-256", strings.Repeat("ab", 32), "invoice.docm"), map[string]any{"type": "file", "name": "invoice.docm", "hashes": map[string]any{"SHA-256": strings.Repeat("ab", 32)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, ok := stix.SCOID(tt.want)
			if !ok {
				t.Skip("stix.SCOID does not compute ids yet")
			}
			if tt.got != want {
				t.Errorf("got %s, stix.SCOID gives %s", tt.got, want)
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	const n = 100_000
	var cw countWriter
	for b.Loop() {
		if err := Write(&cw, n, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(cw.n / int64(b.N))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/object")
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
