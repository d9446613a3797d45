package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestImportHiddenIDAnswersAsFresh is the command line's row of the
// write-path matrix (issue 14, finding 1): `import --org` of an id, or of
// an observable value, that another organisation holds out of sight
// prints and exits exactly as the import of a fresh one, and changes
// nothing the holder exports.
func TestImportHiddenIDAnswersAsFresh(t *testing.T) {
	data := t.TempDir()
	for _, org := range []string{"Alpha", "Bravo"} {
		if r := cli(t, "org", "create", org, "--nation", "GB", "--sector", "finance", "--data", data); r.code != 0 {
			t.Fatalf("org create %s: %d %s", org, r.code, r.stderr)
		}
	}
	dir := t.TempDir()
	file := func(name, objects string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[`+objects+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	indicator := func(id, name string) string {
		return `{"type":"indicator","spec_version":"2.1","id":"` + id + `","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"` + name + `","pattern":"[ipv4-addr:value = '198.51.100.9']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}`
	}
	ip := func(id, value string) string {
		return `{"type":"ipv4-addr","spec_version":"2.1","id":"` + id + `","value":"` + value + `"}`
	}
	hidden, fresh := "indicator--0b7c3a4e-1f2d-4c5b-8a9e-7d6c5b4a3f21", "indicator--1c8d4b5f-2e3a-4d6c-9b0f-8e7d6c5b4a32"
	hiddenIP, freshIP := "ipv4-addr--2d9e5c6a-3f4b-4e7d-8c1a-9f8e7d6c5b43", "ipv4-addr--3e0f6d7b-4a5c-4f8e-9d2b-0a9f8e7d6c54"
	if r := cli(t, "import", "--data", data, "--org", "Alpha", "--audience", "org",
		file("alpha.json", indicator(hidden, "Alpha's own")+","+ip(hiddenIP, "198.51.100.9"))); r.code != 0 {
		t.Fatalf("import: %d %s", r.code, r.stderr)
	}
	// What Alpha exports of its own objects.
	alphaSees := func() string {
		r := cli(t, "export", "--data", data, "--org", "Alpha")
		var own []string
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.Contains(line, hidden) || strings.Contains(line, hiddenIP) {
				own = append(own, strings.TrimSuffix(line, ","))
			}
		}
		return strings.Join(own, "\n")
	}
	before := alphaSees()
	for _, tc := range []struct{ name, hidden, fresh string }{
		{"SDO", indicator(hidden, "Bravo's"), indicator(fresh, "Bravo's")},
		{"Observable", ip(hiddenIP, "198.51.100.9"), ip(freshIP, "198.51.100.10")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := cli(t, "import", "--data", data, "--org", "Bravo", "--audience", "all", file("h.json", tc.hidden))
			f := cli(t, "import", "--data", data, "--org", "Bravo", "--audience", "all", file("f.json", tc.fresh))
			norm := func(r result, ids ...string) result {
				r.stdout = timing.ReplaceAllString(r.stdout, "")
				for _, id := range append(ids, "h.json", "f.json") {
					r.stdout = strings.ReplaceAll(r.stdout, id, "<probe>")
					r.stderr = strings.ReplaceAll(r.stderr, id, "<probe>")
				}
				return r
			}
			if a, b := norm(h, hidden, hiddenIP), norm(f, fresh, freshIP); a != b {
				t.Errorf("importing an id held out of sight: %+v\nfresh: %+v", a, b)
			}
		})
	}
	if after := alphaSees(); after != before {
		t.Errorf("what Alpha exports changed:\nbefore %s\nafter  %s", before, after)
	}
}

// timing is the duration an import prints.
var timing = regexp.MustCompile(` in [0-9.]+m?s`)
