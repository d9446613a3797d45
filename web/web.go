// Package web is the hub's web interface: pages rendered on the server
// from html/template, with the templates and static files embedded in the
// binary, for the partners' analysts, coordinators and security officers.
// Every core flow works without JavaScript. It reads through the same
// services and the same sharing rule as the API (package http), which
// `cyberpact serve` mounts it beside at /: every read passes the signed-in
// user's Viewer to the store, and every release is audited as the API's
// are, with "web" as the interface.
//
// Sign-in (signin.go) is by password (argon2id, password.go) with an
// optional or required TOTP second factor (totp.go), or through an OpenID
// Connect provider (oidc.go). Sessions are kept in the store
// (cyberpact.SessionStore) and re-read on every request, so that a
// disabled user, or an organisation that left a sharing group its
// session relied on, is signed out at its next request.
package web

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/cyberpact/cyberpact/internal/httpstatus"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the interface reads and writes: objects, accounts,
// sign-in credentials and sessions, and the audit log.
type Store interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
	cyberpact.SessionStore
	cyberpact.AuditLog
}

// API is what the interface shares with the API server (package http):
// the failed-login limit, so that neither is a way around the other, and
// the sealed paging cursors.
type API interface {
	LoginBlocked(r *http.Request, user string) time.Duration
	LoginFailed(r *http.Request, user string)
	SealCursor(p *cyberpact.Principal, seq int64) string
	OpenCursor(p *cyberpact.Principal, param, v string) (int64, error)
}

// Defaults of the session timeouts.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
	// seenEvery is how stale a session's recorded last request may get:
	// an active session is written at most once per this period.
	seenEvery = time.Minute
)

// Handler serves the web interface. Set its fields before the first
// request.
type Handler struct {
	Store  Store
	API    API
	Logger *slog.Logger

	// IdleTimeout ends a session this long after its last request, MaxAge
	// this long after sign-in, whatever its use; zero means the defaults.
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// RequireTOTP requires a second factor of every user of the hub;
	// organisations can require it of their own users (SetOrgRequiresTOTP).
	RequireTOTP bool
	// SecureCookies marks cookies Secure even on plain HTTP requests: for
	// a hub behind a proxy that ends TLS. Under TLS they always are.
	SecureCookies bool
	// Exercises, when set, runs joint exercises from the interface; New
	// sets it when api implements it (the API server does).
	Exercises Exercises
	// OIDC, when set, offers sign-in through an OpenID Connect provider.
	OIDC *OIDC
	// Crises runs crisis mode; New takes the API server's desk (see
	// CrisisDesk), or makes one over store when it keeps crises.
	Crises *alert.Desk

	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mux    *http.ServeMux
	routes []string
	pages  map[string]*template.Template
	chain  chainCheck // the audit chain's state, for the audit page
}

// New returns the interface over store, sharing api's login limit and
// cursors.
func New(store Store, api API, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	h := &Handler{Store: store, API: api, Logger: logger, mux: http.NewServeMux()}
	h.pages = parsePages()
	h.get("GET /{$}", signedIn, h.dashboard)
	h.mux.Handle("GET /static/", h.headers(http.FileServerFS(mustSub(staticFS, "."))))
	h.routes = append(h.routes, "GET /static/")
	h.registerSignIn()
	h.registerTOTP()
	h.registerOIDC()
	h.registerExplorer()
	h.registerAccount()
	h.registerOrg()
	h.registerContacts()
	h.registerPublish()
	h.registerExercises()
	h.registerLive()
	h.registerPartners()
	h.registerSources()
	h.registerCrises()
	h.registerIncidents()
	h.registerWarrants()
	h.registerAgreements()
	if x, ok := api.(Exercises); ok {
		h.Exercises = x
	}
	if cd, ok := api.(CrisisDesk); ok && cd.CrisisDesk() != nil {
		h.Crises = cd.CrisisDesk()
	} else {
		h.Crises = alert.NewDesk(store)
	}
	return h
}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}

// Routes returns the patterns of every route the interface serves.
func (h *Handler) Routes() []string { return append([]string(nil), h.routes...) }

// ServeHTTP serves the interface.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// access is who may use a route.
type access int

const (
	anyone   access = iota // signed in or not (the sign-in pages)
	pending                // a session that has yet to give its second factor
	enrol                  // a session that must enrol a second factor first
	signedIn               // a session past every step of signing in
)

// call is one request to a page: its session, when there is one.
type call struct {
	st    *cyberpact.SessionState // nil when signed out
	csrf  string                  // the token the page's forms carry
	flash string                  // a message for the top of the page
	ended string                  // why the request's session ended, a key of endedWhy
}

// principal returns the signed-in user, nil when there is none.
func (c *call) principal() *cyberpact.Principal {
	if c.st == nil {
		return nil
	}
	return &c.st.Principal
}

// viewer returns the signed-in user's sharing-rule viewer.
func (c *call) viewer() *cyberpact.Viewer {
	v := c.st.Principal.Viewer()
	return &v
}

type pageFunc func(w http.ResponseWriter, r *http.Request, c *call) error

// get registers a route that only reads: GET and HEAD.
func (h *Handler) get(pattern string, a access, fn pageFunc) { h.handle(pattern, a, fn) }

// post registers a route that changes something: its form must carry the
// session's CSRF token (or, before sign-in, the sign-in form's).
func (h *Handler) post(pattern string, a access, fn pageFunc) { h.handle(pattern, a, fn) }

