package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// A session is a random 32-byte token in the session cookie, HttpOnly and
// SameSite=Lax, Secure under TLS; the store keeps only its SHA-256. Every
// sign-in makes a new token and ends the session the browser had, so that
// a token planted in a browser before sign-in (session fixation) never
// becomes a signed-in one. Each request re-reads the session with its
// user as the store has it now, and ends it when the user was disabled,
// when the organisation left a sharing group it had at sign-in, after
// IdleTimeout without a request or MaxAge after sign-in.
//
// Every form carries a CSRF token, checked on every POST: the session's
// own (random, kept with the session), or before sign-in the value of a
// random cookie of its own, sent back in the form (double submit).

const (
	sessionCookie = "cyberpact_session"
	preCookie     = "cyberpact_csrf" // the sign-in form's CSRF token, before there is a session
)

// newToken returns 32 random bytes, base64url.
func newToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// cookie returns a cookie of the interface: HttpOnly, SameSite=Lax,
// Secure under TLS (or when SecureCookies says a proxy ends TLS).
func (h *Handler) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || h.SecureCookies}
}

func (h *Handler) idle() (idle, maxAge int64) {
	i, m := h.IdleTimeout, h.MaxAge
	if i <= 0 {
		i = DefaultIdleTimeout
	}
	if m <= 0 {
		m = DefaultMaxAge
	}
	return int64(i), int64(m)
}

// session reads r's session. Without a live one the call has none, the
// cookie of an ended one is cleared, and the sign-in form's CSRF cookie is
// set when absent.
func (h *Handler) session(w http.ResponseWriter, r *http.Request) (*call, error) {
	c := &call{}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		st, why, err := h.liveSession(r, ck.Value, true)
		if err != nil {
			return c, err
		}
		if st != nil {
			c.st, c.csrf = st, st.Session.CSRF
			return c, nil
		}
		http.SetCookie(w, h.cookie(r, sessionCookie, "", -1))
		c.ended = why
	}
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) == 43 {
		c.csrf = ck.Value
	} else {
		c.csrf = newToken()
		http.SetCookie(w, h.cookie(r, preCookie, c.csrf, 0))
	}
	return c, nil
}

// Why a session ended, as the sign-in page's ended parameter says it.
var endedWhy = map[string]string{
	"disabled": "Your account was disabled.",
	"max-age":  "Your session reached its time limit: sign in again.",
	"idle":     "Your session ended after a time without use: sign in again.",
	"groups":   "Your organisation's sharing groups changed: sign in again.",
}

// liveSession returns the session of token when it is live; otherwise nil
// and why it ended (a key of endedWhy; "" when there was none), having
// deleted it. touch records the request as the session's use (a live
// stream's re-checks do not: an open page is not activity).
func (h *Handler) liveSession(r *http.Request, token string, touch bool) (*cyberpact.SessionState, string, error) {
	ctx := r.Context()
	hash := tokenHash(token)
	st, err := h.Store.Session(ctx, hash)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	now := h.now()
	idle, maxAge := h.idle()
	why := ""
	switch {
	case st.Disabled:
		why = "disabled"
	case now.Sub(st.Session.Created).Nanoseconds() >= maxAge:
		why = "max-age"
	case now.Sub(st.Session.Seen).Nanoseconds() >= idle:
		why = "idle"
	default:
		for _, g := range st.Session.Groups {
			if !slices.Contains(st.Principal.Groups, g) {
				why = "groups"
				break
			}
		}
	}
	if why != "" {
		if err := h.Store.DeleteSession(ctx, hash); err != nil {
			return nil, "", err
		}
		return nil, why, nil
	}
	if touch && now.Sub(st.Session.Seen) >= seenEvery {
		if err := h.Store.TouchSession(ctx, hash, now, false); err != nil {
			return nil, "", err
		}
	}
	return st, "", nil
}

// startSession signs the browser of r in as p: a new token, whatever
// session the browser had before ended. verified says the second factor
// is given or not needed.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, c *call, p *cyberpact.Principal, verified bool) error {
	ctx := r.Context()
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := h.Store.DeleteSession(ctx, tokenHash(ck.Value)); err != nil {
			return err
		}
	}
	token := newToken()
	now := h.now()
	s := &cyberpact.Session{Hash: tokenHash(token), User: p.User.ID, Created: now, Seen: now,
		Groups: p.Groups, CSRF: newToken(), Verified: verified}
	if err := h.Store.CreateSession(ctx, s); err != nil {
		return err
	}
	http.SetCookie(w, h.cookie(r, sessionCookie, token, 0))
	c.st = &cyberpact.SessionState{Session: *s, Principal: *p}
	c.csrf = s.CSRF
	return nil
}

// endSession signs the browser of r out.
func (h *Handler) endSession(w http.ResponseWriter, r *http.Request) error {
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := h.Store.DeleteSession(r.Context(), tokenHash(ck.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, h.cookie(r, sessionCookie, "", -1))
	return nil
}

// errCSRF refuses a form without the right token.
var errCSRF = cyberpact.Errorf(cyberpact.EFORBIDDEN, "this form has expired or did not come from this site: go back, reload the page and send it again")

// checkCSRF refuses a POST whose form does not carry the call's token.
func (h *Handler) checkCSRF(r *http.Request, c *call) error {
	got := r.PostFormValue("csrf")
	if c.csrf == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.csrf)) != 1 {
		return errCSRF
	}
	return nil
}

// localPath returns next when it is a path on this site, "/" otherwise:
// the only places a sign-in sends the browser on to (no open redirect).
func localPath(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
