package match

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/stix"
)

// Indicator is one compiled STIX indicator as an Index keeps it: the
// properties that decide whether and how strongly it matches. Times are
// Unix nanoseconds, 0 when absent.
type Indicator struct {
	// id holds the STIX id inline, so that the indicators of an index
	// carry no pointers for the garbage collector to follow; an id longer
	// than the array is in longID.
	id     [maxInlineID]byte
	idLen  uint8
	longID *string

	// Kind is the kind of the first value the pattern tests; it picks the
	// decay curve.
	Kind        Kind
	Confidence  int8 // -1 when the indicator has none
	Revoked     bool
	ValidFrom   int64
	ValidUntil  int64
	Modified    int64
	LastSighted int64

	// pat is set for patterns the index cannot decide alone.
	pat *pattern.Pattern
	// dead is set on a version superseded by a later one in the same
	// layer.
	dead bool
}

// maxInlineID is the longest id kept inside an Indicator: an indicator
// id, "indicator--" and a UUID, is 47 bytes.
const maxInlineID = 47

// ID returns the indicator's STIX id.
func (ind *Indicator) ID() string {
	if ind.longID != nil {
		return *ind.longID
	}
	return string(ind.id[:ind.idLen])
}

// idBytes returns the id without copying it; the caller must not keep it.
func (ind *Indicator) idBytes() []byte {
	if ind.longID != nil {
		return []byte(*ind.longID)
	}
	return ind.id[:ind.idLen]
}

func (ind *Indicator) setID(id []byte) {
	if len(id) > maxInlineID {
		s := string(id)
		ind.longID, ind.idLen = &s, 0
		return
	}
	ind.idLen = uint8(copy(ind.id[:], id))
	ind.longID = nil
}

// Complex reports whether the pattern engine must confirm a hit of the
// indicator: its pattern is more than a set of alternative values.
func (ind *Indicator) Complex() bool { return ind.pat != nil }

// Pattern returns the parsed pattern of a complex indicator, nil for one
// the index decides alone.
func (ind *Indicator) Pattern() *pattern.Pattern { return ind.pat }

func (ind *Indicator) confidence() int {
	if ind.Confidence < 0 {
		return DefaultConfidence
	}
	return int(ind.Confidence)
}

// key is one exact value an indicator is found by.
type key struct {
	kind  Kind
	value string     // normalised; for KindOther "type:path\x00value"
	addr  netip.Addr // for KindIP
}

// compiled is an indicator with the values, ranges and object types its
// pattern is found by.
type compiled struct {
	ind      Indicator
	keys     []key
	prefixes []netip.Prefix
	types    []string // for complex patterns: SCO types of brackets with no key
}

// ErrNotIndicator is returned by Compile for JSON that is not a STIX
// indicator with a STIX pattern; such objects are skipped, not errors.
var ErrNotIndicator = errors.New("not an indicator with pattern_type stix")

// indicatorFields are the properties of an indicator the index reads.
var indicatorFields = NewFields([]Field{
	{Name: "type"}, {Name: "id"}, {Name: "spec_version"}, {Name: "pattern"}, {Name: "pattern_type"},
	{Name: "pattern_version"}, {Name: "valid_from"}, {Name: "valid_until"}, {Name: "modified"},
	{Name: "created"}, {Name: "confidence"}, {Name: "revoked"}, {Name: "x_cyberpact_last_sighted"},
})

// The positions of indicatorFields.
const (
	fType = iota
	fID
	fSpecVersion
	fPattern
	fPatternType
	fPatternVersion
	fValidFrom
	fValidUntil
	fModified
	fCreated
	fConfidence
	fRevoked
	fLastSighted
	numIndicatorFields
)

// ParseIndicator reads the properties of a STIX indicator the index needs
// from its JSON and parses its pattern. It returns ErrNotIndicator for
// other objects and for patterns in other languages, and an error naming
// the indicator for a pattern that does not parse.
func ParseIndicator(raw []byte) (*Indicator, error) {
	c, err := compile(raw, &jsonScanner{})
	if err != nil {
		return nil, err
	}
	ind := c.ind
	return &ind, nil
}

