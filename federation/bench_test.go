package federation_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// benchHubs returns Washington holding n TLP:GREEN indicators for all
// members, and a function that makes a fresh Tokyo hub with a peer that
// pulls them with page size page.
func benchHubs(b *testing.B, n, page int) (*hub, func() *hub) {
	wa := newHub(b, "Washington")
	cisa, tokyo := wa.org("US CISA", "US"), wa.org("Tokyo Hub", "JP")
	const batch = 10000
	for i := 0; i < n; i += batch {
		objs := make([]map[string]any, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			objs = append(objs, indicator(j+1, cyberpact.TLPGreen))
		}
		wa.publish(cisa, cyberpact.Audience{Kind: cyberpact.AudienceAll}, objs...)
	}
	user, key := wa.syncUser("tokyo-sync", tokyo)
	return wa, func() *hub {
		to := newHub(b, "Tokyo")
		to.peer(&cyberpact.Peer{Name: "washington", URL: wa.root, Collection: collection("all"), User: user, Key: key,
			Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: to.org("Washington Hub", "US").ID, PageSize: page})
		return to
	}
}

// BenchmarkInitialPull pulls 100,000 objects from one hub into an empty
// one over loopback; each iteration starts with a new, empty hub.
func BenchmarkInitialPull(b *testing.B) {
	const n = 100000
	for _, page := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("page=%d", page), func(b *testing.B) {
			_, tokyo := benchHubs(b, n, page)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				to := tokyo()
				b.StartTimer()
				res := to.mustSync("washington")
				if res.Pulled != n {
					b.Fatalf("pulled %d, want %d", res.Pulled, n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
		})
	}
}

// BenchmarkPullNothingNew is a sync with a peer that has nothing new: one
// request.
func BenchmarkPullNothingNew(b *testing.B) {
	_, tokyo := benchHubs(b, 10000, 1000)
	to := tokyo()
	to.mustSync("washington")
	ctx := context.Background()
	p, _ := to.db.PeerByName(ctx, "washington")
	s := to.syncer()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.Sync(ctx, p)
		if err != nil || res.Requests != 1 || res.Pulled != 0 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
