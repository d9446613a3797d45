// Package exercise runs cross-sector exercises: simulated attacks whose
// synthetic telemetry and intelligence are delivered to the participants,
// and whose scoring measures what they detect, what they share and when.
// Nothing is ever executed on anyone's systems, and every value comes from
// the ranges reserved for documentation (RFC 5737, RFC 3849, .example,
// .test; hashes are random).
//
// # Scenario files
//
// A scenario is a JSON file (schema "cyberpact-exercise/1"); the built-in
// ones are in scenarios/. Durations are Go durations with an optional
// leading number of days ("90m", "2h30m", "1d6h"); offsets are scenario
// time from the start.
//
//	{
//	  "schema": "cyberpact-exercise/1",          required
//	  "name": "financial-drill",                 required; a-z, 0-9, '-'
//	  "title": "...", "description": "...",
//	  "domain": "enterprise-attack",             or "ics-attack" (Navigator layers)
//	  "start": "2026-03-02T08:00:00Z",           default DefaultStart
//	  "duration": "8h",                          default: last step's events + 2h
//	  "background": {"events_per_hour": 60},     benign events per participant
//	  "participants": [{"id": "central-bank", "name": "...", "sector": "...", "country": "..."}],
//	  "steps": [{
//	    "id": "phish",                           unique
//	    "technique": "T1566.001",                ATT&CK id the generator produces
//	    "generator": "phishing-attachment",      see Generators
//	    "targets": ["commercial-bank"],
//	    "at": "0m",
//	    "params": {"count": 5, "interval": "2m", "jitter": 0.2},
//	    "unless_warned": {"step": "c2-a", "by": "2h"}   optional: fire against a
//	        target only if it did not hold step c2-a's indicator by offset 2h
//	  }],
//	  "injects": [
//	    {"kind": "discovery", "participant": "energy-cert", "step": "inject-1", "at": "20m"},
//	    {"kind": "warning", "from": "national-cert", "to": ["central-bank"], "step": "c2", "at": "5h"}
//	  ]
//	}
//
// Unknown fields, wrong types and every rule above are reported with the
// file, line and JSON path (steps[1].unless_warned.by) of the problem.
//
// # Profiles files
//
// The simulated participants of Simulate (schema "cyberpact-profiles/1"),
// keyed by participant id, "*" for the others:
//
//	{"schema": "cyberpact-profiles/1", "profiles": {
//	  "central-bank": {
//	    "default": {"detect": 0.5, "delay": {"min": "5m", "max": "30m"}},
//	    "techniques": {"T1566.001": {"detect": true, "delay": "0s"}},
//	    "sharing_delay": "30m",            absent: never shares
//	    "false_positive_rate": 0.01,       chance a benign event raises an alert
//	    "uses_shared_indicators": true     held indicators detect from then on
//	  }}}
//
// Delays are exercise (wall) time: at --speed 4 an analyst's 30 minutes
// cover two hours of scenario time, so slow sharing misses more deadlines.
//
// # Artefacts
//
// Every event is an ECS JSON line (for cyberpact match; the DNS generator
// needs subdomain matching) and a STIX observed-data object with its cyber
// observables. Each carries the exercise's statement marking definition
// ("EXERCISE <name> — SIMULATION ONLY") and the ground-truth key
// x_cyberpact_exercise: exercise, event id, participant, benign, and for
// malicious events step and technique. The step's indicators (one per
// IOC) carry the marking and the step.
//
// # Engine
//
// Engine is the state machine (planned, running, paused, stopped,
// finished) with an injected clock: every call takes the current time, so
// a hub drives it with the wall clock and Simulate with the scenario's.
// Participants report Alerts (on event ids) and Holdings (of a step's
// indicator); Score turns them and the ground truth into a Result, which
// writes the after-action reports and ATT&CK Navigator 4.5 layers.
package exercise
