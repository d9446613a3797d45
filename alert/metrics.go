package alert

import (
	"context"

	"github.com/cyberpact/cyberpact"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts notifications for /metrics, by channel and outcome, never
// by organisation.
type Metrics struct {
	Enqueued prometheus.Counter
	Done     *prometheus.CounterVec // channel, status (delivered, failed, withheld)
	Retries  *prometheus.CounterVec // channel
}

// NewMetrics registers the counters on r, and a gauge of the outbox by
// status read from store at each scrape.
func NewMetrics(r prometheus.Registerer, store cyberpact.AlertStore) *Metrics {
	m := &Metrics{
		Enqueued: prometheus.NewCounter(prometheus.CounterOpts{Name: "cyberpact_notifications_enqueued_total", Help: "Notifications written to the outbox."}),
		Done: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cyberpact_notifications_total",
			Help: "Notifications finished, by channel and status (delivered, failed after every retry, withheld because the subscriber may no longer see the object)."}, []string{"channel", "status"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cyberpact_notification_retries_total", Help: "Failed delivery attempts that will be retried, by channel."}, []string{"channel"}),
	}
	r.MustRegister(m.Enqueued, m.Done, m.Retries)
	if store != nil {
		r.MustRegister(&outboxCollector{store: store, desc: prometheus.NewDesc("cyberpact_notifications_outbox", "Notifications in the outbox, by status.", []string{"status"}, nil)})
	}
	return m
}

func (m *Metrics) enqueued(n int) {
	if m != nil {
		m.Enqueued.Add(float64(n))
	}
}

func (m *Metrics) done(c cyberpact.ChannelKind, s cyberpact.DeliveryStatus) {
	if m != nil {
		m.Done.WithLabelValues(string(c), string(s)).Inc()
	}
}

func (m *Metrics) retry(c cyberpact.ChannelKind) {
	if m != nil {
		m.Retries.WithLabelValues(string(c)).Inc()
	}
}

type outboxCollector struct {
	store cyberpact.AlertStore
	desc  *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	counts, err := c.store.DeliveryCounts(context.Background())
	if err != nil {
		return
	}
	for _, s := range []cyberpact.DeliveryStatus{cyberpact.DeliveryPending, cyberpact.DeliveryDelivered, cyberpact.DeliveryFailed, cyberpact.DeliveryWithheld} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
