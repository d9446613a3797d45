package http

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// Anonymous publication, k-anonymous sighting counts and retractions
// (issue 20): POST /api/v1/bundles takes ?anonymous=true (the hub stands
// as producer) and ?share=counts (sightings shared only as counts); GET
// /api/v1/objects/{id}/sighting-counts reads the counts; a TAXII DELETE
// stores a retraction that federation carries to peers, and a TAXII POST
// (a peer pushing) applies the retractions it brings.

func (s *Server) registerLifecycle() {
	s.handle("GET /api/v1/objects/{id}/sighting-counts", s.authed(s.sightingCounts))
}

// kAnonymity is the k of counted sightings.
func (s *Server) kAnonymity() int {
	if s.KAnonymity > 0 {
		return s.KAnonymity
	}
	return cyberpact.DefaultKAnonymity
}

// sightingCounts answers the k-anonymous counts of the sightings of an
// object the caller may see (404 otherwise): per sector of the reporting
// organisations, each shown from k organisations on, never naming one.
func (s *Server) sightingCounts(w http.ResponseWriter, r *http.Request) error {
	if err := checkQuery(r, false); err != nil {
		return err
	}
	counts, ok := s.Store.(cyberpact.SightingCountStore)
	if !ok {
		return cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub keeps no sighting counts")
	}
	c, err := cyberpact.CountsFor(r.Context(), s.Store, counts, *viewerOf(r), r.PathValue("id"), s.kAnonymity())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// anonymity returns the store's keeper of anonymous submitters, or
// EINVALID when the store keeps none.
func (s *Server) anonymity() (cyberpact.AnonymityStore, error) {
	a, ok := s.Store.(cyberpact.AnonymityStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "this hub's store cannot publish anonymously")
	}
	return a, nil
}

// mayManage reports whether p may delete the version o: its producer's
// organisation, the organisation that published it anonymously, or a
// hub admin.
func (s *Server) mayManage(ctx context.Context, p *cyberpact.Principal, o *cyberpact.Object) (bool, error) {
	if p.User.Role == cyberpact.RoleAdmin || o.Release.Producer == p.Org.ID {
		return true, nil
	}
	if o.Release.Producer != 0 {
		return false, nil
	}
	a, ok := s.Store.(cyberpact.AnonymityStore)
	if !ok {
		return false, nil
	}
	sub, err := a.AnonymousSubmitter(ctx, o.Holding)
	if err != nil {
		return false, err
	}
	return cyberpact.MayManage(p.Org.ID, o.Release, sub), nil
}

// storeRetractions stores, for each holding of which a delete left no
// version, a retraction released as the latest deleted version of it
// was, so that federation carries the delete to every peer that received
// the object (see cyberpact.RetractionType). Versions that may not leave
// the hub (MayForward) need none.
func (s *Server) storeRetractions(ctx context.Context, p *cyberpact.Principal, id string, deleted []*cyberpact.Object) error {
	latest := map[int64]*cyberpact.Object{} // by holding
	for _, o := range deleted {
		if o.Type == cyberpact.RetractionType || cyberpact.IsObservable(o.Type) || o.Release.Audience.Kind.IsExercise() {
			continue
		}
		if l := latest[o.Holding]; l == nil || o.Modified > l.Modified || o.Modified == l.Modified && o.Seq > l.Seq {
			latest[o.Holding] = o
		}
	}
	if len(latest) == 0 {
		return nil
	}
	left, err := s.Store.ObjectVersions(ctx, id, nil)
	if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		return err
	}
	for h, o := range latest {
		stays := false
		for _, v := range left {
			stays = stays || v.Holding == h
		}
		if stays || !cyberpact.MayForward(o.Release) {
			continue
		}
		var cb struct {
			CreatedBy string `json:"created_by_ref"`
		}
		json.Unmarshal(o.Raw, &cb)
		ro, err := stix.Retraction(cyberpact.RetractionType+"--"+uuid.NewString(), id, cb.CreatedBy, o.Release.TLP, time.Now())
		if err != nil {
			return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "making a retraction", Err: err}
		}
		done := false
		next := func() (*cyberpact.Object, error) {
			if done {
				return nil, io.EOF
			}
			done = true
			return ro, nil
		}
		opts := cyberpact.ImportOptions{Producer: o.Release.Producer, Audience: o.Release.Audience, DefaultTLP: o.Release.TLP}
		res, err := cyberpact.AuditedImport(ctx, s.Store, s.Audit, actor(p, "taxii"), next, opts, "retraction of "+id+" for the peers that received it")
		if err != nil {
			return err
		}
		if !res.Committed || res.Added != 1 {
			return &cyberpact.Error{Code: cyberpact.EINTERNAL, Message: "storing a retraction", Err: cyberpact.Rejections(res.Rejected)}
		}
	}
	return nil
}

// applyRetractions applies the retractions an import by p stored (ids;
// res is the import's), patching the match indexes for what they
// deleted.
func (s *Server) applyRetractions(ctx context.Context, p *cyberpact.Principal, via string, ids []string, res *cyberpact.ImportResult) error {
	if len(ids) == 0 {
		return nil
	}
	refs, _, err := cyberpact.ApplyRetractions(ctx, s.Store, s.Audit, actor(p, via), ids, res)
	for _, ref := range refs {
		s.matches.forget(ctx, ref)
	}
	return err
}
