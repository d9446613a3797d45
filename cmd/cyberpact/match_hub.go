package main

import (
	"context"
	"fmt"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
)

// loadOrgIndex builds the index of `cyberpact match --org ORG`: every
// active indicator (latest versions, not revoked) the organisation may
// see in the hub's store, with the last sighting of each that it may see
// fed into the decay, so that a sighting restores an indicator's score.
func loadOrgIndex(ctx context.Context, e *env, data, org string) (*match.Index, error) {
	db, err := e.openExistingStore(ctx, data)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	viewer, err := orgViewer(ctx, db, org)
	if err != nil {
		return nil, err
	}
	f := cyberpact.ObjectFilter{Viewer: viewer}
	sights, err := match.LastSightings(ctx, db, f)
	if err != nil {
		return nil, fmt.Errorf("reading sightings: %w", err)
	}
	f.ExcludeRevoked = true
	return match.Build(match.StoreIndicators(ctx, db, f, sights), match.BuildOptions{})
}
