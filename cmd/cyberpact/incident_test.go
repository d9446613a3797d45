package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/incident"
)

// TestIncidentCommands works one incident from the command line: opened by
// one organisation for a sharing group, a task assigned to a partner's
// analyst and updated by that partner, a stale update refused naming the
// current version, a RED note for the group, a request accepted; an
// organisation outside the group sees none of it; bad input is refused
// with what was wrong and changes nothing.
func TestIncidentCommands(t *testing.T) {
	dir := t.TempDir()
	for _, o := range [][2]string{{"US CISA", "US"}, {"UK NCSC", "GB"}, {"Bank", "DE"}} {
		mustRun(t, "org", "create", o[0], "--nation", o[1], "--sector", "government", "--data", dir)
	}
	mustRun(t, "group", "create", "Cell", "--orgs", "US CISA,UK NCSC", "--data", dir)
	mustRun(t, "user", "create", "bo@ncsc.example", "--org", "UK NCSC", "--role", "analyst", "--data", dir)
	us := []string{"--org", "US CISA", "--data", dir}
	uk := []string{"--org", "UK NCSC", "--user", "bo@ncsc.example", "--data", dir}
	with := func(args []string, who []string) []string { return append(args, who...) }

	id := strings.TrimSpace(mustRun(t, with([]string{"incident", "create", "Grid intrusion", "--severity", "high", "--sectors", "energy",
		"--partners", "US CISA,UK NCSC", "--audience", "group:Cell", "--tlp", "amber"}, us)...).stdout)
	if !strings.HasPrefix(id, "incident--") {
		t.Fatalf("incident create printed %q", id)
	}
	out := mustRun(t, with([]string{"incident", "task", id, "Reverse the loader", "--assignee", "bo@ncsc.example", "--assignee-org", "UK NCSC"}, us)...).stdout
	m := regexp.MustCompile(`^(x-cyberpact-task--\S+) version (\S+)\n$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("incident task printed %q", out)
	}
	task, v1 := m[1], m[2]

	list := mustRun(t, with([]string{"incident", "list"}, uk)...).stdout
	if !strings.Contains(list, id) || !regexp.MustCompile(`Grid intrusion\s+open\s+high\s+amber\s+1\s+1\s+0`).MatchString(list) {
		t.Errorf("UK's list:\n%s", list)
	}
	upd := mustRun(t, with([]string{"incident", "update", id, task, "--based-on", v1, "--status", "in-progress", "--comment", "on it"}, uk)...).stdout
	if !strings.Contains(upd, "in-progress") {
		t.Errorf("update printed %q", upd)
	}
	v2 := strings.Fields(upd)[3]
	r := cli(t, with([]string{"incident", "update", id, task, "--based-on", v1, "--status", "done"}, us)...)
	if r.code != 1 || !strings.Contains(r.stderr, v2) {
		t.Errorf("stale update: exit %d, %q; want 1 naming %s", r.code, r.stderr, v2)
	}
	red := strings.TrimSpace(mustRun(t, with([]string{"incident", "note", id, "source is sensitive", "--kind", "decision", "--tlp", "red", "--audience", "group:Cell"}, us)...).stdout)
	q := strings.TrimSpace(mustRun(t, with([]string{"incident", "request", id, "--kind", "takedown", "--description", "take down c2.example", "--to", "UK NCSC"}, us)...).stdout)
	mustRun(t, with([]string{"incident", "respond", id, q, "accept", "--comment", "registrar notified"}, uk)...)

	var cs incident.Case
	if err := json.Unmarshal([]byte(mustRun(t, with([]string{"incident", "show", id, "--json"}, uk)...).stdout), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs.Tasks) != 1 || cs.Tasks[0].Status != "in-progress" || len(cs.Notes) != 1 || cs.Notes[0].ID != red || cs.Notes[0].TLP != "red" ||
		len(cs.RFAs) != 1 || cs.RFAs[0].Status != "accepted" || len(cs.Working) != 2 {
		t.Errorf("UK's view: %+v", cs)
	}
	show := mustRun(t, with([]string{"incident", "show", id}, us)...).stdout
	for _, want := range []string{"Reverse the loader", "in-progress", "Who works on what:", "bo@ncsc.example", "accepted the request for takedown"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}

	t.Run("EditByItsOrganisationOnly", func(t *testing.T) {
		var cs incident.Case
		json.Unmarshal([]byte(mustRun(t, with([]string{"incident", "show", id, "--json"}, us)...).stdout), &cs)
		if r := cli(t, with([]string{"incident", "edit", id, "--based-on", cs.Version, "--status", "contained"}, uk)...); r.code != 1 || !strings.Contains(r.stderr, "only US CISA") {
			t.Errorf("UK editing US's incident: exit %d %q", r.code, r.stderr)
		}
		out := mustRun(t, with([]string{"incident", "edit", id, "--based-on", cs.Version, "--status", "contained"}, us)...).stdout
		if !strings.Contains(out, "contained") {
			t.Errorf("edit printed %q", out)
		}
		if r := cli(t, with([]string{"incident", "edit", id, "--based-on", cs.Version, "--status", "closed"}, us)...); r.code != 1 || !strings.Contains(r.stderr, "has changed") {
			t.Errorf("a stale edit: exit %d %q", r.code, r.stderr)
		}
	})
	t.Run("OutsideTheGroupNothingExists", func(t *testing.T) {
		if l := mustRun(t, "incident", "list", "--org", "Bank", "--data", dir).stdout; strings.Contains(l, id) {
			t.Errorf("Bank lists the incident:\n%s", l)
		}
		r := cli(t, "incident", "show", id, "--org", "Bank", "--data", dir)
		if r.code != 1 || !strings.Contains(r.stderr, "no incident "+id) {
			t.Errorf("Bank shows the incident: exit %d %q", r.code, r.stderr)
		}
		if g := cli(t, "get", red, "--org", "Bank", "--data", dir); g.code != 1 {
			t.Errorf("Bank gets the RED note: exit %d %s", g.code, g.stdout)
		}
	})
	t.Run("BadInputRefused", func(t *testing.T) {
		before := mustRun(t, with([]string{"incident", "show", id, "--json"}, us)...).stdout
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"incident", "create", "x"}, 2, "--org"},
			{with([]string{"incident", "create", "x", "--severity", "dire"}, us), 1, "dire"},
			{with([]string{"incident", "create", "x", "--audience", "group:Nope"}, us), 2, "group:Nope"},
			{with([]string{"incident", "note", id, "x", "--tlp", "red", "--audience", "all"}, us), 1, "TLP:RED"},
			{with([]string{"incident", "update", id, task, "--status", "done"}, us), 2, "--based-on"},
			{with([]string{"incident", "update", id, task, "--based-on", v2, "--assignee", "x"}, uk), 1, "only US CISA"},
			{with([]string{"incident", "respond", id, q, "maybe"}, uk), 2, "maybe"},
			{with([]string{"incident", "request", id, "--kind", "pizza", "--description", "x"}, us), 1, "pizza"},
			{with([]string{"incident", "task", "incident--00000000-0000-4000-8000-000000000000", "t"}, us), 1, "no incident"},
		} {
			r := cli(t, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, r.code, r.stderr, c.code, c.msg)
			}
		}
		if after := mustRun(t, with([]string{"incident", "show", id, "--json"}, us)...).stdout; after != before {
			t.Errorf("refused commands changed the incident")
		}
	})
}
