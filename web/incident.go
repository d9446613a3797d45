package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
)

// Joint incidents: the list of the incidents the user may see, and each
// incident's page with its tasks, notes and timeline, requests for
// assistance and who works on what, with forms to add and update them.
// Everything goes through package incident, as the API's routes do, so
// the sharing rule, ownership and the merge by version (a stale edit is
// refused with 409, naming the current version) are decided once. An
// incident the user may not see answers exactly as one that never
// existed.

func (h *Handler) registerIncidents() {
	h.get("GET /incidents", signedIn, h.incidentsPage)
	h.post("POST /incidents", signedIn, h.createIncident)
	h.get("GET /incidents/{id}", signedIn, h.incidentPage)
	h.post("POST /incidents/{id}", signedIn, h.editIncident)
	h.post("POST /incidents/{id}/tasks", signedIn, h.addTask)
	h.post("POST /incidents/{id}/tasks/{task}", signedIn, h.updateTask)
	h.post("POST /incidents/{id}/notes", signedIn, h.addNote)
	h.post("POST /incidents/{id}/requests", signedIn, h.addRequest)
	h.post("POST /incidents/{id}/requests/{rfa}/{decision}", signedIn, h.respondRequest)
}

func (h *Handler) incidents() *incident.Service {
	return &incident.Service{Store: h.Store, Audit: h.Store, Now: h.Now}
}

func incidentCaller(c *call) incident.Caller {
	p := c.principal()
	return incident.Caller{Viewer: p.Viewer(), Actor: cyberpact.Actor{Name: p.User.Name, Org: p.Org.ID, Via: "web"},
		OrgName: p.Org.Name, CanWrite: p.User.Role.CanWrite()}
}

type incidentsPage struct {
	Incidents  []*incident.Summary
	CanWrite   bool
	Audiences  []option
	TLPs       []option
	Severities []string
	Error      string
	Name       string
}

func (h *Handler) incidentsView(r *http.Request, c *call) (*incidentsPage, error) {
	list, objs, err := h.incidents().List(r.Context(), incidentCaller(c))
	if err != nil {
		return nil, err
	}
	if err := h.auditRelease(r, c, objs); err != nil {
		return nil, err
	}
	auds, err := h.audienceOptions(r.Context(), c, "all")
	if err != nil {
		return nil, err
	}
	return &incidentsPage{Incidents: list, CanWrite: c.principal().User.Role.CanWrite(), Audiences: auds, TLPs: tlpOptions("amber"),
		Severities: incident.Severities}, nil
}

func (h *Handler) incidentsPage(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := h.incidentsView(r, c)
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "incidents", c, pg)
	return nil
}

// formRelease reads a form's audience ("" for the default) and TLP.
func formRelease(c *call, aud, tlp string) (cyberpact.Audience, cyberpact.TLP, error) {
	var a cyberpact.Audience
	var t cyberpact.TLP
	if aud != "" {
		errs := map[string]string{}
		opts := release(c, aud, "amber", errs)
		if e := errs["audience"]; e != "" {
			return a, t, cyberpact.Errorf(cyberpact.EINVALID, "%s", e)
		}
		a = opts.Audience
	}
	if tlp != "" {
		var err error
		if t, err = cyberpact.ParseTLP(tlp); err != nil {
			return a, t, err
		}
	}
	return a, t, nil
}

// refused shows a refused form on the page it came from, with the error's
// status (400, 403, 409): an incident the user may not see is the error
// page of one that never existed.
func refused(err error) bool {
	switch cyberpact.ErrorCode(err) {
	case cyberpact.EINVALID, cyberpact.EFORBIDDEN, cyberpact.ECONFLICT:
		return true
	}
	return false
}

func (h *Handler) createIncident(w http.ResponseWriter, r *http.Request, c *call) error {
	aud, tlp, err := formRelease(c, r.PostFormValue("audience"), r.PostFormValue("tlp"))
	var cs *incident.Case
	if err == nil {
		cs, err = h.incidents().Create(r.Context(), incidentCaller(c), incident.NewIncident{Name: r.PostFormValue("name"),
			Severity: r.PostFormValue("severity"), Description: strings.TrimSpace(r.PostFormValue("description")),
			Sectors: splitComma(r.PostFormValue("sectors")), Functions: splitComma(r.PostFormValue("functions")),
			Partners: splitComma(r.PostFormValue("partners")), Audience: aud, TLP: tlp})
	}
	if err != nil {
		if !refused(err) {
			return err
		}
		pg, verr := h.incidentsView(r, c)
		if verr != nil {
			return verr
		}
		pg.Error, pg.Name = cyberpact.ErrorMessage(err), r.PostFormValue("name")
		h.render(w, r, statusOf(err), "incidents", c, pg)
		return nil
	}
	http.Redirect(w, r, "/incidents/"+url.PathEscape(cs.ID), http.StatusSeeOther)
	return nil
}

