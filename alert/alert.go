// Package alert delivers notifications of events to subscribers: it
// follows the store's changes, writes a notification for each event and
// subscription into the store's outbox, and delivers the outbox on each
// subscription's channel (signed webhooks, mail over SMTP), at least
// once, retrying with backoff.
//
// A notification never carries more than its subscriber may see when it
// is sent: the event is matched with the subscriber's viewer when it is
// enqueued, and the object is read again with the subscriber's viewer, as
// its organisation's groups are at that moment, just before each attempt.
// What the subscriber can no longer see is withheld, not sent.
package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/incident"
)

// Store is what the dispatcher reads and writes.
type Store interface {
	cyberpact.ObjectStore
	cyberpact.AlertStore
	GroupsOf(ctx context.Context, org int64) ([]int64, error)
	// OrgByID and Users name a subscriber, for the events of joint
	// incidents, which address organisations and users by name.
	OrgByID(ctx context.Context, id int64) (*cyberpact.Org, error)
	Users(ctx context.Context, org int64) ([]*cyberpact.User, error)
}

// Dispatcher turns new object versions into notifications and delivers
// them. Its zero fields take the defaults noted.
type Dispatcher struct {
	Store   Store
	Webhook *Webhook // nil: a webhook subscription's notifications stay pending
	Mail    *Mailer  // nil: a mail subscription's notifications stay pending
	Metrics *Metrics // nil: nothing counted
	Log     *slog.Logger

	// Now is the clock (time.Now when nil); tests move it to expire
	// claims and backoffs without waiting.
	Now func() time.Time
	// Lease is how long a claimed notification is kept from other
	// dispatchers (default 2 minutes): one stopped in mid-delivery leaves
	// it to be taken again after that.
	Lease time.Duration
	// Workers deliver in parallel (default 16).
	Workers int
	// MaxAttempts before a notification fails for good (default 10).
	MaxAttempts int
	// URL is the hub's address as its users reach it (e.g.
	// https://hub.example.org), for the acknowledgement links and routes
	// crisis alerts carry; without it mail carries no link.
	URL string
	// Poll is how often the outbox is looked at when nothing is notified
	// (default 1 s): for retries that come due.
	Poll time.Duration
}

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.Default()
}

// Run scans and delivers until ctx ends, following the store's change
// notices when it has them. It returns ctx's error.
func (d *Dispatcher) Run(ctx context.Context) error {
	var changes <-chan struct{}
	if n, ok := d.Store.(cyberpact.ChangeNotifier); ok {
		c, stop := n.Changes()
		defer stop()
		changes = c
	}
	poll := d.Poll
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if _, err := d.Scan(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("alerts: scanning for events", "err", err)
		}
		if _, err := d.Deliver(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("alerts: delivering", "err", err)
		}
		if _, err := d.Escalate(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("crisis: escalating", "err", err)
		}
		if _, err := d.DeliverCrisis(ctx); err != nil && ctx.Err() == nil {
			d.log().Error("crisis: delivering", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changes:
		case <-t.C:
		}
	}
}

const scanPage = 1000

// Scan reads the object versions added since the store's alert cursor
// and enqueues a notification for each subscription each one is an event
// of, moving the cursor in the same transaction. It returns how many
// notifications it enqueued (repeats of ones already there included).
func (d *Dispatcher) Scan(ctx context.Context) (int, error) {
	total := 0
	for {
		after, err := d.Store.AlertCursor(ctx)
		if err != nil {
			return total, err
		}
		// The hub's own read (no viewer): the sharing rule is applied
		// per subscriber below.
		page, err := d.Store.FindObjects(ctx, cyberpact.ObjectFilter{After: after, AllVersions: true, Limit: scanPage})
		if err != nil {
			return total, err
		}
		if len(page.Objects) == 0 {
			return total, nil
		}
		subs, err := d.Store.Subscriptions(ctx, 0)
		if err != nil {
			return total, err
		}
		viewers := map[int64]cyberpact.Viewer{}
		names := map[int64][2]string{} // subscription -> its organisation's and user's names
		incidents := &incident.Service{Store: d.Store}
		var ns []*cyberpact.Notification
		for _, o := range page.Objects {
			sighted := int64(0)
			if o.Type == "sighting" {
				if sighted, err = d.sightedProducer(ctx, o); err != nil {
					return total, err
				}
			}
			for _, s := range subs {
				if s.Event.IsIncidentEvent() {
					n, ok := names[s.ID]
					if !ok {
						if n, err = d.names(ctx, s); err != nil {
							return total, err
						}
						names[s.ID] = n
					}
					if !s.MatchesIncident(o, n[0], n[1]) {
						continue
					}
				} else if !s.Matches(o, sighted) {
					continue
				}
				v, ok := viewers[s.Org]
				if !ok {
					if v, err = d.viewer(ctx, s.Org); err != nil {
						return total, err
					}
					viewers[s.Org] = v
				}
				if !cyberpact.MaySee(v, o.Release) {
					continue
				}
				if s.Event.IsIncidentEvent() {
					// Only what the incident's page shows the subscriber.
					ok, err := incidents.Attached(ctx, v, o)
					if err != nil {
						return total, err
					}
					if !ok {
						continue
					}
				}
				ns = append(ns, &cyberpact.Notification{Subscription: s.ID, Org: s.Org, Event: s.Event, Seq: o.Seq, ObjectID: o.ID, Key: cyberpact.NewDeliveryKey()})
			}
		}
		last := page.Objects[len(page.Objects)-1].Seq
		if err := d.Store.EnqueueDeliveries(ctx, ns, last); err != nil {
			return total, err
		}
		total += len(ns)
		d.Metrics.enqueued(len(ns))
		if !page.More {
			return total, nil
		}
	}
}

