package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
)

// Crisis mode in the interface: the crises the user's organisation is
// alerted by, each at a glance (every partner's acknowledgement and
// escalation level), a button to acknowledge for the organisation and, for
// those who may, to end it; a banner on every page while the organisation
// has not acknowledged an open crisis; and the page a mailed
// acknowledgement link opens, which asks for a click (mail scanners follow
// links) and needs no sign-in. Who knows of a crisis is decided by
// alert.Desk, as for the API: to anyone else it does not exist.

// CrisisDesk is what the API server offers of crisis mode, so that the
// interface and the API share one desk (and its escalation delay).
type CrisisDesk interface {
	CrisisDesk() *alert.Desk
}

func (h *Handler) registerCrises() {
	h.get("GET /crises", signedIn, h.crises)
	h.get("GET /crises/{id}", signedIn, h.crisisPage)
	h.post("POST /crises/{id}/ack", signedIn, h.ackCrisis)
	h.post("POST /crises/{id}/end", signedIn, h.endCrisis)
	h.get("GET /crisis/ack", anyone, h.tokenPage)
	h.post("POST /crisis/ack", anyone, h.tokenAck)
}

func (h *Handler) desk() (*alert.Desk, error) {
	if h.Crises == nil {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub keeps no crises")
	}
	return h.Crises, nil
}

type crisisRow struct {
	ID                    int64
	Incident, Name, State string
	Acked, Partners       int
	YouAcked              bool
	Declared              string
}

type crisesPage struct{ Crises []crisisRow }

func (h *Handler) crises(w http.ResponseWriter, r *http.Request, c *call) error {
	var pg crisesPage
	if h.Crises != nil {
		cs, err := h.Crises.List(r.Context(), c.principal(), false)
		if err != nil {
			return err
		}
		for _, cr := range cs {
			st, err := h.Crises.Status(r.Context(), c.principal(), cr.ID)
			if err != nil {
				return err
			}
			row := crisisRow{ID: st.ID, Incident: st.Incident, Name: st.IncidentName, State: "open", Acked: st.Acknowledged, Partners: len(st.Partners),
				YouAcked: cr.Partner(c.principal().Org.ID) != nil && !cr.Partner(c.principal().Org.ID).Acked.IsZero(), Declared: fmtTime(st.Declared)}
			if !st.Open {
				row.State = "ended"
			}
			pg.Crises = append(pg.Crises, row)
		}
	}
	h.render(w, r, http.StatusOK, "crises", c, pg)
	return nil
}

type partnerRow struct {
	Org, Ack, Next, Alerts string
	Acked, You             bool
	Level, Levels          int
}

type crisisPage struct {
	*alert.Status
	Declared, Ended string
	Rows            []partnerRow
	CanAck, CanEnd  bool
}

func crisisParam(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no crisis %q", raw)
	}
	return id, nil
}

func (h *Handler) crisisView(ctx context.Context, c *call, id int64) (*crisisPage, error) {
	d, err := h.desk()
	if err != nil {
		return nil, err
	}
	p := c.principal()
	cr, err := d.Visible(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st, err := d.Status(ctx, p, id)
	if err != nil {
		return nil, err
	}
	pg := &crisisPage{Status: st, Declared: fmtTime(st.Declared), Ended: fmtTime(st.Ended),
		CanEnd: st.Open && cyberpact.MayDeclareCrisis(p, cr.Producer)}
	for _, ps := range st.Partners {
		row := partnerRow{Org: ps.Org, Acked: ps.Acknowledged, You: ps.Org == p.Org.Name, Level: ps.Level, Levels: ps.Levels, Ack: "not yet", Next: "—",
			Alerts: fmt.Sprintf("%d delivered, %d pending, %d failed", ps.Alerts[cyberpact.DeliveryDelivered], ps.Alerts[cyberpact.DeliveryPending], ps.Alerts[cyberpact.DeliveryFailed])}
		if ps.Acknowledged {
			row.Ack = fmt.Sprintf("%s by %s (%s)", fmtTime(ps.AckedAt), ps.AckedBy, ps.AckedVia)
		}
		if !ps.EscalatesAt.IsZero() {
			row.Next = fmtTime(ps.EscalatesAt)
		}
		if row.You && !ps.Acknowledged && st.Open {
			pg.CanAck = true
		}
		pg.Rows = append(pg.Rows, row)
	}
	return pg, nil
}

func (h *Handler) crisisPage(w http.ResponseWriter, r *http.Request, c *call) error {
	id, err := crisisParam(r)
	if err != nil {
		return err
	}
	pg, err := h.crisisView(r.Context(), c, id)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "crisis", c, pg)
	return nil
}

func (h *Handler) ackCrisis(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := h.desk()
	if err != nil {
		return err
	}
	id, err := crisisParam(r)
	if err != nil {
		return err
	}
	p := c.principal()
	if _, err := d.Ack(r.Context(), p, id, 0, p.User.Name, "web"); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/crises/%d", id), http.StatusSeeOther)
	return nil
}

func (h *Handler) endCrisis(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := h.desk()
	if err != nil {
		return err
	}
	id, err := crisisParam(r)
	if err != nil {
		return err
	}
	p := c.principal()
	if err := d.End(r.Context(), p, id, p.User.Name); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/crises/%d", id), http.StatusSeeOther)
	return nil
}

type tokenPage struct {
	Token string
	Done  string
}

// tokenPage shows the button a mailed link leads to; it says nothing of
// the crisis until the token is used.
func (h *Handler) tokenPage(w http.ResponseWriter, r *http.Request, c *call) error {
	token := r.URL.Query().Get("token")
	if token == "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "the link has no token: open the whole link from the mail")
	}
	h.render(w, r, http.StatusOK, "crisisack", c, tokenPage{Token: token})
	return nil
}

func (h *Handler) tokenAck(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := h.desk()
	if err != nil {
		return err
	}
	crisis, org, err := d.AckToken(r.Context(), r.PostFormValue("token"))
	if err != nil {
		return err
	}
	name := strconv.FormatInt(org, 10)
	if o, err := h.Store.OrgByID(r.Context(), org); err == nil {
		name = o.Name
	}
	h.render(w, r, http.StatusOK, "crisisack", c, tokenPage{Done: fmt.Sprintf("Crisis %d is acknowledged for %s. Thank you.", crisis, name)})
	return nil
}

// crisisBanner is an open crisis the signed-in user's organisation has
// not acknowledged, for the banner on every page.
type crisisBanner struct {
	ID   int64
	Name string
}

// banners returns the open crises p's organisation has yet to
// acknowledge; nil when there are none or they cannot be read (the page
// is served without its banner, and the failure logged).
func (h *Handler) banners(ctx context.Context, p *cyberpact.Principal) []crisisBanner {
	if h.Crises == nil || p == nil {
		return nil
	}
	cs, err := h.Crises.List(ctx, p, true)
	if err != nil {
		h.Logger.Error("reading crises for the banner", "err", err)
		return nil
	}
	var out []crisisBanner
	for _, cr := range cs {
		if part := cr.Partner(p.Org.ID); part != nil && part.Acked.IsZero() {
			out = append(out, crisisBanner{ID: cr.ID, Name: cr.Incident})
		}
	}
	return out
}
