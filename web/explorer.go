package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
)

// The explorer and the object page read as the signed-in user's Viewer,
// through the same store calls as the API (FindObjects, Relationships),
// and audit what they release as the API does, with "web" as the
// interface. An object the user may not see does not exist for it: its
// page is the very page of an id that never existed.

func (h *Handler) registerExplorer() {
	h.get("GET /search", signedIn, h.search)
	h.get("GET /objects/{id}", signedIn, h.object)
	h.get("GET /search/export", signedIn, h.exportSearch)
}

// searchTypes are the types the explorer's type filter offers.
var searchTypes = []string{"attack-pattern", "campaign", "course-of-action", "grouping", "identity", "indicator",
	"infrastructure", "intrusion-set", "location", "malware", "malware-analysis", "note", "observed-data", "opinion",
	"relationship", "report", "sighting", "threat-actor", "tool", "vulnerability"}

type searchPage struct {
	Q, Type, MaxTLP, Label, Since string
	ExcludeRevoked                bool
	Types                         []string
	TLPs                          []string
	Results                       []objectRow
	Next                          string // the next page's URL, "" on the last
	Export                        string // the whole result as a STIX bundle
	Searched                      bool
	Error                         string
}

// objectRow is one object in a list.
type objectRow struct {
	ID, Type, Name, Modified string
	TLP                      cyberpact.TLP
	Revoked                  bool
}

// searchQuery reads the explorer's query and filters: the page's
// fields, the store's filter as the user, and the first thing wrong with
// them (EINVALID), nil when none.
func (h *Handler) searchQuery(r *http.Request, c *call) (searchPage, cyberpact.ObjectFilter, error) {
	q := r.URL.Query()
	pg := searchPage{Q: q.Get("q"), Type: q.Get("type"), MaxTLP: q.Get("tlp"), Label: q.Get("label"), Since: q.Get("since"),
		ExcludeRevoked: q.Get("revoked") == "exclude", Types: searchTypes, TLPs: []string{"clear", "green", "amber", "amber+strict", "red"}}
	f := cyberpact.ObjectFilter{Text: strings.TrimSpace(pg.Q), Viewer: c.viewer(), ExcludeRevoked: pg.ExcludeRevoked, Limit: 50}
	if pg.Type != "" {
		f.Types = []string{pg.Type}
	}
	if pg.Label != "" {
		f.Labels = []string{pg.Label}
	}
	var bad error
	if pg.MaxTLP != "" {
		t, err := cyberpact.ParseTLP(pg.MaxTLP)
		if err != nil {
			bad = err
		}
		f.MaxTLP = t
	}
	if pg.Since != "" {
		t, err := time.Parse("2006-01-02", pg.Since)
		if err != nil && bad == nil {
			bad = cyberpact.Errorf(cyberpact.EINVALID, "modified since %q is not a date such as 2025-01-31", pg.Since)
		}
		f.ModifiedSince = t
	}
	if v := q.Get("cursor"); v != "" && bad == nil {
		n, err := h.API.OpenCursor(c.principal(), "cursor", v)
		if err != nil {
			bad = err
		}
		f.After = n
	}
	return pg, f, bad
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request, c *call) error {
	q := r.URL.Query()
	pg, f, bad0 := h.searchQuery(r, c)
	status := http.StatusOK
	bad := func(err error) {
		pg.Error, status = cyberpact.ErrorMessage(err), http.StatusBadRequest
	}
	if bad0 != nil {
		bad(bad0)
	}
	pg.Searched = len(q) > 0 // the bare page is the form alone; any query or filter lists
	if pg.Searched && pg.Error == "" {
		page, err := h.Store.FindObjects(r.Context(), f)
		if cyberpact.ErrorCode(err) == cyberpact.EINVALID {
			bad(err)
		} else if err != nil {
			return err
		} else {
			if err := h.auditRelease(r, c, page.Objects); err != nil {
				return err
			}
			for _, o := range page.Objects {
				pg.Results = append(pg.Results, rowOf(o))
			}
			eq := url.Values{}
			for k, v := range q {
				if k != "cursor" {
					eq[k] = v
				}
			}
			pg.Export = "/search/export?" + eq.Encode()
			if page.More {
				nq := url.Values{}
				for k, v := range q {
					if k != "cursor" {
						nq[k] = v
					}
				}
				nq.Set("cursor", h.API.SealCursor(c.principal(), page.Next))
				pg.Next = "/search?" + nq.Encode()
			}
		}
	}
	h.render(w, r, status, "search", c, pg)
	return nil
}

