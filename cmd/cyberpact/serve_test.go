package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pipeWriter lets the test read what serve prints while it runs.
type pipeWriter struct{ w *io.PipeWriter }

func (p pipeWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

// TestServeDemoEndToEnd runs the whole program as a newcomer does, `serve
// --demo`, on a free loopback port, and checks through the REST API and
// TAXII that the seeded partnership is served under the sharing rule.
func TestServeDemoEndToEnd(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{stdin: strings.NewReader(""), stdout: pipeWriter{pw}, stderr: io.Discard, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"serve", "--demo", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"})
		pw.Close()
	}()
	keys := map[string]string{} // user -> key
	var base, metrics string
	sc := bufio.NewScanner(pr)
	keyLine := regexp.MustCompile(`^\s+(\S+@\S+)\s+(cpk_\S+)`)
	for sc.Scan() {
		line := sc.Text()
		if m := keyLine.FindStringSubmatch(line); m != nil {
			keys[m[1]] = m[2]
		}
		if i := strings.Index(line, "metrics on http://"); i >= 0 {
			metrics = strings.Fields(line[i+len("metrics on "):])[0]
		}
		if i := strings.Index(line, "listening on http://"); i >= 0 {
			base = strings.Fields(line[i+len("listening on "):])[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d after SIGINT-like cancel, want 0", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	if base == "" || len(keys) < 3 {
		t.Fatalf("serve --demo printed no address or keys (address %q, %d keys)", base, len(keys))
	}

	get := func(user, path string, out any) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+keys[user])
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil && resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	type obj struct {
		ID       string   `json:"id"`
		Markings []string `json:"object_marking_refs"`
	}
	ids := func(user string) map[string]obj {
		var l struct {
			Objects []obj `json:"objects"`
		}
		if st := get(user, "/api/v1/objects?limit=10000", &l); st != 200 {
			t.Fatalf("%s lists objects: status %d", user, st)
		}
		out := map[string]obj{}
		for _, o := range l.Objects {
			out[o.ID] = o
		}
		return out
	}
	const red = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

	jp, us, bank := "analyst@jdm-cyber.example", "analyst@fcdca.example", "analyst@thamesgate-bank.example"
	for _, u := range []string{jp, us, bank} {
		if keys[u] == "" {
			t.Fatalf("no key printed for %s", u)
		}
	}
	jpSees, usSees, bankSees := ids(jp), ids(us), ids(bank)
	// The Japanese defence team marks its sightings TLP:RED and releases
	// them to the US-Japan group: the US agency sees them, the bank does
	// not, not even by id.
	shared := 0
	for id, o := range jpSees {
		if len(o.Markings) == 1 && o.Markings[0] == red {
			if _, ok := usSees[id]; !ok {
				continue
			}
			shared++
			if _, ok := bankSees[id]; ok {
				t.Errorf("%s, shared within the US-Japan group, is visible to a bank outside it", id)
			}
			if st := get(bank, "/api/v1/objects/"+id, nil); st != 404 {
				t.Errorf("bank reading %s directly: status %d, want 404", id, st)
			}
		}
	}
	if shared == 0 {
		t.Error("no TLP:RED object of the Japanese team is shared with the US agency: the demo shows no group sharing")
	}
	var roots struct {
		APIRoots []string `json:"api_roots"`
	}
	if st := get(bank, "/taxii2/", &roots); st != 200 || len(roots.APIRoots) == 0 {
		t.Fatalf("TAXII discovery: status %d, %+v", st, roots)
	}
	if st := get(bank, "/healthz", nil); st != 200 {
		t.Errorf("healthz: %d", st)
	}
	// Metrics: not for a member's analyst on the hub's address; without a
	// key on --metrics-addr.
	if st := get(bank, "/metrics", nil); st != 403 {
		t.Errorf("metrics as an analyst: status %d, want 403", st)
	}
	if metrics == "" {
		t.Fatal("serve --metrics-addr printed no metrics address")
	}
	if resp, err := http.Get(metrics); err != nil || resp.StatusCode != 200 {
		t.Errorf("metrics on --metrics-addr: %v, %v", err, resp)
	} else {
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/objects", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("objects without a key: status %d, want 401", resp.StatusCode)
	}
}

// startServe runs the command line args (a serve command) until the test
// ends and returns what it printed up to its "listening on" line and the
// base URL it printed there.
func startServe(t *testing.T, args ...string) (printed []string, base string) {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{stdin: strings.NewReader(""), stdout: pipeWriter{pw}, stderr: io.Discard, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, args)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		printed = append(printed, sc.Text())
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
		t.Fatalf("%v printed no address; it printed:\n%s", args, strings.Join(printed, "\n"))
	}
	return printed, base
}

// TestServeDemoChecksTheAddressBeforeSeeding holds a loopback port, runs
// serve --demo on it, and checks that it fails naming the address with the
// data directory not even created; then frees the port and checks that the
// same command seeds and serves.
func TestServeDemoChecksTheAddressBeforeSeeding(t *testing.T) {
	for _, flagName := range []string{"--addr", "--metrics-addr"} {
		t.Run(strings.TrimPrefix(flagName, "--"), func(t *testing.T) {
			hold, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := hold.Addr().String()
			data := filepath.Join(t.TempDir(), "data")
			args := []string{"serve", "--demo", "--data", data, "--addr", "127.0.0.1:0"}
			args = append(args, flagName, addr) // the later --addr wins
			r := cli(t, args...)
			if r.code != 1 {
				t.Errorf("serve %s on a taken port: exit %d, want 1", flagName, r.code)
			}
			for _, want := range []string{"cannot listen on " + addr, flagName, "nothing was written"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("serve %s on a taken port: stderr %q does not say %q", flagName, r.stderr, want)
				}
			}
			if strings.Contains(r.stdout, "cpk_") {
				t.Errorf("serve on a taken port printed keys:\n%s", r.stdout)
			}
			if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("serve on a taken port left the data directory %s behind (stat: %v)", data, err)
			}
			hold.Close()
			printed, base := startServe(t, args...)
			seeded, keys := false, 0
			for _, l := range printed {
				seeded = seeded || strings.HasPrefix(l, "demo: seeded ")
				if strings.Contains(l, " cpk_") {
					keys++
				}
			}
			if !seeded || keys == 0 {
				t.Errorf("the rerun did not seed the demo (%d keys printed):\n%s", keys, strings.Join(printed, "\n"))
			}
			resp, err := http.Get(base + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("healthz after the rerun: status %d", resp.StatusCode)
			}
		})
	}
}

