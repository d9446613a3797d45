package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	"github.com/cyberpact/cyberpact/stix"
)

// Joint exercises (see the exercise package) run on the hub through
// Server.Exercise. A participant's organisation reads and writes its
// exercise through two TAXII collections that exist only for it and only
// while the exercise does: "exercise:ID:org:ORG" (its own telemetry,
// discoveries and reports) and "exercise:ID" (warnings to every
// participant). Both read with Viewer.Exercise set, so nothing outside the
// exercise is in them, and nothing of the exercise is anywhere else. The
// REST resources below serve the telemetry as ECS lines, take sightings,
// and give the scores and after-action reports, to the participants and
// the hub's admins only; to anyone else an exercise does not exist (404).

func (s *Server) registerExercises() {
	s.handle("GET /api/v1/exercises", s.authed(s.listExercises))
	s.handle("GET /api/v1/exercises/{id}", s.authed(s.getExercise))
	s.handle("GET /api/v1/exercises/{id}/telemetry.jsonl", s.authed(s.exerciseTelemetry))
	s.handle("POST /api/v1/exercises/{id}/sightings", s.authed(s.exerciseSightings))
	s.handle("GET /api/v1/exercises/{id}/report.md", s.authed(s.exerciseReport("md")))
	s.handle("GET /api/v1/exercises/{id}/report.html", s.authed(s.exerciseReport("html")))
	s.handle("GET /api/v1/exercises/{id}/navigator.json", s.authed(s.exerciseReport("navigator")))
	s.registerExerciseControl()
}

// exerciseOf returns the exercise of r's path if the caller takes part in
// it (or, with admins, is a hub admin), with the participant the caller's
// organisation plays ("" for an admin who plays none). Anything else is
// ENOTFOUND, as an object one may not see.
func (s *Server) exerciseOf(r *http.Request, admins bool) (*cyberpact.Exercise, string, error) {
	if s.Exercise == nil {
		return nil, "", cyberpact.Errorf(cyberpact.ENOTFOUND, "this hub runs no exercises")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %q", r.PathValue("id"))
	}
	x, err := s.Exercise.Exercises.Exercise(r.Context(), id)
	if err != nil {
		return nil, "", err
	}
	p := principalOf(r)
	part, ok := x.Participant(p.Org.ID)
	if !ok && !(admins && p.User.Role == cyberpact.RoleAdmin) {
		return nil, "", cyberpact.Errorf(cyberpact.ENOTFOUND, "no exercise %d", id)
	}
	return x, part, nil
}

// exerciseSummary is the JSON of an exercise in lists.
type exerciseSummary struct {
	ID           int64            `json:"id"`
	Name         string           `json:"name"`
	State        string           `json:"state"`
	Seed         uint64           `json:"seed"`
	Speed        float64          `json:"speed"`
	Participants map[string]int64 `json:"participants"`
	You          string           `json:"you,omitempty"` // the participant the caller plays
	Collections  []string         `json:"collections,omitempty"`
}

func summary(x *cyberpact.Exercise, you string, org int64) exerciseSummary {
	out := exerciseSummary{ID: x.ID, Name: x.Name, State: x.State, Seed: x.Seed, Speed: x.Speed, Participants: x.Participants, You: you}
	if you != "" {
		out.Collections = []string{exerciseCollectionID(x.ID, org), CollectionID(fmt.Sprintf("exercise:%d", x.ID))}
	}
	return out
}

func exerciseCollectionID(id, org int64) string {
	return CollectionID(fmt.Sprintf("exercise:%d:org:%d", id, org))
}

func (s *Server) listExercises(w http.ResponseWriter, r *http.Request) error {
	out := []exerciseSummary{}
	if s.Exercise != nil {
		xs, err := s.Exercise.Exercises.Exercises(r.Context())
		if err != nil {
			return err
		}
		p := principalOf(r)
		for _, x := range xs {
			you, ok := x.Participant(p.Org.ID)
			if ok || p.User.Role == cyberpact.RoleAdmin {
				out = append(out, summary(x, you, p.Org.ID))
			}
		}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"exercises": out})
}

// getExercise gives an exercise's state and its scores so far.
func (s *Server) getExercise(w http.ResponseWriter, r *http.Request) error {
	x, you, err := s.exerciseOf(r, true)
	if err != nil {
		return err
	}
	_, e, err := s.Exercise.Load(r.Context(), x.ID)
	if err != nil {
		return err
	}
	res, err := s.scores(r.Context(), x, e)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, struct {
		exerciseSummary
		Offset float64          `json:"scenario_offset_s"`
		Scores *exercise.Result `json:"scores"`
	}{summary(x, you, principalOf(r).Org.ID), s.reached(e).Seconds(), res})
}

// scores scores an exercise, naming each participant by the member
// organisation that plays it.
func (s *Server) scores(ctx context.Context, x *cyberpact.Exercise, e *exercise.Engine) (*exercise.Result, error) {
	names, err := s.playedBy(ctx, x)
	if err != nil {
		return nil, err
	}
	res := exercise.Score(e)
	res.PlayedBy(names)
	return res, nil
}

func (s *Server) exerciseNow() time.Time {
	if s.Exercise.Now != nil {
		return s.Exercise.Now()
	}
	return time.Now()
}

