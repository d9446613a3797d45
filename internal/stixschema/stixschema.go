// Package stixschema checks STIX 2.1 objects against the OASIS STIX 2.1 JSON
// schemas (cti-stix2-json-schemas, draft 2020-12) kept in the shared folder.
// It is a test aid: an independent second opinion on what stix.Validate
// accepts, and the proof that generated data is well formed. The schemas are
// read from local files only; nothing is ever fetched from the network.
package stixschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// baseURL is the prefix of every schema's $id; the schemas also name each
// other by the https variant in places outside this copy, so both map to the
// same local files.
const (
	baseHTTP  = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
	baseHTTPS = "https://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"
)

// schemaDir is where the schemas live inside the shared folder.
const schemaDir = "conformance/stix-schemas/schemas"

// Validator holds the compiled schemas, one per object type the
// specification defines plus the two cores that custom types are checked
// against. It is safe for concurrent use.
type Validator struct {
	byType  map[string]*jsonschema.Schema // "indicator" -> sdos/indicator.json, ...
	core    *jsonschema.Schema            // common/core.json, for custom SDO-like types
	scoCore *jsonschema.Schema            // common/cyber-observable-core.json, for custom SCOs
}

// Compile reads and compiles the STIX 2.1 schemas below sharedDir (the
// folder holding conformance/stix-schemas/schemas). A $ref to any address
// other than the schemas' own raw.githubusercontent.com addresses fails
// instead of being fetched.
func Compile(sharedDir string) (*Validator, error) {
	dir := filepath.Join(sharedDir, filepath.FromSlash(schemaDir))
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("stixschema: no schemas: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(localLoader{dir: dir})

	v := &Validator{byType: make(map[string]*jsonschema.Schema)}
	compile := func(rel string) (*jsonschema.Schema, error) {
		s, err := c.Compile(baseHTTP + rel)
		if err != nil {
			return nil, fmt.Errorf("stixschema: compiling %s: %w", rel, err)
		}
		return s, nil
	}
	// Every schema of the object categories is keyed by its file name,
	// which is the object type it describes.
	for _, sub := range []string{"sdos", "sros", "observables"} {
		files, err := filepath.Glob(filepath.Join(dir, sub, "*.json"))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			typ := strings.TrimSuffix(filepath.Base(f), ".json")
			s, err := compile(sub + "/" + filepath.Base(f))
			if err != nil {
				return nil, err
			}
			v.byType[typ] = s
		}
	}
	for typ, rel := range map[string]string{
		"marking-definition":   "common/marking-definition.json",
		"language-content":     "common/language-content.json",
		"extension-definition": "common/extension-definition.json",
	} {
		s, err := compile(rel)
		if err != nil {
			return nil, err
		}
		v.byType[typ] = s
	}
	var err error
	if v.core, err = compile("common/core.json"); err != nil {
		return nil, err
	}
	if v.scoCore, err = compile("common/cyber-observable-core.json"); err != nil {
		return nil, err
	}
	if len(v.byType) < 40 {
		return nil, fmt.Errorf("stixschema: only %d object schemas found in %s", len(v.byType), dir)
	}
	return v, nil
}

// localLoader resolves the schemas' addresses to the files of dir and
// refuses every other address, so compiling never touches the network.
type localLoader struct{ dir string }

