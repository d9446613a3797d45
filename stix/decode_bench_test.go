//go:build unix

package stix

import (
	"bytes"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/internal/gen"
)

// BenchmarkDecodeItemGenerated measures the per-object work of an import's
// decoder (parse, complete, validate, Stored) over a generated bundle's
// objects, on one goroutine; the bundle is read beforehand, untimed. Beside
// the wall-clock time it reports the process's CPU time per object
// (cpu-ns/op, garbage collection included), which another load on the
// machine disturbs less.
func BenchmarkDecodeItemGenerated(b *testing.B) {
	var buf bytes.Buffer
	if err := gen.Write(&buf, 20_000, 1); err != nil {
		b.Fatal(err)
	}
	r := NewReader(&buf)
	var items []Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	b.ReportAllocs()
	i := 0
	start := cpuTime()
	for b.Loop() {
		if out := decodeItem(items[i%len(items)]); out.err != nil {
			b.Fatal(out.err)
		}
		i++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the CPU time the process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
