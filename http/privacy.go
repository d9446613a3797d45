package http

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Personal data and warrants (cyberpact.PrivacyStore):
//
//	GET  /api/v1/privacy/policies          the policies: the hub-wide default and each of the caller's groups' (a hub admin's: all)
//	PUT  /api/v1/privacy/policies/{group}  set one ("default" or a group's name), hub admins only: {"detectors": "email,phone"}
//	GET  /api/v1/privacy/originals/{id}    a redacted object as the caller's organisation sent it
//	POST /api/v1/warrants                  ask: {"kind": "unmask"|"release", "target", "justification", "ttl": "24h"}
//	GET  /api/v1/warrants                  the organisation's warrants (an approver's: all)
//	GET  /api/v1/warrants/{id}
//	POST /api/v1/warrants/{id}/approve     {"reason"}: a warrant approver who did not ask
//	POST /api/v1/warrants/{id}/refuse      {"reason"}
//	POST /api/v1/warrants/{id}/unmask      use an approved unmask warrant: {"pseudonym", "value"}
//	GET  /api/v1/warrants/{id}/object      use an approved release warrant: the object as its producer sent it
//
// Every object read elsewhere is the redacted one (see sqlstore.Redacting);
// these routes are the only ones that give what redaction kept apart, and
// each says to whom. A warrant of another organisation answers 404, as
// one that does not exist, except to warrant approvers, who decide them.

func (s *Server) registerPrivacy() {
	s.handle("GET /api/v1/privacy/policies", s.authed(s.listPrivacyPolicies))
	s.handle("PUT /api/v1/privacy/policies/{group}", s.authed(s.putPrivacyPolicy))
	s.handle("GET /api/v1/privacy/originals/{id}", s.authed(s.getOriginal))
	s.handle("POST /api/v1/warrants", s.authed(s.postWarrant))
	s.handle("GET /api/v1/warrants", s.authed(s.listWarrants))
	s.handle("GET /api/v1/warrants/{id}", s.authed(s.getWarrant))
	s.handle("POST /api/v1/warrants/{id}/approve", s.authed(s.decideWarrant(true)))
	s.handle("POST /api/v1/warrants/{id}/refuse", s.authed(s.decideWarrant(false)))
	s.handle("POST /api/v1/warrants/{id}/unmask", s.authed(s.unmask))
	s.handle("GET /api/v1/warrants/{id}/object", s.authed(s.warrantObject))
}

func (s *Server) privacyStore() (cyberpact.PrivacyStore, error) {
	ps, ok := s.Store.(cyberpact.PrivacyStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this hub's store keeps no privacy settings")
	}
	return ps, nil
}

// policyView is a policy with its group named.
type policyView struct {
	Group     string    `json:"group"` // "default" or the group's name
	Detectors string    `json:"detectors"`
	Updated   time.Time `json:"updated"`
	Actor     string    `json:"actor"`
}

func (s *Server) listPrivacyPolicies(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	pols, err := ps.PrivacyPolicies(r.Context())
	if err != nil {
		return err
	}
	groups, err := s.Accounts.Groups(r.Context())
	if err != nil {
		return err
	}
	names := map[int64]string{0: "default"}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	// A group's policy is one of the terms its members share under: shown,
	// as its agreement is, only to those party to it (partyTo), so that
	// the list names no group the caller is not in.
	caller := principalOf(r)
	out := []policyView{}
	for _, p := range pols {
		if !partyTo(caller, p.Group) {
			continue
		}
		out = append(out, policyView{Group: names[p.Group], Detectors: p.Detectors, Updated: p.Updated, Actor: p.Actor})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"policies": out})
}

func (s *Server) putPrivacyPolicy(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	p := principalOf(r)
	if p.User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only hub admins set privacy policies")
	}
	var in struct {
		Detectors *string `json:"detectors"`
	}
	if err := decodeBody(r, &in, `{"detectors": "email,account,phone,name,individual,address" or "all" or "none"}`); err != nil {
		return err
	}
	if in.Detectors == nil {
		return cyberpact.Errorf(cyberpact.EINVALID, `request body: detectors is missing (want {"detectors": "email,phone", "all" or "none"})`)
	}
	pol := &cyberpact.PrivacyPolicy{Detectors: *in.Detectors}
	if name := r.PathValue("group"); name != "default" {
		g, err := s.Accounts.GroupByName(r.Context(), name)
		if err != nil {
			return err
		}
		pol.Group = g.ID
	}
	if err := ps.SetPrivacyPolicy(r.Context(), pol, p.User.Name); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, policyView{Group: r.PathValue("group"), Detectors: pol.Detectors, Updated: pol.Updated, Actor: pol.Actor})
}

