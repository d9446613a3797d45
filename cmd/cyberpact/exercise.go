package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/exercise"
	"github.com/cyberpact/cyberpact/stix"
)

func init() {
	register(&command{
		name:    "exercise",
		summary: "run joint exercises on the hub (start, status, purge...) or simulate them offline",
		usage: `simulate SCENARIO [--profiles FILE|NAME] [--seed N] [--speed X] [--out DIR] [--attack FILE]
       generate SCENARIO --participant ORG [--format ecs|stix] [--out FILE] [--seed N] [--speed X] [--no-truth]
       list [--json] [--data DIR]
       start SCENARIO --participants ID=ORG,... [--speed X] [--seed N] [--attack FILE] [--data DIR]
       pause|resume|stop|purge EXERCISE [--data DIR]
       status EXERCISE [--json] [--data DIR]
       report EXERCISE FILE --org ORG [--data DIR]`,
		help: `Runs exercises: simulated attacks that generate synthetic, safe telemetry
and intelligence (nothing is executed anywhere) and measure what the
participants detect, what they share, and when.

SCENARIO is a scenario file (JSON, schema "cyberpact-exercise/1"; see the
exercise package documentation) or the name of a built-in one (list shows
them). Every value in the telemetry comes from the documentation ranges:
RFC 5737 and RFC 3849 addresses, .example and .test names, random hashes.
Every artefact carries the exercise's statement marking
"EXERCISE <name> — SIMULATION ONLY" and the ground-truth key
x_cyberpact_exercise.

list shows the hub's exercises (number, scenario, state, when started and
which member organisation plays each participant), then the built-in
scenarios and profiles. Without a hub in the data directory it shows only
the built-in ones, unless --data or $CYBERPACT_DATA named the directory.

simulate runs the whole exercise with simulated participants whose profiles
(JSON, schema "cyberpact-profiles/1") say what they catch, how fast, how fast
they share, and how often they raise false alarms: a profiles file, or a
built-in one by name (typical, the default: most techniques caught within
the hour, sharing within two; perfect and blind, the bounds). The
simulation keeps its own clock, so it ends at once whatever --speed says;
--speed only sets how much scenario time the profiles' delays (wall time)
cover. It writes under --out
(default ./exercise-NAME): report.md and report.html (the after-action
report), scores.json, navigator/all.json and navigator/ORG.json (ATT&CK
Navigator 4.5 layers), intel.json (the steps' indicators) and
telemetry/ORG.ecs.jsonl and telemetry/ORG.stix.json.

generate writes one participant's telemetry as ECS JSON lines (for
'cyberpact match'; DNS tunnelling needs --subdomains) or as a STIX bundle
of observed-data. --no-truth leaves out the ground truth, for handing to
the participant. With the same seed and speed, runs are byte-identical.

On the hub, start runs the exercise for real: each scenario participant is
played by a member organisation (--participants central-bank=Central Bank,...;
organisation names as 'cyberpact org list' shows them). 'cyberpact serve'
advances running exercises every --exercise-interval, delivering each
participant's telemetry (observed-data and observables, without the ground
truth) and the intelligence injects as STIX inside the exercise: a
participant reads them through its exercise TAXII collection or as ECS lines
from GET /api/v1/exercises/ID/telemetry.jsonl, and reports sightings there or
to POST /api/v1/exercises/ID/sightings; an indicator it posts to the
exercise-wide collection warns the others. Nothing of an exercise is seen
outside it. pause, resume and stop control the clock; status shows the
scores so far; purge deletes the exercise and everything it delivered or
received; every step is recorded in the audit log. The hub serves the
same over HTTP: POST /api/v1/exercises starts one (hub admins), POST
.../ID/pause, resume and stop control it (hub admins and the org-admins of
its participants), GET .../ID/status and .../ID/scoreboard give JSON (its
participants and hub admins; to anyone else it does not exist).

report records a participant's sightings from FILE: a STIX bundle, or the
alerts of 'cyberpact match' over the exercise's telemetry, turned into
sightings.

--attack checks the scenario's technique ids against ATT&CK data (a STIX
bundle such as enterprise-attack-18.1.stix20.json; repeat for ICS).
Exit 0 on success, 1 for a bad scenario or profiles file (every problem is
listed with its line and field), 2 for a usage error.`,
		run: runExercise,
	})
}

