package storetest

import (
	"context"
	"io"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
)

// BenchReadsAtScale times on s, a store that holds what producer
// imported, what issue 16 asks to compare: Stats (the first call, which
// counts every object as Stats did before counts were kept; later calls
// with nothing new; a call after each of five imports of 1,000 objects),
// ranked searches, and the same run's list query (the first page of 100),
// all for a member organisation reading what producer released to all
// members, plus the hub's own Stats. It changes s: it adds the counts it
// keeps and 5,000 generated objects. Each figure is the median of 5 calls
// (1 for the first Stats), in milliseconds of wall time; the "-cpu-ms"
// figures are the CPU time of this process over the same calls (all of
// the work for SQLite, only the client's for PostgreSQL), steadier than
// wall time on a shared machine.
func BenchReadsAtScale(b *testing.B, s cyberpact.ObjectStore, producer int64) {
	ctx := context.Background()
	reader := &cyberpact.Viewer{Org: producer + 1000} // a member of no group
	type took struct{ wall, cpu float64 }
	call := func(fn func() error) took {
		c0, w0 := cpuTime(), time.Now()
		if err := fn(); err != nil {
			b.Fatal(err)
		}
		return took{ms(time.Since(w0)), ms(cpuTime() - c0)}
	}
	median := func(ts []took) took {
		ws, cs := make([]float64, len(ts)), make([]float64, len(ts))
		for i, t := range ts {
			ws[i], cs[i] = t.wall, t.cpu
		}
		slices.Sort(ws)
		slices.Sort(cs)
		return took{ws[len(ws)/2], cs[len(cs)/2]}
	}
	times := func(fn func() error, n int) took {
		var ts []took
		for range n {
			ts = append(ts, call(fn))
		}
		return median(ts)
	}
	stats := func(v *cyberpact.Viewer) func() error {
		return func() error { _, err := s.Stats(ctx, v); return err }
	}
	find := func(f cyberpact.ObjectFilter) func() error {
		return func() error { _, err := s.FindObjects(ctx, f); return err }
	}
	report := func(t took, name string) {
		b.Logf("%s: %.3f ms, %.3f CPU-ms", name, t.wall, t.cpu) // as it comes: the first Stats of ten million takes a while
		b.ReportMetric(t.wall, name+"-ms")
		b.ReportMetric(t.cpu, name+"-cpu-ms")
	}
	for b.Loop() {
		report(times(find(cyberpact.ObjectFilter{Viewer: reader, Limit: 100}), 5), "list")
		report(times(find(cyberpact.ObjectFilter{Viewer: reader, Text: "T1059", Limit: 50}), 5), "search-T1059")
		report(times(find(cyberpact.ObjectFilter{Viewer: reader, Text: "powershell", Limit: 50}), 5), "search-powershell")
		// The first call counts the whole store once (the classes of
		// sqlstore, unless the store kept them); then viewers never seen
		// before, a second call, and calls after a delete.
		report(times(stats(nil), 1), "stats-build")
		report(times(stats(reader), 1), "stats-first")
		report(times(stats(reader), 5), "stats-kept")
		fresh := int64(0)
		report(times(func() error {
			fresh++
			_, err := s.Stats(ctx, &cyberpact.Viewer{Org: producer + 2000 + fresh, Nation: "FR", Sector: "energy"})
			return err
		}, 5), "stats-new-viewer")
		report(times(stats(&cyberpact.Viewer{Public: true}), 1), "public-stats-first")
		var del, afterDel, hubAfterDel []took
		own := &cyberpact.Viewer{Org: producer}
		for range 3 {
			page, err := s.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: own, Types: []string{"malware"}, Limit: 1})
			if err != nil || len(page.Objects) == 0 {
				b.Fatalf("an object to delete: %v", err)
			}
			del = append(del, call(func() error {
				_, err := s.DeleteObject(ctx, page.Objects[0].ID, cyberpact.ObjectFilter{Viewer: own, AllVersions: true})
				return err
			}))
			afterDel = append(afterDel, call(stats(reader)))
			hubAfterDel = append(hubAfterDel, call(stats(nil)))
		}
		report(median(del), "delete-1")
		report(median(afterDel), "stats-after-delete")
		report(median(hubAfterDel), "hub-stats-after-delete")
		// Five rounds of an import of 1,000 objects and a call of each
		// viewer's Stats after it: the medians.
		var imp, after, hubAfter []took
		for range 5 {
			imp = append(imp, call(func() error { return ImportGenerated(s, producer, 1000, time.Now().UnixNano()) }))
			after = append(after, call(stats(reader)))
			hubAfter = append(hubAfter, call(stats(nil)))
		}
		report(median(imp), "import-1000")
		report(median(after), "stats-after-import")
		report(median(hubAfter), "hub-stats-after-import")
		report(times(stats(reader), 5), "stats-kept-again")
		report(times(find(cyberpact.ObjectFilter{Viewer: reader, Limit: 100}), 5), "list-again")
	}
}

// ImportGenerated imports into s n generated objects (seed) as producer
// for all members, TLP:RED ones refused.
func ImportGenerated(s cyberpact.ObjectStore, producer int64, n int, seed int64) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, n, seed)) }()
	dec := stix.NewDecoder(pr)
	defer dec.Close()
	_, err := s.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: producer,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
	pr.CloseWithError(io.ErrClosedPipe) // the generator stops if the import did
	return err
}

// cpuTime is the CPU time this process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
