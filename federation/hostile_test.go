package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/federation"
	"github.com/cyberpact/cyberpact/taxii"
)

// The hostile-peer suite (issue 15, "a peer is trusted too much"): a fake
// TAXII server in Go on 127.0.0.1 misbehaves on purpose, one case per
// finding. Each case runs the hub under test (Tokyo, a real SQLite store)
// against the hostile peer and, in the same round, a well-behaved peer (a
// real hub, Washington, that adds one object per round), and shows what
// is stored, what the hostile peer's state and failures say (what 'peer
// status' prints, text and --json), and that Washington's new object
// arrived all the same.
//
// The findings on markings and ownership have their cases beside the code
// that fixed them and belong to this suite by reference:
//   - markings in every spelling on pull, push and relay:
//     TestOddMarkingsNeverCross (markings_test.go);
//   - id collisions, revocations and impersonation of local organisations:
//     TestPullOfAnIDHeldOutOfSight and TestTriangleKeepsOneHolding
//     (ownership_test.go), and the write-path matrix of the http package.
//
// Run them all with: go test ./federation -run 'Hostile|OddMarkings|PullOfAnID|Triangle'

// hostile is a fake TAXII peer: handle answers every request; each request
// is recorded.
type hostile struct {
	t      *testing.T
	base   string // scheme://127.0.0.1:PORT
	root   string // the TAXII API root
	handle func(w http.ResponseWriter, r *http.Request, n int)
	mu     sync.Mutex
	reqs   []seenRequest
}

type seenRequest struct {
	Method, Path, Query, Auth string
	Body                      []byte
	At                        time.Time
}

func newHostile(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) *hostile {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hostile{t: t, handle: handle, base: "http://" + ln.Addr().String()}
	h.root = h.base + "/taxii2/api1/"
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return h
}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.mu.Lock()
	h.reqs = append(h.reqs, seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Auth: r.Header.Get("Authorization"), Body: body, At: time.Now()})
	n := len(h.reqs)
	h.mu.Unlock()
	h.handle(w, r, n)
}

func (h *hostile) requests() []seenRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]seenRequest(nil), h.reqs...)
}

// count returns how many requests matched method and a path ending in
// suffix.
func (h *hostile) count(method, suffix string) int {
	n := 0
	for _, r := range h.requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

const hostileCollection = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"

// envelope answers a page of objects.
func envelope(w http.ResponseWriter, more bool, next string, objs ...any) {
	w.Header().Set("Content-Type", taxii.MediaTAXII)
	env := map[string]any{"more": more, "objects": objs}
	if next != "" {
		env["next"] = next
	}
	json.NewEncoder(w).Encode(env)
}

func taxiiJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", taxii.MediaTAXII)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// arena is Tokyo with two peers: "hostile" (the fake) and "washington" (a
// well-behaved real hub).
type arena struct {
	t      *testing.T
	to, wa *hub
	bad    *hostile
	waCISA *cyberpact.Org
	round  int
	lim    federation.Limits
	http   *http.Client
}

func newArena(t *testing.T, dir cyberpact.SyncDirection, handle func(w http.ResponseWriter, r *http.Request, n int)) *arena {
	t.Helper()
	a := &arena{t: t, to: newHub(t, "Tokyo"), wa: newHub(t, "Washington"), lim: federation.Limits{Pages: 20, Duration: time.Minute}}
	a.waCISA = a.wa.org("US CISA", "US")
	tokyoOnWa := a.wa.org("Tokyo Hub", "JP")
	user, key := a.wa.syncUser("tokyo-sync", tokyoOnWa)
	all := cyberpact.Audience{Kind: cyberpact.AudienceAll}
	// What Washington brings goes to a sharing group in Tokyo, so that
	// it is never relayed to the hostile peer: what is pushed there is
	// only what each case publishes.
	waOnTo := a.to.org("Washington Hub", "US")
	cell := a.to.group("Pacific Cell", waOnTo, a.to.org("JP NISC", "JP"))
	a.to.peer(&cyberpact.Peer{Name: "washington", URL: a.wa.root, Collection: collection("all"), User: user, Key: key,
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: cell.ID}, Org: waOnTo.ID})
	if handle != nil {
		a.bad = newHostile(t, handle)
		a.to.peer(&cyberpact.Peer{Name: "hostile", URL: a.bad.root, Collection: hostileCollection, User: "tokyo", Key: "s3cret",
			Direction: dir, Audience: all, Org: a.to.org("Hostile Hub", "NL").ID})
	}
	return a
}

