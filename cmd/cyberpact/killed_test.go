package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/alert"
)

// slowReceiver is many webhook receivers on one loopback server (one path
// per subscription): it checks each delivery's signature with its
// subscription's secret, takes its time to answer, and dedups by the
// idempotency key, counting each key's deliveries.
type slowReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	secrets map[string]string         // path -> secret
	keys    map[string]int            // idempotency key -> deliveries
	pairs   map[string]map[string]int // path -> object id -> distinct keys
	keyPair map[string]string         // key -> path + " " + object id
	bad     []string
	total   int
	at      int           // signal reached when total reaches at
	reached chan struct{} // closed then
	release chan struct{} // closed when deliveries past at may be answered
}

// record checks and counts one delivery and reports whether it is at or
// past the mark.
func (r *slowReceiver) record(req *http.Request, body []byte) bool {
	var m alert.Message
	r.mu.Lock()
	defer r.mu.Unlock()
	key := req.Header.Get(alert.IdempotencyHeader)
	switch {
	case !alert.Verify(r.secrets[req.URL.Path], req.Header.Get(alert.TimestampHeader), req.Header.Get(alert.SignatureHeader), body):
		r.bad = append(r.bad, req.URL.Path+": bad signature")
	case json.Unmarshal(body, &m) != nil || key == "" || m.Key != key:
		r.bad = append(r.bad, req.URL.Path+": body without the header's idempotency key: "+string(body))
	default:
		pair := req.URL.Path + " " + m.ObjectID
		if prev, ok := r.keyPair[key]; ok && prev != pair {
			r.bad = append(r.bad, fmt.Sprintf("key %s sent for %s and %s", key, prev, pair))
		}
		if r.keys[key] == 0 {
			if r.pairs[req.URL.Path] == nil {
				r.pairs[req.URL.Path] = map[string]int{}
			}
			r.pairs[req.URL.Path][m.ObjectID]++
		}
		r.keys[key]++
		r.keyPair[key] = pair
		r.total++
		if r.total == r.at {
			close(r.reached)
		}
	}
	return r.total >= r.at
}

