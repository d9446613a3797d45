package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
)

// The partners' pages: the peers this hub synchronises with and how each
// stands (hub admins), and the audit log with filters (hub admins see all
// of it and whether its hash chain is whole; an org admin sees its own
// organisation's trail: the entries whose actor or recipient it is).

func (h *Handler) registerPartners() {
	h.get("GET /peers", signedIn, h.peers)
	h.get("GET /audit", signedIn, h.auditPage)
}

func hubAdmin(c *call) error {
	if c.principal().User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "this page is for the hub's admins (your role is %s)", c.principal().User.Role)
	}
	return nil
}

type peerRow struct {
	Name, URL, Collection, Direction string
	LastRun, LastSuccess             string
	Lag                              string // since the last success, "never" before one
	Failing                          bool
	Failures                         int // failed runs in a row
	Runs, FailedRuns                 int64
	LastError, LastErrorAt           string
	Pulled, Pushed, Withheld         int64
	Objects                          []*cyberpact.SyncFailure // kept failures of objects
}

func lag(now, t time.Time) string {
	if t.IsZero() {
		return "never synchronised"
	}
	return now.Sub(t).Round(time.Second).String()
}

func (h *Handler) peers(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := hubAdmin(c); err != nil {
		return err
	}
	ctx := r.Context()
	var rows []peerRow
	if ps, ok := h.Store.(cyberpact.PeerStore); ok {
		peers, err := ps.Peers(ctx)
		if err != nil {
			return err
		}
		now := h.now()
		for _, p := range peers {
			st, err := ps.PeerState(ctx, p.ID)
			if err != nil {
				return err
			}
			fails, err := ps.Failures(ctx, p.ID)
			if err != nil {
				return err
			}
			rows = append(rows, peerRow{Name: p.Name, URL: p.URL, Collection: p.Collection, Direction: string(p.Direction),
				LastRun: fmtTime(st.LastRun), LastSuccess: fmtTime(st.LastSuccess), Lag: lag(now, st.LastSuccess),
				Failing: st.Failures > 0, Failures: st.Failures, Runs: st.Runs, FailedRuns: st.FailedRuns,
				LastError: st.LastError, LastErrorAt: fmtTime(st.LastErrorAt),
				Pulled: st.Pulled, Pushed: st.Pushed, Withheld: st.Withheld, Objects: fails})
		}
	}
	h.render(w, r, http.StatusOK, "peers", c, struct{ Peers []peerRow }{rows})
	return nil
}

const auditPageSize = 100

type auditRow struct {
	Seq                        int64
	Time                       string
	Action, Actor, Via, Detail string
	ActorOrg, Recipient        string
	Objects                    []string
	More                       int // objects not listed
}

type auditView struct {
	HubAdmin bool
	OrgName  string
	// The filters as given.
	Org, Object, Action, Since, Until string
	Orgs                              []*cyberpact.Org
	Entries                           []auditRow
	Next                              string // the next page's query, "" when none
	Verified                          bool   // the chain was checked
	BrokenAt                          int64  // the first bad entry, 0 when whole
	CheckedAt                         string // when the check shown started
}

// chainEvery is how old the last check of the audit chain may be before a
// view of the audit page starts the next one.
const chainEvery = time.Minute

// chainCheck is the state of the audit chain as the audit page shows it.
// Checking the chain reads the whole log, seconds for millions of
// entries, so a page view never waits for it but the first: it shows the
// last completed check, with its time, and starts the next one in the
// background when that is older than chainEvery.
type chainCheck struct {
	mu      sync.Mutex
	last    *chainResult
	running chan struct{} // closed when the running check ends; nil when none runs
}

type chainResult struct {
	at     time.Time
	broken int64
	err    error
}