func splitComma(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func statusOf(err error) int {
	switch cyberpact.ErrorCode(err) {
	case cyberpact.EFORBIDDEN:
		return http.StatusForbidden
	case cyberpact.ECONFLICT:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

type incidentPage struct {
	Case         *incident.Case
	CanWrite     bool
	Statuses     []string
	Severities   []string
	Error        string
	Audiences    []option
	TLPs         []option
	TaskStatuses []string
	NoteKinds    []string
	RFAKinds     []string
}

func (h *Handler) incidentView(r *http.Request, c *call, id string) (*incidentPage, error) {
	cs, err := h.incidents().Get(r.Context(), incidentCaller(c), id)
	if err != nil {
		return nil, err
	}
	if err := h.auditRelease(r, c, cs.Objects); err != nil {
		return nil, err
	}
	auds, err := h.audienceOptions(r.Context(), c, "")
	if err != nil {
		return nil, err
	}
	// The notes' picker offers the incident's own release first.
	auds = append([]option{{Value: "", Label: "As the incident: " + cs.Audience, Selected: true}}, auds...)
	tlps := append([]option{{Value: "", Label: "As the incident: TLP:" + strings.ToUpper(cs.TLP), Selected: true}}, tlpOptions("")...)
	return &incidentPage{Case: cs, CanWrite: c.principal().User.Role.CanWrite(), Audiences: auds, TLPs: tlps,
		Statuses: incident.Statuses, Severities: incident.Severities,
		TaskStatuses: incident.TaskStatuses, NoteKinds: incident.NoteKinds, RFAKinds: incident.RFAKinds}, nil
}

func (h *Handler) incidentPage(w http.ResponseWriter, r *http.Request, c *call) error {
	pg, err := h.incidentView(r, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "incident", c, pg)
	return nil
}

// afterWrite answers a form of the incident page: back to the page when
// the write went in, the page with the refusal when it did not.
func (h *Handler) afterWrite(w http.ResponseWriter, r *http.Request, c *call, werr error) error {
	id := r.PathValue("id")
	if werr != nil && !refused(werr) {
		return werr
	}
	if werr == nil {
		http.Redirect(w, r, "/incidents/"+url.PathEscape(id), http.StatusSeeOther)
		return nil
	}
	pg, err := h.incidentView(r, c, id)
	if err != nil {
		return err
	}
	pg.Error = cyberpact.ErrorMessage(werr)
	h.render(w, r, statusOf(werr), "incident", c, pg)
	return nil
}

func (h *Handler) addTask(w http.ResponseWriter, r *http.Request, c *call) error {
	due := strings.TrimSpace(r.PostFormValue("due"))
	if due != "" && len(due) == len("2006-01-02T15:04") {
		due += ":00Z" // a datetime-local field, in UTC
	}
	_, err := h.incidents().AddTask(r.Context(), incidentCaller(c), r.PathValue("id"), incident.NewTask{Title: r.PostFormValue("title"),
		Assignee: strings.TrimSpace(r.PostFormValue("assignee")), AssigneeOrg: strings.TrimSpace(r.PostFormValue("assignee_org")),
		Due: due, Description: strings.TrimSpace(r.PostFormValue("description"))})
	return h.afterWrite(w, r, c, err)
}

func (h *Handler) updateTask(w http.ResponseWriter, r *http.Request, c *call) error {
	e := incident.TaskEdit{BasedOn: r.PostFormValue("based_on"), Comment: r.PostFormValue("comment")}
	if st := r.PostFormValue("status"); st != "" {
		e.Status = &st
	}
	if a, ok := r.PostForm["assignee"]; ok && len(a) == 1 {
		e.Assignee = &a[0]
	}
	_, err := h.incidents().UpdateTask(r.Context(), incidentCaller(c), r.PathValue("id"), r.PathValue("task"), e)
	return h.afterWrite(w, r, c, err)
}

func (h *Handler) addNote(w http.ResponseWriter, r *http.Request, c *call) error {
	aud, tlp, err := formRelease(c, r.PostFormValue("audience"), r.PostFormValue("tlp"))
	if err == nil {
		_, err = h.incidents().AddNote(r.Context(), incidentCaller(c), r.PathValue("id"), incident.NewNote{Kind: r.PostFormValue("kind"),
			Title: strings.TrimSpace(r.PostFormValue("title")), Content: r.PostFormValue("content"), Audience: aud, TLP: tlp})
	}
	return h.afterWrite(w, r, c, err)
}

func (h *Handler) addRequest(w http.ResponseWriter, r *http.Request, c *call) error {
	_, err := h.incidents().RequestAssistance(r.Context(), incidentCaller(c), r.PathValue("id"), incident.NewRFA{Kind: r.PostFormValue("kind"),
		To: splitComma(r.PostFormValue("to")), Description: r.PostFormValue("description")})
	return h.afterWrite(w, r, c, err)
}

func (h *Handler) respondRequest(w http.ResponseWriter, r *http.Request, c *call) error {
	d := r.PathValue("decision")
	if !slices.Contains([]string{"accept", "decline"}, d) {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no such page")
	}
	_, err := h.incidents().Respond(r.Context(), incidentCaller(c), r.PathValue("id"), r.PathValue("rfa"), d, r.PostFormValue("comment"))
	return h.afterWrite(w, r, c, err)
}

func (h *Handler) editIncident(w http.ResponseWriter, r *http.Request, c *call) error {
	e := incident.IncidentEdit{BasedOn: r.PostFormValue("based_on")}
	if v := r.PostFormValue("status"); v != "" {
		e.Status = &v
	}
	if v := r.PostFormValue("severity"); v != "" {
		e.Severity = &v
	}
	_, err := h.incidents().Update(r.Context(), incidentCaller(c), r.PathValue("id"), e)
	return h.afterWrite(w, r, c, err)
}
