package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// TestFeedCommands adds, runs, shows and removes external feeds from the
// command line: another hub's MISP feed (served by 'cyberpact serve') and
// a list on a port nothing listens on. The good feed is imported as its
// producer for its audience while the broken one fails on its own; the
// key never appears in any output; 'serve --feed-check' runs the due
// feeds by itself.
func TestFeedCommands(t *testing.T) {
	up, dir := t.TempDir(), t.TempDir()
	mustRun(t, "org", "create", "Lyon CERT", "--nation", "FR", "--sector", "government", "--data", up)
	key := strings.TrimSpace(mustRun(t, "user", "create", "hub-sync", "--org", "Lyon CERT", "--role", "sync", "--data", up).stdout)
	var objs []string
	for i := 1; i <= 3; i++ {
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"i%d","pattern":"[domain-name:value = 'h%d.lyon.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"}`, i, i, i))
	}
	bundle := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000002","objects":[`+strings.Join(objs, ",")+`]}`), 0o600)
	mustRun(t, "import", "--org", "Lyon CERT", "--audience", "all", "--tlp", "green", "--data", up, bundle)
	base := serveHub(t, up)

	mustRun(t, "org", "create", "Feeds Desk", "--nation", "GB", "--sector", "government", "--data", dir)
	mustRun(t, "org", "create", "Partner", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "group", "create", "Cell", "--orgs", "Feeds Desk,Partner", "--data", dir)
	add := cliIn(t, key+"\n", "feed", "add", "lyon", "--kind", "misp", "--url", base+"/api/v1/misp", "--key", "-",
		"--org", "Feeds Desk", "--audience", "group:Cell", "--interval", "2h", "--data", dir)
	if add.code != 0 || !strings.Contains(add.stdout, "feed lyon added: misp") {
		t.Fatalf("feed add: %+v", add)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	mustRun(t, "feed", "add", "dead-list", "--kind", "list", "--url", "http://"+closed+"/list.txt", "--type", "ipv4-addr", "--data", dir)

	t.Run("BadInputRefused", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"feed", "add", "x", "--kind", "rss", "--url", "http://127.0.0.1:9/"}, 2, "rss"},
			{[]string{"feed", "add", "x", "--kind", "csv", "--url", "http://127.0.0.1:9/"}, 1, "value=N"},
			{[]string{"feed", "add", "x", "--kind", "list", "--url", "http://127.0.0.1:9/", "--interval", "10s"}, 1, "interval"},
			{[]string{"feed", "add", "lyon", "--kind", "list", "--url", "http://127.0.0.1:9/"}, 1, "exists"},
			{[]string{"feed", "run", "nope"}, 1, "no source"},
		} {
			r := cli(t, append(c.args, "--data", dir)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("%v: exit %d, stderr %q; want %d naming %q", c.args, r.code, r.stderr, c.code, c.msg)
			}
		}
		if l := mustRun(t, "feed", "list", "--data", dir).stdout; strings.Count(l, "\n") != 3 {
			t.Errorf("refused feeds were added:\n%s", l)
		}
	})

	run := cli(t, "feed", "run", "--data", dir)
	if run.code != 1 || !strings.Contains(run.stdout, "lyon: added ") || !strings.Contains(run.stdout, "dead-list: added 0") || !strings.Contains(run.stdout, "failed: GET http://"+closed) {
		t.Fatalf("feed run: %+v", run)
	}
	var status []*cyberpact.SourceStatus
	if err := json.Unmarshal([]byte(mustRun(t, "feed", "status", "--json", "--data", dir).stdout), &status); err != nil || len(status) != 2 {
		t.Fatalf("feed status --json: %v %+v", err, status)
	}
	for _, s := range status {
		switch s.Source.Name {
		case "lyon":
			if s.State.Added < 3 || s.State.LastError != "" || s.Events != 1 || s.Next.IsZero() {
				t.Errorf("lyon: %+v %+v", s.State, s)
			}
		case "dead-list":
			if s.State.Failures != 1 || !strings.Contains(s.State.LastError, closed) {
				t.Errorf("dead-list: %+v", s.State)
			}
		}
	}
	for _, args := range [][]string{{"feed", "list"}, {"feed", "status"}, {"feed", "status", "--json"}, {"feed", "list", "--json"}, {"audit", "list"}} {
		if out := cli(t, append(args, "--data", dir)...); strings.Contains(out.stdout+out.stderr, key) {
			t.Errorf("%v shows the key", args)
		}
	}
	got := mustRun(t, "search", "--org", "Partner", "lyon.example", "--data", dir).stdout
	if strings.Count(got, "indicator--") != 3 {
		t.Errorf("the partner in the feed's group sees:\n%s", got)
	}
	mustRun(t, "org", "create", "Outsider", "--nation", "GB", "--sector", "energy", "--data", dir)
	if got := cli(t, "search", "--org", "Outsider", "lyon.example", "--data", dir).stdout; strings.Contains(got, "indicator--") {
		t.Errorf("an organisation outside the feed's group sees:\n%s", got)
	}

	t.Run("ServeRunsDueFeeds", func(t *testing.T) {
		mustRun(t, "feed", "remove", "dead-list", "--data", dir)
		mustRun(t, "feed", "add", "later", "--kind", "list", "--url", "http://"+closed+"/again.txt", "--data", dir)
		serveHub(t, dir, "--feed-check", "100ms")
		// Wait (bounded) for serve to run the new source; lyon is not
		// due for two hours and must not run again.
		deadline := time.Now().Add(30 * time.Second)
		for {
			var st []*cyberpact.SourceStatus
			json.Unmarshal([]byte(mustRun(t, "feed", "status", "--json", "--data", dir).stdout), &st)
			runs := map[string]int64{}
			for _, s := range st {
				runs[s.Source.Name] = s.State.Runs
			}
			if runs["later"] >= 1 {
				if runs["lyon"] != 1 {
					t.Errorf("serve ran lyon again before it was due: %d runs", runs["lyon"])
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve --feed-check did not run the due source: %v", runs)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
