package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	stored    = `{"type":"indicator","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","spec_version":"2.1","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"original","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z"}`
	goodNew   = `{"type":"tool","id":"tool--00000001-0000-4000-8000-000000000001","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Hammer"}`
	malwareID = "malware--00000002-0000-4000-8000-000000000002"
)

// malware returns a valid malware object with one property changed or
// added (value nil leaves it out).
func malware(t *testing.T, prop string, value any) string {
	t.Helper()
	m := map[string]any{"type": "malware", "id": malwareID, "spec_version": "2.1", "created": "2024-01-01T00:00:00.000Z",
		"modified": "2024-01-01T00:00:00.000Z", "name": "Wiper", "is_family": true}
	if prop != "" {
		m[prop] = value
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lines lays a bundle out one object a line: object #i is on line i+2.
func lines(objs ...string) string {
	return "{\"type\":\"bundle\",\"id\":\"bundle--00000009-0000-4000-8000-000000000009\",\"objects\":[\n" + strings.Join(objs, ",\n") + "\n]}\n"
}

// TestBadInput feeds each kind of broken input to import and validate and
// checks that the error names the file, the object and the JSON path, that
// the exit code is 1 and that the store is exactly as it was.
func TestBadInput(t *testing.T) {
	data := t.TempDir()
	if r := cli(t, "import", "--data", data, writeFile(t, "base.json", lines(stored))); r.code != 0 {
		t.Fatalf("importing the base: exit %d: %s", r.code, r.stderr)
	}
	changedStored := strings.Replace(stored, `"original"`, `"changed"`, 1)
	full := lines(goodNew, malware(t, "", nil))
	for _, tc := range []struct {
		name  string
		input string
		// Both import and validate must say each of these (besides the
		// file name).
		want []string
		// validateOK: validate, which sees the file alone, accepts it.
		validateOK bool
	}{
		{"TruncatedJSONRejected", full[:len(full)-60], []string{"line 3", "truncated input", "object #1, which starts on line 3"}, false},
		{"JSONArrayRejected", `[` + goodNew + `]`, []string{"line 1", "expected a STIX bundle (a JSON object) but found an array"}, false},
		{"JSONObjectNotSTIXRejected", `{"name":"not stix","objects":"none"}`, []string{`"objects" must be an array`}, false},
		{"JSONObjectWithoutTypeRejected", `{"hello":"world"}`, []string{`not a STIX bundle: a JSON object with no STIX "type" and "id"`}, false},
		{"WrongPropertyTypesRejected", lines(goodNew, malware(t, "is_family", "yes")), []string{":3: " + malwareID + " at is_family:", "boolean"}, false},
		{"WrongListTypeRejected", lines(goodNew, malware(t, "aliases", "Wiper2")), []string{":3: " + malwareID + " at aliases:", "list"}, false},
		{"BadIDRejected", lines(goodNew, strings.Replace(malware(t, "", nil), malwareID, "malware--not-a-uuid", 1)), []string{":3: malware--not-a-uuid at id:", "UUID"}, false},
		{"BadTimestampRejected", lines(goodNew, malware(t, "modified", "2024-02-30T00:00:00.000Z")), []string{":3: " + malwareID + " at modified:", `timestamp "2024-02-30T00:00:00.000Z"`}, false},
		{"FiftyMegabyteStringRefusedBySizeLimit", lines(goodNew, malware(t, "description", strings.Repeat("A", 50<<20))), []string{"line 3", "object #1 is larger than the limit of 16777216 bytes"}, false},
		{"NestingTenThousandDeepRefused", lines(goodNew, strings.Replace(malware(t, "", nil), `"name"`, `"x_deep":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)+`,"name"`, 1)), []string{"line 3", "object #1 nests deeper than 100 levels"}, false},
		{"SameVersionDifferentContentInOneBundle", lines(goodNew, malware(t, "", nil), malware(t, "description", "other")), []string{":4: " + malwareID + ": conflict: an object earlier in the same input", "has this id and modified 2024-01-01T00:00:00", "with different content"}, false},
		{"SameVersionDifferentContentThanStored", lines(goodNew, changedStored), []string{":3: indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f: conflict: the version modified 2016-04-06T20:03:48", "already stored with different content"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, "input.json", tc.input)
			statsBefore := cli(t, "stats", "--data", data, "--json")
			exportBefore := exportOf(t, data, "--all-versions")

			r := cli(t, "import", "--data", data, file)
			if r.code != 1 {
				t.Errorf("import: exit %d, want 1\nstdout: %s\nstderr: %.2000s", r.code, r.stdout, r.stderr)
			}
			checkSays(t, "import", r.stderr, file, tc.want)
			if len(r.stderr) > 4000 {
				t.Errorf("import's error is %d bytes long; it must not echo the input", len(r.stderr))
			}
			if !strings.Contains(r.stdout+r.stderr, "nothing stored") {
				t.Errorf("import does not say nothing was stored:\n%s%s", r.stdout, r.stderr)
			}
			if after := cli(t, "stats", "--data", data, "--json"); after.stdout != statsBefore.stdout {
				t.Errorf("the store's stats changed:\n%s\nthen\n%s", statsBefore.stdout, after.stdout)
			}
			if !sameObjects(t, exportBefore, exportOf(t, data, "--all-versions")) {
				t.Error("the store's objects changed")
			}

			v := cli(t, "validate", file)
			if tc.validateOK {
				if v.code != 0 {
					t.Errorf("validate: exit %d, want 0 (it does not look at a store)\n%s%s", v.code, v.stdout, v.stderr)
				}
				return
			}
			if v.code != 1 {
				t.Errorf("validate: exit %d, want 1\nstdout: %.2000s\nstderr: %s", v.code, v.stdout, v.stderr)
			}
			checkSays(t, "validate", v.stdout+v.stderr, file, tc.want)
		})
	}
	t.Run("PartialStoresTheGoodObjectsOnly", func(t *testing.T) {
		file := writeFile(t, "input.json", lines(goodNew, malware(t, "is_family", "yes")))
		r := cli(t, "import", "--data", data, "--partial", file)
		if r.code != 1 || !strings.Contains(r.stdout, "added 1, already present 0, rejected 1") {
			t.Errorf("partial import: exit %d, %s%s", r.code, r.stdout, r.stderr)
		}
		if g := cli(t, "get", "--data", data, "tool--00000001-0000-4000-8000-000000000001"); g.code != 0 {
			t.Errorf("the good object was not stored: %s", g.stderr)
		}
		if g := cli(t, "get", "--data", data, malwareID); g.code != 1 {
			t.Errorf("get of the rejected object: exit %d, want 1", g.code)
		}
	})
}

// checkSays checks that out names file and says every one of want.
func checkSays(t *testing.T, cmd, out, file string, want []string) {
	t.Helper()
	if !strings.Contains(out, file) {
		t.Errorf("%s does not name the file %s:\n%.2000s", cmd, file, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%s does not say %q:\n%.2000s", cmd, w, out)
		}
	}
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
