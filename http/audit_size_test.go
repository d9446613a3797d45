package http_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// auditBytes returns the size of the audit log file at path once its
// write-ahead log is folded into it: the bytes the log takes on disk.
func auditBytes(t testing.TB, path string) int64 {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err == nil {
			size += fi.Size()
		}
	}
	return size
}

// readCollection pages through a TAXII objects URL with limit as m (0:
// none asked, the server's default page), calling page (when not nil) with the raw objects of each page, and
// returns how many objects it received.
func readCollection(t testing.TB, m *member, objects string, limit int, page func([]json.RawMessage)) int {
	t.Helper()
	client := &http.Client{}
	n := 0
	query := func(next string) string {
		q := url.Values{}
		if limit > 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if next != "" {
			q.Set("next", next)
		}
		return objects + "?" + q.Encode()
	}
	u := query("")
	for {
		req, _ := http.NewRequest("GET", u, nil)
		req.SetBasicAuth(m.user.Name, m.key)
		req.Header.Set("Accept", taxiiType)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %v", u, resp.StatusCode, err)
		}
		if page != nil {
			page(e.Objects)
		}
		n += len(e.Objects)
		if !e.More {
			return n
		}
		u = query(e.Next)
	}
}

// auditHub is a server over n generated objects produced by organisation
// A for all members, and a reader of B.
type auditHub struct {
	db        *sqlite.DB
	auditPath string
	reader    *member
	objects   string // the all-members collection's objects URL
	want      int    // the objects B may read there: each one's latest version
}

func newAuditHub(t testing.TB, n int) *auditHub {
	t.Helper()
	dir := t.TempDir()
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	orgA, orgB := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	h := &auditHub{db: db, auditPath: filepath.Join(dir, "cyberpact-audit.db"), reader: mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, n, 1)) }()
	dec := stix.NewDecoder(pr)
	// Partial: the generator's TLP:RED objects may not go to all members.
	res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: orgA.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
	dec.Close()
	if err != nil {
		t.Fatal(err)
	}
	if res.Added == 0 {
		t.Fatal("nothing stored")
	}
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	v := h.reader.p.Viewer()
	if err := db.EachObject(context.Background(), cyberpact.ObjectFilter{Viewer: &v, Audience: &all}, func(*cyberpact.Object) error { h.want++; return nil }); err != nil {
		t.Fatal(err)
	}
	_, base := serve(t, db, nil)
	h.objects = base + "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	return h
}

// TestReleaseAuditBytesPerObject reads a 10,000-object collection over
// TAXII as another organisation, in the server's default pages (1,000),
// pages of 1,000 and of 100, and holds the audit log's growth per object served under a
// bound: a release is recorded by what it was (viewer, path, query,
// sequence range, count), so the log grows per page, not per object, and
// the pages after the first name the first page's entry instead of
// repeating the reading (AuditScope.Cont). Per object entries
// ("id@version", about 72 bytes each in this test) fail it, and so do
// pages of 100 that repeat their reading (3 bytes an object).
func TestReleaseAuditBytesPerObject(t *testing.T) {
	h := newAuditHub(t, 10_000)
	for _, tc := range []struct {
		limit int
		bound float64 // bytes per object served
	}{
		{0, 1.5},
		{1000, 1.5},
		{100, 2},
	} {
		name := fmt.Sprintf("PagesOf%d", tc.limit)
		if tc.limit == 0 {
			name = "DefaultPages"
		}
		t.Run(name, func(t *testing.T) {
			before := auditBytes(t, h.auditPath)
			got := readCollection(t, h.reader, h.objects, tc.limit, nil)
			if got != h.want {
				t.Fatalf("read %d objects, want %d", got, h.want)
			}
			grown := auditBytes(t, h.auditPath) - before
			per := float64(grown) / float64(got)
			t.Logf("%d objects served in pages of %d: audit log grew %d bytes, %.2f bytes per object", got, tc.limit, grown, per)
			if per > tc.bound {
				t.Errorf("audit log grew %.2f bytes per object served, want at most %.2f: are releases listing each object again?", per, tc.bound)
			}
		})
	}
}

// BenchmarkReleaseAuditBytes reads the collection of benchN() generated
// objects over TAXII in the server's default pages, pages of 1,000 and of
// 100 and reports the audit
// log's growth per object served (compact-bytes/obj). The baseline, in
// the same run: for each page received, the entry releases were recorded
// with before, listing each version as "id@version", appended to a second
// store's log (listed-bytes/obj).
func BenchmarkReleaseAuditBytes(b *testing.B) {
	h := newAuditHub(b, benchN())
	for _, limit := range []int{0, 1000, 100} {
		name := fmt.Sprintf("PagesOf%d", limit)
		if limit == 0 {
			name = "DefaultPages"
		}
		b.Run(name, func(b *testing.B) {
			listed, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "cyberpact.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer listed.Close()
			listedPath := filepath.Join(filepath.Dir(listed.Path()), "cyberpact-audit.db")
			for b.Loop() {
				before, listedBefore := auditBytes(b, h.auditPath), auditBytes(b, listedPath)
				got := readCollection(b, h.reader, h.objects, limit, func(objs []json.RawMessage) {
					e := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: h.reader.user.Name, ActorOrg: h.reader.org.ID, Recipient: h.reader.org.ID, Via: "taxii"}
					for _, raw := range objs {
						var o struct{ ID, Modified string }
						if err := json.Unmarshal(raw, &o); err != nil {
							b.Fatal(err)
						}
						e.Objects = append(e.Objects, o.ID+"@"+o.Modified)
					}
					if err := listed.Audit(context.Background(), e); err != nil {
						b.Fatal(err)
					}
				})
				if got != h.want {
					b.Fatalf("read %d objects, want %d", got, h.want)
				}
				compact := float64(auditBytes(b, h.auditPath)-before) / float64(got)
				perListed := float64(auditBytes(b, listedPath)-listedBefore) / float64(got)
				b.ReportMetric(compact, "compact-bytes/obj")
				b.ReportMetric(perListed, "listed-bytes/obj")
				b.ReportMetric(perListed/compact, "x-smaller")
			}
		})
	}
}

// TestReleaseEntriesOmitCursor reads a collection in several pages and
// checks that each page's release entry records the reading's query
// without the cursor, whose position the entry's Seqs say: every page of
// one reading is recorded with the same path and query.
func TestReleaseEntriesOmitCursor(t *testing.T) {
	h := newAuditHub(t, 300)
	ctx := context.Background()
	head, _, _, err := h.db.AuditHead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := readCollection(t, h.reader, h.objects, 50, nil)
	entries, err := h.db.AuditEntries(ctx, cyberpact.AuditFilter{Action: cyberpact.AuditRelease, After: head})
	if err != nil {
		t.Fatal(err)
	}
	if want := (got + 49) / 50; len(entries) != want {
		t.Fatalf("%d release entries for %d objects in pages of 50, want %d", len(entries), got, want)
	}
	u, _ := url.Parse(h.objects)
	for _, e := range entries {
		if e.Scope == nil || e.Scope.Path != u.Path || e.Scope.Query != "limit=50" {
			t.Errorf("entry %d records %+v, want path %s and query limit=50 (no cursor)", e.Seq, e.Scope, u.Path)
		}
	}
}