// rowOf is o as a row of a list.
func rowOf(o *cyberpact.Object) objectRow {
	var m map[string]any
	json.Unmarshal(o.Raw, &m)
	return objectRow{ID: o.ID, Type: o.Type, Name: displayName(m, o.ID), Modified: o.Modified, TLP: o.Release.TLP, Revoked: o.Revoked}
}

// displayName is what a list calls an object: its name, or another
// property that identifies it, or its id.
func displayName(m map[string]any, id string) string {
	for _, k := range []string{"name", "value", "abstract", "relationship_type", "number", "path", "key", "user_id", "subject"} {
		if s, ok := m[k].(string); ok && s != "" {
			if k == "relationship_type" {
				return s + " relationship"
			}
			return s
		}
	}
	return id
}

// auditRelease records the release of objs to the signed-in user, as the
// API does (http/release.go), with "web" as the interface.
func (h *Handler) auditRelease(r *http.Request, c *call, objs []*cyberpact.Object) error {
	p := c.principal()
	who := cyberpact.Actor{Name: p.User.Name, Org: p.Org.ID, Via: "web"}
	e := cyberpact.ReleaseEntry(who, c.viewer(), r.URL.Path, r.URL.RawQuery, objs)
	if e == nil {
		return nil
	}
	if err := h.Store.Audit(r.Context(), e); err != nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "audit failed", Err: err}
	}
	return nil
}

type objectPage struct {
	ID, Type, Name string
	TLP            cyberpact.TLP
	Marks          string // releasability, PAP and marking-set levels, in words ("" for none)
	Audience       string // in words
	Producer       string
	// Submitter names, to the hub's admins alone, the organisation that
	// published the object anonymously; "" otherwise.
	Submitter     string
	Revoked       bool
	Props         []prop
	Versions      []versionRow
	From, To      string // the versions diffed
	FromShown     string
	ToShown       string
	Diff          []diffRow
	Relationships []relRow
	Graph         template.HTML // the relationships drawn in SVG, "" when none
	WhoElse       []holderRow   // other objects holding its values
	Producing     bool          // the user's organisation produced it
	Releases      []auditRow    // its releases, to its producer only
}

type versionRow struct {
	Modified string // the version key, as the diff's from and to name it
	Shown    string // the key as people read it
	Added    string
	Current  bool
}

