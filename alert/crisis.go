package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
)

// Crisis mode: a crisis declared on a stored STIX incident alerts every
// organisation of the incident's audience (those MaySee lets see its
// latest version) at once on all of its channels: the webhooks and mail
// of every one of its subscriptions, and the web interface. Each
// organisation acknowledges (API, CLI, web, or a single-use link in the
// mail); one that has not within the crisis's escalation delay of its last
// alert is escalated to its contacts of the next level, then the next.
// A crisis alert, like a notification, never tells an organisation more
// than it may see when it is sent: one that may no longer see the
// incident is withheld.

// CrisisStore is what crisis mode reads and writes.
type CrisisStore interface {
	Store
	cyberpact.CrisisStore
	Orgs(ctx context.Context) ([]*cyberpact.Org, error)
	OrgByID(ctx context.Context, id int64) (*cyberpact.Org, error)
}

// DefaultEscalateAfter is the escalation delay of a crisis declared
// without one, unless the hub sets another (Desk.EscalateAfter).
const DefaultEscalateAfter = 15 * time.Minute

// HubActor is the actor the audit log names for what the hub does by
// itself (escalations): no user name can be it.
const HubActor = "(hub)"

// Desk declares, acknowledges, ends and reports crises for the API, the
// web interface and the command line alike. A nil principal is the
// command line: the hub's operator, who sees every crisis.
type Desk struct {
	Store CrisisStore
	// EscalateAfter is the hub's escalation delay, for a crisis declared
	// without its own (default DefaultEscalateAfter).
	EscalateAfter time.Duration
	Now           func() time.Time
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// NewDesk returns a desk over store when it keeps crises, nil otherwise.
func NewDesk(store any) *Desk {
	cs, ok := store.(CrisisStore)
	if !ok {
		return nil
	}
	return &Desk{Store: cs}
}

// viewerOf is what org may see now: its groups, and its nation, sector
// and clearances, which markings beside TLP are checked against.
func viewerOf(ctx context.Context, s CrisisStore, org int64) (cyberpact.Viewer, error) {
	groups, err := s.GroupsOf(ctx, org)
	if err != nil {
		return cyberpact.Viewer{}, err
	}
	o, err := s.OrgByID(ctx, org)
	if err != nil {
		return cyberpact.Viewer{}, err
	}
	return cyberpact.OrgViewer(o, groups), nil
}

// notFound is the answer about a crisis the caller may not know of, the
// same as for one that does not exist.
func notFound(id int64) error { return cyberpact.Errorf(cyberpact.ENOTFOUND, "no crisis %d", id) }

// incident reads the latest version of incident id as p may see it (the
// hub's own read for a nil p). Returns ENOTFOUND, the same for an id p
// may not see as for one the hub does not hold.
func (d *Desk) incident(ctx context.Context, p *cyberpact.Principal, id string) (*cyberpact.Object, error) {
	var v *cyberpact.Viewer
	if p != nil {
		pv := p.Viewer()
		v = &pv
	}
	o, err := d.Store.Object(ctx, id, v)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND || err == nil && o.Type != "incident" {
		return nil, cyberpact.Errorf(cyberpact.ENOTFOUND, "no incident %s", id)
	}
	return o, err
}

// Declare declares a crisis on incident id for p (nil: the command line),
// escalating after after (0: the hub's delay), and enqueues the first
// alerts. p must see the incident (ENOTFOUND otherwise) and be a hub
// admin or an org-admin of its producer (EFORBIDDEN). Returns ECONFLICT
// when the incident already has an open crisis.
func (d *Desk) Declare(ctx context.Context, p *cyberpact.Principal, id string, after time.Duration, actor string) (*cyberpact.Crisis, error) {
	if !strings.HasPrefix(id, "incident--") {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "%q is not a STIX incident id (incident--UUID)", id)
	}
	if after < 0 || after > 7*24*time.Hour {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "escalation delay %s is not between 1 minute and 7 days", after)
	}
	if after == 0 {
		after = d.EscalateAfter
		if after <= 0 {
			after = DefaultEscalateAfter
		}
	}
	if after < time.Minute {
		return nil, cyberpact.Errorf(cyberpact.EINVALID, "escalation delay %s is not between 1 minute and 7 days", after)
	}
	// The incident is the holding of the id p is shown (the hub's own
	// read for the command line): what another organisation holds of the
	// same id out of p's sight neither decides who may declare nor
	// answers otherwise than an id nobody holds.
	latest, err := d.incident(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if p != nil && !cyberpact.MayDeclareCrisis(p, latest.Release.Producer) {
		return nil, cyberpact.Errorf(cyberpact.EFORBIDDEN, "only an org-admin of the incident's producer or a hub admin may declare a crisis on it")
	}
	orgs, err := d.Store.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	now := d.now()
	c := &cyberpact.Crisis{Incident: id, Producer: latest.Release.Producer, EscalateAfter: after, DeclaredBy: actor, Declared: now}
	var alerts []*cyberpact.CrisisAlert
	for _, o := range orgs {
		v, err := viewerOf(ctx, d.Store, o.ID)
		if err != nil {
			return nil, err
		}
		if !cyberpact.MaySee(v, latest.Release) {
			continue
		}
		part := &cyberpact.CrisisPartner{Org: o.ID}
		if p != nil && p.Org.ID == o.ID {
			// The declaring organisation knows.
			part.Acked, part.AckedBy, part.AckedVia = now, actor, "declaration"
		}
		c.Partners = append(c.Partners, part)
		as, err := d.ownChannels(ctx, o.ID, cyberpact.CrisisDeclared)
		if err != nil {
			return nil, err
		}
		alerts = append(alerts, as...)
	}
	if err := d.Store.DeclareCrisis(ctx, c, alerts, actor); err != nil {
		return nil, err
	}
	return c, nil
}

