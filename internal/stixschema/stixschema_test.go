package stixschema

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	compileOnce sync.Once
	compiled    *Validator
	compileErr  error
)

// validator compiles the schemas once per test binary, skipping when the
// shared folder is not beside the repository.
func validator(t testing.TB) *Validator {
	t.Helper()
	dir, ok := SharedDir()
	if !ok {
		t.Skip("shared folder with conformance/stix-schemas not found beside the repository; skipping schema tests")
	}
	compileOnce.Do(func() { compiled, compileErr = Compile(dir) })
	if compileErr != nil {
		t.Fatal(compileErr)
	}
	return compiled
}

func TestExamplesPass(t *testing.T) {
	v := validator(t)
	dir, _ := SharedDir()
	root := filepath.Join(dir, "conformance", "stix-schemas", "examples")
	var files []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		name, _ := filepath.Rel(root, f)
		t.Run(name, func(t *testing.T) {
			t.Parallel() // the Validator is shared: this also checks it is safe for concurrent use
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.ValidateBundle(raw); err != nil {
				t.Error(err)
			}
		})
	}
}

const indicator = `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
"created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z","name":"C2",
"pattern":"[ipv4-addr:value = '192.0.2.10']","pattern_type":"stix","valid_from":"2024-03-01T10:00:00Z"}`

func TestObjects(t *testing.T) {
	v := validator(t)
	tests := []struct {
		name string
		obj  string
		want []string // substrings of the error; none means valid
	}{
		{name: "ValidIndicator", obj: indicator},
		{name: "IndicatorWithoutPattern",
			obj:  strings.Replace(indicator, `"pattern":"[ipv4-addr:value = '192.0.2.10']",`, "", 1),
			want: []string{"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "indicator schema", "pattern"}},
		{name: "CreatedWithoutMilliseconds",
			obj:  strings.Replace(indicator, `"created":"2024-03-01T10:00:00.000Z"`, `"created":"2024-03-01T10:00:00Z"`, 1),
			want: []string{"/created"}},
		{name: "BadIdentifier",
			obj:  strings.Replace(indicator, `indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f`, `indicator--not-a-uuid`, 1),
			want: []string{"/id"}},
		{name: "NegativeSightingCount",
			obj: `{"type":"sighting","spec_version":"2.1","id":"sighting--ee20065d-2555-424f-ad9e-0f8263a26a11",
"created":"2024-03-01T10:00:00.000Z","modified":"2024-03-01T10:00:00.000Z",
"sighting_of_ref":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","count":-3}`,
			want: []string{"/count"}},
		{name: "SCOWithoutValue",
			obj:  `{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"}`,
			want: []string{"ipv4-addr", "value"}},
		{name: "ValidSCO",
			obj: `{"type":"domain-name","spec_version":"2.1","id":"domain-name--dd686e37-6889-53bd-8ae1-b1a503452613","value":"c2.example"}`},
		{name: "CustomSDOAgainstCore",
			obj: `{"type":"x-mitre-tactic","spec_version":"2.1","id":"x-mitre-tactic--ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca",
"created":"2018-10-17T00:14:20.652Z","modified":"2019-07-19T17:42:06.909Z","name":"Initial Access","x_mitre_shortname":"initial-access"}`},
		{name: "CustomSDOMissingModified",
			obj: `{"type":"x-acme-widget","spec_version":"2.1","id":"x-acme-widget--ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca",
"created":"2018-10-17T00:14:20.652Z"}`,
			want: []string{"core schema", "modified"}},
		{name: "CustomSCOAgainstObservableCore",
			obj: `{"type":"x-acme-beacon","spec_version":"2.1","id":"x-acme-beacon--ffd5bcee-6e16-4dd2-8eca-7b3beedf33ca","x_interval":60}`},
		{name: "TLP2MarkingDefinition",
			obj: `{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
"created":"2022-10-01T00:00:00.000Z","name":"TLP:CLEAR","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":
{"extension_type":"property-extension","tlp_2_0":"clear"}}}`},
		{name: "NotAnObject", obj: `[1,2]`, want: []string{"not a JSON object"}},
		{name: "NotJSON", obj: `{"type":`, want: []string{"not valid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateObject([]byte(tt.obj))
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error mentioning %q, got none", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestBundleErrorNamesObject(t *testing.T) {
	v := validator(t)
	bad := strings.Replace(indicator, `"pattern_type":"stix",`, ``, 1)
	bundle := `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + indicator + `,` + bad + `]}`
	err := v.ValidateBundle([]byte(bundle))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, w := range []string{"objects[1]", "indicator--8e2e2d2b", "pattern_type"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "objects[0]") {
		t.Errorf("error %q blames the valid first object", err)
	}
}

func TestLoaderNeverFetches(t *testing.T) {
	l := localLoader{dir: t.TempDir()}
	for _, u := range []string{"https://example.com/schema.json", "file:///etc/passwd", baseHTTP + "../../../etc/passwd"} {
		if _, err := l.Load(u); err == nil {
			t.Errorf("Load(%q) succeeded; want a refusal", u)
		}
	}
}

func TestMapValidation(t *testing.T) {
	v := validator(t)
	obj := map[string]any{"type": "url", "spec_version": "2.1", "id": "url--c1477287-23ac-5971-a010-5c287877fa60", "value": "https://portal.example/login"}
	if err := v.ValidateObject(obj); err != nil {
		t.Fatal(err)
	}
}
