package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
)

// drillParts are the players of the exercises the tests start: Beta
// (bob) plays none, so to bob they do not exist.
const drillParts = "central-bank = Acme\ncommercial-bank = Gamma\nstock-exchange = Hub"

// startDrill starts financial-drill from the interface as hana, the hub
// admin, and returns the exercise's page.
func (h *hub) startDrill(t *testing.T) string {
	t.Helper()
	c := h.client(t)
	c.mustSignIn("hana")
	p := c.post("/exercises", url.Values{"csrf": {c.token()}, "scenario": {"financial-drill"}, "participants": {drillParts}, "seed": {"7"}, "speed": {"60"}})
	wantStatus(t, "starting an exercise", p, http.StatusSeeOther)
	return p.header.Get("Location")
}

func TestExercisePages(t *testing.T) {
	h := newHub(t)
	ctx := context.Background()
	count := func() int {
		xs, err := h.db.Exercises(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(xs)
	}
	t.Run("BadStartSaysWhatAndChangesNothing", func(t *testing.T) {
		c := h.client(t)
		c.mustSignIn("hana")
		for _, tc := range []struct{ scenario, parts, seed, speed, want string }{
			{"no-such-drill", drillParts, "1", "1", `no built-in scenario &#34;no-such-drill&#34;`},
			{"financial-drill", "central-bank Acme", "1", "1", `participants, line 1: want PARTICIPANT = ORGANISATION`},
			{"financial-drill", "central-bank = Nowhere\ncommercial-bank = Gamma\nstock-exchange = Hub", "1", "1", `participants.central-bank: no organisation &#34;Nowhere&#34;`},
			{"financial-drill", drillParts, "x", "1", `seed: want a whole number`},
			{"financial-drill", drillParts, "1", "0", `speed: must be above 0`},
		} {
			p := c.post("/exercises", url.Values{"csrf": {c.token()}, "scenario": {tc.scenario}, "participants": {tc.parts}, "seed": {tc.seed}, "speed": {tc.speed}})
			wantStatus(t, "bad start "+tc.want, p, http.StatusBadRequest)
			mustContain(t, "bad start", p.body, tc.want, `id="start-error"`)
		}
		if n := count(); n != 0 {
			t.Errorf("%d exercises after bad starts", n)
		}
	})
	t.Run("OnlyHubAdminsStart", func(t *testing.T) {
		for _, u := range []string{"alice", "gina", "bob"} {
			c := h.client(t)
			c.mustSignIn(u)
			if strings.Contains(c.get("/exercises").body, `action="/exercises"`) {
				t.Errorf("%s is offered the start form", u)
			}
			p := c.post("/exercises", url.Values{"csrf": {c.token()}, "scenario": {"financial-drill"}, "participants": {drillParts}, "seed": {"1"}, "speed": {"1"}})
			wantStatus(t, u+" starts", p, http.StatusForbidden)
		}
		if n := count(); n != 0 {
			t.Errorf("%d exercises after refused starts", n)
		}
	})
	page := h.startDrill(t)
	if page != "/exercises/1" {
		t.Fatalf("started exercise's page: %q", page)
	}
	t.Run("PlayersSeeItOthersDoNot", func(t *testing.T) {
		for _, u := range []string{"alice", "gina", "hana"} {
			c := h.client(t)
			c.mustSignIn(u)
			mustContain(t, u+"'s list", c.get("/exercises").body, `href="/exercises/1"`)
			mustContain(t, u+"'s dashboard", c.get("/").body, `href="/exercises/1"`)
			p := c.get(page)
			wantStatus(t, u+" opens it", p, http.StatusOK)
			mustContain(t, u+"'s page", p.body, `id="scoreboard"`, "Acme", "Gamma", `data-live-board="/exercises/1/board"`)
			b := c.get(page + "/board")
			wantStatus(t, u+"'s board", b, http.StatusOK)
			if !strings.HasPrefix(strings.TrimSpace(b.body), `<div id="board"`) {
				t.Errorf("%s's board is not the fragment: %.200s", u, b.body)
			}
		}
		c := h.client(t)
		c.mustSignIn("bob")
		if strings.Contains(c.get("/exercises").body, `/exercises/1"`) || strings.Contains(c.get("/").body, `/exercises/1"`) {
			t.Error("bob, whose organisation plays no part, is shown the exercise")
		}
		for _, suffix := range []string{"", "/board"} {
			hidden, never := c.get(page+suffix), c.get("/exercises/999"+suffix)
			wantStatus(t, "bob opens it", hidden, http.StatusNotFound)
			if strings.ReplaceAll(hidden.body, "exercise 1", "exercise 999") != never.body {
				t.Errorf("bob: the hidden exercise's page differs from a missing one's:\n%s\n%s", hidden.body, never.body)
			}
			if p := c.post(page+"/pause", url.Values{"csrf": {c.token()}}); p.status != http.StatusNotFound {
				t.Errorf("bob pauses the hidden exercise: %d", p.status)
			}
		}
	})
	t.Run("ControlByOrgAdminsAndHubAdmins", func(t *testing.T) {
		alice := h.client(t)
		alice.mustSignIn("alice")
		if strings.Contains(alice.get(page).body, "/pause") {
			t.Error("alice, an analyst, is offered the controls")
		}
		wantStatus(t, "alice pauses", alice.post(page+"/pause", url.Values{"csrf": {alice.token()}}), http.StatusForbidden)
		gina := h.client(t)
		gina.mustSignIn("gina")
		wantStatus(t, "pause without CSRF", gina.post(page+"/pause", url.Values{}), http.StatusForbidden)
		state := func() string {
			x, err := h.db.Exercise(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			return x.State
		}
		if s := state(); s != "running" {
			t.Fatalf("state %s after refused pauses", s)
		}
		for _, step := range []struct{ who, op, state string }{{"gina", "pause", "paused"}, {"hana", "resume", "running"}, {"gina", "stop", "stopped"}} {
			c := h.client(t)
			c.mustSignIn(step.who)
			p := c.post(page+"/"+step.op, url.Values{"csrf": {c.token()}})
			if p.status != http.StatusSeeOther || p.header.Get("Location") != page {
				t.Fatalf("%s %s: %d %s", step.who, step.op, p.status, p.header.Get("Location"))
			}
			if s := state(); s != step.state {
				t.Errorf("after %s: %s", step.op, s)
			}
		}
		wantStatus(t, "resuming a stopped exercise", gina.post(page+"/resume", url.Values{"csrf": {gina.token()}}), http.StatusConflict)
		if strings.Contains(gina.get(page).body, "data-live-board") {
			t.Error("a stopped exercise's board still asks to be refreshed")
		}
		// Each step is in the audit log, by who took it, through the web.
		entries, err := h.db.AuditEntries(ctx, cyberpact.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, e := range entries {
			if e.Via == "web" && strings.HasPrefix(e.Detail, "exercise 1 ") {
				steps = append(steps, e.Actor+": "+e.Detail)
			}
		}
		want := []string{"hana: exercise 1 (financial-drill) started", "gina: exercise 1 (financial-drill) paused", "hana: exercise 1 (financial-drill) resumed", "gina: exercise 1 (financial-drill) stopped"}
		if len(steps) != len(want) {
			t.Fatalf("audited steps %q, want %q", steps, want)
		}
		for i := range want {
			if !strings.HasPrefix(steps[i], want[i]) {
				t.Errorf("audited step %d: %q, want %q", i, steps[i], want[i])
			}
		}
	})
}

// stream opens the live stream at path, runs then once it has answered,
// and reads events until one's data contains until or the stream ends,
// returning what it read.
func (c *client) stream(path string, then func(), until string) page {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", c.h.srv.URL+path, nil)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	p := page{status: res.StatusCode, header: res.Header, url: path}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b := new(strings.Builder)
		bufio.NewReader(res.Body).WriteTo(b)
		p.body = b.String()
		return p
	}
	then()
	var body strings.Builder
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		body.WriteString(line + "\n")
		if strings.HasPrefix(line, "data:") && strings.Contains(line, until) || line == "event: end" {
			break
		}
	}
	p.body = body.String()
	return p
}

// ensureDrill starts an exercise in h unless there is one.
func (h *hub) ensureDrill(t *testing.T) {
	t.Helper()
	xs, err := h.db.Exercises(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) == 0 {
		h.startDrill(t)
	}
}

// hiddenLikeMissing checks that an exercise page answers a viewer who may
// not see exercise 1 exactly as for exercise 999, which never existed.
func hiddenLikeMissing(t *testing.T, seen, never page) {
	t.Helper()
	if seen.status == http.StatusNotFound && (never.status != http.StatusNotFound || strings.ReplaceAll(seen.body, "exercise 1", "exercise 999") != never.body) {
		t.Errorf("a hidden exercise answers otherwise than a missing one (%d, %d)", seen.status, never.status)
	}
}

func init() {
	routeCases["GET /exercises"] = func(t *testing.T, c *client) []page {
		c.h.ensureDrill(t)
		return []page{c.get("/exercises")}
	}
	routeCases["POST /exercises"] = func(t *testing.T, c *client) []page {
		return []page{c.post("/exercises", url.Values{"csrf": {c.token()}, "scenario": {"no-such-drill"}, "participants": {drillParts}, "seed": {"1"}, "speed": {"1"}})}
	}
	for _, suffix := range []string{"", "/board"} {
		routeCases["GET /exercises/{id}"+suffix] = func(t *testing.T, c *client) []page {
			c.h.ensureDrill(t)
			seen, never := c.get("/exercises/1"+suffix), c.get("/exercises/999"+suffix)
			hiddenLikeMissing(t, seen, never)
			return []page{seen, never}
		}
	}
	for _, op := range []string{"pause", "resume", "stop"} {
		routeCases["POST /exercises/{id}/"+op] = func(t *testing.T, c *client) []page {
			c.h.ensureDrill(t)
			if op == "stop" { // stopping ends it for the other cases: only a missing one
				return []page{c.post("/exercises/999/stop", url.Values{"csrf": {c.token()}})}
			}
			seen, never := c.post("/exercises/1/"+op, url.Values{"csrf": {c.token()}}), c.post("/exercises/999/"+op, url.Values{"csrf": {c.token()}})
			hiddenLikeMissing(t, seen, never)
			return []page{seen, never}
		}
	}
}
