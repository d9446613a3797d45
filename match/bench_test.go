package match_test

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/cyberpact/cyberpact/internal/eventgen"
	"github.com/cyberpact/cyberpact/match"
)

func genBench(b *testing.B, inds, events int) (bundle, ev []byte) {
	b.Helper()
	cfg := eventgen.Config{Indicators: inds, Events: events, HitRate: 0.01, Seed: 1}
	var ib, eb bytes.Buffer
	if err := eventgen.WriteIndicators(&ib, cfg); err != nil {
		b.Fatal(err)
	}
	if err := eventgen.WriteEvents(&eb, cfg, nil); err != nil {
		b.Fatal(err)
	}
	return ib.Bytes(), eb.Bytes()
}

// BenchmarkBuild measures compiling 100,000 indicators from a bundle,
// reading included; it reports the live heap the index holds.
func BenchmarkBuild(b *testing.B) {
	bundle, _ := genBench(b, 100_000, 0)
	b.SetBytes(int64(len(bundle)))
	var ix *match.Index
	for b.Loop() {
		var err error
		ix, err = match.Build(match.BundleIndicators(bytes.NewReader(bundle)), match.BuildOptions{Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/float64(ix.Len()), "heap-B/indicator")
}

// BenchmarkStream measures matching JSON lines against 100,000
// indicators, 1% of events hitting.
func BenchmarkStream(b *testing.B) {
	bundle, ev := genBench(b, 100_000, 200_000)
	ix, err := match.Build(match.BundleIndicators(bytes.NewReader(bundle)), match.BuildOptions{Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	m := match.NewMatcher(ix)
	b.SetBytes(int64(len(ev)))
	for b.Loop() {
		if _, err := match.Stream(context.Background(), m, bytes.NewReader(ev), io.Discard, match.StreamOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(200_000*b.N)/b.Elapsed().Seconds(), "events/s")
}
