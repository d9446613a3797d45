package misp

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/cyberpact/cyberpact/stix"
)

// benchInputs returns the shared events' files, read once.
func benchInputs(b *testing.B) [][]byte {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if len(files) == 0 {
		b.Skipf("no MISP events in %s", eventsDir)
	}
	sort.Strings(files)
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// BenchmarkImport measures MISP JSON in: decoding each of the 65 shared
// events and converting it to validated STIX objects, then writing them
// all as one bundle, as an import does. It reports events per second.
func BenchmarkImport(b *testing.B) {
	inputs := benchInputs(b)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		w := stix.NewWriter(io.Discard)
		for _, in := range inputs {
			evs, err := DecodeJSON(in)
			if err != nil {
				b.Fatal(err)
			}
			res, err := ToSTIX(evs[0])
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range res.Objects {
				if err := w.Write(o.Raw); err != nil {
					b.Fatal(err)
				}
			}
			n++
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkExport measures MISP JSON out: converting the STIX objects of
// each shared event back to an event and writing its MISP JSON. It
// reports events per second.
func BenchmarkExport(b *testing.B) {
	inputs := benchInputs(b)
	var sets [][]*stix.Object
	for _, in := range inputs {
		evs, err := DecodeJSON(in)
		if err != nil {
			b.Fatal(err)
		}
		res, err := ToSTIX(evs[0])
		if err != nil {
			b.Fatal(err)
		}
		// Parsed afresh, as objects read from the store would be.
		var objs []*stix.Object
		for _, o := range res.Objects {
			p, err := stix.Parse(o.Raw)
			if err != nil {
				b.Fatal(err)
			}
			objs = append(objs, p)
		}
		sets = append(sets, objs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, objs := range sets {
			evs, err := FromSTIX(objs)
			if err != nil {
				b.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Encode(&buf, evs); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSTIXBaseline is the baseline beside BenchmarkImport: parsing
// and validating the STIX objects the same events become, which importing
// them as a STIX bundle costs without any MISP conversion. It reports the
// same events per second.
func BenchmarkSTIXBaseline(b *testing.B) {
	inputs := benchInputs(b)
	var raws [][][]byte
	for _, in := range inputs {
		evs, err := DecodeJSON(in)
		if err != nil {
			b.Fatal(err)
		}
		res, err := ToSTIX(evs[0])
		if err != nil {
			b.Fatal(err)
		}
		var set [][]byte
		for _, o := range res.Objects {
			set = append(set, o.Raw)
		}
		raws = append(raws, set)
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, set := range raws {
			for _, raw := range set {
				o, err := stix.Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				if ps := stix.Errors(stix.Validate(o)); len(ps) > 0 {
					b.Fatal(ps[0])
				}
			}
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
}
