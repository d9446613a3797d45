package exercise

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is the value of a scenario file's "schema" field.
const SchemaVersion = "cyberpact-exercise/1"

// DefaultStart is when an exercise starts when its scenario gives no
// "start": a fixed instant, so that runs are reproducible.
var DefaultStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// Scenario is a validated exercise plan: who takes part, what the
// simulated adversary does and when, and which intelligence is injected.
// Offsets are in scenario time, from the exercise's start.
type Scenario struct {
	Name        string // short name: lower-case letters, digits and '-'
	Title       string
	Description string
	Domain      string // ATT&CK domain: "enterprise-attack" or "ics-attack"
	Start       time.Time
	Duration    time.Duration // scenario time the exercise lasts
	// BackgroundPerHour is how many benign events each participant
	// receives per hour of scenario time.
	BackgroundPerHour float64

	Participants []Participant
	Steps        []Step
	Injects      []Inject
}

// Participant is one organisation taking part.
type Participant struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Sector  string `json:"sector,omitempty"`
	Country string `json:"country,omitempty"`
}

// Step is one action of the simulated adversary: a technique used against
// the target participants at an offset, whose telemetry a generator makes.
type Step struct {
	ID        string
	Name      string
	Technique string // ATT&CK technique id, e.g. T1566.001
	Targets   []string
	At        time.Duration
	Generator string
	Params    Params
	// UnlessWarned, when set, makes the step conditional: it fires against
	// a target only if that target did not hold the indicator of another
	// step by a deadline.
	UnlessWarned *Condition
	Line         int // line of the step in its file, for messages
}

// Condition is a "warned by time T" test: a target counts as warned when it
// held the indicator of step Step at scenario offset By or earlier.
type Condition struct {
	Step string
	By   time.Duration
}

// Params are a generator's parameters: how many malicious events an
// instance of the step makes, how far apart in scenario time, and how
// much that spacing varies (0 to 1).
type Params struct {
	Count    int
	Interval time.Duration
	Jitter   float64
}

// InjectKind says what an intelligence inject does.
type InjectKind string

// The inject kinds.
const (
	// Discovery: the participant finds the step's indicator itself, as if
	// its own analysts had; it then holds it and shares it.
	Discovery InjectKind = "discovery"
	// Warning: a partner (or an outside body) warns the recipients, who
	// hold the step's indicator from then on.
	Warning InjectKind = "warning"
)

// Inject is an intelligence inject.
type Inject struct {
	ID          string
	Kind        InjectKind
	At          time.Duration
	Step        string   // the step whose indicator is injected
	Participant string   // discovery: who discovers it
	From        string   // warning: who warns (a participant id or any name)
	To          []string // warning: recipients; empty means every participant but From
}

// Participant returns the participant with id, and whether there is one.
func (s *Scenario) Participant(id string) (Participant, bool) {
	for _, p := range s.Participants {
		if p.ID == id {
			return p, true
		}
	}
	return Participant{}, false
}

// Step returns the step with id, or nil.
func (s *Scenario) Step(id string) *Step {
	for i := range s.Steps {
		if s.Steps[i].ID == id {
			return &s.Steps[i]
		}
	}
	return nil
}

// LoadOptions tunes ParseScenario.
type LoadOptions struct {
	// KnownTechniques, when not nil, is the set of ATT&CK technique ids
	// steps may use (see LoadTechniques); nil skips the check.
	KnownTechniques map[string]bool
}

// The file form of a scenario; see the package documentation.
type scenarioFile struct {
	Schema       string          `json:"schema"`
	Name         string          `json:"name"`
	Title        string          `json:"title"`
	Description  string          `json:"description"`
	Domain       string          `json:"domain"`
	Start        string          `json:"start"`
	Duration     string          `json:"duration"`
	Background   *backgroundFile `json:"background"`
	Participants []Participant   `json:"participants"`
	Steps        []stepFile      `json:"steps"`
	Injects      []injectFile    `json:"injects"`
}

type backgroundFile struct {
	EventsPerHour *float64 `json:"events_per_hour"`
}

type stepFile struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Technique    string         `json:"technique"`
	Targets      []string       `json:"targets"`
	At           string         `json:"at"`
	Generator    string         `json:"generator"`
	Params       map[string]any `json:"params"`
	UnlessWarned *conditionFile `json:"unless_warned"`
}

type conditionFile struct {
	Step string `json:"step"`
	By   string `json:"by"`
}

type injectFile struct {
	ID          string   `json:"id"`
	Kind        string   `json:"kind"`
	At          string   `json:"at"`
	Step        string   `json:"step"`
	Participant string   `json:"participant"`
	From        string   `json:"from"`
	To          []string `json:"to"`
}

// Errors is the list of problems of a file, in file order.
type Errors []*FileError

// Error lists the problems one a line.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

var (
	nameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	techniqueRE = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
)

