package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/jackc/pgx/v5"
)

// The fault suite of issue 15: the real binary, killed with SIGKILL at a
// spread of moments while it imports a generated bundle, serves REST and
// TAXII POSTs from concurrent clients, or pulls from a peer, on the
// embedded store and (with CYBERPACT_TEST_POSTGRES) on PostgreSQL. After
// every kill the hub must open, `cyberpact check` and `audit verify` must
// pass, every version stored must be covered by an audited write (and
// nothing audited be missing), every write that was acknowledged must be
// stored whole, searchable, and be what its answer said, and every write
// that was not must be stored whole or not at all.
//
// The kills are timed, not planted: each run of a scenario is first timed
// whole, and the kill moments are spread evenly over that time (and a
// little past it, so that some writes are acknowledged just before the
// kill); a pull resumes where the last run was killed, so its runs are
// killed after varying shares of a whole pull's time instead.
// CYBERPACT_FAULT_POINTS sets how many kills each scenario makes (3 by
// default, twice that for the pull) and CYBERPACT_FAULT_OBJECTS the size of
// the imported and pulled bundles (6,000 by default).

// faultPoints is the number of kills per scenario.
func faultPoints(t *testing.T) int {
	return faultEnvInt(t, "CYBERPACT_FAULT_POINTS", 3)
}

func faultEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// faultHub is one hub under test, reached by the binary through its
// environment: CYBERPACT_DATA for the embedded store, CYBERPACT_STORE for
// PostgreSQL.
type faultHub struct {
	t    *testing.T
	bin  string
	vars map[string]string
	home string
}

