package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/jackc/pgx/v5"
)

// The tests in this file run several serve processes on one PostgreSQL
// database, as a hub that has outgrown one machine does. Each in-process
// `serve --store URL` opens a store of its own (its own connections, its
// own listener), which is what a separate process has; one node is also a
// real process, the binary built by `go build`.

// pgStore returns the URL of a fresh schema of CYBERPACT_TEST_POSTGRES,
// dropped when the test ends, or skips the test when it is not set.
func pgStore(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	if base == "" {
		t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	exec := func(sql string) error {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// The schema names the hub's connections too, so that a test can wait
	// for those of a killed process to end (settled).
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// pgEnv is an environment with only vars set.
func pgEnv(stdin io.Reader, stdout, stderr io.Writer, vars map[string]string) *env {
	return &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
}

// runWith runs one command line in-process with vars as its environment
// and fails the test unless it exits 0.
func runWith(t *testing.T, vars map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), pgEnv(strings.NewReader(stdin), &out, &errb, vars), args)
	if code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return result{code, out.String(), errb.String()}
}

// listenLine reads r until serve's "listening on http://..." line and
// returns the base URL, then discards the rest.
func listenLine(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	base := ""
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "listening on http://"); i >= 0 {
			base = strings.Fields(sc.Text()[i+len("listening on "):])[0]
			break
		}
	}
	go io.Copy(io.Discard, r)
	if base == "" {
		t.Fatal("serve printed no address")
	}
	return base
}

// serveInProcess runs `cyberpact serve` with vars as its environment until
// the test ends and returns its base URL.
func serveInProcess(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, pgEnv(strings.NewReader(""), pipeWriter{pw}, io.Discard, vars), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	return listenLine(t, pr)
}

// serveProcess runs the cyberpact binary, built once per test run, as
// `cyberpact serve` in a process of its own until the test ends, and
// returns its base URL.
func serveProcess(t *testing.T, vars map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command(buildCyberpact(t), append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve process: %v\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Error("serve process did not shut down")
		}
	})
	return listenLine(t, stdout)
}

// hubClient calls a node as one user.
type hubClient struct {
	t    *testing.T
	user string
	key  string
}

// do sends a request to base+path and decodes a JSON answer into out
// (when not nil), returning the status and headers.
func (c hubClient) do(method, base, path, accept string, body []byte, out any) (int, http.Header) {
	c.t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.user, c.key)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v\n%s", method, path, err, raw)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		c.t.Logf("%s %s%s: %d %s", method, base, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header
}

// post adds indicators numbered from..to-1 through the REST API of base, as
// TLP:GREEN for all members.
func (c hubClient) post(base string, from, to int) {
	c.t.Helper()
	var objs []string
	for i := from; i < to; i++ {
		objs = append(objs, mnIndicator(i))
	}
	body := `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[` + strings.Join(objs, ",") + `]}`
	var res struct {
		Added int `json:"added"`
	}
	if st, _ := c.do("POST", base, "/api/v1/bundles?audience=all&tlp=green", "", []byte(body), &res); st != 200 && st != 201 {
		c.t.Fatalf("POST bundle through %s: status %d", base, st)
	}
	if res.Added != to-from {
		c.t.Fatalf("POST bundle through %s: %d added, want %d", base, res.Added, to-from)
	}
}

// mnIndicator is indicator number n.
func mnIndicator(n int) string {
	return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"i%d","pattern":"[ipv4-addr:value = '198.51.%d.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`,
		mnID(n), n, n/250, n%250)
}

func mnID(n int) string { return fmt.Sprintf("indicator--%08x-0000-4000-8000-00000000aaaa", n) }

