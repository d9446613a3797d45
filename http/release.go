package http

import (
	"context"
	"fmt"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Releases are audited per request: one AuditRelease entry naming every
// object version delivered whose producer is not the recipient, written
// before the response body, so that a failed audit releases nothing (the
// request fails with 500). Content is what counts as a release: object
// lists, objects by id and their versions (REST), the TAXII objects and
// object endpoints. The TAXII manifest and versions endpoints return only
// ids and timestamps of versions the caller may see, and are not audited;
// the content itself is, when it is fetched. Reads of the public
// collection are recorded too, with "anonymous" as actor and no recipient
// organisation when no key was sent.

// auditRelease records the release of objs to the caller p (nil for an
// anonymous reader of the public collection) through via.
func (s *Server) auditRelease(ctx context.Context, p *cyberpact.Principal, via string, objs []*cyberpact.Object) error {
	e := &cyberpact.AuditEntry{Action: cyberpact.AuditRelease, Via: via, Actor: "anonymous"}
	if p != nil {
		e.Actor, e.ActorOrg, e.Recipient = p.User.Name, p.Org.ID, p.Org.ID
	}
	for _, o := range objs {
		if p == nil || o.Release.Producer != p.Org.ID {
			e.Objects = append(e.Objects, versionRef(o))
		}
	}
	if len(e.Objects) == 0 {
		return nil
	}
	if p == nil {
		e.Detail = "public collection"
	}
	return s.audit(ctx, e)
}

// auditWrite records a write (or a delete, with action AuditDelete) by p.
func (s *Server) auditWrite(ctx context.Context, p *cyberpact.Principal, action, via string, objects []string, detail string) error {
	return s.audit(ctx, &cyberpact.AuditEntry{Action: action, Actor: p.User.Name, ActorOrg: p.Org.ID, Via: via, Objects: objects, Detail: detail})
}

func (s *Server) audit(ctx context.Context, e *cyberpact.AuditEntry) error {
	if s.Audit == nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "no audit log", Err: fmt.Errorf("the server has no audit log configured: refusing to release or write unrecorded")}
	}
	if err := s.Audit.Audit(ctx, e); err != nil {
		return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "audit failed", Err: err}
	}
	return nil
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
