package http_test

import (
	"net/http"
	"os"
	"strconv"
	"testing"
)

// BenchmarkMISPFeed pulls the hub's MISP feed as MISP does, over a store of
// CYBERPACT_BENCH_MISP_OBJECTS generated objects (default 10,000) produced
// by one organisation for all members and read by another: Pull, a MISP
// that holds nothing (the manifest, every event, hashes.csv); Unchanged, a
// MISP that holds everything (the manifest answers 304, no event is
// fetched); and, the baseline of the same run, TAXIIBaseline, the same
// reader paging through the all-members collection (pages of 1,000).
func BenchmarkMISPFeed(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_MISP_OBJECTS")); err == nil && v > 0 {
		n = v
	}
	h := newBenchHub(b, n)
	b.Run("Pull", func(b *testing.B) {
		events := 0
		for b.Loop() {
			c := newMISPClient(h.base, h.reader.key)
			c.pull(b)
			events = len(c.events)
		}
		b.ReportMetric(float64(events), "events")
		b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("Unchanged", func(b *testing.B) {
		c := newMISPClient(h.base, h.reader.key)
		c.pull(b)
		for b.Loop() {
			c.pull(b)
			if !c.notModified || len(c.added)+len(c.edited) > 0 {
				b.Fatalf("nothing changed, yet: not modified %v, %d added, %d edited", c.notModified, len(c.added), len(c.edited))
			}
		}
	})
	b.Run("TAXIIBaseline", func(b *testing.B) {
		objs := 0
		for b.Loop() {
			objs, _ = h.readAll(b, http.DefaultClient)
		}
		b.ReportMetric(float64(objs), "objects")
	})
}