// TestSeveralServeProcessesActAsOneHub runs three serve processes on one
// PostgreSQL schema, the third a process of its own: a write through one
// is read through all, by REST and TAXII; TAXII paging that alternates
// between them while another writes sees every object exactly once; and
// the live stream of one hears of a write through another.
func TestSeveralServeProcessesActAsOneHub(t *testing.T) {
	store := pgStore(t)
	vars := map[string]string{"CYBERPACT_STORE": store, "CYBERPACT_PEER_KEY_FILE": filepath.Join(t.TempDir(), "peers.key")}
	runWith(t, vars, "", "org", "create", "Org A", "--nation", "GB", "--sector", "government")
	runWith(t, vars, "", "org", "create", "Org B", "--nation", "US", "--sector", "finance")
	alice := hubClient{t, "alice", strings.TrimSpace(runWith(t, vars, "", "user", "create", "alice", "--org", "Org A", "--role", "analyst").stdout)}
	bob := hubClient{t, "bob", strings.TrimSpace(runWith(t, vars, "", "user", "create", "bob", "--org", "Org B", "--role", "reader").stdout)}

	nodes := []string{serveInProcess(t, vars), serveInProcess(t, vars)}
	if _, err := exec.LookPath("go"); err != nil || testing.Short() {
		t.Log("third node in-process: -short, or no go command to build the binary")
		nodes = append(nodes, serveInProcess(t, vars))
	} else {
		nodes = append(nodes, serveProcess(t, vars))
	}
	collection := "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	const taxii = "application/taxii+json;version=2.1"

	t.Run("WriteThroughOneReadThroughAll", func(t *testing.T) {
		alice.post(nodes[0], 0, 1)
		for i, n := range nodes {
			var o struct {
				ID string `json:"id"`
			}
			if st, _ := bob.do("GET", n, "/api/v1/objects/"+mnID(0), "", nil, &o); st != 200 || o.ID != mnID(0) {
				t.Errorf("node %d REST: status %d, id %q", i+1, st, o.ID)
			}
			var env struct {
				Objects []struct {
					ID string `json:"id"`
				} `json:"objects"`
			}
			if st, _ := bob.do("GET", n, collection+mnID(0)+"/", taxii, nil, &env); st != 200 || len(env.Objects) != 1 {
				t.Errorf("node %d TAXII: status %d, %d objects", i+1, st, len(env.Objects))
			}
		}
	})

	t.Run("StreamOnOneHearsAWriteThroughAnother", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", nodes[1]+"/api/v1/stream", nil)
		req.SetBasicAuth(bob.user, bob.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("stream: status %d", resp.StatusCode)
		}
		got := make(chan string, 16)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
					got <- d
				}
			}
			close(got)
		}()
		alice.post(nodes[0], 1, 2)
		select {
		case d, ok := <-got:
			if !ok || !strings.Contains(d, mnID(1)) {
				t.Errorf("first event %q (open %v), want %s", d, ok, mnID(1))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s of the write through another node")
		}
	})

	t.Run("TAXIIPagingAlternatesNodesWhileAnotherWrites", func(t *testing.T) {
		alice.post(nodes[0], 100, 160)
		writing := make(chan struct{})
		go func() {
			defer close(writing)
			for i := 200; i < 260; i += 3 {
				alice.post(nodes[2], i, i+3)
			}
		}()
		seen := map[string]int{}
		duringWrites := 0 // pages read before the writer finished
		q := "?limit=7"
		finished := false
		for page := 0; ; page++ {
			if page > 1000 {
				t.Fatal("paging does not end")
			}
			node := nodes[page%len(nodes)]
			var env struct {
				More    bool   `json:"more"`
				Next    string `json:"next"`
				Objects []struct {
					ID string `json:"id"`
				} `json:"objects"`
			}
			st, h := bob.do("GET", node, collection+q, taxii, nil, &env)
			if st != 200 {
				t.Fatalf("page %d on %s: status %d", page, node, st)
			}
			for _, o := range env.Objects {
				seen[o.ID]++
			}
			select {
			case <-writing:
			default:
				duringWrites++
			}
			switch {
			case env.More:
				q = "?limit=7&next=" + url.QueryEscape(env.Next)
			case finished:
				goto done
			default:
				// At the end for now: resume after the last added, one
				// more pass once the writer has finished.
				if last := h.Get("X-TAXII-Date-Added-Last"); last != "" {
					q = "?limit=7&added_after=" + url.QueryEscape(last)
				}
				select {
				case <-writing:
					finished = true
				default:
					time.Sleep(20 * time.Millisecond)
				}
			}
		}
	done:
		t.Logf("%d pages read while the writer was writing", duringWrites)
		want := 2 + 60 + 60
		if len(seen) != want {
			t.Errorf("paging saw %d objects, want %d", len(seen), want)
		}
		for _, i := range []int{0, 1} {
			delete(seen, mnID(i))
		}
		for i := 100; i < 160; i++ {
			if seen[mnID(i)] != 1 {
				t.Errorf("%s seen %d times", mnID(i), seen[mnID(i)])
			}
			delete(seen, mnID(i))
		}
		for i := 200; i < 260; i++ {
			if seen[mnID(i)] != 1 {
				t.Errorf("%s, written during paging, seen %d times", mnID(i), seen[mnID(i)])
			}
			delete(seen, mnID(i))
		}
		for id, n := range seen {
			t.Errorf("unexpected %s seen %d times", id, n)
		}
	})
}

