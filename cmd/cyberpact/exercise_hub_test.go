package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/google/go-cmp/cmp"
)

// drillClient is one participant's analyst talking to the hub.
type drillClient struct {
	t    *testing.T
	base string
	user string
	key  string
}

func (c *drillClient) do(method, path string, body []byte, ctype string) []byte {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth(c.user, c.key)
	if strings.HasPrefix(path, "/taxii2/") {
		req.Header.Set("Accept", "application/taxii+json;version=2.1")
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		c.t.Fatalf("%s %s as %s: %d %s", method, path, c.user, resp.StatusCode, data)
	}
	return data
}

// indicators reads the indicators of a TAXII collection as a STIX bundle.
func (c *drillClient) indicators(collection string) ([]byte, []map[string]any) {
	c.t.Helper()
	var env struct {
		Objects []map[string]any `json:"objects"`
	}
	json.Unmarshal(c.do("GET", "/taxii2/api1/collections/"+collection+"/objects/?match[type]=indicator", nil, ""), &env)
	b, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--0d5f2a36-9a0e-4b0c-8d1e-1c2f3a4b5c6d", "objects": env.Objects})
	return b, env.Objects
}

// detect is a participant's whole detection loop: download its
// telemetry, run the real `cyberpact match` over it with the indicators it
// holds, and report the hits as sightings.
func (c *drillClient) detect(dir string, exerciseID int64, indicators []byte) int {
	c.t.Helper()
	telemetry := filepath.Join(dir, c.user+".jsonl")
	intel := filepath.Join(dir, c.user+"-intel.json")
	os.WriteFile(telemetry, c.do("GET", fmt.Sprintf("/api/v1/exercises/%d/telemetry.jsonl", exerciseID), nil, ""), 0o600)
	os.WriteFile(intel, indicators, 0o600)
	r := cli(c.t, "match", "--indicators", intel, telemetry)
	if r.code != 0 {
		c.t.Fatalf("match exited %d: %s", r.code, r.stderr)
	}
	bundle, n, err := exercise.SightingsFromMatches(strings.NewReader(r.stdout), time.Date(2026, 5, 4, 9, 1, 0, 0, time.UTC))
	if err != nil || n == 0 {
		c.t.Fatalf("%s: %d sightings from match (%v):\n%s", c.user, n, err, r.stdout)
	}
	var rep struct {
		Report exercise.ReportResult `json:"report"`
	}
	json.Unmarshal(c.do("POST", fmt.Sprintf("/api/v1/exercises/%d/sightings", exerciseID), bundle, "application/json"), &rep)
	return rep.Report.Alerts
}

// tableCounts counts the rows of every table of the SQLite files in dir.
func tableCounts(t *testing.T, dir string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, f := range []string{"cyberpact.db", "cyberpact-search.db"} {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, f)+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'`)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for rows.Next() {
			var n string
			rows.Scan(&n)
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			var c int
			if err := db.QueryRow(`SELECT count(*) FROM "` + n + `"`).Scan(&c); err != nil {
				t.Fatal(err)
			}
			out[f+":"+n] = c
		}
		db.Close()
	}
	return out
}

