package pattern

import (
	"fmt"
	"testing"
	"time"
)

var benchPatterns = []string{
	"[ipv4-addr:value = '198.51.100.7']",
	"[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f'] AND [domain-name:value = 'x.example']",
	"[url:value = 'http://x.example/a/b?c=d']",
	"[domain-name:value = 'evil.example' OR domain-name:value = 'bad.example']",
}

// BenchmarkParse measures parsing typical indicator patterns; patterns/s
// is b.N*len/elapsed.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, s := range benchPatterns {
			if _, err := Parse(s); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "patterns/s")
}

// indicatorSet builds n indicator patterns of the usual shapes.
func indicatorSet(n int) []string {
	out := make([]string, n)
	for i := range out {
		switch i % 4 {
		case 0:
			out[i] = fmt.Sprintf("[ipv4-addr:value = '10.%d.%d.%d']", i>>16&255, i>>8&255, i&255)
		case 1:
			out[i] = fmt.Sprintf("[domain-name:value = 'host%d.example']", i)
		case 2:
			out[i] = fmt.Sprintf("[file:hashes.'SHA-256' = '%064x'] AND [domain-name:value = 'c2-%d.example']", i, i)
		case 3:
			out[i] = fmt.Sprintf("[url:value = 'http://h%d.example/x'] OR [network-traffic:dst_ref.value = '10.%d.%d.%d' AND network-traffic:dst_port = 443]", i, i>>16&255, i>>8&255, i&255)
		}
	}
	return out
}

// observationStream builds n observed-data objects, each with a few
// SCOs; about one in 16 hits an indicator.
func observationStream(n int) []Observation {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	obs := make([]Observation, n)
	for i := range obs {
		hit := i%16 == 0
		ip := fmt.Sprintf("192.0.2.%d", i%256)
		dom := fmt.Sprintf("benign%d.example", i)
		if hit {
			ip = fmt.Sprintf("10.%d.%d.%d", (i*4)>>16&255, (i*4)>>8&255, (i*4)&255)
			dom = fmt.Sprintf("host%d.example", (i*4+1)%10000)
		}
		obs[i] = Observation{
			ID: fmt.Sprintf("observed-data--%d", i), FirstObserved: base, LastObserved: base, NumberObserved: 1,
			Objects: map[string]map[string]any{
				"0": {"type": "ipv4-addr", "value": ip},
				"1": {"type": "network-traffic", "dst_ref": "0", "dst_port": float64(443), "protocols": []any{"tcp"}},
				"2": {"type": "domain-name", "value": dom},
			},
		}
		obs[i].Prepare()
	}
	return obs
}

// BenchmarkIndexMatch runs a stream of observed data through an Index of
// 10,000 compiled indicator patterns.
func BenchmarkIndexMatch(b *testing.B) {
	ix, err := Compile(indicatorSet(10000), "2.1")
	if err != nil {
		b.Fatal(err)
	}
	stream := observationStream(4096)
	b.ReportAllocs()
	b.ResetTimer()
	n, hits := 0, 0
	for b.Loop() {
		o := &stream[n%len(stream)]
		m, err := ix.MatchObservation(o)
		if err != nil {
			b.Fatal(err)
		}
		hits += len(m)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "observations/s")
	if hits == 0 {
		b.Fatal("no observation matched any indicator")
	}
}

// BenchmarkMatchSingle measures one pattern against one observation.
func BenchmarkMatchSingle(b *testing.B) {
	p := MustParse("[network-traffic:dst_ref.value = '192.0.2.1' AND network-traffic:dst_port = 443]")
	obs := observationStream(2)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Match(obs[1:2]); err != nil {
			b.Fatal(err)
		}
	}
}
