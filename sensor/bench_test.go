package sensor_test

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/sensor"
	"github.com/cyberpact/cyberpact/stix"
)

// benchIndicators is how many indicators the export benchmarks generate:
// CYBERPACT_BENCH_INDICATORS, else 100,000. internal/gen writes about 60
// indicators in every 100 objects; the other objects are read and passed
// over, as an export from the store would not see them.
func benchIndicators(b *testing.B) int {
	if s := os.Getenv("CYBERPACT_BENCH_INDICATORS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	return 100_000
}

// benchSet is the generated indicators, made once per process: the raw
// objects as the store hands them out (ID, type, release level, JSON).
var benchSet struct {
	n    int
	objs []*cyberpact.Object
}

// genObjects generates about indicators indicators with internal/gen
// (seed 1) and keeps them, split from the bundle by stix.Reader.
func genObjects(b *testing.B, indicators int) []*cyberpact.Object {
	if benchSet.n == indicators {
		return benchSet.objs
	}
	benchSet.objs = nil
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, indicators*100/60, 1)) }()
	r := stix.NewReader(pr)
	defer pr.Close()
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.HasPrefix(it.Raw, []byte(`{"type":"indicator"`)) {
			continue
		}
		o := &cyberpact.Object{Type: "indicator", Raw: it.Raw, Release: cyberpact.Release{TLP: cyberpact.TLPAmber}}
		if i := bytes.Index(it.Raw, []byte(`"id":"`)); i >= 0 {
			id := it.Raw[i+6:]
			o.ID = string(id[:bytes.IndexByte(id, '"')])
		}
		for lvl, m := range gen.TLPMarkings {
			if bytes.Contains(it.Raw, []byte(m.ID)) {
				o.Release.TLP = cyberpact.TLP(lvl + 1)
			}
		}
		benchSet.objs = append(benchSet.objs, o)
	}
	benchSet.n = indicators
	return benchSet.objs
}

// BenchmarkExport runs each format over the generated indicators, held in
// memory as the store would hand them out, beside "source" (handing them
// out, writing nothing) and "stix" (writing them as a STIX bundle, as
// `cyberpact export` does). Reading them from a store costs the same for
// every format and is not included.
func BenchmarkExport(b *testing.B) {
	n := benchIndicators(b)
	formats := append([]string{"source", "stix"}, sensor.FormatNames()...)
	for _, format := range formats {
		b.Run(format, func(b *testing.B) {
			genObjects(b, n)
			b.ResetTimer()
			src := sliceSource(genObjects(b, n))
			b.ReportAllocs()
			var read, values int
			for i := 0; i < b.N; i++ {
				var cw countWriter
				switch format {
				case "source":
					read = 0
					src(func(*cyberpact.Object) error { read++; return nil })
				case "stix":
					w := stix.NewWriter(&cw)
					read = 0
					if err := src(func(o *cyberpact.Object) error { read++; return w.Write(o.Raw) }); err != nil {
						b.Fatal(err)
					}
					w.Close()
				default:
					st, err := sensor.Export(&cw, format, src, sensor.Options{Now: gen.Base})
					if err != nil {
						b.Fatal(err)
					}
					read, values = st.Indicators, st.Values
				}
				b.SetBytes(cw.n)
			}
			b.ReportMetric(float64(read), "indicators")
			b.ReportMetric(float64(values), "values")
			b.ReportMetric(float64(read)*float64(b.N)/b.Elapsed().Seconds(), "indicators/s")
		})
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }
