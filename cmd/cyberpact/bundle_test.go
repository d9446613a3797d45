package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBundleCommands runs an offline exchange between two data directories
// through the command line: keys, trust, seal, open, and the refusals with
// their exit codes and reasons, nothing imported twice.
func TestBundleCommands(t *testing.T) {
	wa, lo, files := t.TempDir(), t.TempDir(), t.TempDir()
	mustRun(t, "org", "create", "US CISA", "--nation", "US", "--sector", "government", "--data", wa)
	mustRun(t, "org", "create", "London Hub", "--nation", "GB", "--sector", "government", "--data", wa)
	mustRun(t, "org", "create", "Washington Hub", "--nation", "US", "--sector", "government", "--data", lo)
	obj := func(n, tlp string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"indicator--0000000` + n + `-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"i` + n + `","pattern":"[ipv4-addr:value = '198.51.100.` + n + `']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["` + tlp + `"]}`
	}
	const green, red = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
	imp := func(aud, tlp, body string) {
		f := filepath.Join(t.TempDir(), "b.json")
		os.WriteFile(f, []byte(`{"type":"bundle","id":"bundle--00000001-0000-4000-8000-000000000001","objects":[`+body+`]}`), 0o600)
		mustRun(t, "import", "--org", "US CISA", "--audience", aud, "--tlp", tlp, "--data", wa, f)
	}
	imp("all", "green", obj("1", green))
	mustRun(t, "peer", "add", "london", "--url", "https://london.invalid/taxii2/api1/", "--collection", "offline", "--key", "unused",
		"--direction", "push", "--org", "London Hub", "--data", wa)
	mustRun(t, "peer", "add", "washington", "--url", "https://washington.invalid/taxii2/api1/", "--collection", "offline", "--key", "unused",
		"--direction", "pull", "--audience", "org", "--org", "Washington Hub", "--data", lo)

	t.Run("SealWithoutTrustRefused", func(t *testing.T) {
		r := cli(t, "bundle", "seal", "--peer", "london", "--out", filepath.Join(files, "none.bundle"), "--data", wa)
		if r.code != 1 || !strings.Contains(r.stderr, "peer london has no bundle key") {
			t.Fatalf("%d %q", r.code, r.stderr)
		}
	})
	waKey := strings.TrimSpace(mustRun(t, "bundle", "key", "--data", wa).stdout)
	loKey := strings.TrimSpace(mustRun(t, "bundle", "key", "--data", lo).stdout)
	if again := strings.TrimSpace(mustRun(t, "bundle", "key", "--data", wa).stdout); again != waKey || waKey == loKey {
		t.Fatalf("keys: %s then %s; London %s", waKey, again, loKey)
	}
	t.Run("BadKeyIsAUsageError", func(t *testing.T) {
		r := cli(t, "bundle", "trust", "london", "not-a-key", "--data", wa)
		if r.code != 2 || !strings.Contains(r.stderr, "is not an Ed25519 public key") {
			t.Fatalf("%d %q", r.code, r.stderr)
		}
	})
	mustRun(t, "bundle", "trust", "london", loKey, "--data", wa)
	mustRun(t, "bundle", "trust", "washington", waKey, "--data", lo)

	f1, f2 := filepath.Join(files, "1.bundle"), filepath.Join(files, "2.bundle")
	r := mustRun(t, "bundle", "seal", "--peer", "london", "--out", f1, "--data", wa)
	if !strings.Contains(r.stdout, "bundle 1 for peer london sealed") || !strings.Contains(r.stdout, ": 1 versions") {
		t.Fatalf("seal: %s", r.stdout)
	}
	t.Run("NeverOverwrites", func(t *testing.T) {
		r := cli(t, "bundle", "seal", "--peer", "london", "--out", f1, "--data", wa)
		if r.code != 1 || !strings.Contains(r.stderr, "exists") {
			t.Fatalf("%d %q", r.code, r.stderr)
		}
	})
	imp("org", "red", obj("2", red))
	imp("all", "green", obj("3", green))
	r = mustRun(t, "bundle", "seal", "--peer", "london", "--out", f2, "--data", wa)
	if !strings.Contains(r.stdout, "bundle 2 for peer london") || !strings.Contains(r.stdout, ": 1 versions, 1 withheld") {
		t.Fatalf("seal 2: %s", r.stdout)
	}

	t.Run("GapRefused", func(t *testing.T) {
		r := cli(t, "bundle", "open", f2, "--data", lo)
		if r.code != 1 || !strings.Contains(r.stderr, "gap: this is bundle 2 but the next expected is 1") {
			t.Fatalf("%d %q", r.code, r.stderr)
		}
	})
	t.Run("ChangedByteRefused", func(t *testing.T) {
		data, _ := os.ReadFile(f1)
		i := strings.Index(string(data), `"name":"i1"`)
		data[i+len(`"name":"i`)] = '7'
		bad := filepath.Join(files, "changed.bundle")
		os.WriteFile(bad, data, 0o600)
		r := cli(t, "bundle", "open", bad, "--data", lo)
		if r.code != 1 || !strings.Contains(r.stderr, "the signature does not verify") {
			t.Fatalf("%d %q", r.code, r.stderr)
		}
	})
	for i, f := range []string{f1, f2} {
		r := mustRun(t, "bundle", "open", f, "--data", lo)
		if !strings.Contains(r.stdout, "from peer washington opened: 1 added") {
			t.Fatalf("open %d: %s", i+1, r.stdout)
		}
	}
	t.Run("ReplayRefused", func(t *testing.T) {
		r := cli(t, "bundle", "open", f1, "--data", lo)
		if r.code != 1 || !strings.Contains(r.stderr, "replay: bundle 1 from this sender was already opened") {
			t.Fatalf("%d %q", r.code, r.stderr)
		}
	})
	r = mustRun(t, "export", "--data", lo)
	if strings.Count(r.stdout, `"type":"indicator"`)+strings.Count(r.stdout, `"type": "indicator"`) != 2 || strings.Contains(r.stdout, "i2") {
		t.Fatalf("London exports:\n%s", r.stdout)
	}
	t.Run("Status", func(t *testing.T) {
		r := mustRun(t, "bundle", "status", "--data", lo)
		if !strings.Contains(r.stdout, "washington") || !strings.Contains(r.stdout, waKey) {
			t.Fatalf("bundle status:\n%s", r.stdout)
		}
		r = mustRun(t, "bundle", "status", "--json", "--data", wa)
		if !strings.Contains(r.stdout, `"sealed_seq": 2`) || !strings.Contains(r.stdout, `"opened_seq": 0`) {
			t.Fatalf("bundle status --json:\n%s", r.stdout)
		}
		r = mustRun(t, "bundle", "status", "--json", "--data", lo)
		if !strings.Contains(r.stdout, `"opened_seq": 2`) {
			t.Fatalf("bundle status --json:\n%s", r.stdout)
		}
	})
	t.Run("Audited", func(t *testing.T) {
		for d, want := range map[string]string{wa: "sealed in offline bundle 2 for peer london", lo: "opened offline bundle 2 from peer washington"} {
			if r := mustRun(t, "audit", "list", "--data", d); !strings.Contains(r.stdout, want) {
				t.Errorf("%s: no %q in the audit log:\n%s", d, want, r.stdout)
			}
		}
	})
}
