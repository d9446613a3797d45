package alert_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

const (
	tlpGreen = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
	tlpRed   = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"
	secret   = "0123456789abcdef-secret"
)

// hubStore is what the tests need of a store: both engines have it.
type hubStore interface {
	alert.Store
	cyberpact.AccountService
}

// hub is a real store (SQLite, or PostgreSQL in a fresh schema) with
// three organisations: US and UK in the group "cell", FR outside it.
type hub struct {
	engine     string
	path       string // the SQLite file or the PostgreSQL URL
	db         hubStore
	us, uk, fr *cyberpact.Org
	cell       *cyberpact.Group
}

// engines runs f on each store: SQLite always, PostgreSQL when
// CYBERPACT_TEST_POSTGRES names a database.
func engines(t *testing.T, f func(t *testing.T, h *hub)) {
	t.Run("sqlite", func(t *testing.T) { f(t, newHub(t, "sqlite")) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv("CYBERPACT_TEST_POSTGRES") == "" {
			t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		f(t, newHub(t, "postgres"))
	})
}

func newHub(t testing.TB, engine string) *hub {
	t.Helper()
	ctx := context.Background()
	h := &hub{engine: engine, path: filepath.Join(t.TempDir(), "hub.db")}
	if engine == "postgres" {
		h.path = pgSchema(t)
	}
	h.open(t)
	mk := func(name, nation string) *cyberpact.Org {
		o := &cyberpact.Org{Name: name, Nation: nation, Sector: "government"}
		if err := h.db.CreateOrg(ctx, o, "cli"); err != nil {
			t.Fatal(err)
		}
		return o
	}
	h.us, h.uk, h.fr = mk("US-CERT", "US"), mk("NCSC", "GB"), mk("ANSSI", "FR")
	h.cell = &cyberpact.Group{Name: "cell", Orgs: []int64{h.us.ID, h.uk.ID}}
	if err := h.db.CreateGroup(ctx, h.cell, "cli"); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *hub) open(t testing.TB) {
	t.Helper()
	var db hubStore
	var err error
	if h.engine == "postgres" {
		db, err = postgres.Open(context.Background(), h.path)
	} else {
		db, err = sqlite.Open(context.Background(), h.path)
	}
	if err != nil {
		t.Fatal(err)
	}
	h.db = db
	t.Cleanup(func() { db.Close() })
}

// pgSchema returns the URL of a fresh schema of the test database,
// dropped when the test ends.
func pgSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to %s: %v", base, err)
	}
	defer conn.Close(ctx)
	schema := "t_alert_" + strings.ReplaceAll(cyberpact.NewWebhookSecret()[6:18], "-", "")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// restart closes the store and opens it again, as a restarted serve does.
func (h *hub) restart(t *testing.T) {
	t.Helper()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	h.open(t)
}

func (h *hub) importAs(t testing.TB, org *cyberpact.Org, aud cyberpact.Audience, objs ...string) {
	t.Helper()
	ctx := context.Background()
	dec := stix.NewDecoder(strings.NewReader(`{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[` + strings.Join(objs, ",") + `]}`))
	defer dec.Close()
	groups, err := h.db.GroupsOf(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: org.ID, Audience: aud,
		ReleaseFor: cyberpact.SightingReleases(ctx, h.db, cyberpact.Viewer{Org: org.ID, Groups: groups})})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rejected) > 0 || !res.Committed {
		t.Fatalf("import refused: %v", cyberpact.Rejections(res.Rejected))
	}
}

func (h *hub) subscribe(t testing.TB, s *cyberpact.Subscription) *cyberpact.Subscription {
	t.Helper()
	if err := h.db.CreateSubscription(context.Background(), s, "cli"); err != nil {
		t.Fatal(err)
	}
	return s
}

func indicator(n int, value string, marking string) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",`+
		`"pattern":"[ipv4-addr:value = '%s']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","labels":["malicious-activity"],"object_marking_refs":["%s"]}`, n, value, marking)
}

func malware(n int) string {
	return fmt.Sprintf(`{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"m%d","is_family":true,"object_marking_refs":["%s"]}`, n, n, tlpGreen)
}

