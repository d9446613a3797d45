package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/web"
)

// mustRun runs a command line that must succeed.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := cli(t, args...)
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// keyLine is what user create and key create print on stdout: the key
// alone.
var keyLine = regexp.MustCompile(`^cpk_[a-z2-7]{52}\n$`)

// partners sets up two organisations, a group and a user in dir and
// returns the user's key.
func partners(t *testing.T, dir string) string {
	t.Helper()
	mustRun(t, "org", "create", "UK National Cyber Resilience Centre", "--nation", "GB", "--sector", "government", "--data", dir)
	mustRun(t, "org", "create", "--data", dir, "Atlantic Securities Exchange", "--nation=us", "--sector=finance")
	mustRun(t, "org", "create", "Kanto Power", "--nation", "JP", "--sector", "energy", "--data", dir)
	mustRun(t, "group", "create", "Joint Cell", "--orgs", "UK National Cyber Resilience Centre,Atlantic Securities Exchange", "--data", dir)
	r := mustRun(t, "user", "create", "alice", "--org", "UK National Cyber Resilience Centre", "--role", "analyst", "--data", dir)
	if !keyLine.MatchString(r.stdout) {
		t.Fatalf("user create stdout = %q, want the key alone", r.stdout)
	}
	return strings.TrimSpace(r.stdout)
}

// openData opens the store of a data directory the commands wrote.
func openData(t *testing.T, dir string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAccountCommands(t *testing.T) {
	dir := t.TempDir()
	key := partners(t, dir)

	t.Run("PrintedKeyAuthenticates", func(t *testing.T) {
		db := openData(t, dir)
		p, err := db.Authenticate(context.Background(), "alice", key)
		if err != nil {
			t.Fatal(err)
		}
		if p.Org.Name != "UK National Cyber Resilience Centre" || p.User.Role != cyberpact.RoleAnalyst || len(p.Groups) != 1 {
			t.Errorf("principal %+v", p)
		}
		db.Close()
	})
	t.Run("OrgList", func(t *testing.T) {
		r := mustRun(t, "org", "list", "--data", dir)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[1], "Atlantic Securities Exchange") || !strings.Contains(lines[1], "US") {
			t.Errorf("org list:\n%s", r.stdout)
		}
		var orgs []cyberpact.Org
		r = mustRun(t, "org", "list", "--json", "--data", dir)
		if err := json.Unmarshal([]byte(r.stdout), &orgs); err != nil || len(orgs) != 3 {
			t.Errorf("org list --json: %v\n%s", err, r.stdout)
		}
	})
	t.Run("OrgSetNationAndSector", func(t *testing.T) {
		r := mustRun(t, "org", "set", "kanto power", "--sector", "water", "--data", dir)
		if !strings.Contains(r.stdout, "JP, water") {
			t.Errorf("org set stdout %q, want the stored JP, water", r.stdout)
		}
		r = mustRun(t, "org", "list", "--data", dir)
		if !regexp.MustCompile(`Kanto Power\s+JP\s+water`).MatchString(r.stdout) {
			t.Errorf("org list after org set:\n%s", r.stdout)
		}
		mustRun(t, "org", "set", "Kanto Power", "--sector", "energy", "--data", dir)
	})
	t.Run("GroupSetAndList", func(t *testing.T) {
		mustRun(t, "group", "set", "joint cell", "--orgs", "Kanto Power, Atlantic Securities Exchange", "--data", dir)
		r := mustRun(t, "group", "list", "--data", dir)
		if !strings.Contains(r.stdout, "Joint Cell") || !strings.Contains(r.stdout, "Atlantic Securities Exchange, Kanto Power") {
			t.Errorf("group list:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, "UK National") {
			t.Errorf("removed member still listed:\n%s", r.stdout)
		}
	})
	t.Run("UserList", func(t *testing.T) {
		mustRun(t, "user", "create", "peer-sync", "--org", "Kanto Power", "--role", "sync", "--expires", "90d", "--data", dir)
		r := mustRun(t, "user", "list", "--data", dir)
		if !strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "peer-sync") {
			t.Errorf("user list:\n%s", r.stdout)
		}
		r = mustRun(t, "user", "list", "--org", "Kanto Power", "--data", dir)
		if strings.Contains(r.stdout, "alice") || !strings.Contains(r.stdout, "peer-sync") {
			t.Errorf("user list --org Kanto Power:\n%s", r.stdout)
		}
	})
	t.Run("KeyCreateListRevoke", func(t *testing.T) {
		r := mustRun(t, "key", "create", "alice", "--expires", "720h", "--data", dir)
		if !keyLine.MatchString(r.stdout) {
			t.Fatalf("key create stdout = %q, want the key alone", r.stdout)
		}
		second := strings.TrimSpace(r.stdout)
		var keys []cyberpact.APIKey
		r = mustRun(t, "key", "list", "--user", "alice", "--json", "--data", dir)
		if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil || len(keys) != 2 || keys[1].Expires.IsZero() {
			t.Fatalf("key list --json: %v\n%s", err, r.stdout)
		}
		if strings.Contains(r.stdout, second) || strings.Contains(r.stdout, key) {
			t.Errorf("key list shows a key:\n%s", r.stdout)
		}
		mustRun(t, "key", "revoke", "1", "--data", dir)
		r = mustRun(t, "key", "list", "--data", dir)
		if !strings.Contains(r.stdout, "revoked") || !strings.Contains(r.stdout, "active") {
			t.Errorf("key list after revoking key 1:\n%s", r.stdout)
		}
		db := openData(t, dir)
		if _, err := db.Authenticate(context.Background(), "", key); cyberpact.ErrorCode(err) != cyberpact.EUNAUTHORIZED {
			t.Errorf("revoked key: %v", err)
		}
		if _, err := db.Authenticate(context.Background(), "alice", second); err != nil {
			t.Errorf("new key: %v", err)
		}
		db.Close()
	})
	t.Run("AuditListsEveryChange", func(t *testing.T) {
		var es []cyberpact.AuditEntry
		r := mustRun(t, "audit", "list", "--json", "--data", dir)
		if err := json.Unmarshal([]byte(r.stdout), &es); err != nil {
			t.Fatal(err)
		}
		// 3 orgs, two org sets, group create and set, 2 users with their keys, a key, a revocation.
		if len(es) != 13 {
			t.Fatalf("%d entries, want 13:\n%s", len(es), r.stdout)
		}
		for _, e := range es {
			if e.Actor != "cli" || e.Action != cyberpact.AuditAccount || strings.Contains(e.Detail, "cpk_") {
				t.Errorf("entry %+v", e)
			}
		}
		r = mustRun(t, "audit", "list", "--limit", "3", "--after", "2", "--data", dir)
		if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "3 ") {
			t.Errorf("audit list --limit 3 --after 2:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "--after 5") {
			t.Errorf("no hint to continue: %q", r.stderr)
		}
		r = mustRun(t, "audit", "list", "--action", "release", "--since", "24h", "--data", dir)
		if r.stdout != "" {
			t.Errorf("no releases expected:\n%s", r.stdout)
		}
	})
	t.Run("AuditVerifyIntact", func(t *testing.T) {
		r := mustRun(t, "audit", "verify", "--data", dir)
		if !strings.HasPrefix(r.stdout, "audit log intact: 13 entries\n") {
			t.Errorf("audit verify: %q", r.stdout)
		}
	})
}

