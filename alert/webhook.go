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
	"net/http"
	"strconv"
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
type Webhook struct {
	Client *http.Client // default: a client with a 10 s timeout
	Now    func() time.Time
}

// defaultClient keeps a few connections per receiver open between
// deliveries: the dispatcher's workers post to the same receivers again
// and again.
var defaultClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	Proxy: http.ProxyFromEnvironment, MaxIdleConns: 256, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second,
	TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true,
}}

// Send posts msg to s.Target, signed with s.Secret. Any status but 2xx is
// an error (the attempt is retried).
func (w *Webhook) Send(ctx context.Context, s *cyberpact.Subscription, msg *Message) error {
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cyberpact-alerts")
	req.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(SignatureHeader, Sign(s.Secret, ts, body))
	req.Header.Set(IdempotencyHeader, msg.Key)
	req.Header.Set(EventHeader, string(msg.Event))
	c := w.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
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
