package exercise

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
)

// TruthKey is the property that carries an artefact's ground truth: a
// custom property of STIX objects and a top-level object of ECS events.
// Hubs strip it before handing artefacts to participants; the scorer
// reads it.
const TruthKey = "x_cyberpact_exercise"

// Statement returns the text of an exercise's marking definition.
func Statement(name string) string { return "EXERCISE " + name + " — SIMULATION ONLY" }

// markingDefinition returns the statement marking definition created for
// an exercise: every artefact refers to it.
func markingDefinition(sc *Scenario, seed uint64) map[string]any {
	return map[string]any{
		"type": "marking-definition", "spec_version": "2.1",
		"id":              "marking-definition--" + gen.UUID4(rng(seed, "marking", sc.Name)),
		"created":         stix.FormatTime(sc.Start),
		"name":            Statement(sc.Name),
		"definition_type": "statement",
		"definition":      map[string]any{"statement": Statement(sc.Name)},
		TruthKey:          map[string]any{"exercise": sc.Name},
	}
}

// MarkingID returns the id of the exercise's marking definition.
func (e *Engine) MarkingID() string { return e.marking["id"].(string) }

// Marking returns the exercise's marking definition as JSON.
func (e *Engine) Marking() []byte { return mustJSON(e.marking) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings, numbers and lists are marshalled
	}
	return b
}

// truth is an artefact's ground truth.
func (e *Engine) truth(ev *Event) map[string]any {
	t := map[string]any{"exercise": e.sc.Name, "event": ev.ID, "participant": ev.Participant, "benign": ev.Benign}
	if !ev.Benign {
		t["step"] = ev.Step
		t["technique"] = ev.Technique
	}
	return t
}

// ECS returns an event as one line of ECS JSON (without the newline).
// withTruth adds the ground-truth key; without it only the opaque
// event.id and the exercise labels remain.
func (e *Engine) ECS(ev *Event, withTruth bool) []byte {
	d := doc{}
	copyInto(d, ev.ecs)
	d["@timestamp"] = stix.FormatTime(ev.Time)
	d.set("event.id", ev.ID).set("event.dataset", "cyberpact.exercise")
	d["labels"] = map[string]any{"exercise": e.sc.Name, "marking": Statement(e.sc.Name), "marking_ref": e.MarkingID(), "observed_data": e.ObservedDataID(ev)}
	if withTruth {
		d[TruthKey] = e.truth(ev)
	}
	return mustJSON(d)
}

func copyInto(dst, src map[string]any) {
	for k, v := range src {
		if m, ok := v.(map[string]any); ok {
			c := map[string]any{}
			copyInto(c, m)
			dst[k] = c
			continue
		}
		dst[k] = v
	}
}

// sco builds one cyber observable with its deterministic id (a seeded
// UUIDv4 for types without ID-contributing properties).
func (e *Engine) sco(props map[string]any, ev *Event) map[string]any {
	props["spec_version"] = "2.1"
	props["object_marking_refs"] = []any{e.MarkingID()}
	id, ok := stix.SCOID(props)
	if !ok {
		id = props["type"].(string) + "--" + gen.UUID4(rng(e.seed, "sco", ev.ID, props["type"].(string)))
	}
	props["id"] = id
	props[TruthKey] = map[string]any{"exercise": e.sc.Name}
	return props
}

// Observed returns an event as STIX: the cyber observables its fields name
// and the observed-data object that refers to them and carries the
// marking and the truth.
func (e *Engine) Observed(ev *Event) []map[string]any {
	d := ev.ecs
	var objs []map[string]any
	add := func(m map[string]any) string {
		m = e.sco(m, ev)
		for _, o := range objs {
			if o["id"] == m["id"] {
				return m["id"].(string)
			}
		}
		objs = append(objs, m)
		return m["id"].(string)
	}
	addr := func(v string) string {
		if strings.Contains(v, ":") {
			return add(map[string]any{"type": "ipv6-addr", "value": v})
		}
		return add(map[string]any{"type": "ipv4-addr", "value": v})
	}
	if src, dst := d.str("source.ip"), d.str("destination.ip"); src != "" || dst != "" {
		nt := map[string]any{"type": "network-traffic", "protocols": []any{"tcp"}}
		if p := d.str("network.protocol"); p != "" {
			nt["protocols"] = []any{"tcp", p}
		}
		if src != "" {
			nt["src_ref"] = addr(src)
		}
		if dst != "" {
			nt["dst_ref"] = addr(dst)
		}
		if p, ok := d.get("destination.port").(int); ok {
			nt["dst_port"] = p
		}
		add(nt)
	}
	for _, f := range []string{"dns.question.name", "tls.client.server_name", "destination.domain", "url.domain"} {
		if v := d.str(f); v != "" {
			add(map[string]any{"type": "domain-name", "value": v})
		}
	}
	if v := d.str("url.full"); v != "" {
		add(map[string]any{"type": "url", "value": v})
	}
	if from := d.str("email.from.address"); from != "" {
		msg := map[string]any{"type": "email-message", "is_multipart": false, "from_ref": add(map[string]any{"type": "email-addr", "value": from})}
		if to := d.str("email.to.address"); to != "" {
			msg["to_refs"] = []any{add(map[string]any{"type": "email-addr", "value": to})}
		}
		if s := d.str("email.subject"); s != "" {
			msg["subject"] = s
		}
		add(msg)
	}
	if h := d.str("file.hash.sha256"); h != "" {
		f := map[string]any{"type": "file", "hashes": map[string]any{"SHA-256": h}}
		if n := d.str("file.name"); n != "" {
			f["name"] = n
		}
		add(f)
	}
	if cl, name := d.str("process.command_line"), d.str("process.name"); cl != "" || name != "" {
		p := map[string]any{"type": "process"}
		if cl != "" {
			p["command_line"] = cl
		}
		img := map[string]any{"type": "file", "name": name}
		if h := d.str("process.hash.sha256"); h != "" {
			img["hashes"] = map[string]any{"SHA-256": h}
		}
		if name != "" {
			p["image_ref"] = add(img)
		}
		add(p)
	}
	if u := d.str("user.name"); u != "" {
		add(map[string]any{"type": "user-account", "account_login": u})
	}
	refs := make([]any, len(objs))
	for i, o := range objs {
		refs[i] = o["id"]
	}
	ts := stix.FormatTime(ev.Time)
	od := map[string]any{
		"type": "observed-data", "spec_version": "2.1",
		"id":      e.ObservedDataID(ev),
		"created": ts, "modified": ts, "first_observed": ts, "last_observed": ts, "number_observed": 1,
		"object_refs": refs, "object_marking_refs": []any{e.MarkingID()},
		"labels": []any{"exercise", "simulation"},
		TruthKey: e.truth(ev),
	}
	return append(objs, od)
}