func stixTime(s []byte) int64 {
	if len(s) == 0 {
		return 0
	}
	t, err := stix.ParseTime(string(s))
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

// compile decodes and compiles one indicator.
func compile(raw []byte, sc *jsonScanner) (*compiled, error) {
	sc.f = indicatorFields
	if err := sc.scan(raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var r [numIndicatorFields][]byte
	for _, e := range sc.out {
		r[e.field] = e.val
	}
	if string(r[fType]) != "indicator" || (string(r[fPatternType]) != "stix" && r[fPatternType] != nil) || len(r[fPattern]) == 0 {
		return nil, ErrNotIndicator
	}
	c := &compiled{ind: Indicator{
		Confidence:  -1,
		Revoked:     string(r[fRevoked]) == "true",
		ValidFrom:   stixTime(r[fValidFrom]),
		ValidUntil:  stixTime(r[fValidUntil]),
		Modified:    stixTime(r[fModified]),
		LastSighted: stixTime(r[fLastSighted]),
	}}
	c.ind.setID(r[fID])
	if c.ind.Modified == 0 {
		c.ind.Modified = stixTime(r[fCreated])
	}
	if n, err := strconv.Atoi(string(r[fConfidence])); err == nil && n >= 0 && n <= 100 {
		c.ind.Confidence = int8(n)
	}
	pv, sv := string(r[fPatternVersion]), string(r[fSpecVersion])
	version := "2.1"
	if strings.HasPrefix(pv, "2.0") || (pv == "" && sv == "2.0") {
		version = "2.0"
	}
	src := string(r[fPattern])
	if c.fastSimple(src) {
		c.setKind()
		return c, nil
	}
	p, err := pattern.ParseVersion(src, version)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.ind.ID(), err)
	}
	simple := c.obs(p.Root)
	if !simple {
		normalizeLiterals(p.Root)
		c.ind.pat = p
	}
	c.setKind()
	return c, nil
}

// normalizeLiterals puts the string literals that = and IN compare with
// domain names, URLs, e-mail addresses and hashes in the normal form the
// index keys them by and the event's observation holds, so that the
// engine confirms exactly what the index finds.
func normalizeLiterals(e pattern.ObservationExpr) {
	switch e := e.(type) {
	case *pattern.ObservationBinary:
		normalizeLiterals(e.Left)
		normalizeLiterals(e.Right)
	case *pattern.ObservationQualified:
		normalizeLiterals(e.Expr)
	case *pattern.ObservationBracket:
		var walk func(pattern.ComparisonExpr)
		walk = func(x pattern.ComparisonExpr) {
			switch x := x.(type) {
			case *pattern.ComparisonBinary:
				walk(x.Left)
				walk(x.Right)
			case *pattern.Comparison:
				if x.Op != pattern.OpEq && x.Op != pattern.OpIn {
					return
				}
				path := pattern.ObjectPath{Steps: x.Path.Steps}.String()[1:]
				kind, _ := pathKind(x.Path.Type, path)
				if holder, rest, ok := resolveRef(x.Path.Type, path); ok && kind == KindOther {
					kind, _ = pathKind(holder, rest)
				}
				if kind == KindOther || kind == KindIP {
					return
				}
				norm := func(l *pattern.Literal) {
					if l.Kind == pattern.LitString {
						if v, _, ok := Normalize(kind, l.Str); ok {
							l.Str = v
						}
					}
				}
				norm(&x.Value)
				for i := range x.List {
					norm(&x.List[i])
				}
			}
		}
		walk(e.Expr)
	}
}

// setKind sets the indicator's kind from its first key.
func (c *compiled) setKind() {
	if len(c.keys) > 0 {
		c.ind.Kind = c.keys[0].kind
	} else if len(c.prefixes) > 0 {
		c.ind.Kind = KindIP
	}
}

// obs collects the keys of an observation expression and reports whether
// the index alone decides it: alternatives (OR) of brackets that are each
// alternatives of indexable values.
func (c *compiled) obs(e pattern.ObservationExpr) bool {
	switch e := e.(type) {
	case *pattern.ObservationBinary:
		l := c.obs(e.Left)
		r := c.obs(e.Right)
		return l && r && e.Op == pattern.ObsOr
	case *pattern.ObservationQualified:
		c.obs(e.Expr)
		return false
	case *pattern.ObservationBracket:
		var t trigger
		simple, ok := t.cmp(e.Expr)
		if ok {
			c.keys = append(c.keys, t.keys...)
			c.prefixes = append(c.prefixes, t.prefixes...)
			return simple
		}
		c.types = appendTypes(c.types, e.Expr)
		return false
	}
	return false
}

