package http

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/cyberpact/cyberpact"
)

// The sharing agreements (cyberpact.Agreement): GET /api/v1/agreements
// lists those in force the caller is party to (the hub's and its
// organisation's groups'; hub admins see every one), GET
// /api/v1/agreements/{group} shows one ({group} is a group's name, or
// "hub"), with ?history=true every version, oldest first, and PUT
// /api/v1/agreements/{group} (hub admins only) stores a new version from
// the agreement's JSON. An agreement of a group the caller is not in is
// 404, as one that does not exist.

func (s *Server) registerAgreements() {
	s.handle("GET /api/v1/agreements", s.authed(s.listAgreements))
	s.handle("GET /api/v1/agreements/{group}", s.authed(s.getAgreement))
	s.handle("PUT /api/v1/agreements/{group}", s.authed(s.putAgreement))
}

// agreementStore returns the store's agreements, ENOTFOUND when it keeps
// none.
func (s *Server) agreementStore() (cyberpact.AgreementService, error) {
	as, ok := s.Store.(cyberpact.AgreementService)
	if !ok || s.Accounts == nil {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub keeps no sharing agreements")
	}
	return as, nil
}

// partyTo reports whether p may read the agreement of group (0: the
// hub's).
func partyTo(p *cyberpact.Principal, group int64) bool {
	return group == 0 || p.User.Role == cyberpact.RoleAdmin || slices.Contains(p.Groups, group)
}

// agreementGroup resolves {group} for p: ENOTFOUND for a group that does
// not exist or that p is not party to.
func (s *Server) agreementGroup(r *http.Request, p *cyberpact.Principal) (int64, error) {
	name := r.PathValue("group")
	if strings.EqualFold(name, "hub") {
		return 0, nil
	}
	g, err := s.Accounts.GroupByName(r.Context(), name)
	if err == nil && !partyTo(p, g.ID) {
		err = cyberpact.Errorf(cyberpact.ENOTFOUND, "no group named %q", name)
	}
	if err != nil {
		return 0, err
	}
	return g.ID, nil
}

func (s *Server) listAgreements(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	as, err := s.agreementStore()
	if err != nil {
		return err
	}
	all, err := as.Agreements(r.Context())
	if err != nil {
		return err
	}
	p := principalOf(r)
	out := []*cyberpact.Agreement{}
	for _, a := range all {
		if partyTo(p, a.Group) {
			out = append(out, a)
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"agreements": out})
}

func (s *Server) getAgreement(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false, "history"); err != nil {
		return err
	}
	as, err := s.agreementStore()
	if err != nil {
		return err
	}
	group, err := s.agreementGroup(r, principalOf(r))
	if err != nil {
		return err
	}
	switch h := r.URL.Query().Get("history"); h {
	case "true", "1":
		vs, err := as.AgreementHistory(r.Context(), group)
		if err != nil {
			return err
		}
		if len(vs) == 0 {
			return cyberpact.Errorf(cyberpact.ENOTFOUND, "%s has no sharing agreement", r.PathValue("group"))
		}
		return writeJSON(w, http.StatusOK, map[string]any{"versions": vs})
	case "", "false", "0":
	default:
		return cyberpact.Errorf(cyberpact.EINVALID, "history=%q: want true or false", h)
	}
	a, err := as.Agreement(r.Context(), group)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, a)
}

func (s *Server) putAgreement(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	as, err := s.agreementStore()
	if err != nil {
		return err
	}
	p := principalOf(r)
	group, err := s.agreementGroup(r, p)
	if err != nil {
		return err
	}
	if p.User.Role != cyberpact.RoleAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only hub admins change sharing agreements")
	}
	var a cyberpact.Agreement
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&a); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if cyberpact.ErrorCode(err) == cyberpact.EINVALID {
			return err
		}
		return cyberpact.Errorf(cyberpact.EINVALID, "request body: %v (want the agreement's JSON, as GET returns it)", err)
	}
	a.Group = group
	if err := as.SetAgreement(r.Context(), &a, p.User.Name); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, &a)
}
