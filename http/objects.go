package http

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// registerObjects adds the REST API's object routes. Each needs an API key
// and reads as the caller's Viewer: an object the caller may not see does
// not exist for it (404, never counted).
func (s *Server) registerObjects() {
	s.handle("GET /api/v1/objects", s.authed(s.listObjects))
	s.handle("GET /api/v1/objects/{id}", s.authed(s.getObject))
	s.handle("GET /api/v1/objects/{id}/versions", s.authed(s.objectVersions))
	s.handle("GET /api/v1/objects/{id}/relationships", s.authed(s.objectRelationships))
	s.handle("POST /api/v1/bundles", s.authed(s.postBundle))
	s.handle("GET /api/v1/stats", s.authed(s.stats))
	// Everything else under /api/v1/ answers as the API's other errors
	// do, in JSON: 405 for a route asked with the wrong method, 404
	// otherwise.
	s.handle("/api/v1/", s.noRoute("/api/v1/", "API route"))
}

// viewerOf returns the sharing-rule viewer of r's authenticated caller.
func viewerOf(r *http.Request) *cyberpact.Viewer {
	v := principalOf(r).Viewer()
	return &v
}

// objectList is the JSON of a page of objects: the STIX objects as stored,
// and the cursor of the next page.
type objectList struct {
	Objects []json.RawMessage `json:"objects"`
	More    bool              `json:"more"`
	Next    string            `json:"next,omitempty"`
}

// pageJSON is the JSON of a page for the caller of r, its next cursor
// sealed for the caller's organisation.
func (s *Server) pageJSON(r *http.Request, p *cyberpact.ObjectPage) objectList {
	out := objectList{Objects: make([]json.RawMessage, len(p.Objects)), More: p.More}
	for i, o := range p.Objects {
		out.Objects[i] = o.Raw
	}
	if p.More {
		out.Next = s.cursors().seal(principalOf(r), p.Next)
	}
	return out
}

// filterFromQuery reads the list filters of the REST API:
// type, label, spec_version (each repeatable or comma separated), q (full
// text), modified_since, modified_until, added_after (RFC 3339),
// all_versions, exclude_revoked, limit and cursor (the next of a page
// handed to the caller's organisation), and the route's own extra
// parameters; any other parameter is EINVALID (checkQuery).
func (s *Server) filterFromQuery(r *http.Request, extra ...string) (cyberpact.ObjectFilter, error) {
	q := r.URL.Query()
	var f cyberpact.ObjectFilter
	if err := checkQuery(r, false, append(slices.Clone(listParams), extra...)...); err != nil {
		return f, err
	}
	list := func(name string) []string { return queryList(q, name) }
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
		n, err := s.cursorOf(principalOf(r), "query parameter cursor", v)
		if err != nil {
			return f, err
		}
		f.After = n
	}
	return f, nil
}

func (s *Server) listObjects(w http.ResponseWriter, r *http.Request) error {
	f, err := s.filterFromQuery(r)
	if err != nil {
		return err
	}
	f.Viewer = viewerOf(r)
	page, err := s.Store.FindObjects(r.Context(), f)
	if err != nil {
		return err
	}
	if err := s.auditRelease(r, principalOf(r), "rest", f.Viewer, page.Objects); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.pageJSON(r, page))
}

// visibleVersions returns the versions of id that the caller of r may see
// (versions: "last" or "all"), through FindObjects so that the whole
// rule applies, a relationship to an object the caller may not see
// included; ENOTFOUND when there are none.
func (s *Server) visibleVersions(r *http.Request, id, versions string) ([]*cyberpact.Object, error) {
	page, err := s.Store.FindObjects(r.Context(), cyberpact.ObjectFilter{IDs: []string{id}, Viewer: viewerOf(r), Versions: []string{versions}, Limit: 10000})
	if err != nil {
		return nil, err
	}
	if len(page.Objects) == 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s", id)
	}
	objs := page.Objects
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].Modified < objs[j].Modified })
	return objs, nil
}

func (s *Server) getObject(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	objs, err := s.visibleVersions(r, r.PathValue("id"), "last")
	if err != nil {
		return err
	}
	o := objs[len(objs)-1]
	if err := s.auditRelease(r, principalOf(r), "rest", viewerOf(r), objs); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(o.Raw)
	return err
}