// showTime writes a version key (a normalised RFC 3339 time) to the
// millisecond, as STIX timestamps usually are; one that does not parse
// as it is.
func showTime(key string) string {
	t, err := time.Parse(time.RFC3339Nano, key)
	if err != nil {
		return key
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
}

type relRow struct {
	ID, Type, Other, OtherName string
	Outgoing                   bool
}

// errNoObject is the one answer for an id that does not exist and for an
// object the user may not see: the same page, the same status.
var errNoObject = cyberpact.Errorf(cyberpact.ENOTFOUND, "There is no object with this id.")

func (h *Handler) object(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	id := r.PathValue("id")
	page, err := h.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: []string{id}, Viewer: c.viewer(), Versions: []string{"all"}, Limit: cyberpact.MaxPageLimit})
	if err != nil {
		return err
	}
	if len(page.Objects) == 0 {
		return errNoObject
	}
	vs := page.Objects
	slices.SortStableFunc(vs, func(a, b *cyberpact.Object) int { return strings.Compare(a.Modified, b.Modified) })
	cur := vs[len(vs)-1]
	var m map[string]any
	if err := json.Unmarshal(cur.Raw, &m); err != nil {
		return err
	}
	pg := objectPage{ID: cur.ID, Type: cur.Type, Name: displayName(m, cur.ID), TLP: cur.Release.TLP, Marks: cur.Release.Marks.String(), Revoked: cur.Revoked, Props: props(m)}
	if pg.Producer, pg.Audience, err = h.audienceWords(ctx, cur.Release); err != nil {
		return err
	}
	if pg.Submitter, err = h.anonymousSubmitter(ctx, c.principal(), cur); err != nil {
		return err
	}
	for _, v := range vs {
		pg.Versions = append(pg.Versions, versionRow{Modified: v.Modified, Shown: showTime(v.Modified), Added: v.Added.UTC().Format("2006-01-02 15:04:05 MST"), Current: v == cur})
	}
	if len(vs) > 1 {
		q := r.URL.Query()
		from, to := vs[len(vs)-2], cur
		if s := q.Get("from"); s != "" {
			if from = versionOf(vs, s); from == nil {
				return cyberpact.Errorf(cyberpact.EINVALID, "there is no version %q of this object to compare", s)
			}
		}
		if s := q.Get("to"); s != "" {
			if to = versionOf(vs, s); to == nil {
				return cyberpact.Errorf(cyberpact.EINVALID, "there is no version %q of this object to compare", s)
			}
		}
		pg.From, pg.To = from.Modified, to.Modified
		pg.FromShown, pg.ToShown = showTime(from.Modified), showTime(to.Modified)
		if pg.Diff, err = diff(from.Raw, to.Raw); err != nil {
			return err
		}
	}
	rels, err := h.Store.Relationships(ctx, id, cyberpact.Both, cyberpact.ObjectFilter{Viewer: c.viewer(), Limit: 200})
	if err != nil {
		return err
	}
	var others []string
	for _, o := range rels.Objects {
		rel := relOf(o, id)
		pg.Relationships = append(pg.Relationships, rel)
		if rel.Other != "" && !slices.Contains(others, rel.Other) {
			others = append(others, rel.Other)
		}
	}
	// The neighbours' names, for the list and the graph: read as the
	// user, so only what it may see (the store left out relationships to
	// the rest), and released like the rest of the page.
	var neighbours []*cyberpact.Object
	if len(others) > 0 {
		np, err := h.Store.FindObjects(ctx, cyberpact.ObjectFilter{IDs: others, Viewer: c.viewer(), Limit: len(others)})
		if err != nil {
			return err
		}
		neighbours = np.Objects
		names := map[string]string{}
		for _, o := range neighbours {
			names[o.ID] = rowOf(o).Name
		}
		for i := range pg.Relationships {
			pg.Relationships[i].OtherName = names[pg.Relationships[i].Other]
		}
		pg.Graph = graphSVG(pg.Name, pg.Relationships)
	}
	others2, correlated, err := h.whoElse(ctx, c, cur)
	if err != nil {
		return err
	}
	pg.WhoElse = others2
	if pg.Releases, err = h.releaseTrail(r, c, cur); err != nil {
		return err
	}
	pg.Producing = pg.Releases != nil
	if err := h.auditRelease(r, c, append(append(append(slices.Clone(vs), rels.Objects...), neighbours...), correlated...)); err != nil {
		return err
	}
	h.render(w, r, http.StatusOK, "object", c, pg)
	return nil
}

// versionOf returns the version of vs whose key is modified, written
// as the key or as any RFC 3339 time of the same instant.
func versionOf(vs []*cyberpact.Object, modified string) *cyberpact.Object {
	want, err := time.Parse(time.RFC3339Nano, modified)
	for _, v := range vs {
		if v.Modified == modified {
			return v
		}
		if got, gerr := time.Parse(time.RFC3339Nano, v.Modified); err == nil && gerr == nil && got.Equal(want) {
			return v
		}
	}
	return nil
}

