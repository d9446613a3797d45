// Package http is the hub's network face: the JSON REST API under /api/v1,
// the TAXII 2.1 server under /taxii2/, health and Prometheus metrics, with
// the web UI and the live stream to follow. One file per resource; errors
// are mapped to statuses in one place (error.go). Every route that returns
// objects authenticates its caller (auth.go) and reads through the sharing
// rule, cyberpact.MaySee, by passing the caller's Viewer to the store.
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

	// LoginFailures failed logins per LoginWindow, per client address
	// and per user name, are allowed before 429; zero means
	// DefaultLoginFailures and DefaultLoginWindow. Set them before the
	// first request.
	LoginFailures int
	LoginWindow   time.Duration

	mux     *http.ServeMux
	matches *matchHub // the per-organisation match indexes (match.go)
	routes  []string  // registered patterns, for tests that walk every route
	metrics *metrics
	logins  *loginLimiter
	once    sync.Once
	srv     *http.Server
	ln      net.Listener
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
	s.metrics = newMetrics()
	s.handle("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	s.routes = append(s.routes, "GET /metrics")
	s.registerObjects()
	s.registerStream()
	s.registerTAXII()
	s.registerMatch()
	s.registerCorrelate()
	s.registerExercises()
	s.registerFeeds()
	return s
}

// Routes returns the patterns of every registered route.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// handle registers h for pattern with logging, metrics and panic recovery.
func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.routes = append(s.routes, pattern)
	s.mux.Handle(pattern, s.wrap(pattern, h))
}

// ServeHTTP lets the Server be used as an http.Handler, e.g. in tests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() { s.logins = newLoginLimiter(s.LoginFailures, s.LoginWindow) })
	s.mux.ServeHTTP(w, r)
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

// Addr returns the bound address, once Listen has run.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
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
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Store.Stats(r.Context(), nil); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// metrics holds the server's Prometheus collectors.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	imported *prometheus.CounterVec
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
	m.registry.MustRegister(m.requests, m.duration, m.imported,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
