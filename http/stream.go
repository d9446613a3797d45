package http

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/cyberpact/cyberpact"
)

// The live stream: GET /api/v1/stream sends, as Server-Sent Events, every
// new object version the caller may see, as it arrives. Each event is
//
//	id: SEQ
//	event: object
//	data: {the STIX object}
//
// and a client that reconnects with Last-Event-ID (or ?after=SEQ) resumes
// exactly where it stopped. Without either it starts with what arrives after
// it connected. ?type= filters as on /api/v1/objects; ?follow=false sends
// what is there after the cursor and ends, instead of waiting for more.
// Releases are audited like every other read.

const (
	streamPage      = 1000
	streamHeartbeat = 15 * time.Second
	streamPoll      = 2 * time.Second // when the store cannot notify
)

func (s *Server) registerStream() {
	s.handle("GET /api/v1/stream", s.authed(s.stream))
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	p := principalOf(r)
	f, err := filterFromQuery(r)
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
	case cursor != "":
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 0 {
			return cyberpact.Errorf(cyberpact.EINVALID, "stream cursor %q (Last-Event-ID or after) is not an event id this server sent", cursor)
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
	for {
		// Send everything after the cursor, a page at a time.
		for {
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
			for _, o := range page.Objects {
				if _, err := fmt.Fprintf(w, "id: %d\nevent: object\ndata: %s\n\n", o.Seq, o.Raw); err != nil {
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
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		case <-poll.C:
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
