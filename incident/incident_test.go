package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// cell is one hub with three organisations: US and UK in the sharing
// group Cell, Bank in none.
type cell struct {
	db           store
	svc          *incident.Service
	us, uk, bank incident.Caller
	group        int64
	clock        time.Time
}

// store is what the tests need of a store: both engines have it.
type store interface {
	cyberpact.ObjectStore
	cyberpact.AuditLog
	cyberpact.AccountService
}

// engines runs f on each store: SQLite always, PostgreSQL (in a fresh
// schema) when CYBERPACT_TEST_POSTGRES names a database.
func engines(t *testing.T, f func(t *testing.T, db store)) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		base := os.Getenv("CYBERPACT_TEST_POSTGRES")
		if base == "" {
			t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		ctx := context.Background()
		schema := "t_incident_" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
		exec := func(sql string) {
			conn, err := pgx.Connect(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
		}
		exec("CREATE SCHEMA " + schema)
		t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
}

func newCell(t *testing.T, db store) *cell {
	ctx := context.Background()
	c := &cell{db: db, clock: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	c.svc = &incident.Service{Store: db, Audit: db, Now: func() time.Time { c.clock = c.clock.Add(time.Second); return c.clock }}
	orgs := map[string]*cyberpact.Org{}
	for _, n := range []string{"US CISA", "UK NCSC", "Bank"} {
		o := &cyberpact.Org{Name: n, Nation: "GB", Sector: "government"}
		if err := db.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
		orgs[n] = o
	}
	g := &cyberpact.Group{Name: "Cell", Orgs: []int64{orgs["US CISA"].ID, orgs["UK NCSC"].ID}}
	if err := db.CreateGroup(ctx, g, "test"); err != nil {
		t.Fatal(err)
	}
	c.group = g.ID
	caller := func(org, user string, groups ...int64) incident.Caller {
		return incident.Caller{Viewer: cyberpact.Viewer{Org: orgs[org].ID, Groups: groups}, OrgName: org, CanWrite: true,
			Actor: cyberpact.Actor{Name: user, Org: orgs[org].ID, Via: "test"}}
	}
	c.us, c.uk, c.bank = caller("US CISA", "ann@cisa.example", g.ID), caller("UK NCSC", "bo@ncsc.example", g.ID), caller("Bank", "cy@bank.example")
	return c
}

func (c *cell) open(t *testing.T) *incident.Case {
	t.Helper()
	cs, err := c.svc.Create(context.Background(), c.us, incident.NewIncident{Name: "Grid intrusion", Severity: "high",
		Sectors: []string{"energy"}, Partners: []string{"US CISA", "UK NCSC"},
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: c.group}, TLP: cyberpact.TLPAmber})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func code(err error) string { return cyberpact.ErrorCode(err) }

func TestTaskAssignedAcrossOrganisationsMergesByVersion(t *testing.T) {
	engines(t, func(t *testing.T, db store) { taskassignedacrossorganisationsmergesbyversion_(t, db) })
}

func taskassignedacrossorganisationsmergesbyversion_(t *testing.T, db store) {
	ctx := context.Background()
	c := newCell(t, db)
	cs := c.open(t)
	task, err := c.svc.AddTask(ctx, c.us, cs.ID, incident.NewTask{Title: "Triage loader", Assignee: "bo@ncsc.example", AssigneeOrg: "UK NCSC"})
	if err != nil {
		t.Fatal(err)
	}
	v1 := task.Version

	t.Run("AssigneeInAnotherOrganisationUpdatesThroughItsOwnObject", func(t *testing.T) {
		st := "in-progress"
		got, err := c.svc.UpdateTask(ctx, c.uk, cs.ID, task.ID, incident.TaskEdit{BasedOn: v1, Status: &st, Comment: "on it"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "in-progress" || len(got.History) != 2 || got.History[1].Type != incident.TypeTaskUpdate {
			t.Fatalf("after UK's update: %+v", got)
		}
		// The task object itself is still only US's.
		vs, err := c.db.ObjectVersions(ctx, task.ID, nil)
		if err != nil || len(vs) != 1 || vs[0].Release.Producer != c.us.Actor.Org {
			t.Errorf("task versions: %v %v", vs, err)
		}
		// US sees the update.
		fromUS, err := c.svc.Task(ctx, c.us, cs.ID, task.ID)
		if err != nil || fromUS.Status != "in-progress" || fromUS.Version != got.Version {
			t.Errorf("US sees %+v, %v", fromUS, err)
		}
	})
	t.Run("StaleEditRefusedNamingTheCurrentVersion", func(t *testing.T) {
		cur, _ := c.svc.Task(ctx, c.us, cs.ID, task.ID)
		st := "done"
		_, err := c.svc.UpdateTask(ctx, c.us, cs.ID, task.ID, incident.TaskEdit{BasedOn: v1, Status: &st})
		if code(err) != cyberpact.ECONFLICT || !strings.Contains(err.Error(), cur.Version) {
			t.Fatalf("stale edit: %v; want a conflict naming %s", err, cur.Version)
		}
		after, _ := c.svc.Task(ctx, c.us, cs.ID, task.ID)
		if after.Version != cur.Version || after.Status != "in-progress" {
			t.Errorf("a refused edit changed the task: %+v", after)
		}
		_, err = c.svc.UpdateTask(ctx, c.us, cs.ID, task.ID, incident.TaskEdit{Status: &st})
		if code(err) != cyberpact.EINVALID {
			t.Errorf("edit without based_on: %v", err)
		}
	})
	t.Run("OnlyTheOwnerReassigns", func(t *testing.T) {
		cur, _ := c.svc.Task(ctx, c.uk, cs.ID, task.ID)
		who := "someone@ncsc.example"
		_, err := c.svc.UpdateTask(ctx, c.uk, cs.ID, task.ID, incident.TaskEdit{BasedOn: cur.Version, Assignee: &who})
		if code(err) != cyberpact.EFORBIDDEN {
			t.Errorf("UK reassigning US's task: %v", err)
		}
		got, err := c.svc.UpdateTask(ctx, c.us, cs.ID, task.ID, incident.TaskEdit{BasedOn: cur.Version, Assignee: &who})
		if err != nil || got.Assignee != who || got.Status != "in-progress" {
			t.Fatalf("US reassigning: %+v %v", got, err)
		}
		vs, _ := c.db.ObjectVersions(ctx, task.ID, nil)
		if len(vs) != 2 {
			t.Errorf("the owner's edit should be a new version of the task: %d versions", len(vs))
		}
	})
	t.Run("ConcurrentEditsFromTwoHubsAreBothKeptAndMergeDeterministically", func(t *testing.T) {
		cur, _ := c.svc.Task(ctx, c.us, cs.ID, task.ID)
		// Two updates based on the same version, as two hubs accept them
		// each before hearing of the other, arrive in either order.
		at := func(d time.Duration) string { return stix.FormatTime(c.clock.Add(d)) }
		upd := func(n int, status, when string) map[string]any {
			return map[string]any{"type": incident.TypeTaskUpdate, "spec_version": "2.1", "id": "x-cyberpact-task-update--00000000-0000-4000-8000-00000000000" + string(rune('0'+n)),
				"created": when, "modified": when, "incident_ref": cs.ID, "task_ref": task.ID, "based_on": cur.Version, "status": status,
				"author": "remote@ncsc.example", "author_org": "UK NCSC"}
		}
		blocked, done := upd(1, "blocked", at(time.Hour)), upd(2, "done", at(2*time.Hour))
		importAs(t, c.db, c.uk.Actor.Org, c.group, done)
		importAs(t, c.db, c.uk.Actor.Org, c.group, blocked)
		a, _ := c.svc.Task(ctx, c.us, cs.ID, task.ID)
		b, _ := c.svc.Task(ctx, c.uk, cs.ID, task.ID)
		if a.Status != "done" || b.Status != "done" || a.Version != b.Version {
			t.Fatalf("merged: US %s@%s, UK %s@%s; want done on both (the later version wins)", a.Status, a.Version, b.Status, b.Version)
		}
		n := len(a.History)
		if a.History[n-2].Changes["status"] != "blocked" || a.History[n-1].Changes["status"] != "done" || !a.History[n-1].Concurrent || a.History[n-2].Concurrent {
			t.Errorf("history should keep both, the second marked concurrent: %+v", a.History[n-2:])
		}
	})
}

func importAs(t *testing.T, db store, org, group int64, objs ...map[string]any) {
	t.Helper()
	for _, o := range objs {
		o["object_marking_refs"] = []string{stix.TLPMarking(cyberpact.TLPAmber)}
	}
	body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000001", "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(body))
	defer dec.Close()
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: org, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: group}})
	if err != nil || !res.Committed || len(res.Rejected) > 0 {
		t.Fatalf("import: %v %+v %v", err, res, res.Rejected)
	}
}