// exerciseTelemetry serves the caller's own telemetry as ECS JSON lines,
// for `cyberpact match`.
func (s *Server) exerciseTelemetry(w http.ResponseWriter, r *http.Request) error {
	x, you, err := s.exerciseOf(r, false)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="exercise-%d-%s.jsonl"`, x.ID, you))
	return s.Exercise.Telemetry(r.Context(), x.ID, principalOf(r).Org.ID, w)
}

// exerciseSightings takes a STIX bundle of the caller's reports: they are
// stored inside the exercise for the caller's organisation alone, and
// each sighting of a delivered event becomes an alert.
func (s *Server) exerciseSightings(w http.ResponseWriter, r *http.Request) error {
	x, _, err := s.exerciseOf(r, false)
	if err != nil {
		return err
	}
	p := principalOf(r)
	if !p.User.Role.CanWrite() {
		return cyberpact.Errorf(cyberpact.EFORBIDDEN, "role %s may read but not report", p.User.Role)
	}
	dec := stix.NewDecoder(r.Body)
	defer dec.Close()
	aud := cyberpact.Audience{Kind: cyberpact.AudienceExerciseOrg, Group: x.ID}
	res, refs, err := s.exerciseImport(r.Context(), p, aud, dec.Next, "rest")
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		return writeJSON(w, http.StatusBadRequest, map[string]any{"error": "some objects were refused: nothing was stored", "rejected": res.Rejected})
	}
	rep, err := s.exerciseReported(r.Context(), x.ID, p, aud, refs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"added": res.Added, "already_present": res.Present, "report": rep})
}

// exerciseImport stores objects of a participant inside an exercise
// audience, atomically, records the write, and returns the versions
// stored.
func (s *Server) exerciseImport(ctx context.Context, p *cyberpact.Principal, aud cyberpact.Audience, next cyberpact.ObjectSource, via string) (*cyberpact.ImportResult, []string, error) {
	var seen []seenVersion
	res, err := cyberpact.AuditedImport(ctx, s.Store, s.Audit, actor(p, via), recordingSource(next, &seen), cyberpact.ImportOptions{Producer: p.Org.ID, Audience: aud}, "")
	if err != nil || !res.Committed {
		return res, nil, err
	}
	return res, successes(seen, res.Rejected), nil
}

// exerciseReported hands the versions a participant just stored in an
// exercise audience (refs: "id@version") to the exercise: sightings become
// alerts; indicators addressed to every participant are warnings.
func (s *Server) exerciseReported(ctx context.Context, id int64, p *cyberpact.Principal, aud cyberpact.Audience, refs []string) (*exercise.ReportResult, error) {
	if len(refs) == 0 {
		return &exercise.ReportResult{}, nil
	}
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		i, _, _ := strings.Cut(ref, "@")
		ids = append(ids, i)
	}
	v := p.Viewer()
	v.Exercise = id
	var raws []json.RawMessage
	err := s.Store.EachObject(ctx, cyberpact.ObjectFilter{IDs: ids, Viewer: &v, Audience: &aud}, func(o *cyberpact.Object) error {
		raws = append(raws, o.Raw)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Exercise.Report(ctx, id, p.Org.ID, raws, aud.Kind == cyberpact.AudienceExercise)
}

// exerciseReport serves the after-action report (Markdown or HTML) or an
// ATT&CK Navigator layer (?participant=ID, default all) of the scores so
// far.
func (s *Server) exerciseReport(kind string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		x, _, err := s.exerciseOf(r, true)
		if err != nil {
			return err
		}
		_, e, err := s.Exercise.Load(r.Context(), x.ID)
		if err != nil {
			return err
		}
		res, err := s.scores(r.Context(), x, e)
		if err != nil {
			return err
		}
		switch kind {
		case "md":
			w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
			return res.Markdown(w)
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			return res.HTML(w)
		}
		part := r.URL.Query().Get("participant")
		if _, ok := x.Participants[part]; part != "" && !ok {
			return cyberpact.Errorf(cyberpact.EINVALID, "exercise %d has no participant %q", x.ID, part)
		}
		return writeJSON(w, http.StatusOK, res.Layer(part))
	}
}

// exerciseCollections returns the exercise collections of p: for each
// exercise its organisation takes part in, its own and the exercise-wide
// one.
func (s *Server) exerciseCollections(ctx context.Context, p *cyberpact.Principal) ([]*collection, error) {
	if s.Exercise == nil || p == nil {
		return nil, nil
	}
	xs, err := s.Exercise.Exercises.Exercises(ctx)
	if err != nil {
		return nil, err
	}
	var out []*collection
	media := []string{stixMedia}
	for _, x := range xs {
		you, ok := x.Participant(p.Org.ID)
		if !ok {
			continue
		}
		v := p.Viewer()
		v.Exercise = x.ID
		write := p.User.Role.CanWrite()
		out = append(out, &collection{
			ID: exerciseCollectionID(x.ID, p.Org.ID), Title: fmt.Sprintf("Exercise %s #%d: %s", x.Name, x.ID, you), CanRead: true, CanWrite: write, MediaTypes: media,
			Description: "Your telemetry, discoveries and reports in the exercise (" + exercise.Statement(x.Name) + "): post sightings here.",
			viewer:      v, audience: &cyberpact.Audience{Kind: cyberpact.AudienceExerciseOrg, Group: x.ID}, exercise: x.ID,
		}, &collection{
			ID: CollectionID(fmt.Sprintf("exercise:%d", x.ID)), Title: fmt.Sprintf("Exercise %s #%d: all participants", x.Name, x.ID), CanRead: true, CanWrite: write, MediaTypes: media,
			Description: "Warnings to every participant of the exercise (" + exercise.Statement(x.Name) + "): an indicator posted here warns the others.",
			viewer:      v, audience: &cyberpact.Audience{Kind: cyberpact.AudienceExercise, Group: x.ID}, exercise: x.ID,
		})
	}
	return out, nil
}
