package cyberpact

import "context"

// Observable is one observable value an object holds, as the parser read
// it: Kind names what it is (ip, domain, url, email, md5, sha1, sha256,
// sha512, hash, or "other" with Type the STIX object type it belongs to)
// and Value is the value as written. Stores normalise it (match.Observable)
// before keeping it for correlation.
type Observable struct {
	Kind  string
	Type  string // the SCO type the value belongs to, e.g. "file", "mutex"
	Value string
}

// DefaultCorrelationCap is how many object versions a value is kept for;
// past it the value is over-common ("common, N+ objects") and no further
// objects are indexed under it.
const DefaultCorrelationCap = 10000

// Correlation is the answer to "who else has this value?": the objects,
// among those the viewer may see, that hold the value.
type Correlation struct {
	Value string `json:"value"` // the normalised value
	Kind  string `json:"kind"`
	// Warning names the warning list (known-benign or reserved values)
	// the value is on, "" when none.
	Warning string `json:"warning,omitempty"`
	// Common is set when the value is held by more object versions than
	// the store indexes: Count is then how many were seen, and Objects
	// lists only those indexed before the cap.
	Common bool  `json:"common,omitempty"`
	Count  int64 `json:"count,omitempty"`
	// Objects are the latest visible versions of the objects that hold
	// the value, in the order they were added.
	Objects []*Object `json:"-"`
}

// CorrelationStore finds the objects that hold an observable value. The
// store keeps a side table of the normalised values of every version,
// written in the import's own transaction.
type CorrelationStore interface {
	// Correlate returns the latest versions viewer may see of the objects
	// holding any of keys (the forms one value may be kept in, see
	// match.ObservableKeys), at most limit of them (0 means the store's
	// default), in the order they were added. Value and Kind are those of
	// the first key found; Common and Count are set when a key is held by
	// at least the store's cap of versions. Viewer must not be nil.
	Correlate(ctx context.Context, keys []string, viewer *Viewer, limit int) (*Correlation, error)
}

// SetValue names the value a correlation answers for: of keys, the forms
// the asked value may be stored under (most specific first), the first one
// found (found maps a key to its kind), else the first asked.
func (c *Correlation) SetValue(keys []string, found map[string]string) {
	c.Value, c.Kind = keys[0], ""
	for _, k := range keys {
		if kind, ok := found[k]; ok {
			c.Value, c.Kind = k, kind
			return
		}
	}
}
