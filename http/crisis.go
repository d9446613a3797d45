package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/alert"
)

// Crisis mode (alert.Desk), on a stored STIX incident:
//
//	POST   /api/v1/crises                  {"incident": ID, "escalate_after": "15m"}: declare
//	GET    /api/v1/crises[?open=true]      the crises the caller's organisation is alerted by
//	GET    /api/v1/crises/{id}             one at a glance: each partner's acknowledgement and escalation level
//	POST   /api/v1/crises/{id}/ack         acknowledge for the caller's organisation
//	POST   /api/v1/crises/{id}/end         end it
//	GET    /api/v1/crisis-contacts         the caller's organisation's escalation contacts
//	POST   /api/v1/crisis-contacts         {"level": 1, "name", "channel", "target"}: add one (org-admin)
//	DELETE /api/v1/crisis-contacts/{id}    remove one (org-admin)
//
// A crisis is known only to the organisations it alerts, and only while
// they may see its incident: to anyone else it answers 404 with the body
// of a crisis that does not exist. Declaring and ending need a hub admin
// or an org-admin of the incident's producer who may see the incident; an
// incident the caller may not see answers as one the hub does not hold.

func (s *Server) registerCrises() {
	s.handle("POST /api/v1/crises", s.authed(s.declareCrisis))
	s.handle("GET /api/v1/crises", s.authed(s.listCrises))
	s.handle("GET /api/v1/crises/{id}", s.authed(s.getCrisis))
	s.handle("POST /api/v1/crises/{id}/ack", s.authed(s.ackCrisis))
	s.handle("POST /api/v1/crises/{id}/end", s.authed(s.endCrisis))
	s.handle("GET /api/v1/crisis-contacts", s.authed(s.listContacts))
	s.handle("POST /api/v1/crisis-contacts", s.authed(s.addContact))
	s.handle("DELETE /api/v1/crisis-contacts/{id}", s.authed(s.removeContact))
}

// CrisisDesk returns the server's crisis desk, nil when the store keeps
// no crises: the web interface shares it.
func (s *Server) CrisisDesk() *alert.Desk { return s.Crises }

func (s *Server) desk() (*alert.Desk, error) {
	if s.Crises == nil {
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this hub's store keeps no crises")
	}
	return s.Crises, nil
}

func (s *Server) declareCrisis(w http.ResponseWriter, r *http.Request) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in struct {
		Incident      string `json:"incident"`
		EscalateAfter string `json:"escalate_after"`
	}
	if err := decodeBody(r, &in, `{"incident": "incident--...", "escalate_after": "15m"}`); err != nil {
		return err
	}
	var after time.Duration
	if in.EscalateAfter != "" {
		if after, err = time.ParseDuration(in.EscalateAfter); err != nil || after <= 0 {
			return cyberpact.Errorf(cyberpact.EINVALID, "escalate_after: %q is not a duration such as 15m", in.EscalateAfter)
		}
	}
	p := principalOf(r)
	c, err := d.Declare(r.Context(), p, in.Incident, after, p.User.Name)
	if err != nil {
		return err
	}
	st, err := d.Status(r.Context(), p, c.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, st)
}

func crisisID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "no crisis %q", raw)
	}
	return id, nil
}

func (s *Server) listCrises(w http.ResponseWriter, r *http.Request) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false, "open"); err != nil {
		return err
	}
	open := false
	switch v := r.URL.Query().Get("open"); v {
	case "", "false":
	case "true":
		open = true
	default:
		return cyberpact.Errorf(cyberpact.EINVALID, "open: %q is not true or false", v)
	}
	p := principalOf(r)
	cs, err := d.List(r.Context(), p, open)
	if err != nil {
		return err
	}
	out := []*alert.Status{}
	for _, c := range cs {
		st, err := d.Status(r.Context(), p, c.ID)
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"crises": out})
}

// onCrisis answers a request on crisis {id}: act, when not nil, is done
// by the caller first; the answer is the crisis's status as the caller
// may see it.
func (s *Server) onCrisis(w http.ResponseWriter, r *http.Request, act func(d *alert.Desk, p *cyberpact.Principal, id int64) error) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	id, err := crisisID(r)
	if err != nil {
		return err
	}
	p := principalOf(r)
	if act != nil {
		if err := act(d, p, id); err != nil {
			return err
		}
	}
	st, err := d.Status(r.Context(), p, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}

func (s *Server) getCrisis(w http.ResponseWriter, r *http.Request) error {
	return s.onCrisis(w, r, nil)
}

func (s *Server) ackCrisis(w http.ResponseWriter, r *http.Request) error {
	return s.onCrisis(w, r, func(d *alert.Desk, p *cyberpact.Principal, id int64) error {
		_, err := d.Ack(r.Context(), p, id, 0, p.User.Name, "api")
		return err
	})
}

func (s *Server) endCrisis(w http.ResponseWriter, r *http.Request) error {
	return s.onCrisis(w, r, func(d *alert.Desk, p *cyberpact.Principal, id int64) error {
		return d.End(r.Context(), p, id, p.User.Name)
	})
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	cs, err := d.Store.CrisisContacts(r.Context(), principalOf(r).Org.ID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		c.Secret = ""
	}
	return writeJSON(w, http.StatusOK, map[string]any{"contacts": cs})
}

func mayManageContacts(p *cyberpact.Principal) error {
	if p.User.Role != cyberpact.RoleAdmin && p.User.Role != cyberpact.RoleOrgAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "an organisation's escalation contacts are managed by its org-admins")
	}
	return nil
}

func (s *Server) addContact(w http.ResponseWriter, r *http.Request) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	p := principalOf(r)
	if err := mayManageContacts(p); err != nil {
		return err
	}
	var in struct {
		Level   int                   `json:"level"`
		Name    string                `json:"name"`
		Channel cyberpact.ChannelKind `json:"channel"`
		Target  string                `json:"target"`
	}
	if err := decodeBody(r, &in, `{"level": 1, "name": "duty officer", "channel": "webhook"|"email", "target": URL or address}`); err != nil {
		return err
	}
	c := &cyberpact.CrisisContact{Org: p.Org.ID, Level: in.Level, Name: in.Name, Channel: in.Channel, Target: in.Target}
	if c.Channel == cyberpact.ChannelWebhook {
		c.Secret = cyberpact.NewWebhookSecret()
	}
	if err := d.Store.AddCrisisContact(r.Context(), c, p.User.Name); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

func (s *Server) removeContact(w http.ResponseWriter, r *http.Request) error {
	d, err := s.desk()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	p := principalOf(r)
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no contact %q", raw)
	}
	if err := mayManageContacts(p); err != nil {
		return err
	}
	if err := d.Store.RemoveCrisisContact(r.Context(), p.Org.ID, id, p.User.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
