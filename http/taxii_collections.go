package http

import (
	"context"
	"net/http"
	"strconv"

	"github.com/cyberpact/cyberpact"
	"github.com/google/uuid"
)

// Collections are bound to audiences: one for all members, one per sharing
// group (its members see it), one private per organisation, and, when the
// server is Public, a public one of TLP:CLEAR objects. Their ids are
// UUIDv5 of "all", "group:ID", "org:ID" and "public" in collectionSpace,
// so they are the same on every start and every hub. A collection the
// caller may not see does not exist for it (404).

// collectionSpace is the UUIDv5 namespace of collection ids.
var collectionSpace = uuid.MustParse("e7486dbc-90d7-4946-911c-cd0a54d93eb3")

// CollectionID returns the id of the collection of an audience: name is
// "all", "public", "group:ID" or "org:ID".
func CollectionID(name string) string {
	return uuid.NewSHA1(collectionSpace, []byte(name)).String()
}

// collection is a TAXII collection resource and what reading it means.
type collection struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`

	viewer   cyberpact.Viewer
	audience *cyberpact.Audience // nil for the public collection
	exercise int64               // the exercise of an exercise collection (exercise.go)
}

// filter returns the object filter that reads the collection.
func (c *collection) filter() cyberpact.ObjectFilter {
	v := c.viewer
	return cyberpact.ObjectFilter{Viewer: &v, Audience: c.audience}
}

// collectionsOf returns the collections p may see (p nil: an anonymous
// caller, who sees the public one when it is enabled). With names, group
// and organisation titles are looked up.
func (s *Server) collectionsOf(ctx context.Context, p *cyberpact.Principal, names bool) ([]*collection, error) {
	var out []*collection
	media := []string{stixMedia}
	if p != nil {
		v := p.Viewer()
		write := p.User.Role.CanWrite()
		out = append(out, &collection{
			ID: CollectionID("all"), Title: "All members", CanRead: true, CanWrite: write, MediaTypes: media,
			Description: "Shared with every member organisation (never TLP:RED).",
			viewer:      v, audience: &cyberpact.Audience{Kind: cyberpact.AudienceAll},
		})
		groupNames := map[int64]string{}
		if names && len(p.Groups) > 0 && s.Accounts != nil {
			gs, err := s.Accounts.Groups(ctx)
			if err != nil {
				return nil, err
			}
			for _, g := range gs {
				groupNames[g.ID] = g.Name
			}
		}
		for _, g := range p.Groups {
			title := groupNames[g]
			if title == "" {
				title = "Group " + strconv.FormatInt(g, 10)
			}
			out = append(out, &collection{
				ID: CollectionID("group:" + strconv.FormatInt(g, 10)), Title: title, CanRead: true, CanWrite: write, MediaTypes: media,
				Description: "Shared with the sharing group's member organisations.",
				viewer:      v, audience: &cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g},
			})
		}
		out = append(out, &collection{
			ID: CollectionID("org:" + strconv.FormatInt(p.Org.ID, 10)), Title: p.Org.Name + " (private)", CanRead: true, CanWrite: write, MediaTypes: media,
			Description: "Your organisation's own objects, shared with no one else.",
			viewer:      v, audience: &cyberpact.Audience{Kind: cyberpact.AudienceOrg},
		})
		xs, err := s.exerciseCollections(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, xs...)
	}
	if s.Public {
		out = append(out, &collection{
			ID: CollectionID("public"), Title: "Public", CanRead: true, CanWrite: false, MediaTypes: media,
			Description: "TLP:CLEAR objects, readable without an account.",
			viewer:      cyberpact.Viewer{Public: true},
		})
	}
	return out, nil
}

// collectionOf returns the collection id of r's path as p may see it, or
// ENOTFOUND.
func (s *Server) collectionOf(r *http.Request, p *cyberpact.Principal) (*collection, error) {
	id := r.PathValue("collection")
	cs, err := s.collectionsOf(r.Context(), p, false)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no collection %s", id)
}

// readableCollection is collectionOf for reads, which anonymous callers
// may make of the public collection.
func (s *Server) readableCollection(r *http.Request) (*cyberpact.Principal, *collection, error) {
	p, err := s.caller(r, true)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.collectionOf(r, p)
	return p, c, err
}

func (s *Server) taxiiCollections(w http.ResponseWriter, r *http.Request) error {
	p, err := s.caller(r, true)
	if err != nil {
		return err
	}
	cs, err := s.collectionsOf(r.Context(), p, true)
	if err != nil {
		return err
	}
	return writeTAXII(w, http.StatusOK, map[string]any{"collections": cs})
}

func (s *Server) taxiiCollection(w http.ResponseWriter, r *http.Request) error {
	p, err := s.caller(r, true)
	if err != nil {
		return err
	}
	id := r.PathValue("collection")
	cs, err := s.collectionsOf(r.Context(), p, true)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.ID == id {
			return writeTAXII(w, http.StatusOK, c)
		}
	}
	return cyberpact.Errorf(cyberpact.ENOTFOUND, "no collection %s", id)
}
