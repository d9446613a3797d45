package exercise

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func dur(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmtDur(time.Duration(*s * float64(time.Second)).Round(time.Second))
}

// Markdown writes the after-action report in Markdown: the scores per
// participant and technique, the conditional steps, and the timeline.
func (r *Result) Markdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# After-action report: %s\n\n", r.Title)
	fmt.Fprintf(&b, "%s. Exercise `%s`, seed %d, speed x%g, started %s. Marking `%s`.\n\n", Statement(r.Exercise), r.Exercise, r.Seed, r.Speed, r.Start.Format(time.RFC3339), r.MarkingID)
	b.WriteString("## Participants\n\n| Participant | Steps fired | Detected | Coverage | Mean time to detect | Mean time to warn | Steps avoided | False positives / benign events |\n|---|---|---|---|---|---|---|---|\n")
	for _, p := range r.Participants {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %d | %d / %d |\n", r.participantName(p), p.Instances, p.Detected, pct(p.Detected, p.Instances), dur(p.MeanTTD), dur(p.MeanTTW), p.Skipped, p.FalsePositives, p.BenignEvents)
	}
	b.WriteString("\n## Techniques\n\n| Participant | Technique | Fired | Detected | Mean time to detect | Mean time to warn | False positives |\n|---|---|---|---|---|---|---|\n")
	for _, t := range r.Techniques {
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s | %s | %d |\n", r.Who(t.Participant), t.Technique, t.Instances, t.Detected, dur(t.MeanTTD), dur(t.MeanTTW), t.FalsePositives)
	}
	b.WriteString("\n## Steps\n\n| Participant | Step | Technique | Outcome | Time to detect | Held indicator | Time to warn |\n|---|---|---|---|---|---|---|\n")
	for _, row := range r.Rows {
		if !row.Targeted && row.HeldAt == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Who(row.Participant), row.Step, row.Technique, outcome(row), dur(row.TimeToDetect), held(row), dur(row.TimeToWarn))
	}
	b.WriteString("\n## Timeline\n\n| Time | Participant | Event |\n|---|---|---|\n")
	for _, te := range r.Timeline {
		if te.Kind == "false-positive" {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", te.Time.Format("2006-01-02 15:04:05"), r.timelineWho(te.Participant), strings.ReplaceAll(te.Text, "|", "/"))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// participantName names a participant in the participants table: the
// organisation that played it and the scenario's label on a hub, the
// label alone in a simulation.
func (r *Result) participantName(p ParticipantScore) string {
	if p.Organisation != "" {
		return p.Organisation + " (" + p.Name + ")"
	}
	return p.Name
}

// timelineWho names a timeline entry's participant ("" for none).
func (r *Result) timelineWho(participant string) string {
	if participant == "" {
		return ""
	}
	return r.Who(participant)
}

func pct(n, d int) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", n*100/d)
}

func outcome(r Row) string {
	switch {
	case r.Skipped != "":
		return "avoided (warned in time)"
	case !r.Targeted:
		return "not targeted"
	case r.Detected:
		return "detected (" + r.Source + ")"
	case r.Fired:
		return "missed"
	}
	return "-"
}

func held(r Row) string {
	if r.HeldAt == nil {
		return "-"
	}
	return r.HeldAt.Format("15:04:05") + " (" + r.HeldVia + ")"
}

// HTML writes the after-action report as one self-contained HTML page with
// an inline SVG chart of detection coverage per participant.
func (r *Result) HTML(w io.Writer) error {
	var b bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>After-action report: %s</title>\n", esc(r.Title))
	b.WriteString("<style>body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.banner{background:#7a0;color:#fff;padding:.5em;font-weight:bold}.missed{color:#b00}.detected{color:#070}</style></head><body>\n")
	fmt.Fprintf(&b, "<p class=\"banner\">%s</p>\n<h1>After-action report: %s</h1>\n", esc(Statement(r.Exercise)), esc(r.Title))
	fmt.Fprintf(&b, "<p>Exercise <code>%s</code>, seed %d, speed x%g, started %s. Marking <code>%s</code>.</p>\n", esc(r.Exercise), r.Seed, r.Speed, r.Start.Format(time.RFC3339), esc(r.MarkingID))
	b.WriteString("<h2>Coverage</h2>\n")
	r.coverageSVG(&b)
	b.WriteString("<h2>Participants</h2>\n<table><tr><th>Participant</th><th>Steps fired</th><th>Detected</th><th>Coverage</th><th>Mean time to detect</th><th>Mean time to warn</th><th>Steps avoided</th><th>False positives</th><th>Benign events</th></tr>\n")
	for _, p := range r.Participants {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%d</td></tr>\n", esc(r.participantName(p)), p.Instances, p.Detected, pct(p.Detected, p.Instances), dur(p.MeanTTD), dur(p.MeanTTW), p.Skipped, p.FalsePositives, p.BenignEvents)
	}
	b.WriteString("</table>\n<h2>Steps</h2>\n<table><tr><th>Participant</th><th>Step</th><th>Technique</th><th>Outcome</th><th>Time to detect</th><th>Held indicator</th><th>Time to warn</th></tr>\n")
	for _, row := range r.Rows {
		if !row.Targeted && row.HeldAt == nil {
			continue
		}
		class := ""
		if row.Fired {
			class = map[bool]string{true: "detected", false: "missed"}[row.Detected]
		}
		fmt.Fprintf(&b, "<tr class=\"%s\"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n", class, esc(r.Who(row.Participant)), esc(row.Step), esc(row.Technique), esc(outcome(row)), dur(row.TimeToDetect), esc(held(row)), dur(row.TimeToWarn))
	}
	b.WriteString("</table>\n<h2>Timeline</h2>\n<table><tr><th>Time</th><th>Participant</th><th>Event</th></tr>\n")
	for _, te := range r.Timeline {
		if te.Kind == "false-positive" {
			continue
		}
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>\n", te.Time.Format("2006-01-02 15:04:05"), esc(r.timelineWho(te.Participant)), esc(te.Text))
	}
	b.WriteString("</table>\n</body></html>\n")
	_, err := w.Write(b.Bytes())
	return err
}

// coverageSVG draws one bar per participant: the share of fired steps it
// detected.
func (r *Result) coverageSVG(b *bytes.Buffer) {
	const barH, gap, width = 22, 8, 400
	left := 180 // wide enough for the longest name at about 7 pixels a letter
	for _, p := range r.Participants {
		left = max(left, 7*len([]rune(r.participantName(p)))+10)
	}
	h := len(r.Participants)*(barH+gap) + gap
	fmt.Fprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"detection coverage per participant\">\n", left+width+60, h)
	for i, p := range r.Participants {
		y := gap + i*(barH+gap)
		frac := 0.0
		if p.Instances > 0 {
			frac = float64(p.Detected) / float64(p.Instances)
		}
		fmt.Fprintf(b, "<text x=\"0\" y=\"%d\" font-size=\"13\">%s</text>", y+15, html.EscapeString(r.participantName(p)))
		fmt.Fprintf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eee\"/>", left, y, width, barH)
		fmt.Fprintf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>", left, y, int(frac*width), barH, color(frac))
		fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\" font-size=\"13\">%s</text>\n", left+width+6, y+15, pct(p.Detected, p.Instances))
	}
	b.WriteString("</svg>\n")
}

