package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cphttp "github.com/cyberpact/cyberpact/http"
)

// cliIn is cli with stdin.
func cliIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	return result{code, out.String(), errb.String()}
}

// serveHub runs 'cyberpact serve' on dir at 127.0.0.1:0 until the test
// ends and returns its base URL.
func serveHub(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{stdin: strings.NewReader(""), stdout: pipeWriter{pw}, stderr: io.Discard, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0"}, extra...))
		pw.Close()
	}()
	var base string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "listening on http://"); i >= 0 {
			base = strings.Fields(sc.Text()[i+len("listening on "):])[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	if base == "" {
		t.Fatal("serve printed no address")
	}
	return base
}

// TestPeerAndSyncCommands links two hubs made and run by the command line:
// Tokyo adds Washington as a peer, syncs, and shows the status; the key
// never appears in any output.
func TestPeerAndSyncCommands(t *testing.T) {
	wa, to := t.TempDir(), t.TempDir()
	mustRun(t, "org", "create", "US CISA", "--nation", "US", "--sector", "government", "--data", wa)
	mustRun(t, "org", "create", "Tokyo Hub", "--nation", "JP", "--sector", "government", "--data", wa)
	key := strings.TrimSpace(mustRun(t, "user", "create", "tokyo-sync", "--org", "Tokyo Hub", "--role", "sync", "--data", wa).stdout)
	var objs []string
	for i := 1; i <= 5; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"i%d","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`, i, i, i))
	}
	bundle := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000001","objects":[`+strings.Join(objs, ",")+`]}`), 0o600)
	mustRun(t, "import", "--org", "US CISA", "--audience", "all", "--tlp", "green", "--data", wa, bundle)
	base := serveHub(t, wa)

	mustRun(t, "org", "create", "Washington Hub", "--nation", "US", "--sector", "government", "--data", to)
	outputs := []result{}
	r := cliIn(t, key+"\n", "peer", "add", "washington", "--url", base+"/taxii2/api1/", "--collection", cphttp.CollectionID("all"),
		"--user", "tokyo-sync", "--key", "-", "--direction", "pull", "--audience", "all", "--org", "Washington Hub", "--page-size", "2", "--data", to)
	if r.code != 0 {
		t.Fatalf("peer add: %d %s", r.code, r.stderr)
	}
	outputs = append(outputs, r)

	t.Run("ListShowsThePeerWithoutItsKey", func(t *testing.T) {
		r := mustRun(t, "peer", "list", "--data", to)
		outputs = append(outputs, r)
		if !strings.Contains(r.stdout, "washington") || !strings.Contains(r.stdout, "Washington Hub") {
			t.Errorf("peer list:\n%s", r.stdout)
		}
		r = mustRun(t, "peer", "list", "--json", "--data", to)
		outputs = append(outputs, r)
	})
	t.Run("SyncPullsEverything", func(t *testing.T) {
		r := mustRun(t, "sync", "washington", "--data", to)
		outputs = append(outputs, r)
		if !strings.Contains(r.stdout, "washington: 5 pulled") {
			t.Errorf("sync:\n%s", r.stdout)
		}
		r = mustRun(t, "sync", "--all", "--json", "--data", to)
		var res []struct{ Pulled, Requests int }
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res) != 1 || res[0].Pulled != 0 || res[0].Requests != 1 {
			t.Errorf("second sync: %s %v", r.stdout, err)
		}
	})
	t.Run("StatusShowsLastSuccessAndCounts", func(t *testing.T) {
		r := mustRun(t, "peer", "status", "--data", to)
		outputs = append(outputs, r)
		if !strings.Contains(r.stdout, "washington") || strings.Contains(r.stdout, "never synced") {
			t.Errorf("status:\n%s", r.stdout)
		}
		r = mustRun(t, "peer", "status", "washington", "--json", "--data", to)
		var st []struct {
			State struct {
				Pulled      int
				LastSuccess time.Time `json:"last_success"`
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st) != 1 || st[0].State.Pulled != 5 || st[0].State.LastSuccess.IsZero() {
			t.Errorf("status --json: %s %v", r.stdout, err)
		}
	})
	t.Run("AFailedSyncExitsOneAndIsInTheStatus", func(t *testing.T) {
		mustRun(t, "peer", "add", "nowhere", "--url", "http://127.0.0.1:1/taxii2/api1/", "--collection", "c", "--key", "k", "--data", to)
		r := cli(t, "sync", "nowhere", "--timeout", "2s", "--data", to)
		if r.code != 1 || !strings.Contains(r.stderr, "nowhere") {
			t.Errorf("sync of an unreachable peer: %d %s", r.code, r.stderr)
		}
		r = mustRun(t, "peer", "status", "nowhere", "--data", to)
		if !strings.Contains(r.stdout, "never synced") || !strings.Contains(r.stdout, "127.0.0.1:1") {
			t.Errorf("status after failure:\n%s", r.stdout)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			code int
		}{
			{"NoURL", []string{"peer", "add", "x", "--collection", "c", "--key", "k"}, 2},
			{"BadDirection", []string{"peer", "add", "x", "--url", "http://h/", "--collection", "c", "--key", "k", "--direction", "up"}, 2},
			{"UnknownGroup", []string{"peer", "add", "x", "--url", "http://h/", "--collection", "c", "--key", "k", "--audience", "group:Nope"}, 1},
			{"NameTaken", []string{"peer", "add", "washington", "--url", "http://h/", "--collection", "c", "--key", "k"}, 1},
			{"SyncUnknownPeer", []string{"sync", "tokyo"}, 1},
			{"SyncNoName", []string{"sync"}, 2},
			{"RemoveUnknown", []string{"peer", "remove", "tokyo"}, 1},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if r := cli(t, append(tc.args, "--data", to)...); r.code != tc.code {
					t.Errorf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
				}
			})
		}
	})
	t.Run("RemoveForgetsThePeer", func(t *testing.T) {
		mustRun(t, "peer", "remove", "washington", "--data", to)
		if r := mustRun(t, "peer", "list", "--data", to); strings.Contains(r.stdout, "washington ") {
			t.Errorf("after remove:\n%s", r.stdout)
		}
	})
	for _, r := range outputs {
		if strings.Contains(r.stdout+r.stderr, key) {
			t.Errorf("the peer key was printed:\n%s%s", r.stdout, r.stderr)
		}
	}
}