// nisc is Tokyo's own member organisation.
func (a *arena) nisc() *cyberpact.Org {
	a.t.Helper()
	o, err := a.to.db.OrgByName(context.Background(), "JP NISC")
	if err != nil {
		a.t.Fatal(err)
	}
	return o
}

func (a *arena) syncer() *federation.Syncer {
	return &federation.Syncer{Store: a.to.db, Peers: a.to.db, Audit: a.to.db, Timeout: 30 * time.Second, Limits: a.lim, HTTP: a.http}
}

// run publishes a new object at Washington, syncs every peer of Tokyo
// at once, checks that Washington's object arrived, and returns the hostile
// peer's result and error.
func (a *arena) run() (*federation.Result, error) {
	a.t.Helper()
	a.round++
	obj := indicator(900000+a.round, cyberpact.TLPGreen)
	a.wa.publish(a.waCISA, cyberpact.Audience{Kind: cyberpact.AudienceAll}, obj)
	ctx := context.Background()
	peers, err := a.to.db.Peers(ctx)
	if err != nil {
		a.t.Fatal(err)
	}
	results, _ := a.syncer().SyncEach(ctx, peers)
	var bad *federation.Result
	var badErr error
	for i, p := range peers {
		if p.Name == "washington" {
			if results[i].Pulled != 1 {
				a.t.Fatalf("round %d: the well-behaved peer pulled %+v, want its new object", a.round, results[i])
			}
			continue
		}
		bad = results[i]
		st, _ := a.to.db.PeerState(ctx, p.ID)
		badErr = nil
		if st.LastRun.Equal(st.LastErrorAt) {
			badErr = errors.New(st.LastError)
		}
	}
	if len(a.to.versions()[obj["id"].(string)]) != 1 {
		a.t.Fatalf("round %d: Washington's new object is not stored in Tokyo", a.round)
	}
	st := a.state("washington")
	if !st.LastSuccess.Equal(st.LastRun) || st.Failures != 0 {
		a.t.Fatalf("round %d: the well-behaved peer's state %+v", a.round, st)
	}
	return bad, badErr
}

