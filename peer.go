package cyberpact

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// SyncDirection says which way objects flow between the hub and a peer.
type SyncDirection string

const (
	SyncPull SyncDirection = "pull" // the hub reads the peer's collection
	SyncPush SyncDirection = "push" // the hub adds its objects to the peer's collection
	SyncBoth SyncDirection = "both"
)

// Pulls reports whether the direction reads from the peer.
func (d SyncDirection) Pulls() bool { return d == SyncPull || d == SyncBoth }

// Pushes reports whether the direction writes to the peer.
func (d SyncDirection) Pushes() bool { return d == SyncPush || d == SyncBoth }

// ParseSyncDirection reads pull, push or both. Returns EINVALID otherwise.
func ParseSyncDirection(s string) (SyncDirection, error) {
	switch d := SyncDirection(s); d {
	case SyncPull, SyncPush, SyncBoth:
		return d, nil
	}
	return "", Errorf(EINVALID, "direction %q is not pull, push or both", s)
}

// Peer is another hub this hub exchanges objects with over TAXII 2.1: one
// collection of one API root, reached with one account of the peer's.
type Peer struct {
	ID   int64  `json:"id"`
	Name string `json:"name"` // unique on this hub, e.g. "london"
	// URL is the peer's TAXII API root, e.g.
	// https://hub.example/taxii2/api1/; Collection is the id of the
	// collection read and written there.
	URL        string `json:"url"`
	Collection string `json:"collection"`
	// User and Key are the credentials of the peer's account for this hub
	// (a "sync" user there): HTTP Basic with both, or a Bearer token when
	// User is empty. Key is never printed or logged; stores keep it
	// encrypted.
	User      string        `json:"user,omitempty"`
	Key       string        `json:"-"`
	Direction SyncDirection `json:"direction"`
	// Audience is who on this hub receives what is pulled, and what the
	// peer stands for when pushing (see MayPull and MayPush); Org is the local
	// organisation pulled objects are attributed to (one that represents
	// the peer hub), 0 for the hub itself.
	Audience Audience `json:"audience"`
	Org      int64    `json:"org,omitempty"`
	// PageSize is the limit asked of the peer per request; 0 means the
	// default of the sync engine.
	PageSize int       `json:"page_size,omitempty"`
	Created  time.Time `json:"created"`
}

// String names the peer without its key.
func (p *Peer) String() string {
	return fmt.Sprintf("peer %s (%s collection %s, %s)", p.Name, p.URL, p.Collection, p.Direction)
}

// LogValue keeps the key out of structured logs.
func (p *Peer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("url", p.URL), slog.String("collection", p.Collection))
}

