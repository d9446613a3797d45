package exercise

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/stix"
)

func builtin(t *testing.T, name string, opt LoadOptions) *Scenario {
	t.Helper()
	data, ok := LibraryScenario(name)
	if !ok {
		t.Fatalf("no built-in scenario %q", name)
	}
	sc, err := ParseScenario(name+".json", data, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func profiles(t *testing.T, src string) Profiles {
	t.Helper()
	data := []byte(src)
	if !strings.HasPrefix(src, "{") {
		var err error
		if data, err = os.ReadFile(src); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := ParseProfiles("profiles.json", data)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func simulate(t *testing.T, sc *Scenario, ps Profiles, seed uint64, speed float64) *Run {
	t.Helper()
	run, err := Simulate(sc, ps, seed, speed)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func TestSimulationScoresKnownInAdvance(t *testing.T) {
	for _, name := range Library() {
		sc := builtin(t, name, LoadOptions{})
		t.Run("PerfectDetectsEverythingAtOnce/"+name, func(t *testing.T) {
			r := simulate(t, sc, profiles(t, "testdata/profiles-perfect.json"), 1, 1).Result
			for _, row := range r.Rows {
				if !row.Fired {
					continue
				}
				if !row.Detected || row.TimeToDetect == nil || *row.TimeToDetect != 0 {
					t.Errorf("%s %s: detected %v, time to detect %s; want detected at once", row.Participant, row.Step, row.Detected, dur(row.TimeToDetect))
				}
			}
			for _, p := range r.Participants {
				if p.Detected != p.Instances || p.FalsePositives != 0 {
					t.Errorf("%s: detected %d of %d, %d false positives", p.Participant, p.Detected, p.Instances, p.FalsePositives)
				}
			}
		})
		t.Run("BlindDetectsNothing/"+name, func(t *testing.T) {
			r := simulate(t, sc, profiles(t, "testdata/profiles-blind.json"), 1, 1).Result
			for _, p := range r.Participants {
				if p.Detected != 0 || p.FalsePositives != 0 || p.MeanTTD != nil {
					t.Errorf("%s: detected %d, %d false positives; want none", p.Participant, p.Detected, p.FalsePositives)
				}
			}
			for _, l := range r.Layer("").Techniques {
				if l.Score != 0 {
					t.Errorf("layer %s scored %d, want 0", l.TechniqueID, l.Score)
				}
			}
		})
	}
}

func TestSlowWarningLetsTheCampaignSpread(t *testing.T) {
	sc := builtin(t, "multi-nation", LoadOptions{})
	// nation-a catches the first wave at once; the deadlines are 2h
	// (nation-b) and 4h (nation-c) after it starts.
	for _, tc := range []struct {
		name       string
		share      string
		speed      float64
		hitB, hitC bool
	}{
		{"FastWarningProtectsBoth", "30m", 1, false, false},
		{"WarningAfterFirstDeadlineHitsB", "3h", 1, true, false},
		{"WarningAfterBothDeadlinesHitsBoth", "5h", 1, true, true},
		{"NoSharingHitsBoth", "", 1, true, true},
		// At speed 4 the 2h deadline is 30 minutes of exercise time.
		{"AcceleratedClockMakesTheSameDelaySlow", "40m", 4, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			share := `"sharing_delay": "` + tc.share + `",`
			if tc.share == "" {
				share = ""
			}
			ps := profiles(t, `{"schema": "cyberpact-profiles/1", "profiles": {
				"nation-a": {"default": {"detect": true, "delay": "0s"}, `+share+` "uses_shared_indicators": true},
				"*": {"default": {"detect": false}, "sharing_delay": "0s"}}}`)
			r := simulate(t, sc, ps, 7, tc.speed).Result
			fired := map[string]bool{}
			for _, row := range r.Rows {
				if row.Fired {
					fired[row.Participant] = true
				}
			}
			if !fired["nation-a"] || fired["nation-b"] != tc.hitB || fired["nation-c"] != tc.hitC {
				t.Errorf("hit: %v; want nation-a, nation-b %v, nation-c %v", fired, tc.hitB, tc.hitC)
			}
			for _, row := range r.Rows {
				if row.Step == "c2-a" && row.Participant == "nation-b" && tc.share != "" {
					want := map[string]float64{"30m": 1800, "3h": 10800, "5h": 18000, "40m": 2400}[tc.share]
					if row.TimeToWarn == nil || *row.TimeToWarn != want {
						t.Errorf("nation-b time to warn %s, want %vs", dur(row.TimeToWarn), want)
					}
				}
			}
		})
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	sc := builtin(t, "financial-drill", LoadOptions{})
	ps := profiles(t, "testdata/profiles-mixed.json")
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	for i, d := range dirs {
		seed := uint64(42)
		if i == 2 {
			seed = 43
		}
		if err := simulate(t, sc, ps, seed, 2).WriteFiles(d); err != nil {
			t.Fatal(err)
		}
	}
	differs := false
	filepath.WalkDir(dirs[0], func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dirs[0], path)
		a, _ := os.ReadFile(path)
		b, err := os.ReadFile(filepath.Join(dirs[1], rel))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs with the same seed", rel)
		}
		c, _ := os.ReadFile(filepath.Join(dirs[2], rel))
		if !bytes.Equal(a, c) {
			differs = true
		}
		return nil
	})
	if !differs {
		t.Error("another seed gave the same files")
	}
}

var (
	ipv4RE   = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)
	domainRE = regexp.MustCompile(`\b(?:[a-z0-9-]+\.)+[a-z]{2,}\b`)
	reserved = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")}
)

// checkReserved fails for any address or domain name outside the
// documentation ranges in a line of telemetry.
func checkReserved(t *testing.T, where string, line string) {
	t.Helper()
	// Values that look like names but are file names or versions.
	notNames := regexp.MustCompile(`(?i)\.(exe|dll|docm|docx|ps1|7z|dmp|php|html|js)\b|attack\.mitre\.org`)
	for _, m := range ipv4RE.FindAllString(line, -1) {
		a, err := netip.ParseAddr(m)
		if err != nil || !inReserved(a) {
			t.Errorf("%s: address %s is not in a documentation range", where, m)
		}
	}
	var v map[string]any
	json.Unmarshal([]byte(line), &v)
	walkStrings(v, "", func(path, s string) {
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() && !inReserved(a) {
			t.Errorf("%s: address %s is not in 2001:db8::/32", where, s)
		}
		if !nameFields.MatchString(path) {
			return
		}
		s = localPart.ReplaceAllString(s, "@")
		for _, d := range domainRE.FindAllString(strings.ToLower(s), -1) {
			if notNames.MatchString(d) || ipv4RE.MatchString(d) {
				continue
			}
			if !strings.HasSuffix(d, ".example") && !strings.HasSuffix(d, ".test") {
				t.Errorf("%s: name %s is not under .example or .test", where, d)
			}
		}
	})
}

func inReserved(a netip.Addr) bool {
	for _, p := range reserved {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// localPart matches what is not a host name in a mailbox or a Windows
// profile path.
var localPart = regexp.MustCompile(`[^\s@\\/]+@|\\Users\\[^\\]+`)

// nameFields are the fields that hold host names, addresses, URLs or
// paths with host names in them.
var nameFields = regexp.MustCompile(`(^|\.)(domain|server_name|address|full|original|value|command_line|path|statement)$|(host|question)\.name$`)

func walkStrings(v any, path string, f func(path, s string)) {
	switch v := v.(type) {
	case string:
		f(path, v)
	case []any:
		for _, x := range v {
			walkStrings(x, path, f)
		}
	case map[string]any:
		for k, x := range v {
			if k == "id" || strings.HasSuffix(k, "_ref") || strings.HasSuffix(k, "_refs") || k == "marking_ref" || k == "object_refs" {
				continue
			}
			walkStrings(x, strings.TrimPrefix(path+"."+k, "."), f)
		}
	}
}

// allRuns runs every built-in scenario once with the mixed profiles.
func allRuns(t *testing.T) []*Run {
	var runs []*Run
	for _, name := range Library() {
		runs = append(runs, simulate(t, builtin(t, name, LoadOptions{}), profiles(t, "testdata/profiles-mixed.json"), 3, 1))
	}
	return runs
}

func TestEveryArtefactUsesOnlyReservedValues(t *testing.T) {
	for _, run := range allRuns(t) {
		e := run.Engine
		var buf bytes.Buffer
		for _, p := range e.sc.Participants {
			e.WriteECS(&buf, p.ID, true)
			e.WriteSTIX(&buf, p.ID, true)
		}
		e.WriteIntel(&buf)
		n := 0
		for _, line := range strings.Split(buf.String(), "\n") {
			line = strings.TrimSuffix(line, ",")
			if !strings.HasPrefix(line, "{") || strings.HasPrefix(line, `{"type":"bundle"`) {
				continue
			}
			checkReserved(t, e.sc.Name, line)
			n++
		}
		if n < 100 {
			t.Errorf("%s: only %d artefacts scanned", e.sc.Name, n)
		}
	}
}

func TestEverySTIXArtefactIsValidAndMarked(t *testing.T) {
	for _, run := range allRuns(t) {
		e := run.Engine
		var bundles []*bytes.Buffer
		for _, p := range e.sc.Participants {
			var b bytes.Buffer
			e.WriteSTIX(&b, p.ID, true)
			bundles = append(bundles, &b)
		}
		var b bytes.Buffer
		e.WriteIntel(&b)
		bundles = append(bundles, &b)
		for _, b := range bundles {
			var bundle struct {
				Objects []json.RawMessage `json:"objects"`
			}
			if err := json.Unmarshal(b.Bytes(), &bundle); err != nil {
				t.Fatalf("%s: bundle: %v", e.sc.Name, err)
			}
			for _, raw := range bundle.Objects {
				o, err := stix.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range stix.Errors(stix.Validate(o)) {
					t.Errorf("%s: %s", e.sc.Name, p.Error())
				}
				if o.ID == e.MarkingID() {
					if !strings.Contains(string(raw), Statement(e.sc.Name)) {
						t.Errorf("marking definition lacks the statement: %s", raw)
					}
					continue
				}
				var m struct {
					Markings []string       `json:"object_marking_refs"`
					Truth    map[string]any `json:"x_cyberpact_exercise"`
				}
				json.Unmarshal(raw, &m)
				if len(m.Markings) != 1 || m.Markings[0] != e.MarkingID() {
					t.Errorf("%s is not marked with the exercise marking", o.ID)
				}
				if m.Truth["exercise"] != e.sc.Name {
					t.Errorf("%s carries no ground-truth key", o.ID)
				}
			}
		}
	}
}

func TestMatchEngineFindsEveryMaliciousEvent(t *testing.T) {
	for _, run := range allRuns(t) {
		e := run.Engine
		var intel bytes.Buffer
		e.WriteIntel(&intel)
		ix, err := match.Build(match.BundleIndicators(bytes.NewReader(intel.Bytes())), match.BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		end := e.TimeAt(e.sc.Duration)
		for _, p := range e.sc.Participants {
			var events, alerts bytes.Buffer
			e.WriteECS(&events, p.ID, true)
			_, err := match.Stream(context.Background(), match.NewMatcher(ix), bytes.NewReader(events.Bytes()), &alerts,
				match.StreamOptions{Subdomains: true, Workers: 1, Now: func() time.Time { return end }})
			if err != nil {
				t.Fatal(err)
			}
			hit := map[string]bool{}
			sc := bufio.NewScanner(&alerts)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var a struct {
					Event struct {
						Truth struct {
							Event  string `json:"event"`
							Benign bool   `json:"benign"`
						} `json:"x_cyberpact_exercise"`
					} `json:"event"`
				}
				if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
					t.Fatal(err)
				}
				if a.Event.Truth.Benign {
					t.Errorf("%s/%s: benign event %s matched an exercise indicator", e.sc.Name, p.ID, a.Event.Truth.Event)
				}
				hit[a.Event.Truth.Event] = true
			}
			for _, ev := range e.Released() {
				if ev.Participant == p.ID && !ev.Benign && !hit[ev.ID] {
					t.Errorf("%s/%s: malicious event %s of step %s not matched", e.sc.Name, p.ID, ev.ID, ev.Step)
				}
			}
		}
	}
}

func TestLibraryScenariosUseKnownATTACKTechniques(t *testing.T) {
	known := map[string]bool{}
	for _, f := range []string{"enterprise-attack-18.1.stix20.json", "ics-attack-18.1.json"} {
		r, err := os.Open(filepath.Join("/work/shared/data", f))
		if err != nil {
			t.Skip("ATT&CK data not available:", err)
		}
		m, err := LoadTechniques(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		for k := range m {
			known[k] = true
		}
	}
	for tech := range GeneratorTechniques() {
		if !known[tech] {
			t.Errorf("a generator produces %s, which ATT&CK 18.1 does not have", tech)
		}
	}
	for _, name := range Library() {
		builtin(t, name, LoadOptions{KnownTechniques: known})
	}
}

func TestBrokenScenariosRejectedWithLineAndField(t *testing.T) {
	valid := `{
  "schema": "cyberpact-exercise/1",
  "name": "t",
  "participants": [
    {"id": "a"},
    {"id": "b"}
  ],
  "steps": [
    {"id": "s1", "technique": "T1071.001", "generator": "c2-https", "targets": ["a"], "at": "0m"},
    {"id": "s2", "technique": "T1071.001", "generator": "c2-https", "targets": ["b"], "at": "2h", "unless_warned": {"step": "s1", "by": "1h"}}
  ],
  "injects": [
    {"kind": "warning", "from": "a", "to": ["b"], "at": "30m", "step": "s1"}
  ]
}`
	if _, err := ParseScenario("t.json", []byte(valid), LoadOptions{}); err != nil {
		t.Fatalf("valid scenario refused: %v", err)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"SyntaxError", `"name": "t",`, `"name": "t"`, "t.json:4: invalid JSON"},
		{"Truncated", "\n}", "", "ends inside"},
		{"UnknownField", `{"id": "b"}`, `{"id": "b", "nmae": "x"}`, "t.json:6: participants[1].nmae: unknown field"},
		{"WrongType", `"targets": ["b"]`, `"targets": "b"`, "t.json:10: steps[1].targets: want a list"},
		{"WrongSchema", `exercise/1`, `exercise/9`, "t.json:2: schema: unknown schema"},
		{"BadTechniqueID", `"technique": "T1071.001", "generator": "c2-https", "targets": ["b"]`, `"technique": "1071", "generator": "c2-https", "targets": ["b"]`, "t.json:10: steps[1].technique: \"1071\" is not an ATT&CK technique id"},
		{"TechniqueTheGeneratorDoesNotProduce", `"technique": "T1071.001", "generator": "c2-https", "targets": ["a"]`, `"technique": "T1486", "generator": "c2-https", "targets": ["a"]`, "t.json:9: steps[0].technique: generator \"c2-https\" does not produce T1486"},
		{"UnknownGenerator", `"generator": "c2-https", "targets": ["a"]`, `"generator": "c2-smoke", "targets": ["a"]`, "t.json:9: steps[0].generator: unknown generator"},
		{"UnknownTarget", `"targets": ["b"]`, `"targets": ["z"]`, "t.json:10: steps[1].targets[0]: unknown participant \"z\""},
		{"BadDuration", `"at": "2h"`, `"at": "2 hours"`, "t.json:10: steps[1].at: \"2 hours\" is not a duration"},
		{"DeadlineAfterStep", `"by": "1h"`, `"by": "3h"`, "t.json:10: steps[1].unless_warned.by: the deadline 3h is after the step"},
		{"ConditionOnUnknownStep", `"step": "s1", "by"`, `"step": "s9", "by"`, "t.json:10: steps[1].unless_warned.step: unknown step \"s9\""},
		{"DuplicateParticipant", `{"id": "b"}`, `{"id": "a"}`, "t.json:6: participants[1].id: participant \"a\" is listed twice"},
		{"BadInjectKind", `"kind": "warning"`, `"kind": "rumour"`, "t.json:13: injects[0].kind: want \"discovery\" or \"warning\""},
		{"UnknownParam", `"at": "0m"}`, `"at": "0m", "params": {"rate": 3}}`, "t.json:9: steps[0].params.rate: unknown parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(valid, tc.old) {
				t.Fatalf("test broken: %q not in the scenario", tc.old)
			}
			_, err := ParseScenario("t.json", []byte(strings.Replace(valid, tc.old, tc.new, 1)), LoadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("UnknownTechniqueOfATTACKData", func(t *testing.T) {
		_, err := ParseScenario("t.json", []byte(valid), LoadOptions{KnownTechniques: map[string]bool{"T1566.001": true}})
		if err == nil || !strings.Contains(err.Error(), "t.json:9: steps[0].technique: T1071.001 is not a technique of the loaded ATT&CK data") {
			t.Errorf("error %v", err)
		}
	})
}

func TestBrokenProfilesRejectedWithLineAndField(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"BadProbability", `{"schema": "cyberpact-profiles/1", "profiles": {
  "a": {"default": {"detect": 1.5}}}}`, "p.json:2: profiles.a.default.detect: want a probability"},
		{"BadDelay", `{"schema": "cyberpact-profiles/1", "profiles": {
  "a": {"default": {"detect": true, "delay": {"min": "1h", "max": "5m"}}}}}`, "profiles.a.default.delay.max: 5m is less than min 1h"},
		{"UnknownField", `{"schema": "cyberpact-profiles/1", "profiles": {
  "a": {"sharing": "5m"}}}`, "p.json:2: profiles.a.sharing: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProfiles("p.json", []byte(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestEngineClockPausesAndAccelerates(t *testing.T) {
	sc := builtin(t, "multi-nation", LoadOptions{})
	e, err := NewEngine(sc, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)
	if err := e.Pause(t0); err != ErrState {
		t.Errorf("pause before start: %v, want ErrState", err)
	}
	e.Start(t0)
	if got := e.Offset(t0.Add(15 * time.Minute)); got != time.Hour {
		t.Errorf("15m at speed 4 is %s of scenario time, want 1h", got)
	}
	e.Pause(t0.Add(15 * time.Minute))
	if got := e.Offset(t0.Add(time.Hour)); got != time.Hour {
		t.Errorf("paused clock moved to %s", got)
	}
	e.Resume(t0.Add(time.Hour))
	b, _ := e.Advance(t0.Add(time.Hour + 15*time.Minute)) // 2h of scenario time
	var steps []string
	for _, f := range b.Firings {
		steps = append(steps, fmt.Sprintf("%s@%s", f.Step, f.Time.Format("15:04")))
	}
	if want := "c2-a@06:00 c2-b@07:15"; strings.Join(steps, " ") != want {
		t.Errorf("fired %v, want %s (c2-b's time moved by the 45m pause)", steps, want)
	}
	e.Stop(t0.Add(2 * time.Hour))
	if _, err := e.Advance(t0.Add(3 * time.Hour)); err != ErrState {
		t.Errorf("advance after stop: %v, want ErrState", err)
	}
}