func sighting(n int, of string) string {
	return fmt.Sprintf(`{"type":"sighting","spec_version":"2.1","id":"sighting--00000000-0000-4000-8000-%012d","created":"2026-01-02T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","sighting_of_ref":"%s","count":1,"object_marking_refs":["%s"]}`, n, of, tlpGreen)
}

func indicatorID(n int) string { return fmt.Sprintf("indicator--00000000-0000-4000-8000-%012d", n) }

// receiver is a webhook receiver on 127.0.0.1 that checks every
// delivery's signature and keeps what it was sent.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []alert.Message
	bad     []string // deliveries with a missing or wrong signature or key
	onEvery func(n int)
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var m alert.Message
		r.mu.Lock()
		switch {
		case !alert.Verify(secret, req.Header.Get(alert.TimestampHeader), req.Header.Get(alert.SignatureHeader), body):
			r.bad = append(r.bad, "bad signature: "+string(body))
		case json.Unmarshal(body, &m) != nil:
			r.bad = append(r.bad, "bad body: "+string(body))
		case req.Header.Get(alert.IdempotencyHeader) == "" || req.Header.Get(alert.IdempotencyHeader) != m.Key:
			r.bad = append(r.bad, "idempotency key missing or not the body's: "+string(body))
		default:
			r.got = append(r.got, m)
		}
		n := len(r.got)
		f := r.onEvery
		r.mu.Unlock()
		if f != nil {
			f(n)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) ids(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Errorf("receiver %s refused deliveries: %v", r.URL, r.bad)
	}
	var out []string
	for _, m := range r.got {
		out = append(out, m.ObjectID)
	}
	slices.Sort(out)
	return out
}

// mailbox is an SMTP server on 127.0.0.1 (go-smtp) keeping every mail.
type mailbox struct {
	mu   sync.Mutex
	msgs []mailMsg
	addr string
}

type mailMsg struct {
	to   []string
	data string
}

type smtpSession struct {
	mb  *mailbox
	msg mailMsg
}

func (s *smtpSession) AuthMechanisms() []string                    { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.msg.to = append(s.msg.to, to)
	return nil
}
func (s *smtpSession) Reset()        { s.msg = mailMsg{} }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.data = string(b)
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, s.msg)
	s.mb.mu.Unlock()
	return nil
}

type smtpBackend struct{ mb *mailbox }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{mb: b.mb}, nil }

func newMailbox(t *testing.T) *mailbox {
	mb := &mailbox{}
	srv := smtp.NewServer(smtpBackend{mb})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return mb
}

