package http

import (
	"bufio"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// taxiiPageLimit is the page a TAXII client gets when it asks for no
// limit (the specification leaves the size to the server): a thousand
// versions, so that a client paging through a collection makes a tenth of
// the requests it would with the API's default, and the audit log records
// a tenth of the releases (see release.go).
const taxiiPageLimit = 1000

// taxiiFilter reads TAXII's URL filters (section 3.5) into f: match[id],
// match[type], match[version] (first, last, all or timestamps),
// match[spec_version] (each comma separated and repeatable), added_after
// (strictly after), limit (taxiiPageLimit when not given) and next (the
// cursor this server handed p's organisation, cursor.go). Filters on
// other fields (match[FIELD]) are ignored, as the specification asks; any
// other parameter (a typo) and known ones with bad values are EINVALID.
func (s *Server) taxiiFilter(r *http.Request, p *cyberpact.Principal, f *cyberpact.ObjectFilter) error {
	if err := checkQuery(r, true, taxiiParams...); err != nil {
		return err
	}
	q := r.URL.Query()
	list := func(name string) []string { return queryList(q, name) }
	f.IDs = list("match[id]")
	f.Types = list("match[type]")
	f.SpecVersions = list("match[spec_version]")
	f.Versions = list("match[version]")
	for _, v := range f.Versions {
		switch v {
		case "first", "last", "all":
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "match[version]=%q is not first, last, all or a timestamp such as 2016-01-01T01:01:01.000Z", v)
		}
	}
	if v := q.Get("added_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return cyberpact.Errorf(cyberpact.EINVALID, "added_after=%q is not a timestamp such as 2016-01-01T01:01:01.000Z", v)
		}
		f.AddedAfter = t
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return cyberpact.Errorf(cyberpact.EINVALID, "limit=%q is not a positive whole number", v)
		}
		f.Limit = n
	} else {
		f.Limit = taxiiPageLimit
	}
	if v := q.Get("next"); v != "" {
		n, err := s.cursorOf(p, "next", v)
		if err != nil {
			return err
		}
		f.After = n
	}
	return nil
}

// setDateAdded sets the X-TAXII-Date-Added-First and -Last headers from a
// page's first and last version.
func setDateAdded(w http.ResponseWriter, objs []*cyberpact.Object) {
	if len(objs) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", taxiiTime(objs[0].Added))
	w.Header().Set("X-TAXII-Date-Added-Last", taxiiTime(objs[len(objs)-1].Added))
}

// writeEnvelope writes a TAXII envelope of a page for p without
// re-encoding the stored objects: their JSON goes out as it was stored.
// more and next come first, so that a streaming client can ask for the
// next page before it has read this one's objects. The envelope's length
// is known before it is written and sent as Content-Length: the response
// is not chunked, and a client's connection is free for its next request
// as soon as it has read the envelope's last byte, whether or not it then
// reads on to the end of the body.
func (s *Server) writeEnvelope(w http.ResponseWriter, p *cyberpact.Principal, page *cyberpact.ObjectPage) error {
	setDateAdded(w, page.Objects)
	head := `{"more":` + strconv.FormatBool(page.More)
	if page.More {
		head += `,"next":"` + s.cursors().seal(p, page.Next) + `"`
	}
	n := len(head) + len("}\n")
	if len(page.Objects) > 0 {
		n += len(`,"objects":[]`) + len(page.Objects) - 1
		for _, o := range page.Objects {
			n += len(o.Raw)
		}
	}
	w.Header().Set("Content-Type", taxiiMedia)
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusOK)
	bw := envelopeWriters.Get().(*bufio.Writer)
	defer envelopeWriters.Put(bw)
	bw.Reset(w)
	bw.WriteString(head)
	if len(page.Objects) > 0 {
		bw.WriteString(`,"objects":[`)
		for i, o := range page.Objects {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.Write(o.Raw)
		}
		bw.WriteByte(']')
	}
	bw.WriteString("}\n")
	err := bw.Flush()
	bw.Reset(nil) // hold no response while pooled
	return err
}

// envelopeWriters are the buffers envelopes are written through, kept
// between pages: a page of a thousand versions is written in 64 KiB
// writes rather than one per version.
var envelopeWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 64<<10) }}

