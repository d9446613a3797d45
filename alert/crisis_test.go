package alert_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/google/go-cmp/cmp"
)

const incidentID = "incident--00000000-0000-4000-8000-00000000c0de"

func crisisIncident(marking string) string {
	return `{"type":"incident","spec_version":"2.1","id":"` + incidentID + `","created":"2026-01-03T00:00:00.000Z","modified":"2026-01-03T00:00:00.000Z","name":"Grid substation intrusion","object_marking_refs":["` + marking + `"]}`
}

// crisisReceiver is a webhook receiver on 127.0.0.1 that checks each crisis
// alert's signature and idempotency key and keeps "kind level" of each.
type crisisReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []string
	keys map[string]int
	bad  []string
}

func newCrisisReceiver(t *testing.T) *crisisReceiver {
	r := &crisisReceiver{keys: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var m alert.CrisisMessage
		r.mu.Lock()
		defer r.mu.Unlock()
		switch {
		case !alert.Verify(secret, req.Header.Get(alert.TimestampHeader), req.Header.Get(alert.SignatureHeader), body):
			r.bad = append(r.bad, "bad signature: "+string(body))
		case json.Unmarshal(body, &m) != nil || m.Event != cyberpact.EventCrisis || m.IncidentID != incidentID || !strings.Contains(string(m.Incident), "Grid substation"):
			r.bad = append(r.bad, "bad body: "+string(body))
		case req.Header.Get(alert.IdempotencyHeader) == "" || req.Header.Get(alert.IdempotencyHeader) != m.Key:
			r.bad = append(r.bad, "idempotency key missing or not the body's: "+string(body))
		default:
			r.keys[m.Key]++
			r.got = append(r.got, fmt.Sprintf("%s %d", m.Kind, m.Level))
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *crisisReceiver) kinds(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Errorf("receiver %s refused crisis alerts: %v", r.URL, r.bad)
	}
	return append([]string{}, r.got...)
}

// crisisMail is one crisis mail as a mailbox got it.
type crisisMail struct {
	to, subject, body string
}

func (mb *mailbox) crisisMails(t *testing.T) []crisisMail {
	t.Helper()
	mb.mu.Lock()
	defer mb.mu.Unlock()
	var out []crisisMail
	for _, m := range mb.msgs {
		msg, err := mail.ReadMessage(strings.NewReader(m.data))
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("X-Cyberpact-Event") != "crisis" || !strings.HasPrefix(msg.Header.Get("X-Cyberpact-Idempotency-Key"), "cyberpact-") {
			t.Errorf("crisis mail without its event or idempotency key:\n%s", m.data)
		}
		var r io.Reader = msg.Body
		if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		body, _ := io.ReadAll(r)
		for _, to := range m.to {
			out = append(out, crisisMail{to: to, subject: msg.Header.Get("Subject"), body: string(body)})
		}
	}
	return out
}

// TestCrisisAckAndEscalation (issue 18): a crisis on an incident shared
// with the US-UK cell alerts US and UK on every channel at once and never
// FR; US acknowledges, UK does not and is escalated to its level-1 contact
// exactly when the crisis's delay has passed on the test's clock, then to
// level 2; UK's duty officer acknowledges with the single-use link of the
// escalation mail; ending the crisis tells every channel that was alerted.
func TestCrisisAckAndEscalation(t *testing.T) {
	engines(t, func(t *testing.T, h *hub) {
		ctx := context.Background()
		mb := newMailbox(t)
		usHook, ukHook, frHook, ukBoss := newCrisisReceiver(t), newCrisisReceiver(t), newCrisisReceiver(t), newCrisisReceiver(t)
		h.importAs(t, h.us, cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: h.cell.ID}, crisisIncident(tlpRed))
		h.subscribe(t, &cyberpact.Subscription{Org: h.us.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: usHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: ukHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.uk.ID, Event: cyberpact.EventSighting, Channel: cyberpact.ChannelEmail, Target: "soc@ncsc.test"})
		h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook, Target: frHook.URL, Secret: secret})
		h.subscribe(t, &cyberpact.Subscription{Org: h.fr.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelEmail, Target: "soc@anssi.test"})
		cs := h.db.(alert.CrisisStore)
		for _, c := range []*cyberpact.CrisisContact{
			{Org: h.uk.ID, Level: 1, Name: "duty officer", Channel: cyberpact.ChannelEmail, Target: "duty@ncsc.test"},
			{Org: h.uk.ID, Level: 2, Name: "director", Channel: cyberpact.ChannelWebhook, Target: ukBoss.URL, Secret: secret},
			{Org: h.us.ID, Level: 1, Name: "duty officer", Channel: cyberpact.ChannelEmail, Target: "duty@us-cert.test"},
			{Org: h.fr.ID, Level: 1, Name: "duty officer", Channel: cyberpact.ChannelEmail, Target: "duty@anssi.test"},
		} {
			if err := cs.AddCrisisContact(ctx, c, "cli"); err != nil {
				t.Fatal(err)
			}
		}
		clock := time.Now().UTC()
		start := clock
		now := func() time.Time { return clock }
		desk := &alert.Desk{Store: cs, Now: now}
		d := dispatcher(h, mb)
		d.Now, d.URL = now, "http://hub.test"
		step := func(wantEscalated int) {
			t.Helper()
			n, err := d.Escalate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n != wantEscalated {
				t.Errorf("at +%s: %d escalated, want %d", clock.Sub(start), n, wantEscalated)
			}
			if _, err := d.DeliverCrisis(ctx); err != nil {
				t.Fatal(err)
			}
		}
		c, err := desk.Declare(ctx, nil, incidentID, 10*time.Minute, "cli")
		if err != nil {
			t.Fatal(err)
		}
		step(0)
		if diff := cmp.Diff([]string{"declared 0"}, usHook.kinds(t)); diff != "" {
			t.Errorf("US webhook (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"declared 0"}, ukHook.kinds(t)); diff != "" {
			t.Errorf("UK webhook (-want +got):\n%s", diff)
		}
		if got := frHook.kinds(t); len(got) != 0 {
			t.Errorf("FR, outside the incident's audience, got %v", got)
		}
		mails := mb.crisisMails(t)
		if len(mails) != 1 || mails[0].to != "soc@ncsc.test" || !strings.Contains(mails[0].subject, "CRISIS declared") {
			t.Fatalf("mails after the declaration: %+v", mails)
		}
		if _, err := desk.Ack(ctx, nil, c.ID, h.us.ID, "cli", "cli"); err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Ack(ctx, nil, c.ID, h.fr.ID, "cli", "cli"); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("FR acknowledges a crisis it is not in: %v", err)
		}
		clock = clock.Add(10*time.Minute - time.Second)
		step(0)
		clock = clock.Add(time.Second)
		step(1) // UK, at exactly +10 min; US acknowledged
		mails = mb.crisisMails(t)
		if len(mails) != 2 || mails[1].to != "duty@ncsc.test" || !strings.Contains(mails[1].subject, "escalated to you (level 1)") {
			t.Fatalf("mails after the first escalation: %+v", mails)
		}
		token := regexp.MustCompile(`token=(cpa_[0-9a-f]+)`).FindStringSubmatch(mails[1].body)
		if token == nil {
			t.Fatalf("the escalation mail carries no acknowledgement link:\n%s", mails[1].body)
		}
		clock = clock.Add(10*time.Minute - time.Second)
		step(0)
		clock = clock.Add(time.Second)
		step(1) // UK to level 2
		if diff := cmp.Diff([]string{"escalated 2"}, ukBoss.kinds(t)); diff != "" {
			t.Errorf("UK's level 2 (-want +got):\n%s", diff)
		}
		st, err := desk.Status(ctx, nil, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			Org   string
			Acked bool
			Level int
		}
		var rows []row
		for _, p := range st.Partners {
			rows = append(rows, row{p.Org, p.Acknowledged, p.Level})
		}
		if diff := cmp.Diff([]row{{"NCSC", false, 2}, {"US-CERT", true, 0}}, rows); diff != "" {
			t.Errorf("status before UK acknowledges (-want +got):\n%s", diff)
		}
		crisis, org, err := desk.AckToken(ctx, token[1])
		if err != nil || crisis != c.ID || org != h.uk.ID {
			t.Fatalf("acknowledging by the mailed link: %d %d %v", crisis, org, err)
		}
		if _, _, err := desk.AckToken(ctx, token[1]); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("the link works twice: %v", err)
		}
		clock = clock.Add(time.Hour)
		step(0)
		if err := desk.End(ctx, nil, c.ID, "cli"); err != nil {
			t.Fatal(err)
		}
		step(0)
		if diff := cmp.Diff([]string{"declared 0", "ended 0"}, usHook.kinds(t)); diff != "" {
			t.Errorf("US webhook at the end (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"declared 0", "ended 0"}, ukHook.kinds(t)); diff != "" {
			t.Errorf("UK webhook at the end (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"escalated 2", "ended 2"}, ukBoss.kinds(t)); diff != "" {
			t.Errorf("UK's level 2 at the end (-want +got):\n%s", diff)
		}
		var got []string
		for _, m := range mb.crisisMails(t) {
			got = append(got, m.to+": "+m.subject[:strings.Index(m.subject, ": crisis")])
		}
		want := []string{"soc@ncsc.test: [cyberpact] CRISIS declared", "duty@ncsc.test: [cyberpact] CRISIS escalated to you (level 1): not yet acknowledged",
			"soc@ncsc.test: [cyberpact] Crisis ended", "duty@ncsc.test: [cyberpact] Crisis ended"}
		slices.Sort(got)
		slices.Sort(want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mails (-want +got):\n%s", diff)
		}
		if got := frHook.kinds(t); len(got) != 0 {
			t.Errorf("FR got %v", got)
		}
		for _, r := range []*crisisReceiver{usHook, ukHook, ukBoss} {
			for k, n := range r.keys {
				if n != 1 {
					t.Errorf("%s got key %s %d times", r.URL, k, n)
				}
			}
		}
		entries, err := h.db.(cyberpact.AuditLog).AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditCrisis})
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, e := range entries {
			if !strings.Contains(e.Detail, "contact") {
				d, _, _ := strings.Cut(e.Detail, ":")
				d, _, _ = strings.Cut(d, "(")
				details = append(details, e.Actor+": "+d)
			}
		}
		wantAudit := []string{
			fmt.Sprintf("cli: crisis %d declared on %s", c.ID, incidentID),
			fmt.Sprintf("cli: crisis %d acknowledged for organisation %d by cli via cli", c.ID, h.us.ID),
			fmt.Sprintf("(hub): crisis %d", c.ID), fmt.Sprintf("(hub): crisis %d", c.ID),
			fmt.Sprintf("(mail link): crisis %d acknowledged for organisation %d via a mailed link", c.ID, h.uk.ID),
			fmt.Sprintf("cli: crisis %d ended ", c.ID),
		}
		if diff := cmp.Diff(wantAudit, details); diff != "" {
			t.Errorf("audit log (-want +got):\n%s", diff)
		}
	})
}
