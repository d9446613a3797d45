package http

import (
	"sync"
	"time"
)

// Defaults of the failed-login limit.
const (
	DefaultLoginFailures = 10          // failed logins allowed per window, per user name from one client address
	DefaultLoginWindow   = time.Minute // the window
	maxLimiterKeys       = 100_000     // tracked keys before expired ones are dropped
)

// addressFactor is how many times LoginFailures one client address may
// fail in a window, over all the names it tries and its bearer keys: an
// address may mistype a few names, not try many.
const addressFactor = 3

// loginLimiter counts failed logins per key in fixed windows. The keys
// (see Server.authenticate) are a user name, case-folded, together with
// the client address, and the client address alone: failures from one
// address never count against the same name from another, so nobody can
// lock a user out from elsewhere. A key that reaches its limit is refused
// until its window ends, whether or not the next attempt would succeed:
// that is what makes guessing keys slow.
type loginLimiter struct {
	mu     sync.Mutex
	limit  int // per name and address; an address alone gets addressFactor times as many
	window time.Duration
	now    func() time.Time
	keys   map[string]*failures
}

type failures struct {
	start time.Time // beginning of the current window
	n     int
}

func newLoginLimiter(limit int, window time.Duration) *loginLimiter {
	if limit <= 0 {
		limit = DefaultLoginFailures
	}
	if window <= 0 {
		window = DefaultLoginWindow
	}
	return &loginLimiter{limit: limit, window: window, now: time.Now, keys: map[string]*failures{}}
}

// blocked returns how long key must wait, 0 when it may try now; limit
// is the number of failures the key may have in a window.
func (l *loginLimiter) blocked(key string, limit int) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.keys[key]
	if !ok {
		return 0
	}
	now := l.now()
	end := f.start.Add(l.window)
	if !now.Before(end) {
		delete(l.keys, key)
		return 0
	}
	if f.n < limit {
		return 0
	}
	return end.Sub(now)
}

// fail records a failed login of key.
func (l *loginLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f, ok := l.keys[key]
	if !ok || !now.Before(f.start.Add(l.window)) {
		if len(l.keys) >= maxLimiterKeys {
			l.sweep(now)
		}
		f = &failures{start: now}
		l.keys[key] = f
	}
	f.n++
}

// sweep drops the keys whose window has ended; when every key is current
// (a flood from many addresses) it drops them all rather than grow without
// bound.
func (l *loginLimiter) sweep(now time.Time) {
	for k, f := range l.keys {
		if !now.Before(f.start.Add(l.window)) {
			delete(l.keys, k)
		}
	}
	if len(l.keys) >= maxLimiterKeys {
		clear(l.keys)
	}
}
