package http_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// TestCursorsAreOpaque shows that paging cursors (REST next, TAXII next)
// and stream event ids carry no sequence number a caller could count
// hidden writes with: they are not numbers, do not hold the position in
// any readable form, are refused (400, with a JSON error that says so)
// when altered, made up or used by another organisation, and still page
// and resume, on another server too when it shares the cursor secret.
func TestCursorsAreOpaque(t *testing.T) {
	db := openDB(t)
	orgA, orgB, orgC := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	c := mkMember(t, db, orgC, "carol", cyberpact.RoleAnalyst)
	secret := []byte("a secret every serve process of this hub shares")
	_, base := serve(t, db, func(s *cphttp.Server) { s.CursorSecret = secret })

	do := func(base, method, path string, m *member, hdr map[string]string, body []byte) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if m != nil {
			req.Header.Set("Authorization", "Bearer "+m.key)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	post := func(m *member, audience string, objs ...map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": objs})
		if st, data := do(base, "POST", "/api/v1/bundles?audience="+audience, m, nil, body); st != 200 {
			t.Fatalf("post: %d %s", st, data)
		}
	}
	// A's objects for all members, with C's private writes between them:
	// the positions B pages over have gaps only hidden writes made.
	const visible, hidden = 6, 40
	for i := range visible {
		post(a, "all", indicator(1000+i, 1))
		var private []map[string]any
		for j := range hidden {
			private = append(private, indicator(2000+i*hidden+j, 1))
		}
		post(c, "org", private...)
	}

	// Every cursor B is handed, REST and TAXII, paging one object a time.
	type page struct {
		More    bool   `json:"more"`
		Next    string `json:"next"`
		Objects []struct {
			ID string `json:"id"`
		} `json:"objects"`
	}
	collection := "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	taxiiHdr := map[string]string{"Accept": "application/taxii+json;version=2.1"}
	var restCursors, taxiiCursors []string
	for _, api := range []struct {
		path, param string
		hdr         map[string]string
		into        *[]string
	}{
		{"/api/v1/objects?type=indicator&limit=1", "cursor", nil, &restCursors},
		{collection + "?match[type]=indicator&limit=1", "next", taxiiHdr, &taxiiCursors},
	} {
		path, seen := api.path, 0
		for {
			st, data := do(base, "GET", path, b, api.hdr, nil)
			var p page
			if st != 200 || json.Unmarshal(data, &p) != nil {
				t.Fatalf("GET %s: %d %s", path, st, data)
			}
			seen += len(p.Objects)
			if !p.More {
				break
			}
			*api.into = append(*api.into, p.Next)
			path = api.path + "&" + api.param + "=" + url.QueryEscape(p.Next)
		}
		if seen != visible {
			t.Fatalf("paging %s saw %d objects, want %d", api.path, seen, visible)
		}
	}
	// The stream's event ids, from the start.
	st, data := do(base, "GET", "/api/v1/stream?after=0&follow=false&type=indicator", b, nil, nil)
	if st != 200 {
		t.Fatalf("stream: %d %s", st, data)
	}
	var eventIDs []string
	for _, line := range strings.Split(string(data), "\n") {
		if id, ok := strings.CutPrefix(line, "id: "); ok {
			eventIDs = append(eventIDs, id)
		}
	}
	if len(eventIDs) != visible {
		t.Fatalf("stream sent %d events, want %d", len(eventIDs), visible)
	}

	t.Run("HoldNoReadablePosition", func(t *testing.T) {
		all := append(append(append([]string(nil), restCursors...), taxiiCursors...), eventIDs...)
		distinct := map[string]bool{}
		for _, cur := range all {
			if _, err := strconv.ParseInt(cur, 10, 64); err == nil {
				t.Errorf("cursor %q is a number", cur)
			}
			raw, err := base64.RawURLEncoding.DecodeString(cur)
			if err != nil {
				t.Errorf("cursor %q is not base64url: %v", cur, err)
				continue
			}
			// No small position in any 8-byte window, either byte order:
			// the store's positions here are all below 1000.
			for i := 0; i+8 <= len(raw); i++ {
				for _, n := range []uint64{binary.BigEndian.Uint64(raw[i:]), binary.LittleEndian.Uint64(raw[i:])} {
					if n < 1000 {
						t.Errorf("cursor %q holds the small number %d at byte %d", cur, n, i)
					}
				}
			}
			distinct[cur] = true
		}
		// REST, TAXII and the stream name the same positions the same way
		// for one organisation; positions differ from one another.
		if len(distinct) != visible {
			t.Errorf("%d distinct cursors for %d positions: %q", len(distinct), visible, all)
		}
	})

	refused := func(t *testing.T, st int, data []byte, taxii bool) {
		t.Helper()
		var e struct {
			Error       string `json:"error"`
			Code        string `json:"code"`
			Description string `json:"description"`
		}
		if st != 400 || json.Unmarshal(data, &e) != nil {
			t.Fatalf("status %d %s, want 400 with a JSON error", st, data)
		}
		msg := e.Error
		if taxii {
			msg = e.Description
		}
		if !strings.Contains(msg, "not a cursor this hub handed to your organisation") {
			t.Errorf("error %q does not say the cursor is not one handed to the caller", msg)
		}
	}
	tampered := func(cur string) string {
		raw, _ := base64.RawURLEncoding.DecodeString(cur)
		raw[3] ^= 1
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	for _, tc := range []struct {
		name   string
		m      *member
		cursor string
	}{
		{"Tampered", b, tampered(restCursors[0])},
		{"AnotherOrganisations", a, restCursors[0]},
		{"MadeUpNumber", b, "5"},
		{"Truncated", b, restCursors[0][:10]},
	} {
		t.Run(tc.name+"RefusedByREST", func(t *testing.T) {
			st, data := do(base, "GET", "/api/v1/objects?limit=1&cursor="+url.QueryEscape(tc.cursor), tc.m, nil, nil)
			refused(t, st, data, false)
		})
		t.Run(tc.name+"RefusedByTAXII", func(t *testing.T) {
			st, data := do(base, "GET", collection+"?limit=1&next="+url.QueryEscape(tc.cursor), tc.m, taxiiHdr, nil)
			refused(t, st, data, true)
		})
		t.Run(tc.name+"RefusedByStream", func(t *testing.T) {
			st, data := do(base, "GET", "/api/v1/stream?follow=false", tc.m, map[string]string{"Last-Event-ID": tc.cursor}, nil)
			refused(t, st, data, false)
		})
	}

	t.Run("AnotherServerWithTheSecretTakesThem", func(t *testing.T) {
		other := func(secret []byte) string {
			ctx, cancel := context.WithCancel(context.Background())
			srv := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
			srv.CursorSecret = secret
			if err := srv.Listen("127.0.0.1:0"); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx) }()
			t.Cleanup(func() { cancel(); <-done })
			return "http://" + srv.Addr()
		}
		same, different := other(secret), other([]byte("another hub's secret"))
		last := eventIDs[visible-2]
		st, data := do(same, "GET", "/api/v1/stream?follow=false&type=indicator", b, map[string]string{"Last-Event-ID": last}, nil)
		if st != 200 || strings.Count(string(data), "\ndata: ") != 1 || !strings.Contains(string(data), "id: "+eventIDs[visible-1]+"\n") {
			t.Errorf("resuming on another server with the secret: %d %s, want the last event %s", st, data, eventIDs[visible-1])
		}
		st, data = do(different, "GET", "/api/v1/objects?limit=1&cursor="+url.QueryEscape(restCursors[0]), b, nil, nil)
		refused(t, st, data, false)
	})
}
