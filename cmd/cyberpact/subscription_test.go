package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/alert"
)

// TestSubscriptionCommandsAndServeDelivers subscribes an organisation by
// webhook and by mail from the command line, runs serve (whose
// dispatcher delivers the webhook, signed, and keeps the mail pending: no
// SMTP server is configured), and checks the status the subscriber is
// shown, the hub-wide counts in /metrics, and that bad input is refused
// with what was wrong.
func TestSubscriptionCommandsAndServeDelivers(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "US-CERT", "--nation", "US", "--sector", "government", "--data", dir)
	mustRun(t, "org", "create", "ANSSI", "--nation", "FR", "--sector", "government", "--data", dir)
	admin := strings.TrimSpace(mustRun(t, "user", "create", "root", "--org", "US-CERT", "--role", "admin", "--data", dir).stdout)

	got := make(chan string, 10)
	var secret string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !alert.Verify(secret, r.Header.Get(alert.TimestampHeader), r.Header.Get(alert.SignatureHeader), body) {
			got <- "bad signature"
			return
		}
		got <- r.Header.Get(alert.IdempotencyHeader) + " " + string(body)
	}))
	defer hook.Close()

	add := mustRun(t, "subscription", "add", "--org", "ANSSI", "--event", "object", "--channel", "webhook", "--target", hook.URL, "--type", "indicator", "--tlp", "green", "--data", dir)
	m := regexp.MustCompile(`webhook secret .*: (whsec_[0-9a-f]+)\n`).FindStringSubmatch(add.stdout)
	if m == nil {
		t.Fatalf("subscription add printed no secret: %s", add.stdout)
	}
	secret = m[1]
	mustRun(t, "subscription", "add", "--org", "ANSSI", "--event", "object", "--channel", "email", "--target", "cert@anssi.test", "--data", dir)

	t.Run("BadInputRefused", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"subscription", "add", "--org", "Nobody", "--event", "object", "--channel", "email", "--target", "a@b.test"}, 1, "Nobody"},
			{[]string{"subscription", "add", "--org", "ANSSI", "--event", "news", "--channel", "email", "--target", "a@b.test"}, 1, "news"},
			{[]string{"subscription", "add", "--org", "ANSSI", "--event", "object", "--channel", "webhook", "--target", "ftp://x"}, 1, "ftp://x"},
			{[]string{"subscription", "add", "--org", "ANSSI", "--event", "object", "--channel", "email", "--target", "a@b.test", "--tlp", "purple"}, 1, "purple"},
			{[]string{"subscription", "add", "--org", "ANSSI", "--event", "object", "--channel", "email", "--target", "a@b.test", "--producer", "Nobody"}, 1, "Nobody"},
			{[]string{"subscription", "add", "--event", "object"}, 2, "--org"},
			{[]string{"subscription", "remove", "x", "--org", "ANSSI"}, 2, "x"},
			{[]string{"subscription", "remove", "1", "--org", "US-CERT"}, 1, "no subscription 1"},
			{[]string{"subscription", "status", "1", "--org", "US-CERT"}, 1, "no subscription 1"},
		} {
			before := mustRun(t, "subscription", "list", "--json", "--data", dir).stdout
			r := cli(t, append(c.args, "--data", dir)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, r.code, r.stderr, c.code, c.msg)
			}
			if after := mustRun(t, "subscription", "list", "--json", "--data", dir).stdout; after != before {
				t.Errorf("%v changed the subscriptions:\n%s\n%s", c.args, before, after)
			}
		}
	})

	bundle := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000002","objects":[`+
		`{"type":"indicator","spec_version":"2.1","id":"indicator--00000001-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[domain-name:value = 'bad.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},`+
		`{"type":"malware","spec_version":"2.1","id":"malware--00000001-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"m","is_family":true}]}`), 0o600)
	mustRun(t, "import", "--org", "US-CERT", "--audience", "all", "--tlp", "green", "--data", dir, bundle)
	base := serveHub(t, dir, "--webhook-allow", "127.0.0.1")

	select {
	case g := <-got:
		if !regexp.MustCompile(`^cyberpact-[0-9a-f]{32} `).MatchString(g) || !strings.Contains(g, "indicator--00000001-0000-4000-8000-000000000002") {
			t.Fatalf("webhook got %s", g)
		}
	case <-time.After(time.Minute):
		t.Fatal("no webhook delivery within a minute")
	}

	// The receiver answers before the dispatcher records the outcome of
	// its batch: wait for the record.
	var st string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st = mustRun(t, "subscription", "status", "1", "--org", "ANSSI", "--data", dir).stdout
		if !strings.Contains(st, "1 pending") || time.Now().After(deadline) {
			break
		}
	}
	if !strings.Contains(st, "0 pending, 1 delivered, 0 failed, 0 withheld") {
		t.Errorf("webhook status:\n%s", st)
	}
	st = mustRun(t, "subscription", "status", "2", "--org", "ANSSI", "--data", dir).stdout
	if !strings.Contains(st, "2 pending, 0 delivered") {
		t.Errorf("mail status (no SMTP server configured):\n%s", st)
	}
	if l := mustRun(t, "subscription", "list", "--org", "ANSSI", "--data", dir).stdout; !strings.Contains(l, "type=indicator tlp=green") {
		t.Errorf("list:\n%s", l)
	}

	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`cyberpact_notifications_total{channel="webhook",status="delivered"} 1`, `cyberpact_notifications_outbox{status="pending"} 2`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(metrics), "ANSSI") {
		t.Error("/metrics names an organisation")
	}

	mustRun(t, "subscription", "remove", "2", "--org", "ANSSI", "--data", dir)
	if l := mustRun(t, "subscription", "list", "--data", dir).stdout; strings.Contains(l, "cert@anssi.test") {
		t.Errorf("removed subscription still listed:\n%s", l)
	}
}
