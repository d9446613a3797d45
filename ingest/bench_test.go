package ingest_test

import (
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/ingest"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
)

// BenchmarkIngest consumes another hub holding CYBERPACT_BENCH_MISP_OBJECTS
// generated objects (default 10,000, released to all its members) into an
// empty store each iteration: MISPFeed through its MISP feed (the upstream
// hub converting to MISP events, this one fetching every event and
// converting it back to STIX, each event imported on its own), and, the
// baseline of the same run, TAXII through its all-members collection.
// Both ends run on this machine.
func BenchmarkIngest(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_MISP_OBJECTS")); err == nil && v > 0 {
		n = v
	}
	up := newUpstreamB(b, n)
	for _, kind := range []cyberpact.SourceKind{cyberpact.SourceMISP, cyberpact.SourceTAXII} {
		name := map[cyberpact.SourceKind]string{cyberpact.SourceMISP: "MISPFeed", cyberpact.SourceTAXII: "TAXII"}[kind]
		b.Run(name, func(b *testing.B) {
			var st *cyberpact.SourceState
			events := 0
			for b.Loop() {
				b.StopTimer()
				db := openDB(b)
				src := &cyberpact.Source{Name: "up", Kind: kind, Key: up.key, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Interval: time.Hour}
				if kind == cyberpact.SourceMISP {
					src.URL = up.base + "/api/v1/misp"
				} else {
					src.URL, src.Collection, src.User = up.base+"/taxii2/api1/", cphttp.CollectionID("all"), up.user
				}
				if err := db.CreateSource(context.Background(), src, "bench"); err != nil {
					b.Fatal(err)
				}
				r, _ := ingest.New(db, quiet())
				b.StartTimer()
				var err error
				if st, err = r.Run(context.Background(), src); err != nil {
					b.Fatal(err)
				}
				events = len(st.Events)
			}
			b.ReportMetric(float64(st.LastAdded), "added")
			b.ReportMetric(float64(st.LastAdded)*float64(b.N)/b.Elapsed().Seconds(), "added/s")
			if events > 0 {
				b.ReportMetric(float64(events), "events")
				b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			}
		})
	}
}

func newUpstreamB(b *testing.B, n int) *upstream {
	u := newUpstream(b, "Bench")
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, n, 1)) }()
	dec := stix.NewDecoder(pr)
	defer dec.Close()
	res, err := u.db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: u.org.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("upstream holds %d objects", res.Added)
	return u
}
