package alert

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Message is one notification as every channel carries it: the event, the
// subscription, the idempotency key and the object version (as the
// subscriber may see it).
type Message struct {
	Event        cyberpact.EventKind `json:"event"`
	Subscription int64               `json:"subscription"`
	Key          string              `json:"idempotency_key"`
	ObjectID     string              `json:"object_id"`
	Type         string              `json:"type"`
	Object       json.RawMessage     `json:"object"`
}

// The headers of a webhook delivery. The signature is
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), where
// timestamp is the TimestampHeader's value (unix seconds): a receiver
// checks it, and refuses a timestamp too old, to refuse a replay.
const (
	SignatureHeader   = "X-Cyberpact-Signature"
	TimestampHeader   = "X-Cyberpact-Timestamp"
	IdempotencyHeader = "Idempotency-Key"
	EventHeader       = "X-Cyberpact-Event"
)

// Sign returns the signature of body sent at timestamp ts (unix seconds)
// under secret.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature at the timestamp text ts
// under secret, in constant time.
func Verify(secret, ts, sig string, body []byte) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, n, body)), []byte(sig))
}

// Webhook posts notifications to subscribers' URLs.
//
// A subscriber chooses its URL, so the hub refuses to connect to the
// addresses a member could use to reach what is not meant for it (the
// hub's own host, a cloud's metadata service): loopback, link-local,
// unspecified and multicast addresses, unless Allow lists them. The check
// is made on the address actually dialled, after name resolution, so a
// name that resolves to a refused address is refused too, and redirects
// are not followed (a 3xx is a failed attempt).
type Webhook struct {
	// Client, when set, is used as it is, without the address check
	// (tests of the dispatcher deliver to receivers on loopback).
	Client *http.Client
	// Allow lists addresses otherwise refused that webhooks may reach
	// (serve --webhook-allow).
	Allow []netip.Prefix
	Now   func() time.Time

	once   sync.Once
	client *http.Client
}

// Refused says why a webhook may not connect to addr under allow, or ""
// when it may.
func Refused(addr netip.Addr, allow []netip.Prefix) string {
	addr = addr.Unmap()
	for _, p := range allow {
		if p.Contains(addr) {
			return ""
		}
	}
	switch {
	case addr.IsLoopback():
		return "a loopback address"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "a link-local address"
	case addr.IsUnspecified():
		return "the unspecified address"
	case addr.IsMulticast():
		return "a multicast address"
	}
	return ""
}

// ParseAllow reads --webhook-allow: addresses and prefixes separated by
// commas ("127.0.0.1, 169.254.0.0/16"). Returns EINVALID naming the item
// that is neither.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, cyberpact.Errorf(cyberpact.EINVALID, "%q is neither an address nor a prefix such as 127.0.0.1/32", item)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// httpClient is the client deliveries go through: Client when set, or
// one that keeps a few connections per receiver open between deliveries
// (the dispatcher's workers post to the same receivers again and again)
// and checks every address it dials.
func (w *Webhook) httpClient() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	w.once.Do(func() {
		d := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			if why := Refused(ap.Addr(), w.Allow); why != "" {
				return fmt.Errorf("webhook target address %s is %s, which this hub does not connect to (serve --webhook-allow lists exceptions)", ap.Addr(), why)
			}
			return nil
		}}
		w.client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				DialContext: d.DialContext, MaxIdleConns: 256, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
				TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true,
			},
		}
	})
	return w.client
}

// Send posts msg to s.Target, signed with s.Secret. Any status but 2xx is
// an error (the attempt is retried).
func (w *Webhook) Send(ctx context.Context, s *cyberpact.Subscription, msg *Message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return w.Post(ctx, s.Target, s.Secret, msg.Key, string(msg.Event), body)
}

// Post posts body to target, signed with secret, with key as its
// idempotency key and event as its event header. Any status but 2xx is an
// error.
func (w *Webhook) Post(ctx context.Context, target, secret, key, event string, body []byte) error {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cyberpact-alerts")
	req.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(SignatureHeader, Sign(secret, ts, body))
	req.Header.Set(IdempotencyHeader, key)
	req.Header.Set(EventHeader, event)
	resp, err := w.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %s", resp.Status)
	}
	return nil
}
