package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// Issue 16: what the command line prints names organisations and groups,
// as an operator typed them, and the audit trail of an organisation holds
// its own account changes.

// TestAuditListOrgShowsItsOwnAccountChanges runs the README tour's
// account commands and then its audit command: the organisation's own
// record, its user and the user's keys (created and revoked) are in its
// trail, named for it, and another organisation's are not.
func TestAuditListOrgShowsItsOwnAccountChanges(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "org", "create", "UK NCRC", "--nation", "GB", "--sector", "government", "--data", data)
	mustRun(t, "org", "create", "US Agency", "--nation", "US", "--sector", "government", "--data", data)
	mustRun(t, "user", "create", "alice", "--org", "UK NCRC", "--role", "analyst", "--data", data)
	mustRun(t, "user", "create", "bob", "--org", "US Agency", "--role", "analyst", "--data", data)
	mustRun(t, "key", "create", "alice", "--expires", "90d", "--data", data)
	r := mustRun(t, "audit", "list", "--org", "UK NCRC", "--since", "24h", "--data", data)
	for _, want := range []string{`created organisation "UK NCRC"`, `created user "alice"`, `for user "alice"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit list --org \"UK NCRC\" does not show %q:\n%s", want, r.stdout)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if !strings.Contains(line, `for "UK NCRC"`) {
			t.Errorf("entry %q does not name the organisation it concerns", line)
		}
	}
	for _, not := range []string{"US Agency", "bob"} {
		if strings.Contains(r.stdout, not) {
			t.Errorf("UK NCRC's trail shows another organisation's change (%s):\n%s", not, r.stdout)
		}
	}
	// A revocation is the organisation's too.
	keys := mustRun(t, "key", "list", "--json", "--data", data)
	var ks []struct{ ID int64 }
	if err := json.Unmarshal([]byte(keys.stdout), &ks); err != nil || len(ks) == 0 {
		t.Fatalf("key list --json: %s %v", keys.stdout, err)
	}
	mustRun(t, "key", "revoke", jsonNumber(ks[0].ID), "--data", data)
	r = mustRun(t, "audit", "list", "--org", "UK NCRC", "--data", data)
	if !strings.Contains(r.stdout, "revoked key") {
		t.Errorf("the revocation of alice's key is not in UK NCRC's trail:\n%s", r.stdout)
	}
}

func jsonNumber(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestAuditAndPeerOutputNameAudiences: an import to a sharing group and a
// peer standing for one are recorded with the group's and organisation's
// names, and peer list and peer status --json print the audience as
// --audience takes it, never as a Go struct.
func TestAuditAndPeerOutputNameAudiences(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "org", "create", "UK NCRC", "--nation", "GB", "--sector", "government", "--data", data)
	mustRun(t, "org", "create", "US Agency", "--nation", "US", "--sector", "government", "--data", data)
	mustRun(t, "group", "create", "Joint Cell", "--orgs", "UK NCRC,US Agency", "--data", data)
	mustRun(t, "import", "--org", "UK NCRC", "--audience", "group:Joint Cell", writeBundle(t, mnIndicator(1)), "--data", data)
	mustRun(t, "peer", "add", "washington", "--url", "http://127.0.0.1:1/taxii2/api1/", "--collection", "c", "--key", "k",
		"--audience", "group:Joint Cell", "--org", "US Agency", "--data", data)
	r := mustRun(t, "audit", "list", "--data", data)
	for _, want := range []string{"audience group:Joint Cell;", "audience group:Joint Cell, pulled objects attributed to \"US Agency\""} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit list does not say %q:\n%s", want, r.stdout)
		}
	}
	if m := regexp.MustCompile(`group:\d|org \d`).FindString(r.stdout); m != "" {
		t.Errorf("audit list names an audience or organisation by id (%q):\n%s", m, r.stdout)
	}
	// The peer stands for US Agency: its addition is in that trail.
	if r := mustRun(t, "audit", "list", "--org", "US Agency", "--data", data); !strings.Contains(r.stdout, `account cli for "US Agency" via cli: peer washington added`) {
		t.Errorf("US Agency's trail does not hold the peer standing for it:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"peer", "list", "--json"}, {"peer", "status", "--json"}} {
		r := mustRun(t, append(args, "--data", data)...)
		if strings.Contains(r.stdout, `"Kind"`) || strings.Contains(r.stdout, `"Group"`) {
			t.Errorf("%s prints the audience as a struct:\n%s", strings.Join(args, " "), r.stdout)
		}
		if !strings.Contains(r.stdout, `"audience": "group:Joint Cell"`) || !strings.Contains(r.stdout, `"org_name": "US Agency"`) {
			t.Errorf("%s does not name the audience and organisation:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
}

// TestHelpNamesNoSourceFiles: no command's help, its flags' included,
// points a user at the project's source files.
func TestHelpNamesNoSourceFiles(t *testing.T) {
	src := regexp.MustCompile(`\b[A-Za-z0-9_/]+\.go\b`)
	for name := range commands {
		r := cli(t, "help", name)
		if r.code != 0 {
			t.Errorf("help %s: exit %d %s", name, r.code, r.stderr)
		}
		if m := src.FindString(r.stdout + r.stderr); m != "" {
			t.Errorf("help %s names the source file %s", name, m)
		}
	}
}
