package cyberpact

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// SourceKind is what a feed source serves.
type SourceKind string

const (
	SourceTAXII SourceKind = "taxii" // a TAXII 2.1 collection: URL is the API root, Collection the collection's id
	SourceMISP  SourceKind = "misp"  // a MISP feed: URL is the directory of manifest.json and UUID.json
	SourceCSV   SourceKind = "csv"   // CSV rows, read with Columns
	SourceList  SourceKind = "list"  // one value a line, # starts a comment
)

// ParseSourceKind reads taxii, misp, csv or list. Returns EINVALID
// otherwise.
func ParseSourceKind(s string) (SourceKind, error) {
	switch k := SourceKind(s); k {
	case SourceTAXII, SourceMISP, SourceCSV, SourceList:
		return k, nil
	}
	return "", Errorf(EINVALID, "source kind %q is not taxii, misp, csv or list", s)
}

// Source is an external feed the hub ingests on a schedule: what it reads
// is imported as produced by Org (0: the hub itself) for Audience, through
// the one audited import path, incrementally (SourceState).
type Source struct {
	ID   int64      `json:"id"`
	Name string     `json:"name"` // unique on this hub, e.g. "circl-osint"
	Kind SourceKind `json:"kind"`
	URL  string     `json:"url"`
	// Collection is the TAXII collection's id (taxii only).
	Collection string `json:"collection,omitempty"`
	// User and Key authenticate: for TAXII, HTTP Basic with both or a
	// Bearer token with Key alone; for the others, Key is sent as the
	// Authorization header as it is (MISP's form) and User as the
	// Basic user when set. Key is never printed or logged; stores keep
	// it sealed.
	User string `json:"user,omitempty"`
	Key  string `json:"-"`
	// Columns maps the fields of a CSV row (csv only): see
	// ParseColumnMap. Type is the observable type of every value when
	// no column gives it (csv and list): ipv4-addr, ipv6-addr,
	// domain-name, url, email-addr, md5, sha1, sha256, or auto (told
	// from the value).
	Columns string `json:"columns,omitempty"`
	Type    string `json:"type,omitempty"`

	Audience Audience      `json:"audience"`
	Org      int64         `json:"org,omitempty"`
	Interval time.Duration `json:"interval"`
	Created  time.Time     `json:"created"`
}

// String names the source without its key.
func (s *Source) String() string {
	return fmt.Sprintf("source %s (%s %s)", s.Name, s.Kind, s.URL)
}

// LogValue keeps the key out of structured logs.
func (s *Source) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", s.Name), slog.String("kind", string(s.Kind)), slog.String("url", s.URL))
}

// MaySeeSource is the rule for sources and their status: hub admins see
// every source; anyone else only those whose objects its own organisation
// produces. To anyone else a source does not exist.
func MaySeeSource(p *Principal, s *Source) bool {
	return p.User.Role == RoleAdmin || (s.Org != 0 && s.Org == p.Org.ID)
}

// MinSourceInterval is the shortest interval a source may have.
const MinSourceInterval = time.Minute

// Check reports what makes a new source unusable.
func (s *Source) Check() error {
	if err := CheckName("source", s.Name); err != nil {
		return err
	}
	if strings.ContainsAny(s.Name, " /") || len(s.Name) > 64 {
		return Errorf(EINVALID, "source name %q must be at most 64 characters without spaces or slashes", s.Name)
	}
	if _, err := ParseSourceKind(string(s.Kind)); err != nil {
		return err
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "source %s: URL %q is not an http or https URL", s.Name, s.URL)
	}
	if s.Kind == SourceTAXII && s.Collection == "" {
		return Errorf(EINVALID, "source %s: a TAXII source needs the collection's id", s.Name)
	}
	if s.Kind != SourceTAXII && s.Collection != "" {
		return Errorf(EINVALID, "source %s: only a TAXII source has a collection", s.Name)
	}
	if s.Kind == SourceCSV {
		if _, err := ParseColumnMap(s.Columns); err != nil {
			return Errorf(EINVALID, "source %s: %s", s.Name, ErrorMessage(err))
		}
	} else if s.Columns != "" {
		return Errorf(EINVALID, "source %s: only a CSV source has a column map", s.Name)
	}
	if s.Type != "" {
		if s.Kind != SourceCSV && s.Kind != SourceList {
			return Errorf(EINVALID, "source %s: only CSV and list sources have a value type", s.Name)
		}
		if !ValueTypes[s.Type] {
			return Errorf(EINVALID, "source %s: value type %q is not one of %s", s.Name, s.Type, valueTypeNames)
		}
	}
	switch s.Audience.Kind {
	case AudienceOrg, AudienceAll:
	case AudienceGroup:
		if s.Audience.Group == 0 {
			return Errorf(EINVALID, "source %s: audience group without a group", s.Name)
		}
	default:
		return Errorf(EINVALID, "source %s: no audience", s.Name)
	}
	if s.Audience.Kind == AudienceOrg && s.Org == 0 {
		return Errorf(EINVALID, "source %s: audience org needs the organisation (--org) the objects stay with", s.Name)
	}
	if s.Interval < MinSourceInterval {
		return Errorf(EINVALID, "source %s: interval %s is shorter than %s", s.Name, s.Interval, MinSourceInterval)
	}
	return nil
}

// ValueTypes are the value types of CSV and list sources.
var ValueTypes = map[string]bool{"auto": true, "ipv4-addr": true, "ipv6-addr": true, "domain-name": true, "url": true,
	"email-addr": true, "md5": true, "sha1": true, "sha256": true}