func runExercise(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("give a subcommand: simulate, generate, list, start, pause, resume, stop, status, purge or report")
	}
	switch args[0] {
	case "simulate":
		return runExerciseSimulate(e, args[1:])
	case "generate":
		return runExerciseGenerate(e, args[1:])
	case "list":
		return runExerciseList(ctx, e, args[1:])
	case "start":
		return runExerciseStart(ctx, e, args[1:])
	case "pause", "resume", "stop", "purge", "status":
		return runExerciseControl(ctx, e, args[0], args[1:])
	case "report":
		return runExerciseReport(ctx, e, args[1:])
	case "-h", "--help", "help":
		fs := newFlags(e, commands["exercise"])
		fs.Usage()
		return nil
	}
	return usageError("unknown subcommand %q: want simulate, generate, list, start, pause, resume, stop, status, purge or report", args[0])
}

// attackFlag collects --attack files.
type attackFlag []string

func (a *attackFlag) String() string     { return strings.Join(*a, ",") }
func (a *attackFlag) Set(v string) error { *a = append(*a, v); return nil }

// loadScenario reads a scenario file or a built-in scenario by name.
func loadScenario(name string, attack []string) (*exercise.Scenario, error) {
	data, opt, err := readScenario(name, attack)
	if err != nil {
		return nil, err
	}
	return exercise.ParseScenario(name, data, opt)
}

// readScenario reads a scenario file or a built-in scenario by name, and
// the ATT&CK technique ids of the --attack files, without checking it:
// what both loadScenario and the hub's start check alike.
func readScenario(name string, attack []string) ([]byte, exercise.LoadOptions, error) {
	var opt exercise.LoadOptions
	data, err := os.ReadFile(name)
	if err != nil {
		b, ok := exercise.LibraryScenario(name)
		if !ok {
			return nil, opt, fmt.Errorf("%s: no such file nor built-in scenario (built-in: %s)", name, strings.Join(exercise.Library(), ", "))
		}
		data = b
	}
	for _, f := range attack {
		r, err := os.Open(f)
		if err != nil {
			return nil, opt, err
		}
		known, err := exercise.LoadTechniques(r)
		r.Close()
		if err != nil {
			return nil, opt, fmt.Errorf("%s: %w", f, err)
		}
		if opt.KnownTechniques == nil {
			opt.KnownTechniques = map[string]bool{}
		}
		for t := range known {
			opt.KnownTechniques[t] = true
		}
	}
	return data, opt, nil
}

func runExerciseSimulate(e *env, args []string) error {
	fs := newFlags(e, commands["exercise"])
	profiles := fs.String("profiles", exercise.DefaultProfiles, "profiles of the simulated participants: a file (JSON) or a built-in name ("+strings.Join(exercise.LibraryProfileNames(), ", ")+")")
	seed := fs.Uint64("seed", 1, "random seed")
	speed := fs.Float64("speed", 1, "scenario seconds per exercise second")
	out := fs.String("out", "", "output directory (default ./exercise-NAME)")
	var attack attackFlag
	fs.Var(&attack, "attack", "ATT&CK STIX bundle to check technique ids against (repeatable)")
	scen, rest := splitFirst(args)
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if scen == "" && fs.NArg() > 0 {
		scen = fs.Arg(0)
		rest = fs.Args()[1:]
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
	}
	if scen == "" || fs.NArg() > 0 {
		return usageError("give one SCENARIO (a file or a built-in name)")
	}
	if *profiles == "" {
		return usageError("give the simulated participants with --profiles FILE or a built-in name (%s)", strings.Join(exercise.LibraryProfileNames(), ", "))
	}
	if *speed <= 0 {
		return usageError("--speed must be above 0")
	}
	sc, err := loadScenario(scen, attack)
	if err != nil {
		return inputError(err)
	}
	data, err := readProfiles(*profiles)
	if err != nil {
		return inputError(err)
	}
	ps, err := exercise.ParseProfiles(*profiles, data)
	if err != nil {
		return inputError(err)
	}
	run, err := exercise.Simulate(sc, ps, *seed, *speed)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = "exercise-" + sc.Name
	}
	if err := run.WriteFiles(dir); err != nil {
		return err
	}
	for _, p := range run.Result.Participants {
		fmt.Fprintf(e.stderr, "%s: detected %d of %d steps, %d avoided, %d false positives\n", p.Participant, p.Detected, p.Instances, p.Skipped, p.FalsePositives)
	}
	fmt.Fprintf(e.stderr, "report: %s\n", filepath.Join(dir, "report.html"))
	return nil
}