// relOf is relationship or sighting o as seen from the object id.
func relOf(o *cyberpact.Object, id string) relRow {
	var m map[string]any
	json.Unmarshal(o.Raw, &m)
	row := relRow{ID: o.ID, Type: o.Type}
	if o.Type == "relationship" {
		row.Type, _ = m["relationship_type"].(string)
		src, _ := m["source_ref"].(string)
		tgt, _ := m["target_ref"].(string)
		row.Outgoing = src == id
		row.Other = tgt
		if !row.Outgoing {
			row.Other = src
		}
		return row
	}
	row.Type = "sighting"
	if s, _ := m["sighting_of_ref"].(string); s != id {
		row.Other = s
	}
	return row
}

// audienceWords says who produced a version and who it is shared with.
func (h *Handler) audienceWords(ctx context.Context, rel cyberpact.Release) (producer, audience string, err error) {
	producer = "the hub"
	if rel.Producer != 0 {
		o, err := h.Store.OrgByID(ctx, rel.Producer)
		if err != nil {
			return "", "", err
		}
		producer = o.Name
	}
	switch rel.Audience.Kind {
	case cyberpact.AudienceOrg:
		audience = "only " + producer
	case cyberpact.AudienceAll:
		audience = "every member organisation"
	case cyberpact.AudienceGroup:
		gs, err := h.Store.Groups(ctx)
		if err != nil {
			return "", "", err
		}
		audience = fmt.Sprintf("sharing group %d", rel.Audience.Group)
		for _, g := range gs {
			if g.ID == rel.Audience.Group {
				audience = "the members of the sharing group " + g.Name
			}
		}
	default:
		audience = "the participants of an exercise"
	}
	return producer, audience, nil
}

// dashboard is the signed-in user's start page.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, c *call) error {
	ctx := r.Context()
	p := c.principal()
	type dash struct {
		Org       string
		Groups    []string
		Role      string
		Exercises []exerciseRow // running or paused
	}
	d := dash{Org: p.Org.Name, Role: string(p.User.Role)}
	if h.Exercises != nil {
		xs, parts, err := h.Exercises.VisibleExercises(ctx, p)
		if err != nil {
			return err
		}
		for i, x := range xs {
			if x.State == "running" || x.State == "paused" {
				d.Exercises = append(d.Exercises, exerciseRow{ID: x.ID, Name: x.Name, State: x.State, You: parts[i]})
			}
		}
	}
	if len(p.Groups) > 0 {
		gs, err := h.Store.Groups(ctx)
		if err != nil {
			return err
		}
		for _, g := range gs {
			if slices.Contains(p.Groups, g.ID) {
				d.Groups = append(d.Groups, g.Name)
			}
		}
	}
	h.render(w, r, http.StatusOK, "dashboard", c, d)
	return nil
}

// anonymousSubmitter returns, for a hub admin reading an object the hub
// stands as producer of, the name of the organisation that published it
// anonymously; "" for anyone else, and for objects no one published
// anonymously.
func (h *Handler) anonymousSubmitter(ctx context.Context, p *cyberpact.Principal, o *cyberpact.Object) (string, error) {
	anon, ok := h.Store.(cyberpact.AnonymityStore)
	if !ok || p.User.Role != cyberpact.RoleAdmin || o.Release.Producer != 0 {
		return "", nil
	}
	org, err := anon.AnonymousSubmitter(ctx, o.Holding)
	if err != nil || org == 0 {
		return "", err
	}
	x, err := h.Store.OrgByID(ctx, org)
	if err != nil {
		return fmt.Sprintf("organisation %d", org), nil
	}
	return x.Name, nil
}