// ParseScenario reads and validates a scenario file. file names it in
// messages. Every problem found is reported, each with its line and the
// JSON path of the field (as Errors); a JSON syntax error stops at the
// first.
func ParseScenario(file string, data []byte, opt LoadOptions) (*Scenario, error) {
	pos, err := scanPositions(data)
	if err != nil {
		return nil, withFile(err, file)
	}
	var f scenarioFile
	if err := decodeStrict(data, pos, &f); err != nil {
		return nil, withFile(err, file)
	}
	v := &validator{file: file, pos: pos}
	sc := v.scenario(&f, opt)
	if len(v.errs) > 0 {
		sort.SliceStable(v.errs, func(i, j int) bool { return v.errs[i].Line < v.errs[j].Line })
		return nil, v.errs
	}
	return sc, nil
}

func withFile(err error, file string) error {
	var fe *FileError
	if errors.As(err, &fe) {
		fe.File = file
		return Errors{fe}
	}
	return err
}

// validator collects the problems of one file.
type validator struct {
	file string
	pos  *positions
	errs Errors
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, &FileError{File: v.file, Line: v.pos.line(path), Field: path, Msg: fmt.Sprintf(format, args...)})
}

// duration reads a duration field; "" gives def when optional.
func (v *validator) duration(path, s string, required bool) time.Duration {
	if s == "" {
		if required {
			v.errf(path, "missing: give a duration such as \"90m\", \"2h30m\" or \"1d\"")
		}
		return 0
	}
	d, err := ParseDuration(s)
	if err != nil {
		v.errf(path, "%s", err)
	}
	return d
}

// ParseDuration reads a duration as Go writes them ("1h30m", "45s") with
// an optional leading number of days ("2d", "1d6h"). Negative durations
// are refused.
func ParseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration such as \"90m\", \"2h30m\" or \"1d\"", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			s = "0s"
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"90m\", \"2h30m\" or \"1d\"", s)
	}
	d += days
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