func appendTypes(dst []string, e pattern.ComparisonExpr) []string {
	switch e := e.(type) {
	case *pattern.ComparisonBinary:
		dst = appendTypes(dst, e.Left)
		return appendTypes(dst, e.Right)
	case *pattern.Comparison:
		for _, t := range dst {
			if t == e.Path.Type {
				return dst
			}
		}
		return append(dst, e.Path.Type)
	}
	return dst
}

// trigger is a set of keys one of which an object must have to satisfy a
// comparison expression.
type trigger struct {
	keys     []key
	prefixes []netip.Prefix
}

// cmp collects the keys of a comparison expression. ok reports that every
// object satisfying it has one of the keys; simple that having one is
// enough.
func (t *trigger) cmp(e pattern.ComparisonExpr) (simple, ok bool) {
	switch e := e.(type) {
	case *pattern.ComparisonBinary:
		if e.Op == pattern.BoolOr {
			ls, lok := t.cmp(e.Left)
			rs, rok := t.cmp(e.Right)
			return ls && rs, lok && rok
		}
		// AND: the keys of either side are necessary; take the left's
		// when every object satisfying it has one of them, else the
		// right's. A side whose keys an event cannot yield (such as
		// network-traffic:dst_ref.type) reports !ok, so the order in
		// which a pattern writes its comparisons does not matter.
		var l trigger
		if _, lok := l.cmp(e.Left); lok {
			t.keys = append(t.keys, l.keys...)
			t.prefixes = append(t.prefixes, l.prefixes...)
			return false, true
		}
		_, rok := t.cmp(e.Right)
		return false, rok
	case *pattern.Comparison:
		return t.comparison(e)
	}
	return false, false
}

// comparison collects the keys of one comparison.
func (t *trigger) comparison(c *pattern.Comparison) (simple, ok bool) {
	if c.Negated {
		return false, false
	}
	var lits []pattern.Literal
	switch c.Op {
	case pattern.OpEq, pattern.OpIsSubset:
		lits = []pattern.Literal{c.Value}
	case pattern.OpIn:
		lits = c.List
	default:
		return false, false
	}
	path := pattern.ObjectPath{Steps: c.Path.Steps}.String()[1:]
	kind, simple := pathKind(c.Path.Type, path)
	if c.Op == pattern.OpIsSubset && kind != KindIP {
		return false, false
	}
	pt := propText
	if kind == KindOther {
		holder, rest, ok := resolveRef(c.Path.Type, path)
		if !ok || !eventProperty(rest) {
			// No event field yields a key for this path (a reference
			// an event cannot hold, an element picked by position, the
			// object's type), so its values cannot find the indicator.
			return false, false
		}
		pt = propertyType(holder, rest)
		if k, _ := pathKind(holder, rest); k != KindOther {
			// A file's hashes reached through a reference
			// (process:image_ref.hashes.MD5): the file is in the
			// observation too, found by the hash.
			kind = k
		}
	}
	for _, l := range lits {
		var s string
		switch {
		case l.Kind == pattern.LitString && pt == propText:
			s = l.Str
		case l.Kind == pattern.LitInt && pt == propInt:
			s = strconv.FormatInt(l.Int, 10)
		case l.Kind == pattern.LitBool && pt == propBool:
			s = strconv.FormatBool(l.Bool)
		default:
			// A literal of another type (binary, a number where text is
			// held, text where a number is) is not equal to the value
			// an event gives in the form the key would take; the pattern
			// engine decides it.
			return false, false
		}
		if !t.addValue(kind, c.Path.Type, path, s) {
			return false, false
		}
	}
	return simple, len(lits) > 0
}

// addValue adds the key for literal s compared with path of type typ,
// which holds values of kind. It reports false for a value that cannot be
// one of that kind.
func (t *trigger) addValue(kind Kind, typ, path, s string) bool {
	switch kind {
	case KindIP:
		pfx, good := ParsePrefix(s)
		if !good {
			return false
		}
		if (typ == "ipv4-addr" && !pfx.Addr().Is4()) || (typ == "ipv6-addr" && pfx.Addr().Is4()) {
			// An address of the other family is never the value of an
			// object of this type: no event satisfies the test.
			return true
		}
		if pfx.IsSingleIP() {
			t.keys = append(t.keys, key{kind: KindIP, addr: pfx.Addr()})
		} else {
			t.prefixes = append(t.prefixes, pfx)
		}
	case KindOther:
		t.keys = append(t.keys, key{kind: KindOther, value: typ + ":" + path + "\x00" + s})
	default:
		v, k, good := Normalize(kind, s)
		if !good {
			return false
		}
		t.keys = append(t.keys, key{kind: k, value: v})
	}
	return true
}

