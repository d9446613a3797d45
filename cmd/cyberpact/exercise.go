package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/cyberpact/cyberpact/exercise"
)

func init() {
	register(&command{
		name:    "exercise",
		summary: "simulate cross-sector exercises offline, or generate one participant's telemetry",
		usage: `simulate SCENARIO --profiles FILE [--seed N] [--speed X] [--out DIR] [--attack FILE]
       generate SCENARIO --participant ORG [--format ecs|stix] [--out FILE] [--seed N] [--speed X] [--no-truth]
       list`,
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

simulate runs the whole exercise with simulated participants whose profiles
(JSON, schema "cyberpact-profiles/1") say what they catch, how fast, how fast
they share, and how often they raise false alarms. It writes under --out
(default ./exercise-NAME): report.md and report.html (the after-action
report), scores.json, navigator/all.json and navigator/ORG.json (ATT&CK
Navigator 4.5 layers), intel.json (the steps' indicators) and
telemetry/ORG.ecs.jsonl and telemetry/ORG.stix.json.

generate writes one participant's telemetry as ECS JSON lines (for
'cyberpact match'; DNS tunnelling needs --subdomains) or as a STIX bundle
of observed-data. --no-truth leaves out the ground truth, for handing to
the participant. With the same seed and speed, runs are byte-identical.

--attack checks the scenario's technique ids against ATT&CK data (a STIX
bundle such as enterprise-attack-18.1.stix20.json; repeat for ICS).
Exit 0 on success, 1 for a bad scenario or profiles file (every problem is
listed with its line and field), 2 for a usage error.`,
		run: runExercise,
	})
}

func runExercise(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError("give a subcommand: simulate, generate or list")
	}
	switch args[0] {
	case "simulate":
		return runExerciseSimulate(e, args[1:])
	case "generate":
		return runExerciseGenerate(e, args[1:])
	case "list":
		for _, n := range exercise.Library() {
			fmt.Fprintln(e.stdout, n)
		}
		return nil
	case "-h", "--help", "help":
		fs := newFlags(e, commands["exercise"])
		fs.Usage()
		return nil
	}
	return usageError("unknown subcommand %q: want simulate, generate or list", args[0])
}

// attackFlag collects --attack files.
type attackFlag []string

func (a *attackFlag) String() string     { return strings.Join(*a, ",") }
func (a *attackFlag) Set(v string) error { *a = append(*a, v); return nil }

// loadScenario reads a scenario file or a built-in scenario by name.
func loadScenario(name string, attack []string) (*exercise.Scenario, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		b, ok := exercise.LibraryScenario(name)
		if !ok {
			return nil, fmt.Errorf("%s: no such file nor built-in scenario (built-in: %s)", name, strings.Join(exercise.Library(), ", "))
		}
		data = b
	}
	var opt exercise.LoadOptions
	for _, f := range attack {
		r, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		known, err := exercise.LoadTechniques(r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		if opt.KnownTechniques == nil {
			opt.KnownTechniques = map[string]bool{}
		}
		for t := range known {
			opt.KnownTechniques[t] = true
		}
	}
	return exercise.ParseScenario(name, data, opt)
}

func runExerciseSimulate(e *env, args []string) error {
	fs := newFlags(e, commands["exercise"])
	profiles := fs.String("profiles", "", "profiles file of the simulated participants (JSON)")
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
		return usageError("give the simulated participants with --profiles FILE")
	}
	if *speed <= 0 {
		return usageError("--speed must be above 0")
	}
	sc, err := loadScenario(scen, attack)
	if err != nil {
		return inputError(err)
	}
	data, err := os.ReadFile(*profiles)
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
