package cyberpact

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// EventKind is what a subscription is told about. Each kind names one
// source of events; exercise events are to be added as a kind of its own,
// with its own test of Matches and its own read for the recheck at
// delivery.
type EventKind string

const (
	// EventObject is a new object version, among those the subscriber may
	// see, that the subscription's filter selects.
	EventObject EventKind = "object"
	// EventSighting is a new sighting of an object the subscriber's
	// organisation produced (its indicators, typically).
	EventSighting EventKind = "sighting"
	// EventAssigned is a version of a joint incident's task assigned to
	// the subscribing user (a user's subscription) or to a user of its
	// organisation (an organisation's): by the user and organisation
	// names the task carries (package incident), which mean the same on
	// every federated hub.
	EventAssigned EventKind = "assigned"
	// EventRequest is a request for assistance on a joint incident made
	// by another organisation and addressed to the subscriber's
	// organisation by name, or to everyone on the incident.
	EventRequest EventKind = "request"
)

// EventKinds lists the event kinds.
var EventKinds = []EventKind{EventObject, EventSighting, EventAssigned, EventRequest}

// The object types of joint incidents that alerts look into (package
// incident defines the rest).
const (
	IncidentTaskType = "x-cyberpact-task"
	IncidentRFAType  = "x-cyberpact-rfa"
)

// IsIncidentEvent reports whether events of kind k are about joint
// incidents, matched by MatchesIncident with the subscriber's names.
func (k EventKind) IsIncidentEvent() bool { return k == EventAssigned || k == EventRequest }

// ChannelKind is how a notification is delivered.
type ChannelKind string

const (
	// ChannelWebhook is an HTTP POST of the notification as JSON, signed
	// with HMAC-SHA256 over the timestamp and the body.
	ChannelWebhook ChannelKind = "webhook"
	// ChannelEmail is a mail over SMTP.
	ChannelEmail ChannelKind = "email"
)

// AlertFilter selects the object versions a subscription to EventObject
// is told about. Zero fields select everything; a list matches any of its
// values; the fields are ANDed.
type AlertFilter struct {
	Types     []string `json:"types,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	TLPs      []TLP    `json:"tlps,omitempty"`
	Producers []int64  `json:"producers,omitempty"` // producer organisations
	// Values are observable values (an address, a domain, a hash): a
	// version matches when it is an indicator whose pattern compares
	// with one of them verbatim, or an observable that holds one.
	Values []string `json:"values,omitempty"`
}

// Subscription asks for notifications of one kind of event, for one
// organisation (User 0) or one of its users, on one channel. What it is
// told is always limited to what its organisation may see (MaySee) at the
// time each notification is sent.
type Subscription struct {
	ID      int64
	Org     int64
	User    int64 // 0: the organisation's subscription
	Event   EventKind
	Filter  AlertFilter
	Channel ChannelKind
	// Target is the webhook's URL or the mail address.
	Target string
	// Secret is the webhook's HMAC key (empty for mail); it is shown to
	// the subscriber once, when the subscription is made.
	Secret  string
	Created time.Time
}

// Check validates a subscription before it is stored: the event, the
// channel and its target. Returns EINVALID saying which field is wrong.
func (s *Subscription) Check() error {
	if !slices.Contains(EventKinds, s.Event) {
		return Errorf(EINVALID, "event %q is not one of object, sighting, assigned, request", s.Event)
	}
	if s.Org == 0 {
		return Errorf(EINVALID, "a subscription needs an organisation")
	}
	if s.Event == EventSighting && !s.Filter.empty() {
		return Errorf(EINVALID, "a subscription to sightings takes no filter: it is told of every sighting of its organisation's objects")
	}
	if s.Event.IsIncidentEvent() && !s.Filter.empty() {
		return Errorf(EINVALID, "a subscription to %s events takes no filter: it is told of every one addressed to it", s.Event)
	}
	for _, t := range s.Filter.Types {
		if t == "" {
			return Errorf(EINVALID, "filter type is empty")
		}
	}
	switch s.Channel {
	case ChannelWebhook:
		u, err := url.Parse(s.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return Errorf(EINVALID, "webhook target %q is not an http or https URL", s.Target)
		}
		if len(s.Secret) < 16 {
			return Errorf(EINVALID, "webhook secret must be at least 16 characters")
		}
	case ChannelEmail:
		a, err := mail.ParseAddress(s.Target)
		if err != nil || a.Address != s.Target {
			return Errorf(EINVALID, "mail target %q is not a plain address (name@example.org)", s.Target)
		}
	default:
		return Errorf(EINVALID, "channel %q is not one of webhook, email", s.Channel)
	}
	return nil
}

func (f AlertFilter) empty() bool {
	return len(f.Types)+len(f.Labels)+len(f.TLPs)+len(f.Producers)+len(f.Values) == 0
}

// Matches reports whether version o, read back from a store, is an event
// of subscription s, without the sharing rule (which the dispatcher
// applies with the subscriber's viewer, at enqueue and again at delivery).
// sightedProducer is, for a sighting, the producer organisation of the
// object it sights (0 when unknown or for any other type).
func (s *Subscription) Matches(o *Object, sightedProducer int64) bool {
	switch s.Event {
	case EventSighting:
		return o.Type == "sighting" && sightedProducer != 0 && sightedProducer == s.Org
	case EventObject:
		return s.Filter.matches(o)
	}
	return false
}

// MatchesIncident reports whether version o is an event of s, a
// subscription to EventAssigned or EventRequest, whose organisation is
// named org and whose user, for a user's subscription, user: a task
// assigned to that user (to any user of the organisation, for the
// organisation's subscription), or a request of another organisation
// addressed to org or to everyone. As Matches, it leaves the sharing rule
// to the dispatcher.
func (s *Subscription) MatchesIncident(o *Object, org, user string) bool {
	var body struct {
		Assignee    string   `json:"assignee"`
		AssigneeOrg string   `json:"assignee_org"`
		To          []string `json:"addressed_to"`
	}
	switch {
	case s.Event == EventAssigned && o.Type == IncidentTaskType:
		if json.Unmarshal(o.Raw, &body) != nil {
			return false
		}
		if s.User != 0 {
			return user != "" && body.Assignee == user
		}
		return org != "" && body.AssigneeOrg == org
	case s.Event == EventRequest && o.Type == IncidentRFAType && o.Release.Producer != s.Org:
		if json.Unmarshal(o.Raw, &body) != nil {
			return false
		}
		return len(body.To) == 0 || slices.Contains(body.To, org)
	}
	return false
}

func (f AlertFilter) matches(o *Object) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, o.Type) {
		return false
	}
	if len(f.TLPs) > 0 && !slices.Contains(f.TLPs, o.Release.TLP) {
		return false
	}
	if len(f.Producers) > 0 && !slices.Contains(f.Producers, o.Release.Producer) {
		return false
	}
	if len(f.Labels) == 0 && len(f.Values) == 0 {
		return true
	}
	var body struct {
		Labels  []string `json:"labels"`
		Pattern string   `json:"pattern"`
		Value   string   `json:"value"`
		Hashes  map[string]string
	}
	if json.Unmarshal(o.Raw, &body) != nil {
		return false
	}
	if len(f.Labels) > 0 && !slices.ContainsFunc(body.Labels, func(l string) bool { return slices.Contains(f.Labels, l) }) {
		return false
	}
	if len(f.Values) > 0 {
		return slices.ContainsFunc(f.Values, func(v string) bool {
			if body.Value == v || strings.Contains(body.Pattern, "'"+strings.ReplaceAll(v, "'", `\'`)+"'") {
				return true
			}
			for _, h := range body.Hashes {
				if strings.EqualFold(h, v) {
					return true
				}
			}
			return false
		})
	}
	return true
}

