package cyberpact

import (
	"context"
	"time"
)

// Status is the outcome of one POST of objects (a TAXII status resource):
// how many objects came, which were stored and which refused, and why.
type Status struct {
	ID               string         `json:"id"`
	Org              int64          `json:"-"`      // the organisation that posted; only it may read the status
	Status           string         `json:"status"` // "complete" or "pending"
	RequestTimestamp time.Time      `json:"request_timestamp"`
	Total            int            `json:"total_count"`
	Success          int            `json:"success_count"`
	Failure          int            `json:"failure_count"`
	Pending          int            `json:"pending_count"`
	Successes        []StatusDetail `json:"successes,omitempty"`
	Failures         []StatusDetail `json:"failures,omitempty"`
	Pendings         []StatusDetail `json:"pendings,omitempty"`
}

// StatusDetail names one object of a status and, for failures, why.
type StatusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Message string `json:"message,omitempty"`
}

// StatusStore keeps the statuses of POSTs.
type StatusStore interface {
	// CreateStatus stores s.
	CreateStatus(ctx context.Context, s *Status) error
	// Status returns the status id posted by org. Returns ENOTFOUND when
	// there is none or org did not post it.
	Status(ctx context.Context, id string, org int64) (*Status, error)
}