// readProfiles reads a profiles file or a built-in profiles file by name.
func readProfiles(name string) ([]byte, error) {
	data, err := os.ReadFile(name)
	if err == nil {
		return data, nil
	}
	if b, ok := exercise.LibraryProfiles(name); ok {
		return b, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: no such file nor built-in profiles (built-in: %s)", name, strings.Join(exercise.LibraryProfileNames(), ", "))
	}
	return nil, err
}

// runExerciseList lists the hub's exercises and the built-in scenarios and
// profiles.
func runExerciseList(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["exercise"])
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("list takes no arguments, not %q", fs.Arg(0))
	}
	type listed struct {
		ID           int64             `json:"id"`
		Scenario     string            `json:"scenario"`
		State        string            `json:"state"`
		Started      time.Time         `json:"started"`
		Seed         uint64            `json:"seed"`
		Speed        float64           `json:"speed"`
		Participants map[string]string `json:"participants"` // participant -> organisation
	}
	hub := []listed{}
	noHub := ""
	if err := e.checkStoreExists(*data); err != nil {
		// Without a hub the built-in scenarios are still worth listing,
		// unless the caller named a directory that holds none.
		if *data != "" || e.getenv("CYBERPACT_DATA") != "" {
			return err
		}
		noHub = e.dataDir(*data)
	} else {
		db, _, err := e.openExerciseHub(ctx, *data)
		if err != nil {
			return err
		}
		defer db.Close()
		xs, err := db.Exercises(ctx)
		if err != nil {
			return err
		}
		for _, x := range xs {
			l := listed{ID: x.ID, Scenario: x.Name, State: x.State, Started: x.Created.UTC(), Seed: x.Seed, Speed: x.Speed, Participants: map[string]string{}}
			for part, org := range x.Participants {
				l.Participants[part] = orgName(ctx, db, org)
			}
			hub = append(hub, l)
		}
	}
	type scenario struct {
		Name, Title  string
		Participants []string
		Duration     string
	}
	var scenarios []scenario
	for _, n := range exercise.Library() {
		b, _ := exercise.LibraryScenario(n)
		sc, err := exercise.ParseScenario(n+".json", b, exercise.LoadOptions{})
		if err != nil {
			return err
		}
		s := scenario{Name: n, Title: sc.Title, Duration: sc.Duration.String()}
		for _, p := range sc.Participants {
			s.Participants = append(s.Participants, p.ID)
		}
		scenarios = append(scenarios, s)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"exercises": hub, "scenarios": scenarios, "profiles": exercise.LibraryProfileNames()})
	}
	switch {
	case noHub != "":
		fmt.Fprintf(e.stdout, "No hub in %s, so no exercises on it (--data DIR names the hub's directory).\n", noHub)
	case len(hub) == 0:
		fmt.Fprintln(e.stdout, "No exercises on the hub yet ('cyberpact exercise start' starts one).")
	default:
		fmt.Fprintln(e.stdout, "Exercises on the hub:")
		for _, l := range hub {
			var played []string
			for _, part := range slices.Sorted(maps.Keys(l.Participants)) {
				played = append(played, part+"="+l.Participants[part])
			}
			fmt.Fprintf(e.stdout, "  %d  %s  %s, started %s, speed %g, seed %d\n      %s\n", l.ID, l.Scenario, l.State, l.Started.Format(time.RFC3339), l.Speed, l.Seed, strings.Join(played, ", "))
		}
	}
	fmt.Fprintln(e.stdout, "\nBuilt-in scenarios (exercise start|simulate NAME):")
	for _, s := range scenarios {
		fmt.Fprintf(e.stdout, "  %s  %s (%s; participants %s)\n", s.Name, s.Title, s.Duration, strings.Join(s.Participants, ", "))
	}
	fmt.Fprintf(e.stdout, "\nBuilt-in profiles (exercise simulate --profiles NAME; default %s): %s\n", exercise.DefaultProfiles, strings.Join(exercise.LibraryProfileNames(), ", "))
	return nil
}