// sightedProducer is the producer organisation of the latest version of
// the object sighting o sights, 0 when the hub does not hold it.
func (d *Dispatcher) sightedProducer(ctx context.Context, o *cyberpact.Object) (int64, error) {
	var body struct {
		Of string `json:"sighting_of_ref"`
	}
	if json.Unmarshal(o.Raw, &body) != nil || body.Of == "" {
		return 0, nil
	}
	of, err := d.Store.Object(ctx, body.Of, nil)
	if cyberpact.ErrorCode(err) == cyberpact.ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return of.Release.Producer, nil
}

// names returns the names of s's organisation and, for a user's
// subscription, of its user ("" for a user no longer there).
func (d *Dispatcher) names(ctx context.Context, s *cyberpact.Subscription) ([2]string, error) {
	var n [2]string
	o, err := d.Store.OrgByID(ctx, s.Org)
	if err != nil {
		return n, err
	}
	n[0] = o.Name
	if s.User != 0 {
		users, err := d.Store.Users(ctx, s.Org)
		if err != nil {
			return n, err
		}
		for _, u := range users {
			if u.ID == s.User {
				n[1] = u.Name
			}
		}
	}
	return n, nil
}

// viewer is what org may see now: its groups, nation, sector and
// clearances as they are.
func (d *Dispatcher) viewer(ctx context.Context, org int64) (cyberpact.Viewer, error) {
	groups, err := d.Store.GroupsOf(ctx, org)
	if err != nil {
		return cyberpact.Viewer{}, err
	}
	o, err := d.Store.OrgByID(ctx, org)
	if err != nil {
		return cyberpact.Viewer{}, err
	}
	return cyberpact.OrgViewer(o, groups), nil
}

const claimBatch = 256

// Deliver makes one attempt on every notification due now, claiming them
// in batches, until none is due. It returns how many attempts it made.
func (d *Dispatcher) Deliver(ctx context.Context) (int, error) {
	lease := d.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	workers := d.Workers
	if workers <= 0 {
		workers = 16
	}
	total := 0
	for ctx.Err() == nil {
		now := d.now()
		batch, err := d.Store.ClaimDeliveries(ctx, now, now.Add(lease), claimBatch)
		if err != nil || len(batch) == 0 {
			return total, err
		}
		subs, err := d.Store.Subscriptions(ctx, 0)
		if err != nil {
			return total, err
		}
		byID := map[int64]*cyberpact.Subscription{}
		for _, s := range subs {
			byID[s.ID] = s
		}
		// What each subscriber may see is read once per batch, as its
		// attempts are about to be made.
		views := &batchViews{d: d, viewers: map[int64]cyberpact.Viewer{}}
		work := make(chan *cyberpact.Notification)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var first error
		var finished []*cyberpact.Notification
		for range min(workers, len(batch)) {
			wg.Go(func() {
				for n := range work {
					done, err := d.attempt(ctx, views, byID[n.Subscription], n)
					mu.Lock()
					if err != nil && first == nil {
						first = err
					}
					if done {
						finished = append(finished, n)
					}
					mu.Unlock()
				}
			})
		}
	feed:
		for _, n := range batch {
			select {
			case work <- n:
			case <-ctx.Done():
				break feed
			}
		}
		close(work)
		wg.Wait()
		if err := d.finish(finished); err != nil && first == nil {
			first = err
		}
		total += len(batch)
		if first != nil {
			return total, first
		}
	}
	return total, ctx.Err()
}