func (s *Server) objectVersions(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	objs, err := s.visibleVersions(r, r.PathValue("id"), "all")
	if err != nil {
		return err
	}
	if err := s.auditRelease(r, principalOf(r), "rest", viewerOf(r), objs); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.pageJSON(r, &cyberpact.ObjectPage{Objects: objs}))
}

func (s *Server) objectRelationships(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	f, err := s.filterFromQuery(r, "direction")
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
	// The object itself must exist, for the caller, for its relationships
	// to be asked for; the store leaves out edges to objects it may not see.
	f.Viewer = viewerOf(r)
	if _, err := s.visibleVersions(r, id, "last"); err != nil {
		return err
	}
	page, err := s.Store.Relationships(r.Context(), id, dir, f)
	if err != nil {
		return err
	}
	if err := s.auditRelease(r, principalOf(r), "rest", f.Viewer, page.Objects); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.pageJSON(r, page))
}

// importResponse is the JSON answer to a POSTed bundle.
type importResponse struct {
	*cyberpact.ImportResult
	Upgraded int `json:"upgraded_from_stix20,omitempty"`
}

// postBundle imports a STIX bundle as the caller's organisation: 200 with
// the counts when it went in, 422 with every rejection (and nothing
// stored) when any object was refused, 400 when the body is not a readable
// bundle, 413 when too large, 403 for a reader. With ?partial=true the
// acceptable objects are stored anyway; ?audience=org|all|group:NAME says
// who they are shared with (default all members) and ?tlp= the level of
// objects without a TLP marking (default amber; when given, written into
// them as their TLP 2.0 marking); ?on_conflict=reject|
// keep-stored|replace settles a version the caller's organisation already
// holds with the same modified and other content (default reject; see
// cyberpact.ConflictPolicy), in its own holding only. A sighting is released
// like what it sights instead, and refused when that is not an object the
// caller may see (cyberpact.SightingReleases). With ?anonymous=true the
// objects are published anonymously (cyberpact.AnonymousImport: the hub
// stands as producer, created_by_ref names the hub's identity); with
// ?share=counts the bundle's sightings are shared only as k-anonymous
// counts (cyberpact.CountedImport).
func (s *Server) postBundle(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if !p.User.Role.CanWrite() {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "role %s may read but not add objects", p.User.Role)
	}
	if err := checkQuery(r, false, "audience", "tlp", "partial", "on_conflict", "anonymous", "share"); err != nil {
		return err
	}
	anonymous := false
	if v := r.URL.Query().Get("anonymous"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "query parameter anonymous=%q is not true or false", v)
		}
		anonymous = b
	}
	share := r.URL.Query().Get("share")
	switch {
	case share != "" && share != "counts":
		return cyberpact.Errorf(cyberpact.EINVALID, "query parameter share=%q: the only value is counts (sightings shared as k-anonymous counts)", share)
	case share != "" && anonymous:
		return cyberpact.Errorf(cyberpact.EINVALID, "query parameters anonymous and share=counts do not go together: counted sightings are seen by no one already")
	}
	opts := cyberpact.ImportOptions{Producer: p.Org.ID}
	aud, err := s.parseAudience(r.Context(), p, r.URL.Query().Get("audience"))
	if err != nil {
		return err
	}
	opts.Audience = aud
	mark := cyberpact.TLPUnknown
	if v := r.URL.Query().Get("tlp"); v != "" {
		t, err := cyberpact.ParseTLP(v)
		if err != nil {
			return err
		}
		opts.DefaultTLP, mark = t, t
	}
	if v := r.URL.Query().Get("partial"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "query parameter partial=%q is not true or false", v)
		}
		opts.Partial = b
	}
	if opts.OnConflict, err = cyberpact.ParseConflictPolicy(r.URL.Query().Get("on_conflict")); err != nil {
		return cyberpact.Errorf(cyberpact.EINVALID, "query parameter on_conflict: %s", cyberpact.ErrorMessage(err))
	}
	body, err := s.bundleBody(r, p, &opts)
	if err != nil {
		return err
	}
	opts.ReleaseFor = cyberpact.SightingReleases(r.Context(), s.Store, *viewerOf(r))
	dec := stix.NewDecoder(body)
	defer dec.Close()
	next := dec.Next
	if mark != cyberpact.TLPUnknown {
		// The level asked for travels with the objects (see stix.MarkUnmarked).
		next = stix.MarkUnmarked(next, mark)
	}
	var retractions []string
	var res *cyberpact.ImportResult
	switch {
	case anonymous:
		anon, err := s.anonymity()
		if err != nil {
			return err
		}
		hub, err := anon.HubIdentity(r.Context())
		if err != nil {
			return err
		}
		res, err = cyberpact.AnonymousImport(r.Context(), s.Store, s.Audit, actor(p, "rest"), stix.Anonymise(next, hub), opts, "")
		if err != nil {
			return err
		}
	case share == "counts":
		counts, ok := s.Store.(cyberpact.SightingCountStore)
		if !ok {
			return cyberpact.Errorf(cyberpact.EINVALID, "this hub's store keeps no sighting counts")
		}
		res, err = cyberpact.CountedImport(r.Context(), s.Store, counts, s.Audit, actor(p, "rest"), *viewerOf(r), next, opts, "")
		if err != nil {
			return err
		}
	default:
		res, err = cyberpact.AuditedImport(r.Context(), s.Store, s.Audit, actor(p, "rest"), cyberpact.Retracting(next, &retractions), opts, "")
		if err != nil {
			return err
		}
		if res.Committed {
			if err := s.applyRetractions(r.Context(), p, "rest", retractions, res); err != nil {
				return err
			}
		}
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
	if err := checkQuery(r, false); err != nil {
		return err
	}
	stats, err := s.Store.Stats(r.Context(), viewerOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"types": stats})
}

