package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
)

// benchObjects is the size of the page benchmark's store:
// CYBERPACT_BENCH_OBJECTS, default 100,000 (BENCHMARKS.md uses 1,000,000).
func benchObjects() int {
	if n, err := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_OBJECTS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkPages measures the server's time for each type of page of the
// interface over a store of benchObjects() generated objects produced by
// Acme for all members (beside the fixture's objects), and an audit log
// of 10,000 releases (a million objects read in pages of 100), each beside
// the API's time for the same data in the same run where the API has it.
// Each request is timed from its sending to the end of its body, over
// real HTTP on 127.0.0.1, 30 times after one warm-up; the metrics are
// the median and the 95th percentile in milliseconds. Bob (an analyst of
// Beta) reads everything produced by Acme; the audit pages are read by
// Gamma's organisation admin (its own trail) and the hub's admin (the
// whole log and its chain's state).
func BenchmarkPages(b *testing.B) {
	h := newHub(b)
	ctx := context.Background()
	n := benchObjects()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, n, 1)) }()
	dec := stix.NewDecoder(pr)
	start := time.Now()
	res, err := h.db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: h.orgs["Acme"].ID,
		Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
	dec.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d of %d generated objects in %s", res.Added, n, time.Since(start).Round(time.Millisecond))
	// The audit log a million objects read in pages of 100 leave: the
	// releases of 10,000 pages, to Beta and Gamma by turns.
	path := "/taxii2/api1/collections/all/objects/"
	for i := range 100 {
		var es []*cyberpact.AuditEntry
		for j := range 100 {
			k := int64(i*100 + j)
			org := h.orgs[[]string{"Beta", "Gamma"}[k%2]].ID
			sc := cyberpact.NewAuditScope([]int64{k*100 + 1, k*100 + 100})
			sc.Runs, sc.Count = nil, 100
			sc.Path, sc.Query = path, "limit=100"
			es = append(es, &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Actor: "reader", ActorOrg: org, Recipient: org, Via: "taxii", Scope: sc})
		}
		if err := h.db.Audit(ctx, es...); err != nil {
			b.Fatal(err)
		}
	}

	bob := h.client(b)
	bob.mustSignIn("bob")
	gina := h.client(b)
	gina.mustSignIn("gina")
	hana := h.client(b)
	hana.mustSignIn("hana")
	key, _, err := h.db.CreateKey(ctx, h.users["bob"].ID, time.Time{}, "cli")
	if err != nil {
		b.Fatal(err)
	}
	api := func(path string) *http.Request {
		req, _ := http.NewRequest("GET", h.srv.URL+path, nil)
		req.SetBasicAuth("bob", key)
		return req
	}
	// An object with relationships: the target of the first generated
	// relationship Bob may see.
	v := cyberpact.Viewer{Org: h.orgs["Beta"].ID}
	rels, err := h.db.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: &v, Types: []string{"relationship"}, After: 100, Limit: 1})
	if err != nil || len(rels.Objects) == 0 {
		b.Fatalf("no relationship to follow: %v", err)
	}
	var rel struct {
		Target string `json:"target_ref"`
	}
	if err := jsonUnmarshal(rels.Objects[0].Raw, &rel); err != nil {
		b.Fatal(err)
	}
	obj := url.PathEscape(rel.Target)

	for _, pc := range []struct {
		name string
		c    *client
		api  []string // the API's requests for the same data, none when it has none
	}{
		{"Dashboard", bob, nil},
		{"ExplorerList", bob, []string{"/api/v1/objects?type=indicator&limit=50"}},
		{"ExplorerSearch", bob, []string{"/api/v1/objects?q=powershell&limit=50"}},
		{"ObjectPage", bob, []string{"/api/v1/objects/" + obj, "/api/v1/objects/" + obj + "/relationships?limit=200"}},
		{"OrgPage", gina, nil},
		{"AuditOrgAdmin", gina, nil},
		{"AuditHubAdmin", hana, nil},
		{"Feeds", bob, []string{"/api/v1/sources"}},
		{"Exercises", bob, []string{"/api/v1/exercises"}},
		{"Peers", hana, nil},
		{"Incidents", bob, []string{"/api/v1/incidents"}},
		{"IncidentPage", bob, []string{"/api/v1/incidents/" + openIncidentID}},
		{"Crises", bob, []string{"/api/v1/crises"}},
		{"Agreements", bob, []string{"/api/v1/agreements"}},
		{"Warrants", bob, []string{"/api/v1/warrants"}},
	} {
		page := map[string]string{
			"Dashboard":      "/",
			"ExplorerList":   "/search?type=indicator",
			"ExplorerSearch": "/search?q=powershell",
			"ObjectPage":     "/objects/" + obj,
			"OrgPage":        "/org",
			"AuditOrgAdmin":  "/audit",
			"AuditHubAdmin":  "/audit",
			"Feeds":          "/sources",
			"Exercises":      "/exercises",
			"Peers":          "/peers",
			"Incidents":      "/incidents",
			"IncidentPage":   "/incidents/" + openIncidentID,
			"Crises":         "/crises",
			"Agreements":     "/agreements",
			"Warrants":       "/warrants",
		}[pc.name]
		b.Run(pc.name, func(b *testing.B) {
			for b.Loop() {
				p50, p95 := timeRequests(b, pc.c.http, func() *http.Request {
					req, _ := http.NewRequest("GET", h.srv.URL+page, nil)
					return req
				})
				b.ReportMetric(p50, "web-p50-ms")
				b.ReportMetric(p95, "web-p95-ms")
				if len(pc.api) > 0 {
					var reqs []func() *http.Request
					for _, p := range pc.api {
						reqs = append(reqs, func() *http.Request { return api(p) })
					}
					p50, p95 := timeRequests(b, http.DefaultClient, reqs...)
					b.ReportMetric(p50, "api-p50-ms")
					b.ReportMetric(p95, "api-p95-ms")
				}
			}
		})
	}
}

// timeRequests sends the requests newReqs make, one after the other, once
// to warm up and then 30 times, failing on any answer but 200, and returns
// the median and 95th percentile of the times of each round in
// milliseconds.
func timeRequests(b *testing.B, c *http.Client, newReqs ...func() *http.Request) (p50, p95 float64) {
	b.Helper()
	var ds []time.Duration
	for i := range 31 {
		start := time.Now()
		for _, newReq := range newReqs {
			req := newReq()
			res, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, err = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				b.Fatalf("GET %s: %d, %v", req.URL, res.StatusCode, err)
			}
		}
		d := time.Since(start)
		if i > 0 {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return ms(ds[len(ds)/2]), ms(ds[len(ds)*95/100])
}

func jsonUnmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decoding %.80s: %w", raw, err)
	}
	return nil
}
