package http

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Releases are audited per request: one AuditRelease entry recording what
// the read was (recipient and its groups, interface, path, query) and
// which versions it delivered by their Seqs (cyberpact.ReleaseEntry), as
// long for a page of a thousand versions as for one, written before the
// response body, so that a failed audit releases nothing (the request
// fails with 500). A page of versions all produced by the recipient's own
// organisation is no release and is not recorded. Content is what counts
// as a release: object lists, objects by id and their versions (REST), the
// TAXII objects and object endpoints, each segment of the live stream. The
// TAXII manifest and versions endpoints return only ids and timestamps of
// versions the caller may see, and are not audited; the content itself is,
// when it is fetched. Reads of the public collection are recorded too,
// with "anonymous" as actor and no recipient organisation when no key was
// sent.
//
// Writes go through cyberpact.AuditedImport and deletions through
// cyberpact.AuditDeletion, the one place every front end's writes are
// recorded.

// auditRelease records the release of objs, read with viewer v, to the
// caller p (nil for an anonymous reader of the public collection) of r
// through via.
func (s *Server) auditRelease(r *http.Request, p *cyberpact.Principal, via string, v *cyberpact.Viewer, objs []*cyberpact.Object) error {
	who := cyberpact.Actor{Name: "anonymous", Via: via}
	if p != nil {
		who.Name, who.Org = p.User.Name, p.Org.ID
	}
	e := cyberpact.ReleaseEntry(who, v, r.URL.Path, releaseQuery(r.URL), objs)
	if e == nil {
		return nil
	}
	if s.Audit == nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "no audit log", Err: fmt.Errorf("the server has no audit log configured: refusing to release unrecorded")}
	}
	if err := s.Audit.Audit(r.Context(), e); err != nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "audit failed", Err: err}
	}
	return nil
}

// releaseQuery is the query of a read as its release entry records it:
// as sent, but for the cursor (TAXII's next, the API's cursor), whose
// position the entry's Seqs already say, so that every page of one
// reading is recorded with the query its first page had.
func releaseQuery(u *url.URL) string {
	q := u.Query()
	if !q.Has("next") && !q.Has("cursor") {
		return u.RawQuery
	}
	q.Del("next")
	q.Del("cursor")
	return q.Encode()
}

// actor is the caller p of a write through via, for the audit log.
func actor(p *cyberpact.Principal, via string) cyberpact.Actor {
	return cyberpact.Actor{Name: p.User.Name, Org: p.Org.ID, Via: via}
}

// versionRef names a version in the audit log: "id@version", the version
// as the object's version key in TAXII form ("" when it has none, as for
// cyber observables).
func versionRef(o *cyberpact.Object) string {
	return o.ID + "@" + versionString(o.Modified)
}

// versionString turns a stored version key (stix.NormTime form) into the
// TAXII form: RFC 3339 in UTC with Z, milliseconds unless the key needs
// more precision. Keys that do not parse are returned as they are.
func versionString(key string) string {
	if key == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, key)
	if err != nil {
		return key
	}
	return taxiiTime(t)
}

// taxiiTime formats t as a TAXII timestamp.
func taxiiTime(t time.Time) string {
	t = t.UTC()
	switch {
	case t.Nanosecond()%1e6 == 0:
		return t.Format("2006-01-02T15:04:05.000Z")
	case t.Nanosecond()%1e3 == 0:
		return t.Format("2006-01-02T15:04:05.000000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}
