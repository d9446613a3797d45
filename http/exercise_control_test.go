package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
)

// exerciseClock is a settable clock for the hub's exercises.
type exerciseClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *exerciseClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *exerciseClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// controlHub is a hub on 127.0.0.1 with organisations A and B (who play
// hub-drill's alpha and beta), C (who plays nothing) and the Hub (whose
// admin runs exercises), and a user of each kind the rule tells apart.
type controlHub struct {
	db    *sqlite.DB
	base  string
	clock *exerciseClock
	orgs  map[string]*cyberpact.Org
	users map[string]*member // admin, leadA (org-admin of A), analystA, readerA, analystB, leadC (org-admin of C)
}

func newControlHub(t *testing.T) *controlHub {
	db := openDB(t)
	h := &controlHub{db: db, clock: &exerciseClock{t: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}, orgs: map[string]*cyberpact.Org{}, users: map[string]*member{}}
	for _, n := range []string{"A", "B", "C", "Hub"} {
		h.orgs[n] = mkOrg(t, db, "Org "+n)
	}
	for name, u := range map[string]struct {
		org  string
		role cyberpact.Role
	}{
		"admin": {"Hub", cyberpact.RoleAdmin}, "leadA": {"A", cyberpact.RoleOrgAdmin}, "analystA": {"A", cyberpact.RoleAnalyst},
		"readerA": {"A", cyberpact.RoleReader}, "analystB": {"B", cyberpact.RoleAnalyst}, "leadC": {"C", cyberpact.RoleOrgAdmin},
	} {
		h.users[name] = mkMember(t, db, h.orgs[u.org], name, u.role)
	}
	_, h.base = serve(t, db, func(s *cphttp.Server) { s.Exercise.Now = h.clock.now })
	return h
}

// call sends a request as user ("" for none) and decodes a JSON answer
// into out when it is not nil.
func (h *controlHub) call(t *testing.T, user, method, path, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+h.users[user].key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode, string(b)
}

func (h *controlHub) startDrill(t *testing.T) int64 {
	t.Helper()
	drill, err := os.ReadFile("testdata/exercise-hub-drill.json")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	body := `{"scenario":` + string(drill) + `,"participants":{"alpha":"Org A","beta":"Org B"},"seed":3,"speed":60}`
	if code, b := h.call(t, "admin", "POST", "/api/v1/exercises", body, &st); code != 201 || st.State != "running" {
		t.Fatalf("start: %d %s", code, b)
	}
	return st.ID
}