func (h *Handler) handle(pattern string, a access, fn pageFunc) {
	h.routes = append(h.routes, pattern)
	h.mux.Handle(pattern, h.headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := h.session(w, r)
		if err == nil {
			err = h.serve(w, r, c, a, fn)
		}
		if err != nil {
			h.fail(w, r, c, err)
		}
	})))
}

// serve runs fn for r once its session allows it.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, c *call, a access, fn pageFunc) error {
	if r.Method == http.MethodPost {
		if err := h.checkCSRF(r, c); err != nil {
			return err
		}
	}
	switch {
	case a == anyone:
	case c.st == nil:
		if r.Method != http.MethodGet {
			return errSignedOut
		}
		to := "/login?next=" + urlQueryEscape(r.URL.RequestURI())
		if c.ended != "" {
			to += "&ended=" + c.ended
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	case !c.st.Session.Verified:
		if a != pending {
			http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
			return nil
		}
	case h.mustEnrol(c.st):
		if a != enrol && a != pending {
			http.Redirect(w, r, "/account/totp", http.StatusSeeOther)
			return nil
		}
	}
	return fn(w, r, c)
}

// mustEnrol reports whether the session's user must enrol a second
// factor before anything else.
func (h *Handler) mustEnrol(st *cyberpact.SessionState) bool {
	return !st.TOTP && (h.RequireTOTP || st.OrgRequiresTOTP)
}

// errSignedOut answers a form sent without a session.
var errSignedOut = cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "you are not signed in, or your session has ended: sign in again")

// headers adds the security headers to every answer of the interface:
// a Content-Security-Policy that allows only the hub's own styles, scripts
// and forms and no framing; the same refusal of framing for older
// browsers; no MIME sniffing; no Referer to other sites (object ids stay
// on the hub when a user follows an external reference).
func (h *Handler) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// tooMany is a refused sign-in: 429 with Retry-After.
type tooMany struct{ wait time.Duration }

func (e *tooMany) Error() string {
	return "too many failed sign-ins from your address: try again in " + strconv.Itoa(int((e.wait+time.Second-1)/time.Second)) + " seconds"
}

// fail answers err as an error page: its status and caller-safe message;
// internal details go to the log only.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	status, msg := httpstatus.Of(cyberpact.ErrorCode(err)), cyberpact.ErrorMessage(err)
	var tm *tooMany
	switch {
	case errors.As(err, &tm):
		status, msg = http.StatusTooManyRequests, tm.Error()
		w.Header().Set("Retry-After", strconv.Itoa(int((tm.wait+time.Second-1)/time.Second)))
	case status == http.StatusInternalServerError:
		h.Logger.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if c == nil {
		c = &call{}
	}
	h.render(w, r, status, "error", c, errorPage{Status: status, StatusText: http.StatusText(status), Message: msg})
}

type errorPage struct {
	Status     int
	StatusText string
	Message    string
}

// view is what every page's template gets.
type view struct {
	Title string
	User  *cyberpact.Principal // nil when signed out
	CSRF  string
	Flash string
	Page  any
	// Crises are the open crises the user's organisation has yet to
	// acknowledge, for the banner.
	Crises []crisisBanner
}

type releaseView struct {
	P    string
	Page publishPage
}

// tlpClass is the style class of a TLP label.
func tlpClass(t cyberpact.TLP) string {
	if t == cyberpact.TLPUnknown {
		return "tlp-none"
	}
	return "tlp-" + strings.ReplaceAll(t.String(), "+", "-")
}

func upper(s string) string { return strings.ToUpper(s) }

// parsePages parses each page template with the layout.
func parsePages() map[string]*template.Template {
	funcs := template.FuncMap{
		// release gives a publishing form's audience and TLP pickers their
		// own element ids (prefix) on a page with several forms.
		"release":  func(prefix string, p publishPage) releaseView { return releaseView{P: prefix, Page: p} },
		"tlpClass": tlpClass,
		"upper":    upper,
		"tlpName": func(t cyberpact.TLP) string {
			if t == cyberpact.TLPUnknown {
				return "no TLP"
			}
			return "TLP:" + strings.ToUpper(t.String())
		},
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n))
	}
	return pages
}

// render writes page name with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, c *call, page any) {
	t := h.pages[name]
	v := view{Title: titles[name], User: c.principal(), CSRF: c.csrf, Flash: c.flash, Page: page}
	if c.st != nil && !c.st.Session.Verified {
		v.User = nil // not signed in until the second factor is given
	}
	if v.User != nil && name != "error" {
		v.Crises = h.banners(r.Context(), v.User)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		h.Logger.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fragment writes one template of page name alone, for a page's script
// to put in place of its own copy.
func (h *Handler) fragment(w http.ResponseWriter, name, tmpl string, data any) {
	var buf bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&buf, tmpl, data); err != nil {
		h.Logger.Error("rendering fragment", "page", name, "template", tmpl, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// titles are the pages' titles.
var titles = map[string]string{
	"dashboard":  "Dashboard",
	"login":      "Sign in",
	"totp":       "Second factor",
	"enrol":      "Set up a second factor",
	"search":     "Explorer",
	"object":     "Object",
	"account":    "Your account",
	"org":        "Organisation",
	"publish":    "Publish",
	"error":      "Error",
	"exercises":  "Exercises",
	"exercise":   "Exercise",
	"peers":      "Peers",
	"sources":    "Feeds",
	"audit":      "Audit log",
	"agreements": "Sharing agreements",
	"incidents":  "Incidents",
	"incident":   "Incident",
	"warrants":   "Warrants",
	"crises":     "Crises",
	"crisis":     "Crisis",
	"crisisack":  "Acknowledge a crisis",
}
