package match

import (
	"math"
	"time"
)

// DefaultConfidence is the confidence of an indicator that gives none.
const DefaultConfidence = 50

// Decay says how fast indicators lose their score: a half-life per kind of
// value they test. Addresses are moved and reassigned within days,
// domains within weeks, while a file hash names the same file for ever.
type Decay struct {
	// HalfLife maps a kind to the time after which an indicator of that
	// kind is worth half its confidence. A kind absent from the map uses
	// Default; a zero or negative half-life means no decay.
	HalfLife map[Kind]time.Duration
	// Default is the half-life of kinds HalfLife does not list.
	Default time.Duration
}

// DefaultDecay is the decay the command line uses unless told otherwise.
var DefaultDecay = Decay{
	HalfLife: map[Kind]time.Duration{
		KindIP:     30 * 24 * time.Hour,
		KindDomain: 90 * 24 * time.Hour,
		KindURL:    60 * 24 * time.Hour,
		KindEmail:  180 * 24 * time.Hour,
		KindMD5:    5 * 365 * 24 * time.Hour,
		KindSHA1:   5 * 365 * 24 * time.Hour,
		KindSHA256: 5 * 365 * 24 * time.Hour,
		KindSHA512: 5 * 365 * 24 * time.Hour,
	},
	Default: 180 * 24 * time.Hour,
}

// halfLife returns the half-life of kind.
func (d Decay) halfLife(k Kind) time.Duration {
	if h, ok := d.HalfLife[k]; ok {
		return h
	}
	return d.Default
}

// Score returns the worth, from 0 to 100, of an indicator at time now:
//
//	confidence × 0.5^(age / half-life)
//
// where confidence is the indicator's (DefaultConfidence when it has
// none) and age runs from the latest of its valid_from, its modified
// time and the last time it was sighted (a zero lastSighted means never),
// so a new sighting restores the score. It is 0 before valid_from and from
// valid_until on (a zero validUntil means no end).
func (d Decay) Score(kind Kind, confidence int, validFrom, modified, validUntil, lastSighted, now time.Time) int {
	if confidence < 0 {
		confidence = DefaultConfidence
	}
	if !validUntil.IsZero() && !now.Before(validUntil) {
		return 0
	}
	if !validFrom.IsZero() && now.Before(validFrom) {
		return 0
	}
	start := validFrom
	if modified.After(start) {
		start = modified
	}
	if lastSighted.After(start) {
		start = lastSighted
	}
	h := d.halfLife(kind)
	if h <= 0 || start.IsZero() || !now.After(start) {
		return confidence
	}
	age := now.Sub(start)
	s := float64(confidence) * math.Exp2(-float64(age)/float64(h))
	return int(math.Round(s))
}

// Score returns the indicator's score at time now under decay d.
func (ind *Indicator) Score(d Decay, now time.Time) int {
	return d.Score(ind.Kind, ind.confidence(), unix(ind.ValidFrom), unix(ind.Modified), unix(ind.ValidUntil), unix(ind.LastSighted), now)
}

// unix turns the nanosecond times Indicator keeps back into time.Time,
// with 0 meaning the zero time.
func unix(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
