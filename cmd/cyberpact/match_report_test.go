package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/google/go-cmp/cmp"
)

const (
	ind1 = "indicator--00000000-0000-4000-8000-000000000001"
	ind2 = "indicator--00000000-0000-4000-8000-000000000002"
)

// reportEvents hit indicator 1 three times in the 10:00 hour and once at
// 11:00, and indicator 2 once, in an event without a time.
const reportEvents = `{"@timestamp":"2026-03-01T10:05:00Z","destination":{"ip":"198.51.100.7"}}
{"@timestamp":"2026-03-01T10:59:00Z","destination":{"ip":"198.51.100.7"}}
{"@timestamp":"2026-03-01T10:30:00Z","destination":{"ip":"198.51.100.7"}}
{"@timestamp":"2026-03-01T11:00:00Z","destination":{"ip":"198.51.100.7"}}
{"dns":{"question":{"name":"evil.example"}}}
`

type reportedSighting struct {
	Type      string   `json:"type"`
	ID        string   `json:"id"`
	Of        string   `json:"sighting_of_ref"`
	Count     int      `json:"count"`
	FirstSeen string   `json:"first_seen"`
	LastSeen  string   `json:"last_seen"`
	Where     []string `json:"where_sighted_refs"`
	CreatedBy string   `json:"created_by_ref"`
	Name      string   `json:"name"`
	Created   string   `json:"created"`
	Modified  string   `json:"modified"`
}

func readReport(t *testing.T, path string) []reportedSighting {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b struct{ Objects []reportedSighting }
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b.Objects
}

func TestMatchReport(t *testing.T) {
	ind := writeFile(t, "ind.json", matchBundle)
	events := writeFile(t, "ev.jsonl", reportEvents)

	t.Run("FileAggregatesPerIndicatorPerHour", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.json")
		r := cli(t, "match", "--indicators", ind, "--report", "--report-file", out, "--identity", "Org A", events)
		if r.code != 0 {
			t.Fatalf("code %d: %s", r.code, r.stderr)
		}
		objs := readReport(t, out)
		if len(objs) != 4 || objs[0].Type != "identity" || objs[0].Name != "Org A" {
			t.Fatalf("want the identity and 3 sightings, got %+v", objs)
		}
		ident := objs[0].ID
		type got struct {
			Of               string
			Count            int
			FirstSeen, Last  string
			Where, CreatedBy string
		}
		var gots []got
		for _, s := range objs[1:] {
			gots = append(gots, got{s.Of, s.Count, s.FirstSeen, s.LastSeen, strings.Join(s.Where, ","), s.CreatedBy})
		}
		want := []got{
			{ind1, 3, "2026-03-01T10:05:00.000Z", "2026-03-01T10:59:00.000Z", ident, ident},
			{ind1, 1, "2026-03-01T11:00:00.000Z", "2026-03-01T11:00:00.000Z", ident, ident},
		}
		if diff := cmp.Diff(want, gots[:2]); diff != "" {
			t.Errorf("sightings (-want +got):\n%s", diff)
		}
		if g := gots[2]; g.Of != ind2 || g.Count != 1 {
			t.Errorf("the hit without an event time: %+v", g)
		}
	})

	t.Run("SameHourSameID", func(t *testing.T) {
		a, b := filepath.Join(t.TempDir(), "a.json"), filepath.Join(t.TempDir(), "b.json")
		cli(t, "match", "--indicators", ind, "--report", "--report-file", a, "--identity", "Org A", events)
		cli(t, "match", "--indicators", ind, "--report", "--report-file", b, "--identity", "Org A", events)
		c := filepath.Join(t.TempDir(), "c.json")
		cli(t, "match", "--indicators", ind, "--report", "--report-file", c, "--identity", "Org B", events)
		ra, rb, rc := readReport(t, a), readReport(t, b), readReport(t, c)
		for i := range ra {
			if ra[i].ID != rb[i].ID {
				t.Errorf("object %d: ids %s and %s for the same report", i, ra[i].ID, rb[i].ID)
			}
			if ra[i].ID == rc[i].ID {
				t.Errorf("object %d: two organisations' reports share id %s", i, ra[i].ID)
			}
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"ReportWithoutDestination", []string{"--indicators", ind, "--report", events}, "--report needs somewhere"},
		{"HubWithoutKey", []string{"--indicators", ind, "--report", "--hub", "http://127.0.0.1:1", events}, "--hub URL and --key KEY"},
		{"ReportFileWithoutReport", []string{"--indicators", ind, "--report-file", "x.json", events}, "go with --report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cli(t, append([]string{"match"}, tc.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("code %d, stderr %s", r.code, r.stderr)
			}
		})
	}
}