// command is the binary run as args against the hub.
func (h *faultHub) command(args ...string) *exec.Cmd {
	cmd := exec.Command(h.bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + h.home}
	for k, v := range h.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

// run runs the binary to its end.
func (h *faultHub) run(stdin string, args ...string) result {
	h.t.Helper()
	cmd := h.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			h.t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return result{code, out.String(), errb.String()}
}

// must runs the binary and fails the test unless it exits 0.
func (h *faultHub) must(args ...string) result {
	h.t.Helper()
	r := h.run("", args...)
	if r.code != 0 {
		h.t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// killed is what a process killed at a moment had done.
type killed struct {
	done   bool // it ended on its own before the kill
	code   int  // its exit code, when done
	stdout string
	stderr string
}

// killAfter starts cmd and kills it with SIGKILL after d, unless it ended
// before.
func killAfter(t *testing.T, cmd *exec.Cmd, d time.Duration) killed {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	var k killed
	select {
	case err := <-ended:
		k.done = true
		if ee, ok := err.(*exec.ExitError); ok {
			k.code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
	case <-time.After(d):
		cmd.Process.Signal(syscall.SIGKILL)
		<-ended
	}
	k.stdout, k.stderr = out.String(), errb.String()
	return k
}

// spread returns the i-th of n kill moments over a run that takes d: from
// a twentieth of d to a little past its end.
func spread(d time.Duration, i, n int) time.Duration {
	if n == 1 {
		return d / 2
	}
	return d/20 + (d*21/20)*time.Duration(i)/time.Duration(n-1)
}

// storedHub is what a hub holds after a kill, read by opening it in the
// test's process the way the binary does.
type storedHub struct {
	versions map[string]int // id -> versions stored
	total    int
}

// holds checks what must hold of the hub after any kill and returns what
// it stores: it opens (in this process, the way the binary opens it),
// `check` and `audit verify` pass, and every stored version is covered by
// exactly the write entries of the audit log (their counts add up to the
// versions stored).
func (h *faultHub) holds(t *testing.T) storedHub {
	t.Helper()
	ctx := context.Background()
	h.settled(t)
	e := &env{getenv: func(k string) string { return h.vars[k] }}
	st, err := e.openStore(ctx, "")
	if err != nil {
		t.Fatalf("the hub does not open after the kill: %v", err)
	}
	s := storedHub{versions: map[string]int{}}
	err = st.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		s.versions[o.ID]++
		s.total++
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatalf("reading the hub after the kill: %v", err)
	}
	if r := h.run("", "check"); r.code != 0 {
		t.Errorf("check after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := h.run("", "audit", "verify"); r.code != 0 {
		t.Errorf("audit verify after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var entries []struct {
		Scope *struct {
			Count int `json:"count"`
		} `json:"scope"`
		Detail string `json:"detail"`
	}
	r := h.must("audit", "list", "--action", "write", "--limit", "1000000", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &entries); err != nil {
		t.Fatalf("audit list: %v\n%s", err, r.stdout)
	}
	audited := 0
	for _, en := range entries {
		if en.Scope != nil {
			audited += en.Scope.Count
		}
	}
	if audited != s.total {
		t.Errorf("after the kill %d versions are stored and the audit log's writes count %d", s.total, audited)
	}
	return s
}

// settled waits, on PostgreSQL, until no connection of the hub's is left
// (pgStore names them by the hub's schema): the server's session of a
// killed process can still be committing what the process sent before it
// died, and what holds reads must not change between its reads. A commit
// that lands after the kill is whole; the checks then hold of it too.
func (h *faultHub) settled(t *testing.T) {
	t.Helper()
	u, err := url.Parse(h.vars["CYBERPACT_STORE"])
	if err != nil || u.Query().Get("application_name") == "" {
		return
	}
	name := u.Query().Get("application_name")
	q := u.Query()
	q.Del("application_name")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connecting to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n); err != nil {
			t.Fatalf("reading PostgreSQL's sessions: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions of the hub's are still open a minute after the kill", n)
		}
	}
}

// searchFinds reports whether a full-text search for text finds id.
func (h *faultHub) searchFinds(t *testing.T, text, id string) bool {
	t.Helper()
	r := h.must("search", "--limit", "1000", text)
	return strings.Contains(r.stdout, id)
}

// wholeOrNothing checks that ids are all stored (once each) or none, and
// all when must; it returns whether they are stored.
func wholeOrNothing(t *testing.T, s storedHub, what string, ids []string, must bool) bool {
	t.Helper()
	n := 0
	for _, id := range ids {
		switch s.versions[id] {
		case 0:
		case 1:
			n++
		default:
			t.Errorf("%s: %s stored %d times", what, id, s.versions[id])
		}
	}
	switch {
	case n != 0 && n != len(ids):
		t.Errorf("%s is half-stored: %d of its %d objects", what, n, len(ids))
	case must && n == 0:
		t.Errorf("%s was acknowledged and is not stored", what)
	}
	return n == len(ids)
}

// genBundle writes the generated bundle of n objects from seed to a file
// and returns its name, its object ids but the TLP marking definitions,
// and a word a search finds one of its indicators by, with that
// indicator's id.
func (h *faultHub) genBundle(t *testing.T, dir string, n, seed int) (file string, ids []string, word, wordID string) {
	t.Helper()
	r := h.must("generate", "--objects", strconv.Itoa(n), "--seed", strconv.Itoa(seed))
	file = filepath.Join(dir, fmt.Sprintf("gen-%d.json", seed))
	if err := os.WriteFile(file, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	var b struct {
		Objects []struct {
			Type, ID, Name string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &b); err != nil {
		t.Fatal(err)
	}
	for _, o := range b.Objects {
		if o.Type == "marking-definition" {
			continue
		}
		ids = append(ids, o.ID)
		if word == "" && o.Type == "indicator" && strings.HasPrefix(o.Name, "Malicious ") {
			word, wordID = o.Name[strings.LastIndex(o.Name, " ")+1:], o.ID
		}
	}
	if word == "" {
		t.Fatal("the generated bundle has no indicator named for its value")
	}
	return file, ids, word, wordID
}

func TestKillMidWriteLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the fault suite builds and kills the binary")
	}
	bin := buildCyberpact(t)
	stores := map[string]map[string]string{"SQLite": {"CYBERPACT_DATA": t.TempDir()}}
	if os.Getenv("CYBERPACT_TEST_POSTGRES") != "" {
		stores["PostgreSQL"] = map[string]string{"CYBERPACT_STORE": pgStore(t)}
	} else {
		t.Log("PostgreSQL not tried: CYBERPACT_TEST_POSTGRES is not set")
	}
	for _, name := range []string{"SQLite", "PostgreSQL"} {
		vars, ok := stores[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			vars["CYBERPACT_PEER_KEY_FILE"] = filepath.Join(t.TempDir(), "peers.key")
			h := &faultHub{t: t, bin: bin, vars: vars, home: t.TempDir()}
			h.must("org", "create", "Faults", "--nation", "GB", "--sector", "other")
			t.Run("Import", func(t *testing.T) { faultImport(t, h) })
			t.Run("Post", func(t *testing.T) { faultPost(t, h) })
			t.Run("Pull", func(t *testing.T) { faultPull(t, h) })
		})
	}
}

// faultImport kills `cyberpact import` of a generated bundle at a spread
// of moments: each bundle is stored whole or not at all, whole when the
// import said so, and audited and searchable when stored.
func faultImport(t *testing.T, h *faultHub) {
	n := faultEnvInt(t, "CYBERPACT_FAULT_OBJECTS", 6000)
	dir := t.TempDir()
	file, ids, word, id := h.genBundle(t, dir, n, 1)
	start := time.Now()
	h.must("import", "--org", "Faults", file)
	took := time.Since(start)
	s := h.holds(t)
	total := s.total
	wholeOrNothing(t, s, "the timed import", ids, true)
	if !h.searchFinds(t, word, id) {
		t.Errorf("search %s does not find %s", word, id)
	}

	type attempt struct {
		file     string
		ids      []string
		word, id string
		k        killed
	}
	points := faultPoints(t)
	tried := make([]attempt, points)
	// Bundles of different seeds share some cyber observables (their ids
	// derive from their values): those are left out of the all-or-nothing
	// check of each.
	in := map[string]int{}
	for _, id := range ids {
		in[id]++
	}
	for i := range tried {
		a := &tried[i]
		a.file, a.ids, a.word, a.id = h.genBundle(t, dir, n, 100+i)
		for _, id := range a.ids {
			in[id]++
		}
	}
	for i := range tried {
		tried[i].ids = slices.DeleteFunc(tried[i].ids, func(id string) bool { return in[id] > 1 })
	}
	stored := 0
	for i := range tried {
		file, ids := tried[i].file, tried[i].ids
		at := spread(took, i, points)
		k := killAfter(t, h.command("import", "--org", "Faults", file), at)
		tried[i].k = k
		acked := k.done && k.code == 0
		if k.done && k.code != 0 {
			t.Errorf("import %d ended with exit %d before the kill:\n%s", i, k.code, k.stderr)
		}
		s := h.holds(t)
		for j, a := range tried[:i+1] {
			ok := wholeOrNothing(t, s, fmt.Sprintf("import %d", j), a.ids, a.k.done && a.k.code == 0)
			if j != i {
				continue
			}
			if ok {
				stored++
				if !h.searchFinds(t, a.word, a.id) {
					t.Errorf("import %d is stored and search %s does not find %s", j, a.word, a.id)
				}
			}
			if acked && !strings.Contains(k.stdout, fmt.Sprintf("added %d,", s.total-total)) {
				t.Errorf("import %d said %q; it stored %d versions", j, k.stdout, s.total-total)
			}
		}
		total = s.total
		t.Logf("import of %d objects killed at %v of %v: acknowledged %v, stored %v", n, at.Round(time.Millisecond), took.Round(time.Millisecond), acked, wholeOrNothing(t, s, "", ids, false))
	}
	t.Logf("%d of %d killed imports were stored", stored, points)
}

// faultPost kills `cyberpact serve` while concurrent clients POST bundles
// through REST and TAXII: every bundle acknowledged (REST 200, TAXII 202
// with a complete status) is stored whole, as its answer said, audited and
// searchable; every other one is stored whole or not at all; the restarted
// hub takes writes again.
func faultPost(t *testing.T, h *faultHub) {
	key := strings.TrimSpace(h.must("user", "create", "poster", "--org", "Faults", "--role", "analyst").stdout)
	const clients, perBundle = 4, 20
	type post struct {
		n      int
		via    string
		status int
		added  int // REST's added, TAXII's success_count
		done   bool
	}
	var mu sync.Mutex
	var posts []*post
	next := 0
	points := faultPoints(t)
	for round := 0; round < points; round++ {
		srv, base := h.serve(t)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					p := &post{n: next, via: []string{"rest", "taxii"}[next%2]}
					next++
					posts = append(posts, p)
					mu.Unlock()
					p.status, p.added, p.done = postFaultBundle(base, key, p.via, p.n, perBundle)
					if !p.done {
						return // the server is gone
					}
				}
			}()
		}
		at := 100*time.Millisecond + time.Duration(round)*1500*time.Millisecond/time.Duration(max(points-1, 1))
		time.Sleep(at)
		srv.Process.Signal(syscall.SIGKILL)
		srv.Wait()
		close(stop)
		wg.Wait()

		s := h.holds(t)
		acked, searched := 0, 0
		for _, p := range posts {
			ok := p.done && (p.via == "rest" && p.status == 200 || p.via == "taxii" && p.status == 202)
			if p.done && !ok {
				t.Errorf("POST %d through %s answered %d", p.n, p.via, p.status)
			}
			ids := faultBundleIDs(p.n, perBundle)
			if wholeOrNothing(t, s, fmt.Sprintf("POST %d through %s", p.n, p.via), ids, ok) && ok {
				acked++
				if p.added != perBundle {
					t.Errorf("POST %d through %s answered %d stored, %d are", p.n, p.via, p.added, perBundle)
				}
				if searched < 5 && p.n%7 == round%7 {
					searched++
					if !h.searchFinds(t, faultName(p.n, 0), ids[0]) {
						t.Errorf("POST %d is stored and search %s does not find %s", p.n, faultName(p.n, 0), ids[0])
					}
				}
			}
		}
		t.Logf("serve killed at %v: %d POSTs so far, %d acknowledged", at, len(posts), acked)
	}
	srv, base := h.serve(t)
	st, added, done := postFaultBundle(base, key, "rest", next, perBundle)
	if !done || st != 200 || added != perBundle {
		t.Errorf("after the kills a POST answered %d (%d added)", st, added)
	}
	srv.Process.Signal(os.Interrupt)
	if err := srv.Wait(); err != nil {
		t.Errorf("serve after the kills: %v", err)
	}
}

