package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// The agreements page: the sharing agreements in force that the user's
// organisation is party to (the hub's and its groups'; hub admins see
// every one), each with its earlier versions; hub admins edit one by
// posting a new version (POST /agreements, the form's group a group's
// name or "hub"), which the store keeps beside the others and audits.
// An agreement of a group the user is not in is 404, as one that does
// not exist.

func (h *Handler) registerAgreements() {
	h.get("GET /agreements", signedIn, h.agreements)
	h.post("POST /agreements", signedIn, h.setAgreement)
}

type agreementView struct {
	Key       string // the path segment: a group's name or "hub"
	Name      string
	Version   int
	Purpose   string
	TLPs      string
	PAPs      string
	Nations   string
	Sectors   string
	Retention string
	Expires   string
	Federate  bool
	Personal  string
	SetBy     string
	Earlier   []agreementView
}

type agreementsPage struct {
	Agreements []agreementView
	Admin      bool
	Groups     []string // the groups an admin may give an agreement to
	Error      string
	Done       string
}

func viewOf(a *cyberpact.Agreement) agreementView {
	key := "hub"
	if a.Group != 0 {
		key = a.GroupName
	}
	var tlps, paps []string
	for _, t := range a.TLPs {
		tlps = append(tlps, t.String())
	}
	for _, p := range a.PAPs {
		paps = append(paps, p.String())
	}
	v := agreementView{Key: key, Name: a.Name(), Version: a.Version, Purpose: a.Purpose, TLPs: strings.Join(tlps, ", "), PAPs: strings.Join(paps, ", "),
		Nations: strings.Join(a.RelNations, ", "), Sectors: strings.Join(a.RelSectors, ", "), Federate: a.Federate,
		Personal: strings.Join(a.PersonalData, ", "), SetBy: a.Actor + ", " + fmtTime(a.Created)}
	if a.Retention > 0 {
		v.Retention = cyberpact.FormatSpan(a.Retention)
	}
	if !a.Expires.IsZero() {
		v.Expires = a.Expires.UTC().Format("2006-01-02")
	}
	return v
}

// agreementStore returns the store's agreements, ENOTFOUND when it keeps
// none.
func (h *Handler) agreementStore() (cyberpact.AgreementService, error) {
	as, ok := h.Store.(cyberpact.AgreementService)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub keeps no sharing agreements")
	}
	return as, nil
}

func (h *Handler) agreementsView(r *http.Request, c *call) (agreementsPage, error) {
	p := c.principal()
	pg := agreementsPage{Admin: p.User.Role == cyberpact.RoleAdmin}
	as, err := h.agreementStore()
	if err != nil {
		return pg, err
	}
	all, err := as.Agreements(r.Context())
	if err != nil {
		return pg, err
	}
	for _, a := range all {
		if a.Group != 0 && !pg.Admin && !slices.Contains(p.Groups, a.Group) {
			continue
		}
		v := viewOf(a)
		hist, err := as.AgreementHistory(r.Context(), a.Group)
		if err != nil {
			return pg, err
		}
		for i := len(hist) - 2; i >= 0; i-- {
			v.Earlier = append(v.Earlier, viewOf(hist[i]))
		}
		pg.Agreements = append(pg.Agreements, v)
	}
	if pg.Admin {
		pg.Groups = []string{"hub"}
		gs, err := h.Store.Groups(r.Context())
		if err != nil {
			return pg, err
		}
		for _, g := range gs {
			pg.Groups = append(pg.Groups, g.Name)
		}
	}
	return pg, nil
}

func (h *Handler) agreements(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := h.agreementsView(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "agreements", c, pg)
	return nil
}

// setAgreement stores a new version from the form: every field as the
// command line's agreement set takes it, lists comma separated. Refused
// terms are shown on the page (400) and change nothing.
func (h *Handler) setAgreement(w http.ResponseWriter, r *http.Request, c *call) error {
	p := c.principal()
	as, err := h.agreementStore()
	if err != nil {
		return err
	}
	name := r.PostFormValue("group")
	a := &cyberpact.Agreement{}
	if !strings.EqualFold(name, "hub") {
		g, err := h.Store.GroupByName(r.Context(), name)
		if err == nil && p.User.Role != cyberpact.RoleAdmin && !slices.Contains(p.Groups, g.ID) {
			err = cyberpact.Errorf(cyberpact.ENOTFOUND, "no group named %q", name)
		}
		if err != nil {
			return err
		}
		a.Group = g.ID
	}
	if p.User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only hub admins change sharing agreements")
	}
	// The new version starts from the one in force: what the form does
	// not show (retention per type) is kept.
	if cur, err := as.Agreement(r.Context(), a.Group); err == nil {
		a = cur
	} else if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		return err
	}
	err = agreementFromForm(r, a)
	if err == nil {
		err = as.SetAgreement(r.Context(), a, p.User.Name)
	}
	pg, verr := h.agreementsView(r, c)
	if verr != nil {
		return verr
	}
	if err != nil {
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			return err
		}
		pg.Error = cyberpact.ErrorMessage(err)
		h.render(w, r, http.StatusBadRequest, "agreements", c, pg)
		return nil
	}
	pg.Done = "Set " + a.Name() + "."
	h.render(w, r, http.StatusOK, "agreements", c, pg)
	return nil
}

// agreementFromForm reads the form's terms into a. Returns EINVALID
// naming the field.
func agreementFromForm(r *http.Request, a *cyberpact.Agreement) error {
	list := func(k string) []string {
		var out []string
		for _, x := range strings.Split(r.PostFormValue(k), ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	a.Purpose = strings.TrimSpace(r.PostFormValue("purpose"))
	a.TLPs, a.PAPs, a.Retention, a.Expires = nil, nil, 0, time.Time{}
	for _, s := range list("tlp") {
		l, err := cyberpact.ParseTLP(s)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "Permitted TLP: %s", cyberpact.ErrorMessage(err))
		}
		a.TLPs = append(a.TLPs, l)
	}
	for _, s := range list("pap") {
		l, err := cyberpact.ParsePAP(s)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "Permitted PAP: %s", cyberpact.ErrorMessage(err))
		}
		a.PAPs = append(a.PAPs, l)
	}
	a.RelNations, a.RelSectors, a.PersonalData = list("nations"), list("sectors"), list("personal")
	if s := strings.TrimSpace(r.PostFormValue("retention")); s != "" {
		d, err := cyberpact.ParseSpan(s)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "Retention: %s", cyberpact.ErrorMessage(err))
		}
		a.Retention = d
	}
	if s := strings.TrimSpace(r.PostFormValue("expires")); s != "" {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "Expires: %q is not a date (2006-01-02)", s)
		}
		a.Expires = t
	}
	a.Federate = r.PostFormValue("federate") == "on"
	return nil
}
