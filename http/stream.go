package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
)

// The live stream: GET /api/v1/stream sends, as Server-Sent Events, every
// new object version the caller may see, as it arrives. Each event is
//
//	id: CURSOR
//	event: object
//	data: {the STIX object}
//
// where CURSOR is the event's position sealed for the caller's
// organisation (cursor.go), and a client that reconnects with
// Last-Event-ID (or ?after=CURSOR) resumes exactly where it stopped;
// ?after=0 starts from the first object. Without either it starts with
// what arrives after it connected. ?type= filters as on /api/v1/objects;
// ?follow=false sends what is there after the cursor and ends, instead of
// waiting for more. Releases are audited like every other read.
//
// A following stream also tells of crises (crisis.go) that alert the
// caller's organisation: each open one when it connects, then each new
// one, acknowledgement, escalation and end, as
//
//	event: crisis
//	data: {the crisis's status, as GET /api/v1/crises/{id} gives it}
//
// without an id (Last-Event-ID stays the last object's).
//
// An open stream keeps to its caller as it is now, not as it was when it
// connected: the key is authenticated again before every read and every
// streamRecheck in between, so a revoked or expired key ends the stream
// (with an "end" event saying why) within streamRecheck, and a change of
// the organisation's groups decides what the next read sends.

const (
	streamPage      = 1000
	streamHeartbeat = 15 * time.Second
	streamPoll      = 2 * time.Second // when the store cannot notify
	// streamRecheck is how often an open stream authenticates its caller
	// again while nothing is written (and it does before every read).
	streamRecheck = 500 * time.Millisecond
)

func (s *Server) registerStream() {
	s.handle("GET /api/v1/stream", s.authed(s.stream))
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := principalOf(r)
	f, err := s.filterFromQuery(r, "follow", "after")
	if err != nil {
		return err
	}
	f.Viewer = viewerOf(r)
	f.AllVersions, f.Limit, f.Text = true, streamPage, ""
	follow := true
	if v := r.URL.Query().Get("follow"); v != "" {
		if follow, err = strconv.ParseBool(v); err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "query parameter follow=%q is not true or false", v)
		}
	}
	notifier, _ := s.Store.(cyberpact.ChangeNotifier)
	cursor := r.Header.Get("Last-Event-ID")
	if cursor == "" {
		cursor = r.URL.Query().Get("after")
	}
	switch {
	case cursor == "0":
		f.After = 0 // from the start: a position that tells nothing
	case cursor != "":
		n, err := s.cursorOf(p, "stream cursor (Last-Event-ID or after)", cursor)
		if err != nil {
			return err
		}
		f.After = n
	case notifier != nil:
		if f.After, err = notifier.LastSeq(ctx); err != nil {
			return err
		}
	}
	var changes <-chan struct{}
	if notifier != nil {
		ch, cancel := notifier.Changes()
		defer cancel()
		changes = ch
	}
	// The caller is authenticated again before every read and every
	// streamRecheck: a revoked or expired key ends the stream, and the
	// organisation's groups as they are now decide what is sent.
	user, key, _, _ := credentials(r)
	first := true // the request's own authentication is the first check
	recheck := func() error {
		np, err := s.Accounts.Authenticate(ctx, user, key)
		if err != nil {
			return err
		}
		v := np.Viewer()
		p, f.Viewer = np, &v
		return nil
	}
	codec := s.cursors()
	crises := &crisisWatch{desk: s.Crises, seen: map[int64]string{}}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return err
	}
	poll := time.NewTicker(streamPoll)
	defer poll.Stop()
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	check := time.NewTicker(streamRecheck)
	defer check.Stop()
	for {
		// Send everything after the cursor, a page at a time.
		for {
			if !first {
				if err := recheck(); err != nil {
					return s.endStream(ctx, w, rc, err)
				}
			}
			first = false
			page, err := s.Store.FindObjects(ctx, f)
			if err != nil {
				return err
			}
			if len(page.Objects) == 0 {
				break
			}
			if err := s.auditRelease(r, p, "stream", f.Viewer, page.Objects); err != nil {
				return err
			}
			seal := codec.sealer(p)
			for _, o := range page.Objects {
				if _, err := fmt.Fprintf(w, "id: %s\nevent: object\ndata: %s\n\n", seal(o.Seq), o.Raw); err != nil {
					return nil // the client went away
				}
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
			f.After = page.Next
			if !page.More {
				break
			}
		}
		if !follow {
			return nil
		}
		if err := crises.send(ctx, p, w); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-changes:
				break wait
			case <-poll.C:
				break wait
			case <-check.C:
				if err := recheck(); err != nil {
					return s.endStream(ctx, w, rc, err)
				}
			case <-beat.C:
				if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
					return nil
				}
				if err := rc.Flush(); err != nil {
					return nil
				}
			}
		}
	}
}

// endStream ends a stream whose caller no longer authenticates, with a
// last event that says why:
//
//	event: end
//	data: {"error": "...", "code": "unauthorized"}
//
// A failure of the account store ends it too (logged; the client may
// reconnect with Last-Event-ID), never leaving it open unchecked.
func (s *Server) endStream(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, err error) error {
	if ctx.Err() != nil {
		return nil // the client went away meanwhile
	}
	code := cyberpact.ErrorCode(err)
	msg := "your API key no longer authenticates (revoked or expired): the stream has ended"
	if code != cyberpact.EUNAUTHORIZED {
		s.Logger.Warn("stream ended: re-authenticating its caller failed", "err", err)
		msg = "the stream has ended: reconnect with Last-Event-ID to resume"
	}
	data, _ := json.Marshal(errorBody{Error: msg, Code: code})
	fmt.Fprintf(w, "event: end\ndata: %s\n\n", data)
	rc.Flush()
	return nil
}

// crisisWatch is what a following stream has told its caller of crises:
// per crisis, the state last sent.
type crisisWatch struct {
	desk    *alert.Desk
	seen    map[int64]string
	started bool
}

// send writes an event for each crisis p may know of whose state changed
// since the last call; on the first, for each open one (those that had
// ended before are not news).
func (cw *crisisWatch) send(ctx context.Context, p *cyberpact.Principal, w http.ResponseWriter) error {
	if cw.desk == nil {
		return nil
	}
	cs, err := cw.desk.List(ctx, p, false)
	if err != nil {
		return err
	}
	first := !cw.started
	cw.started = true
	for i := len(cs) - 1; i >= 0; i-- { // oldest first
		st, err := cw.desk.Status(ctx, p, cs[i].ID)
		if err != nil {
			return err
		}
		sig := fmt.Sprint(st.Open, st.Acknowledged)
		for _, ps := range st.Partners {
			sig += fmt.Sprint(" ", ps.Org, ps.Acknowledged, ps.Level)
		}
		prev := cw.seen[st.ID]
		cw.seen[st.ID] = sig
		if prev == sig || first && !st.Open {
			continue
		}
		data, err := json.Marshal(st)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "event: crisis\ndata: %s\n\n", data); err != nil {
			return nil
		}
	}
	return nil
}