// sent returns, per recipient, the object ids mailed to it (from each
// mail's X-Cyberpact-Idempotency-Key and body).
func (mb *mailbox) sent(t *testing.T) map[string][]string {
	t.Helper()
	mb.mu.Lock()
	defer mb.mu.Unlock()
	out := map[string][]string{}
	for _, m := range mb.msgs {
		if !strings.Contains(m.data, "X-Cyberpact-Idempotency-Key: cyberpact-") {
			t.Errorf("mail without its idempotency key:\n%s", m.data)
		}
		msg, err := mail.ReadMessage(strings.NewReader(m.data))
		if err != nil {
			t.Fatalf("mail unreadable: %v\n%s", err, m.data)
		}
		subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if err != nil {
			t.Fatal(err)
		}
		id := subj[strings.LastIndex(subj, " ")+1:]
		for _, to := range m.to {
			out[to] = append(out[to], id)
		}
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

func dispatcher(h *hub, mb *mailbox) *alert.Dispatcher {
	d := &alert.Dispatcher{Store: h.db, Webhook: &alert.Webhook{Allow: loopback}}
	if mb != nil {
		d.Mail = &alert.Mailer{Addr: mb.addr, From: "hub@cyberpact.test", TLS: alert.MailNoTLS}
	}
	return d
}

func run(t *testing.T, d *alert.Dispatcher) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestChannelsGetExactlyWhatTheyShould subscribes each organisation on
// each channel and checks that every webhook receiver and mailbox gets
// exactly the events it should, with valid signatures and idempotency
// keys: a TLP:RED indicator of the group reaches the group's members and
// nobody outside it, on any channel.
func TestChannelsGetExactlyWhatTheyShould(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		mb := newMailbox(t)
		ukHook, frHook, usSightings, ukValue := newReceiver(t), newReceiver(t), newReceiver(t), newReceiver(t)
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Filter: cyberpact.AlertFilter{Types: []string{"indicator"}},
			Channel: cyberpact.ChannelWebhook, Target: ukHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Filter: cyberpact.AlertFilter{Types: []string{"indicator"}},
			Channel: cyberpact.ChannelWebhook, Target: frHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Filter: cyberpact.AlertFilter{Values: []string{"203.0.113.9"}},
			Channel: cyberpact.ChannelWebhook, Target: ukValue.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.us.ID, Event: cyberpact.EventSighting, Channel: cyberpact.ChannelWebhook, Target: usSightings.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Filter: cyberpact.AlertFilter{Types: []string{"indicator"}},
			Channel: cyberpact.ChannelEmail, Target: "soc@ncsc.test"})
		h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Filter: cyberpact.AlertFilter{TLPs: []cyberpact.TLP{cyberpact.TLPRed, cyberpact.TLPGreen}},
			Channel: cyberpact.ChannelEmail, Target: "cert@anssi.test"})

		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(1, "198.51.100.7", tlpGreen), malware(2))
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.cell.ID}, indicator(3, "203.0.113.9", tlpRed))
		h.importAs(t, h.uk, cyberpact.Audience{Kind: cyberpact.AudienceAll}, sighting(4, indicatorID(1)))
		run(t, dispatcher(h, mb))

		mal, sig := "malware--00000000-0000-4000-8000-000000000002", "sighting--00000000-0000-4000-8000-000000000004"
		for _, c := range []struct {
			name string
			r    *receiver
			want []string
		}{
			{"UKIndicatorsIncludeTheGroupsRed", ukHook, []string{indicatorID(1), indicatorID(3)}},
			{"FROutsideTheGroupNeverGetsRed", frHook, []string{indicatorID(1)}},
			{"UKPatternValue", ukValue, []string{indicatorID(3)}},
			{"USSightingsOfItsIndicators", usSightings, []string{sig}},
		} {
			t.Run(c.name, func(t *testing.T) {
				if diff := cmp.Diff(c.want, c.r.ids(t)); diff != "" {
					t.Errorf("webhook deliveries (-want +got):\n%s", diff)
				}
			})
		}
		t.Run("Mail", func(t *testing.T) {
			want := map[string][]string{
				"soc@ncsc.test":   {indicatorID(1), indicatorID(3)},
				"cert@anssi.test": {indicatorID(1), mal, sig}, // TLP:GREEN or RED, and the RED one is not FR's to see
			}
			if diff := cmp.Diff(want, mb.sent(t)); diff != "" {
				t.Errorf("mails (-want +got):\n%s", diff)
			}
		})
	})
}

// TestVisibilityRecheckedAtDelivery enqueues a TLP:RED indicator for a
// member of its group, then takes the member out of the group before the
// delivery: nothing is sent, and the notification is withheld.
func TestVisibilityRecheckedAtDelivery(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		mb := newMailbox(t)
		hook := newReceiver(t)
		wh := h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: hook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelEmail, Target: "soc@ncsc.test"})
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.cell.ID}, indicator(1, "203.0.113.9", tlpRed))
		d := dispatcher(h, mb)
		if n, err := d.Scan(ctx); err != nil || n != 2 {
			t.Fatalf("Scan enqueued %d, %v; want 2 (UK is in the group at enqueue)", n, err)
		}
		if err := h.db.SetGroupOrgs(ctx, h.cell.ID, []int64{h.us.ID}, "cli"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		if got := hook.ids(t); len(got) != 0 {
			t.Errorf("webhook got %v after UK left the group", got)
		}
		if got := mb.sent(t); len(got) != 0 {
			t.Errorf("mail sent %v after UK left the group", got)
		}
		ns, err := h.db.Deliveries(ctx, h.uk.ID, wh.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 1 || ns[0].Status != cyberpact.DeliveryWithheld {
			t.Errorf("notifications = %+v, want one withheld", ns)
		}
	})
}

