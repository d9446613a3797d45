// Package http is the hub's network face: the JSON REST API under /api/v1,
// the TAXII 2.1 server under /taxii2/, the live stream, health and
// Prometheus metrics (for hub admins, or on a listener of their own). One
// file per resource; errors are mapped to statuses in one place
// (error.go). Every route that returns objects authenticates its caller
// (auth.go) and reads through the sharing rule, cyberpact.MaySee, by
// passing the caller's Viewer to the store.
package http

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/cyberpact/cyberpact/exercise"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves the hub over HTTP.
type Server struct {
	Store  cyberpact.ObjectStore
	Logger *slog.Logger

	// Accounts authenticates callers; without it every authenticated
	// route answers 401. Audit records releases and writes; without it
	// those requests fail (nothing is released unrecorded). Statuses keeps
	// TAXII POST statuses. NewServer fills in each from the store when the
	// store implements it.
	Accounts cyberpact.AccountService
	Audit    cyberpact.AuditLog
	Statuses cyberpact.StatusStore
	// Exercise runs joint exercises (exercise.go); NewServer sets it up
	// when the store keeps exercises. Without it there are none.
	Exercise *exercise.Hub
	// Crises runs crisis mode (crisis.go); NewServer sets it up when the
	// store keeps crises.
	Crises *alert.Desk

	// MaxBodyBytes caps a request body; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// TAXIIMaxBodyBytes caps a TAXII request body (the API root's
	// max_content_length); zero means MaxBodyBytes.
	TAXIIMaxBodyBytes int64

	// Public enables the public TAXII collection: TLP:CLEAR objects,
	// readable without credentials.
	Public bool
	// TAXIITitle is the title of the TAXII discovery and API root
	// resources; empty means "cyberpact".
	TAXIITitle string

	// LoginFailures failed logins per LoginWindow under one user name
	// (in any case) from one client address, and three times as many
	// from one address in all, are allowed before 429; zero means
	// DefaultLoginFailures and DefaultLoginWindow. Set them before the
	// first request.
	LoginFailures int
	LoginWindow   time.Duration

	// CursorSecret is the secret paging cursors and stream event ids are
	// sealed under (cursor.go): every process serving one store needs
	// the same one, kept across restarts, for cursors and Last-Event-ID
	// to work across them. Empty means a random one made at the first
	// request, good for this process's lifetime only. Set it before the
	// first request.
	CursorSecret []byte

	// KAnonymity is the k of counted sightings: a sector's count shows
	// from k reporting organisations on; zero means
	// cyberpact.DefaultKAnonymity.
	KAnonymity int

	mux     *http.ServeMux
	matches *matchHub // the per-organisation match indexes (match.go)
	routes  []string  // registered patterns, for tests that walk every route
	metrics *metrics
	logins  *loginLimiter
	once    sync.Once
	srv     *http.Server
	ln      net.Listener
	mln     net.Listener // the metrics listener, when ListenMetrics ran

	cursorOnce sync.Once
	codec      *cursorCodec

	mispFeeds feedCache // the MISP feeds last read, per viewer (mispfeed.go)

	aheadOnce sync.Once
	ahead     *readAhead // TAXII pages read ahead (readahead.go); nil when the store cannot prove a read unchanged
}

// readAhead returns the TAXII read-ahead over the store, made at the first
// use; nil (which reads nothing ahead) when the store cannot prove a read
// unchanged or the server has shut down.
func (s *Server) readAhead() *readAhead {
	s.aheadOnce.Do(func() {
		s.ahead = newReadAhead(s.Store, func(outcome string) { s.metrics.readAhead.WithLabelValues(outcome).Inc() })
	})
	return s.ahead
}

// DefaultMaxBodyBytes is the request body limit when none is configured.
const DefaultMaxBodyBytes = 256 << 20

// NewServer returns a server over store with its routes registered.
func NewServer(store cyberpact.ObjectStore, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{Store: store, Logger: logger, mux: http.NewServeMux()}
	s.Accounts, _ = store.(cyberpact.AccountService)
	s.Audit, _ = store.(cyberpact.AuditLog)
	s.Statuses, _ = store.(cyberpact.StatusStore)
	if xs, ok := store.(cyberpact.ExerciseStore); ok {
		s.Exercise = &exercise.Hub{Exercises: xs, Objects: store}
	}
	s.Crises = alert.NewDesk(store)
	s.metrics = newMetrics()
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /metrics", s.authed(s.serveMetrics))
	s.registerObjects()
	s.registerStream()
	s.registerTAXII()
	s.registerMatch()
	s.registerCorrelate()
	s.registerExercises()
	s.registerFeeds()
	s.registerMISPFeed()
	s.registerSources()
	s.registerAgreements()
	s.registerSubscriptions()
	s.registerCrises()
	s.registerIncidents()
	s.registerPrivacy()
	s.registerLifecycle()
	return s
}