// color grades a coverage from red (0) through amber to green (1).
func color(frac float64) string {
	switch {
	case frac >= 0.999:
		return "#31a354"
	case frac >= 0.5:
		return "#fdae6b"
	case frac > 0:
		return "#fd8d3c"
	}
	return "#e6550d"
}

// Layer is an ATT&CK Navigator layer, format 4.5.
type Layer struct {
	Name        string              `json:"name"`
	Versions    map[string]string   `json:"versions"`
	Domain      string              `json:"domain"`
	Description string              `json:"description"`
	Techniques  []LayerTechnique    `json:"techniques"`
	Gradient    map[string]any      `json:"gradient"`
	Legend      []map[string]string `json:"legendItems"`
}

// LayerTechnique is one technique of a layer.
type LayerTechnique struct {
	TechniqueID string `json:"techniqueID"`
	Score       int    `json:"score"`
	Color       string `json:"color"`
	Comment     string `json:"comment"`
	Enabled     bool   `json:"enabled"`
}

// Layer returns the Navigator layer of one participant, or of all
// together when participant is "": each technique fired scored by the
// share of its instances detected (0 to 100).
func (r *Result) Layer(participant string) *Layer {
	name := r.Exercise + " - all participants"
	if participant != "" {
		name = r.Exercise + " - " + r.Who(participant)
	}
	l := &Layer{Name: name, Domain: r.Domain,
		Versions:    map[string]string{"layer": "4.5", "navigator": "4.9.1", "attack": "18"},
		Description: Statement(r.Exercise) + ": detection coverage, score = % of the technique's fired steps detected",
		Gradient:    map[string]any{"colors": []string{"#e6550d", "#fdae6b", "#31a354"}, "minValue": 0, "maxValue": 100},
		Legend:      []map[string]string{{"label": "missed", "color": "#e6550d"}, {"label": "partly detected", "color": "#fdae6b"}, {"label": "detected", "color": "#31a354"}},
	}
	type agg struct {
		n, d, fp int
		ttd      []float64
		who      []string
	}
	byTech := map[string]*agg{}
	var order []string
	for _, t := range r.Techniques {
		if participant != "" && t.Participant != participant {
			continue
		}
		if t.Technique == "-" || t.Instances == 0 && t.FalsePositives == 0 {
			continue
		}
		a := byTech[t.Technique]
		if a == nil {
			a = &agg{}
			byTech[t.Technique] = a
			order = append(order, t.Technique)
		}
		a.n += t.Instances
		a.d += t.Detected
		a.fp += t.FalsePositives
		if t.MeanTTD != nil {
			a.ttd = append(a.ttd, *t.MeanTTD)
		}
		a.who = append(a.who, fmt.Sprintf("%s %d/%d", r.Who(t.Participant), t.Detected, t.Instances))
	}
	sortStrings(order)
	for _, t := range order {
		a := byTech[t]
		if a.n == 0 {
			continue
		}
		score := a.d * 100 / a.n
		l.Techniques = append(l.Techniques, LayerTechnique{TechniqueID: t, Score: score, Color: color(float64(score) / 100), Enabled: true,
			Comment: fmt.Sprintf("detected %d of %d; mean time to detect %s; false positives %d; %s", a.d, a.n, dur(mean(a.ttd)), a.fp, strings.Join(a.who, ", "))})
	}
	return l
}