// orgName names an organisation for display: its name, or "organisation
// N" when it is gone.
func orgName(ctx context.Context, db store, id int64) string {
	if o, err := db.OrgByID(ctx, id); err == nil {
		return o.Name
	}
	return fmt.Sprintf("organisation %d", id)
}

func runExerciseGenerate(e *env, args []string) error {
	fs := newFlags(e, commands["exercise"])
	participant := fs.String("participant", "", "participant id whose telemetry to write")
	format := fs.String("format", "ecs", "ecs (JSON lines) or stix (bundle of observed-data)")
	out := fs.String("out", "-", "output file (- for stdout)")
	seed := fs.Uint64("seed", 1, "random seed")
	speed := fs.Float64("speed", 1, "scenario seconds per exercise second")
	noTruth := fs.Bool("no-truth", false, "leave out the ground truth")
	scen, rest := splitFirst(args)
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	if scen == "" && fs.NArg() > 0 {
		scen = fs.Arg(0)
		rest = fs.Args()[1:]
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
	}
	if scen == "" || fs.NArg() > 0 {
		return usageError("give one SCENARIO (a file or a built-in name)")
	}
	if *format != "ecs" && *format != "stix" {
		return usageError("--format must be ecs or stix, not %q", *format)
	}
	if *speed <= 0 {
		return usageError("--speed must be above 0")
	}
	sc, err := loadScenario(scen, nil)
	if err != nil {
		return inputError(err)
	}
	if _, ok := sc.Participant(*participant); !ok {
		return usageError("--participant must be one of the scenario's participants, not %q", *participant)
	}
	// Telemetry does not depend on what participants do, except for
	// conditional steps: with no profiles nobody is warned, so they fire.
	run, err := exercise.Simulate(sc, exercise.Profiles{}, *seed, *speed)
	if err != nil {
		return err
	}
	write := func(w io.Writer) error {
		if *format == "stix" {
			return run.Engine.WriteSTIX(w, *participant, !*noTruth)
		}
		return run.Engine.WriteECS(w, *participant, !*noTruth)
	}
	if *out == "-" {
		return write(e.stdout)
	}
	return exercise.WriteFile(*out, write)
}