// TestStoppedMidRunLosesNothing stops the dispatcher in the middle of a
// delivery run (its context cancelled from inside a receiver), closes
// and reopens the store, and runs a new dispatcher: every notification
// arrives, each with its idempotency key; a repeat carries the same key.
func TestStoppedMidRunLosesNothing(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		const subs, objs = 3, 40
		var hooks []*receiver
		for range subs {
			r := newReceiver(t)
			hooks = append(hooks, r)
			h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: r.URL, Secret: secret})
		}
		var list []string
		for i := range objs {
			list = append(list, indicator(100+i, fmt.Sprintf("192.0.2.%d", i), tlpGreen))
		}
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, list...)

		stop, cancel := context.WithCancel(ctx)
		defer cancel()
		hooks[0].onEvery = func(n int) {
			if n == objs/2 {
				cancel()
			}
		}
		d1 := dispatcher(h, nil)
		d1.Workers = 2
		if _, err := d1.Scan(stop); err != nil {
			t.Fatal(err)
		}
		d1.Deliver(stop) // ends with the context's error
		hooks[0].onEvery = nil
		var first int
		for _, r := range hooks {
			first += len(r.ids(t))
		}
		if first == subs*objs {
			t.Fatalf("the first run delivered all %d before it was stopped: the test stopped nothing", first)
		}

		h.restart(t)
		d2 := dispatcher(h, nil)
		d2.Now = func() time.Time { return time.Now().Add(time.Hour) } // past the first run's claims
		run(t, d2)

		keys := map[string]int{}
		for i, r := range hooks {
			got := r.ids(t)
			var want []string
			for j := range objs {
				want = append(want, indicatorID(100+j))
			}
			if diff := cmp.Diff(want, slices.Compact(got)); diff != "" {
				t.Errorf("receiver %d (-want +got distinct):\n%s", i, diff)
			}
			r.mu.Lock()
			for _, m := range r.got {
				keys[m.Key]++
			}
			r.mu.Unlock()
		}
		if len(keys) != subs*objs {
			t.Errorf("%d distinct idempotency keys, want %d", len(keys), subs*objs)
		}
		for _, s := range mustSubs(t, h) {
			ns, err := h.db.Deliveries(ctx, s.Org, s.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if n.Status != cyberpact.DeliveryDelivered {
					t.Errorf("notification %s is %s, want delivered", n.Key, n.Status)
				}
			}
		}
		t.Logf("first run delivered %d of %d before it was stopped; repeats after the restart: %d", first, subs*objs, total(hooks)-subs*objs)
	})
}

func total(rs []*receiver) int {
	n := 0
	for _, r := range rs {
		r.mu.Lock()
		n += len(r.got)
		r.mu.Unlock()
	}
	return n
}

func mustSubs(t *testing.T, h *hub) []*cyberpact.Subscription {
	t.Helper()
	subs, err := h.db.Subscriptions(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// TestFailuresRetriedWithBackoff: a receiver that fails twice is retried
// with backoff (a clock the test moves) and the attempts and last error
// are visible in the subscription's deliveries.
func TestFailuresRetriedWithBackoff(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		fails := 2
		var mu sync.Mutex
		got := 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if fails > 0 {
				fails--
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			got++
		}))
		defer srv.Close()
		s := h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: srv.URL, Secret: secret})
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(1, "198.51.100.7", tlpGreen))
		clock := time.Now().Add(time.Minute) // after the notification was enqueued
		d := dispatcher(h, nil)
		d.Now = func() time.Time { return clock }
		status := func() *cyberpact.Notification {
			ns, err := h.db.Deliveries(ctx, h.fr.ID, s.ID, 0)
			if err != nil || len(ns) != 1 {
				t.Fatalf("deliveries: %v, %v", ns, err)
			}
			return ns[0]
		}
		run(t, d)
		if n := status(); n.Status != cyberpact.DeliveryPending || n.Attempts != 1 || !strings.Contains(n.LastError, "503") || !n.NextAttempt.After(clock) {
			t.Fatalf("after one failure: %+v", n)
		}
		run(t, d) // not due yet: no attempt
		if n := status(); n.Attempts != 1 {
			t.Fatalf("attempted before its backoff ended: %+v", n)
		}
		for i := 0; i < 2; i++ {
			clock = clock.Add(time.Hour)
			run(t, d)
		}
		if n := status(); n.Status != cyberpact.DeliveryDelivered || n.Attempts != 3 || got != 1 {
			t.Fatalf("after two failures and a success: %+v (received %d)", n, got)
		}
		if _, err := h.db.Deliveries(ctx, h.uk.ID, s.ID, 0); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("another organisation read the deliveries: %v", err)
		}
	})
}