func (s *Server) getOriginal(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	raw, err := ps.Original(r.Context(), r.PathValue("id"), principalOf(r).Org.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(raw, '\n'))
	return err
}

// warrantRequest is the body of POST /api/v1/warrants.
type warrantRequest struct {
	Kind          cyberpact.WarrantKind `json:"kind"`
	Target        string                `json:"target"`
	Justification string                `json:"justification"`
	TTL           string                `json:"ttl"`
}

// ParseTTL reads how long a warrant's approval lasts: a Go duration
// ("72h", "30m"); "" is 24 hours. Returns EINVALID naming the input.
func ParseTTL(s string) (time.Duration, error) {
	if s == "" {
		return 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, cyberpact.Errorf(cyberpact.EINVALID, "ttl %q is not a duration such as 24h or 90m", s)
	}
	return d, nil
}

func (s *Server) postWarrant(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	var in warrantRequest
	if err := decodeBody(r, &in, `{"kind": "unmask"|"release", "target": pseudonym or object id, "justification": "...", "ttl": "24h"}`); err != nil {
		return err
	}
	ttl, err := ParseTTL(in.TTL)
	if err != nil {
		return err
	}
	wr := &cyberpact.Warrant{Kind: in.Kind, Target: in.Target, Justification: in.Justification, TTL: ttl}
	if err := ps.RequestWarrant(r.Context(), wr, principalOf(r), "rest"); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, wr)
}

// isApprover reports whether p is a warrant approver.
func isApprover(r *http.Request, ps cyberpact.PrivacyStore, p *cyberpact.Principal) (bool, error) {
	names, err := ps.WarrantApprovers(r.Context())
	if err != nil {
		return false, err
	}
	return slices.Contains(names, p.User.Name), nil
}

func (s *Server) listWarrants(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	p := principalOf(r)
	org := p.Org.ID
	if ok, err := isApprover(r, ps, p); err != nil {
		return err
	} else if ok {
		org = 0
	}
	list, err := ps.Warrants(r.Context(), org)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"warrants": list})
}

// warrantOf reads the {id} of the path as a warrant the caller may see:
// its organisation's, or any when the caller is an approver. Returns
// ENOTFOUND otherwise.
func warrantOf(r *http.Request, ps cyberpact.PrivacyStore) (int64, *cyberpact.Warrant, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %q", r.PathValue("id"))
	}
	wr, err := ps.Warrant(r.Context(), id)
	if err != nil {
		return id, nil, err
	}
	p := principalOf(r)
	if wr.Org != p.Org.ID {
		if ok, err := isApprover(r, ps, p); err != nil {
			return id, nil, err
		} else if !ok {
			return id, nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %d", id)
		}
	}
	return id, wr, nil
}

func (s *Server) getWarrant(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	_, wr, err := warrantOf(r, ps)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wr)
}

func (s *Server) decideWarrant(approve bool) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		ps, err := s.privacyStore()
		if err != nil {
			return err
		}
		if err := checkQuery(r, false); err != nil {
			return err
		}
		var in struct {
			Reason string `json:"reason"`
		}
		if r.ContentLength != 0 {
			if err := decodeBody(r, &in, `{"reason": "..."}`); err != nil {
				return err
			}
		}
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %q", r.PathValue("id"))
		}
		wr, err := ps.DecideWarrant(r.Context(), id, approve, in.Reason, principalOf(r), "rest")
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, wr)
	}
}

func (s *Server) unmask(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %q of your organisation", r.PathValue("id"))
	}
	v, err := ps.Unmask(r.Context(), id, principalOf(r), "rest")
	if err != nil {
		return err
	}
	wr, err := ps.Warrant(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"pseudonym": wr.Target, "value": v})
}

func (s *Server) warrantObject(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.privacyStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no warrant %q of your organisation", r.PathValue("id"))
	}
	raw, err := ps.ReleaseByWarrant(r.Context(), id, principalOf(r), "rest")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(append(raw, '\n'))
	return err
}
