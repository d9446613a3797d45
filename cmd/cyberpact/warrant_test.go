package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWarrantCommands runs the warrant flow on the command line: redaction
// set up with privacy policy, key and approver; an unmask warrant asked
// for, its requester's approval refused (exit 1), approved by the
// approver, used; bad input is a usage error (exit 2) or a refused one
// (exit 1) that changes nothing; audit verify holds.
func TestWarrantCommands(t *testing.T) {
	data := t.TempDir()
	mustRun(t, "org", "create", "Northbank", "--nation", "GB", "--sector", "finance", "--data", data)
	mustRun(t, "org", "create", "CERT-X", "--nation", "FR", "--sector", "government", "--data", data)
	mustRun(t, "user", "create", "xavier", "--org", "CERT-X", "--role", "analyst", "--data", data)
	mustRun(t, "user", "create", "judge", "--org", "CERT-X", "--role", "analyst", "--data", data)
	key := filepath.Join(t.TempDir(), "partnership.key")
	if err := os.WriteFile(key, []byte("the alliance's partnership key"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "privacy", "key", "--file", key, "--data", data)
	mustRun(t, "privacy", "policy", "--group", "default", "--detect", "email,phone", "--data", data)
	mustRun(t, "privacy", "approver", "judge", "--data", data)
	if r := mustRun(t, "privacy", "policy", "--data", data); !strings.Contains(r.stdout, "default  email,phone") {
		t.Errorf("privacy policy lists:\n%s", r.stdout)
	}
	bundle := filepath.Join(t.TempDir(), "victim.json")
	os.WriteFile(bundle, []byte(`{"type":"bundle","id":"bundle--6f1f2a0e-7a4b-4b8e-9a51-3c7d2e1f0a99","objects":[
		{"type":"email-addr","spec_version":"2.1","value":"jane.doe@northbank.example"}]}`), 0o644)
	mustRun(t, "import", bundle, "--org", "Northbank", "--data", data)
	exp := mustRun(t, "export", "--org", "CERT-X", "--type", "email-addr", "--data", data)
	ps := regexp.MustCompile(`pd:email:[0-9a-f]{32}`).FindString(exp.stdout)
	if ps == "" || strings.Contains(exp.stdout, "jane.doe") {
		t.Fatalf("CERT-X's export:\n%s", exp.stdout)
	}

	short := filepath.Join(t.TempDir(), "short.key")
	os.WriteFile(short, []byte("too short"), 0o600)
	for _, bad := range []struct {
		code int
		says string
		args []string
	}{
		{2, "--as is required", []string{"warrant", "request", "--kind", "unmask", "--target", ps, "--justification", "incident 7 response"}},
		{2, `ttl "soon"`, []string{"warrant", "request", "--as", "xavier", "--kind", "unmask", "--target", ps, "--justification", "incident 7 response", "--ttl", "soon"}},
		{1, "not a pseudonym", []string{"warrant", "request", "--as", "xavier", "--kind", "unmask", "--target", "jane", "--justification", "incident 7 response"}},
		{1, "justification", []string{"warrant", "request", "--as", "xavier", "--kind", "unmask", "--target", ps, "--justification", "why"}},
		{1, `no user named "nobody"`, []string{"warrant", "request", "--as", "nobody", "--kind", "unmask", "--target", ps, "--justification", "incident 7 response"}},
		{2, "not a positive number", []string{"warrant", "approve", "one", "--as", "judge"}},
		{1, "no warrant 1", []string{"warrant", "approve", "1", "--as", "judge"}},
		{1, `detector "passport"`, []string{"privacy", "policy", "--group", "default", "--detect", "passport"}},
		{2, "--group is required", []string{"privacy", "policy", "--detect", "all"}},
		{1, "at least 16", []string{"privacy", "key", "--file", short}},
		{1, "no such file", []string{"privacy", "key", "--file", bundle + ".missing"}},
	} {
		r := cli(t, append(bad.args, "--data", data)...)
		if r.code != bad.code || !strings.Contains(r.stderr, bad.says) {
			t.Errorf("%s: exit %d, %s; want exit %d saying %q", strings.Join(bad.args, " "), r.code, r.stderr, bad.code, bad.says)
		}
	}
	if r := mustRun(t, "warrant", "list", "--data", data); strings.Contains(r.stdout, "unmask") {
		t.Errorf("a refused request left a warrant:\n%s", r.stdout)
	}

	mustRun(t, "warrant", "request", "--as", "xavier", "--kind", "unmask", "--target", ps, "--justification", "Incident 7: warn the victim", "--ttl", "2h", "--data", data)
	if r := cli(t, "warrant", "approve", "1", "--as", "xavier", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "you asked for it") {
		t.Errorf("self-approval: exit %d, %s", r.code, r.stderr)
	}
	if r := cli(t, "warrant", "unmask", "1", "--as", "xavier", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "not approved") {
		t.Errorf("unmask before approval: exit %d, %s", r.code, r.stderr)
	}
	mustRun(t, "warrant", "approve", "1", "--as", "judge", "--reason", "proportionate", "--data", data)
	if r := mustRun(t, "warrant", "unmask", "1", "--as", "xavier", "--data", data); r.stdout != "jane.doe@northbank.example\n" {
		t.Errorf("unmask printed %q", r.stdout)
	}
	r := mustRun(t, "audit", "list", "--action", "warrant", "--data", data)
	for _, want := range []string{"requested for 2h0m0s", "approval denied", "approved until", "used by xavier"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("audit list --action warrant lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "jane.doe") {
		t.Errorf("the audit log holds the value:\n%s", r.stdout)
	}
	mustRun(t, "audit", "verify", "--data", data)
}