// state returns the last completed check of the chain, running verify
// in the background when that is older than chainEvery at now, and
// waiting for it when no check has completed yet.
func (c *chainCheck) state(ctx context.Context, verify func(context.Context) (int64, error), now time.Time) (*chainResult, error) {
	c.mu.Lock()
	last, running := c.last, c.running
	if running == nil && (last == nil || last.err != nil || now.Sub(last.at) >= chainEvery) {
		running = make(chan struct{})
		c.running = running
		go func() {
			vctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
			defer cancel()
			broken, err := verify(vctx)
			c.mu.Lock()
			if err == nil || c.last == nil {
				c.last = &chainResult{at: now, broken: broken, err: err}
			}
			c.running = nil
			c.mu.Unlock()
			close(running)
		}()
	}
	c.mu.Unlock()
	if last == nil || last.err != nil {
		select {
		case <-running:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		c.mu.Lock()
		last = c.last
		c.mu.Unlock()
	}
	if last.err != nil {
		return nil, last.err
	}
	return last, nil
}

// auditPage lists audit entries, oldest first, a page at a time; the
// cursor is sealed for the viewer's organisation, as the explorer's is.
func (h *Handler) auditPage(w http.ResponseWriter, r *http.Request, c *call) error {
	p := c.principal()
	if p.User.Role != cyberpact.RoleAdmin && p.User.Role != cyberpact.RoleOrgAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "the audit log is for organisation admins and the hub's admins (your role is %s)", p.User.Role)
	}
	ctx := r.Context()
	q := r.URL.Query()
	v := auditView{HubAdmin: p.User.Role == cyberpact.RoleAdmin, OrgName: p.Org.Name,
		Org: q.Get("org"), Object: strings.TrimSpace(q.Get("object")), Action: q.Get("action"), Since: q.Get("since"), Until: q.Get("until")}
	f := cyberpact.AuditFilter{Object: v.Object, Limit: auditPageSize + 1}
	switch v.Action {
	case "", cyberpact.AuditWrite, cyberpact.AuditDelete, cyberpact.AuditRelease, cyberpact.AuditAccount, cyberpact.AuditWarrant, cyberpact.AuditAgreement, cyberpact.AuditCrisis:
		f.Action = v.Action
	default:
		return cyberpact.Errorf(cyberpact.EINVALID, "action %q: want write, delete, release, account, warrant, agreement or crisis", v.Action)
	}
	for _, d := range []struct {
		name, val string
		to        *time.Time
		end       bool
	}{{"since", v.Since, &f.Since, false}, {"until", v.Until, &f.Until, true}} {
		if d.val == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.val)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "%s %q: want a date, YYYY-MM-DD", d.name, d.val)
		}
		if d.end {
			t = t.Add(24*time.Hour - time.Nanosecond)
		}
		*d.to = t
	}
	names := map[int64]string{}
	orgs, err := h.Store.Orgs(ctx)
	if err != nil {
		return err
	}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	if v.HubAdmin {
		v.Orgs = orgs
		if v.Org != "" {
			id, err := strconv.ParseInt(v.Org, 10, 64)
			if err != nil || names[id] == "" {
				return cyberpact.Errorf(cyberpact.EINVALID, "org %q: no such organisation", v.Org)
			}
			f.Org = id
		}
		chk, err := h.chain.state(ctx, h.Store.VerifyAudit, h.now())
		if err != nil {
			return err
		}
		v.Verified, v.BrokenAt, v.CheckedAt = true, chk.broken, fmtTime(chk.at)
	} else {
		f.Org = p.Org.ID // an org admin's own trail, whatever was asked
	}
	if cur := q.Get("cursor"); cur != "" {
		n, err := h.API.OpenCursor(p, "cursor", cur)
		if err != nil {
			return err
		}
		f.After = n
	}
	entries, err := h.Store.AuditEntries(ctx, f)
	if err != nil {
		return err
	}
	more := len(entries) > auditPageSize
	if more {
		entries = entries[:auditPageSize]
	}
	orgName := func(id int64) string {
		if id == 0 {
			return ""
		}
		if n := names[id]; n != "" {
			return n
		}
		return fmt.Sprintf("organisation %d", id)
	}
	for _, e := range entries {
		row := auditRow{Time: fmtTime(e.Time), Action: e.Action, Actor: e.Actor, Via: e.Via, Detail: e.Detail,
			ActorOrg: orgName(e.ActorOrg), Recipient: orgName(e.Recipient)}
		if v.HubAdmin {
			row.Seq = e.Seq
		}
		row.Objects = e.Objects
		if len(row.Objects) > 5 {
			row.More, row.Objects = len(row.Objects)-5, row.Objects[:5]
		}
		if sc := e.Scope; sc != nil {
			read := sc.Path
			if sc.Query != "" {
				read += "?" + sc.Query
			}
			row.Detail = strings.TrimSpace(fmt.Sprintf("%d object versions", sc.Count) + map[bool]string{true: ", read at " + read, false: ""}[read != ""] + ". " + row.Detail)
		}
		v.Entries = append(v.Entries, row)
	}
	if more {
		nq := url.Values{}
		for k, vs := range q {
			if k != "cursor" {
				nq[k] = vs
			}
		}
		nq.Set("cursor", h.API.SealCursor(p, entries[len(entries)-1].Seq))
		v.Next = "/audit?" + nq.Encode()
	}
	h.render(w, r, http.StatusOK, "audit", c, v)
	return nil
}