// TestMailOverSTARTTLS delivers to a go-smtp server that offers STARTTLS
// with a certificate the mailer is told to trust; and checks that a
// mailer requiring STARTTLS sends nothing to a server without it (the
// notification stays pending with the error).
func TestMailOverSTARTTLS(t *testing.T) {
	ctx := context.Background()
	h := newHub(t, "sqlite")
	certSrv := httptest.NewTLSServer(http.NotFoundHandler()) // for its certificate for 127.0.0.1
	defer certSrv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(certSrv.Certificate())

	mb := &mailbox{}
	srv := smtp.NewServer(smtpBackend{mb})
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: certSrv.TLS.Certificates}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = l.Addr().String()
	go srv.Serve(l)
	defer srv.Close()
	plain := newMailbox(t)

	tlsSub := h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelEmail, Target: "cert@anssi.test"})
	h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(1, "198.51.100.7", tlpGreen))

	d := &alert.Dispatcher{Store: h.db, Mail: &alert.Mailer{Addr: plain.addr, From: "hub@cyberpact.test", TLS: alert.MailStartTLS}}
	run(t, d)
	if got := plain.sent(t); len(got) != 0 {
		t.Fatalf("a mailer requiring STARTTLS sent in clear: %v", got)
	}
	ns, err := h.db.Deliveries(ctx, h.fr.ID, tlsSub.ID, 0)
	if err != nil || len(ns) != 1 || ns[0].Status != cyberpact.DeliveryPending || ns[0].LastError == "" {
		t.Fatalf("after a refused plain server: %+v, %v", ns, err)
	}

	d.Mail = &alert.Mailer{Addr: mb.addr, From: "hub@cyberpact.test", TLS: alert.MailStartTLS, TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	d.Now = func() time.Time { return time.Now().Add(time.Hour) } // past the backoff
	run(t, d)
	if diff := cmp.Diff(map[string][]string{"cert@anssi.test": {indicatorID(1)}}, mb.sent(t)); diff != "" {
		t.Errorf("mails over STARTTLS (-want +got):\n%s", diff)
	}
}

