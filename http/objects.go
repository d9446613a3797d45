package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

func (s *Server) registerObjects() {
	s.handle("GET /api/v1/objects", s.listObjects)
	s.handle("GET /api/v1/objects/{id}", s.getObject)
	s.handle("GET /api/v1/objects/{id}/versions", s.objectVersions)
	s.handle("GET /api/v1/objects/{id}/relationships", s.objectRelationships)
	s.handle("POST /api/v1/bundles", s.postBundle)
	s.handle("GET /api/v1/stats", s.stats)
}

// objectList is the JSON of a page of objects: the STIX objects as stored,
// and the cursor of the next page.
type objectList struct {
	Objects []json.RawMessage `json:"objects"`
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
}

func pageJSON(p *cyberpact.ObjectPage) objectList {
	out := objectList{Objects: make([]json.RawMessage, len(p.Objects)), More: p.More}
	for i, o := range p.Objects {
		out.Objects[i] = o.Raw
	}
	if p.More {
		out.Next = strconv.FormatInt(p.Next, 10)
	}
	return out
}

// filterFromQuery reads the list filters of the REST API:
// type, label, spec_version (each repeatable or comma separated), q (full
// text), modified_since, modified_until, added_after (RFC 3339),
// all_versions, exclude_revoked, limit and cursor.
func filterFromQuery(r *http.Request) (cyberpact.ObjectFilter, error) {
	q := r.URL.Query()
	var f cyberpact.ObjectFilter
	list := func(name string) []string {
		var out []string
		for _, v := range q[name] {
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part != "" {
					out = append(out, part)
				}
			}
		}
		return out
	}
	f.Types = list("type")
	f.Labels = list("label")
	f.SpecVersions = list("spec_version")
	f.Text = q.Get("q")
	for name, dst := range map[string]*time.Time{"modified_since": &f.ModifiedSince, "modified_until": &f.ModifiedUntil, "added_after": &f.AddedAfter} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, cyberpact.Errorf(cyberpact.EINVALID, "query parameter %s=%q is not an RFC 3339 time such as 2025-01-31T00:00:00Z", name, v)
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*bool{"all_versions": &f.AllVersions, "exclude_revoked": &f.ExcludeRevoked} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return f, cyberpact.Errorf(cyberpact.EINVALID, "query parameter %s=%q is not true or false", name, v)
			}
			*dst = b
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, cyberpact.Errorf(cyberpact.EINVALID, "query parameter limit=%q is not a positive whole number", v)
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return f, cyberpact.Errorf(cyberpact.EINVALID, "query parameter cursor=%q is not a cursor this server gave out", v)
		}
		f.After = n
	}
	return f, nil
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) error {
	f, err := filterFromQuery(r)
	if err != nil {
		return err
	}
	page, err := s.Store.FindObjects(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageJSON(page))
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request) error {
	o, err := s.Store.Object(r.Context(), r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(o.Raw)
	return err
}

func (s *Server) objectVersions(w http.ResponseWriter, r *http.Request) error {
	objs, err := s.Store.ObjectVersions(r.Context(), r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageJSON(&cyberpact.ObjectPage{Objects: objs}))
}

func (s *Server) objectRelationships(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	f, err := filterFromQuery(r)
	if err != nil {
		return err
	}
	dir := cyberpact.Both
	switch v := r.URL.Query().Get("direction"); v {
	case "", "both":
	case "out", "outgoing":
		dir = cyberpact.Outgoing
	case "in", "incoming":
		dir = cyberpact.Incoming
	default:
		return cyberpact.Errorf(cyberpact.EINVALID, "query parameter direction=%q is not one of in, out, both", v)
	}
	// The object itself must exist for its relationships to be asked for.
	if _, err := s.Store.Object(r.Context(), id, nil); err != nil {
		return err
	}
	page, err := s.Store.Relationships(r.Context(), id, dir, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pageJSON(page))
}

// importResponse is the JSON answer to a POSTed bundle.
type importResponse struct {
	*cyberpact.ImportResult
	Upgraded int `json:"upgraded_from_stix20,omitempty"`
}

// postBundle imports a STIX bundle: 200 with the counts when it went in,
// 422 with every rejection (and nothing stored) when any object was
// refused, 400 when the body is not a readable bundle, 413 when too large.
// With ?partial=true the acceptable objects are stored anyway.
func (s *Server) postBundle(w http.ResponseWriter, r *http.Request) error {
	opts := cyberpact.ImportOptions{}
	if v := r.URL.Query().Get("partial"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "query parameter partial=%q is not true or false", v)
		}
		opts.Partial = b
	}
	dec := stix.NewDecoder(r.Body)
	defer dec.Close()
	res, err := s.Store.Import(r.Context(), dec.Next, opts)
	if err != nil {
		return err
	}
	s.metrics.imported.WithLabelValues("added").Add(float64(res.Added))
	s.metrics.imported.WithLabelValues("present").Add(float64(res.Present))
	s.metrics.imported.WithLabelValues("rejected").Add(float64(len(res.Rejected)))
	status := http.StatusOK
	if len(res.Rejected) > 0 && !res.Committed {
		status = http.StatusUnprocessableEntity
		res.Added = 0
	}
	return writeJSON(w, status, importResponse{ImportResult: res, Upgraded: dec.Upgraded})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	stats, err := s.Store.Stats(r.Context(), nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"types": stats})
}
