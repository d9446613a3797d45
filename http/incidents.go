package http

import (
	"net/http"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
)

// Joint incidents (package incident), each a STIX incident with its
// tasks, notes and requests for assistance, all objects under the sharing
// rule: an incident the caller may not see does not exist for it (404).
//
//	GET   /api/v1/incidents                                   the incidents the caller sees, with what waits for it
//	POST  /api/v1/incidents                                   open one: {"name", "severity", "status", "sectors", "functions", "partners", "linked", "audience", "tlp"}
//	GET   /api/v1/incidents/{id}                              one, with tasks, notes, requests, timeline and who works on what
//	PATCH /api/v1/incidents/{id}                              edit it (its producer only): {"based_on", "status", ...}
//	POST  /api/v1/incidents/{id}/tasks                        {"title", "assignee", "assignee_org", "due", "description"}
//	PATCH /api/v1/incidents/{id}/tasks/{task}                 {"based_on", "status", "comment", ...}; 409 when based_on is not the current version
//	POST  /api/v1/incidents/{id}/notes                        {"kind": "note"|"event"|"decision", "title", "content", "task", "audience", "tlp"}
//	POST  /api/v1/incidents/{id}/requests                     {"kind", "addressed_to": [ORG, ...], "description", "due"}
//	POST  /api/v1/incidents/{id}/requests/{rfa}/{decision}    decision accept or decline: {"comment"}
//
// Every write goes through cyberpact.AuditedImport as the caller's
// organisation; every read is audited as a release of the versions it
// shows.

func (s *Server) registerIncidents() {
	s.handle("GET /api/v1/incidents", s.authed(s.listIncidents))
	s.handle("POST /api/v1/incidents", s.authed(s.postIncident))
	s.handle("GET /api/v1/incidents/{id}", s.authed(s.getIncident))
	s.handle("PATCH /api/v1/incidents/{id}", s.authed(s.patchIncident))
	s.handle("POST /api/v1/incidents/{id}/tasks", s.authed(s.postTask))
	s.handle("PATCH /api/v1/incidents/{id}/tasks/{task}", s.authed(s.patchTask))
	s.handle("POST /api/v1/incidents/{id}/notes", s.authed(s.postNote))
	s.handle("POST /api/v1/incidents/{id}/requests", s.authed(s.postRFA))
	s.handle("POST /api/v1/incidents/{id}/requests/{rfa}/{decision}", s.authed(s.respondRFA))
}

func (s *Server) incidents() *incident.Service {
	return &incident.Service{Store: s.Store, Audit: s.Audit}
}

// incidentCaller is the caller of r as the incident service knows it.
func incidentCaller(r *http.Request) incident.Caller {
	p := principalOf(r)
	return incident.Caller{Viewer: p.Viewer(), Actor: actor(p, "rest"), OrgName: p.Org.Name, CanWrite: p.User.Role.CanWrite()}
}

func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	list, objs, err := s.incidents().List(r.Context(), incidentCaller(r))
	if err != nil {
		return err
	}
	if err := s.auditRelease(r, principalOf(r), "rest", viewerOf(r), objs); err != nil {
		return err
	}
	if list == nil {
		list = []*incident.Summary{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"incidents": list})
}

// writeCase answers with an incident, its release audited.
func (s *Server) writeCase(w http.ResponseWriter, r *http.Request, status int, cs *incident.Case) error {
	if err := s.auditRelease(r, principalOf(r), "rest", viewerOf(r), cs.Objects); err != nil {
		return err
	}
	return writeJSON(w, status, cs)
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	cs, err := s.incidents().Get(r.Context(), incidentCaller(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeCase(w, r, http.StatusOK, cs)
}

// releaseOf reads the audience and TLP of a write; each left empty is
// the zero value, which the incident service reads as its default.
func (s *Server) releaseOf(r *http.Request, audience, tlp string) (cyberpact.Audience, cyberpact.TLP, error) {
	var aud cyberpact.Audience
	var level cyberpact.TLP
	var err error
	if audience != "" {
		if aud, err = s.parseAudience(r.Context(), principalOf(r), audience); err != nil {
			return aud, level, err
		}
	}
	if tlp != "" {
		if level, err = cyberpact.ParseTLP(tlp); err != nil {
			return aud, level, cyberpact.Errorf(cyberpact.EINVALID, "tlp: %s", cyberpact.ErrorMessage(err))
		}
	}
	return aud, level, nil
}

func (s *Server) postIncident(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in struct {
		incident.NewIncident
		Audience string `json:"audience"`
		TLP      string `json:"tlp"`
	}
	if err := decodeBody(r, &in, `{"name", "severity", "status", "sectors", "functions", "partners", "linked", "audience", "tlp"}`); err != nil {
		return err
	}
	var err error
	if in.NewIncident.Audience, in.NewIncident.TLP, err = s.releaseOf(r, in.Audience, in.TLP); err != nil {
		return err
	}
	cs, err := s.incidents().Create(r.Context(), incidentCaller(r), in.NewIncident)
	if err != nil {
		return err
	}
	return s.writeCase(w, r, http.StatusCreated, cs)
}

func (s *Server) patchIncident(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var e incident.IncidentEdit
	if err := decodeBody(r, &e, `{"based_on": VERSION, "name", "status", "severity", ...}`); err != nil {
		return err
	}
	cs, err := s.incidents().Update(r.Context(), incidentCaller(r), r.PathValue("id"), e)
	if err != nil {
		return err
	}
	return s.writeCase(w, r, http.StatusOK, cs)
}

func (s *Server) postTask(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in incident.NewTask
	if err := decodeBody(r, &in, `{"title", "assignee", "assignee_org", "due", "description"}`); err != nil {
		return err
	}
	t, err := s.incidents().AddTask(r.Context(), incidentCaller(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) patchTask(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var e incident.TaskEdit
	if err := decodeBody(r, &e, `{"based_on": VERSION, "status", "comment", ...}`); err != nil {
		return err
	}
	t, err := s.incidents().UpdateTask(r.Context(), incidentCaller(r), r.PathValue("id"), r.PathValue("task"), e)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) postNote(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in struct {
		incident.NewNote
		Audience string `json:"audience"`
		TLP      string `json:"tlp"`
	}
	if err := decodeBody(r, &in, `{"kind", "title", "content", "task", "audience", "tlp"}`); err != nil {
		return err
	}
	var err error
	if in.NewNote.Audience, in.NewNote.TLP, err = s.releaseOf(r, in.Audience, in.TLP); err != nil {
		return err
	}
	n, err := s.incidents().AddNote(r.Context(), incidentCaller(r), r.PathValue("id"), in.NewNote)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, n)
}

func (s *Server) postRFA(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in incident.NewRFA
	if err := decodeBody(r, &in, `{"kind", "addressed_to", "description", "due"}`); err != nil {
		return err
	}
	q, err := s.incidents().RequestAssistance(r.Context(), incidentCaller(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, q)
}

func (s *Server) respondRFA(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in struct {
		Comment string `json:"comment"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &in, `{"comment"} or no body`); err != nil {
			return err
		}
	}
	q, err := s.incidents().Respond(r.Context(), incidentCaller(r), r.PathValue("id"), r.PathValue("rfa"), r.PathValue("decision"), in.Comment)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, q)
}
