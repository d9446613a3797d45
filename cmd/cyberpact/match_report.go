package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// identityCreated is the created and modified time of the identity a
// report makes for its organisation: fixed, so that every report carries
// the same version and the hub counts it as already present.
const identityCreated = "2020-01-01T00:00:00.000Z"

// sightingReport gathers the alerts of `cyberpact match --report` into
// sightings, one per indicator per hour (UTC) of the events' times. It is
// an io.Writer of alert lines, as match.Stream writes them.
type sightingReport struct {
	org string // the reporting organisation's name, "" when unknown
	// share is how the sightings are reported: "" under the
	// organisation's name, "anonymous" (no identity, no refs to it, and
	// random ids: ids derived from the name would name it) or "counts"
	// (no identity object: a counted report carries sightings only).
	share     string
	timeNames []string // the events' time fields
	now       func() time.Time
	partial   []byte
	hours     map[sightingKey]*sightingHour
	err       error
}

type sightingKey struct {
	indicator string
	hour      int64 // unix seconds of the hour's start
}

type sightingHour struct {
	count       int
	first, last time.Time
}

// newSightingReport returns an empty report for org (may be "") of
// events whose times are in the time fields of fields.
func newSightingReport(org string, fields *match.Fields) *sightingReport {
	r := &sightingReport{org: org, now: time.Now, hours: map[sightingKey]*sightingHour{}}
	for _, f := range fields.List() {
		if f.Kind == match.KindTime {
			r.timeNames = append(r.timeNames, f.Name)
		}
	}
	return r
}

// Write takes alert lines, whole or in pieces.
func (r *sightingReport) Write(p []byte) (int, error) {
	r.partial = append(r.partial, p...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.add(r.partial[:i])
		r.partial = r.partial[i+1:]
	}
	return len(p), nil
}

// add counts one alert: a hit of each of its indicators at the event's
// time, or at the time of reading when the event has none.
func (r *sightingReport) add(line []byte) {
	var a struct {
		Event      map[string]any `json:"event"`
		Indicators []string       `json:"indicators"`
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	if err := json.Unmarshal(line, &a); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("reading an alert: %v", err)
		}
		return
	}
	t, ok := r.eventTime(a.Event)
	if !ok {
		t = r.now()
	}
	t = t.UTC()
	hour := t.Truncate(time.Hour).Unix()
	for _, ind := range a.Indicators {
		k := sightingKey{ind, hour}
		h := r.hours[k]
		if h == nil {
			h = &sightingHour{first: t, last: t}
			r.hours[k] = h
		}
		h.count++
		if t.Before(h.first) {
			h.first = t
		}
		if t.After(h.last) {
			h.last = t
		}
	}
}

// eventTime reads the first time field the event has: an RFC 3339 string
// or seconds since the epoch (Zeek's ts), as a number or a string.
func (r *sightingReport) eventTime(ev map[string]any) (time.Time, bool) {
	for _, name := range r.timeNames {
		v, ok := ev[name]
		if !ok {
			// A dotted name in a nested event.
			var cur any = ev
			for _, part := range strings.Split(name, ".") {
				m, isMap := cur.(map[string]any)
				if !isMap {
					cur = nil
					break
				}
				cur = m[part]
			}
			v, ok = cur, cur != nil
		}
		if !ok {
			continue
		}
		switch x := v.(type) {
		case string:
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t, true
			}
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return epoch(f), true
			}
		case float64:
			return epoch(x), true
		}
	}
	return time.Time{}, false
}

func epoch(f float64) time.Time {
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9))
}

// reportUUID is a UUID of the version-4 form derived from parts, so that
// one organisation's report of one indicator in one hour always has the
// same id.
func reportUUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// identityID is the id of the identity a report makes for org.
func identityID(org string) string {
	return "identity--" + reportUUID("cyberpact identity", org)
}