// TestServeDemoListensOnLoopbackByDefault holds 127.0.0.1:8080 and checks
// that serve --demo without --addr tries exactly that address (and fails
// there, before seeding), rather than every interface.
func TestServeDemoListensOnLoopbackByDefault(t *testing.T) {
	hold, err := net.Listen("tcp", demoAddr)
	if err != nil {
		t.Skipf("cannot hold %s for the test: %v", demoAddr, err)
	}
	defer hold.Close()
	data := filepath.Join(t.TempDir(), "data")
	r := cli(t, "serve", "--demo", "--data", data)
	if r.code != 1 || !strings.Contains(r.stderr, "cannot listen on 127.0.0.1:8080 (--addr)") {
		t.Errorf("serve --demo with %s taken: exit %d, stderr %q; want 1 naming the loopback address", demoAddr, r.code, r.stderr)
	}
	if _, err := os.Stat(data); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the data directory was created (stat: %v)", err)
	}
}

// TestServeMountsWebInterface checks that serve answers the web
// interface at / beside the API, with its headers, and refuses an
// incomplete single sign-on configuration before listening.
func TestServeMountsWebInterface(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "Acme", "--nation", "GB", "--sector", "finance", "--data", dir)
	_, base := startServe(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--session-idle", "5m")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login?next=%2F" {
		t.Errorf("GET /: %d to %q; want 303 to the sign-in page", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = client.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `autocomplete="current-password"`) || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("GET /login: %d, X-Frame-Options %q", res.StatusCode, res.Header.Get("X-Frame-Options"))
	}
	res, err = client.Get(base + "/api/v1/stats")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/stats without a key: %d, want 401", res.StatusCode)
	}
	r := cli(t, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--oidc-issuer", "http://127.0.0.1:1/")
	if r.code != 2 || !strings.Contains(r.stderr, "--oidc-client-id") {
		t.Errorf("serve with an issuer alone: exit %d, %q; want a usage error naming what is missing", r.code, r.stderr)
	}
}
