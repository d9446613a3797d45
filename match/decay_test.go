package match

import (
	"testing"
	"time"
)

func TestScore(t *testing.T) {
	day := 24 * time.Hour
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := Decay{HalfLife: map[Kind]time.Duration{KindIP: 10 * day, KindSHA256: 0}, Default: 100 * day}
	var zero time.Time
	for _, tc := range []struct {
		name                                string
		kind                                Kind
		conf                                int
		validFrom, modified, until, sighted time.Time
		now                                 time.Time
		want                                int
	}{
		{"FreshKeepsConfidence", KindIP, 80, t0, zero, zero, zero, t0, 80},
		{"OneHalfLifeHalves", KindIP, 80, t0, zero, zero, zero, t0.Add(10 * day), 40},
		{"TwoHalfLivesQuarter", KindIP, 80, t0, zero, zero, zero, t0.Add(20 * day), 20},
		{"NoConfidenceMeansFifty", KindIP, -1, t0, zero, zero, zero, t0, 50},
		{"OtherKindsUseDefault", KindDomain, 80, t0, zero, zero, zero, t0.Add(100 * day), 40},
		{"ZeroHalfLifeNeverDecays", KindSHA256, 80, t0, zero, zero, zero, t0.Add(1000 * day), 80},
		{"ModifiedRestartsTheClock", KindIP, 80, t0, t0.Add(10 * day), zero, zero, t0.Add(10 * day), 80},
		{"SightingRestores", KindIP, 80, t0, zero, zero, t0.Add(30 * day), t0.Add(40 * day), 40},
		{"OldSightingChangesNothing", KindIP, 80, t0.Add(10 * day), zero, zero, t0, t0.Add(20 * day), 40},
		{"ZeroAtValidUntil", KindIP, 80, t0, zero, t0.Add(5 * day), zero, t0.Add(5 * day), 0},
		{"ZeroAfterValidUntil", KindIP, 80, t0, zero, t0.Add(5 * day), zero, t0.Add(6 * day), 0},
		{"JustBeforeValidUntil", KindIP, 80, t0, zero, t0.Add(10 * day), zero, t0.Add(10*day - time.Second), 40},
		{"ZeroBeforeValidFrom", KindIP, 80, t0, zero, zero, zero, t0.Add(-time.Hour), 0},
		{"NoTimesNoDecay", KindIP, 70, zero, zero, zero, zero, t0, 70},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := d.Score(tc.kind, tc.conf, tc.validFrom, tc.modified, tc.until, tc.sighted, tc.now)
			if got != tc.want {
				t.Errorf("Score = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDefaultDecayHashesOutliveAddresses(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later := t0.Add(90 * 24 * time.Hour)
	var zero time.Time
	ip := DefaultDecay.Score(KindIP, 100, t0, zero, zero, zero, later)
	h := DefaultDecay.Score(KindSHA256, 100, t0, zero, zero, zero, later)
	if !(ip < h) {
		t.Errorf("after 90 days an address scores %d and a hash %d; addresses should decay faster", ip, h)
	}
}
