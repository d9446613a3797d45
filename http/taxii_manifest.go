package http

import (
	"net/http"
)

// manifestEntry is one version in a TAXII manifest (section 5.2).
type manifestEntry struct {
	ID        string `json:"id"`
	DateAdded string `json:"date_added"`
	Version   string `json:"version"`
	MediaType string `json:"media_type"`
}

// taxiiManifest lists the versions a collection's objects filter selects,
// without their content. It releases ids and timestamps only and is not
// audited as a release (see release.go).
func (s *Server) taxiiManifest(w http.ResponseWriter, r *http.Request) error {
	p, c, err := s.readableCollection(r)
	if err != nil {
		return err
	}
	f := c.filter()
	if err := s.taxiiFilter(r, p, &f); err != nil {
		return err
	}
	page, err := s.Store.FindObjects(r.Context(), f)
	if err != nil {
		return err
	}
	out := struct {
		More    bool            `json:"more"`
		Next    string          `json:"next,omitempty"`
		Objects []manifestEntry `json:"objects,omitempty"`
	}{More: page.More}
	if page.More {
		out.Next = s.cursors().seal(p, page.Next)
	}
	for _, o := range page.Objects {
		out.Objects = append(out.Objects, manifestEntry{ID: o.ID, DateAdded: taxiiTime(o.Added), Version: versionOf(o), MediaType: stixMedia})
	}
	setDateAdded(w, page.Objects)
	return writeTAXII(w, http.StatusOK, out)
}