// ownChannels are the level-0 alerts of org: one to each distinct target
// of its subscriptions (the organisation's and its users').
func (d *Desk) ownChannels(ctx context.Context, org int64, kind string) ([]*cyberpact.CrisisAlert, error) {
	now := d.now()
	subs, err := d.Store.Subscriptions(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []*cyberpact.CrisisAlert
	seen := map[string]bool{}
	for _, s := range subs {
		k := string(s.Channel) + " " + s.Target
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, &cyberpact.CrisisAlert{Org: org, Level: 0, Kind: kind, Channel: s.Channel, Target: s.Target, Secret: s.Secret,
			Key: cyberpact.NewDeliveryKey(), NextAttempt: now})
	}
	return out, nil
}

// contactAlerts are the alerts of org's contacts whose level is in
// [from, to], due at now.
func contactAlerts(contacts []*cyberpact.CrisisContact, org int64, from, to int, kind string, now time.Time) []*cyberpact.CrisisAlert {
	var out []*cyberpact.CrisisAlert
	for _, c := range contacts {
		if c.Level >= from && c.Level <= to {
			out = append(out, &cyberpact.CrisisAlert{Org: org, Level: c.Level, Kind: kind, Channel: c.Channel, Target: c.Target, Secret: c.Secret,
				Key: cyberpact.NewDeliveryKey(), NextAttempt: now})
		}
	}
	return out
}

// Visible returns crisis id when p may know of it: its organisation is a
// partner and may see the incident now, in the holding of the crisis's
// producer (not another organisation's holding of the same id).
// ENOTFOUND otherwise, as for a crisis that does not exist.
func (d *Desk) Visible(ctx context.Context, p *cyberpact.Principal, id int64) (*cyberpact.Crisis, error) {
	c, err := d.Store.Crisis(ctx, id)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, err
	}
	if p == nil {
		return c, nil
	}
	if c.Partner(p.Org.ID) == nil {
		return nil, notFound(id)
	}
	if o, err := d.incident(ctx, p, c.Incident); cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND || err == nil && o.Release.Producer != c.Producer {
		return nil, notFound(id)
	} else if err != nil {
		return nil, err
	}
	return c, nil
}

