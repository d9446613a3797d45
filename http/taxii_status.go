package http

import (
	"fmt"
	"net/http"

	"github.com/cyberpact/cyberpact"
)

// taxiiStatus returns the status of a POST (section 4.3) to the
// organisation that posted it; to anyone else it does not exist.
func (s *Server) taxiiStatus(w http.ResponseWriter, r *http.Request) error {
	p, err := s.caller(r, false)
	if err != nil {
		return err
	}
	if s.Statuses == nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "no status store", Err: fmt.Errorf("the server has no status store configured")}
	}
	st, err := s.Statuses.Status(r.Context(), r.PathValue("status"), p.Org.ID)
	if err != nil {
		return err
	}
	return writeTAXII(w, http.StatusOK, st)
}