// taxiiGetObjects serves a collection's objects (section 5.3).
func (s *Server) taxiiGetObjects(w http.ResponseWriter, r *http.Request) error {
	p, c, err := s.readableCollection(r)
	if err != nil {
		return err
	}
	f := c.filter()
	if err := s.taxiiFilter(r, p, &f); err != nil {
		return err
	}
	ahead := s.readAhead()
	page := ahead.take(r.Context(), p, c.ID, f)
	if page == nil {
		if page, err = s.Store.FindEnvelope(r.Context(), f); err != nil {
			return err
		}
	}
	if page.More {
		// The next page is read while this one is audited and sent
		// (readahead.go); it is released, and audited, only when asked
		// for.
		next := f
		next.After = page.Next
		ahead.start(p, c.ID, next)
	}
	if err := s.auditRelease(r, p, "taxii", f.Viewer, page.Objects); err != nil {
		return err
	}
	return s.writeEnvelope(w, p, page)
}

// taxiiGetObject serves one object's versions in a collection (section
// 5.5): by default its latest, match[version] for others. An object the
// caller may not see there is 404.
func (s *Server) taxiiGetObject(w http.ResponseWriter, r *http.Request) error {
	p, c, err := s.readableCollection(r)
	if err != nil {
		return err
	}
	f := c.filter()
	if err := s.taxiiFilter(r, p, &f); err != nil {
		return err
	}
	id := r.PathValue("object")
	f.IDs, f.Types = []string{id}, nil
	page, err := s.Store.FindObjects(r.Context(), f)
	if err != nil {
		return err
	}
	if len(page.Objects) == 0 && f.After == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s in collection %s", id, c.ID)
	}
	if err := s.auditRelease(r, p, "taxii", f.Viewer, page.Objects); err != nil {
		return err
	}
	return s.writeEnvelope(w, p, page)
}

// versionOf is the TAXII version of a stored version: its version key
// (modified, else created), else when it was added.
func versionOf(o *cyberpact.Object) string {
	if o.Modified != "" {
		return versionString(o.Modified)
	}
	return taxiiTime(o.Added)
}