func TestRedNoteStaysWithTheGroup(t *testing.T) {
	engines(t, func(t *testing.T, db store) { rednotestayswiththegroup_(t, db) })
}

func rednotestayswiththegroup_(t *testing.T, db store) {
	ctx := context.Background()
	c := newCell(t, db)
	cs := c.open(t)
	red, err := c.svc.AddNote(ctx, c.uk, cs.ID, incident.NewNote{Kind: "decision", Content: "source is HUMINT-X",
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: c.group}, TLP: cyberpact.TLPRed})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []incident.Caller{c.us, c.uk} {
		got, err := c.svc.Get(ctx, who, cs.ID)
		if err != nil || len(got.Notes) != 1 || got.Notes[0].ID != red.ID || got.Notes[0].TLP != "red" {
			t.Errorf("%s: notes %+v, %v", who.OrgName, got, err)
		}
	}
	if _, err := c.svc.Get(ctx, c.bank, cs.ID); code(err) != cyberpact.ENOTFOUND {
		t.Errorf("Bank reads the incident: %v", err)
	}
	if l, _, err := c.svc.List(ctx, c.bank); err != nil || len(l) != 0 {
		t.Errorf("Bank lists %v, %v", l, err)
	}
	_, err = c.svc.AddNote(ctx, c.us, cs.ID, incident.NewNote{Content: "x", Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPRed})
	if code(err) != cyberpact.EINVALID {
		t.Errorf("a RED note to all members: %v", err)
	}
}

