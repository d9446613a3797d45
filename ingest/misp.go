package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/misp"
)

// runMISP reads a MISP feed as a MISP instance does: manifest.json (with
// If-None-Match after a run that fetched every event it listed), then
// only the events not yet imported or listed with a later timestamp than
// the one imported, each as UUID.json. Each event is converted to STIX
// (misp.WriteBundle, as misp-stix maps it) and imported on its own;
// its timestamp is remembered (SourceState.Events) once it is committed,
// so an event that fails is fetched again on the next run and the others
// are not. The source's audience and producer decide the release,
// whatever the events' distribution.
func (r *Runner) runMISP(ctx context.Context, src *cyberpact.Source, st *cyberpact.SourceState, res *Result) error {
	base := strings.TrimSuffix(src.URL, "/")
	etag := st.ETag
	if st.LastError != "" {
		etag = "" // something failed last time: read the manifest whole
	}
	body, h, err := r.get(ctx, src, base+"/manifest.json", etag)
	if errors.Is(err, errNotModified) {
		return nil
	}
	if err != nil {
		return err
	}
	var manifest map[string]struct {
		Timestamp json.RawMessage `json:"timestamp"`
	}
	if err := json.Unmarshal(body, &manifest); err != nil {
		return fmt.Errorf("%s/manifest.json is not a MISP feed manifest: %v", base, err)
	}
	if st.Events == nil {
		st.Events = map[string]int64{}
	}
	uuids := make([]string, 0, len(manifest))
	for u := range manifest {
		uuids = append(uuids, u)
	}
	slices.Sort(uuids)
	var failed []string
	for _, u := range uuids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		ts, err := strconv.ParseInt(strings.Trim(string(manifest[u].Timestamp), `"`), 10, 64)
		if err != nil || !validUUID(u) {
			failed = append(failed, fmt.Sprintf("manifest entry %q: not an event uuid with a timestamp", u))
			continue
		}
		if held, ok := st.Events[u]; ok && held >= ts {
			continue
		}
		if err := r.mispEvent(ctx, src, base, u, res); err != nil {
			failed = append(failed, err.Error())
			continue
		}
		st.Events[u] = ts
	}
	if len(failed) > 0 {
		more := ""
		if len(failed) > 3 {
			more = fmt.Sprintf(" (and %d more)", len(failed)-3)
			failed = failed[:3]
		}
		return fmt.Errorf("%s%s", strings.Join(failed, "; "), more)
	}
	st.ETag = h.Get("ETag")
	return nil
}

// mispEvent fetches one event of the feed and imports it.
func (r *Runner) mispEvent(ctx context.Context, src *cyberpact.Source, base, u string, res *Result) error {
	body, _, err := r.get(ctx, src, base+"/"+u+".json", "")
	if err != nil {
		return err
	}
	events, err := misp.Decode(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("event %s: %v", u, err)
	}
	var b bytes.Buffer
	if _, err := misp.WriteBundle(&b, events); err != nil {
		return fmt.Errorf("event %s: %v", u, err)
	}
	ir, err := r.importBundle(ctx, src, &b, "MISP event "+u)
	res.add(ir, "event "+u)
	if err != nil {
		return fmt.Errorf("event %s: %v", u, err)
	}
	return nil
}

// validUUID reports whether s has the form of a uuid: what an event file
// may be named.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}