// TestMatchReportIntoTheHubStore reports as Org B the hits on an indicator
// Org A shared with their group: the sighting is stored as Org B's,
// released to the group, and a second report of the same hour is a new
// version of the same sighting.
func TestMatchReportIntoTheHubStore(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "Org A", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "org", "create", "Org B", "--nation", "FR", "--sector", "energy", "--data", dir)
	mustRun(t, "group", "create", "Pact", "--orgs", "Org A,Org B", "--data", dir)
	mustRun(t, "import", "--data", dir, "--org", "Org A", "--audience", "group:Pact", writeFile(t, "ind.json", hubIndicators))
	events := writeFile(t, "ev.jsonl", `{"@timestamp":"2026-03-01T10:05:00Z","dns":{"question":{"name":"evil.example"}}}`+"\n")
	for i := range 2 {
		r := cli(t, "match", "--data", dir, "--org", "Org B", "--report", events)
		if r.code != 0 || !strings.Contains(r.stderr, "hub added 2") && i == 0 {
			t.Fatalf("report %d: code %d, stderr %s", i, r.code, r.stderr)
		}
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orgB, err := db.OrgByName(ctx, "Org B")
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Types: []string{"sighting"}, AllVersions: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 2 || p.Objects[0].ID != p.Objects[1].ID {
		t.Fatalf("want two versions of one sighting, got %d objects", len(p.Objects))
	}
	for _, o := range p.Objects {
		if o.Release.Producer != orgB.ID || o.Release.Audience.Kind != cyberpact.AudienceGroup {
			t.Errorf("sighting released as %+v, want Org B's, to the group", o.Release)
		}
	}
}

// TestMatchReportToAHubOverHTTP sends the report with --hub and --key to a
// served hub: the sightings arrive as the key's organisation's, released
// like the indicator they sight.
func TestMatchReportToAHubOverHTTP(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "Org A", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "org", "create", "Org B", "--nation", "FR", "--sector", "energy", "--data", dir)
	mustRun(t, "group", "create", "Pact", "--orgs", "Org A,Org B", "--data", dir)
	indicators := writeFile(t, "ind.json", hubIndicators)
	mustRun(t, "import", "--data", dir, "--org", "Org A", "--audience", "group:Pact", indicators)
	key := strings.TrimSpace(mustRun(t, "user", "create", "bob", "--org", "Org B", "--role", "analyst", "--data", dir).stdout)

	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		e := &env{stdin: strings.NewReader(""), stdout: pipeWriter{pw}, stderr: io.Discard, getenv: func(string) string { return "" }}
		done <- run(ctx, e, []string{"serve", "--data", dir, "--addr", "127.0.0.1:0"})
		pw.Close()
	}()
	t.Cleanup(func() { cancel(); <-done })
	sc := bufio.NewScanner(pr)
	base := ""
	for sc.Scan() {
		if i := strings.Index(sc.Text(), "listening on "); i >= 0 {
			base = strings.Fields(sc.Text()[i+len("listening on "):])[0]
			break
		}
	}
	go io.Copy(io.Discard, pr)
	if base == "" {
		t.Fatal("serve printed no address")
	}

	events := writeFile(t, "ev.jsonl", `{"@timestamp":"2026-03-01T10:05:00Z","dns":{"question":{"name":"evil.example"}}}`+"\n")
	r := cli(t, "match", "--indicators", indicators, "--report", "--hub", base, "--key", key, "--identity", "Org B", events)
	if r.code != 0 || !strings.Contains(r.stderr, "hub added") {
		t.Fatalf("match --report --hub: exit %d, stderr %s", r.code, r.stderr)
	}
	var got struct {
		Objects []struct {
			Type  string `json:"type"`
			Sight string `json:"sighting_of_ref"`
		} `json:"objects"`
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/objects?type=sighting", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Objects) == 0 {
		t.Fatalf("the hub holds no sighting for Org B: %v %+v", err, got)
	}
	bad := cli(t, "match", "--indicators", indicators, "--report", "--hub", base, "--key", "cpk_wrong", events)
	if bad.code == 0 {
		t.Fatalf("a wrong key was accepted: %s", bad.stderr)
	}
}