func (v *validator) scenario(f *scenarioFile, opt LoadOptions) *Scenario {
	sc := &Scenario{Name: f.Name, Title: f.Title, Description: f.Description, Domain: f.Domain, Start: DefaultStart, BackgroundPerHour: 60}
	switch {
	case f.Schema == "":
		v.errf("schema", "missing: want %q", SchemaVersion)
	case f.Schema != SchemaVersion:
		v.errf("schema", "unknown schema %q: want %q", f.Schema, SchemaVersion)
	}
	if !nameRE.MatchString(f.Name) {
		v.errf("name", "want a short name of lower-case letters, digits and '-', not %q", f.Name)
	}
	if sc.Title == "" {
		sc.Title = sc.Name
	}
	switch f.Domain {
	case "":
		sc.Domain = "enterprise-attack"
	case "enterprise-attack", "ics-attack":
	default:
		v.errf("domain", "want \"enterprise-attack\" or \"ics-attack\", not %q", f.Domain)
	}
	if f.Start != "" {
		t, err := time.Parse(time.RFC3339, f.Start)
		if err != nil {
			v.errf("start", "want an RFC 3339 time such as 2026-03-02T08:00:00Z, not %q", f.Start)
		}
		sc.Start = t.UTC()
	}
	if f.Background != nil && f.Background.EventsPerHour != nil {
		if n := *f.Background.EventsPerHour; n < 0 || n > 100000 {
			v.errf("background.events_per_hour", "want 0 to 100000, not %v", n)
		} else {
			sc.BackgroundPerHour = n
		}
	}

	if len(f.Participants) == 0 {
		v.errf("participants", "missing: an exercise needs at least one participant")
	}
	seen := map[string]bool{}
	for i, p := range f.Participants {
		path := fmt.Sprintf("participants[%d]", i)
		switch {
		case !nameRE.MatchString(p.ID):
			v.errf(path+".id", "want an id of lower-case letters, digits and '-', not %q", p.ID)
		case seen[p.ID]:
			v.errf(path+".id", "participant %q is listed twice", p.ID)
		}
		seen[p.ID] = true
		if p.Name == "" {
			p.Name = p.ID
		}
		sc.Participants = append(sc.Participants, p)
	}

	if len(f.Steps) == 0 {
		v.errf("steps", "missing: an exercise needs at least one step")
	}
	steps := map[string]int{}
	for i, fs := range f.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		st := Step{ID: fs.ID, Name: fs.Name, Technique: fs.Technique, Targets: fs.Targets, Generator: fs.Generator, Line: v.pos.line(path)}
		switch _, dup := steps[fs.ID]; {
		case !nameRE.MatchString(fs.ID):
			v.errf(path+".id", "want an id of lower-case letters, digits and '-', not %q", fs.ID)
		case dup:
			v.errf(path+".id", "step %q is defined twice", fs.ID)
		}
		st.At = v.duration(path+".at", fs.At, true)
		g, ok := generators[fs.Generator]
		if !ok {
			v.errf(path+".generator", "unknown generator %q; known: %s", fs.Generator, strings.Join(GeneratorNames(), ", "))
		}
		switch {
		case fs.Technique == "":
			v.errf(path+".technique", "missing: give the ATT&CK technique id, e.g. T1566.001")
		case !techniqueRE.MatchString(fs.Technique):
			v.errf(path+".technique", "%q is not an ATT&CK technique id such as T1566.001", fs.Technique)
		case opt.KnownTechniques != nil && !opt.KnownTechniques[fs.Technique]:
			v.errf(path+".technique", "%s is not a technique of the loaded ATT&CK data", fs.Technique)
		case ok && !g.produces(fs.Technique):
			v.errf(path+".technique", "generator %q does not produce %s; it produces %s", g.Name, fs.Technique, strings.Join(g.Techniques, ", "))
		}
		if len(fs.Targets) == 0 {
			v.errf(path+".targets", "missing: name at least one participant")
		}
		for j, t := range fs.Targets {
			if !seen[t] {
				v.errf(fmt.Sprintf("%s.targets[%d]", path, j), "unknown participant %q", t)
			}
		}
		st.Params = v.params(path+".params", fs.Params)
		if c := fs.UnlessWarned; c != nil {
			cp := path + ".unless_warned"
			st.UnlessWarned = &Condition{Step: c.Step, By: v.duration(cp+".by", c.By, true)}
			if j, ok := steps[c.Step]; !ok {
				v.errf(cp+".step", "unknown step %q: name a step defined before this one", c.Step)
			} else {
				ref := sc.Steps[j]
				if st.UnlessWarned.By > st.At {
					v.errf(cp+".by", "the deadline %s is after the step itself (%s)", fmtDur(st.UnlessWarned.By), fmtDur(st.At))
				}
				if ref.At >= st.At {
					v.errf(cp+".step", "step %q starts at %s, not before this step (%s)", c.Step, fmtDur(ref.At), fmtDur(st.At))
				}
			}
		}
		if _, dup := steps[fs.ID]; !dup {
			steps[fs.ID] = len(sc.Steps)
		}
		sc.Steps = append(sc.Steps, st)
	}

	for i, fi := range f.Injects {
		path := fmt.Sprintf("injects[%d]", i)
		in := Inject{ID: fi.ID, Kind: InjectKind(fi.Kind), Step: fi.Step, Participant: fi.Participant, From: fi.From, To: fi.To}
		if in.ID == "" {
			in.ID = fmt.Sprintf("inject-%d", i+1)
		}
		in.At = v.duration(path+".at", fi.At, true)
		if _, ok := steps[fi.Step]; !ok {
			v.errf(path+".step", "unknown step %q", fi.Step)
		}
		switch in.Kind {
		case Discovery:
			if !seen[fi.Participant] {
				v.errf(path+".participant", "unknown participant %q", fi.Participant)
			}
		case Warning:
			if fi.From == "" {
				v.errf(path+".from", "missing: who gives the warning")
			}
			for j, t := range fi.To {
				if !seen[t] {
					v.errf(fmt.Sprintf("%s.to[%d]", path, j), "unknown participant %q", t)
				}
			}
		default:
			v.errf(path+".kind", "want \"discovery\" or \"warning\", not %q", fi.Kind)
		}
		sc.Injects = append(sc.Injects, in)
	}

	var last time.Duration
	for _, st := range sc.Steps {
		end := st.At + time.Duration(st.Params.Count)*st.Params.Interval
		last = max(last, end)
	}
	sc.Duration = last + 2*time.Hour
	if f.Duration != "" {
		d := v.duration("duration", f.Duration, false)
		if d < last {
			v.errf("duration", "%s ends before the last step's events (%s)", f.Duration, fmtDur(last))
		}
		sc.Duration = d
	}
	return sc
}

// params reads a step's generator parameters.
func (v *validator) params(path string, m map[string]any) Params {
	p := Params{Count: 3, Interval: 5 * time.Minute, Jitter: 0.2}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := m[k]
		kp := path + "." + k
		switch k {
		case "count":
			n, ok := val.(float64)
			if !ok || n != float64(int(n)) || n < 1 || n > 10000 {
				v.errf(kp, "want a whole number from 1 to 10000, not %v", val)
				continue
			}
			p.Count = int(n)
		case "interval":
			s, ok := val.(string)
			if !ok {
				v.errf(kp, "want a duration such as \"5m\", not %v", val)
				continue
			}
			p.Interval = v.duration(kp, s, true)
		case "jitter":
			n, ok := val.(float64)
			if !ok || n < 0 || n > 1 {
				v.errf(kp, "want a number from 0 to 1, not %v", val)
				continue
			}
			p.Jitter = n
		default:
			v.errf(kp, "unknown parameter; a generator takes count, interval and jitter")
		}
	}
	return p
}

// fmtDur writes a duration compactly: 1h30m, 45m, 10s, 0s.
func fmtDur(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	s = strings.Replace(s, "m0s", "m", 1)
	s = strings.Replace(s, "h0m", "h", 1)
	return s
}
