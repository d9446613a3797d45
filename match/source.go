package match

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
)

// LastSightings returns, for each indicator sighted by a sighting that f
// selects (its Types are set to sighting), the latest time it was seen:
// the sighting's last_seen, else its first_seen, else its modified or
// created time. The hub feeds these into the decay, so that a sighting
// restores an indicator's score (see Decay.Score).
func LastSightings(ctx context.Context, store cyberpact.ObjectStore, f cyberpact.ObjectFilter) (map[string]time.Time, error) {
	f.Types = []string{"sighting"}
	out := map[string]time.Time{}
	err := store.EachObject(ctx, f, func(o *cyberpact.Object) error {
		ref, t := sightingTime(o.Raw)
		if ref != "" && t.After(out[ref]) {
			out[ref] = t
		}
		return nil
	})
	return out, err
}

// sightingTime reads what a sighting sighted and when it was last seen.
func sightingTime(raw []byte) (string, time.Time) {
	var s struct {
		Ref       string `json:"sighting_of_ref"`
		LastSeen  string `json:"last_seen"`
		FirstSeen string `json:"first_seen"`
		Modified  string `json:"modified"`
		Created   string `json:"created"`
	}
	if json.Unmarshal(raw, &s) != nil {
		return "", time.Time{}
	}
	for _, v := range []string{s.LastSeen, s.FirstSeen, s.Modified, s.Created} {
		if v == "" {
			continue
		}
		if t, err := stix.ParseTime(v); err == nil {
			return s.Ref, t
		}
	}
	return s.Ref, time.Time{}
}

// StoreIndicators yields the raw JSON of the indicator versions f selects
// (its Types are set to indicator), for Build or Patch, each with the time
// lastSighted gives for it written in as x_cyberpact_last_sighted.
func StoreIndicators(ctx context.Context, store cyberpact.ObjectStore, f cyberpact.ObjectFilter, lastSighted map[string]time.Time) iter.Seq2[[]byte, error] {
	f.Types = []string{"indicator"}
	return func(yield func([]byte, error) bool) {
		stop := errStop{}
		err := store.EachObject(ctx, f, func(o *cyberpact.Object) error {
			if !yield(WithLastSighted(o.Raw, lastSighted[o.ID]), nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != error(stop) {
			yield(nil, err)
		}
	}
}

type errStop struct{}

func (errStop) Error() string { return "stopped" }

// WithLastSighted returns the JSON object raw with the property
// x_cyberpact_last_sighted set to t (raw itself when t is zero), the
// property the index reads the last sighting from.
func WithLastSighted(raw []byte, t time.Time) []byte {
	if t.IsZero() {
		return raw
	}
	end := bytes.LastIndexByte(raw, '}')
	if end < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw)+64)
	out = append(out, raw[:end]...)
	if bytes.IndexByte(bytes.TrimSpace(raw[:end]), ':') >= 0 {
		out = append(out, ',')
	}
	out = append(out, `"x_cyberpact_last_sighted":"`...)
	out = append(out, t.UTC().Format("2006-01-02T15:04:05.000Z")...)
	out = append(out, '"', '}')
	return out
}
