package http

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Callers authenticate with an API key, either as
//
//	Authorization: Bearer KEY
//
// or, as TAXII clients do, with HTTP Basic: the user's name and the key as
// password; or, as MISP sends the key of a feed or server, bare:
//
//	Authorization: cpk_... Failed logins are counted per user name (case-folded, as
// logins ignore case) from one client address, and per client address
// (loginLimiter); past either limit the answer is 429 with Retry-After
// until the window ends, before the key is even looked at. Failures from
// one address never lock the same name out at another.

type principalKey struct{}

// principalOf returns the authenticated caller of r, nil for an anonymous
// one (only the public TAXII collection serves those).
func principalOf(r *http.Request) *cyberpact.Principal {
	p, _ := r.Context().Value(principalKey{}).(*cyberpact.Principal)
	return p
}

// rateLimited is the error of a refused login attempt; writeError answers
// it with 429 and Retry-After.
type rateLimited struct {
	retryAfter time.Duration
}

func (e *rateLimited) Error() string {
	return fmt.Sprintf("too many failed logins: try again in %d seconds", retrySeconds(e.retryAfter))
}

func retrySeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}

// credentials reads the Authorization header: ok is false when there is
// none; user is "" for a bearer key.
func credentials(r *http.Request) (user, key string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", false, nil
	}
	if k := strings.TrimSpace(h); strings.HasPrefix(k, cyberpact.APIKeyPrefix) && !strings.ContainsAny(k, " \t") {
		return "", k, true, nil // MISP's form: the key alone
	}
	scheme, rest, _ := strings.Cut(h, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		if rest == "" {
			return "", "", true, cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "the bearer key is empty")
		}
		return "", rest, true, nil
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", "", true, cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "the Basic credentials are not base64")
		}
		u, k, found := strings.Cut(string(raw), ":")
		if !found || u == "" || k == "" {
			return "", "", true, cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "the Basic credentials need a user name and a key as password")
		}
		return u, k, true, nil
	}
	return "", "", true, cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "authorization scheme %q is not supported: use Bearer, Basic or the key alone", scheme)
}

// clientAddr is the address failed logins are counted against: the peer's
// IP. Behind a proxy every client has the proxy's address, and a client
// failing there holds back the others behind it for a window.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authenticate returns the caller of r: nil and no error when r carries no
// credentials; EUNAUTHORIZED for bad ones; a *rateLimited when the address,
// or the name from that address, has failed too often.
func (s *Server) authenticate(r *http.Request) (*cyberpact.Principal, error) {
	user, key, ok, err := credentials(r)
	if !ok {
		return nil, nil
	}
	if wait := s.LoginBlocked(r, user); wait > 0 {
		return nil, &rateLimited{retryAfter: wait}
	}
	var p *cyberpact.Principal
	if err == nil {
		if s.Accounts == nil {
			err = cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "this hub has no accounts configured")
		} else {
			p, err = s.Accounts.Authenticate(r.Context(), user, key)
		}
	}
	if err != nil {
		if code := cyberpact.ErrorCode(err); code != cyberpact.EUNAUTHORIZED {
			return nil, err // the account store failed: not the caller's fault
		}
		s.LoginFailed(r, user)
		return nil, err
	}
	return p, nil
}

// authed wraps h so that it runs only for an authenticated caller, with
// the principal in the request's context.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if p == nil {
			return cyberpact.Errorf(cyberpact.EUNAUTHORIZED, "authentication required: send an API key as \"Authorization: Bearer KEY\" or as HTTP Basic with your user name")
		}
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// maybeAuthed is authed for routes that also serve anonymous callers (the
// public TAXII collection): no credentials run h without a principal, bad
// ones are still refused.
func (s *Server) maybeAuthed(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		if p != nil {
			r = r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
		}
		return h(w, r)
	}
}

// loginKeys are the limiter's keys of a login as user ("" for a bearer
// key) from r's client address.
func loginKeys(r *http.Request, user string) (addrKey, userKey string) {
	addr := clientAddr(r)
	return "addr:" + addr, "user:" + strings.ToLower(user) + "\x00" + addr
}

// LoginBlocked returns how long a login as user ("" when the login names
// none) from r's client address must wait, 0 when it may be tried now.
// The API's logins and the web interface's sign-ins share the limit, so
// that neither is a way around the other; failures from one address never
// hold back the same name from another.
func (s *Server) LoginBlocked(r *http.Request, user string) time.Duration {
	l := s.limiter()
	addrKey, userKey := loginKeys(r, user)
	wait := l.blocked(addrKey, addressFactor*l.limit)
	if user != "" {
		wait = max(wait, l.blocked(userKey, l.limit))
	}
	return wait
}

// LoginFailed records a failed login as user ("" when it named none)
// from r's client address.
func (s *Server) LoginFailed(r *http.Request, user string) {
	l := s.limiter()
	addrKey, userKey := loginKeys(r, user)
	l.fail(addrKey)
	if user != "" {
		l.fail(userKey)
	}
}