// serve starts `cyberpact serve` on the hub and returns it with its base
// URL; the caller ends it.
func (h *faultHub) serve(t *testing.T) (*exec.Cmd, string) {
	t.Helper()
	cmd := h.command("serve", "--addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait() // an error when the test waited already
	})
	return cmd, listenLine(t, stdout)
}

// faultName is the name of object j of POSTed bundle n: one word, for
// search.
func faultName(n, j int) string { return fmt.Sprintf("faultb%do%d", n, j) }

func faultID(n, j int) string {
	return fmt.Sprintf("indicator--%08x-%04x-4000-8000-0000000fa017", n, j)
}

func faultBundleIDs(n, size int) []string {
	ids := make([]string, size)
	for j := range ids {
		ids[j] = faultID(n, j)
	}
	return ids
}

// postFaultBundle POSTs bundle n of size indicators through REST or
// TAXII; done is false when no whole answer came back.
func postFaultBundle(base, key, via string, n, size int) (status, added int, done bool) {
	return postFaultBundleRaw(base, key, via, n, size, nil)
}

// postFaultBundleRaw is postFaultBundle keeping the answer's body in
// *body when body is not nil.
func postFaultBundleRaw(base, key, via string, n, size int, body *[]byte) (status, added int, done bool) {
	objs := make([]string, size)
	for j := range objs {
		objs[j] = fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"%s","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"%s","pattern":"[ipv4-addr:value = '203.0.113.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`,
			faultID(n, j), faultName(n, j), j%250)
	}
	var req *http.Request
	var err error
	if via == "rest" {
		bundle := `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000001","objects":[` + strings.Join(objs, ",") + `]}`
		req, err = http.NewRequest("POST", base+"/api/v1/bundles?audience=all&tlp=green", strings.NewReader(bundle))
		if err != nil {
			return 0, 0, false
		}
		req.Header.Set("Content-Type", "application/json")
	} else {
		envelope := `{"objects":[` + strings.Join(objs, ",") + `]}`
		req, err = http.NewRequest("POST", base+"/taxii2/api1/collections/"+cphttp.CollectionID("all")+"/objects/", strings.NewReader(envelope))
		if err != nil {
			return 0, 0, false
		}
		req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	req.SetBasicAuth("poster", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, false
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, false
	}
	if body != nil {
		*body = raw
	}
	var ans struct {
		Added   int    `json:"added"`
		Status  string `json:"status"`
		Success int    `json:"success_count"`
	}
	if resp.StatusCode < 300 && json.Unmarshal(raw, &ans) != nil {
		return resp.StatusCode, 0, false
	}
	if via == "taxii" {
		if ans.Status != "complete" && resp.StatusCode == 202 {
			return resp.StatusCode, 0, true
		}
		return resp.StatusCode, ans.Success, true
	}
	return resp.StatusCode, ans.Added, true
}

// faultPull kills `cyberpact sync` while it pulls a generated collection
// from a peer (an embedded hub served in this process): whatever is
// stored is audited and counted by peer status, and the sync run after
// the kills ends with every object of the peer stored once.
func faultPull(t *testing.T, h *faultHub) {
	n := faultEnvInt(t, "CYBERPACT_FAULT_OBJECTS", 6000)
	up := &faultHub{t: t, bin: h.bin, vars: map[string]string{"CYBERPACT_DATA": t.TempDir()}, home: h.home}
	up.must("org", "create", "Upstream", "--nation", "FR", "--sector", "government")
	key := strings.TrimSpace(up.must("user", "create", "puller", "--org", "Upstream", "--role", "sync").stdout)
	file, _, _, _ := up.genBundle(t, t.TempDir(), n, 7)
	// Its TLP:RED objects are refused (exit 1) and the rest stored.
	if r := up.run("", "import", "--org", "Upstream", "--audience", "all", "--partial", file); r.code != 0 && r.code != 1 {
		t.Fatalf("import into the peer: exit %d\n%s", r.code, r.stderr)
	}
	base := serveHub(t, up.vars["CYBERPACT_DATA"])

	addPeer := func(h *faultHub) {
		if r := h.run(key+"\n", "peer", "add", "upstream", "--url", base+"/taxii2/api1/", "--collection", cphttp.CollectionID("all"),
			"--user", "puller", "--key", "-", "--direction", "pull", "--audience", "all", "--org", "Faults", "--page-size", "200"); r.code != 0 {
			t.Fatalf("peer add: exit %d\n%s", r.code, r.stderr)
		}
	}
	pulled := func(t *testing.T) int {
		var st []struct {
			State struct{ Pulled int }
		}
		r := h.must("peer", "status", "upstream", "--json")
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st) != 1 {
			t.Fatalf("peer status: %v\n%s", err, r.stdout)
		}
		return st[0].State.Pulled
	}

	// A whole pull into a scratch hub of the same kind sets the kill
	// moments.
	scratch := &faultHub{t: t, bin: h.bin, vars: map[string]string{"CYBERPACT_DATA": t.TempDir()}, home: h.home}
	if _, pg := h.vars["CYBERPACT_STORE"]; pg {
		scratch.vars = map[string]string{"CYBERPACT_STORE": pgStore(t), "CYBERPACT_PEER_KEY_FILE": h.vars["CYBERPACT_PEER_KEY_FILE"]}
	}
	scratch.must("org", "create", "Faults", "--nation", "GB", "--sector", "other")
	addPeer(scratch)
	start := time.Now()
	r := scratch.must("sync", "upstream")
	took := time.Since(start)
	t.Logf("a whole pull: %v, %s", took, r.stdout)
	// What it stored is what every pull must end with (the peer's
	// TLP:AMBER objects are withheld by the border rule).
	var want []string
	for id := range scratch.holds(t).versions {
		if !strings.HasPrefix(id, "marking-definition--") {
			want = append(want, id)
		}
	}

	// The hub holds some of the peer's cyber observables already, from
	// its own imports: what the pull adds is counted against what was
	// there before.
	before := h.holds(t)
	addPeer(h)
	points := 2 * faultPoints(t) // short runs: twice the kills
	for i := 0; i < points; i++ {
		// Each run resumes where the last one was killed: the runs are
		// killed after a share of a whole pull's time that varies around
		// 1/points, so that the kills fall across the whole pull.
		at := took * time.Duration(1+i%4) / time.Duration(5*points/2)
		k := killAfter(t, h.command("sync", "upstream"), at)
		if k.done && k.code != 0 {
			t.Errorf("sync ended with exit %d before the kill:\n%s", k.code, k.stderr)
		}
		s := h.holds(t)
		have := 0
		for _, id := range want {
			switch s.versions[id] - before.versions[id] {
			case 0:
			case 1:
				have++
			default:
				t.Errorf("pulled %s stored %d more times", id, s.versions[id]-before.versions[id])
			}
		}
		if p := pulled(t); p != have {
			t.Errorf("peer status says %d pulled; %d versions of the peer's objects are stored", p, have)
		}
		t.Logf("sync killed at %v: %d of %d pulled", at, have, len(want))
	}
	r = h.run("", "sync", "upstream")
	if r.code != 0 {
		t.Fatalf("sync after the kills: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	t.Logf("sync after the kills: %s", r.stdout)
	s := h.holds(t)
	added := 0
	for _, id := range want {
		d := s.versions[id] - before.versions[id]
		added += d
		// A cyber observable the hub held already (its id derives from
		// its value) may be present or refused as another's; every other
		// object of the peer is stored once.
		if d != 1 && before.versions[id] == 0 {
			t.Errorf("after the last sync the peer's %s is stored %d more times, want once", id, d)
		}
	}
	if p := pulled(t); p != added {
		t.Errorf("peer status says %d pulled after the last sync; %d versions of the peer's objects are stored", p, added)
	}
}
