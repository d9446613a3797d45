package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/httpstatus"
)

// errorBody is the JSON of an error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// taxiiError is a TAXII 2.1 error message (section 3.6.1).
type taxiiError struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	ErrorCode   string `json:"error_code,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

// writeError answers with err's status and caller-safe message, as a
// TAXII error message under /taxii2/ and as errorBody elsewhere; internal
// details go to the log only. A 401 names the schemes that authenticate;
// a refused login (rateLimited) is 429 with Retry-After.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = cyberpact.Errorf(cyberpact.ETOOLARGE, "the request body is larger than the limit of %d bytes", mbe.Limit)
	}
	code := cyberpact.ErrorCode(err)
	status := httpstatus.Of(code)
	msg := cyberpact.ErrorMessage(err)
	var rl *rateLimited
	var media *statusError
	switch {
	case errors.As(err, &rl):
		code, status, msg = "too_many_requests", http.StatusTooManyRequests, rl.Error()
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(rl.retryAfter)))
	case errors.As(err, &media):
		code, status, msg = media.code, media.status, media.msg
	case code == cyberpact.EBUSY:
		w.Header().Set("Retry-After", "5")
	case code == cyberpact.EINTERNAL:
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case code == cyberpact.EFULL:
		s.Logger.Error("request failed: the disk is full", "method", r.Method, "path", r.URL.Path, "err", err)
	case code == cyberpact.EUNAUTHORIZED:
		w.Header().Add("WWW-Authenticate", `Bearer realm="cyberpact"`)
		w.Header().Add("WWW-Authenticate", `Basic realm="cyberpact", charset="UTF-8"`)
	}
	if isTAXII(r) {
		writeTAXII(w, status, taxiiError{Title: http.StatusText(status), Description: msg, ErrorCode: code, HTTPStatus: strconv.Itoa(status)})
		return
	}
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

// noRoute answers the paths under prefix (registered as a catch-all) that
// no route serves, in the error format of the interface (writeError: TAXII
// under /taxii2/, the API's JSON elsewhere): 405 with Allow for a path
// some route serves with other methods, 404 naming what (a "TAXII
// resource", an "API route") is not there otherwise. The answer depends on
// the routes alone, never on what is stored, and needs no credentials.
func (s *Server) noRoute(prefix, what string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != prefix {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &statusError{status: http.StatusMethodNotAllowed, code: "method_not_allowed",
				msg: r.Method + " is not allowed here: use " + strings.Join(allow, " or ")}
		}
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no %s at %s", what, r.URL.Path)
	}
}

// statusError is an answer whose status has no domain error code: a
// refused Accept (406), Content-Type (415) or method (405).
type statusError struct {
	status int
	code   string
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap adds to h: the body size limit, error mapping, panic recovery (a
// 500, never a dropped connection), a log line and metrics.
func (s *Server) wrap(route string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r.Body = http.MaxBytesReader(sw, r.Body, s.bodyLimit(r))
		func() {
			defer func() {
				if p := recover(); p != nil {
					s.Logger.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					if sw.status == 0 {
						s.writeError(sw, r, fmt.Errorf("panic: %v", p))
					}
				}
			}()
			if err := h(sw, r); err != nil {
				if sw.status != 0 {
					// The response has begun: all we can do is log.
					s.Logger.Warn("error after response began", "path", r.URL.Path, "err", err)
					return
				}
				s.writeError(sw, r, err)
			}
		}()
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
		s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("duration", d))
	})
}

// decodeBody reads r's small JSON body into v, refusing unknown fields;
// want describes the body expected, for the error. A body over the
// server's limit keeps its *http.MaxBytesError (413).
func decodeBody(r *http.Request, v any, want string) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return cyberpact.Errorf(cyberpact.EINVALID, "request body: %v (want %s)", err, want)
	}
	return nil
}
