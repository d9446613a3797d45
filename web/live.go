package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/cyberpact/cyberpact"
)

// The dashboard's live list: GET /live/objects sends, as Server-Sent
// Events, each new object version the signed-in user may see, as it
// arrives, as the API's stream (http/stream.go) does for API keys: the
// same viewer-scoped store reads, each release audited, and the session
// checked again before and after every read and every liveRecheck in
// between, so
// that a session that ends (user disabled, organisation out of a group,
// timeouts, sign-out) ends the stream with an "end" event, and the
// organisation's groups as they are now decide what the next read sends.
// Each event is
//
//	event: object
//	data: {"id": ..., "type": ..., "name": ..., "tlp": ..., "tlp_class": ...}
//
// It starts with what arrives after it connected.

const (
	livePage      = 200
	livePoll      = 2 * time.Second // when the store cannot notify
	liveRecheck   = time.Second
	liveHeartbeat = 15 * time.Second
)

func (h *Handler) registerLive() {
	h.get("GET /live/objects", signedIn, h.liveObjects)
}

// liveItem is an event's data: what the dashboard's list shows.
type liveItem struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name"`
	TLP      string `json:"tlp"`
	TLPClass string `json:"tlp_class"`
}

func (h *Handler) liveObjects(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	notifier, _ := h.Store.(cyberpact.ChangeNotifier)
	f := cyberpact.ObjectFilter{Viewer: c.viewer(), AllVersions: true, Limit: livePage}
	if notifier != nil {
		after, err := notifier.LastSeq(ctx)
		if err != nil {
			return err
		}
		f.After = after
	} else {
		// Without notices, start after what is there now, found by paging
		// through what the user may see.
		for {
			pg, err := h.Store.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: f.Viewer, AllVersions: true, After: f.After, Limit: 1000})
			if err != nil {
				return err
			}
			f.After = pg.Next
			if !pg.More {
				break
			}
		}
	}
	var changes <-chan struct{}
	if notifier != nil {
		ch, cancel := notifier.Changes()
		defer cancel()
		changes = ch
	}
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return errSignedOut
	}
	// recheck reads the session again: it must still be live, and its
	// user's viewer as it is now decides the next read.
	recheck := func() (string, error) {
		st, why, err := h.liveSession(r, ck.Value, false)
		if err != nil {
			return "", err
		}
		if st == nil || !st.Session.Verified {
			if why == "" {
				why = "signed-out"
			}
			return why, nil
		}
		c.st = st
		f.Viewer = c.viewer()
		return "", nil
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil
	}
	end := func(why string, err error) error {
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			h.Logger.Warn("live stream ended: re-reading the session failed", "err", err)
			why = "error"
		}
		fmt.Fprintf(w, "event: end\ndata: %q\n\n", why)
		rc.Flush()
		return nil
	}
	poll := time.NewTicker(livePoll)
	defer poll.Stop()
	check := time.NewTicker(liveRecheck)
	defer check.Stop()
	beat := time.NewTicker(liveHeartbeat)
	defer beat.Stop()
	for {
		for {
			if why, err := recheck(); why != "" || err != nil {
				return end(why, err)
			}
			pg, err := h.Store.FindObjects(ctx, f)
			if err != nil {
				return end("", err)
			}
			if len(pg.Objects) == 0 {
				break
			}
			// Checked again after the read too: what was read after the
			// session ended is never sent.
			if why, err := recheck(); why != "" || err != nil {
				return end(why, err)
			}
			if err := h.auditRelease(r, c, pg.Objects); err != nil {
				return end("", err)
			}
			for _, o := range pg.Objects {
				row := rowOf(o)
				tlp := "no TLP"
				if row.TLP != cyberpact.TLPUnknown {
					tlp = "TLP:" + upper(row.TLP.String())
				}
				data, _ := json.Marshal(liveItem{ID: o.ID, Type: o.Type, Name: row.Name, TLP: tlp, TLPClass: tlpClass(row.TLP)})
				if _, err := fmt.Fprintf(w, "event: object\ndata: %s\n\n", data); err != nil {
					return nil
				}
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
			f.After = pg.Next
			if !pg.More {
				break
			}
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
				if why, err := recheck(); why != "" || err != nil {
					return end(why, err)
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