// TestVerifyRefusesTampering: a signature checks only with its secret,
// timestamp and body unchanged.
func TestVerifyRefusesTampering(t *testing.T) {
	body := []byte(`{"event":"object"}`)
	sig := alert.Sign(secret, 1700000000, body)
	if !alert.Verify(secret, "1700000000", sig, body) {
		t.Fatal("a good signature refused")
	}
	for name, ok := range map[string]bool{
		"OtherSecret":    alert.Verify(secret+"x", "1700000000", sig, body),
		"OtherTimestamp": alert.Verify(secret, "1700000001", sig, body),
		"OtherBody":      alert.Verify(secret, "1700000000", sig, []byte(`{"event":"sighting"}`)),
		"BadTimestamp":   alert.Verify(secret, "soon", sig, body),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
}

// loopback lets the tests' receivers, all on 127.0.0.1, be reached.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// TestWebhookRefusesInternalAddresses holds a member's webhook away from
// the hub's own host: a target on loopback is refused when dialled unless
// --webhook-allow lists it, a name is checked by the address it resolves
// to, and a receiver's redirect is not followed.
func TestWebhookRefusesInternalAddresses(t *testing.T) {
	var hits atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer inside.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/stolen", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	msg := &alert.Message{Event: cyberpact.EventObject, Key: "k1", ObjectID: "indicator--x"}
	sub := func(target string) *cyberpact.Subscription {
		return &cyberpact.Subscription{Channel: cyberpact.ChannelWebhook, Target: target, Secret: "s"}
	}
	ctx := context.Background()

	_, port, _ := net.SplitHostPort(strings.TrimPrefix(inside.URL, "http://"))
	for _, target := range []string{inside.URL, "http://localhost:" + port + "/", "http://[::ffff:127.0.0.1]:" + port + "/"} {
		err := (&alert.Webhook{}).Send(ctx, sub(target), msg)
		if err == nil || !strings.Contains(err.Error(), "loopback address, which this hub does not connect to") {
			t.Errorf("%s without --webhook-allow: %v", target, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("a refused target was reached %d times", n)
	}

	allowed := &alert.Webhook{Allow: loopback}
	if err := allowed.Send(ctx, sub(inside.URL), msg); err != nil {
		t.Fatalf("allowed target: %v", err)
	}
	if err := allowed.Send(ctx, sub(redirect.URL), msg); err == nil || !strings.Contains(err.Error(), "307") {
		t.Errorf("a redirect should fail the attempt, not be followed: %v", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the receiver was reached %d times, want 1 (the allowed send, not the redirect)", n)
	}

	for _, bad := range []string{"10.0.0.0/33", "example.org", "1.2.3"} {
		if _, err := alert.ParseAllow(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseAllow(%q): %v", bad, err)
		}
	}
	got, err := alert.ParseAllow("127.0.0.1, 169.254.0.0/16,")
	if err != nil || len(got) != 2 || got[0].String() != "127.0.0.1/32" || got[1].String() != "169.254.0.0/16" {
		t.Errorf("ParseAllow: %v %v", got, err)
	}
	for addr, want := range map[string]string{"169.254.169.254": "a link-local address", "0.0.0.0": "the unspecified address", "::1": "a loopback address", "192.0.2.1": "", "10.1.2.3": ""} {
		if got := alert.Refused(netip.MustParseAddr(addr), nil); got != want {
			t.Errorf("Refused(%s) = %q, want %q", addr, got, want)
		}
	}
}

// TestReleasabilityHoldsForAlerts: an indicator shared with all members
// but releasable to the US and GB only notifies the UK's subscription and
// never France's, whose organisation is of another nation; the same
// indicator unmarked reaches both.
func TestReleasabilityHoldsForAlerts(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		mb := newMailbox(t)
		ukHook, frHook := newReceiver(t), newReceiver(t)
		for _, s := range []struct {
			org *cyberpact.Org
			r   *receiver
		}{{h.uk, ukHook}, {h.fr, frHook}} {
			h.subscribe(t, &cyberpact.Subscription{Org: s.org.ID, Event: cyberpact.EventObject, Filter: cyberpact.AlertFilter{Types: []string{"indicator"}},
				Channel: cyberpact.ChannelWebhook, Target: s.r.URL, Secret: secret})
		}
		const relUSGB = "marking-definition--00000000-0000-4000-8000-000000000077"
		def := `{"type":"marking-definition","spec_version":"2.1","id":"` + relUSGB + `","created":"2026-01-01T00:00:00.000Z","name":"REL TO US, GB",` +
			`"extensions":{"` + cyberpact.MarkingExtension + `":{"extension_type":"property-extension","rel_nations":["US","GB"]}}}`
		marked := strings.Replace(indicator(5, "192.0.2.55", tlpGreen), `"object_marking_refs":["`+tlpGreen+`"]`, `"object_marking_refs":["`+tlpGreen+`","`+relUSGB+`"]`, 1)
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceAll}, def, marked, indicator(6, "192.0.2.56", tlpGreen))
		run(t, dispatcher(h, mb))
		if diff := cmp.Diff([]string{indicatorID(5), indicatorID(6)}, ukHook.ids(t)); diff != "" {
			t.Errorf("UK deliveries (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{indicatorID(6)}, frHook.ids(t)); diff != "" {
			t.Errorf("France's deliveries (-want +got):\n%s", diff)
		}
	})
}
