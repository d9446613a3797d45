package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
)

// The warrants page: the warrants of the signed-in user's organisation
// (a warrant approver sees every one, to decide them), with their
// requests, decisions and uses; a form to ask for one; approve and
// refuse for an approver, on the warrants others asked for; unmask for an
// approved unmask warrant of the user's organisation. Every step goes
// through cyberpact.PrivacyStore, which checks who may take it and
// records it in the audit log with "web" as the interface. A warrant of
// another organisation is not found by one who is not an approver.

func (h *Handler) registerWarrants() {
	h.get("GET /warrants", signedIn, h.warrants)
	h.post("POST /warrants", signedIn, h.warrantRequest)
	h.post("POST /warrants/{id}/approve", signedIn, h.warrantDecide)
	h.post("POST /warrants/{id}/refuse", signedIn, h.warrantDecide)
	h.post("POST /warrants/{id}/unmask", signedIn, h.warrantUnmask)
}

type warrantsPage struct {
	Approver bool
	Warrants []warrantRow
	Error    string // the request form's error
	Done     string // what the last step did
	Unmasked string // a value just unmasked, shown this once
	Form     struct{ Kind, Target, Justification, TTL string }
}

type warrantRow struct {
	ID                                   int64
	Kind, Target, Justification          string
	Requester, Org, State, Decider       string
	Reason, Created, Decided, Expires    string
	TTL                                  string
	Uses                                 int
	CanDecide, CanUnmask, Mine, Approved bool
}

func (h *Handler) privacy() (cyberpact.PrivacyStore, error) {
	ps, ok := h.Store.(cyberpact.PrivacyStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this hub's store keeps no warrants")
	}
	return ps, nil
}

func (h *Handler) warrantsView(r *http.Request, c *call) (*warrantsPage, error) {
	ctx := r.Context()
	ps, err := h.privacy()
	if err != nil {
		return nil, err
	}
	p := c.st.Principal
	approvers, err := ps.WarrantApprovers(ctx)
	if err != nil {
		return nil, err
	}
	pg := &warrantsPage{Approver: slices.Contains(approvers, p.User.Name)}
	pg.Form.TTL = "24h"
	org := p.Org.ID
	if pg.Approver {
		org = 0
	}
	list, err := ps.Warrants(ctx, org)
	if err != nil {
		return nil, err
	}
	orgs, err := h.Store.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	now := h.now()
	for _, w := range list {
		pg.Warrants = append(pg.Warrants, warrantRow{ID: w.ID, Kind: string(w.Kind), Target: w.Target, Justification: w.Justification,
			Requester: w.Requester, Org: names[w.Org], State: string(w.State), Decider: w.Decider, Reason: w.Reason,
			Created: fmtTime(w.Created), Decided: fmtTime(w.Decided), Expires: fmtTime(w.Expires), TTL: w.TTL.String(), Uses: w.Uses,
			CanDecide: pg.Approver && w.State == cyberpact.WarrantRequested && w.Requester != p.User.Name,
			CanUnmask: w.Kind == cyberpact.WarrantUnmask && w.Org == p.Org.ID && w.Usable(now),
			Mine:      w.Requester == p.User.Name, Approved: w.State == cyberpact.WarrantApproved})
	}
	return pg, nil
}

func (h *Handler) warrants(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := h.warrantsView(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "warrants", c, pg)
	return nil
}

// warrantsDone renders the page after a step: an error of the input or a
// refused step is shown at the top of the page with its status; any other
// error gets a page of its own.
func (h *Handler) warrantsDone(w http.ResponseWriter, r *http.Request, c *call, step error, set func(*warrantsPage)) error {
	status := http.StatusOK
	switch cyberpact.ErrorCode(step) {
	case "":
	case cyberpact.EINVALID, cyberpact.ECONFLICT, cyberpact.EFORBIDDEN:
		status = map[string]int{cyberpact.EINVALID: http.StatusBadRequest, cyberpact.ECONFLICT: http.StatusConflict, cyberpact.EFORBIDDEN: http.StatusForbidden}[cyberpact.ErrorCode(step)]
	default:
		return step
	}
	pg, err := h.warrantsView(r, c)
	if err != nil {
		return err
	}
	if step != nil {
		pg.Error = cyberpact.ErrorMessage(step)
	}
	if set != nil {
		set(pg)
	}
	h.render(w, r, status, "warrants", c, pg)
	return nil
}

func (h *Handler) warrantRequest(w http.ResponseWriter, r *http.Request, c *call) error {
	ps, err := h.privacy()
	if err != nil {
		return err
	}
	kind, target := r.PostFormValue("kind"), strings.TrimSpace(r.PostFormValue("target"))
	why, ttlText := strings.TrimSpace(r.PostFormValue("justification")), strings.TrimSpace(r.PostFormValue("ttl"))
	keep := func(pg *warrantsPage) {
		pg.Form.Kind, pg.Form.Target, pg.Form.Justification, pg.Form.TTL = kind, target, why, ttlText
	}
	ttl, err := cphttp.ParseTTL(ttlText)
	if err != nil {
		return h.warrantsDone(w, r, c, err, keep)
	}
	wr := &cyberpact.Warrant{Kind: cyberpact.WarrantKind(kind), Target: target, Justification: why, TTL: ttl}
	if err := ps.RequestWarrant(r.Context(), wr, &c.st.Principal, "web"); err != nil {
		return h.warrantsDone(w, r, c, err, keep)
	}
	return h.warrantsDone(w, r, c, nil, func(pg *warrantsPage) {
		pg.Done = "Warrant " + strconv.FormatInt(wr.ID, 10) + " requested: a warrant approver other than you must decide it."
	})
}

// warrantID reads the {id} of the path; an id that is no number is a
// warrant that does not exist.
func warrantID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %q", r.PathValue("id"))
	}
	return id, nil
}

func (h *Handler) warrantDecide(w http.ResponseWriter, r *http.Request, c *call) error {
	ps, err := h.privacy()
	if err != nil {
		return err
	}
	id, err := warrantID(r)
	if err != nil {
		return err
	}
	approve := strings.HasSuffix(r.URL.Path, "/approve")
	wr, err := ps.DecideWarrant(r.Context(), id, approve, strings.TrimSpace(r.PostFormValue("reason")), &c.st.Principal, "web")
	if err != nil {
		return h.warrantsDone(w, r, c, err, nil)
	}
	return h.warrantsDone(w, r, c, nil, func(pg *warrantsPage) {
		pg.Done = "Warrant " + strconv.FormatInt(wr.ID, 10) + " " + string(wr.State) + "."
	})
}

func (h *Handler) warrantUnmask(w http.ResponseWriter, r *http.Request, c *call) error {
	ps, err := h.privacy()
	if err != nil {
		return err
	}
	id, err := warrantID(r)
	if err != nil {
		return err
	}
	v, err := ps.Unmask(r.Context(), id, &c.st.Principal, "web")
	if err != nil {
		return h.warrantsDone(w, r, c, err, nil)
	}
	return h.warrantsDone(w, r, c, nil, func(pg *warrantsPage) {
		pg.Done = "Warrant " + strconv.FormatInt(id, 10) + " used; the use is in the audit log."
		pg.Unmasked = v
	})
}