// fastSimple compiles, without the parser, the commonest shape of
// pattern: one = or ISSUBSET test of a plain property path against a
// string with no quote or backslash in it, such as
// [ipv4-addr:value = '198.51.100.7'] or [file:hashes.'SHA-256' = '...'].
// It reports false, having changed nothing, for any other pattern.
func (c *compiled) fastSimple(p string) bool {
	if len(p) < 8 || p[0] != '[' || p[len(p)-1] != ']' {
		return false
	}
	in := p[1 : len(p)-1]
	if len(in) < 2 || in[len(in)-1] != '\'' {
		return false
	}
	q := strings.LastIndexByte(in[:len(in)-1], '\'')
	if q < 0 {
		return false
	}
	val := in[q+1 : len(in)-1]
	if strings.IndexByte(val, '\\') >= 0 {
		return false
	}
	lhs := strings.TrimRight(in[:q], " ")
	subset := false
	switch {
	case strings.HasSuffix(lhs, " ISSUBSET"):
		lhs, subset = lhs[:len(lhs)-len(" ISSUBSET")], true
	case strings.HasSuffix(lhs, "=") && !strings.HasSuffix(lhs, "!=") && !strings.HasSuffix(lhs, "<=") && !strings.HasSuffix(lhs, ">="):
		lhs = lhs[:len(lhs)-1]
	default:
		return false
	}
	lhs = strings.Trim(lhs, " ")
	typ, path, ok := strings.Cut(lhs, ":")
	if !ok || typ == "" || path == "" || !plainName(typ, "-") {
		return false
	}
	if alg, ok := strings.CutPrefix(path, "hashes."); ok {
		if len(alg) > 2 && alg[0] == '\'' && alg[len(alg)-1] == '\'' {
			alg = alg[1 : len(alg)-1]
		}
		if !plainName(alg, "-") {
			return false
		}
	} else if !plainName(path, "_.") {
		return false
	}
	kind, simple := pathKind(typ, path)
	if !simple || (kind == KindOther && (strings.Contains(path, ".") || !eventProperty(path) || propertyType(typ, path) != propText)) || (subset && kind != KindIP) {
		return false
	}
	var t trigger
	if !t.addValue(kind, typ, path, val) {
		return false
	}
	c.keys, c.prefixes = t.keys, t.prefixes
	return true
}

// plainName reports whether s is made of ASCII letters, digits and the
// bytes of extra, starting with a letter.
func plainName(s, extra string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// pathKind says which kind of value an object path holds, and whether an
// equality test on it is decided by the value alone (false for paths that
// follow a reference, like network-traffic:dst_ref.value, whose direction
// the pattern engine must check).
func pathKind(typ, path string) (Kind, bool) {
	switch typ {
	case "ipv4-addr", "ipv6-addr":
		if path == "value" {
			return KindIP, true
		}
	case "network-traffic":
		if path == "src_ref.value" || path == "dst_ref.value" {
			return KindIP, false
		}
	case "domain-name":
		if path == "value" {
			return KindDomain, true
		}
	case "url":
		if path == "value" {
			return KindURL, true
		}
	case "email-addr":
		if path == "value" {
			return KindEmail, true
		}
	case "email-message":
		if path == "from_ref.value" || path == "sender_ref.value" || path == "to_refs[*].value" || path == "cc_refs[*].value" {
			return KindEmail, false
		}
	case "file", "artifact":
		if alg, ok := strings.CutPrefix(path, "hashes."); ok {
			if k := hashKindOfAlg(alg); k != KindNone {
				return k, typ == "file"
			}
		}
	}
	simple := !strings.Contains(path, "_ref") && !strings.Contains(path, "[")
	return KindOther, simple
}

// eventProperty reports whether an event can yield the key of a
// comparison on path (KindOther, after the one reference resolveRef
// follows): only a path an event field can stand for, never one that
// follows a further reference, picks a list element by position or tests
// the object's type, which every object has.
func eventProperty(path string) bool {
	if path == "type" || strings.Contains(path, "_ref") {
		return false
	}
	return !strings.Contains(strings.ReplaceAll(path, "[*]", ""), "[")
}
