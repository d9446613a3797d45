package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// auditBundle is a bundle of three objects, one in two versions, all
// TLP:GREEN.
func auditBundle(t *testing.T, dir string) string {
	t.Helper()
	const green = `"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]`
	ind := func(n int, modified string) string {
		return fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-00000000000%d","created":"2026-01-01T00:00:00.000Z","modified":"%s","pattern":"[ipv4-addr:value = '198.51.100.%d']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00.000Z",%s}`, n, modified, n, green)
	}
	objs := []string{ind(1, "2026-01-01T00:00:00.000Z"), ind(1, "2026-02-01T00:00:00.000Z"), ind(2, "2026-01-01T00:00:00.000Z"), ind(3, "2026-01-01T00:00:00.000Z")}
	path := filepath.Join(dir, "bundle.json")
	body := `{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000","objects":[` + strings.Join(objs, ",") + `]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writesCover checks that the write entries of the log name every stored
// version exactly once, each by an entry of the given actor and interface
// whose organisation is the version's producer, and returns those entries.
func writesCover(t *testing.T, db store, actor, via string) []*cyberpact.AuditEntry {
	t.Helper()
	ctx := context.Background()
	writes, err := db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditWrite})
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	err = db.EachObject(ctx, cyberpact.ObjectFilter{AllVersions: true}, func(o *cyberpact.Object) error {
		stored++
		var by []*cyberpact.AuditEntry
		for _, w := range writes {
			if w.Scope.Contains(o.Seq) {
				by = append(by, w)
			}
		}
		if len(by) != 1 {
			t.Errorf("%s@%s (Seq %d) is named by %d write entries, want 1", o.ID, o.Modified, o.Seq, len(by))
			return nil
		}
		if w := by[0]; w.Actor != actor || w.Via != via || w.ActorOrg != o.Release.Producer {
			t.Errorf("%s@%s written by %q (org %d) via %q, want %q (org %d) via %q", o.ID, o.Modified, w.Actor, w.ActorOrg, w.Via, actor, o.Release.Producer, via)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored == 0 {
		t.Fatal("nothing stored")
	}
	counted := 0
	for _, w := range writes {
		if w.Scope == nil {
			t.Errorf("write entry %d names no versions: %+v", w.Seq, w)
			continue
		}
		counted += w.Scope.Count
	}
	if counted != stored {
		t.Errorf("write entries count %d versions, %d are stored", counted, stored)
	}
	if n, err := db.VerifyAudit(ctx); n != 0 || err != nil {
		t.Errorf("VerifyAudit = %d, %v", n, err)
	}
	return writes
}

// TestCLIImportAudited imports a bundle with cyberpact import and checks
// that the write is in the audit log: by "cli" through cli, for the
// producer organisation, naming every version stored; that a re-import
// adding nothing records nothing; and that audit list --object finds it.
func TestCLIImportAudited(t *testing.T) {
	dir := t.TempDir()
	partners(t, dir)
	file := auditBundle(t, dir)
	r := mustRun(t, "import", "--org", "UK National Cyber Resilience Centre", "--data", dir, file)
	if !strings.Contains(r.stdout, "added 4,") {
		t.Fatalf("import: %s", r.stdout)
	}
	mustRun(t, "import", "--org", "UK National Cyber Resilience Centre", "--data", dir, file)
	db := openData(t, dir)
	writes := writesCover(t, db, "cli", "cli")
	if len(writes) != 1 || !strings.Contains(writes[0].Detail, "4 added") || !strings.Contains(writes[0].Detail, "file "+file) {
		t.Errorf("write entries %+v: want one, of the first import, naming the file", writes)
	}
	db.Close()
	r = mustRun(t, "audit", "list", "--object", "indicator--00000000-0000-4000-8000-000000000001", "--data", dir)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 1 || !strings.Contains(lines[0], " write cli (\"UK National Cyber Resilience Centre\") via cli 4 versions") {
		t.Errorf("audit list --object:\n%s", r.stdout)
	}
}

// TestDemoSeedAudited seeds the demonstration partnership, as serve --demo
// does, and checks that every version it stored is named by a write entry
// of "demo" for the partner that produced it.
func TestDemoSeedAudited(t *testing.T) {
	dir := t.TempDir()
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	ctx := context.Background()
	db, err := e.openStore(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := seedDemo(ctx, e, db, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	writes := writesCover(t, db, "demo", "demo")
	if len(writes) < 2 {
		t.Errorf("%d write entries, want one per producer and audience", len(writes))
	}
}

// TestAuditReleasesCommand records releases as the server does (pages read
// through the store with the reader's viewer, one compact entry each) and
// checks that audit releases --object answers who received which version
// of the object, when and how, and that the reader's own versions are no
// release.
func TestAuditReleasesCommand(t *testing.T) {
	dir := t.TempDir()
	partners(t, dir)
	file := auditBundle(t, dir)
	mustRun(t, "import", "--org", "UK National Cyber Resilience Centre", "--audience", "group:Joint Cell", "--data", dir, file)
	db := openData(t, dir)
	ctx := context.Background()
	uk, _ := db.OrgByName(ctx, "UK National Cyber Resilience Centre")
	us, _ := db.OrgByName(ctx, "Atlantic Securities Exchange")
	jc, _ := db.GroupByName(ctx, "Joint Cell")
	const id = "indicator--00000000-0000-4000-8000-000000000001"
	read := func(org int64, user string, f cyberpact.ObjectFilter, path, query string) {
		t.Helper()
		v := cyberpact.Viewer{Org: org, Groups: []int64{jc.ID}}
		f.Viewer = &v
		page, err := db.FindObjects(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if e := cyberpact.ReleaseEntry(cyberpact.Actor{Name: user, Org: org, Via: "taxii"}, &v, path, query, page.Objects); e != nil {
			if err := db.Audit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The US member reads the latest versions, then every version of the
	// object; the UK producer reads its own (no release).
	read(us.ID, "bob", cyberpact.ObjectFilter{}, "/taxii2/api1/collections/x/objects/", "")
	read(us.ID, "bob", cyberpact.ObjectFilter{IDs: []string{id}, AllVersions: true}, "/taxii2/api1/collections/x/objects/"+id+"/", "match[version]=all")
	read(uk.ID, "alice", cyberpact.ObjectFilter{}, "/taxii2/api1/collections/x/objects/", "")
	db.Close()

	r := mustRun(t, "audit", "releases", "--object", id, "--data", dir)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := []string{
		id + "@2026-02-01T00:00:00.000Z to \"Atlantic Securities Exchange\" (bob) via taxii /taxii2/api1/collections/x/objects/ [entry",
		id + "@2026-01-01T00:00:00.000Z to \"Atlantic Securities Exchange\" (bob) via taxii /taxii2/api1/collections/x/objects/" + id + "/?match[version]=all [entry",
		id + "@2026-02-01T00:00:00.000Z to \"Atlantic Securities Exchange\" (bob) via taxii /taxii2/api1/collections/x/objects/" + id + "/?match[version]=all [entry",
	}
	if len(lines) != len(want) {
		t.Fatalf("audit releases --object: %d lines, want %d:\n%s", len(lines), len(want), r.stdout)
	}
	for i, w := range want {
		if !strings.Contains(normaliseVersion(lines[i]), w) || strings.Contains(lines[i], "NOT VISIBLE") {
			t.Errorf("line %d:\n%s\nwant it to hold\n%s", i, lines[i], w)
		}
	}
	r = mustRun(t, "audit", "releases", "--object", id, "--json", "--data", dir)
	var ds []cyberpact.Delivery
	if err := json.Unmarshal([]byte(r.stdout), &ds); err != nil || len(ds) != 3 {
		t.Fatalf("audit releases --json: %v, %d deliveries\n%s", err, len(ds), r.stdout)
	}
	for _, d := range ds {
		if d.Rule == nil || !*d.Rule || d.Entry.Recipient != us.ID || d.Seq == 0 {
			t.Errorf("delivery %+v: want one to %d the rule allows, by Seq", d, us.ID)
		}
	}
	if r := cli(t, "audit", "releases", "--data", dir); r.code != 2 {
		t.Errorf("audit releases without --object: exit %d, want 2", r.code)
	}
	r = mustRun(t, "audit", "verify", "--data", dir)
	if !strings.HasPrefix(r.stdout, "audit log intact") {
		t.Errorf("audit verify: %s", r.stdout)
	}
}

// normaliseVersion shortens the stored version keys of a line
// (2026-02-01T00:00:00.000000000Z) to milliseconds, as TAXII writes them.
func normaliseVersion(s string) string {
	return strings.ReplaceAll(s, ".000000000Z", ".000Z")
}
