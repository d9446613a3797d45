package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// TestMetricsNeedAdmin shows that /metrics on the hub's address answers
// hub admins only (401 without a key, 403 for any other role), that the
// listener of ListenMetrics (serve --metrics-addr) serves it without a key
// and nothing else, and that no metric is labelled by organisation or user.
func TestMetricsNeedAdmin(t *testing.T) {
	db := openDB(t)
	orgA, orgB := mkOrg(t, db, "Org Alpha"), mkOrg(t, db, "Org Bravo")
	analyst := mkMember(t, db, orgA, "analyst1", cyberpact.RoleAnalyst)
	orgAdmin := mkMember(t, db, orgB, "orgadmin1", cyberpact.RoleOrgAdmin)
	admin := mkMember(t, db, orgA, "hubadmin1", cyberpact.RoleAdmin)
	srv, base := serve(t, db, func(s *cphttp.Server) {
		if err := s.ListenMetrics("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	get := func(url string, m *member) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if m != nil {
			req.Header.Set("Authorization", "Bearer "+m.key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// Some activity of two organisations to count.
	for _, m := range []*member{analyst, orgAdmin} {
		body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": []any{indicator(int(m.org.ID), 1)}})
		req, _ := http.NewRequest("POST", base+"/api/v1/bundles", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post as %s: %d", m.user.Name, resp.StatusCode)
		}
	}
	const counter = `cyberpact_http_requests_total{code="200",route="POST /api/v1/bundles"} 2`

	t.Run("OnTheHubAddress", func(t *testing.T) {
		for _, c := range []struct {
			who    string
			m      *member
			status int
		}{{"anonymous", nil, 401}, {"analyst", analyst, 403}, {"org-admin", orgAdmin, 403}, {"admin", admin, 200}} {
			st, body := get(base+"/metrics", c.m)
			if st != c.status {
				t.Errorf("/metrics as %s: status %d, want %d", c.who, st, c.status)
			}
			if st == 200 && !strings.Contains(body, counter) {
				t.Errorf("/metrics as admin lacks %s:\n%.2000s", counter, body)
			}
			if st != 200 && strings.Contains(body, "cyberpact_") {
				t.Errorf("/metrics as %s answered with metrics", c.who)
			}
		}
	})
	t.Run("OnTheMetricsListener", func(t *testing.T) {
		maddr := "http://" + srv.MetricsAddr()
		st, body := get(maddr+"/metrics", nil)
		if st != 200 || !strings.Contains(body, counter) {
			t.Fatalf("metrics listener: status %d, want 200 with %s:\n%.2000s", st, counter, body)
		}
		noOrgLabels(t, body, orgA, orgB, analyst, orgAdmin, admin)
		for _, path := range []string{"/api/v1/objects", "/taxii2/", "/healthz"} {
			if st, _ := get(maddr+path, analyst); st != 404 {
				t.Errorf("metrics listener serves %s: status %d, want 404", path, st)
			}
		}
	})
}

// noOrgLabels checks a Prometheus exposition for labels that could tell
// organisations or users apart: label names other than the hub-wide ones,
// and any organisation's or user's name or id as a value.
func noOrgLabels(t *testing.T, body string, orgA, orgB *cyberpact.Org, members ...*member) {
	t.Helper()
	hubWide := map[string]bool{"route": true, "code": true, "outcome": true, "le": true, "quantile": true, "version": true}
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"`)
	var names []string
	for _, o := range []*cyberpact.Org{orgA, orgB} {
		names = append(names, o.Name)
	}
	for _, m := range members {
		names = append(names, m.user.Name)
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, l := range label.FindAllStringSubmatch(line, -1) {
			if !hubWide[l[1]] {
				t.Errorf("metric label %s=%q is not one of the hub-wide labels: %s", l[1], l[2], line)
			}
			for _, n := range names {
				if strings.Contains(l[2], n) {
					t.Errorf("metric label %s=%q names %s", l[1], l[2], n)
				}
			}
		}
	}
}
