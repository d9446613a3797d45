package stix

import (
	"encoding/json"
	"fmt"
	"github.com/cyberpact/cyberpact/pattern"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Validate checks o against the rules of the STIX 2.1 specification and
// returns every problem found, errors and warnings, each naming o's id and
// the JSON path. An empty result means o is valid.
//
// It checks, for the object types the specification defines (every SDO,
// SRO and SCO, marking-definition, language-content, extension-definition)
// and for custom object types alike: the identifier form type--UUID with the
// object's own type as prefix and an RFC 4122 UUID; timestamps, with
// created and modified at least millisecond precise and modified not before
// created; the required properties of each type; the JSON type of every
// property the specification defines; closed enumerations (errors) and open
// vocabularies (warnings); the target types of *_ref and *_refs properties;
// confidence, lang, external references, granular markings (selectors that
// resolve in the object), kill chain phases and extensions (predefined SCO
// extensions and extension-definition ids, and their properties); custom
// property names and the reserved names; and the type-specific rules such as
// first_seen <= last_seen, valid_until > valid_from, number_observed and
// count ranges, the location and observed-data alternatives. Cyber
// observables whose id is not the deterministic one of SCOID get a warning
// when the id is a UUIDv4 and an error when it is a UUIDv5. Indicator
// patterns are checked only for being strings: their syntax is the pattern
// package's business.
func Validate(o *Object) []Problem {
	if o == nil || o.Props == nil {
		return []Problem{{Message: "no object"}}
	}
	c := checkers.Get().(*checker)
	c.id, c.ps, c.n, c.pattern = o.ID, nil, 0, nil
	c.object(o.Props)
	if d := o.dup; d.depth == 1 && d.name != "" {
		c.errf(&jsonPath{name: d.name}, "the property is given more than once; readers disagree on which value holds")
	} else if d.depth > 0 {
		c.errf(nil, "the property name %q is given more than once within one JSON object; readers disagree on which value holds", d.name)
	}
	ps := c.ps
	o.pattern = c.pattern
	c.ps, c.pattern = nil, nil
	checkers.Put(c)
	if len(ps) > 1 {
		// Properties are visited in map order; sort for stable output.
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
	}
	return ps
}

// checkers recycles checkers, whose path arena is too big to allocate for
// every object.
var checkers = sync.Pool{New: func() any { return new(checker) }}

// checker collects the problems of one object.
type checker struct {
	id string
	ps []Problem
	// pattern is the indicator's pattern as parsed to validate it, kept
	// for Stored, which would otherwise parse it again.
	pattern *pattern.Pattern
	// arena holds path segments, so that the paths built while walking
	// an object cost no allocation. Segments are released by resetting n
	// once the value they describe has been checked.
	arena [64]jsonPath
	n     int
}

// node returns a path segment below parent, from the arena while it lasts.
func (c *checker) node(parent *jsonPath, name string, index int) *jsonPath {
	if c.n < len(c.arena) {
		q := &c.arena[c.n]
		c.n++
		*q = jsonPath{parent: parent, name: name, index: index}
		return q
	}
	return &jsonPath{parent: parent, name: name, index: index}
}

// jsonPath is a JSON path, built lazily: a problem's path is formatted only when
// the problem is reported. A segment is a property name, or an index when
// name is empty.
type jsonPath struct {
	parent *jsonPath
	name   string
	index  int
}

func (p *jsonPath) String() string {
	if p == nil {
		return ""
	}
	return string(p.appendTo(make([]byte, 0, 64)))
}

func (p *jsonPath) appendTo(b []byte) []byte {
	if p.parent != nil {
		b = p.parent.appendTo(b)
	}
	if p.name == "" {
		b = append(b, '[')
		b = strconv.AppendInt(b, int64(p.index), 10)
		return append(b, ']')
	}
	if len(b) > 0 {
		b = append(b, '.')
	}
	return append(b, p.name...)
}

func (c *checker) errf(p *jsonPath, format string, args ...any) {
	c.ps = append(c.ps, Problem{ObjectID: c.id, Path: p.String(), Message: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(p *jsonPath, format string, args ...any) {
	c.ps = append(c.ps, Problem{ObjectID: c.id, Path: p.String(), Message: fmt.Sprintf(format, args...), Warning: true})
}

// valueKind is the type of a property's value.
type valueKind uint8

const (
	kAny           valueKind = iota // anything: only the name is checked
	kString                         // a string
	kBool                           // a boolean
	kInt                            // an integer, within [min, max]
	kNumber                         // a number, within [fmin, fmax]
	kTimestamp                      // a timestamp
	kTimestampMS                    // a timestamp at least millisecond precise (created, modified)
	kRef                            // an identifier of one of the allowed types
	kRefList                        // a non-empty list of identifiers of the allowed types
	kStringList                     // a non-empty list of strings
	kVocab                          // a string, SHOULD come from vocab
	kVocabList                      // a non-empty list of strings, each SHOULD come from vocab
	kEnum                           // a string that MUST come from vocab
	kEnumList                       // a non-empty list of strings that MUST come from vocab
	kHashes                         // a hashes dictionary
	kHashesStrict                   // a hashes dictionary whose keys must come from hash-algorithm-ov
	kDict                           // a dictionary (JSON object) with valid keys
	kKillChain                      // a non-empty list of kill-chain-phase
	kExtRefs                        // a non-empty list of external-reference
	kGranular                       // a non-empty list of granular-marking
	kExtensions                     // the extensions dictionary
	kBinary                         // a base64 string
	kHex                            // a string of hexadecimal octets
	kObject                         // a JSON object checked against sub
	kObjectList                     // a non-empty list of JSON objects checked against sub
	kSpecVersion                    // spec_version: "2.1"
	kID                             // the object's own id
	kType                           // the object's type
	kLang                           // an RFC 5646 language tag
	kNotApplicable                  // a common property this category must not use
)

// propSpec describes one property the specification defines.
type propSpec struct {
	kind        valueKind
	required    bool
	vocab       vocab
	vocabName   string
	refListProp *refRule
	min, max    int64
	fmin, fmax  float64
	sub         *objSpec
}

// objSpec describes a JSON object: an object type, an extension, or a
// structured value such as a MIME part.
type objSpec struct {
	name  string
	props map[string]*propSpec
	// check applies the rules that involve more than one property.
	check func(c *checker, m map[string]any, p *jsonPath)
	// required lists the required properties, computed from props at
	// initialisation.
	required []string
	// closed objects accept no other properties (none in STIX 2.1 beyond
	// some structured values; custom properties are allowed almost
	// everywhere).
	closed bool
}

// refRule says which object types a reference may point at.
type refRule struct {
	types   vocab // these types (nil: see the flags)
	sdoSpec bool  // any SDO, and custom types
	scoSpec bool  // any SCO, and custom types
	sro     bool  // any SRO
	any     bool  // any type
	desc    string
}

func (r *refRule) allows(t string) bool {
	if r.any {
		return true
	}
	if r.types != nil && r.types.has(t) {
		return true
	}
	switch categoryOf[t] {
	case catSDO:
		return r.sdoSpec
	case catSCO:
		return r.scoSpec
	case catSRO:
		return r.sro
	case catCustom:
		return r.sdoSpec || r.scoSpec
	}
	return false
}

// Builders for the property tables.

func strProp() *propSpec                { return &propSpec{kind: kString} }
func boolProp() *propSpec               { return &propSpec{kind: kBool} }
func tsProp() *propSpec                 { return &propSpec{kind: kTimestamp} }
func strListProp() *propSpec            { return &propSpec{kind: kStringList} }
func hashesProp() *propSpec             { return &propSpec{kind: kHashes} }
func dictProp() *propSpec               { return &propSpec{kind: kDict} }
func binaryProp() *propSpec             { return &propSpec{kind: kBinary} }
func hexProp() *propSpec                { return &propSpec{kind: kHex} }
func intProp() *propSpec                { return &propSpec{kind: kInt, min: -maxSTIXInt, max: maxSTIXInt} }
func intRangeProp(a, b int64) *propSpec { return &propSpec{kind: kInt, min: a, max: b} }
func numberProp(a, b float64) *propSpec { return &propSpec{kind: kNumber, fmin: a, fmax: b} }
func ovProp(name string, v vocab) *propSpec {
	return &propSpec{kind: kVocab, vocab: v, vocabName: name}
}
func ovListProp(name string, v vocab) *propSpec {
	return &propSpec{kind: kVocabList, vocab: v, vocabName: name}
}
func enumProp(name string, v vocab) *propSpec {
	return &propSpec{kind: kEnum, vocab: v, vocabName: name}
}
func refProp(r *refRule) *propSpec        { return &propSpec{kind: kRef, refListProp: r} }
func refListProp(r *refRule) *propSpec    { return &propSpec{kind: kRefList, refListProp: r} }
func objectProp(s *objSpec) *propSpec     { return &propSpec{kind: kObject, sub: s} }
func objectListProp(s *objSpec) *propSpec { return &propSpec{kind: kObjectList, sub: s} }

func (p *propSpec) req() *propSpec {
	q := *p
	q.required = true
	return &q
}

func refTo(types ...string) *refRule {
	return &refRule{types: newVocab(types...), desc: "an object of type " + strings.Join(types, " or ")}
}

var (
	refAny       = &refRule{any: true, desc: "any object"}
	refSDO       = &refRule{sdoSpec: true, desc: "an SDO"}
	refSCO       = &refRule{scoSpec: true, desc: "an SCO"}
	refSDOorSCO  = &refRule{sdoSpec: true, scoSpec: true, desc: "an SDO or SCO"}
	refSCOorSRO  = &refRule{scoSpec: true, sro: true, desc: "an SCO or SRO"}
	refIdentity  = refTo("identity")
	refMarking   = refTo("marking-definition")
	refSoftware  = refTo("software")
	refEmailAddr = refTo("email-addr")
)

// maxSTIXInt is the largest magnitude of a STIX integer (section 2.10).
const maxSTIXInt = 1<<53 - 1

// object validates a whole top-level object.
func (c *checker) object(m map[string]any) {
	t, isString := m["type"].(string)
	switch {
	case m["type"] == nil:
		c.errf(&jsonPath{name: "type"}, "required property is missing")
	case !isString:
		c.errf(&jsonPath{name: "type"}, "must be a string, not %s", jsonKind(m["type"]))
	default:
		if msg := typeNameProblem(t); msg != "" {
			c.errf(&jsonPath{name: "type"}, "%s", msg)
		}
	}
	spec := specFor(t, m)
	if spec == nil {
		c.errf(&jsonPath{name: "type"}, "a bundle is not an object that can be validated on its own")
		return
	}
	c.props(spec, m, nil, t)
	if spec.check != nil {
		spec.check(c, m, nil)
	}
	if _, ok := m["granular_markings"]; ok {
		c.selectors(m)
	}
	if t == "" {
		return
	}
	cat := categoryOf[t]
	// modified >= created, for every object that has both.
	if cs, ok := m["created"].(string); ok {
		if ms, ok := m["modified"].(string); ok {
			ct, err1 := ParseTime(cs)
			mt, err2 := ParseTime(ms)
			if err1 == nil && err2 == nil && mt.Before(ct) {
				c.errf(&jsonPath{name: "modified"}, "modified (%s) is earlier than created (%s)", ms, cs)
			}
		}
	}
	// Identifier version rules (section 2.9).
	if id, ok := m["id"].(string); ok && len(id) > 36 {
		v := uuidVersion(id[len(id)-36:])
		switch {
		case cat == catSCO:
			c.scoID(t, id, v, m)
		case v != 4 && v != 0:
			c.warnf(&jsonPath{name: "id"}, "the UUID of an SDO, SRO or meta object should be a UUIDv4, not a UUIDv%d", v)
		}
	}
}

// specFor returns the spec of an object of type t.
func specFor(t string, m map[string]any) *objSpec {
	if s, ok := typeSpecs[t]; ok {
		return s
	}
	if categoryOf[t] == catBundle {
		return nil
	}
	if isCustomSCO(m) {
		return customSCOSpec
	}
	return customSpec
}

// isCustomSCO reports whether a custom object declares itself an SCO
// through an extension of type new-sco.
func isCustomSCO(m map[string]any) bool {
	exts, ok := m["extensions"].(map[string]any)
	if !ok {
		return false
	}
	for _, e := range exts {
		if em, ok := e.(map[string]any); ok && em["extension_type"] == "new-sco" {
			return true
		}
	}
	return false
}

// scoID checks an SCO's id against its deterministic id.
func (c *checker) scoID(t, id string, v int, m map[string]any) {
	want, ok := SCOID(m)
	if !ok || want == id {
		if v == 5 && !ok && len(scoIDProps[t]) > 0 {
			c.warnf(&jsonPath{name: "id"}, "a UUIDv5 id but none of the ID contributing properties is present")
		}
		return
	}
	if v == 5 {
		c.errf(&jsonPath{name: "id"}, "a UUIDv5 id that is not the deterministic id of the ID contributing properties (%s)", want)
		return
	}
	c.warnf(&jsonPath{name: "id"}, "SCOs should use the deterministic UUIDv5 id of their ID contributing properties (%s)", want)
}

// props checks every property of m against spec: required properties,
// property types and custom property names.
func (c *checker) props(spec *objSpec, m map[string]any, parent *jsonPath, t string) {
	for name, v := range m {
		if strings.HasSuffix(name, "_enc") {
			if _, ok := m[name[:len(name)-4]]; !ok {
				c.errf(&jsonPath{parent: parent, name: name}, "an encoding property must not be present without %s", name[:len(name)-4])
			}
		}
		mark := c.n
		if pr, ok := spec.props[name]; ok {
			c.value(pr, v, c.node(parent, name, 0), t)
		} else {
			c.custom(spec, name, v, parent)
		}
		c.n = mark
	}
	for _, name := range spec.required {
		if _, ok := m[name]; !ok {
			c.errf(&jsonPath{parent: parent, name: name}, "required property is missing")
		}
	}
}

// custom checks a property the specification does not define.
func (c *checker) custom(spec *objSpec, name string, v any, parent *jsonPath) {
	p := c.node(parent, name, 0)
	if spec.closed {
		c.errf(p, "%s has no property %q", spec.name, name)
		return
	}
	if reservedNames.has(name) {
		c.errf(p, "%q is a reserved property name and must not be used", name)
		return
	}
	if msg := propNameProblem(name); msg != "" {
		c.errf(p, "%s", msg)
		return
	}
	// Custom references: identifiers, as for the spec's own _ref(s).
	switch {
	case strings.HasSuffix(name, "_ref"):
		if s, ok := v.(string); ok {
			if _, msg := parseIdentifier(s); msg != "" {
				c.warnf(p, "a custom reference property should hold an identifier: %s", msg)
			}
		}
	case strings.HasSuffix(name, "_refs"):
		if l, ok := v.([]any); ok {
			for i, item := range l {
				if s, ok := item.(string); ok {
					if _, msg := parseIdentifier(s); msg != "" {
						ip := c.node(p, "", i)
						c.warnf(ip, "a custom reference property should hold identifiers: %s", msg)
					}
				}
			}
		}
	}
}

// value checks one property value against its description.
func (c *checker) value(pr *propSpec, v any, p *jsonPath, t string) {
	switch pr.kind {
	case kAny:
	case kString:
		c.str(v, p)
	case kBool:
		if _, ok := v.(bool); !ok {
			c.errf(p, "must be a boolean, not %s", jsonKind(v))
		}
	case kInt:
		c.integer(v, p, pr.min, pr.max)
	case kNumber:
		c.number(v, p, pr.fmin, pr.fmax)
	case kTimestamp:
		c.timestamp(v, p, false)
	case kTimestampMS:
		c.timestamp(v, p, true)
	case kRef:
		c.ref(v, p, pr.refListProp)
	case kRefList:
		if l, ok := c.list(v, p); ok {
			mark := c.n
			for i, item := range l {
				c.n = mark
				ip := c.node(p, "", i)
				c.ref(item, ip, pr.refListProp)
			}
		}
	case kStringList:
		if l, ok := c.list(v, p); ok {
			mark := c.n
			for i, item := range l {
				c.n = mark
				if _, ok := item.(string); !ok {
					ip := c.node(p, "", i)
					c.errf(ip, "must be a string, not %s", jsonKind(item))
				}
			}
		}
	case kVocab:
		if s, ok := c.str(v, p); ok {
			c.vocabTerm(pr, s, p)
		}
	case kVocabList:
		if l, ok := c.list(v, p); ok {
			mark := c.n
			for i, item := range l {
				c.n = mark
				ip := c.node(p, "", i)
				if s, ok := c.str(item, ip); ok {
					c.vocabTerm(pr, s, ip)
				}
			}
		}
	case kEnum:
		if s, ok := c.str(v, p); ok && !pr.vocab.has(s) {
			c.errf(p, "%q is not a value of %s", s, pr.vocabName)
		}
	case kEnumList:
		if l, ok := c.list(v, p); ok {
			mark := c.n
			for i, item := range l {
				c.n = mark
				ip := c.node(p, "", i)
				if s, ok := c.str(item, ip); ok && !pr.vocab.has(s) {
					c.errf(ip, "%q is not a value of %s", s, pr.vocabName)
				}
			}
		}
	case kHashes:
		c.hashes(v, p, false)
	case kHashesStrict:
		c.hashes(v, p, true)
	case kDict:
		c.dict(v, p)
	case kKillChain:
		c.killChain(v, p)
	case kExtRefs:
		c.externalRefs(v, p, t)
	case kGranular:
		c.granular(v, p)
	case kExtensions:
		c.extensions(v, p, t)
	case kBinary:
		if s, ok := c.str(v, p); ok && !isBase64(s) {
			c.errf(p, "must be base64-encoded binary data")
		}
	case kHex:
		if s, ok := c.str(v, p); ok && !isHex(s) {
			c.errf(p, "must be an even number of hexadecimal digits (0-9, a-f)")
		}
	case kObject:
		if m, ok := v.(map[string]any); ok {
			c.props(pr.sub, m, p, t)
			if pr.sub.check != nil {
				pr.sub.check(c, m, flatPath(p))
			}
		} else {
			c.errf(p, "must be an object, not %s", jsonKind(v))
		}
	case kObjectList:
		if l, ok := c.list(v, p); ok {
			mark := c.n
			for i, item := range l {
				c.n = mark
				ip := c.node(p, "", i)
				if m, ok := item.(map[string]any); ok {
					c.props(pr.sub, m, ip, t)
					if pr.sub.check != nil {
						pr.sub.check(c, m, flatPath(ip))
					}
				} else {
					c.errf(ip, "must be an object, not %s", jsonKind(item))
				}
			}
		}
	case kSpecVersion:
		if s, ok := c.str(v, p); ok && s != "2.1" {
			c.errf(p, "must be \"2.1\", not %q (upgrade STIX 2.0 content first)", s)
		}
	case kID:
		if s, ok := c.str(v, p); ok {
			typ, msg := parseIdentifier(s)
			if msg != "" {
				c.errf(p, "%s", msg)
			} else if typ != t && t != "" {
				c.errf(p, "the id's type prefix %q is not the object's type %q", typ, t)
			}
		}
	case kType:
	case kNotApplicable:
		c.errf(p, "this property must not be used on this kind of object")
	case kLang:
		if s, ok := c.str(v, p); ok && !isLangTag(s) {
			c.errf(p, "%q is not an RFC 5646 language tag", s)
		}
	}
}

func (c *checker) str(v any, p *jsonPath) (string, bool) {
	s, ok := v.(string)
	if !ok {
		c.errf(p, "must be a string, not %s", jsonKind(v))
	}
	return s, ok
}

// list returns v as a non-empty list; section 2.12 forbids empty lists.
func (c *checker) list(v any, p *jsonPath) ([]any, bool) {
	l, ok := v.([]any)
	if !ok {
		c.errf(p, "must be a list, not %s", jsonKind(v))
		return nil, false
	}
	if len(l) == 0 {
		c.errf(p, "must not be an empty list (omit the property instead)")
		return nil, false
	}
	return l, true
}

func (c *checker) vocabTerm(pr *propSpec, s string, p *jsonPath) {
	if pr.vocab.has(s) {
		return
	}
	if !isVocabForm(s) {
		c.warnf(p, "%q is not in %s; values outside it should be lowercase with hyphens", s, pr.vocabName)
		return
	}
	c.warnf(p, "%q is not in %s", s, pr.vocabName)
}

// intValue returns v as an integer when it is a JSON number without a
// fraction.
func intValue(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return i, true
		}
		f, err := n.Float64()
		if err == nil && f == math.Trunc(f) && math.Abs(f) <= maxSTIXInt {
			return int64(f), true
		}
	case float64:
		if n == math.Trunc(n) && math.Abs(n) <= maxSTIXInt {
			return int64(n), true
		}
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	return 0, false
}

func floatValue(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func (c *checker) integer(v any, p *jsonPath, lo, hi int64) (int64, bool) {
	i, ok := intValue(v)
	if !ok {
		if _, isNum := floatValue(v); isNum {
			c.errf(p, "must be an integer, not %v", v)
		} else {
			c.errf(p, "must be an integer, not %s", jsonKind(v))
		}
		return 0, false
	}
	if i < lo || i > hi {
		c.errf(p, "must be between %d and %d, not %d", lo, hi, i)
		return i, false
	}
	return i, true
}

func (c *checker) number(v any, p *jsonPath, lo, hi float64) {
	f, ok := floatValue(v)
	if !ok {
		c.errf(p, "must be a number, not %s", jsonKind(v))
		return
	}
	if f < lo || f > hi {
		c.errf(p, "must be between %g and %g, not %g", lo, hi, f)
	}
}

func (c *checker) timestamp(v any, p *jsonPath, ms bool) (time.Time, bool) {
	s, ok := c.str(v, p)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(s)
	if err != nil {
		c.errf(p, "%v", err)
		return time.Time{}, false
	}
	if ms && TimePrecision(s) < 3 {
		c.errf(p, "timestamp %q must be precise to at least the millisecond", s)
	}
	return t, true
}

// ref checks one reference.
func (c *checker) ref(v any, p *jsonPath, r *refRule) {
	s, ok := c.str(v, p)
	if !ok {
		return
	}
	t, msg := parseIdentifier(s)
	if msg != "" {
		c.errf(p, "%s", msg)
		return
	}
	if !r.allows(t) {
		c.errf(p, "must refer to %s, not %s", r.desc, t)
	}
}

// hashes checks a hashes dictionary (section 2.7). strict makes an
// algorithm outside hash-algorithm-ov an error, as external references
// require (section 2.5).
func (c *checker) hashes(v any, p *jsonPath, strict bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.errf(p, "must be a dictionary of hashes, not %s", jsonKind(v))
		return
	}
	if len(m) == 0 {
		c.errf(p, "must contain at least one hash")
		return
	}
	mark := c.n
	for k, hv := range m {
		c.n = mark
		kp := c.node(p, k, 0)
		if !isDictKey(k, 3) {
			c.errf(kp, "hash algorithm names must be 3 to 250 characters of a-z, A-Z, 0-9, hyphen and underscore")
			continue
		}
		s, ok := c.str(hv, kp)
		if !ok {
			continue
		}
		if n, fixed := hashLength[k]; fixed {
			if len(s) != n || !isHexAnyCase(s) {
				c.errf(kp, "a %s hash must be %d hexadecimal digits", k, n)
			}
			continue
		}
		switch k {
		case "SSDEEP", "TLSH":
			if s == "" {
				c.errf(kp, "must not be empty")
			}
		default:
			if strict {
				c.errf(kp, "hash algorithm %q is not in hash-algorithm-ov, as external references require", k)
			} else if !vocabHashAlgorithm.has(k) {
				c.warnf(kp, "hash algorithm %q is not in hash-algorithm-ov", k)
			}
		}
	}
}

// dict checks a dictionary (section 2.3): not empty, keys of 1 to 250
// characters of a-z, A-Z, 0-9, hyphen and underscore.
func (c *checker) dict(v any, p *jsonPath) {
	m, ok := v.(map[string]any)
	if !ok {
		c.errf(p, "must be a dictionary, not %s", jsonKind(v))
		return
	}
	if len(m) == 0 {
		c.errf(p, "must not be an empty dictionary (omit the property instead)")
	}
	for k := range m {
		if !isDictKey(k, 1) {
			kp := c.node(p, k, 0)
			c.errf(kp, "dictionary keys must be 1 to 250 characters of a-z, A-Z, 0-9, hyphen and underscore")
		}
	}
}

// killChain checks a list of kill-chain-phase (section 2.11).
func (c *checker) killChain(v any, p *jsonPath) {
	l, ok := c.list(v, p)
	if !ok {
		return
	}
	mark := c.n
	for i, item := range l {
		c.n = mark
		ip := c.node(p, "", i)
		m, ok := item.(map[string]any)
		if !ok {
			c.errf(ip, "must be a kill chain phase object, not %s", jsonKind(item))
			continue
		}
		for _, f := range [2]string{"kill_chain_name", "phase_name"} {
			fp := c.node(ip, f, 0)
			fv, present := m[f]
			if !present {
				c.errf(fp, "required property is missing")
				continue
			}
			if s, ok := c.str(fv, fp); ok && !isVocabForm(s) {
				c.warnf(fp, "%q should be lowercase with hyphens as word separators", s)
			}
		}
	}
}

// externalRefs checks external_references (section 2.5).
func (c *checker) externalRefs(v any, p *jsonPath, t string) {
	l, ok := c.list(v, p)
	if !ok {
		return
	}
	mark := c.n
	for i, item := range l {
		c.n = mark
		ip := c.node(p, "", i)
		m, ok := item.(map[string]any)
		if !ok {
			c.errf(ip, "must be an external reference object, not %s", jsonKind(item))
			continue
		}
		c.props(externalRefSpec, m, ip, t)
		src, _ := m["source_name"].(string)
		_, hasDesc := m["description"]
		_, hasURL := m["url"]
		eid, hasEID := m["external_id"]
		if !hasDesc && !hasURL && !hasEID {
			c.errf(ip, "at least one of description, url or external_id must be present")
		}
		id, _ := eid.(string)
		switch {
		case t == "attack-pattern" && src == "capec" && hasEID:
			if !isCAPECID(id) {
				c.errf(&jsonPath{parent: ip, name: "external_id"}, "a CAPEC reference's external_id must be of the form CAPEC-[id], not %q", id)
			}
		case t == "vulnerability" && src == "cve" && hasEID:
			if !isCVEID(id) {
				c.errf(&jsonPath{parent: ip, name: "external_id"}, "a CVE reference's external_id must be of the form CVE-YYYY-NNNN, not %q", id)
			}
		}
	}
}

// granular checks granular_markings (section 7.2.3): each entry has
// non-empty selectors that resolve within the object and exactly one of
// lang and marking_ref.
func (c *checker) granular(v any, p *jsonPath) {
	l, ok := c.list(v, p)
	if !ok {
		return
	}
	mark := c.n
	for i, item := range l {
		c.n = mark
		ip := c.node(p, "", i)
		m, ok := item.(map[string]any)
		if !ok {
			c.errf(ip, "must be a granular marking object, not %s", jsonKind(item))
			continue
		}
		c.props(granularSpec, m, ip, "")
		_, hasLang := m["lang"]
		_, hasRef := m["marking_ref"]
		if hasLang == hasRef {
			c.errf(ip, "exactly one of lang and marking_ref must be present")
		}
	}
}

// selectors checks that every granular marking selector of the top-level
// object m refers to a property or list item present in m.
func (c *checker) selectors(m map[string]any) {
	l, ok := m["granular_markings"].([]any)
	if !ok {
		return
	}
	gp := c.node(nil, "granular_markings", 0)
	for i, item := range l {
		g, ok := item.(map[string]any)
		if !ok {
			continue
		}
		sels, ok := g["selectors"].([]any)
		if !ok {
			continue
		}
		ip := c.node(gp, "", i)
		sp := c.node(ip, "selectors", 0)
		for j, sel := range sels {
			s, ok := sel.(string)
			if !ok {
				continue
			}
			if !selectorResolves(m, s) {
				jp := c.node(sp, "", j)
				c.errf(jp, "selector %q does not refer to a property of this object", s)
			}
		}
	}
}

// selectorResolves follows a selector such as "external_references.[0].url"
// through v.
func selectorResolves(v any, sel string) bool {
	if sel == "" {
		return false
	}
	for sel != "" {
		var seg string
		if i := strings.IndexByte(sel, '.'); i >= 0 {
			seg, sel = sel[:i], sel[i+1:]
			if sel == "" {
				return false
			}
		} else {
			seg, sel = sel, ""
		}
		if len(seg) > 2 && seg[0] == '[' && seg[len(seg)-1] == ']' {
			n, err := strconv.Atoi(seg[1 : len(seg)-1])
			l, ok := v.([]any)
			if err != nil || !ok || n < 0 || n >= len(l) {
				return false
			}
			v = l[n]
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[seg]; !ok {
			return false
		}
	}
	return true
}

// extensions checks the extensions dictionary (sections 3.10 and 7.3).
func (c *checker) extensions(v any, p *jsonPath, t string) {
	m, ok := v.(map[string]any)
	if !ok {
		c.errf(p, "must be a dictionary, not %s", jsonKind(v))
		return
	}
	if len(m) == 0 {
		c.errf(p, "must contain at least one extension")
		return
	}
	mark := c.n
	for k, ev := range m {
		c.n = mark
		kp := c.node(p, k, 0)
		em, ok := ev.(map[string]any)
		if !ok {
			c.errf(kp, "an extension must be an object, not %s", jsonKind(ev))
			continue
		}
		if strings.HasPrefix(k, "extension-definition--") {
			if _, msg := parseIdentifier(k); msg != "" {
				c.errf(kp, "%s", msg)
			}
			ep := c.node(kp, "extension_type", 0)
			if et, present := em["extension_type"]; !present {
				c.errf(ep, "required property is missing (extensions defined by an extension-definition must say their type)")
			} else if s, ok := c.str(et, ep); ok && !enumExtensionType.has(s) {
				c.errf(ep, "%q is not a value of extension-type-enum", s)
			}
			continue
		}
		if spec, ok := extensionSpecs[k]; ok {
			if allowed := predefinedExtensions[t]; allowed == nil || !allowed.has(k) {
				c.errf(kp, "%s is not an extension of %s", k, t)
				continue
			}
			if len(em) == 0 {
				c.errf(kp, "an extension must have at least one property")
			}
			c.props(spec, em, kp, t)
			if spec.check != nil {
				spec.check(c, em, flatPath(kp))
			}
			continue
		}
		if strings.HasSuffix(k, "-ext") {
			if msg := typeNameProblem(k); msg != "" {
				c.errf(kp, "extension name: %s", msg)
				continue
			}
			if len(em) == 0 {
				c.errf(kp, "an extension must have at least one property")
			}
			c.warnf(kp, "custom extensions not defined by an extension-definition are deprecated")
			continue
		}
		c.errf(kp, "extension keys must be an extension-definition id or the name of a predefined extension")
	}
}

// parseIdentifier checks the form type--UUID and returns the type.
func parseIdentifier(s string) (string, string) {
	i := strings.Index(s, "--")
	if i < 0 {
		return "", fmt.Sprintf("%q is not an identifier of the form type--UUID", s)
	}
	t, u := s[:i], s[i+2:]
	if msg := typeNameProblem(t); msg != "" {
		return "", fmt.Sprintf("%q is not an identifier of the form type--UUID: %s", s, msg)
	}
	if !isUUID(u) {
		return "", fmt.Sprintf("%q is not an identifier of the form type--UUID: %q is not an RFC 4122 UUID", s, u)
	}
	return t, ""
}

// isUUID reports whether s is a UUID in the canonical 8-4-4-4-12 form with
// a version from 1 to 8 and the RFC 4122 variant.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		ch := s[i]
		switch i {
		case 8, 13, 18, 23:
			if ch != '-' {
				return false
			}
		default:
			if !isHexDigit(ch) {
				return false
			}
		}
	}
	if s[14] < '1' || s[14] > '8' {
		return false
	}
	switch s[19] {
	case '8', '9', 'a', 'b', 'A', 'B':
		return true
	}
	return false
}

// uuidVersion returns the version digit of a UUID string, 0 if malformed.
func uuidVersion(u string) int {
	if !isUUID(u) {
		return 0
	}
	return int(u[14] - '0')
}

var hexDigit = func() (t [256]bool) {
	for _, ch := range "0123456789abcdefABCDEF" {
		t[ch] = true
	}
	return t
}()

func isHexDigit(ch byte) bool { return hexDigit[ch] }

func isHexAnyCase(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

// isHex checks the hex type (section 2.8): an even number of the digits
// 0-9 and a-f.
func isHex(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if ch := s[i]; !(ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'f') {
			return false
		}
	}
	return true
}

// isBase64 checks RFC 4648 base64, with or without the trailing padding.
func isBase64(s string) bool {
	if len(s)%4 == 1 {
		return false
	}
	pad := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '+', ch == '/':
			if pad > 0 {
				return false
			}
		case ch == '=':
			pad++
			if pad > 2 {
				return false
			}
		default:
			return false
		}
	}
	return pad == 0 || len(s)%4 == 0
}