func TestRequestForAssistance(t *testing.T) {
	engines(t, func(t *testing.T, db store) { requestforassistance_(t, db) })
}

func requestforassistance_(t *testing.T, db store) {
	ctx := context.Background()
	c := newCell(t, db)
	cs := c.open(t)
	q, err := c.svc.RequestAssistance(ctx, c.us, cs.ID, incident.NewRFA{Kind: "takedown", To: []string{"UK NCSC"}, Description: "take down c2.example"})
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != "pending" || q.ForCaller {
		t.Errorf("new request for its asker: %+v", q)
	}
	if _, err := c.svc.Respond(ctx, c.us, cs.ID, q.ID, "accept", ""); code(err) != cyberpact.EFORBIDDEN {
		t.Errorf("the asker accepting its own request: %v", err)
	}
	if _, err := c.svc.Respond(ctx, c.uk, cs.ID, q.ID, "maybe", ""); code(err) != cyberpact.EINVALID {
		t.Errorf("decision maybe: %v", err)
	}
	got, err := c.svc.Respond(ctx, c.uk, cs.ID, q.ID, "accept", "registrar contacted")
	if err != nil || got.Status != "accepted" {
		t.Fatalf("accept: %+v %v", got, err)
	}
	full, _ := c.svc.Get(ctx, c.us, cs.ID)
	if len(full.Working) != 1 || !strings.Contains(full.Working[0].Who, "bo@ncsc.example") {
		t.Errorf("who works on what: %+v", full.Working)
	}
	if l, _, _ := c.svc.List(ctx, c.uk); len(l) != 1 || l[0].RFAsToCaller != 0 {
		t.Errorf("UK's list after answering: %+v", l)
	}
}