// ObservedDataID returns the id of an event's observed-data object, which
// its ECS line names in labels.observed_data: a sighting of the event
// refers to it.
func (e *Engine) ObservedDataID(ev *Event) string {
	return "observed-data--" + gen.UUID4(rng(e.seed, "observed-data", ev.ID))
}

// Indicators returns the indicators of a step's IOCs, one per IOC, marked
// with the exercise's marking: what a discovering participant shares.
func (e *Engine) Indicators(step string) []map[string]any {
	st := e.sc.Step(step)
	if st == nil {
		return nil
	}
	ts := stix.FormatTime(e.sc.Start)
	var out []map[string]any
	for i, ioc := range e.IOCs(step) {
		out = append(out, map[string]any{
			"type": "indicator", "spec_version": "2.1",
			"id":      "indicator--" + gen.UUID4(rng(e.seed, "indicator", e.sc.Name, step, ioc.Value)),
			"created": ts, "modified": ts, "valid_from": ts,
			"name":    "Exercise " + e.sc.Name + " step " + step + " (" + st.Technique + ") IOC " + strconv.Itoa(i+1),
			"pattern": ioc.Pattern(), "pattern_type": "stix", "indicator_types": []any{"malicious-activity"},
			"confidence":          80,
			"labels":              []any{"exercise", "simulation"},
			"external_references": []any{map[string]any{"source_name": "mitre-attack", "external_id": st.Technique}},
			"object_marking_refs": []any{e.MarkingID()},
			TruthKey:              map[string]any{"exercise": e.sc.Name, "step": step, "technique": st.Technique},
		})
	}
	return out
}

// bundleWriter writes a bundle with a deterministic id, one object a line,
// skipping objects already written.
type bundleWriter struct {
	w    *bufio.Writer
	n    int
	seen map[string]bool
}

func newBundleWriter(w io.Writer, id string) *bundleWriter {
	bw := &bundleWriter{w: bufio.NewWriter(w), seen: map[string]bool{}}
	bw.w.WriteString(`{"type":"bundle","id":"bundle--` + id + `","objects":[`)
	return bw
}

func (bw *bundleWriter) add(o map[string]any) {
	id, _ := o["id"].(string)
	if bw.seen[id] {
		return
	}
	bw.seen[id] = true
	if bw.n > 0 {
		bw.w.WriteByte(',')
	}
	bw.w.WriteByte('\n')
	bw.w.Write(mustJSON(o))
	bw.n++
}

func (bw *bundleWriter) close() error {
	bw.w.WriteString("\n]}\n")
	return bw.w.Flush()
}

// WriteECS writes a participant's released events as ECS JSON lines.
func (e *Engine) WriteECS(w io.Writer, participant string, withTruth bool) error {
	bw := bufio.NewWriter(w)
	for _, ev := range e.Released() {
		if ev.Participant == participant {
			bw.Write(e.ECS(ev, withTruth))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// WriteSTIX writes a participant's released events as a STIX bundle: the
// marking definition, then each event's observables and observed-data.
// Without withTruth the ground truth is left out.
func (e *Engine) WriteSTIX(w io.Writer, participant string, withTruth bool) error {
	bw := newBundleWriter(w, gen.UUID4(rng(e.seed, "bundle", e.sc.Name, participant)))
	bw.add(e.marking)
	for _, ev := range e.Released() {
		if ev.Participant != participant {
			continue
		}
		for _, o := range e.Observed(ev) {
			if !withTruth {
				delete(o, TruthKey)
			}
			bw.add(o)
		}
	}
	return bw.close()
}

// WriteIntel writes the exercise's intelligence as a STIX bundle: the
// marking definition and the indicators of every step, in step order.
func (e *Engine) WriteIntel(w io.Writer) error {
	bw := newBundleWriter(w, gen.UUID4(rng(e.seed, "bundle", e.sc.Name, "intel")))
	bw.add(e.marking)
	steps := make([]string, 0, len(e.sc.Steps))
	for _, st := range e.sc.Steps {
		steps = append(steps, st.ID)
	}
	sort.Strings(steps)
	for _, s := range steps {
		for _, ind := range e.Indicators(s) {
			bw.add(ind)
		}
	}
	return bw.close()
}