// PeerState is where synchronisation with a peer stands. The cursors only
// move after what they cover has been committed to the store, so a run cut
// short resumes where the last committed page ended.
type PeerState struct {
	Peer int64 `json:"peer"`
	// PullAddedAfter is the added_after of the pull in progress (or of the
	// next one): the peer's date_added of the last object of the last
	// complete pull, as the peer wrote it; "" for everything.
	PullAddedAfter string `json:"pull_added_after,omitempty"`
	// PullNext is the peer's next token within the pull in progress, ""
	// between pulls. Should the peer no longer honour it, the pull
	// restarts at PullAddedAfter (the import is idempotent).
	PullNext string `json:"pull_next,omitempty"`
	// PushAfter is the last local Seq considered for pushing.
	PushAfter int64 `json:"push_after"`

	LastRun     time.Time `json:"last_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	// LastErrorAt is when the last failed run ended; it and LastError
	// stay after a success, for the record (LastSuccess is later then).
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// Failures counts the runs that failed in a row since the last
	// success.
	Failures int `json:"consecutive_failures"`
	// Runs and FailedRuns count every run and every failed run.
	Runs       int64 `json:"runs"`
	FailedRuns int64 `json:"failed_runs"`
	// LastFailed is how many object versions failed in the last run
	// (each is kept as a SyncFailure and tried again).
	LastFailed int `json:"last_run_failed_objects"`
	// Stray counts, in all, the objects a peer answered to a read by id
	// that were not the version asked for: they are never imported.
	Stray int64 `json:"stray"`
	// RetryAfter is when the peer, answering 429 or 503, asked to be
	// tried again, when that was later than a run could wait; the
	// scheduler leaves it alone until then. Zero after a success.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	Pulled     int64     `json:"pulled"`   // versions added here from the peer, in all
	Pushed     int64     `json:"pushed"`   // versions the peer accepted from here, in all
	Withheld   int64     `json:"withheld"` // versions the sharing rule kept from crossing, in all
	// WithheldPull and WithheldPush divide Withheld: versions read from
	// the peer that the peer's audience here may not receive, and local
	// versions kept from going to the peer. PeerOwn counts the versions
	// not pushed because the peer's own organisation produced them (added
	// here through its account): no sharing rule held them back.
	WithheldPull int64 `json:"withheld_pull"`
	WithheldPush int64 `json:"withheld_push"`
	PeerOwn      int64 `json:"peer_own"`
}

// SyncFailure is one object version that could not cross, kept to be tried
// again on the next run until it succeeds.
type SyncFailure struct {
	Peer      int64         `json:"peer"`
	Direction SyncDirection `json:"direction"` // pull or push
	ObjectID  string        `json:"id"`
	Version   string        `json:"version"` // the version key (modified), "" when the object has none
	Seq       int64         `json:"seq,omitempty"`
	Reason    string        `json:"reason"`
	Attempts  int           `json:"attempts"`
	First     time.Time     `json:"first"`
	Last      time.Time     `json:"last"`
}

// Origin is the provenance of an object version added by federation:
// which peer hub it came from, from which collection, and when.
type Origin struct {
	Peer       string    `json:"peer"`
	URL        string    `json:"url"`
	Collection string    `json:"collection"`
	Synced     time.Time `json:"synced"`
}

// PeerStore keeps the peers of the hub, their synchronisation state and
// failures, and reads the provenance the store records at import
// (ImportOptions.Origin).
type PeerStore interface {
	// CreatePeer adds a peer and sets its ID and Created. Returns
	// EINVALID for a missing name, URL or collection, or a bad direction
	// or audience, ENOTFOUND for an unknown org or group, and ECONFLICT
	// when the name is taken.
	CreatePeer(ctx context.Context, p *Peer, actor string) error
	// Peers lists the peers by name, keys included.
	Peers(ctx context.Context) ([]*Peer, error)
	// PeerByName returns ENOTFOUND when there is none.
	PeerByName(ctx context.Context, name string) (*Peer, error)
	// DeletePeer removes a peer with its state and failures (the
	// provenance of what it brought stays). Returns ENOTFOUND.
	DeletePeer(ctx context.Context, name string, actor string) error

	// PeerState returns the state of a peer, the zero state (Peer set)
	// before its first run. Returns ENOTFOUND for an unknown peer.
	PeerState(ctx context.Context, peer int64) (*PeerState, error)
	// SavePeerState replaces a peer's state. Returns ENOTFOUND.
	SavePeerState(ctx context.Context, st *PeerState) error

	// RecordFailure adds a failure, or when one of the same peer,
	// direction, id and version is kept, updates its reason and counts
	// one more attempt.
	RecordFailure(ctx context.Context, f *SyncFailure) error
	// ClearFailure forgets a failure that has now succeeded; forgetting
	// one that is not kept is no error.
	ClearFailure(ctx context.Context, peer int64, dir SyncDirection, id, version string) error
	// Failures lists a peer's failures, oldest first.
	Failures(ctx context.Context, peer int64) ([]*SyncFailure, error)

	// Origins returns the provenance of those of the given versions that
	// federation added, by Seq.
	Origins(ctx context.Context, seqs []int64) (map[int64]*Origin, error)
}

// MayPull is the sharing rule at the border for what comes in: whether a
// version at level may be pulled from a peer whose objects go to audience
// peer here (Peer.Audience). TLP:RED and TLP:AMBER+STRICT never cross
// (MayForward); TLP:AMBER is let in only for one sharing group or one
// organisation, never for all members.
func MayPull(level TLP, peer Audience) bool {
	if !MayForward(Release{TLP: level}) {
		return false
	}
	return level != TLPAmber || peer.Kind != AudienceAll
}

// MayPush is the sharing rule at the border for what goes out: whether a
// version released here as r may be added to a peer that stands for
// audience peer on this hub (Peer.Audience). TLP:RED and TLP:AMBER+STRICT
// never leave (MayForward); nor does an organisation's private object.
// What is shared with a sharing group goes only to a peer that stands for
// that group, and TLP:AMBER only so. What is shared with all members goes
// to any peer at TLP:GREEN or TLP:CLEAR.
func MayPush(r Release, peer Audience) bool {
	if !MayForward(r) {
		return false
	}
	switch r.Audience.Kind {
	case AudienceGroup:
		return peer.Kind == AudienceGroup && peer.Group == r.Audience.Group
	case AudienceAll:
		return r.TLP != TLPAmber
	}
	return false
}

// Check reports what makes a new peer unusable: its name, URL, collection,
// direction, key, audience and page size.
func (p *Peer) Check() error {
	if err := CheckName("peer", p.Name); err != nil {
		return err
	}
	if strings.ContainsAny(p.Name, " /") || len(p.Name) > 64 {
		return Errorf(EINVALID, "peer name %q must be at most 64 characters without spaces or slashes", p.Name)
	}
	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "peer URL %q is not an http or https URL of a TAXII API root", p.URL)
	}
	if p.Collection == "" {
		return Errorf(EINVALID, "peer %s: no collection id", p.Name)
	}
	if _, err := ParseSyncDirection(string(p.Direction)); err != nil {
		return err
	}
	if p.Key == "" {
		return Errorf(EINVALID, "peer %s: no key", p.Name)
	}
	switch p.Audience.Kind {
	case AudienceOrg, AudienceAll:
	case AudienceGroup:
		if p.Audience.Group == 0 {
			return Errorf(EINVALID, "peer %s: audience group without a group", p.Name)
		}
	default:
		return Errorf(EINVALID, "peer %s: no audience", p.Name)
	}
	if p.Audience.Kind == AudienceOrg && p.Org == 0 {
		return Errorf(EINVALID, "peer %s: audience org needs the organisation (--org) that pulled objects go to", p.Name)
	}
	if p.PageSize < 0 {
		return Errorf(EINVALID, "peer %s: page size %d is negative", p.Name, p.PageSize)
	}
	return nil
}