// splitFirst takes the first argument that is not a flag as the
// positional one, so that flags may come before or after it.
func splitFirst(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// inputError reports a bad input file: exit code 1.
func inputError(err error) error { return &exitError{code: 1, msg: err.Error()} }

// exerciseStore is a store that keeps exercises.
type exerciseStore interface {
	store
	cyberpact.ExerciseStore
}

// openExerciseHub opens the store and the exercise hub over it.
func (e *env) openExerciseHub(ctx context.Context, dataFlag string) (exerciseStore, *exercise.Hub, error) {
	db, err := e.openStore(ctx, dataFlag)
	if err != nil {
		return nil, nil, err
	}
	xs, ok := db.(exerciseStore)
	if !ok {
		db.Close()
		return nil, nil, cyberpact.Errorf(cyberpact.ENOTIMPLEMENTED, "this store keeps no exercises")
	}
	return xs, &exercise.Hub{Exercises: xs, Objects: xs}, nil
}

// parseParticipants reads --participants: ID=ORG pairs, comma separated,
// ORG an organisation's name.
func parseParticipants(ctx context.Context, db store, v string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, pair := range strings.Split(v, ",") {
		id, name, ok := strings.Cut(pair, "=")
		id, name = strings.TrimSpace(id), strings.TrimSpace(name)
		if !ok || id == "" || name == "" {
			return nil, usageError("--participants: %q is not ID=ORG", pair)
		}
		o, err := db.OrgByName(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("--participants %s=%s: %w", id, name, err)
		}
		out[id] = o.ID
	}
	return out, nil
}

func runExerciseStart(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["exercise"])
	data := dataFlag(fs)
	participants := fs.String("participants", "", "who plays each participant: ID=ORG,... (required)")
	seed := fs.Uint64("seed", 1, "random seed")
	speed := fs.Float64("speed", 1, "scenario seconds per exercise second")
	var attack attackFlag
	fs.Var(&attack, "attack", "ATT&CK STIX bundle to check technique ids against (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("give one SCENARIO (a file or a built-in name)")
	}
	scen := fs.Arg(0)
	if *participants == "" {
		return usageError("give who plays each participant with --participants ID=ORG,...")
	}
	if *speed <= 0 {
		return usageError("--speed must be above 0")
	}
	raw, opt, err := readScenario(scen, attack)
	if err != nil {
		return inputError(err)
	}
	db, hub, err := e.openExerciseHub(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	orgs, err := parseParticipants(ctx, db, *participants)
	if err != nil {
		return err
	}
	hub.KnownTechniques = opt.KnownTechniques
	x, err := hub.Start(ctx, scen, raw, orgs, *seed, *speed)
	if err != nil {
		if cyberpact.ErrorCode(err) == cyberpact.EINVALID {
			return inputError(err)
		}
		return err
	}
	if err := db.Audit(ctx, &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "cli", Via: "cli",
		Detail: fmt.Sprintf("exercise %d (%s) started, seed %d, speed %g, participants %s", x.ID, x.Name, x.Seed, x.Speed, *participants)}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exercise %d (%s) %s\n", x.ID, x.Name, x.State)
	return nil
}

// exerciseArg reads the EXERCISE argument and the flags around it.
func exerciseArg(fs *flag.FlagSet, args []string) (int64, []string, error) {
	if err := parseFlags(fs, args); err != nil {
		return 0, nil, err
	}
	first := fs.Arg(0)
	id, err := strconv.ParseInt(first, 10, 64)
	if first == "" || err != nil || id <= 0 {
		return 0, nil, usageError("give the EXERCISE number, not %q", first)
	}
	return id, fs.Args()[1:], nil
}

func runExerciseControl(ctx context.Context, e *env, op string, args []string) error {
	fs := newFlags(e, commands["exercise"])
	data := dataFlag(fs)
	asJSON := fs.Bool("json", false, "status: the scores as JSON")
	id, rest, err := exerciseArg(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("unexpected argument %q", rest[0])
	}
	// Every one of these acts on an exercise already stored: without a
	// store there is none, and none is made.
	if err := e.checkStoreExists(*data); err != nil {
		return err
	}
	db, hub, err := e.openExerciseHub(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	switch op {
	case "pause":
		err = hub.Pause(ctx, id)
	case "resume":
		err = hub.Resume(ctx, id)
	case "stop":
		err = hub.Stop(ctx, id)
	case "purge":
		var n int
		if n, err = hub.Purge(ctx, id); err == nil {
			err = cyberpact.AuditDeletion(ctx, db, cyberpact.Actor{Name: "cli", Via: "cli"}, nil,
				fmt.Sprintf("exercise %d purged: %d object versions deleted with its state", id, n))
			if err == nil {
				fmt.Fprintf(e.stdout, "exercise %d purged: %d object versions deleted\n", id, n)
			}
		}
		return err
	case "status":
		x, eng, err := hub.Load(ctx, id)
		if err != nil {
			return err
		}
		res := exercise.Score(eng)
		names := map[string]string{}
		for part, org := range x.Participants {
			names[part] = orgName(ctx, db, org)
		}
		res.PlayedBy(names)
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"id": x.ID, "name": x.Name, "state": x.State, "participants": x.Participants, "scores": res})
		}
		fmt.Fprintf(e.stdout, "exercise %d (%s): %s, seed %d, speed %g, scenario time reached %s of %s\n", x.ID, x.Name, x.State, x.Seed, x.Speed, eng.Reached().Truncate(time.Second), eng.Scenario().Duration)
		for _, p := range res.Participants {
			fmt.Fprintf(e.stdout, "  %s: detected %d of %d steps, %d avoided, %d false positives\n", res.Who(p.Participant), p.Detected, p.Instances, p.Skipped, p.FalsePositives)
		}
		return nil
	}
	if err != nil {
		return err
	}
	x, err := db.Exercise(ctx, id)
	if err != nil {
		return err
	}
	past := map[string]string{"pause": "paused", "resume": "resumed", "stop": "stopped"}[op]
	if err := db.Audit(ctx, &cyberpact.AuditEntry{Action: cyberpact.AuditWrite, Actor: "cli", Via: "cli",
		Detail: fmt.Sprintf("exercise %d (%s) %s", x.ID, x.Name, past)}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exercise %d (%s) %s\n", x.ID, x.Name, x.State)
	return nil
}

