package http

import (
	"net/http"

	"github.com/cyberpact/cyberpact"
)

// The external feeds the hub ingests (cyberpact.Source) and where each
// stands, for monitoring: GET /api/v1/sources lists them with their
// status, GET /api/v1/sources/{name} shows one. Hub admins see every
// source; anyone else only those whose objects are produced by their own
// organisation, and any other is 404, as one that does not exist. Keys
// are never shown.

func (s *Server) registerSources() {
	s.handle("GET /api/v1/sources", s.authed(s.listSources))
	s.handle("GET /api/v1/sources/{name}", s.authed(s.getSource))
}

// sourceStore returns the store's sources, ENOTFOUND when it keeps none.
func (s *Server) sourceStore() (cyberpact.SourceStore, error) {
	ss, ok := s.Store.(cyberpact.SourceStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub keeps no feed sources")
	}
	return ss, nil
}

func (s *Server) listSources(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	ss, err := s.sourceStore()
	if err != nil {
		return err
	}
	srcs, err := ss.Sources(r.Context())
	if err != nil {
		return err
	}
	p := principalOf(r)
	out := []*cyberpact.SourceStatus{}
	for _, src := range srcs {
		if !cyberpact.MaySeeSource(p, src) {
			continue
		}
		st, err := cyberpact.StatusOfSource(r.Context(), ss, src)
		if err != nil {
			return err
		}
		out = append(out, st)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"sources": out})
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	ss, err := s.sourceStore()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	src, err := ss.SourceByName(r.Context(), name)
	if err == nil && !cyberpact.MaySeeSource(principalOf(r), src) {
		err = cyberpact.Errorf(cyberpact.ENOTFOUND, "no source %q", name)
	}
	if err != nil {
		return err
	}
	st, err := cyberpact.StatusOfSource(r.Context(), ss, src)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, st)
}