// TestPeerAndSyncOnPostgres runs the federation commands on a PostgreSQL
// store: a peer is added (its key sealed under CYBERPACT_PEER_KEY_FILE),
// synced by `sync` and by `serve --sync-interval`, and its status shown;
// without the key file the commands say what is missing.
func TestPeerAndSyncOnPostgres(t *testing.T) {
	store := pgStore(t)
	wa := t.TempDir() // the peer: an embedded hub
	mustRun(t, "org", "create", "US CISA", "--nation", "US", "--sector", "government", "--data", wa)
	mustRun(t, "org", "create", "Tokyo Hub", "--nation", "JP", "--sector", "government", "--data", wa)
	key := strings.TrimSpace(mustRun(t, "user", "create", "tokyo-sync", "--org", "Tokyo Hub", "--role", "sync", "--data", wa).stdout)
	var objs []string
	for i := 0; i < 5; i++ {
		objs = append(objs, mnIndicator(i))
	}
	bundle := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000001","objects":[`+strings.Join(objs, ",")+`]}`), 0o600)
	mustRun(t, "import", "--org", "US CISA", "--audience", "all", "--tlp", "green", "--data", wa, bundle)
	base := serveHub(t, wa)

	vars := map[string]string{"CYBERPACT_STORE": store, "CYBERPACT_PEER_KEY_FILE": filepath.Join(t.TempDir(), "peers.key")}
	runWith(t, vars, "", "org", "create", "Washington Hub", "--nation", "US", "--sector", "government")
	add := []string{"peer", "add", "washington", "--url", base + "/taxii2/api1/", "--collection", cphttp.CollectionID("all"),
		"--user", "tokyo-sync", "--key", "-", "--direction", "pull", "--audience", "all", "--org", "Washington Hub", "--page-size", "2"}

	t.Run("NoKeyFileSaysSo", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run(context.Background(), pgEnv(strings.NewReader(key+"\n"), &out, &errb, map[string]string{"CYBERPACT_STORE": store}), add)
		if code != 1 || !strings.Contains(errb.String(), "CYBERPACT_PEER_KEY_FILE") {
			t.Errorf("peer add without a key file: exit %d, %s", code, errb.String())
		}
	})
	runWith(t, vars, key+"\n", add...)
	if r := runWith(t, vars, "", "sync", "washington"); !strings.Contains(r.stdout, "washington: 5 pulled") {
		t.Errorf("sync:\n%s", r.stdout)
	}
	r := runWith(t, vars, "", "peer", "status", "washington", "--json")
	if strings.Contains(r.stdout, key) {
		t.Error("peer status printed the key")
	}
	var st []struct {
		State struct{ Pulled int }
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st) != 1 || st[0].State.Pulled != 5 {
		t.Errorf("status: %s %v", r.stdout, err)
	}

	t.Run("ServeSyncIntervalPulls", func(t *testing.T) {
		mustRun(t, "import", "--org", "US CISA", "--audience", "all", "--tlp", "green", "--data", wa, writeBundle(t, mnIndicator(5)))
		serveInProcess(t, vars, "--sync-interval", "200ms")
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			r := runWith(t, vars, "", "peer", "status", "washington", "--json")
			if err := json.Unmarshal([]byte(r.stdout), &st); err == nil && len(st) == 1 && st[0].State.Pulled == 6 {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Errorf("serve --sync-interval did not pull the new object: %+v", st)
	})
}

// writeBundle writes a bundle of objs to a file and returns its name.
func writeBundle(t *testing.T, objs ...string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "b.json")
	if err := os.WriteFile(name, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000002","objects":[`+strings.Join(objs, ",")+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}