// runExerciseReport records an organisation's sightings in an exercise
// from a STIX bundle or from cyberpact match's alerts.
func runExerciseReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, commands["exercise"])
	data := dataFlag(fs)
	orgName := fs.String("org", "", "the reporting organisation, by name (required)")
	id, rest, err := exerciseArg(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError("give the FILE of sightings (a STIX bundle, or cyberpact match's alerts; - for stdin)")
	}
	file := rest[0]
	if err := parseFlags(fs, rest[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || *orgName == "" {
		return usageError("give one FILE and --org ORG")
	}
	var in []byte
	if file == "-" {
		in, err = io.ReadAll(e.stdin)
	} else {
		in, err = os.ReadFile(file)
	}
	if err != nil {
		return inputError(err)
	}
	var b struct {
		Type    string            `json:"type"`
		Objects []json.RawMessage `json:"objects"`
	}
	if json.Unmarshal(in, &b) != nil || b.Type != "bundle" {
		bundle, _, err := exercise.SightingsFromMatches(bytes.NewReader(in), time.Now())
		if err != nil {
			return inputError(fmt.Errorf("%s: neither a STIX bundle nor cyberpact match alerts: %w", file, err))
		}
		in = bundle
		b.Objects = nil
		if err := json.Unmarshal(in, &b); err != nil {
			return err
		}
	}
	db, hub, err := e.openExerciseHub(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	org, err := db.OrgByName(ctx, *orgName)
	if err != nil {
		return err
	}
	x, err := db.Exercise(ctx, id)
	if err != nil {
		return err
	}
	if _, ok := x.Participant(org.ID); !ok {
		return cyberpact.Errorf(cyberpact.EINVALID, "%s plays no participant of exercise %d", org.Name, id)
	}
	dec := stix.NewDecoder(bytes.NewReader(in))
	defer dec.Close()
	who := cyberpact.Actor{Name: "cli", Org: org.ID, Via: "cli"}
	res, err := cyberpact.AuditedImport(ctx, db, db, who, dec.Next, cyberpact.ImportOptions{Producer: org.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceExerciseOrg, Group: id}},
		fmt.Sprintf("exercise %d report", id))
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		return inputError(fmt.Errorf("%s: nothing recorded:\n%v", file, cyberpact.Rejections(res.Rejected)))
	}
	rep, err := hub.Report(ctx, id, org.ID, b.Objects, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "exercise %d: %d alerts recorded for %s\n", id, rep.Alerts, org.Name)
	for _, s := range rep.Ignored {
		fmt.Fprintf(e.stderr, "ignored %s\n", s)
	}
	return nil
}

// driveExercises advances the running exercises of hub every interval
// until ctx ends: what serve runs. Failures are logged and retried on the
// next tick.
func driveExercises(ctx context.Context, hub *exercise.Hub, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := hub.Tick(ctx); err != nil && ctx.Err() == nil {
			logger.Error("advancing exercises", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