func newSlowReceiver(t *testing.T, delay time.Duration) *slowReceiver {
	r := &slowReceiver{secrets: map[string]string{}, keys: map[string]int{}, pairs: map[string]map[string]int{}, keyPair: map[string]string{}, reached: make(chan struct{}), release: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		time.Sleep(delay)
		if r.record(req, body) {
			// Past the mark: answer only once the test has killed the
			// process, so that it dies in the middle of its run.
			<-r.release
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// TestKilledMidDeliveryLosesNothing (issue 18) runs the hub as a real
// process with 40 webhook subscriptions to a slow receiver and 10 new
// indicators (400 notifications, more than one claimed batch), kills it
// with SIGKILL in the middle of the second batch (the receiver holds its
// answers from then on until the process is dead), and starts it again on
// the same data: every notification arrives, signed and with its
// idempotency key; a key arrives more than once only if it was not yet
// recorded as delivered when the process died (at least once), and the
// outbox ends with every notification delivered.
func TestKilledMidDeliveryLosesNothing(t *testing.T) {
	const subs, objects = 40, 10
	dir := t.TempDir()
	mustRun(t, "org", "create", "US-CERT", "--nation", "US", "--sector", "government", "--data", dir)
	mustRun(t, "org", "create", "ANSSI", "--nation", "FR", "--sector", "government", "--data", dir)
	rcv := newSlowReceiver(t, 30*time.Millisecond)
	rcv.at = 256 + 40 // inside the second batch: the first is recorded by then
	secretRE := regexp.MustCompile(`webhook secret .*: (whsec_[0-9a-f]+)\n`)
	for i := range subs {
		path := fmt.Sprintf("/hook/%d", i)
		out := mustRun(t, "subscription", "add", "--org", "ANSSI", "--event", "object", "--channel", "webhook", "--target", rcv.URL+path, "--type", "indicator", "--data", dir).stdout
		m := secretRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("subscription add printed no secret: %s", out)
		}
		rcv.secrets[path] = m[1]
	}
	var objs []string
	for i := range objects {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000002-0000-4000-8000-%012d","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",`+
			`"pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i, i))
	}
	bundle := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--00000002-0000-4000-8000-000000000000","objects":[`+strings.Join(objs, ",")+`]}`), 0o600)
	mustRun(t, "import", "--org", "US-CERT", "--audience", "all", "--tlp", "green", "--data", dir, bundle)

	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(buildCyberpact(t), "serve", "--addr", "127.0.0.1:0", "--data", dir, "--alert-lease", "2s", "--webhook-allow", "127.0.0.1", "--feed-check", "0", "--exercise-interval", "0")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr := &bytes.Buffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		listenLine(t, stdout)
		return cmd, stderr
	}
	first, _ := start()
	select {
	case <-rcv.reached:
	case <-time.After(2 * time.Minute):
		first.Process.Kill()
		close(rcv.release)
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		t.Fatalf("the receiver got %d deliveries in two minutes", rcv.total)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL: no shutdown of any kind
		t.Fatal(err)
	}
	first.Wait()
	close(rcv.release)
	rcv.mu.Lock()
	atKill := rcv.total
	rcv.mu.Unlock()

	// What the outbox recorded as delivered when the process died.
	recorded := map[string]bool{}
	pendingAtKill := 0
	for i := 1; i <= subs; i++ {
		var sum struct {
			Recent []struct {
				Key    string `json:"idempotency_key"`
				Status string
			}
		}
		out := mustRun(t, "subscription", "status", fmt.Sprint(i), "--org", "ANSSI", "--limit", "1000", "--json", "--data", dir).stdout
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatal(err)
		}
		for _, n := range sum.Recent {
			switch n.Status {
			case "delivered":
				recorded[n.Key] = true
			case "pending":
				pendingAtKill++
			default:
				t.Errorf("notification %s is %s after the kill", n.Key, n.Status)
			}
		}
	}
	if len(recorded) == 0 || pendingAtKill == 0 {
		t.Fatalf("the kill did not fall in the middle of the run: %d recorded delivered, %d pending", len(recorded), pendingAtKill)
	}

	second, stderr := start()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		rcv.mu.Lock()
		distinct := len(rcv.keys)
		rcv.mu.Unlock()
		if distinct >= subs*objects {
			break
		}
		if time.Now().After(deadline) {
			second.Process.Kill()
			t.Fatalf("after the restart the receiver has %d of %d notifications\n%s", distinct, subs*objects, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	second.Process.Signal(os.Interrupt)
	if err := second.Wait(); err != nil {
		t.Errorf("the restarted serve: %v\n%s", err, stderr)
	}

	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 {
		t.Errorf("refused deliveries: %v", rcv.bad)
	}
	for i := range subs {
		path := fmt.Sprintf("/hook/%d", i)
		if len(rcv.pairs[path]) != objects {
			t.Errorf("%s got %d distinct objects, want %d", path, len(rcv.pairs[path]), objects)
		}
		for obj, n := range rcv.pairs[path] {
			if n != 1 {
				t.Errorf("%s got %s under %d different keys, want one", path, obj, n)
			}
		}
	}
	dups := 0
	for key, n := range rcv.keys {
		if n > 1 {
			dups += n - 1
			if recorded[key] {
				t.Errorf("key %s was recorded delivered before the kill and was sent %d times", key, n)
			}
		}
	}
	t.Logf("%d deliveries before the kill (%d recorded delivered, %d pending); %d distinct notifications in %d deliveries, %d repeats, every one of an attempt not yet recorded",
		atKill, len(recorded), pendingAtKill, len(rcv.keys), rcv.total, dups)
	for i := 1; i <= subs; i++ {
		out := mustRun(t, "subscription", "status", fmt.Sprint(i), "--org", "ANSSI", "--data", dir).stdout
		if !strings.Contains(out, "0 pending, 10 delivered, 0 failed, 0 withheld") {
			t.Errorf("subscription %d after the restart: %s", i, out)
		}
	}
}
