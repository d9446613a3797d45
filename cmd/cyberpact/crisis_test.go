package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrisisCommands declares a crisis on an incident shared with a
// group, shows its status, acknowledges for one partner, manages an
// escalation contact and ends it, from the command line; bad input is
// refused with what was wrong and changes nothing.
func TestCrisisCommands(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "US-CERT", "--nation", "US", "--sector", "government", "--data", dir)
	mustRun(t, "org", "create", "NCSC", "--nation", "GB", "--sector", "government", "--data", dir)
	mustRun(t, "org", "create", "ANSSI", "--nation", "FR", "--sector", "government", "--data", dir)
	mustRun(t, "group", "create", "cell", "--orgs", "US-CERT,NCSC", "--data", dir)
	bundle := filepath.Join(t.TempDir(), "incident.json")
	const inc = "incident--00000001-0000-4000-8000-000000000018"
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000018","objects":[`+
		`{"type":"incident","spec_version":"2.1","id":"`+inc+`","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"Grid outage"},`+
		`{"type":"malware","spec_version":"2.1","id":"malware--00000001-0000-4000-8000-000000000018","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"m","is_family":true}]}`), 0o600)
	mustRun(t, "import", "--org", "US-CERT", "--audience", "group:cell", "--tlp", "amber", "--data", dir, bundle)

	t.Run("BadInputRefused", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"crisis", "declare", "malware--00000001-0000-4000-8000-000000000018"}, 1, "not a STIX incident id"},
			{[]string{"crisis", "declare", "incident--00000001-0000-4000-8000-000000000099"}, 1, "no incident"},
			{[]string{"crisis", "declare", inc, "--escalate-after", "10s"}, 2, "shorter than a minute"},
			{[]string{"crisis", "declare"}, 2, "INCIDENT-ID"},
			{[]string{"crisis", "status", "x"}, 2, `"x" is not a number`},
			{[]string{"crisis", "status", "7"}, 1, "no crisis 7"},
			{[]string{"crisis", "ack", "7"}, 2, "--org"},
			{[]string{"crisis", "contact-add", "--org", "NCSC", "--level", "0", "--channel", "email", "--target", "d@ncsc.test"}, 1, "level 0"},
			{[]string{"crisis", "contact-add", "--org", "NCSC", "--level", "1", "--channel", "pager", "--target", "d@ncsc.test"}, 1, "pager"},
			{[]string{"crisis", "contact-add", "--org", "Nobody", "--level", "1", "--channel", "email", "--target", "d@ncsc.test"}, 1, "Nobody"},
		} {
			before := mustRun(t, "crisis", "list", "--json", "--data", dir).stdout
			r := cli(t, append(c.args, "--data", dir)...)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("%v: exit %d, stderr %q; want exit %d naming %q", c.args, r.code, r.stderr, c.code, c.msg)
			}
			if after := mustRun(t, "crisis", "list", "--json", "--data", dir).stdout; after != before {
				t.Errorf("%v changed the crises", c.args)
			}
		}
	})

	out := mustRun(t, "crisis", "contact-add", "--org", "NCSC", "--level", "1", "--name", "duty officer", "--channel", "webhook", "--target", "https://ncsc.test/duty", "--data", dir).stdout
	if !strings.Contains(out, "contact 1 added to NCSC") || !strings.Contains(out, "whsec_") {
		t.Errorf("contact-add: %s", out)
	}
	if out := mustRun(t, "crisis", "contacts", "--org", "NCSC", "--data", dir).stdout; !strings.Contains(out, "duty officer") || strings.Contains(out, "whsec_") {
		t.Errorf("contacts: %s", out)
	}
	out = mustRun(t, "crisis", "declare", inc, "--escalate-after", "10m", "--data", dir).stdout
	if !strings.Contains(out, "crisis 1 declared on "+inc+": 2 partner organisations alerted") {
		t.Errorf("declare: %s", out)
	}
	if r := cli(t, "crisis", "declare", inc, "--data", dir); r.code != 1 || !strings.Contains(r.stderr, "already has an open crisis") {
		t.Errorf("declared twice: %d %s", r.code, r.stderr)
	}
	if r := cli(t, "crisis", "ack", "1", "--org", "ANSSI", "--data", dir); r.code != 1 || !strings.Contains(r.stderr, "not alerted") {
		t.Errorf("ANSSI, outside the audience, acknowledges: %d %s", r.code, r.stderr)
	}
	mustRun(t, "crisis", "ack", "1", "--org", "US-CERT", "--data", dir)
	out = mustRun(t, "crisis", "status", "1", "--data", dir).stdout
	if !strings.Contains(out, `"Grid outage": open`) || !strings.Contains(out, "1 of 2 acknowledged") || !strings.Contains(out, "NCSC") || strings.Contains(out, "ANSSI") {
		t.Errorf("status:\n%s", out)
	}
	var st struct {
		Partners []struct {
			Org          string
			Acknowledged bool
			Level        int    `json:"escalation_level"`
			Levels       int    `json:"contact_levels"`
			EscalatesAt  string `json:"escalates_at"`
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "crisis", "status", "1", "--json", "--data", dir).stdout), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Partners) != 2 || st.Partners[0].Org != "NCSC" || st.Partners[0].Acknowledged || st.Partners[0].Levels != 1 || st.Partners[0].EscalatesAt == "" ||
		st.Partners[1].Org != "US-CERT" || !st.Partners[1].Acknowledged || st.Partners[1].EscalatesAt != "" {
		t.Errorf("status as JSON: %+v", st)
	}
	mustRun(t, "crisis", "end", "1", "--data", dir)
	if r := cli(t, "crisis", "ack", "1", "--org", "NCSC", "--data", dir); r.code != 1 || !strings.Contains(r.stderr, "has ended") {
		t.Errorf("acknowledged after the end: %d %s", r.code, r.stderr)
	}
	mustRun(t, "crisis", "contact-remove", "1", "--org", "NCSC", "--data", dir)
	if out := mustRun(t, "crisis", "list", "--data", dir).stdout; !strings.Contains(out, "ended") {
		t.Errorf("list: %s", out)
	}
	audit := mustRun(t, "audit", "list", "--action", "crisis", "--data", dir).stdout
	for _, want := range []string{"crisis 1 declared", "crisis 1 acknowledged", "crisis 1 ended", "crisis contact 1 added", "crisis contact 1 removed"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log does not say %q:\n%s", want, audit)
		}
	}
}