// TestMatchReportAnonymousAndCounted reports the same hits anonymously and
// as counts: the anonymous sightings name neither Org B nor its identity
// (their ids are random, not derived from its name), the counted ones stay
// with Org B: an Org A read shows the anonymous one alone, nothing of Org B.
func TestMatchReportAnonymousAndCounted(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "org", "create", "Org A", "--nation", "GB", "--sector", "finance", "--data", dir)
	mustRun(t, "org", "create", "Org B", "--nation", "FR", "--sector", "energy", "--data", dir)
	mustRun(t, "group", "create", "Pact", "--orgs", "Org A,Org B", "--data", dir)
	mustRun(t, "import", "--data", dir, "--org", "Org A", "--audience", "group:Pact", writeFile(t, "ind.json", hubIndicators))
	events := writeFile(t, "ev.jsonl", `{"@timestamp":"2026-03-01T10:05:00Z","dns":{"question":{"name":"evil.example"}}}`+"\n")
	if r := cli(t, "match", "--data", dir, "--org", "Org B", "--report", "--anonymous", "--share", "counts", events); r.code != 2 {
		t.Errorf("--anonymous with --share counts: exit %d, want 2", r.code)
	}
	if r := cli(t, "match", "--data", dir, "--org", "Org B", "--anonymous", events); r.code != 2 || !strings.Contains(r.stderr, "go with --report") {
		t.Errorf("--anonymous without --report: exit %d %s, want 2", r.code, r.stderr)
	}
	for _, share := range [][]string{{"--anonymous"}, {"--share", "counts"}} {
		r := cli(t, append([]string{"match", "--data", dir, "--org", "Org B", "--report"}, append(share, events)...)...)
		if r.code != 0 || !strings.Contains(r.stderr, "hub added 1,") {
			t.Fatalf("report %v: code %d, stderr %s; want the one sighting added, no identity", share, r.code, r.stderr)
		}
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	orgA, _ := db.OrgByName(ctx, "Org A")
	orgB, _ := db.OrgByName(ctx, "Org B")
	groups, _ := db.GroupsOf(ctx, orgA.ID)
	va := cyberpact.Viewer{Org: orgA.ID, Groups: groups}
	p, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Types: []string{"sighting", "identity"}, AllVersions: true, Viewer: &va})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Objects) != 1 {
		t.Errorf("Org A sees %d sightings and identities; want the anonymous sighting alone", len(p.Objects))
	}
	ident := identityID("Org B")
	for _, o := range p.Objects {
		if o.Release.Producer != 0 || strings.Contains(string(o.Raw), ident) || strings.Contains(string(o.Raw), "Org B") {
			t.Errorf("Org A sees %s released as %+v; want the hub as reporter, nothing of Org B", o.Raw, o.Release)
		}
	}
	all, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Types: []string{"sighting"}, AllVersions: true})
	if err != nil {
		t.Fatal(err)
	}
	counted := 0
	for _, o := range all.Objects {
		if o.Release.Producer == orgB.ID && o.Release.Audience.Kind == cyberpact.AudienceOrg {
			counted++
		}
	}
	if counted != 1 {
		t.Errorf("%d counted sightings kept with Org B alone; want 1", counted)
	}
}