// List returns the crises p may know of (every one for a nil p), newest
// first; only the open ones when open is true.
func (d *Desk) List(ctx context.Context, p *cyberpact.Principal, open bool) ([]*cyberpact.Crisis, error) {
	all, err := d.Store.Crises(ctx, open)
	if err != nil {
		return nil, err
	}
	out := []*cyberpact.Crisis{}
	for _, c := range all {
		if p != nil {
			if c.Partner(p.Org.ID) == nil {
				continue
			}
			if o, err := d.incident(ctx, p, c.Incident); cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND || err == nil && o.Release.Producer != c.Producer {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// Ack acknowledges crisis id for org on behalf of p (nil: the command
// line, which names org). It reports whether this call acknowledged.
func (d *Desk) Ack(ctx context.Context, p *cyberpact.Principal, id, org int64, actor, via string) (bool, error) {
	if p != nil {
		org = p.Org.ID
	}
	c, err := d.Visible(ctx, p, id)
	if err != nil {
		return false, err
	}
	if c.Partner(org) == nil {
		return false, cyberpact.Errorf(cyberpact.ENOTFOUND, "organisation %d is not alerted by crisis %d", org, id)
	}
	return d.Store.AckCrisis(ctx, id, org, actor, via, d.now())
}

// AckToken acknowledges by a token from a crisis mail. Returns ENOTFOUND
// for an unknown or used token.
func (d *Desk) AckToken(ctx context.Context, token string) (crisis, org int64, err error) {
	if !strings.HasPrefix(token, "cpa_") || len(token) > 100 {
		return 0, 0, cyberpact.Errorf(cyberpact.ENOTFOUND, "this acknowledgement link is unknown or was already used")
	}
	return d.Store.AckCrisisToken(ctx, cyberpact.CrisisTokenHash(token), d.now())
}

// End ends crisis id for p, who must know of it and may declare one on
// its incident, and tells every partner on the channels it was alerted
// on.
func (d *Desk) End(ctx context.Context, p *cyberpact.Principal, id int64, actor string) error {
	c, err := d.Visible(ctx, p, id)
	if err != nil {
		return err
	}
	if p != nil && !cyberpact.MayDeclareCrisis(p, c.Producer) {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "only an org-admin of the incident's producer or a hub admin may end crisis %d", id)
	}
	if !c.Open() {
		return cyberpact.Errorf(cyberpact.ECONFLICT, "crisis %d has already ended", id)
	}
	var alerts []*cyberpact.CrisisAlert
	for _, part := range c.Partners {
		as, err := d.ownChannels(ctx, part.Org, cyberpact.CrisisEnded)
		if err != nil {
			return err
		}
		alerts = append(alerts, as...)
		if part.Level > 0 {
			contacts, err := d.Store.CrisisContacts(ctx, part.Org)
			if err != nil {
				return err
			}
			alerts = append(alerts, contactAlerts(contacts, part.Org, 1, part.Level, cyberpact.CrisisEnded, d.now())...)
		}
	}
	return d.Store.EndCrisis(ctx, id, d.now(), alerts, actor)
}

// PartnerStatus is where one partner stands, as the status shows it.
type PartnerStatus struct {
	Org          string    `json:"org"`
	Acknowledged bool      `json:"acknowledged"`
	AckedAt      time.Time `json:"acknowledged_at,omitzero"`
	AckedBy      string    `json:"acknowledged_by,omitempty"`
	AckedVia     string    `json:"acknowledged_via,omitempty"`
	Level        int       `json:"escalation_level"`
	// Levels is how many contact levels it has: escalation stops there.
	Levels int `json:"contact_levels"`
	// EscalatesAt is when it is escalated next, unless it acknowledges
	// (zero when acknowledged, out of contacts or the crisis ended).
	EscalatesAt time.Time `json:"escalates_at,omitzero"`
	// Alerts counts its alerts by delivery status.
	Alerts map[cyberpact.DeliveryStatus]int `json:"alerts"`
}

// Status is a crisis at a glance.
type Status struct {
	ID            int64            `json:"id"`
	Incident      string           `json:"incident"`
	IncidentName  string           `json:"incident_name,omitempty"`
	Open          bool             `json:"open"`
	DeclaredBy    string           `json:"declared_by"`
	Declared      time.Time        `json:"declared"`
	EscalateAfter string           `json:"escalate_after"`
	Ended         time.Time        `json:"ended,omitzero"`
	EndedBy       string           `json:"ended_by,omitempty"`
	Acknowledged  int              `json:"acknowledged"`
	Partners      []*PartnerStatus `json:"partners"`
}

// Status returns crisis id at a glance, as p may know it.
func (d *Desk) Status(ctx context.Context, p *cyberpact.Principal, id int64) (*Status, error) {
	c, err := d.Visible(ctx, p, id)
	if err != nil {
		return nil, err
	}
	st := &Status{ID: c.ID, Incident: c.Incident, Open: c.Open(), DeclaredBy: c.DeclaredBy, Declared: c.Declared,
		EscalateAfter: c.EscalateAfter.String(), Ended: c.Ended, EndedBy: c.EndedBy, Partners: []*PartnerStatus{}}
	if o, err := d.incident(ctx, p, c.Incident); err == nil {
		var body struct {
			Name string `json:"name"`
		}
		json.Unmarshal(o.Raw, &body)
		st.IncidentName = body.Name
	}
	alerts, err := d.Store.CrisisAlerts(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, part := range c.Partners {
		o, err := d.Store.OrgByID(ctx, part.Org)
		if err != nil {
			return nil, err
		}
		contacts, err := d.Store.CrisisContacts(ctx, part.Org)
		if err != nil {
			return nil, err
		}
		ps := &PartnerStatus{Org: o.Name, Acknowledged: !part.Acked.IsZero(), AckedAt: part.Acked, AckedBy: part.AckedBy, AckedVia: part.AckedVia,
			Level: part.Level, Alerts: map[cyberpact.DeliveryStatus]int{}}
		for _, ct := range contacts {
			ps.Levels = max(ps.Levels, ct.Level)
		}
		if ps.Acknowledged {
			st.Acknowledged++
		} else if c.Open() && nextLevel(contacts, part.Level) > 0 {
			ps.EscalatesAt = part.LevelAt.Add(c.EscalateAfter)
		}
		for _, a := range alerts {
			if a.Org == part.Org {
				ps.Alerts[a.Status]++
			}
		}
		st.Partners = append(st.Partners, ps)
	}
	slices.SortFunc(st.Partners, func(a, b *PartnerStatus) int { return strings.Compare(a.Org, b.Org) })
	return st, nil
}

// nextLevel is the lowest contact level above level, 0 when none.
func nextLevel(contacts []*cyberpact.CrisisContact, level int) int {
	next := 0
	for _, c := range contacts {
		if c.Level > level && (next == 0 || c.Level < next) {
			next = c.Level
		}
	}
	return next
}

// Escalate escalates, at the dispatcher's clock, every partner of an open
// crisis that has not acknowledged within the crisis's delay of its last
// alert and has contacts of a higher level. It returns how many it
// escalated. Several serve processes may run it at once: the store moves
// a partner only from the level it read.
func (d *Dispatcher) Escalate(ctx context.Context) (int, error) {
	cs, ok := d.Store.(CrisisStore)
	if !ok {
		return 0, nil
	}
	crises, err := cs.Crises(ctx, true)
	if err != nil {
		return 0, err
	}
	now := d.now()
	n := 0
	for _, c := range crises {
		for _, part := range c.Partners {
			if !part.Acked.IsZero() || now.Before(part.LevelAt.Add(c.EscalateAfter)) {
				continue
			}
			contacts, err := cs.CrisisContacts(ctx, part.Org)
			if err != nil {
				return n, err
			}
			next := nextLevel(contacts, part.Level)
			if next == 0 {
				continue
			}
			alerts := contactAlerts(contacts, part.Org, next, next, cyberpact.CrisisEscalated, now)
			moved, err := cs.EscalateCrisis(ctx, c.ID, part.Org, part.Level, next, now, alerts, HubActor)
			if err != nil {
				return n, err
			}
			if moved {
				n++
				d.log().Info("crisis: escalated", "crisis", c.ID, "org", part.Org, "level", next)
			}
		}
	}
	return n, nil
}

// CrisisMessage is a crisis alert as a webhook receives it (and as a mail
// carries it, in words): the crisis, what happened, the incident as the
// organisation may see it, and how to acknowledge.
type CrisisMessage struct {
	Event      cyberpact.EventKind `json:"event"` // "crisis"
	Kind       string              `json:"kind"`  // declared, escalated, ended
	Crisis     int64               `json:"crisis"`
	Level      int                 `json:"level"`
	Key        string              `json:"idempotency_key"`
	IncidentID string              `json:"incident_id"`
	Incident   json.RawMessage     `json:"incident"`
	Ack        string              `json:"ack,omitempty"`
}

// DeliverCrisis makes one attempt on every crisis alert due now and
// returns how many it made.
func (d *Dispatcher) DeliverCrisis(ctx context.Context) (int, error) {
	cs, ok := d.Store.(CrisisStore)
	if !ok {
		return 0, nil
	}
	lease := d.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	total := 0
	for ctx.Err() == nil {
		now := d.now()
		batch, err := cs.ClaimCrisisAlerts(ctx, now, now.Add(lease), claimBatch)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		crises := map[int64]*cyberpact.Crisis{}
		var mu sync.Mutex
		var finished []*cyberpact.CrisisAlert
		var first error
		var wg sync.WaitGroup
		workers := d.Workers
		if workers <= 0 {
			workers = 16
		}
		sem := make(chan struct{}, workers)
		for _, al := range batch {
			c, ok := crises[al.Crisis]
			if !ok {
				if c, err = cs.Crisis(ctx, al.Crisis); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					break
				}
				crises[al.Crisis] = c
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				done, err := d.attemptCrisis(ctx, cs, c, al)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				}
				if done {
					finished = append(finished, al)
				}
			})
		}
		wg.Wait()
		fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := cs.FinishCrisisAlerts(fctx, finished); err != nil && first == nil {
			first = err
		}
		cancel()
		total += len(batch)
		if first != nil {
			return total, first
		}
	}
	return total, ctx.Err()
}

// attemptCrisis delivers al once and reports whether there is an outcome
// to record.
func (d *Dispatcher) attemptCrisis(ctx context.Context, cs CrisisStore, c *cyberpact.Crisis, al *cyberpact.CrisisAlert) (bool, error) {
	v, err := viewerOf(ctx, cs, al.Org)
	if err != nil {
		return false, err
	}
	inc, err := cs.Object(ctx, c.Incident, &v)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND || err == nil && inc.Release.Producer != c.Producer {
		al.Status, al.Done, al.LastError = cyberpact.DeliveryWithheld, d.now(), ""
		d.Metrics.done(al.Channel, cyberpact.DeliveryWithheld)
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if ctx.Err() != nil {
		return false, nil
	}
	msg := &CrisisMessage{Event: cyberpact.EventCrisis, Kind: al.Kind, Crisis: c.ID, Level: al.Level, Key: al.Key, IncidentID: c.Incident, Incident: inc.Raw}
	base := strings.TrimRight(d.URL, "/")
	switch al.Channel {
	case cyberpact.ChannelWebhook:
		if d.Webhook == nil {
			return false, nil
		}
		if al.Kind != cyberpact.CrisisEnded {
			msg.Ack = fmt.Sprintf("POST %s/api/v1/crises/%d/ack", base, c.ID)
		}
		body, _ := json.Marshal(msg)
		err = d.Webhook.Post(ctx, al.Target, al.Secret, al.Key, string(cyberpact.EventCrisis), body)
	case cyberpact.ChannelEmail:
		if d.Mail == nil {
			return false, nil
		}
		ack := ""
		if al.Kind != cyberpact.CrisisEnded {
			ack = fmt.Sprintf("Acknowledge with 'cyberpact crisis ack %d --org NAME', POST %s/api/v1/crises/%d/ack, or the crisis page of the web interface.", c.ID, base, c.ID)
			if base != "" {
				token, hash := cyberpact.NewCrisisToken()
				if err := cs.AddCrisisToken(ctx, c.ID, al.Org, hash); err != nil {
					return false, err
				}
				ack = fmt.Sprintf("Acknowledge for your organisation (the link works once): %s/crisis/ack?token=%s\n\n%s", base, token, ack)
			}
		}
		subject := map[string]string{
			cyberpact.CrisisDeclared:  "CRISIS declared",
			cyberpact.CrisisEscalated: fmt.Sprintf("CRISIS escalated to you (level %d): not yet acknowledged", al.Level),
			cyberpact.CrisisEnded:     "Crisis ended",
		}[al.Kind]
		body := fmt.Sprintf("Crisis %d on incident %s: %s.\n\n%s\n\n%s\n", c.ID, c.Incident, al.Kind, ack, inc.Raw)
		err = d.Mail.Mail(ctx, al.Target, al.Key, string(cyberpact.EventCrisis), fmt.Sprintf("[cyberpact] %s: crisis %d, %s", subject, c.ID, c.Incident), body)
	default:
		err = fmt.Errorf("unknown channel %q", al.Channel)
	}
	if ctx.Err() != nil && err != nil {
		return false, nil
	}
	al.Attempts++
	if err == nil {
		al.Status, al.Done, al.LastError = cyberpact.DeliveryDelivered, d.now(), ""
		d.Metrics.done(al.Channel, cyberpact.DeliveryDelivered)
		return true, nil
	}
	al.LastError = err.Error()
	maxAttempts := d.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 10
	}
	if al.Attempts >= maxAttempts {
		al.Status, al.Done = cyberpact.DeliveryFailed, d.now()
		d.Metrics.done(al.Channel, cyberpact.DeliveryFailed)
	} else {
		al.NextAttempt = d.now().Add(Backoff(al.Attempts))
		d.Metrics.retry(al.Channel)
	}
	return true, nil
}
