package http_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// event is one Server-Sent Event of the live stream.
type event struct {
	id   string
	name string // the event: field
	data string
}

// subscribe opens the live stream for m and returns its events.
func subscribe(t *testing.T, ctx context.Context, base string, m *member, lastID string) <-chan event {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/stream", nil)
	req.Header.Set("Authorization", "Bearer "+m.key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan event, 100)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.data = line[6:]
			case line == "" && e.data != "":
				out <- e
				e = event{}
			}
		}
	}()
	return out
}

// next waits for an event, or fails after a few seconds.
func next(t *testing.T, ch <-chan event) event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return event{}
}

// quiet checks that no event comes within a short wait.
func quiet(t *testing.T, ch <-chan event, what string) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("%s received %s", what, e.data)
	case <-time.After(300 * time.Millisecond):
	}
}

func TestLiveStream(t *testing.T) {
	db := openDB(t)
	orgA, orgB, orgC := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	mkGroup(t, db, "G1", orgA, orgB)
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	c := mkMember(t, db, orgC, "carol", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	post := func(m *member, audience string, objs ...map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": objs})
		req, _ := http.NewRequest("POST", base+"/api/v1/bundles?audience="+audience, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post: %d", resp.StatusCode)
		}
	}
	idOf := func(e event) string {
		var o struct{ ID string }
		json.Unmarshal([]byte(e.data), &o)
		return o.ID
	}

	bStream, cStream := subscribe(t, ctx, base, b, ""), subscribe(t, ctx, base, c, "")
	// Let both subscriptions reach their first wait before writing.
	time.Sleep(100 * time.Millisecond)

	g1 := indicator(1, 1)
	post(a, "group:G1", g1)
	first := next(t, bStream)
	if idOf(first) != g1["id"] {
		t.Fatalf("B received %s, want %s", idOf(first), g1["id"])
	}
	quiet(t, cStream, "C, outside G1,")

	all := indicator(2, 1)
	post(a, "all", all)
	if e := next(t, bStream); idOf(e) != all["id"] {
		t.Fatalf("B received %s, want %s", idOf(e), all["id"])
	}
	if e := next(t, cStream); idOf(e) != all["id"] {
		t.Fatalf("C received %s, want %s", idOf(e), all["id"])
	}

	t.Run("ResumesAfterLastEventID", func(t *testing.T) {
		later := indicator(3, 1)
		post(a, "group:G1", later)
		resumed := subscribe(t, ctx, base, b, first.id)
		if e := next(t, resumed); idOf(e) != all["id"] {
			t.Fatalf("resumed stream starts with %s, want %s", idOf(e), all["id"])
		}
		if e := next(t, resumed); idOf(e) != later["id"] {
			t.Fatalf("resumed stream then gives %s, want %s", idOf(e), later["id"])
		}
	})
	t.Run("BadCursorIs400", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/api/v1/stream?after=nope", nil)
		req.Header.Set("Authorization", "Bearer "+b.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
}