// Routes returns the patterns of every registered route.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// handle registers h for pattern with logging, metrics and panic recovery.
func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.wrap(pattern, h))
}

// Mount serves h for each of patterns beside the API's routes, with the
// same body limit, panic recovery, log line and metrics: for the web
// interface, which `cyberpact serve` mounts at /. A pattern that
// conflicts with a route of the API panics, as http.ServeMux does.
func (s *Server) Mount(h http.Handler, patterns ...string) {
	for _, p := range patterns {
		s.mux.Handle(p, s.wrap(p, func(w http.ResponseWriter, r *http.Request) error {
			h.ServeHTTP(w, r)
			return nil
		}))
	}
}

// ServeHTTP lets the Server be used as an http.Handler, e.g. in tests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.limiter()
	s.mux.ServeHTTP(w, r)
}

// limiter returns the failed-login limiter, made at the first use.
func (s *Server) limiter() *loginLimiter {
	s.once.Do(func() { s.logins = newLoginLimiter(s.LoginFailures, s.LoginWindow) })
	return s.logins
}

// bodyLimit returns the body size limit for r.
func (s *Server) bodyLimit(r *http.Request) int64 {
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if isTAXII(r) && s.TAXIIMaxBodyBytes > 0 {
		limit = s.TAXIIMaxBodyBytes
	}
	return limit
}

// Listen binds addr (":0" picks a free port).
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// UseListeners makes Serve serve the hub on ln and, when mln is not nil,
// /metrics alone on mln, in place of Listen and ListenMetrics: for a
// caller that binds its addresses before it has a store to serve.
func (s *Server) UseListeners(ln, mln net.Listener) { s.ln, s.mln = ln, mln }

// Addr returns the bound address, once Listen has run.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// ListenMetrics binds addr for a listener of its own that serves GET
// /metrics, and nothing else, without credentials: for a Prometheus
// scraper on a private network. Serve serves it beside the hub. Without
// it /metrics is served only on the hub's address, to hub admins.
func (s *Server) ListenMetrics(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.mln = ln
	return nil
}

// MetricsAddr returns the bound address of the metrics listener, "" when
// ListenMetrics has not run.
func (s *Server) MetricsAddr() string {
	if s.mln == nil {
		return ""
	}
	return s.mln.Addr().String()
}

// Serve serves until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to 30 s) and returns.
func (s *Server) Serve(ctx context.Context) error {
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
	}
	servers := []*http.Server{s.srv}
	listeners := []net.Listener{s.ln}
	if s.mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metricsHandler())
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: s.srv.ErrorLog})
		listeners = append(listeners, s.mln)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	running := len(servers)
	var failed error
	select {
	case failed = <-errc: // one stopped by itself: stop the others too
		running--
	case <-ctx.Done():
		s.Logger.Info("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(sctx); err != nil && failed == nil {
			failed = err
		}
	}
	for ; running > 0; running-- {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) && failed == nil {
			failed = err
		}
	}
	// No read ahead outlives the server: its store may be closed next.
	s.aheadOnce.Do(func() {})
	s.ahead.close()
	return failed
}

// healthz answers a liveness probe after one cheap read of the store (the
// first row of the objects): never a count, which after a delete counts
// the whole store again and would outlast a probe's timeout at ten million
// objects, so that an orchestrator restarted a healthy hub again and again.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Store.FindObjects(r.Context(), cyberpact.ObjectFilter{Limit: 1}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// serveMetrics answers GET /metrics on the hub's address: hub admins only,
// since the counts, although of the whole hub and never per organisation,
// follow every organisation's activity.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if p := principalOf(r); p.User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "metrics are for hub admins: use an admin's key, or scrape the listener of serve --metrics-addr")
	}
	s.metricsHandler().ServeHTTP(w, r)
	return nil
}

// metricsHandler serves the Prometheus metrics. They count the whole hub:
// no label names an organisation, a user or an object.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

// metrics holds the server's Prometheus collectors.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	imported *prometheus.CounterVec
	// readAhead counts the TAXII pages read ahead by what became of them
	// (readahead.go): served, changed (the store changed since: read
	// again), dropped (a failed read, or over the memory bound), evicted
	// (making room for another), expired.
	readAhead *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{registry: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cyberpact_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "cyberpact_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"route"})
	m.imported = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cyberpact_objects_imported_total", Help: "Object versions received, by outcome (added, present, rejected).",
	}, []string{"outcome"})
	m.readAhead = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cyberpact_taxii_read_ahead_total", Help: "TAXII pages read ahead of a client's request, by what became of them (served, changed, dropped, evicted, expired).",
	}, []string{"outcome"})
	m.registry.MustRegister(m.requests, m.duration, m.imported, m.readAhead,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registerer is the registry /metrics serves, for the hub's other parts
// (the alert dispatcher) to count on.
func (s *Server) Registerer() prometheus.Registerer { return s.metrics.registry }