// typeNameProblem checks an object type name (section 3.1): 3 to 250
// characters of a-z, 0-9 and hyphen, beginning with a letter, not ending
// with a hyphen and without "--" (the identifier separator). It returns ""
// when the name is fine.
func typeNameProblem(t string) string {
	if len(t) < 3 || len(t) > 250 {
		return fmt.Sprintf("type name %q must be 3 to 250 characters long", t)
	}
	for i := 0; i < len(t); i++ {
		ch := t[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return fmt.Sprintf("type name %q must only contain a-z, 0-9 and hyphen", t)
		}
	}
	if t[0] < 'a' || t[0] > 'z' {
		return fmt.Sprintf("type name %q must begin with a letter", t)
	}
	if t[len(t)-1] == '-' || strings.Contains(t, "--") {
		return fmt.Sprintf("type name %q must not end with a hyphen or contain \"--\"", t)
	}
	return ""
}

// propNameProblem checks a custom property name (sections 3.1 and 11.1):
// 3 to 250 characters of a-z, 0-9 and underscore, beginning with a letter.
func propNameProblem(n string) string {
	if len(n) < 3 || len(n) > 250 {
		return fmt.Sprintf("custom property name %q must be 3 to 250 characters long", n)
	}
	for i := 0; i < len(n); i++ {
		ch := n[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_') {
			return fmt.Sprintf("custom property name %q must only contain a-z, 0-9 and underscore", n)
		}
	}
	if n[0] < 'a' || n[0] > 'z' {
		return fmt.Sprintf("custom property name %q must begin with a letter", n)
	}
	return ""
}