// errWithheld is an attempt that found the object no longer visible to
// the subscriber.
var errWithheld = errors.New("withheld")

// attempt delivers n once and reports whether there is an outcome to
// record. A nil s is a subscription removed since: its rows went with it.
func (d *Dispatcher) attempt(ctx context.Context, views *batchViews, s *cyberpact.Subscription, n *cyberpact.Notification) (bool, error) {
	if s == nil {
		return false, nil
	}
	obj, err := views.visible(ctx, n)
	switch {
	case errors.Is(err, errWithheld):
		n.Status, n.Done, n.LastError = cyberpact.DeliveryWithheld, d.now(), ""
		d.Metrics.done(s.Channel, cyberpact.DeliveryWithheld)
		return true, nil
	case err != nil:
		return false, err
	}
	if ctx.Err() != nil {
		return false, nil // stopping: the claim lapses and it is taken again
	}
	msg := &Message{Event: n.Event, Subscription: s.ID, Key: n.Key, Object: obj.Raw, ObjectID: obj.ID, Type: obj.Type}
	switch s.Channel {
	case cyberpact.ChannelWebhook:
		if d.Webhook == nil {
			return false, nil
		}
		err = d.Webhook.Send(ctx, s, msg)
	case cyberpact.ChannelEmail:
		if d.Mail == nil {
			return false, nil
		}
		err = d.Mail.Send(ctx, s, msg)
	default:
		err = fmt.Errorf("unknown channel %q", s.Channel)
	}
	if ctx.Err() != nil && err != nil {
		return false, nil // stopped in mid-attempt: not a failure of the receiver
	}
	n.Attempts++
	if err == nil {
		n.Status, n.Done, n.LastError = cyberpact.DeliveryDelivered, d.now(), ""
		d.Metrics.done(s.Channel, cyberpact.DeliveryDelivered)
		return true, nil
	}
	n.LastError = err.Error()
	max := d.MaxAttempts
	if max <= 0 {
		max = 10
	}
	if n.Attempts >= max {
		n.Status, n.Done = cyberpact.DeliveryFailed, d.now()
		d.Metrics.done(s.Channel, cyberpact.DeliveryFailed)
	} else {
		n.NextAttempt = d.now().Add(Backoff(n.Attempts))
		d.Metrics.retry(s.Channel)
	}
	return true, nil
}

// finish records a batch's attempts even when the dispatcher is being
// stopped: the receivers have them, and recording them spares repeats.
func (d *Dispatcher) finish(ns []*cyberpact.Notification) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return d.Store.FinishAttempts(ctx, ns)
}

type versionKey struct {
	org int64
	id  string
}

// batchViews reads, once per batch, what each subscriber may see now.
type batchViews struct {
	d       *Dispatcher
	mu      sync.Mutex
	viewers map[int64]cyberpact.Viewer
	read    map[versionKey][]*cyberpact.Object
}

// visible reads the version n is about with its subscriber's viewer as it
// is now; errWithheld when the subscriber may not see it (or it is gone).
func (b *batchViews) visible(ctx context.Context, n *cyberpact.Notification) (*cyberpact.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.viewers[n.Org]
	if !ok {
		var err error
		if v, err = b.d.viewer(ctx, n.Org); err != nil {
			return nil, err
		}
		b.viewers[n.Org] = v
	}
	k := versionKey{n.Org, n.ObjectID}
	if b.read == nil {
		b.read = map[versionKey][]*cyberpact.Object{}
	}
	versions, ok := b.read[k]
	if !ok {
		var err error
		versions, err = b.d.Store.ObjectVersions(ctx, n.ObjectID, &v)
		if err != nil && cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			return nil, err
		}
		b.read[k] = versions
	}
	for _, o := range versions {
		if o.Seq == n.Seq && cyberpact.MaySee(v, o.Release) {
			return o, nil
		}
	}
	return nil, errWithheld
}

// Backoff is the wait after the attempt-th failed attempt: 2^(attempt-1)
// seconds, at most an hour, with up to a fifth of it added at random so
// that receivers that failed together are not retried together.
func Backoff(attempt int) time.Duration {
	b := time.Hour
	if attempt < 13 {
		b = min(time.Duration(1<<(attempt-1))*time.Second, time.Hour)
	}
	return b + rand.N(b/5+1)
}