// WriteFiles writes the run's outputs under dir: report.md, report.html,
// scores.json, navigator/all.json and navigator/PARTICIPANT.json,
// intel.json (the marking and the steps' indicators) and, per
// participant, telemetry/PARTICIPANT.ecs.jsonl and
// telemetry/PARTICIPANT.stix.json with the ground truth.
func (run *Run) WriteFiles(dir string) error {
	r, e := run.Result, run.Engine
	files := map[string]func(io.Writer) error{
		"report.md":                            r.Markdown,
		"report.html":                          r.HTML,
		"scores.json":                          func(w io.Writer) error { return writeJSON(w, r) },
		"intel.json":                           e.WriteIntel,
		filepath.Join("navigator", "all.json"): func(w io.Writer) error { return writeJSON(w, r.Layer("")) },
	}
	for _, p := range e.sc.Participants {
		id := p.ID
		files[filepath.Join("navigator", id+".json")] = func(w io.Writer) error { return writeJSON(w, r.Layer(id)) }
		files[filepath.Join("telemetry", id+".ecs.jsonl")] = func(w io.Writer) error { return e.WriteECS(w, id, true) }
		files[filepath.Join("telemetry", id+".stix.json")] = func(w io.Writer) error { return e.WriteSTIX(w, id, true) }
	}
	for name, write := range files {
		if err := writeFileAtomic(filepath.Join(dir, name), write); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeFileAtomic writes a file through a temporary one in the same
// directory, so that nothing half-written is left.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func sortStrings(s []string) { slices.Sort(s) }

// WriteFile writes a file through write, leaving nothing half-written on
// failure.
func WriteFile(path string, write func(io.Writer) error) error { return writeFileAtomic(path, write) }