// isDictKey checks a dictionary key: min to 250 characters of a-z, A-Z,
// 0-9, hyphen and underscore.
func isDictKey(k string, min int) bool {
	if len(k) < min || len(k) > 250 {
		return false
	}
	for i := 0; i < len(k); i++ {
		ch := k[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// isVocabForm reports whether s is lowercase with hyphens as separators, the
// form section 2.14 asks of values outside a suggested vocabulary.
func isVocabForm(s string) bool {
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'A' && ch <= 'Z' || ch == ' ' || ch == '_' {
			return false
		}
	}
	return true
}

// isLangTag checks the shape of an RFC 5646 language tag: subtags of 1 to 8
// letters and digits separated by hyphens, the first of 2 to 8 letters (or
// the "x" and "i" singletons).
func isLangTag(s string) bool {
	if s == "" {
		return false
	}
	first := true
	n := 0
	letters := true
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '-' {
			if n == 0 || n > 8 {
				return false
			}
			if first {
				if !letters || (n == 1 && s[0] != 'x' && s[0] != 'i' && s[0] != 'X' && s[0] != 'I') {
					return false
				}
				first = false
			}
			n, letters = 0, true
			continue
		}
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z':
		case ch >= '0' && ch <= '9':
			letters = false
		default:
			return false
		}
		n++
	}
	return true
}

