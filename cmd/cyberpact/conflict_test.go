package main

import (
	"strings"
	"testing"
)

// TestImportOnConflictPolicies (issue 16) on a small synthetic case: the
// same id and modified with other content is refused by default, naming
// --on-conflict; keep-stored leaves the stored content; replace stores the
// new one, says so, and the audit log records the replace.
func TestImportOnConflictPolicies(t *testing.T) {
	const id = "malware--0000000a-0000-4000-8000-000000000000"
	mal := func(desc string) string {
		return `{"type":"malware","spec_version":"2.1","id":"` + id + `","created":"2026-01-01T00:00:00.000Z",` +
			`"modified":"2026-01-01T00:00:00.000Z","name":"m","is_family":true,"description":"` + desc + `"}`
	}
	data := t.TempDir()
	mustRun(t, "import", "--data", data, writeBundle(t, mal("enterprise")))
	other := writeBundle(t, mal("ics"))

	r := cli(t, "import", "--data", data, other)
	if r.code != 1 || !strings.Contains(r.stderr, id+": conflict") || !strings.Contains(r.stderr, "conflict policy reject") || !strings.Contains(r.stderr, "--on-conflict") {
		t.Errorf("default: exit %d, stderr %q; want 1, the conflict naming the policy and --on-conflict", r.code, r.stderr)
	}
	r = mustRun(t, "import", "--data", data, "--on-conflict", "keep-stored", other)
	if !strings.Contains(r.stdout, "added 0, already present 0, conflicting kept as stored 1, rejected 0") {
		t.Errorf("keep-stored: %q", r.stdout)
	}
	if got := mustRun(t, "get", "--data", data, id).stdout; !strings.Contains(got, "enterprise") {
		t.Errorf("keep-stored changed the stored version: %s", got)
	}
	r = mustRun(t, "import", "--data", data, other, "--on-conflict", "replace")
	if !strings.Contains(r.stdout, "added 1, already present 0, replaced 1, rejected 0") || !strings.Contains(r.stdout, "replaced "+id+"@") {
		t.Errorf("replace: %q", r.stdout)
	}
	if got := mustRun(t, "get", "--data", data, id, "--versions").stdout; !strings.Contains(got, `"ics"`) || strings.Contains(got, "enterprise") {
		t.Errorf("after replace, the versions are %s; want the one version, with the new content", got)
	}
	audit := mustRun(t, "audit", "list", "--data", data, "--action", "write").stdout
	lines := strings.Split(strings.TrimSpace(audit), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, id+"@") || !strings.Contains(last, "on-conflict replace") {
		t.Errorf("the replace's audit entry: %q", last)
	}
	mustRun(t, "audit", "verify", "--data", data)
}