// parseAudience reads an audience parameter: "all" (also the default),
// "org" (the caller's organisation alone) or "group:NAME" (or group:ID) of
// a group the caller's organisation belongs to. A group it is not in is
// refused exactly like one that does not exist.
func (s *Server) parseAudience(ctx context.Context, p *cyberpact.Principal, v string) (cyberpact.Audience, error) {
	switch {
	case v == "" || v == "all":
		return cyberpact.Audience{Kind: cyberpact.AudienceAll}, nil
	case v == "org":
		return cyberpact.Audience{Kind: cyberpact.AudienceOrg}, nil
	case strings.HasPrefix(v, "group:"):
		name := strings.TrimPrefix(v, "group:")
		if id, err := strconv.ParseInt(name, 10, 64); err == nil && slicesContains(p.Groups, id) {
			return cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: id}, nil
		}
		if s.Accounts != nil {
			g, err := s.Accounts.GroupByName(ctx, name)
			if err == nil && slicesContains(p.Groups, g.ID) {
				return cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, nil
			}
			if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
				return cyberpact.Audience{}, err
			}
		}
		return cyberpact.Audience{}, cyberpact.Errorf(cyberpact.EINVALID, "audience %q: your organisation is in no sharing group of that name", v)
	}
	return cyberpact.Audience{}, cyberpact.Errorf(cyberpact.EINVALID, "audience %q is not org, all or group:NAME", v)
}

func slicesContains(xs []int64, x int64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// seenVersion is one object the decoder handed to the store: its position
// in the input and its "id@version".
type seenVersion struct {
	index int
	ref   string
}

// recordingSource passes next's objects on and notes each one, for the
// TAXII status of what was stored and an exercise's report (the audit
// names what an import added by its Seqs instead).
func recordingSource(next cyberpact.ObjectSource, seen *[]seenVersion) cyberpact.ObjectSource {
	return func() (*cyberpact.Object, error) {
		o, err := next()
		if o != nil {
			*seen = append(*seen, seenVersion{o.Index, versionRef(o)})
		}
		return o, err
	}
}

// successes returns the recorded versions the store did not reject.
func successes(seen []seenVersion, rejected []*cyberpact.Rejection) []string {
	refused := make(map[int]bool, len(rejected))
	for _, r := range rejected {
		refused[r.Index] = true
	}
	out := make([]string, 0, len(seen))
	for _, s := range seen {
		if !refused[s.index] {
			out = append(out, s.ref)
		}
	}
	return out
}

// queryList reads a list query parameter: every value of name, each split
// at commas, blanks dropped.
func queryList(q url.Values, name string) []string {
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