func isCAPECID(s string) bool {
	if !strings.HasPrefix(s, "CAPEC-") || len(s) == len("CAPEC-") {
		return false
	}
	return allDigits(s[len("CAPEC-"):])
}

// isCVEID checks CVE-YYYY-NNNN with four or more digits.
func isCVEID(s string) bool {
	if len(s) < len("CVE-2000-0000") || !strings.HasPrefix(s, "CVE-") || s[8] != '-' {
		return false
	}
	return allDigits(s[4:8]) && allDigits(s[9:]) && len(s[9:]) >= 4
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// timeOf returns the time of the timestamp property name of m, when valid.
func timeOf(m map[string]any, name string) (time.Time, bool) {
	s, ok := m[name].(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseTime(s)
	return t, err == nil
}

// ordered reports an error when both timestamps are present and valid and
// later is before earlier (or not after it, when strict).
func (c *checker) ordered(m map[string]any, p *jsonPath, earlier, later string, strict bool) {
	a, ok1 := timeOf(m, earlier)
	b, ok2 := timeOf(m, later)
	if !ok1 || !ok2 {
		return
	}
	lp := c.node(p, later, 0)
	if strict && !b.After(a) {
		c.errf(lp, "%s must be later than %s", later, earlier)
	} else if !strict && b.Before(a) {
		c.errf(lp, "%s must not be earlier than %s", later, earlier)
	}
}

// indicatorPattern checks a STIX pattern with the pattern package: an
// indicator whose pattern_type is stix must carry a valid pattern of its
// pattern_version (2.1 unless it says 2.0). Other pattern languages (sigma,
// snort, yara...) are not checked.
func (c *checker) indicatorPattern(m map[string]any, p *jsonPath) {
	if pt, _ := m["pattern_type"].(string); pt != "stix" {
		return
	}
	src, ok := m["pattern"].(string)
	if !ok {
		return
	}
	version := "2.1"
	if v, _ := m["pattern_version"].(string); v == "2.0" {
		version = "2.0"
	}
	parsed, err := pattern.ParseVersion(src, version)
	if err == nil {
		err = parsed.Validate()
	}
	if err != nil {
		c.errf(c.node(p, "pattern", 0), "invalid STIX pattern: %s", strings.TrimPrefix(err.Error(), "pattern: "))
		return
	}
	c.pattern = parsed
}

// hasAll reports whether m has all the named properties.
func hasAll(m map[string]any, names ...string) bool {
	for _, n := range names {
		if _, ok := m[n]; !ok {
			return false
		}
	}
	return true
}

// hasAny reports whether m has at least one of the named properties.
func hasAny(m map[string]any, names ...string) bool {
	for _, n := range names {
		if _, ok := m[n]; ok {
			return true
		}
	}
	return false
}

// flatPath returns a one-segment copy of p for handing to an objSpec's check
// function: the call is indirect, so whatever path it gets escapes to the
// heap, and copying keeps the caller's stack-allocated segments there.
func flatPath(p *jsonPath) *jsonPath {
	return &jsonPath{name: p.String()}
}