// DeliveryStatus is where one notification stands.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"   // waiting for its first or next attempt
	DeliveryDelivered DeliveryStatus = "delivered" // the receiver accepted it
	DeliveryFailed    DeliveryStatus = "failed"    // every attempt failed; no more are made
	// DeliveryWithheld: at the time of sending, the subscriber could no
	// longer see the object (or it is gone); nothing was sent.
	DeliveryWithheld DeliveryStatus = "withheld"
)

// Notification is one notification of one event to one subscription, kept in
// the store's outbox until it is delivered, fails for good or is
// withheld. Key is its idempotency key: the same for every attempt, so a
// receiver can drop a repeat (deliveries are made at least once).
type Notification struct {
	ID           int64          `json:"id"`
	Subscription int64          `json:"subscription"`
	Org          int64          `json:"-"` // the subscriber's organisation
	Event        EventKind      `json:"event"`
	Seq          int64          `json:"-"` // the object version the event is about
	ObjectID     string         `json:"object_id"`
	Key          string         `json:"idempotency_key"`
	Status       DeliveryStatus `json:"status"`
	Attempts     int            `json:"attempts"`
	NextAttempt  time.Time      `json:"next_attempt"` // for a pending delivery: when it is due (or its claim ends)
	LastError    string         `json:"last_error,omitempty"`
	Created      time.Time      `json:"created"`
	Done         time.Time      `json:"done,omitzero"` // when it was delivered, failed or withheld
}

// NewDeliveryKey returns a fresh idempotency key for a notification: random,
// so that it tells nothing of the hub (such as how many objects it added),
// and kept with the notification for every attempt. The outbox holds one
// notification per subscription and object version, whoever enqueues it.
func NewDeliveryKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "cyberpact-" + hex.EncodeToString(b)
}

