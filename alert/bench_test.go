package alert_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
)

// BenchmarkOutboxTo1000Webhooks imports objects into a hub (SQLite, and
// PostgreSQL when CYBERPACT_TEST_POSTGRES is set) with
// 1,000 webhook subscriptions (one loopback receiver, a path each, that
// checks every signature) and delivers every notification through the
// outbox. It reports, per run: the import's time (the same-run
// baseline), the scan that writes the outbox, the delivery, notifications
// per second through the outbox, and the time from the start of the import
// to the last webhook delivered.
func BenchmarkOutboxTo1000Webhooks(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchOutbox(b, "sqlite") })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("CYBERPACT_TEST_POSTGRES") == "" {
			b.Skip("CYBERPACT_TEST_POSTGRES is not set")
		}
		benchOutbox(b, "postgres")
	})
}

func benchOutbox(b *testing.B, engine string) {
	const subs, objs = 1000, 20
	for b.Loop() {
		b.StopTimer()
		t := b
		h := newHub(t, engine)
		var got, bad atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := make([]byte, r.ContentLength)
			if _, err := r.Body.Read(body); err != nil && int64(len(body)) != r.ContentLength {
				bad.Add(1)
			}
			if !alert.Verify(secret, r.Header.Get(alert.TimestampHeader), r.Header.Get(alert.SignatureHeader), body) {
				bad.Add(1)
			}
			got.Add(1)
		}))
		for i := range subs {
			h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook,
				Target: fmt.Sprintf("%s/hook/%d", srv.URL, i), Secret: secret})
		}
		var list []string
		for i := range objs {
			list = append(list, indicator(1000+i, fmt.Sprintf("192.0.2.%d", i), tlpGreen))
		}
		b.StartTimer()
		start := time.Now()
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, list...)
		imported := time.Since(start)
		d := &alert.Dispatcher{Store: h.db, Webhook: &alert.Webhook{Allow: loopback}, Workers: 32}
		ctx := context.Background()
		s0 := time.Now()
		n, err := d.Scan(ctx)
		if err != nil || n != subs*objs {
			b.Fatalf("scan: %d, %v", n, err)
		}
		scanned := time.Since(s0)
		d0 := time.Now()
		if _, err := d.Deliver(ctx); err != nil {
			b.Fatal(err)
		}
		delivered := time.Since(d0)
		total := time.Since(start)
		b.StopTimer()
		if got.Load() != subs*objs || bad.Load() != 0 {
			b.Fatalf("receiver got %d (bad %d), want %d", got.Load(), bad.Load(), subs*objs)
		}
		b.ReportMetric(imported.Seconds()*1000, "import-ms")
		b.ReportMetric(scanned.Seconds()*1000, "enqueue-ms")
		b.ReportMetric(delivered.Seconds()*1000, "deliver-ms")
		b.ReportMetric(float64(subs*objs)/(scanned+delivered).Seconds(), "notifications/s")
		b.ReportMetric(total.Seconds()*1000, "import-to-last-webhook-ms")
		srv.Close()
		h.db.Close()
		b.StartTimer()
	}
}