// taxiiVersions lists the versions of one object in a collection (section
// 5.7), oldest first within a page.
func (s *Server) taxiiVersions(w http.ResponseWriter, r *http.Request) error {
	p, c, err := s.readableCollection(r)
	if err != nil {
		return err
	}
	f := c.filter()
	if err := s.taxiiFilter(r, p, &f); err != nil {
		return err
	}
	id := r.PathValue("object")
	f.IDs, f.Types, f.Versions = []string{id}, nil, []string{"all"}
	page, err := s.Store.FindObjects(r.Context(), f)
	if err != nil {
		return err
	}
	if len(page.Objects) == 0 && f.After == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s in collection %s", id, c.ID)
	}
	versions := make([]string, len(page.Objects))
	for i, o := range page.Objects {
		versions[i] = versionOf(o)
	}
	sort.Strings(versions)
	out := struct {
		More     bool     `json:"more"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}{More: page.More, Versions: versions}
	if page.More {
		out.Next = s.cursors().seal(p, page.Next)
	}
	setDateAdded(w, page.Objects)
	return writeTAXII(w, http.StatusOK, out)
}

// taxiiPostObjects adds an envelope's objects to a collection (section
// 5.4), as the caller's organisation, shared with the collection's
// audience. The import runs before the answer, keeping the acceptable
// objects; the answer is 202 with a status that is already complete and
// lists each stored version and each refused object with its reason. A
// body that is not an envelope stores nothing (400). A sighting is released
// like what it sights, whatever the collection's audience, and refused
// when that is not an object the caller may see
// (cyberpact.SightingReleases); inside an exercise collection the
// exercise's audiences stay.
func (s *Server) taxiiPostObjects(w http.ResponseWriter, r *http.Request) error {
	p, err := s.caller(r, false)
	if err != nil {
		return err
	}
	c, err := s.collectionOf(r, p)
	if err != nil {
		return err
	}
	if !c.CanWrite {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "you may not add objects to collection %s", c.ID)
	}
	if err := contentTypeTAXII(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if s.Statuses == nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "no status store", Err: fmt.Errorf("the server has no status store configured")}
	}
	st := &cyberpact.Status{ID: uuid.NewString(), Org: p.Org.ID, Status: "complete", RequestTimestamp: time.Now().UTC()}
	dec := stix.NewDecoderOf(stix.NewEnvelopeReader(r.Body))
	defer dec.Close()
	var seen []seenVersion
	opts := cyberpact.ImportOptions{Partial: true, Producer: p.Org.ID, Audience: *c.audience,
		ReleaseFor: cyberpact.SightingReleases(r.Context(), s.Store, p.Viewer())}
	about := fmt.Sprintf("collection %s", c.ID)
	var retractions []string
	res, err := cyberpact.AuditedImport(r.Context(), s.Store, s.Audit, actor(p, "taxii"), cyberpact.Retracting(recordingSource(dec.Next, &seen), &retractions), opts, about)
	if err != nil {
		return err
	}
	if res.Committed {
		if err := s.applyRetractions(r.Context(), p, "taxii", retractions, res); err != nil {
			return err
		}
	}
	s.metrics.imported.WithLabelValues("added").Add(float64(res.Added))
	s.metrics.imported.WithLabelValues("present").Add(float64(res.Present))
	s.metrics.imported.WithLabelValues("rejected").Add(float64(len(res.Rejected)))

	// Failures: one per refused object, its reasons joined.
	byIndex := map[int]int{}
	for _, rj := range res.Rejected {
		msg := rj.Reason
		if rj.Path != "" {
			msg = rj.Path + ": " + msg
		}
		if i, ok := byIndex[rj.Index]; ok {
			st.Failures[i].Message += "; " + msg
			continue
		}
		byIndex[rj.Index] = len(st.Failures)
		if rj.ID == "" {
			msg = "object #" + strconv.Itoa(rj.Index) + ": " + msg
		}
		st.Failures = append(st.Failures, cyberpact.StatusDetail{ID: rj.ID, Version: versionString(rj.Modified), Message: msg})
	}
	ok := successes(seen, res.Rejected)
	for _, ref := range ok {
		id, ver, _ := strings.Cut(ref, "@")
		st.Successes = append(st.Successes, cyberpact.StatusDetail{ID: id, Version: ver})
	}
	st.Success, st.Failure = len(st.Successes), len(st.Failures)
	st.Total = st.Success + st.Failure
	if c.exercise != 0 {
		// Reports inside an exercise count for it (exercise.go).
		// Once it is over they are kept but no longer scored.
		if _, err := s.exerciseReported(r.Context(), c.exercise, p, *c.audience, ok); err != nil && cyberpact.ErrorCode(err) != cyberpact.ECONFLICT {
			return err
		}
	}
	if err := s.Statuses.CreateStatus(r.Context(), st); err != nil {
		// The objects are stored: the answer says so, though the status
		// cannot be fetched again later (a full disk, say).
		s.Logger.Error("keeping a TAXII status failed; answered with it", "status", st.ID, "err", err)
	}
	return writeTAXII(w, http.StatusAccepted, st)
}

// taxiiDeleteObject deletes the versions of an object that match[version]
// selects (all by default) from a collection (section 5.6). Only the
// producer's organisation, or a hub admin, may; an object the caller may
// not see is 404 as everywhere else.
func (s *Server) taxiiDeleteObject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.caller(r, false)
	if err != nil {
		return err
	}
	c, err := s.collectionOf(r, p)
	if err != nil {
		return err
	}
	id := r.PathValue("object")
	f := c.filter()
	if err := s.taxiiFilter(r, p, &f); err != nil {
		return err
	}
	sel := cyberpact.ObjectFilter{Viewer: f.Viewer, Audience: f.Audience, Versions: f.Versions}
	if len(sel.Versions) == 0 {
		sel.Versions = []string{"all"}
	}
	// Check every selected version before deleting any.
	var refs []string
	var deleted []*cyberpact.Object
	check := sel
	check.IDs = []string{id}
	err = s.Store.EachObject(r.Context(), check, func(o *cyberpact.Object) error {
		if ok, err := s.mayManage(r.Context(), p, o); err != nil {
			return err
		} else if !ok {
			return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only the organisation that produced %s may delete it", id)
		}
		deleted = append(deleted, o)
		if !p.User.Role.CanWrite() {
			return cyberpact.Errorf(cyberpact.EFORBIDDEN, "role %s may not delete objects", p.User.Role)
		}
		refs = append(refs, versionRef(o))
		return nil
	})
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "no object %s in collection %s", id, c.ID)
	}
	n, err := s.Store.DeleteObject(r.Context(), id, sel)
	if err != nil {
		return err
	}
	// Matching stops on what was deleted before the DELETE answers.
	s.matches.forget(r.Context(), id)
	if err := cyberpact.AuditDeletion(r.Context(), s.Audit, actor(p, "taxii"), refs,
		fmt.Sprintf("%d versions deleted from collection %s", n, c.ID)); err != nil {
		return err
	}
	// The delete travels to the peers that received the object.
	if err := s.storeRetractions(r.Context(), p, id, deleted); err != nil {
		return err
	}
	w.Header().Set("Content-Type", taxiiMedia)
	w.WriteHeader(http.StatusOK)
	return nil
}
