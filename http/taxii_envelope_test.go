package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// TestTAXIIEnvelopeLength: a collection's pages are sent with an exact
// Content-Length, not chunked (empty, partial and last pages, a page of
// one object), and a client that stops reading at the envelope's closing
// brace still gets its connection back for the next page.
func TestTAXIIEnvelopeLength(t *testing.T) {
	db := openDB(t)
	a := mkOrg(t, db, "Org A")
	b := mkMember(t, db, mkOrg(t, db, "Org B"), "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	objects := base + "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"

	var dials atomic.Int64
	tr := http.DefaultTransport.(*http.Transport).Clone()
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	get := func(u string, readAll bool) (int, envelopeAnswer) {
		t.Helper()
		req, _ := http.NewRequest("GET", u, nil)
		req.SetBasicAuth(b.user.Name, b.key)
		req.Header.Set("Accept", taxiiType)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
		if len(resp.TransferEncoding) > 0 {
			t.Errorf("GET %s: Transfer-Encoding %v, want none", u, resp.TransferEncoding)
		}
		var e envelopeAnswer
		var n int
		if readAll {
			data, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			n = len(data)
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatalf("GET %s: %v", u, err)
			}
		} else {
			// Decode stops at the closing brace, before the newline.
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("GET %s: %v", u, err)
			}
		}
		if want := strconv.Itoa(n); readAll && resp.Header.Get("Content-Length") != want {
			t.Errorf("GET %s: Content-Length %q, body of %s bytes", u, resp.Header.Get("Content-Length"), want)
		}
		return n, e
	}

	if _, e := get(objects, true); e.More || len(e.Objects) != 0 {
		t.Fatalf("empty collection: %+v", e)
	}
	var objs []map[string]any
	for i := range 5 {
		// Pages larger than net/http's own buffer, which would
		// otherwise set the length of a small answer itself.
		o := indicator(i, 1)
		o["description"] = strings.Repeat("long ", 1000)
		objs = append(objs, o)
	}
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}, objs...)
	if _, e := get(objects+"?limit=1", true); !e.More || len(e.Objects) != 1 {
		t.Fatalf("page of one: %+v", e)
	}
	before := dials.Load()
	u, pages, read := objects+"?limit=2", 0, 0
	for {
		_, e := get(u, pages%2 == 0)
		pages++
		read += len(e.Objects)
		if !e.More {
			break
		}
		u = objects + "?limit=2&next=" + url.QueryEscape(e.Next)
	}
	if pages != 3 || read != 5 {
		t.Errorf("read %d objects in %d pages, want 5 in 3", read, pages)
	}
	if n := dials.Load() - before; n > 1 {
		t.Errorf("%d connections for 3 pages read one after the other, want at most 1", n)
	}
}
