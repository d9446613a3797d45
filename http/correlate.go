package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
)

// Correlation, "who else has this?": for an observable value, the objects
// across all partners that hold it, as far as the sharing rule lets the
// caller see.

// maxCorrelateValues bounds the values of one POST /api/v1/correlate.
const maxCorrelateValues = 1000

func (s *Server) registerCorrelate() {
	s.handle("GET /api/v1/correlate", s.authed(s.getCorrelate))
	s.handle("POST /api/v1/correlate", s.authed(s.postCorrelate))
}

// correlation is the JSON answer for one value.
type correlation struct {
	Value   string `json:"value"`
	Kind    string `json:"kind"`
	Warning string `json:"warning,omitempty"`
	// Common says the value is held by at least Count object versions:
	// past that cap it is no longer indexed, and objects lists only
	// those indexed before.
	Common  bool                `json:"common,omitempty"`
	Count   int64               `json:"count,omitempty"`
	Objects []correlationObject `json:"objects"`
}

// correlationObject is one object that holds the value.
type correlationObject struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
	Modified string `json:"modified,omitempty"`
	Revoked  bool   `json:"revoked,omitempty"`
	Producer string `json:"producer,omitempty"` // the producer organisation's name
	TLP      string `json:"tlp"`
}

// getCorrelate answers GET /api/v1/correlate?value=X[&limit=N].
func (s *Server) getCorrelate(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("value")
	if v == "" {
		return cyberpact.Errorf(cyberpact.EINVALID, "give the value to correlate as ?value=")
	}
	limit, err := correlateLimit(r)
	if err != nil {
		return err
	}
	c, err := s.correlate(r.Context(), v, viewerOf(r), limit, map[int64]string{})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// postCorrelate answers POST /api/v1/correlate with {"values": [...]}:
// {"results": [...]} in the same order.
func (s *Server) postCorrelate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Values []string `json:"values"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return cyberpact.Errorf(cyberpact.EINVALID, "the body must be {\"values\": [...]}: %s", err)
	}
	if len(in.Values) == 0 || len(in.Values) > maxCorrelateValues {
		return cyberpact.Errorf(cyberpact.EINVALID, "give from 1 to %d values, not %d", maxCorrelateValues, len(in.Values))
	}
	limit, err := correlateLimit(r)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	out := make([]*correlation, 0, len(in.Values))
	for _, v := range in.Values {
		c, err := s.correlate(r.Context(), v, viewerOf(r), limit, names)
		if err != nil {
			return err
		}
		out = append(out, c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"results": out})
}

func correlateLimit(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, cyberpact.Errorf(cyberpact.EINVALID, "limit=%q is not a positive number", v)
	}
	return n, nil
}

// correlate answers for one value: the store's objects in every form the
// value may be kept in, with the warning list it is on. names caches
// producer organisations' names.
func (s *Server) correlate(ctx context.Context, value string, viewer *cyberpact.Viewer, limit int, names map[int64]string) (*correlation, error) {
	cs, ok := s.Store.(cyberpact.CorrelationStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this store does not keep correlations")
	}
	cands := match.ObservableKeys(value)
	if len(cands) == 0 {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "the value is empty")
	}
	keys := make([]string, len(cands))
	for i, c := range cands {
		keys[i] = c.Key
	}
	res, err := cs.Correlate(ctx, keys, viewer, limit)
	if err != nil {
		return nil, err
	}
	out := &correlation{Value: res.Value, Kind: res.Kind, Common: res.Common, Count: res.Count, Objects: []correlationObject{}}
	if out.Kind == "" {
		out.Value, out.Kind = cands[0].Key, cands[0].Kind.String()
	}
	if k, ok := match.ParseKind(out.Kind); ok {
		out.Warning = match.DefaultWarnings().Value(k, out.Value)
	}
	for _, o := range res.Objects {
		co := correlationObject{ID: o.ID, Type: o.Type, Modified: o.Modified, Revoked: o.Revoked, TLP: o.Release.TLP.String()}
		var n struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		}
		if json.Unmarshal(o.Raw, &n) == nil {
			co.Name = n.Name
			if co.Name == "" {
				co.Name = n.Value
			}
		}
		co.Producer = s.orgName(ctx, o.Release.Producer, names)
		out.Objects = append(out.Objects, co)
	}
	return out, nil
}

// orgName returns the name of organisation id, "" for the hub itself or
// when it cannot be read.
func (s *Server) orgName(ctx context.Context, id int64, cache map[int64]string) string {
	if id == 0 || s.Accounts == nil {
		return ""
	}
	if n, ok := cache[id]; ok {
		return n
	}
	name := ""
	if o, err := s.Accounts.OrgByID(ctx, id); err == nil {
		name = o.Name
	}
	cache[id] = name
	return name
}