// TestExerciseOnTheHubEndToEnd runs the hub drill on a real server over
// SQLite with two participants: alpha discovers the adversary's server
// (an inject), finds the beacons in its telemetry with `cyberpact match`,
// reports them and warns beta through the exercise-wide collection; beta
// finds them with alpha's indicators. The scores are known in advance
// from the injected clock; nothing of the exercise is seen outside it,
// and a purge leaves no row behind.
func TestExerciseOnTheHubEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(org, user, sector string) (*cyberpact.Org, *drillClient) {
		o := &cyberpact.Org{Name: org, Nation: "GB", Sector: sector}
		if err := db.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
		u := &cyberpact.User{Name: user, Org: o.ID, Role: cyberpact.RoleAnalyst}
		if err := db.CreateUser(ctx, u, "test"); err != nil {
			t.Fatal(err)
		}
		key, _, err := db.CreateKey(ctx, u.ID, time.Time{}, "test")
		if err != nil {
			t.Fatal(err)
		}
		return o, &drillClient{t: t, user: user, key: key}
	}
	alphaOrg, alpha := mk("Alpha Bank", "alice", "finance")
	betaOrg, beta := mk("Beta Grid", "bob", "energy")
	_, carol := mk("Gamma Telecom", "carol", "telecom")
	before := tableCounts(t, dir)

	srv := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t0 := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	now := t0
	srv.Exercise.Now = func() time.Time { return now }
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	defer func() { cancel(); <-done; db.Close() }()
	for _, c := range []*drillClient{alpha, beta, carol} {
		c.base = "http://" + srv.Addr()
	}

	scenario, err := os.ReadFile("../../http/testdata/exercise-hub-drill.json")
	if err != nil {
		t.Fatal(err)
	}
	// Speed 60: a wall second is a scenario minute.
	x, err := srv.Exercise.Start(ctx, "hub-drill.json", scenario, map[string]int64{"alpha": alphaOrg.ID, "beta": betaOrg.ID}, 3, 60)
	if err != nil {
		t.Fatal(err)
	}
	own := func(org *cyberpact.Org) string {
		return cphttp.CollectionID(fmt.Sprintf("exercise:%d:org:%d", x.ID, org.ID))
	}
	wide := cphttp.CollectionID(fmt.Sprintf("exercise:%d", x.ID))
	tick := func(at time.Duration) {
		now = t0.Add(at)
		if err := srv.Exercise.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}

	tick(10 * time.Second) // 10m: alpha discovers the beacon's server
	tick(40 * time.Second) // 40m: the three beacons (30m, 35m, 40m) reached both

	// Alpha: its own indicators (the discovery) find its beacons.
	intel, objs := alpha.indicators(own(alphaOrg))
	if len(objs) == 0 {
		t.Fatal("alpha holds no indicators after its discovery")
	}
	if got := alpha.detect(dir, x.ID, intel); got != 3 {
		t.Errorf("alpha's report recorded %d alerts, want the 3 beacons", got)
	}
	// Alpha warns everyone: its own indicators of the same values,
	// posted to the exercise-wide collection.
	var shared []map[string]any
	for i, o := range objs {
		o["id"] = fmt.Sprintf("indicator--7a1c0000-0000-4000-8000-%012d", i+1)
		shared = append(shared, o)
	}
	env, _ := json.Marshal(map[string]any{"objects": shared})
	alpha.do("POST", "/taxii2/api1/collections/"+wide+"/objects/", env, "application/taxii+json;version=2.1")

	// Beta, ten seconds later, with alpha's warning.
	now = t0.Add(50 * time.Second)
	intel, objs = beta.indicators(wide)
	if len(objs) != len(shared) {
		t.Fatalf("beta reads %d indicators in the exercise-wide collection, want alpha's %d", len(objs), len(shared))
	}
	if got := beta.detect(dir, x.ID, intel); got != 3 {
		t.Errorf("beta's report recorded %d alerts, want the 3 beacons", got)
	}
	tick(3 * time.Minute) // past the 2h scenario: finished

	var status struct {
		State  string          `json:"state"`
		Scores exercise.Result `json:"scores"`
	}
	json.Unmarshal(alpha.do("GET", fmt.Sprintf("/api/v1/exercises/%d", x.ID), nil, ""), &status)
	if status.State != "finished" {
		t.Errorf("exercise is %s, want finished", status.State)
	}
	type score struct {
		Participant         string
		Instances, Detected int
		FalsePositives      int
		TTD, TTW            float64
		Source, Via         string
	}
	var got []score
	for _, r := range status.Scores.Rows {
		s := score{Participant: r.Participant, Source: r.Source, Via: r.HeldVia}
		if r.Fired {
			s.Instances = 1
		}
		if r.Detected {
			s.Detected = 1
		}
		if r.TimeToDetect != nil {
			s.TTD = *r.TimeToDetect
		}
		if r.TimeToWarn != nil {
			s.TTW = *r.TimeToWarn
		}
		got = append(got, s)
	}
	for _, p := range status.Scores.Participants {
		for i := range got {
			if got[i].Participant == p.Participant {
				got[i].FalsePositives = p.FalsePositives
			}
		}
	}
	// The first beacon is at 30m = t0+30s; alpha reports at t0+40s, beta
	// at t0+50s; alpha held the indicator from its discovery (t0+10s),
	// the first anyone did, and beta from alpha's warning (t0+40s).
	want := []score{
		{Participant: "alpha", Instances: 1, Detected: 1, TTD: 10, TTW: 0, Source: "intel", Via: "discovery"},
		{Participant: "beta", Instances: 1, Detected: 1, TTD: 20, TTW: 30, Source: "intel", Via: "share from alpha"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
	for _, suffix := range []string{"/report.md", "/report.html", "/navigator.json"} {
		if b := beta.do("GET", fmt.Sprintf("/api/v1/exercises/%d%s", x.ID, suffix), nil, ""); !bytes.Contains(b, []byte("hub-drill")) {
			t.Errorf("%s does not name the exercise", suffix)
		}
	}

	// Outside the exercise nothing of it exists: not for its own
	// participants' normal reads, not for anyone else, not by search.
	for _, c := range []*drillClient{alpha, beta, carol} {
		for _, path := range []string{"/api/v1/objects?limit=10000", "/api/v1/objects?limit=10000&q=beacon", "/api/v1/stats"} {
			if b := c.do("GET", path, nil, ""); bytes.Contains(b, []byte("indicator")) || bytes.Contains(b, []byte("observed-data")) {
				t.Errorf("%s as %s shows exercise objects: %.300s", path, c.user, b)
			}
		}
	}
	if b := carol.do("GET", "/api/v1/exercises", nil, ""); bytes.Contains(b, []byte("hub-drill")) {
		t.Errorf("a non-participant lists the exercise: %s", b)
	}

	// The purge, from the command line: every table is as it was before
	// the exercise, but the audit log, which records it, imports, which
	// only keeps the sequence of object numbers, and stats_kept, the
	// counts the stats calls above kept of what each viewer sees outside
	// any exercise (exercise objects are never counted there).
	r := cli(t, "exercise", "purge", fmt.Sprint(x.ID), "--data", dir)
	if r.code != 0 {
		t.Fatalf("purge exited %d: %s", r.code, r.stderr)
	}
	after := tableCounts(t, dir)
	for _, k := range []string{"cyberpact.db:imports", "cyberpact.db:stats_kept"} {
		delete(before, k)
		delete(after, k)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("rows left by the purge (-before +after):\n%s", diff)
	}
	entries, err := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditDelete})
	if err != nil || len(entries) == 0 || !strings.Contains(entries[len(entries)-1].Detail, "purged") {
		t.Errorf("the purge is not in the audit log: %v %+v", err, entries)
	}
	if r := cli(t, "exercise", "status", fmt.Sprint(x.ID), "--data", dir); r.code == 0 {
		t.Errorf("status of a purged exercise exited 0: %s", r.stdout)
	}
}

