package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// streamEnd waits for a stream to end, and returns its last event (the
// "end" event) and how long it took; it fails after limit.
func streamEnd(t *testing.T, ch <-chan event, limit time.Duration) (event, time.Duration) {
	t.Helper()
	start := time.Now()
	deadline := time.After(limit)
	var last event
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return last, time.Since(start)
			}
			last = e
		case <-deadline:
			t.Fatalf("the stream is still open %v later", limit)
		}
	}
}

// TestStreamEndsOnKeyRevocation opens live streams on 127.0.0.1 and takes
// their keys away, by revocation and by expiry: each stream ends by itself,
// with no write to wake it, and its last event says why.
func TestStreamEndsOnKeyRevocation(t *testing.T) {
	db := openDB(t)
	org := mkOrg(t, db, "Org B")
	b := mkMember(t, db, org, "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checkEnd := func(t *testing.T, e event, took time.Duration) {
		t.Helper()
		var body struct{ Error, Code string }
		if e.name != "end" || json.Unmarshal([]byte(e.data), &body) != nil || body.Code != cyberpact.EUNAUTHORIZED || !strings.Contains(body.Error, "no longer authenticates") {
			t.Errorf("last event %q %s, want an end event saying the key no longer authenticates", e.name, e.data)
		}
		t.Logf("the stream ended %v after the key stopped authenticating", took.Round(time.Millisecond))
	}

	t.Run("Revoked", func(t *testing.T) {
		stream := subscribe(t, ctx, base, b, "")
		quiet(t, stream, "the open stream")
		keys, err := db.Keys(ctx, b.user.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys: %v %v", keys, err)
		}
		if err := db.RevokeKey(ctx, keys[0].ID, "test"); err != nil {
			t.Fatal(err)
		}
		e, took := streamEnd(t, stream, 5*time.Second)
		checkEnd(t, e, took)
	})
	t.Run("Expired", func(t *testing.T) {
		u := &cyberpact.User{Name: "brief", Org: org.ID, Role: cyberpact.RoleReader}
		if err := db.CreateUser(ctx, u, "test"); err != nil {
			t.Fatal(err)
		}
		const life = 1500 * time.Millisecond
		expires := time.Now().Add(life)
		key, _, err := db.CreateKey(ctx, u.ID, expires, "test")
		if err != nil {
			t.Fatal(err)
		}
		stream := subscribe(t, ctx, base, &member{org: org, user: u, key: key}, "")
		e, _ := streamEnd(t, stream, life+5*time.Second)
		if early := time.Until(expires); early > 0 {
			t.Errorf("the stream ended %v before its key expired", early)
		}
		checkEnd(t, e, time.Since(expires))
	})
}

// TestStreamFollowsGroupRemoval removes an organisation from a sharing
// group while its stream is open: what the group shares after that is not
// sent, not even the write right after the removal, while what is shared
// with all members still is.
func TestStreamFollowsGroupRemoval(t *testing.T) {
	db := openDB(t)
	orgA, orgB := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	g := mkGroup(t, db, "G1", orgA, orgB)
	a := mkMember(t, db, orgA, "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, orgB, "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	post := func(audience string, obj map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--6d8b2b1e-8f0a-4c3e-9d4e-0a5c1f2e3d4b", "objects": []any{obj}})
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/bundles?audience="+audience, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("post to %s: %d", audience, resp.StatusCode)
		}
	}
	idOf := func(e event) string {
		var o struct{ ID string }
		json.Unmarshal([]byte(e.data), &o)
		return o.ID
	}
	stream := subscribe(t, ctx, base, b, "")
	time.Sleep(100 * time.Millisecond) // let the stream reach its first wait

	before := indicator(1, 1)
	post("group:G1", before)
	if e := next(t, stream); idOf(e) != before["id"] {
		t.Fatalf("B, in G1, received %s, want %s", idOf(e), before["id"])
	}
	if err := db.SetGroupOrgs(ctx, g.ID, []int64{orgA.ID}, "test"); err != nil {
		t.Fatal(err)
	}
	after, forAll := indicator(2, 1), indicator(3, 1)
	post("group:G1", after)
	post("all", forAll)
	if e := next(t, stream); idOf(e) != forAll["id"] {
		t.Fatalf("B, removed from G1, received %s (G1's object is %s), want only %s", idOf(e), after["id"], forAll["id"])
	}
	quiet(t, stream, "B, removed from G1,")
}
