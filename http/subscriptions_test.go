package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
	"github.com/google/go-cmp/cmp"
)

// worldSubs is, per world, the subscription each organisation holds (by
// organisation name), made once with its notifications enqueued.
var (
	worldSubsMu sync.Mutex
	worldSubs   = map[*world]map[string]int64{}
)

// subscriptions gives each organisation of w an org-wide webhook
// subscription to every object, and enqueues (without delivering) the
// notifications of the world's objects: each organisation's outbox then
// names what it may see, and only that.
func (w *world) subscriptions(t *testing.T) map[string]int64 {
	t.Helper()
	worldSubsMu.Lock()
	defer worldSubsMu.Unlock()
	if s, ok := worldSubs[w]; ok {
		return s
	}
	ctx := context.Background()
	out := map[string]int64{}
	for name, org := range w.orgs {
		s := &cyberpact.Subscription{Org: org.ID, Event: cyberpact.EventObject, Channel: cyberpact.ChannelWebhook,
			Target: "http://127.0.0.1:9/" + name, Secret: cyberpact.NewWebhookSecret()}
		if err := w.db.CreateSubscription(ctx, s, "cli"); err != nil {
			t.Fatal(err)
		}
		out[name] = s.ID
	}
	// The store was made empty, so its alert cursor is 0: the scan
	// covers every object of the world.
	d := &alert.Dispatcher{Store: w.db}
	if n, err := d.Scan(ctx); err != nil || n == 0 {
		t.Fatalf("enqueueing the world's notifications: %d, %v", n, err)
	}
	worldSubs[w] = out
	return out
}

// checkSubscriptions is the route matrix's case of the subscriptions API:
// anonymous callers get 401; a member lists only its organisation's
// subscription; another organisation's answers 404 to GET and DELETE with
// the body of one that does not exist (and stays); the delivery status of
// its own names only objects it may see.
func (w *world) checkSubscriptions(t *testing.T, vc *viewerCase) {
	subs := w.subscriptions(t)
	if vc.m == nil {
		mustStatus(t, "anonymous list", w.req(t, vc, "GET", "/api/v1/subscriptions", nil, ""), 401)
		mustStatus(t, "anonymous get", w.req(t, vc, "GET", fmt.Sprintf("/api/v1/subscriptions/%d", subs["A"]), nil, ""), 401)
		mustStatus(t, "anonymous delete", w.req(t, vc, "DELETE", fmt.Sprintf("/api/v1/subscriptions/%d", subs["A"]), nil, ""), 401)
		mustStatus(t, "anonymous post", w.req(t, vc, "POST", "/api/v1/subscriptions", []byte(`{"event":"object","channel":"email","target":"a@b.test"}`), "application/json"), 401)
		return
	}
	mine := ""
	for name, org := range w.orgs {
		if org.ID == vc.m.org.ID {
			mine = name
		}
	}
	a := w.req(t, vc, "GET", "/api/v1/subscriptions", nil, "")
	mustStatus(t, "list", a, 200)
	var l struct{ Subscriptions []struct{ ID int64 } }
	if err := json.Unmarshal(a.body, &l); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range l.Subscriptions {
		got[fmt.Sprint(s.ID)] = true
	}
	if mine != "" {
		sameSet(t, "subscriptions of "+vc.name, got, map[string]bool{fmt.Sprint(subs[mine]): true})
	} else if len(got) != 0 {
		t.Errorf("%s lists subscriptions %v of other organisations", vc.name, got)
	}
	missing := w.req(t, vc, "GET", "/api/v1/subscriptions/999999", nil, "")
	mustStatus(t, "unknown subscription", missing, 404)
	missingDel := w.req(t, vc, "DELETE", "/api/v1/subscriptions/999999", nil, "")
	mustStatus(t, "unknown subscription deleted", missingDel, 404)
	for name, id := range subs {
		path := fmt.Sprintf("/api/v1/subscriptions/%d", id)
		if name == mine {
			a := w.req(t, vc, "GET", path, nil, "")
			mustStatus(t, "own subscription", a, 200)
			var v struct {
				Delivery struct {
					Counts map[string]int
					Recent []struct {
						ObjectID string `json:"object_id"`
					}
				}
			}
			if err := json.Unmarshal(a.body, &v); err != nil {
				t.Fatal(err)
			}
			if len(v.Delivery.Recent) == 0 {
				t.Errorf("%s's subscription shows no notifications: %s", vc.name, a.body)
			}
			viewer := vc.viewer()
			for _, n := range v.Delivery.Recent {
				if n.ObjectID == "" {
					continue
				}
				if _, err := w.db.Object(context.Background(), n.ObjectID, &viewer); err != nil {
					t.Errorf("%s's delivery status names %s, which it may not see: %v", vc.name, n.ObjectID, err)
				}
			}
			continue
		}
		for _, method := range []string{"GET", "DELETE"} {
			a := w.req(t, vc, method, path, nil, "")
			want := missing
			if method == "DELETE" {
				want = missingDel
			}
			mustStatus(t, method+" another's subscription", a, 404)
			if strings.ReplaceAll(string(a.body), fmt.Sprint(id), "X") != strings.ReplaceAll(string(want.body), "999999", "X") {
				t.Errorf("%s of another's subscription answers %s, of an unknown one %s", method, a.body, want.body)
			}
		}
	}
	if left, err := w.db.Subscriptions(context.Background(), 0); err != nil || len(left) < len(subs) {
		t.Errorf("subscriptions after %s's attempts: %d, %v; want at least %d", vc.name, len(left), err, len(subs))
	}
}

// subscriptionPostCase: a subscription naming, in its filter, a value
// held out of the poster's sight answers as one naming a fresh value; and
// removing another organisation's subscription answers as removing one
// that does not exist.
func subscriptionPostCase(t *testing.T, w *world, p probe) {
	post := func(v string) map[string]any {
		body, _ := json.Marshal(map[string]any{"event": "object", "channel": "webhook", "target": "http://127.0.0.1:9/hook", "filter": map[string]any{"values": []string{v}, "types": []string{"indicator"}}})
		a := w.req(t, p.poster, "POST", "/api/v1/subscriptions", body, "application/json")
		mustStatus(t, "subscription", a, 201)
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.ReplaceAll(string(a.body), v, "<value>")), &m); err != nil {
			t.Fatal(err)
		}
		delete(m, "id")
		delete(m, "secret")
		delete(m, "created")
		return m
	}
	if d := cmp.Diff(post(p.freshV), post(p.hiddenV)); d != "" {
		t.Errorf("a subscription to a value held out of sight answers differently (-fresh +hidden):\n%s", d)
	}
}

func subscriptionDeleteCase(t *testing.T, w *world, p probe) {
	subs := w.subscriptions(t)
	del := func(id string) answer {
		return w.req(t, p.poster, "DELETE", "/api/v1/subscriptions/"+id, nil, "")
	}
	sameAnswer(t, "removing another's subscription", del(fmt.Sprint(subs["A"])), del("999999"), fmt.Sprint(subs["A"]), "999999")
	left, err := w.db.Subscriptions(context.Background(), w.orgs["A"].ID)
	if err != nil || len(left) != 1 {
		t.Errorf("A's subscriptions after B's attempt: %v, %v", left, err)
	}
}