// AlertStore keeps subscriptions and the outbox of their deliveries.
type AlertStore interface {
	// CreateSubscription stores s (after s.Check) and sets its ID and
	// Created. Returns EINVALID, ENOTFOUND for an unknown organisation or
	// user (or a user of another organisation).
	CreateSubscription(ctx context.Context, s *Subscription, actor string) error
	// Subscriptions lists the subscriptions of org (every one when org is
	// 0) by id.
	Subscriptions(ctx context.Context, org int64) ([]*Subscription, error)
	// DeleteSubscription removes subscription id of org with its
	// deliveries. Returns ENOTFOUND when org has none of that id.
	DeleteSubscription(ctx context.Context, org, id int64, actor string) error

	// AlertCursor returns the Seq up to which object versions were
	// examined for events.
	AlertCursor(ctx context.Context) (int64, error)
	// EnqueueDeliveries adds ns to the outbox (one for a subscription and
	// object version already there is left as it is, with its key) and
	// moves the cursor to cursor, in one transaction.
	EnqueueDeliveries(ctx context.Context, ds []*Notification, cursor int64) error
	// ClaimDeliveries returns up to limit pending deliveries due at now,
	// oldest first, and moves their NextAttempt to until, so that no other
	// dispatcher takes them before then; a dispatcher that stops before
	// finishing one leaves it to be taken again after until.
	ClaimDeliveries(ctx context.Context, now, until time.Time, limit int) ([]*Notification, error)
	// FinishAttempts records attempts on ns, in one transaction: each
	// one's Status, Attempts, NextAttempt, LastError and Done as the
	// caller set them.
	FinishAttempts(ctx context.Context, ns []*Notification) error
	// Deliveries lists the deliveries of subscription sub of org, newest
	// first, at most limit. Returns ENOTFOUND when org has no such
	// subscription.
	Deliveries(ctx context.Context, org, sub int64, limit int) ([]*Notification, error)
	// DeliveryCounts counts the outbox's deliveries by status, over every
	// organisation (for /metrics).
	DeliveryCounts(ctx context.Context) (map[DeliveryStatus]int64, error)
}

// FilterSpec is an AlertFilter as people write it: TLP levels and producer
// organisations by name. The CLI and the API read it alike.
type FilterSpec struct {
	Types     []string `json:"types,omitempty"`
	Labels    []string `json:"labels,omitempty"`
	TLPs      []string `json:"tlps,omitempty"`
	Producers []string `json:"producers,omitempty"`
	Values    []string `json:"values,omitempty"`
}

// Resolve turns the spec into a filter, looking producers up by name.
// Returns EINVALID naming the bad TLP level or unknown organisation.
func (fs FilterSpec) Resolve(ctx context.Context, acc AccountService) (AlertFilter, error) {
	f := AlertFilter{Types: fs.Types, Labels: fs.Labels, Values: fs.Values}
	for _, s := range fs.TLPs {
		t, err := ParseTLP(s)
		if err != nil {
			return f, Errorf(EINVALID, "filter tlps: %q is not a TLP level (clear, green, amber, amber+strict, red)", s)
		}
		f.TLPs = append(f.TLPs, t)
	}
	for _, name := range fs.Producers {
		o, err := acc.OrgByName(ctx, name)
		if ErrorCode(err) == ENOTFOUND {
			return f, Errorf(EINVALID, "filter producers: no organisation %q", name)
		}
		if err != nil {
			return f, err
		}
		f.Producers = append(f.Producers, o.ID)
	}
	return f, nil
}

// Spec is f as people write it, producers named by names (an id missing
// from names is written as its number).
func (f AlertFilter) Spec(names map[int64]string) FilterSpec {
	fs := FilterSpec{Types: f.Types, Labels: f.Labels, Values: f.Values}
	for _, t := range f.TLPs {
		fs.TLPs = append(fs.TLPs, t.String())
	}
	for _, p := range f.Producers {
		n, ok := names[p]
		if !ok {
			n = fmt.Sprint(p)
		}
		fs.Producers = append(fs.Producers, n)
	}
	return fs
}

// NewWebhookSecret returns a fresh random HMAC key for a webhook.
func NewWebhookSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

// DeliverySummary summarises a subscription's notifications for its
// subscriber: counts by status and the most recent ones.
type DeliverySummary struct {
	Counts map[DeliveryStatus]int `json:"counts"`
	Recent []*Notification        `json:"recent"`
}

// Summarise counts ns (newest first, as Deliveries lists them) and keeps
// the first recent of them.
func Summarise(ns []*Notification, recent int) *DeliverySummary {
	s := &DeliverySummary{Counts: map[DeliveryStatus]int{}, Recent: ns[:min(recent, len(ns))]}
	for _, n := range ns {
		s.Counts[n.Status]++
	}
	return s
}

// HideUnseen blanks the object id of each notification whose version
// viewer may not see now, so that a delivery status never names what its
// subscriber can no longer see.
func HideUnseen(ctx context.Context, store ObjectStore, viewer Viewer, ns []*Notification) error {
	seen := map[string]map[int64]bool{}
	for _, n := range ns {
		vs, ok := seen[n.ObjectID]
		if !ok {
			vs = map[int64]bool{}
			versions, err := store.ObjectVersions(ctx, n.ObjectID, &viewer)
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
			for _, o := range versions {
				vs[o.Seq] = MaySee(viewer, o.Release)
			}
			seen[n.ObjectID] = vs
		}
		if !vs[n.Seq] {
			n.ObjectID = ""
		}
	}
	return nil
}