const valueTypeNames = "auto, ipv4-addr, ipv6-addr, domain-name, url, email-addr, md5, sha1, sha256"

// ColumnMap says which column of a CSV row holds what, by 1-based
// number: the value (required) and optionally its type, a name, a
// description and labels (separated by ";" or "|" within the cell).
type ColumnMap struct {
	Value, Type, Name, Description, Labels int
	// Header is true when the first row names the columns and is skipped.
	Header bool
}

// ParseColumnMap reads a column map such as "value=1,type=2,name=3,header":
// fields value, type, name, description and labels with 1-based column
// numbers, and the word header when the first row is one to skip.
// Returns EINVALID, naming the bad field, otherwise.
func ParseColumnMap(s string) (ColumnMap, error) {
	var m ColumnMap
	if strings.TrimSpace(s) == "" {
		return m, Errorf(EINVALID, "no column map: give at least value=N (e.g. value=1,type=2,header)")
	}
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "header" {
			m.Header = true
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		n := 0
		if ok {
			fmt.Sscanf(v, "%d", &n)
		}
		if !ok || n < 1 || fmt.Sprint(n) != strings.TrimSpace(v) {
			return m, Errorf(EINVALID, "column map field %q is not NAME=N with a column number from 1, or header", f)
		}
		switch strings.TrimSpace(k) {
		case "value":
			m.Value = n
		case "type":
			m.Type = n
		case "name":
			m.Name = n
		case "description":
			m.Description = n
		case "labels":
			m.Labels = n
		default:
			return m, Errorf(EINVALID, "column map field %q: %q is not value, type, name, description or labels", f, k)
		}
	}
	if m.Value == 0 {
		return m, Errorf(EINVALID, "column map %q has no value=N column", s)
	}
	return m, nil
}

// SourceState is where ingestion of a source stands: what the last run
// did, the totals, and the source's own cursor (Cursor: a TAXII
// added_after; ETag and Digest of a CSV or list body; Events: each MISP
// event's uuid with the timestamp last imported). The cursors move only
// after what they cover has been committed.
type SourceState struct {
	Source      int64     `json:"source"`
	LastRun     time.Time `json:"last_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Failures    int       `json:"consecutive_failures"` // failed runs in a row since the last success
	Runs        int64     `json:"runs"`

	// What the last run did, and the totals of all runs.
	LastAdded    int   `json:"last_added"`
	LastPresent  int   `json:"last_present"`
	LastRejected int   `json:"last_rejected"`
	Added        int64 `json:"added"`
	Present      int64 `json:"present"`
	Rejected     int64 `json:"rejected"`

	// Rejections are why the last run's first rejected objects (at most
	// MaxSourceRejections) were refused, with where they came from.
	Rejections []string `json:"last_rejections,omitempty"`

	Cursor string           `json:"cursor,omitempty"`
	ETag   string           `json:"etag,omitempty"`
	Digest string           `json:"digest,omitempty"`
	Events map[string]int64 `json:"events,omitempty"`
}

// MaxSourceRejections is how many reasons for rejected objects a
// source's state keeps from its last run.
const MaxSourceRejections = 5

// Due reports whether a source with this state is due to run at now: it
// has never run, or its interval has passed since the last run.
func (st *SourceState) Due(s *Source, now time.Time) bool {
	return st.LastRun.IsZero() || !now.Before(st.LastRun.Add(s.Interval))
}

// SourceStore keeps the hub's feed sources and their state.
type SourceStore interface {
	// CreateSource adds a source and sets its ID and Created. Returns
	// EINVALID for a source that does not check, ENOTFOUND for an
	// unknown org or group, ECONFLICT when the name is taken.
	CreateSource(ctx context.Context, s *Source, actor string) error
	// Sources lists the sources by name, keys included.
	Sources(ctx context.Context) ([]*Source, error)
	// SourceByName returns ENOTFOUND when there is none.
	SourceByName(ctx context.Context, name string) (*Source, error)
	// DeleteSource removes a source with its state (what it brought
	// stays). Returns ENOTFOUND.
	DeleteSource(ctx context.Context, name string, actor string) error
	// SourceState returns a source's state, the zero state (Source set)
	// before its first run. Returns ENOTFOUND for an unknown source.
	SourceState(ctx context.Context, source int64) (*SourceState, error)
	// SaveSourceState replaces a source's state. Returns ENOTFOUND.
	SaveSourceState(ctx context.Context, st *SourceState) error
}

// SourceStatus is what the CLI and the API show of a source: the source
// (never its key), its state (the MISP events by count alone), how many MISP events it
// has imported, and when it is next due.
type SourceStatus struct {
	Source *Source      `json:"source"`
	State  *SourceState `json:"state"`
	Events int          `json:"misp_events,omitempty"`
	Next   time.Time    `json:"next_run,omitzero"` // zero: due now
}

// StatusOfSource reads the status of s from ss.
func StatusOfSource(ctx context.Context, ss SourceStore, s *Source) (*SourceStatus, error) {
	st, err := ss.SourceState(ctx, s.ID)
	if err != nil {
		return nil, err
	}
	out := &SourceStatus{Source: s, State: st, Events: len(st.Events)}
	st.Events, st.ETag, st.Digest = nil, "", ""
	if !st.LastRun.IsZero() {
		out.Next = st.LastRun.Add(s.Interval)
	}
	return out, nil
}