func TestAuditCommandsFilterReleases(t *testing.T) {
	dir := t.TempDir()
	partners(t, dir)
	db := openData(t, dir)
	uk, _ := db.OrgByName(context.Background(), "UK National Cyber Resilience Centre")
	jp, _ := db.OrgByName(context.Background(), "Kanto Power")
	err := db.Audit(context.Background(),
		&cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "alice", ActorOrg: uk.ID, Recipient: jp.ID, Via: "taxii",
			Objects: []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f@2024-01-01T00:00:00.000Z", "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b@2024-01-02T00:00:00.000Z"}},
		&cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "alice", ActorOrg: uk.ID, Via: "rest",
			Objects: []string{"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b@2024-01-03T00:00:00.000Z"}})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	// The organisation's trail: its own creation (issue 16) and what it
	// received.
	r := mustRun(t, "audit", "list", "--org", "kanto power", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 ||
		!strings.Contains(lines[0], `account cli for "Kanto Power" via cli: created organisation "Kanto Power"`) ||
		!strings.Contains(lines[1], `release alice ("UK National Cyber Resilience Centre") to "Kanto Power" via taxii 2 objects`) {
		t.Errorf("audit list --org:\n%s", r.stdout)
	}
	r = mustRun(t, "audit", "list", "--object", "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 {
		t.Errorf("audit list --object:\n%s", r.stdout)
	}
	r = mustRun(t, "audit", "list", "--action", "write", "--since", "2020-01-01", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "@2024-01-03") {
		t.Errorf("audit list --action write:\n%s", r.stdout)
	}
}