// Bundle returns the report as a STIX bundle: the organisation's identity
// when it is known, then one sighting per indicator and hour, in order of
// hour and indicator, and how many sightings it holds. Each sighting's id
// is derived from the organisation, indicator and hour, and its modified
// is the time of the report, so reporting the same hour again makes a
// new version of the same sighting rather than another one: the version
// counts the hits of the events given to that run.
func (r *sightingReport) Bundle() ([]byte, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	keys := make([]sightingKey, 0, len(r.hours))
	for k := range r.hours {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].hour != keys[j].hour {
			return keys[i].hour < keys[j].hour
		}
		return keys[i].indicator < keys[j].indicator
	})
	now := r.now().UTC()
	var objs []any
	ident := ""
	if r.org != "" && len(keys) > 0 && r.share != "anonymous" {
		ident = identityID(r.org)
		if r.share == "" {
			objs = append(objs, map[string]any{"type": "identity", "spec_version": "2.1", "id": ident,
				"created": identityCreated, "modified": identityCreated, "name": r.org, "identity_class": "organization"})
		}
	}
	for _, k := range keys {
		h := r.hours[k]
		created := time.Unix(k.hour, 0).UTC()
		modified := now
		if !modified.After(created) {
			modified = created.Add(time.Millisecond)
		}
		id := "sighting--" + reportUUID("cyberpact sighting", r.org, k.indicator, strconv.FormatInt(k.hour, 10))
		if r.share == "anonymous" {
			id = "sighting--" + uuid.NewString()
		}
		s := map[string]any{"type": "sighting", "spec_version": "2.1",
			"id":      id,
			"created": stix.FormatTime(created), "modified": stix.FormatTime(modified),
			"sighting_of_ref": k.indicator, "count": h.count,
			"first_seen": stix.FormatTime(h.first), "last_seen": stix.FormatTime(h.last)}
		if ident != "" {
			s["created_by_ref"] = ident
			s["where_sighted_refs"] = []string{ident}
		}
		objs = append(objs, s)
	}
	b, err := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + reportUUID("cyberpact report", r.org, now.String()), "objects": objs})
	if err != nil {
		return nil, 0, err
	}
	return append(b, '\n'), len(keys), nil
}

// reportTarget is where `match --report` sends its sightings.
type reportTarget struct {
	file     string // --report-file
	hub, key string // --hub, --key
	org      string // --org: imported into the store as that organisation
	data     string
	share    string // "", "anonymous" or "counts" (sightingReport.share)
}

// deliverReport writes the report's bundle to each target and says on
// stderr what became of it.
func deliverReport(ctx context.Context, e *env, r *sightingReport, t reportTarget) error {
	bundle, n, err := r.Bundle()
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(e.stderr, "report: no hits, no sightings")
		return nil
	}
	if t.file != "" {
		if err := os.WriteFile(t.file, bundle, 0o644); err != nil {
			return fmt.Errorf("--report-file: %w", err)
		}
		fmt.Fprintf(e.stderr, "report: %d sightings written to %s\n", n, t.file)
	}
	var res *cyberpact.ImportResult
	switch {
	case t.hub != "":
		if res, err = postReport(ctx, t.hub, t.key, t.share, bundle); err != nil {
			return err
		}
	case t.org != "":
		if res, err = importReport(ctx, e, t.data, t.org, t.share, bundle); err != nil {
			return err
		}
	default:
		return nil
	}
	for _, rj := range res.Rejected {
		fmt.Fprintf(e.stderr, "  report refused: %s\n", rj.Error())
	}
	fmt.Fprintf(e.stderr, "report: %d sightings; hub added %d, already present %d, refused %d\n", n, res.Added, res.Present, len(res.Rejected))
	if len(res.Rejected) > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// importReport imports the report into the store as org: its sightings
// are released like the indicators they sight (SightingReleases).
func importReport(ctx context.Context, e *env, data, org, share string, bundle []byte) (*cyberpact.ImportResult, error) {
	db, err := e.openStore(ctx, data)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	viewer, err := orgViewer(ctx, db, org)
	if err != nil {
		return nil, err
	}
	dec := stix.NewDecoder(bytes.NewReader(bundle))
	defer dec.Close()
	mode := importMode{viewer: viewer, anonymous: share == "anonymous", counts: share == "counts"}
	return mode.run(ctx, db, cyberpact.Actor{Name: "cli", Org: viewer.Org, Via: "cli"}, dec.Next,
		cyberpact.ImportOptions{Partial: true, Producer: viewer.Org, ReleaseFor: cyberpact.SightingReleases(ctx, db, *viewer)}, "match report")
}

// postReport POSTs the report to the hub's /api/v1/bundles with key,
// keeping what it may when some sightings are refused.
func postReport(ctx context.Context, hub, key, share string, bundle []byte) (*cyberpact.ImportResult, error) {
	q := "?partial=true"
	switch share {
	case "anonymous":
		q += "&anonymous=true"
	case "counts":
		q += "&share=counts"
	}
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(hub, "/")+"/api/v1/bundles"+q, bytes.NewReader(bundle))
	if err != nil {
		return nil, fmt.Errorf("--hub: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("posting the report: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnprocessableEntity {
		return nil, fmt.Errorf("posting the report: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	var res cyberpact.ImportResult
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("posting the report: the hub's answer: %v", err)
	}
	return &res, nil
}