// TestHostilePeerStatus runs 'sync --all' against a well-behaved hub and a
// hostile peer whose every answer redirects to another port, twice, and
// reads 'peer status' in text and JSON: the good peer synced, the hostile
// one shows two failed runs of two with the refused redirect as its last
// error, and its redirect target received nothing. federation's
// TestHostilePeers has one case per finding; this one shows the command
// line saying so.
func TestHostilePeerStatus(t *testing.T) {
	wa, to := t.TempDir(), t.TempDir()
	mustRun(t, "org", "create", "Tokyo Hub", "--nation", "JP", "--sector", "government", "--data", wa)
	key := strings.TrimSpace(mustRun(t, "user", "create", "tokyo-sync", "--org", "Tokyo Hub", "--role", "sync", "--data", wa).stdout)
	base := serveHub(t, wa)

	var stolen atomic.Int64
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	t.Cleanup(thief.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(bad.Close)

	mustRun(t, "org", "create", "Washington Hub", "--nation", "US", "--sector", "government", "--data", to)
	if r := cliIn(t, key+"\n", "peer", "add", "washington", "--url", base+"/taxii2/api1/", "--collection", cphttp.CollectionID("all"),
		"--user", "tokyo-sync", "--key", "-", "--org", "Washington Hub", "--data", to); r.code != 0 {
		t.Fatalf("peer add: %s", r.stderr)
	}
	mustRun(t, "peer", "add", "hostile", "--url", bad.URL+"/taxii2/api1/", "--collection", "c", "--key", "s3cret", "--direction", "both", "--data", to)
	for i := 0; i < 2; i++ {
		r := cli(t, "sync", "--all", "--run-time", "1m", "--max-pages", "10", "--data", to)
		if r.code != 1 || !strings.Contains(r.stderr, "hostile: pulling from hostile") || !strings.Contains(r.stdout, "washington: 0 pulled") {
			t.Fatalf("sync --all: %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
	}
	if n := stolen.Load(); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
	r := mustRun(t, "peer", "status", "--data", to)
	t.Logf("peer status:\n%s", r.stdout)
	lines := strings.Split(r.stdout, "\n")
	var hostile, good string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "hostile "):
			hostile = l
		case strings.HasPrefix(l, "washington "):
			good = l
		}
	}
	if !strings.Contains(lines[0], "FAILED RUNS") || !strings.Contains(lines[0], "STRAY") ||
		!strings.Contains(hostile, "2 in a row, 2 of 2") || !strings.Contains(hostile, "never synced") || !strings.Contains(hostile, "refused the redirect to "+thief.URL) ||
		!strings.Contains(good, "0 in a row, 0 of 2") {
		t.Errorf("peer status:\n%s", r.stdout)
	}
	r = mustRun(t, "peer", "status", "hostile", "--json", "--data", to)
	var st []struct {
		State struct {
			Runs        int       `json:"runs"`
			FailedRuns  int       `json:"failed_runs"`
			InARow      int       `json:"consecutive_failures"`
			LastError   string    `json:"last_error"`
			LastErrorAt time.Time `json:"last_error_at"`
		} `json:"state"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st) != 1 {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if s := st[0].State; s.Runs != 2 || s.FailedRuns != 2 || s.InARow != 2 || s.LastErrorAt.IsZero() ||
		!strings.Contains(s.LastError, "neither credentials nor objects were sent there") {
		t.Errorf("status --json: %+v", s)
	}
	for _, bad := range []string{"s3cret", key} {
		if strings.Contains(r.stdout, bad) {
			t.Error("peer status printed a key")
		}
	}
}