// TestExerciseStartChecksTheScenario shows that start refuses what
// simulate refuses, with the file, line and field of each problem, and
// refuses participants no organisation plays; nothing is started.
func TestExerciseStartChecksTheScenario(t *testing.T) {
	dir := t.TempDir()
	if r := cli(t, "org", "create", "Alpha Bank", "--nation", "GB", "--sector", "finance", "--data", dir); r.code != 0 {
		t.Fatal(r.stderr)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{
  "schema": "cyberpact-exercise/1",
  "name": "bad",
  "participants": [{"id": "a", "name": "A"}],
  "steps": [
    {"id": "s", "technique": "T1071.001", "generator": "nope", "targets": ["a"], "at": "0m"}
  ]
}`), 0o600)
	for _, tc := range []struct {
		name, scenario, participants, want string
	}{
		{"UnknownGeneratorWithLineAndField", bad, "a=Alpha Bank", "bad.json:6: steps[0].generator"},
		{"ParticipantWithoutOrganisation", "financial-drill", "central-bank=Alpha Bank", `participant "commercial-bank" has no organisation`},
		{"UnknownParticipant", "financial-drill", "central-bank=Alpha Bank,nobody=Alpha Bank", `no participant "nobody"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, "exercise", "start", tc.scenario, "--participants", tc.participants, "--data", dir)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
	if r := cli(t, "exercise", "status", "1", "--data", dir); r.code == 0 {
		t.Errorf("an exercise was started: %s", r.stdout)
	}
}
