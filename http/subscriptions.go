package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Subscriptions to alerts (cyberpact.Subscription), each of the caller's
// organisation:
//
//	POST   /api/v1/subscriptions       {"event", "channel", "target", "filter": {...}, "for": "me"|"org"}
//	GET    /api/v1/subscriptions       the organisation's subscriptions
//	GET    /api/v1/subscriptions/{id}  one, with its delivery status: counts and recent notifications
//	DELETE /api/v1/subscriptions/{id}
//
// A subscription of another organisation answers 404, as one that does
// not exist. A webhook's secret is made by the hub and shown once, in the
// answer to the POST. Any member may subscribe for itself ("for": "me",
// the default); a subscription for the whole organisation needs an
// org-admin or admin, as does removing one that is not the caller's own.
// Delivery status names an object only while the caller may see it.

func (s *Server) registerSubscriptions() {
	s.handle("POST /api/v1/subscriptions", s.authed(s.postSubscription))
	s.handle("GET /api/v1/subscriptions", s.authed(s.listSubscriptions))
	s.handle("GET /api/v1/subscriptions/{id}", s.authed(s.getSubscription))
	s.handle("DELETE /api/v1/subscriptions/{id}", s.authed(s.deleteSubscription))
}

func (s *Server) alertStore() (cyberpact.AlertStore, error) {
	as, ok := s.Store.(cyberpact.AlertStore)
	if !ok {
		return nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this hub's store keeps no subscriptions")
	}
	return as, nil
}

// subscriptionView is a subscription as its subscriber is shown it.
type subscriptionView struct {
	ID       int64                      `json:"id"`
	For      string                     `json:"for"` // "org" or the user's name
	Event    cyberpact.EventKind        `json:"event"`
	Filter   cyberpact.FilterSpec       `json:"filter"`
	Channel  cyberpact.ChannelKind      `json:"channel"`
	Target   string                     `json:"target"`
	Secret   string                     `json:"secret,omitempty"` // only in the answer to its creation
	Created  time.Time                  `json:"created"`
	Delivery *cyberpact.DeliverySummary `json:"delivery,omitempty"`
}

func (s *Server) viewSubscription(ctx context.Context, sub *cyberpact.Subscription) (*subscriptionView, error) {
	names := map[int64]string{}
	for _, p := range sub.Filter.Producers {
		if o, err := s.Accounts.OrgByID(ctx, p); err == nil {
			names[p] = o.Name
		}
	}
	v := &subscriptionView{ID: sub.ID, For: "org", Event: sub.Event, Filter: sub.Filter.Spec(names), Channel: sub.Channel, Target: sub.Target, Created: sub.Created}
	if sub.User != 0 {
		users, err := s.Accounts.Users(ctx, sub.Org)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.ID == sub.User {
				v.For = u.Name
			}
		}
	}
	return v, nil
}

type subscriptionRequest struct {
	Event   cyberpact.EventKind   `json:"event"`
	Channel cyberpact.ChannelKind `json:"channel"`
	Target  string                `json:"target"`
	Filter  cyberpact.FilterSpec  `json:"filter"`
	For     string                `json:"for"`
}

func (s *Server) postSubscription(w http.ResponseWriter, r *http.Request) error {
	as, err := s.alertStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	p := principalOf(r)
	var in subscriptionRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return cyberpact.Errorf(cyberpact.EINVALID, "request body: %v (want {\"event\": \"object\"|\"sighting\"|\"assigned\"|\"request\", \"channel\": \"webhook\"|\"email\", \"target\": URL or address, \"filter\": {...}, \"for\": \"me\"|\"org\"})", err)
	}
	sub := &cyberpact.Subscription{Org: p.Org.ID, Event: in.Event, Channel: in.Channel, Target: in.Target}
	switch in.For {
	case "", "me":
		sub.User = p.User.ID
	case "org":
		if p.User.Role != cyberpact.RoleAdmin && p.User.Role != cyberpact.RoleOrgAdmin {
			return cyberpact.Errorf(cyberpact.EFORBIDDEN, "a subscription for the whole organisation needs an org-admin")
		}
	default:
		return cyberpact.Errorf(cyberpact.EINVALID, "for: %q is not me or org", in.For)
	}
	if sub.Filter, err = in.Filter.Resolve(r.Context(), s.Accounts); err != nil {
		return err
	}
	if sub.Channel == cyberpact.ChannelWebhook {
		sub.Secret = cyberpact.NewWebhookSecret()
	}
	if err := as.CreateSubscription(r.Context(), sub, p.User.Name); err != nil {
		return err
	}
	v, err := s.viewSubscription(r.Context(), sub)
	if err != nil {
		return err
	}
	v.Secret = sub.Secret
	return writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	as, err := s.alertStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	subs, err := as.Subscriptions(r.Context(), principalOf(r).Org.ID)
	if err != nil {
		return err
	}
	out := []*subscriptionView{}
	for _, sub := range subs {
		v, err := s.viewSubscription(r.Context(), sub)
		if err != nil {
			return err
		}
		out = append(out, v)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}

// ownSubscription returns the caller's organisation's subscription {id},
// ENOTFOUND for any other, as for one that does not exist.
func (s *Server) ownSubscription(r *http.Request, as cyberpact.AlertStore) (*cyberpact.Subscription, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no subscription %q", raw)
	}
	subs, err := as.Subscriptions(r.Context(), principalOf(r).Org.ID)
	if err != nil {
		return nil, err
	}
	for _, sub := range subs {
		if sub.ID == id {
			return sub, nil
		}
	}
	return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no subscription %q", raw)
}

const recentDeliveries = 50

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) error {
	as, err := s.alertStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	sub, err := s.ownSubscription(r, as)
	if err != nil {
		return err
	}
	ns, err := as.Deliveries(r.Context(), sub.Org, sub.ID, 0)
	if err != nil {
		return err
	}
	v, err := s.viewSubscription(r.Context(), sub)
	if err != nil {
		return err
	}
	v.Delivery = cyberpact.Summarise(ns, recentDeliveries)
	if err := cyberpact.HideUnseen(r.Context(), s.Store, *viewerOf(r), v.Delivery.Recent); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	as, err := s.alertStore()
	if err != nil {
		return err
	}
	if err := checkQuery(r, false); err != nil {
		return err
	}
	sub, err := s.ownSubscription(r, as)
	if err != nil {
		return err
	}
	p := principalOf(r)
	if sub.User != p.User.ID && p.User.Role != cyberpact.RoleAdmin && p.User.Role != cyberpact.RoleOrgAdmin {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only its subscriber or an org-admin may remove subscription %d", sub.ID)
	}
	if err := as.DeleteSubscription(r.Context(), sub.Org, sub.ID, p.User.Name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
