package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact/internal/eventgen"
)

// matchBundle is a bundle of indicators for the match command tests.
const matchBundle = `{"type":"bundle","id":"bundle--11111111-1111-4111-8111-111111111111","objects":[
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '198.51.100.7']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","confidence":80},
{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
{"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000003","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","name":"x","is_family":false}
]}`

// cliStdin runs the command line with stdin.
func cliStdin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	code := run(context.Background(), e, args)
	return result{code, out.String(), errb.String()}
}

func TestMatchCommand(t *testing.T) {
	ind := writeFile(t, "ind.json", matchBundle)
	jsonl := writeFile(t, "ev.jsonl", `{"destination":{"ip":"198.51.100.7"}}
not json
{"dns.question.name":"www.evil.example"}
`)
	zeek := writeFile(t, "dns.log", "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\tquery\n1.0\t10.0.0.1\t192.0.2.1\tevil.example\n")
	csv := writeFile(t, "ev.csv", "src_ip,dst_ip\n10.0.0.1,198.51.100.7\n10.0.0.1\n")
	custom := writeFile(t, "custom.jsonl", `{"peer":"198.51.100.7"}`+"\n")
	for _, tc := range []struct {
		name       string
		stdin      string
		args       []string
		code       int
		wantLines  []int
		wantStderr []string
	}{
		{"JSONLinesWithBrokenLine", "", []string{"--indicators", ind, jsonl}, 0, []int{1}, []string{"broken line " + jsonl + ":2", "2 read from 3 lines", "1 hits"}},
		{"Subdomains", "", []string{"--indicators", ind, "--subdomains", jsonl}, 0, []int{1, 3}, nil},
		{"Zeek", "", []string{"--indicators", ind, "--format", "zeek", zeek}, 0, []int{3}, nil},
		{"CSVRagged", "", []string{"--indicators", ind, "--format", "csv", csv}, 0, []int{2}, []string{csv + ":3: 1 columns where the header names 2"}},
		{"FieldMapping", "", []string{"--indicators", ind, "--fields", "peer=ip", custom}, 0, []int{1}, nil},
		{"Stdin", `{"source.ip":"198.51.100.7"}` + "\n", []string{"--indicators", ind}, 0, []int{1}, nil},
		{"SkipWarninglisted", "", []string{"--indicators", ind, "--skip-warninglisted", jsonl}, 0, nil, []string{"0 hits"}},
		{"MissingEventsFile", "", []string{"--indicators", ind, jsonl, "/nonexistent/x.jsonl"}, 1, []int{1}, []string{"/nonexistent/x.jsonl"}},
		{"MissingIndicators", "", []string{"--indicators", "/nonexistent/ind.json", jsonl}, 1, nil, []string{"/nonexistent/ind.json"}},
		{"BrokenBundle", "", []string{"--indicators", writeFile(t, "bad.json", `{"objects":[{"type":"indicator"`), jsonl}, 1, nil, []string{"ends inside"}},
		{"NoIndicatorsFlag", "", []string{jsonl}, 2, nil, []string{"--indicators"}},
		{"BadFormat", "", []string{"--indicators", ind, "--format", "xml", jsonl}, 2, nil, []string{"--format"}},
		{"BadFields", "", []string{"--indicators", ind, "--fields", "a=b", jsonl}, 2, nil, []string{"unknown kind"}},
		{"TwoStdins", "", []string{"--indicators", "-", "-"}, 2, nil, []string{"stdin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := cliStdin(t, tc.stdin, append([]string{"match"}, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			var lines []int
			for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				if l == "" {
					continue
				}
				var a struct {
					Line       int             `json:"line"`
					Event      json.RawMessage `json:"event"`
					Indicators []string        `json:"indicators"`
				}
				if err := json.Unmarshal([]byte(l), &a); err != nil || len(a.Event) == 0 || len(a.Indicators) == 0 {
					t.Fatalf("alert %s: %v", l, err)
				}
				lines = append(lines, a.Line)
			}
			if !matchLinesEqual(lines, tc.wantLines) {
				t.Errorf("alerts on lines %v, want %v; stdout:\n%s", lines, tc.wantLines, r.stdout)
			}
			for _, w := range tc.wantStderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
				}
			}
		})
	}
}

func matchLinesEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMatchCommandKnownAnswers runs generated indicators and events
// through the command and checks the alerts against the known answers.
func TestMatchCommandKnownAnswers(t *testing.T) {
	cfg := eventgen.Config{Indicators: 5000, Events: 20000, HitRate: 0.2, Seed: 3, Variants: true}
	var ib, eb bytes.Buffer
	if err := eventgen.WriteIndicators(&ib, cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	if err := eventgen.WriteEvents(&eb, cfg, func(h eventgen.Hit) {
		want[h.ID+" "+h.Field+" "+matchItoa(h.Line)] = true
	}); err != nil {
		t.Fatal(err)
	}
	r := cliStdin(t, eb.String(), "match", "--subdomains", "--indicators", writeFile(t, "ind.json", ib.String()), "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var a struct {
			Line       int      `json:"line"`
			Field      string   `json:"field"`
			Indicators []string `json:"indicators"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		for _, id := range a.Indicators {
			got[id+" "+a.Field+" "+matchItoa(a.Line)] = true
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("unexpected %s", k)
		}
	}
}

func matchItoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