// TestExerciseControlRoutes: exercises are started by hub admins, paused,
// resumed and stopped by hub admins and the org-admins of their
// participants, seen by their participants and hub admins, and by nobody
// else; each step is audited and bad requests change nothing.
func TestExerciseControlRoutes(t *testing.T) {
	h := newControlHub(t)
	ctx := context.Background()
	count := func() int {
		xs, err := h.db.Exercises(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(xs)
	}

	t.Run("StartRefusedToAllButHubAdmins", func(t *testing.T) {
		body := `{"scenario":"financial-drill","participants":{"central-bank":"Org A","commercial-bank":"Org B","stock-exchange":"Org C"}}`
		for _, u := range []string{"leadA", "analystA", "readerA", "leadC"} {
			if code, b := h.call(t, u, "POST", "/api/v1/exercises", body, nil); code != 403 {
				t.Errorf("start by %s: %d %s", u, code, b)
			}
		}
		if code, _ := h.call(t, "", "POST", "/api/v1/exercises", body, nil); code != 401 {
			t.Errorf("anonymous start: %d", code)
		}
		if n := count(); n != 0 {
			t.Errorf("%d exercises after refused starts", n)
		}
	})

	t.Run("BadStartSaysWhatAndChangesNothing", func(t *testing.T) {
		for body, want := range map[string]string{
			`{"scenario":"financial-drill","participants":{"central-bank":"Org Nowhere","commercial-bank":"Org B","stock-exchange":"Org C"}}`: `participants.central-bank: no organisation \"Org Nowhere\"`,
			`{"scenario":"no-such-drill","participants":{"alpha":"Org A"}}`:                                                                   `no built-in scenario \"no-such-drill\"`,
			`{"scenario":"financial-drill","participants":{"central-bank":"Org A"}}`:                                                          `participant \"commercial-bank\" has no organisation`,
			`{"scenario":"financial-drill","participants":{"central-bank":"Org A"},"speed":0}`:                                                `speed: must be above 0`,
			`{"scenario":"financial-drill","participants":{"central-bank":"Org A"},"sped":60}`:                                                `unknown field \"sped\"`,
			`{"scenario":{"schema":"cyberpact-exercise/1","name":"x"},"participants":{"central-bank":"Org A"}}`:                               `scenario`,
			`{"participants":{"central-bank":"Org A"}}`:                                                                                       `scenario: give a built-in scenario's name`,
		} {
			code, b := h.call(t, "admin", "POST", "/api/v1/exercises", body, nil)
			if code != 400 || !strings.Contains(b, want) || !strings.Contains(b, `"error"`) {
				t.Errorf("start %s: %d %s, want 400 saying %s", body, code, b, want)
			}
		}
		if n := count(); n != 0 {
			t.Errorf("%d exercises after bad starts", n)
		}
	})

	id := h.startDrill(t)
	path := "/api/v1/exercises/" + itoa(id)

	type status struct {
		State        string  `json:"state"`
		You          string  `json:"you"`
		CanControl   bool    `json:"can_control"`
		Started      string  `json:"started"`
		Offset       float64 `json:"scenario_offset_s"`
		Participants []struct {
			Participant  string `json:"participant"`
			Label        string `json:"label"`
			Organisation string `json:"organisation"`
		} `json:"participants"`
	}

	t.Run("StatusToParticipantsAndAdminsOnly", func(t *testing.T) {
		for u, want := range map[string]status{
			"admin": {State: "running"}, "leadA": {State: "running", You: "alpha", CanControl: true},
			"analystA": {State: "running", You: "alpha"}, "readerA": {State: "running", You: "alpha"}, "analystB": {State: "running", You: "beta"},
		} {
			var st status
			code, b := h.call(t, u, "GET", path+"/status", "", &st)
			if code != 200 || st.State != want.State || st.You != want.You || st.CanControl != (want.CanControl || u == "admin") {
				t.Errorf("status as %s: %d %s", u, code, b)
			}
			if st.Started != "2026-05-04T09:00:00Z" || len(st.Participants) != 2 || st.Participants[0].Organisation != "Org A" || st.Participants[0].Label != "Alpha Bank" {
				t.Errorf("status as %s: %s", u, b)
			}
		}
		for _, route := range []string{"/status", "/scoreboard", ""} {
			code, b := h.call(t, "leadC", "GET", path+route, "", nil)
			code2, b2 := h.call(t, "leadC", "GET", "/api/v1/exercises/999"+route, "", nil)
			if code != 404 || code2 != 404 || strings.ReplaceAll(b, itoa(id), "N") != strings.ReplaceAll(b2, "999", "N") {
				t.Errorf("GET %s as a non-participant: %d %s, for a number never used %d %s", route, code, b, code2, b2)
			}
		}
	})

	t.Run("ControlByAdminsAndParticipantLeadsOnly", func(t *testing.T) {
		steps := []struct {
			user, op string
			code     int
			state    string
		}{
			{"analystA", "pause", 403, "running"},
			{"readerA", "pause", 403, "running"},
			{"analystB", "stop", 403, "running"},
			{"leadC", "pause", 404, "running"}, // not a participant: no such exercise
			{"", "pause", 401, "running"},
			{"leadA", "resume", 409, "running"}, // not paused
			{"leadA", "pause", 200, "paused"},
			{"admin", "pause", 409, "paused"},
			{"admin", "resume", 200, "running"},
			{"leadA", "stop", 200, "stopped"},
			{"admin", "resume", 409, "stopped"},
			{"admin", "stop", 409, "stopped"},
		}
		for _, s := range steps {
			h.clock.add(10 * time.Second)
			code, b := h.call(t, s.user, "POST", path+"/"+s.op, "", nil)
			x, err := h.db.Exercise(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if code != s.code || x.State != s.state {
				t.Errorf("%s by %q: %d %s, state %s; want %d, state %s", s.op, s.user, code, b, x.State, s.code, s.state)
			}
			if code >= 400 && !strings.Contains(b, `"error"`) {
				t.Errorf("%s by %q: %d without a JSON error: %s", s.op, s.user, code, b)
			}
		}
		if code, b := h.call(t, "admin", "POST", path+"/pause", `{"at":"now"}`, nil); code != 400 || !strings.Contains(b, "takes no request body") {
			t.Errorf("pause with a body: %d %s", code, b)
		}
	})

	t.Run("StoppedExerciseTimeStandsStill", func(t *testing.T) {
		var before, after status
		h.call(t, "admin", "GET", path+"/status", "", &before)
		h.clock.add(time.Hour)
		h.call(t, "admin", "GET", path+"/status", "", &after)
		if before.State != "stopped" || before.Offset != after.Offset || before.Offset <= 0 {
			t.Errorf("a stopped exercise's scenario time moved from %g to %g s (%s)", before.Offset, after.Offset, before.State)
		}
	})

	t.Run("ControlIsAudited", func(t *testing.T) {
		var got []string
		entries, err := h.db.AuditEntries(ctx, cyberpact.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Detail, "exercise "+itoa(id)+" (hub-drill)") {
				got = append(got, e.Actor+": "+strings.SplitN(e.Detail, ",", 2)[0])
			}
		}
		want := []string{"admin: exercise " + itoa(id) + " (hub-drill) started", "leadA: exercise " + itoa(id) + " (hub-drill) paused",
			"admin: exercise " + itoa(id) + " (hub-drill) resumed", "leadA: exercise " + itoa(id) + " (hub-drill) stopped"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("ScoreboardRanksParticipantsByOrganisation", func(t *testing.T) {
		var sb struct {
			State      string `json:"state"`
			You        string `json:"you"`
			Scoreboard []struct {
				Rank         int     `json:"rank"`
				Participant  string  `json:"participant"`
				Organisation string  `json:"organisation"`
				StepsFired   int     `json:"steps_fired"`
				Detected     int     `json:"detected"`
				Coverage     float64 `json:"coverage"`
			} `json:"scoreboard"`
		}
		code, b := h.call(t, "analystB", "GET", path+"/scoreboard", "", &sb)
		if code != 200 || sb.State != "stopped" || sb.You != "beta" || len(sb.Scoreboard) != 2 {
			t.Fatalf("scoreboard: %d %s", code, b)
		}
		for i, row := range sb.Scoreboard {
			if row.Rank != i+1 || row.Organisation != map[string]string{"alpha": "Org A", "beta": "Org B"}[row.Participant] {
				t.Errorf("row %d: %+v", i, row)
			}
		}
	})
}

// TestHubReportStartAndParticipants: the hub's after-action report gives
// the moment the exercise started on the hub (its timeline's clock, not
// the scenario's nominal start months before) and names each participant
// by the member organisation that played it.
func TestHubReportStartAndParticipants(t *testing.T) {
	h := newControlHub(t)
	id := h.startDrill(t)
	h.clock.add(3 * time.Minute) // three hours of scenario time at x60: over
	// What serve's ticker does.
	drive := &exercise.Hub{Exercises: h.db, Objects: h.db, Now: h.clock.now}
	if err := drive.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	var st struct{ State string }
	if code, b := h.call(t, "admin", "GET", "/api/v1/exercises/"+itoa(id)+"/status", "", &st); code != 200 || st.State != "finished" {
		t.Fatalf("status: %d %s", code, b)
	}
	_, md := h.call(t, "analystA", "GET", "/api/v1/exercises/"+itoa(id)+"/report.md", "", nil)
	_, page := h.call(t, "analystA", "GET", "/api/v1/exercises/"+itoa(id)+"/report.html", "", nil)
	for name, report := range map[string]string{"report.md": md, "report.html": page} {
		if !strings.Contains(report, "started 2026-05-04T09:00:00Z") {
			t.Errorf("%s does not give the hub's start 2026-05-04T09:00:00Z:\n%.600s", name, report)
		}
		if strings.Contains(report, "2026-03-02") {
			t.Errorf("%s gives the scenario's nominal start date 2026-03-02", name)
		}
		for _, want := range []string{"Org A (Alpha Bank)", "Org B (Beta Grid)", "Org A (alpha)", "Org B (beta)"} {
			if !strings.Contains(report, want) {
				t.Errorf("%s does not name %q", name, want)
			}
		}
	}
	// Every timeline entry is on or after the start.
	inTimeline := false
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "## Timeline") {
			inTimeline = true
			continue
		}
		if !inTimeline || !strings.HasPrefix(line, "| 20") {
			continue
		}
		at, err := time.Parse("2006-01-02 15:04:05", strings.TrimSpace(strings.Split(line, "|")[1]))
		if err != nil {
			t.Fatalf("timeline line %q: %v", line, err)
		}
		if at.Before(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("timeline entry before the start: %s", line)
		}
	}
	if !inTimeline {
		t.Error("report.md has no timeline")
	}
	var layer struct{ Name string }
	_, nav := h.call(t, "analystB", "GET", "/api/v1/exercises/"+itoa(id)+"/navigator.json?participant=beta", "", &layer)
	if layer.Name != "hub-drill - Org B (beta)" {
		t.Errorf("layer name %q: %.200s", layer.Name, nav)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