func TestAuditVerifyNamesBrokenEntry(t *testing.T) {
	dir := t.TempDir()
	partners(t, dir)
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "cyberpact-audit.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE audit SET detail = 'nothing happened' WHERE seq = 4`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	r := cli(t, "audit", "verify", "--data", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "broken at entry 4") || strings.Contains(r.stdout, "intact") {
		t.Errorf("audit verify of a changed log: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// TestAccountCommandsBadInput checks that bad command lines say what is
// wrong, exit 1 (invalid, not found, conflict) or 2 (usage), and change
// nothing: the audit log is as it was.
func TestAccountCommandsBadInput(t *testing.T) {
	dir := t.TempDir()
	partners(t, dir)
	before := mustRun(t, "audit", "list", "--json", "--data", dir).stdout
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"NoSubcommand", []string{"org"}, 2, "give a subcommand"},
		{"UnknownSubcommand", []string{"org", "delete", "x"}, 2, `unknown subcommand "delete"`},
		{"OrgWithoutName", []string{"org", "create", "--nation", "GB", "--sector", "finance"}, 2, "missing"},
		{"OrgWithoutNation", []string{"org", "create", "Bank"}, 2, "--nation"},
		{"OrgTwoNames", []string{"org", "create", "A", "B", "--nation", "GB", "--sector", "finance"}, 2, `unexpected argument "B"`},
		{"OrgUnknownFlag", []string{"org", "create", "A", "--country", "GB"}, 2, "country"},
		{"OrgNationUK", []string{"org", "create", "Bank", "--nation", "UK", "--sector", "finance"}, 1, "GB"},
		{"OrgSectorUnknown", []string{"org", "create", "Bank", "--nation", "GB", "--sector", "banking"}, 1, `sector "banking"`},
		{"OrgNameTaken", []string{"org", "create", "kanto power", "--nation", "JP", "--sector", "energy"}, 1, "exists"},
		{"OrgNameWithComma", []string{"org", "create", "Bank, Ltd", "--nation", "GB", "--sector", "finance"}, 1, "comma"},
		{"OrgSetNothing", []string{"org", "set", "Kanto Power"}, 2, "--nation or --sector"},
		{"OrgSetUnknown", []string{"org", "set", "Nobody", "--nation", "GB"}, 1, `"Nobody"`},
		{"OrgSetNationUK", []string{"org", "set", "Kanto Power", "--nation", "UK"}, 1, "GB"},
		{"OrgSetSectorUnknown", []string{"org", "set", "Kanto Power", "--sector", "banking"}, 1, `sector "banking"`},
		{"GroupWithoutOrgs", []string{"group", "create", "G"}, 2, "--orgs"},
		{"GroupUnknownOrg", []string{"group", "create", "G", "--orgs", "Kanto Power,Nobody"}, 1, `"Nobody"`},
		{"GroupNameTaken", []string{"group", "create", "JOINT CELL", "--orgs", "Kanto Power"}, 1, "exists"},
		{"GroupSetUnknownGroup", []string{"group", "set", "Nope", "--orgs", "Kanto Power"}, 1, `"Nope"`},
		{"GroupSetUnknownOrg", []string{"group", "set", "Joint Cell", "--orgs", "Nobody"}, 1, `"Nobody"`},
		{"UserWithoutRole", []string{"user", "create", "bob", "--org", "Kanto Power"}, 2, "--role"},
		{"UserBadRole", []string{"user", "create", "bob", "--org", "Kanto Power", "--role", "root"}, 1, `role "root"`},
		{"UserUnknownOrg", []string{"user", "create", "bob", "--org", "Nobody", "--role", "reader"}, 1, `"Nobody"`},
		{"UserNameTaken", []string{"user", "create", "ALICE", "--org", "Kanto Power", "--role", "reader"}, 1, "exists"},
		{"UserBadName", []string{"user", "create", "bob smith", "--org", "Kanto Power", "--role", "reader"}, 1, "user name"},
		{"UserExpiryPast", []string{"user", "create", "bob", "--org", "Kanto Power", "--role", "reader", "--expires", "2001-01-01"}, 1, "past"},
		{"UserListUnknownOrg", []string{"user", "list", "--org", "Nobody"}, 1, `"Nobody"`},
		{"KeyUnknownUser", []string{"key", "create", "nobody"}, 1, `"nobody"`},
		{"KeyBadExpiry", []string{"key", "create", "alice", "--expires", "soon"}, 2, "--expires"},
		{"KeyExpiryPast", []string{"key", "create", "alice", "--expires", "2001-01-01T00:00:00Z"}, 1, "not in the future"},
		{"KeyRevokeNotANumber", []string{"key", "revoke", "abc"}, 2, "not a number"},
		{"KeyRevokeUnknown", []string{"key", "revoke", "999"}, 1, "no key with id 999"},
		{"KeyListUnknownUser", []string{"key", "list", "--user", "nobody"}, 1, `"nobody"`},
		{"AuditNoSubcommand", []string{"audit"}, 2, "verify"},
		{"AuditBadAction", []string{"audit", "list", "--action", "read"}, 2, `--action "read"`},
		{"AuditBadSince", []string{"audit", "list", "--since", "yesterday"}, 2, "--since"},
		{"AuditUnknownOrg", []string{"audit", "list", "--org", "Nobody"}, 1, `"Nobody"`},
		{"AuditVerifyArgument", []string{"audit", "verify", "now"}, 2, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append(tc.args, "--data", dir)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("stderr %q does not say %q", r.stderr, tc.msg)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
	if after := mustRun(t, "audit", "list", "--json", "--data", dir).stdout; after != before {
		t.Errorf("bad input changed the audit log:\nbefore %s\nafter %s", before, after)
	}
	if r := mustRun(t, "user", "list", "--data", dir); strings.Contains(r.stdout, "bob") {
		t.Errorf("a refused user was stored:\n%s", r.stdout)
	}
}

func TestAccountCommandsHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"help", "org"}, []string{"org create NAME --nation CC --sector SECTOR", "org list"}},
		{[]string{"help", "group"}, []string{"group create NAME --orgs", "group set NAME --orgs", "group list"}},
		{[]string{"help", "user"}, []string{"user create NAME --org ORG --role ROLE", "user list"}},
		{[]string{"help", "key"}, []string{"key create USER", "key revoke KEYID", "key list"}},
		{[]string{"help", "audit"}, []string{"audit verify", "audit list", "SHA-256"}},
		{[]string{"org", "create", "-h"}, []string{"ISO 3166-1", "-nation", "-sector", "government"}},
		{[]string{"user", "create", "--help"}, []string{"shown this once", "org-admin", "-role"}},
		{[]string{"audit", "list", "-h"}, []string{"-object", "-since", "-limit"}},
		{[]string{"help"}, []string{"org", "group", "user", "key", "audit"}},
	} {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			r := cli(t, tc.args...)
			if r.code != 0 {
				t.Errorf("exit %d", r.code)
			}
			out := r.stdout + r.stderr
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("help does not mention %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestUserPasswordAndDisable(t *testing.T) {
	dir := t.TempDir()
	key := partners(t, dir)
	ctx := context.Background()
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		says        string
	}{
		{"Empty", "", []string{"alice"}, 1, "no password on standard input"},
		{"TooShort", "short\n", []string{"alice"}, 1, "needs at least 12"},
		{"UnknownUser", "a long enough password\n", []string{"nobody"}, 1, "no user named"},
		{"NoName", "a long enough password\n", nil, 2, "NAME"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliStdin(t, tc.stdin, append([]string{"user", "password", "--data", dir}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.says) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", r.code, r.stderr, tc.code, tc.says)
			}
		})
	}
	if c, err := openData(t, dir).Credentials(ctx, "alice"); err != nil || c.Password != "" {
		t.Fatalf("after refused passwords: %+v, %v; want none set", c, err)
	}
	r := cliStdin(t, "a long enough password\r\nignored second line\n", "user", "password", "alice", "--data", dir)
	if r.code != 0 {
		t.Fatalf("user password: exit %d: %s", r.code, r.stderr)
	}
	db := openData(t, dir)
	c, err := db.Credentials(ctx, "alice")
	if err != nil || !web.VerifyPassword(c.Password, "a long enough password") || !strings.HasPrefix(c.Password, "$argon2id$") {
		t.Errorf("stored password %q does not verify the first line", c.Password)
	}
	mustRun(t, "user", "disable", "alice", "--data", dir)
	if _, err := db.Authenticate(ctx, "", key); cyberpact.ErrorCode(err) != cyberpact.EUNAUTHORIZED {
		t.Errorf("a disabled user's key: %v", err)
	}
	mustRun(t, "user", "enable", "alice", "--data", dir)
	if _, err := db.Authenticate(ctx, "", key); err != nil {
		t.Errorf("a re-enabled user's key: %v", err)
	}
}