func (a *arena) state(name string) *cyberpact.PeerState {
	a.t.Helper()
	ctx := context.Background()
	p, err := a.to.db.PeerByName(ctx, name)
	if err != nil {
		a.t.Fatal(err)
	}
	st, err := a.to.db.PeerState(ctx, p.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return st
}

func (a *arena) failures() []*cyberpact.SyncFailure {
	a.t.Helper()
	ctx := context.Background()
	p, _ := a.to.db.PeerByName(ctx, "hostile")
	fs, err := a.to.db.Failures(ctx, p.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	return fs
}

// fromHostile counts the versions stored in Tokyo that came from the
// hostile peer (its organisation produced them).
func (a *arena) fromHostile() map[string]int {
	a.t.Helper()
	ctx := context.Background()
	p, _ := a.to.db.PeerByName(ctx, "hostile")
	out := map[string]int{}
	for id, vs := range a.to.versions() {
		for _, v := range vs {
			if v.Release.Producer == p.Org {
				out[id]++
			}
		}
	}
	return out
}

// wantFailedRun checks that the hostile peer's last run failed with an
// error holding each of want, and that its state says so.
func (a *arena) wantFailedRun(err error, runs, failedRuns int64, want ...string) {
	a.t.Helper()
	if err == nil {
		a.t.Fatalf("the hostile peer's run succeeded")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			a.t.Errorf("the run's error %q does not say %q", err, w)
		}
	}
	st := a.state("hostile")
	if st.Runs != runs || st.FailedRuns != failedRuns || st.Failures == 0 || st.LastError != err.Error() || st.LastErrorAt.IsZero() {
		a.t.Errorf("peer status of the hostile peer: %+v; want %d runs, %d failed, the last error", st, runs, failedRuns)
	}
}

func TestHostilePeers(t *testing.T) {
	ctx := context.Background()

	t.Run("RedirectOffOriginIsRefused", func(t *testing.T) {
		// A 302 on the pull and a 307 on the push point at another port
		// of the same host: Go would send the Basic credentials there.
		thief := newHostile(t, func(w http.ResponseWriter, r *http.Request, n int) {
			envelope(w, false, "", indicator(500, cyberpact.TLPGreen))
		})
		for _, tc := range []struct {
			name string
			dir  cyberpact.SyncDirection
			code int
		}{{"Pull302", cyberpact.SyncPull, http.StatusFound}, {"Push307", cyberpact.SyncPush, http.StatusTemporaryRedirect}} {
			t.Run(tc.name, func(t *testing.T) {
				a := newArena(t, tc.dir, func(w http.ResponseWriter, r *http.Request, n int) {
					http.Redirect(w, r, thief.base+r.URL.Path, tc.code)
				})
				a.to.publish(a.nisc(), cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(501, cyberpact.TLPGreen))
				_, err := a.run()
				a.wantFailedRun(err, 1, 1, "refused the redirect to "+thief.base, "off the peer's origin", "neither credentials nor objects were sent there")
				if got := thief.requests(); len(got) != 0 {
					t.Errorf("the redirect target received %d requests (first: %s %s, auth %q)", len(got), got[0].Method, got[0].Path, got[0].Auth)
				}
				if got := a.fromHostile(); len(got) != 0 {
					t.Errorf("stored from the hostile peer: %v", got)
				}
			})
		}
	})

	t.Run("RedirectWithinOriginIsFollowed", func(t *testing.T) {
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			if !strings.Contains(r.URL.Path, "/moved/") {
				http.Redirect(w, r, strings.Replace(r.URL.Path, "/taxii2/", "/taxii2/moved/", 1)+"?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
				return
			}
			envelope(w, false, "", indicator(502, cyberpact.TLPGreen))
		})
		res, err := a.run()
		if err != nil || res.Pulled != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		for _, r := range a.bad.requests() {
			if r.Auth == "" {
				t.Errorf("%s %s without the credentials", r.Method, r.Path)
			}
		}
	})

	t.Run("RedirectDowngradeIsRefused", func(t *testing.T) {
		var plain *hostile
		plain = newHostile(t, func(w http.ResponseWriter, r *http.Request, n int) {
			envelope(w, false, "", indicator(503, cyberpact.TLPGreen))
		})
		tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.base+r.URL.Path, http.StatusMovedPermanently)
		}))
		t.Cleanup(tls.Close)
		a := newArena(t, cyberpact.SyncPull, nil)
		a.http = tls.Client()
		a.to.peer(&cyberpact.Peer{Name: "hostile", URL: tls.URL + "/taxii2/api1/", Collection: hostileCollection, User: "tokyo", Key: "s3cret",
			Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Org: a.to.org("Hostile Hub", "NL").ID})
		_, err := a.run()
		a.wantFailedRun(err, 1, 1, "a downgrade from https to http")
		if n := len(plain.requests()); n != 0 {
			t.Errorf("the http target received %d requests", n)
		}
	})

	t.Run("EndlessNextStopsAtTheRunLimit", func(t *testing.T) {
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			envelope(w, true, fmt.Sprintf("page-%d", n), indicator(1000+n, cyberpact.TLPGreen))
		})
		a.lim.Pages = 5
		res, err := a.run()
		a.wantFailedRun(err, 1, 1, "the run reached its limit of 5 pages", "the next run resumes at the saved cursor")
		if res.Pages != 5 || a.bad.count("GET", "/objects/") != 5 || len(a.fromHostile()) != 5 {
			t.Errorf("%+v after %d reads, %d stored; want 5 pages read and stored", res, a.bad.count("GET", "/objects/"), len(a.fromHostile()))
		}
		if st := a.state("hostile"); st.PullNext != "page-5" {
			t.Errorf("cursor %q, want the last committed page's next", st.PullNext)
		}
		_, err = a.run() // resumes, and stops again
		a.wantFailedRun(err, 2, 2, "limit of 5 pages")
		if n := a.bad.count("GET", "/objects/"); n != 10 {
			t.Errorf("%d reads after two runs, want 10", n)
		}
	})

	t.Run("RepeatedNextIsALoop", func(t *testing.T) {
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			envelope(w, true, "same", indicator(1100, cyberpact.TLPGreen))
		})
		res, err := a.run()
		a.wantFailedRun(err, 1, 1, "the peer repeats itself", `next token "same" a second time`)
		if res.Pages != 2 || len(a.fromHostile()) != 1 {
			t.Errorf("%+v, stored %v; want two reads and the one object", res, a.fromHostile())
		}
	})

	t.Run("RepeatedDateAddedLastIsALoop", func(t *testing.T) {
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("X-TAXII-Date-Added-Last", "2026-01-05T00:00:00.000Z")
			envelope(w, true, "", indicator(1200, cyberpact.TLPGreen))
		})
		res, err := a.run()
		a.wantFailedRun(err, 1, 1, "the peer repeats itself", "added_after=2026-01-05T00:00:00.000Z")
		if res.Pages != 2 {
			t.Errorf("%+v, want two reads", res)
		}
	})

	t.Run("PendingStatusIsBounded", func(t *testing.T) {
		a := newArena(t, cyberpact.SyncPush, func(w http.ResponseWriter, r *http.Request, n int) {
			taxiiJSON(w, http.StatusAccepted, map[string]any{"id": "st-1", "status": "pending", "total_count": 2, "pending_count": 2})
		})
		a.lim.StatusWait = time.Millisecond
		nisc := a.nisc()
		a.to.publish(nisc, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(1300, cyberpact.TLPGreen), indicator(1301, cyberpact.TLPGreen))
		res, err := a.run()
		a.wantFailedRun(err, 1, 1, "the status stayed pending", "kept as failures and sent again next run")
		if a.bad.count("GET", "/status/st-1/") != 1 || res.Pushed != 0 || res.Failed != 2 {
			t.Errorf("%+v after %d status reads; want one read, nothing pushed, two failures", res, a.bad.count("GET", "/status/st-1/"))
		}
		fs := a.failures()
		if len(fs) != 2 || !strings.Contains(fs[0].Reason, "still pending") {
			t.Fatalf("failures %+v", fs)
		}
		if st := a.state("hostile"); st.PushAfter == 0 || st.Pushed != 0 {
			t.Errorf("state %+v: want the cursor past the batch, nothing counted pushed", st)
		}
		res, _ = a.run()
		if res.Failed != 2 || a.bad.count("POST", "/objects/") != 2 {
			t.Errorf("second run %+v, %d POSTs; want the two sent again once", res, a.bad.count("POST", "/objects/"))
		}
		if fs := a.failures(); len(fs) != 2 || fs[0].Attempts != 2 {
			t.Errorf("failures after two runs %+v, want two, tried twice each", fs)
		}
	})

	t.Run("RetryAfterIsHonoured", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			after func() string
		}{
			{"Seconds", func() string { return "1" }},
			{"HTTPDate", func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var asked time.Time
				a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
					if n == 1 {
						after := tc.after()
						if d, err := http.ParseTime(after); err == nil {
							asked = d
						} else {
							asked = time.Now().Add(time.Second)
						}
						w.Header().Set("Retry-After", after)
						taxiiJSON(w, http.StatusTooManyRequests, map[string]string{"title": "slow down"})
						return
					}
					envelope(w, false, "", indicator(1400, cyberpact.TLPGreen))
				})
				res, err := a.run()
				if err != nil || res.Pulled != 1 {
					t.Fatalf("%+v %v", res, err)
				}
				reqs := a.bad.requests()
				if len(reqs) != 2 || reqs[1].At.Before(asked.Truncate(time.Second)) {
					t.Errorf("requests at %v; want the second at or after %v", []time.Time{reqs[0].At, reqs[len(reqs)-1].At}, asked)
				}
			})
		}
		t.Run("LongerThanARunWaits", func(t *testing.T) {
			a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
				w.Header().Set("Retry-After", "3600")
				taxiiJSON(w, http.StatusServiceUnavailable, map[string]string{"title": "maintenance"})
			})
			_, err := a.run()
			a.wantFailedRun(err, 1, 1, "503 Service Unavailable", "the server asks to be tried again after")
			st := a.state("hostile")
			if d := time.Until(st.RetryAfter); d < 59*time.Minute || d > time.Hour {
				t.Errorf("retry_after %v, want an hour from now", st.RetryAfter)
			}
			if n := len(a.bad.requests()); n != 1 {
				t.Errorf("%d requests, want one", n)
			}
			// The scheduler leaves the peer alone while Washington keeps
			// being synced.
			rctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); a.syncer().Run(rctx, 5*time.Millisecond) }()
			for i := 0; i < 2000 && a.state("washington").Runs < 4; i++ {
				time.Sleep(5 * time.Millisecond)
			}
			stop()
			<-done
			// (The run in flight when the scheduler stops fails, cut.)
			if st := a.state("washington"); st.Runs-st.FailedRuns < 4 {
				t.Errorf("the well-behaved peer under the scheduler: %+v", st)
			}
			if n := len(a.bad.requests()); n != 1 || a.state("hostile").Runs != 1 {
				t.Errorf("the scheduler sent the peer %d requests during its Retry-After", n-1)
			}
		})
	})

	t.Run("SlowPeerDoesNotStarveTheOthers", func(t *testing.T) {
		release := make(chan struct{})
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", taxii.MediaTAXII)
			w.Write([]byte(`{"more":false,"objects":[`))
			w.(http.Flusher).Flush()
			select { // a page that never ends
			case <-release:
			case <-r.Context().Done():
			}
		})
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		t.Cleanup(unblock)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); a.syncer().Run(rctx, 5*time.Millisecond) }()
		for i := 0; i < 2000 && a.state("washington").Runs < 3; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		if st := a.state("washington"); st.Runs < 3 {
			t.Errorf("the well-behaved peer ran %d times while the slow one hung", st.Runs)
		}
		if n := len(a.bad.requests()); n != 1 {
			t.Errorf("the hung peer got %d requests, want its one run still going", n)
		}
		stop()
		<-done
		st := a.state("hostile")
		if st.Runs != 1 || st.FailedRuns != 1 || !strings.Contains(st.LastError, "context canceled") {
			t.Errorf("the slow peer's state after the scheduler stopped: %+v", st)
		}
		// Within one run the time budget cuts the page (2 s: the
		// well-behaved peer runs within the same budget).
		a.lim.Duration = 2 * time.Second
		_, err := a.run()
		a.wantFailedRun(err, 2, 2, "the run reached its limit: its time of 2s ran out", "the next run resumes there")
		if len(a.fromHostile()) != 0 {
			t.Errorf("stored from a cut page: %v", a.fromHostile())
		}
	})

	t.Run("RetriesDoNotMultiply", func(t *testing.T) {
		// Ten versions the hub refuses (no pattern), and a GET by id
		// answered with the whole collection plus objects never offered.
		bad := make([]any, 10)
		for i := range bad {
			o := indicator(2000+i, cyberpact.TLPGreen)
			delete(o, "pattern")
			bad[i] = o
		}
		extra := []any{indicator(2100, cyberpact.TLPGreen), indicator(2101, cyberpact.TLPGreen)}
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			if strings.HasSuffix(r.URL.Path, "/"+hostileCollection+"/objects/") {
				// The same page every time, added_after or not.
				envelope(w, false, "", bad...)
				return
			}
			envelope(w, false, "", append(append([]any{}, bad...), extra...)...)
		})
		for run := 1; run <= 4; run++ {
			res, err := a.run()
			if err != nil {
				t.Fatalf("run %d: %v", run, err)
			}
			if res.Failed != 10 || res.Pulled != 0 {
				t.Errorf("run %d: %+v, want the ten failures counted once", run, res)
			}
			fs := a.failures()
			if len(fs) != 10 {
				t.Fatalf("run %d: %d failures kept, want 10", run, len(fs))
			}
			for _, f := range fs {
				if f.Attempts != run {
					t.Errorf("run %d: %s tried %d times", run, f.ObjectID, f.Attempts)
				}
			}
			st := a.state("hostile")
			if st.Runs != int64(run) || st.FailedRuns != 0 || st.LastFailed != 10 {
				t.Errorf("run %d: state %+v", run, st)
			}
		}
		if got := a.fromHostile(); len(got) != 0 {
			t.Errorf("stored objects the peer was never asked for: %v", got)
		}
		// Every failure was met on the page each run: none needed a read
		// by id.
		if n := a.bad.count("GET", "/objects/"); n != 4 {
			t.Errorf("%d reads of objects in four runs, want 4", n)
		}
	})

	t.Run("ReadByIDTakesOnlyTheVersionAsked", func(t *testing.T) {
		ok, nopat := indicator(2200, cyberpact.TLPGreen), indicator(2200, cyberpact.TLPGreen)
		delete(nopat, "pattern")
		intruder := indicator(2201, cyberpact.TLPGreen)
		intruder["name"] = "never offered"
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			switch {
			case n == 1:
				w.Header().Set("X-TAXII-Date-Added-Last", "2026-01-06T00:00:00.000Z")
				envelope(w, false, "", nopat)
			case strings.HasSuffix(r.URL.Path, "/"+hostileCollection+"/objects/"):
				envelope(w, false, "")
			default: // the read by id: the fixed version and a stranger
				envelope(w, false, "", intruder, ok)
			}
		})
		if res, _ := a.run(); res.Failed != 1 {
			t.Fatalf("first run %+v", res)
		}
		res, err := a.run()
		if err != nil || res.Retried != 1 || res.Pulled != 1 || res.Stray != 1 {
			t.Fatalf("second run %+v %v; want the version asked for, the stranger ignored", res, err)
		}
		got := a.fromHostile()
		if len(got) != 1 || got[ok["id"].(string)] != 1 {
			t.Errorf("stored %v", got)
		}
		if st := a.state("hostile"); st.Stray != 1 || len(a.failures()) != 0 {
			t.Errorf("state %+v, failures %+v", st, a.failures())
		}
	})

	t.Run("PushStatusReadPrecisely", func(t *testing.T) {
		var mode atomic.Int32
		prec := indicator(2300, cyberpact.TLPGreen)
		prec["modified"] = "2026-01-02T00:00:00.123Z"
		a := newArena(t, cyberpact.SyncPush, func(w http.ResponseWriter, r *http.Request, n int) {
			var env struct {
				Objects []struct{ ID, Modified string } `json:"objects"`
			}
			body, _ := io.ReadAll(r.Body)
			json.Unmarshal(body, &env)
			st := map[string]any{"id": fmt.Sprintf("st-%d", n), "status": "complete", "total_count": len(env.Objects)}
			switch mode.Load() {
			case 0: // the failure written at another precision
				var fails, oks []map[string]string
				for _, o := range env.Objects {
					if o.ID == prec["id"] {
						fails = append(fails, map[string]string{"id": o.ID, "version": strings.Replace(o.Modified, ".123Z", ".123000Z", 1), "message": "no room"})
					} else {
						oks = append(oks, map[string]string{"id": o.ID, "version": o.Modified})
					}
				}
				st["success_count"], st["successes"], st["failure_count"], st["failures"] = len(oks), oks, len(fails), fails
			case 1: // failures counted but not named
				st["success_count"], st["failure_count"] = len(env.Objects)-1, 1
			default: // all stored, counted only
				st["success_count"] = len(env.Objects)
			}
			taxiiJSON(w, http.StatusAccepted, st)
		})
		nisc := a.nisc()
		a.to.publish(nisc, cyberpact.Audience{Kind: cyberpact.AudienceAll}, prec, indicator(2301, cyberpact.TLPGreen))
		res, err := a.run()
		if err != nil || res.Pushed != 1 || res.Failed != 1 {
			t.Fatalf("first run %+v %v; want .123000Z read as the failure of .123Z", res, err)
		}
		if fs := a.failures(); len(fs) != 1 || fs[0].ObjectID != prec["id"] || !strings.Contains(fs[0].Reason, "no room") {
			t.Fatalf("failures %+v", fs)
		}
		mode.Store(1)
		a.to.publish(nisc, cyberpact.Audience{Kind: cyberpact.AudienceAll}, indicator(2302, cyberpact.TLPGreen))
		res, err = a.run()
		if err != nil || res.Pushed != 0 || res.Failed != 2 {
			t.Fatalf("second run %+v %v; want both versions sent kept as not known pushed", res, err)
		}
		if fs := a.failures(); len(fs) != 2 || !strings.Contains(fs[0].Reason+fs[1].Reason, "not known to be stored") {
			t.Fatalf("failures %v", fmtFailures(fs))
		}
		mode.Store(2)
		res, err = a.run()
		if err != nil || res.Pushed != 2 || res.Retried != 2 || len(a.failures()) != 0 {
			t.Fatalf("third run %+v %v, failures %+v; want both retried and cleared", res, err, a.failures())
		}
		if st := a.state("hostile"); st.Pushed != 3 || st.FailedRuns != 0 {
			t.Errorf("state %+v", st)
		}
	})

	t.Run("OversizedAndDeepObjectsFailAlone", func(t *testing.T) {
		big := indicator(2400, cyberpact.TLPGreen)
		big["description"] = strings.Repeat("A", 70000)
		deep := indicator(2401, cyberpact.TLPGreen)
		var nest any = "bottom"
		for i := 0; i < 150; i++ {
			nest = []any{nest}
		}
		deep["x_nested"] = nest
		goods := []map[string]any{indicator(2402, cyberpact.TLPGreen), indicator(2403, cyberpact.TLPGreen), indicator(2404, cyberpact.TLPGreen)}
		later := indicator(2405, cyberpact.TLPGreen)
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			switch {
			case !strings.HasSuffix(r.URL.Path, "/"+hostileCollection+"/objects/"): // read by id
				if strings.Contains(r.URL.Path, big["id"].(string)) {
					envelope(w, false, "", big)
				} else {
					envelope(w, false, "", deep)
				}
			case r.URL.Query().Get("added_after") == "":
				w.Header().Set("X-TAXII-Date-Added-Last", "2026-01-07T00:00:00.000Z")
				envelope(w, false, "", goods[0], big, goods[1], deep, goods[2])
			default:
				w.Header().Set("X-TAXII-Date-Added-Last", "2026-01-08T00:00:00.000Z")
				envelope(w, false, "", later)
			}
		})
		a.lim.MaxObjectSize = 64 << 10
		res, err := a.run()
		if err != nil || res.Pulled != 3 || res.Failed != 2 {
			t.Fatalf("first run %+v %v; want the three good objects stored, the two bad ones failed", res, err)
		}
		fs := a.failures()
		reasons := map[string]string{}
		for _, f := range fs {
			reasons[f.ObjectID] = f.Reason
		}
		if len(fs) != 2 || !strings.Contains(reasons[big["id"].(string)], "larger than the limit of 65536 bytes") || !strings.Contains(reasons[deep["id"].(string)], "nests deeper than 100 levels") {
			t.Fatalf("failures %v", fmtFailures(fs))
		}
		res, err = a.run()
		if err != nil || res.Pulled != 1 || res.Failed != 2 {
			t.Fatalf("second run %+v %v; want the feed to move on to the next object", res, err)
		}
		got := a.fromHostile()
		if len(got) != 4 || got[later["id"].(string)] != 1 || got[big["id"].(string)] != 0 {
			t.Errorf("stored %v", got)
		}
		if st := a.state("hostile"); st.PullAddedAfter != "2026-01-08T00:00:00.000Z" || st.FailedRuns != 0 || st.LastFailed != 2 {
			t.Errorf("state %+v", st)
		}
	})

	t.Run("PageOverTheObjectLimitIsNotStored", func(t *testing.T) {
		objs := make([]any, 600)
		for i := range objs {
			objs[i] = indicator(3500+i, cyberpact.TLPGreen)
		}
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			envelope(w, false, "", objs...)
		})
		a.lim.Objects = 500
		res, err := a.run()
		a.wantFailedRun(err, 1, 1, "the run reached its limit of 500 objects inside a page", "nothing of it is stored")
		if len(a.fromHostile()) != 0 || res.Objects != 500 {
			t.Errorf("%+v, stored %d", res, len(a.fromHostile()))
		}
	})

	t.Run("EndlessBodyStopsAtThePageLimit", func(t *testing.T) {
		a := newArena(t, cyberpact.SyncPull, func(w http.ResponseWriter, r *http.Request, n int) {
			w.Header().Set("Content-Type", taxii.MediaTAXII)
			w.Write([]byte(`{"more":false,"objects":[`))
			for i := 0; r.Context().Err() == nil; i++ {
				b, _ := json.Marshal(indicator(3000+i%5000, cyberpact.TLPGreen))
				if i > 0 {
					w.Write([]byte{','})
				}
				if _, err := w.Write(b); err != nil {
					return
				}
			}
		})
		a.lim.PageBytes = 1 << 20
		_, err := a.run()
		a.wantFailedRun(err, 1, 1, "the run reached its limit of 1048576 bytes for one page", "nothing of it is stored")
		if len(a.fromHostile()) != 0 {
			t.Errorf("stored %d", len(a.fromHostile()))
		}
	})
}

func fmtFailures(fs []*cyberpact.SyncFailure) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n%s %s@%s (%d attempts): %s", f.Direction, f.ObjectID, f.Version, f.Attempts, f.Reason)
	}
	return b.String()
}