// Load reads the local file for url.
func (l localLoader) Load(url string) (any, error) {
	var rel string
	switch {
	case strings.HasPrefix(url, baseHTTP):
		rel = strings.TrimPrefix(url, baseHTTP)
	case strings.HasPrefix(url, baseHTTPS):
		rel = strings.TrimPrefix(url, baseHTTPS)
	default:
		return nil, fmt.Errorf("stixschema: refusing to load %s: only the local STIX 2.1 schemas are available", url)
	}
	if i := strings.IndexByte(rel, '#'); i >= 0 {
		rel = rel[:i]
	}
	if !fs.ValidPath(rel) {
		return nil, fmt.Errorf("stixschema: bad schema path %q in %s", rel, url)
	}
	f, err := os.Open(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return jsonschema.UnmarshalJSON(f)
}

// SchemaFor names the schema an object of type typ is checked against, as a
// path relative to the schemas folder. sco says how to treat a custom type:
// as a cyber observable (cyber-observable-core) or as an SDO-like object
// (core).
func (v *Validator) schemaFor(typ string, sco bool) (*jsonschema.Schema, string) {
	if s, ok := v.byType[typ]; ok {
		return s, typ
	}
	if sco {
		return v.scoCore, "cyber-observable-core"
	}
	return v.core, "core"
}

// ValidateObject checks one STIX object against the schema of its type.
// obj is the object's JSON ([]byte, json.RawMessage or string), a decoded
// map[string]any, or any value that encodes to a JSON object (for a
// *stix.Object pass its Raw or Props). A type
// the specification does not define (e.g. x-mitre-tactic) is checked
// against the common core: cyber-observable-core when the object has
// neither created nor modified (a custom SCO), core otherwise. The error
// names the object's id, the schema and each failing JSON location.
func (v *Validator) ValidateObject(obj any) error {
	doc, err := toDoc(obj)
	if err != nil {
		return err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("not a JSON object")
	}
	typ, _ := m["type"].(string)
	id, _ := m["id"].(string)
	_, hasCreated := m["created"]
	_, hasModified := m["modified"]
	sch, name := v.schemaFor(typ, !hasCreated && !hasModified)
	if err := sch.Validate(doc); err != nil {
		who := id
		if who == "" {
			who = "object of type " + strconvQuote(typ)
		}
		return fmt.Errorf("%s does not match the %s schema: %s", who, name, describe(err))
	}
	return nil
}

// ValidateBundle checks every object of a bundle with ValidateObject and
// the bundle's own envelope (type "bundle", an id starting bundle--, an
// objects array). The error lists every failing object by its index in
// objects and its id. For convenience raw may also hold one bare STIX
// object, as stix.NewReader accepts; it is then checked alone.
func (v *Validator) ValidateBundle(raw []byte) error {
	doc, err := toDoc(raw)
	if err != nil {
		return err
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("not a JSON object")
	}
	if t, _ := m["type"].(string); t != "bundle" {
		return v.ValidateObject(m)
	}
	var errs []error
	if id, _ := m["id"].(string); !strings.HasPrefix(id, "bundle--") {
		errs = append(errs, fmt.Errorf("bundle: id %q does not start with bundle--", id))
	}
	objs, ok := m["objects"].([]any)
	if _, has := m["objects"]; has && !ok {
		errs = append(errs, fmt.Errorf("bundle: objects is not an array"))
	}
	for i, o := range objs {
		if err := v.ValidateObject(o); err != nil {
			errs = append(errs, fmt.Errorf("objects[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// toDoc turns the accepted inputs into the decoded JSON the schemas check,
// numbers kept as json.Number.
func toDoc(obj any) (any, error) {
	var raw []byte
	switch o := obj.(type) {
	case map[string]any:
		return o, nil
	case []byte:
		raw = o
	case json.RawMessage:
		raw = o
	case string:
		raw = []byte(o)
	default:
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, fmt.Errorf("cannot encode %T as JSON: %w", obj, err)
		}
		raw = b
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	return doc, nil
}

// maxReasons caps how many failing locations an error lists.
const maxReasons = 6

// describe flattens a schema validation error to its failing leaves, each
// as "at /json/pointer: message", most specific first.
func describe(err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves []string
	seen := make(map[string]bool)
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			// A leaf's own text is "at '/json/pointer': message".
			s := e.Error()
			if !seen[s] {
				seen[s] = true
				leaves = append(leaves, s)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// Deeper locations say more than the object as a whole.
	sort.SliceStable(leaves, func(i, j int) bool {
		return depth(leaves[i]) > depth(leaves[j])
	})
	more := ""
	if len(leaves) > maxReasons {
		more = fmt.Sprintf("; and %d more", len(leaves)-maxReasons)
		leaves = leaves[:maxReasons]
	}
	return strings.Join(leaves, "; ") + more
}

// depth counts the tokens of a leaf's JSON pointer.
func depth(leaf string) int {
	loc, _, _ := strings.Cut(leaf, ":")
	return strings.Count(loc, "/")
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// SharedDir finds the project's shared folder: a directory named "shared"
// beside the repository, found by walking up from the working directory (a
// test runs in its package's folder) and looking at each level for
// shared/conformance and ../shared/conformance. ok is false when there is
// none; tests then skip.
func SharedDir() (dir string, ok bool) {
	if d := os.Getenv("CYBERPACT_SHARED"); d != "" {
		if isShared(d) {
			return d, true
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		for _, c := range []string{filepath.Join(d, "shared"), filepath.Join(d, "..", "shared")} {
			if isShared(c) {
				return filepath.Clean(c), true
			}
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

func isShared(d string) bool {
	st, err := os.Stat(filepath.Join(d, "conformance", "stix-schemas", "schemas"))
	return err == nil && st.IsDir()
}
