package sensor

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/stix"
)

// Kind is the kind of value an exported line or rule carries.
type Kind uint8

// The kinds of values sensors load.
const (
	KindIP     Kind = iota + 1 // one IPv4 or IPv6 address
	KindCIDR                   // an address range
	KindDomain                 // a domain name
	KindURL                    // a URL, normalised (see match.NormalizeURL)
	KindEmail                  // an e-mail address
	KindMD5                    // file hashes, lower-case hex
	KindSHA1
	KindSHA256
	KindSHA512
)

var kindNames = [...]string{"", "ip", "cidr", "domain", "url", "email", "md5", "sha1", "sha256", "sha512"}

// String returns the kind's name: ip, cidr, domain, url, email, md5, sha1,
// sha256 or sha512.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// IsHash reports whether k is one of the file hash kinds.
func (k Kind) IsHash() bool { return k >= KindMD5 && k <= KindSHA512 }

// ParseKind reads a kind name as String writes it; "hash" stands for the
// four hash kinds and "address" for ip. Returns EINVALID for other names.
func ParseKind(s string) ([]Kind, error) {
	switch strings.ToLower(s) {
	case "hash":
		return []Kind{KindMD5, KindSHA1, KindSHA256, KindSHA512}, nil
	case "address", "addr":
		return []Kind{KindIP}, nil
	}
	for i, n := range kindNames {
		if i > 0 && strings.EqualFold(n, s) {
			return []Kind{Kind(i)}, nil
		}
	}
	return nil, cyberpact.Errorf(cyberpact.EINVALID, "%q is not a value kind (ip, cidr, domain, url, email, md5, sha1, sha256, sha512, hash)", s)
}

// matchKind is the kind match.Decay keys its half-lives by.
func (k Kind) matchKind() match.Kind {
	switch k {
	case KindIP, KindCIDR:
		return match.KindIP
	case KindDomain:
		return match.KindDomain
	case KindURL:
		return match.KindURL
	case KindEmail:
		return match.KindEmail
	case KindMD5:
		return match.KindMD5
	case KindSHA1:
		return match.KindSHA1
	case KindSHA256:
		return match.KindSHA256
	}
	return match.KindSHA512
}

// Value is one value of an indicator, normalised for its kind.
type Value struct {
	Kind  Kind
	Value string
}

// Indicator is what the exporters need of one stored indicator version.
type Indicator struct {
	ID         string
	Name       string
	Labels     []string
	Created    time.Time
	Modified   time.Time // the version key: modified, else created
	ValidFrom  time.Time
	ValidUntil time.Time // zero: no end
	Confidence int       // -1 when the indicator gives none
	Revoked    bool
	TLP        cyberpact.TLP // the level the store released it at
	Pattern    string
	// Values are the values of a pattern that is a disjunction of
	// equality tests, in pattern order, without duplicates. Nil when the
	// pattern is not such a disjunction (Unexportable says why).
	Values       []Value
	Unexportable string
	// Dropped counts the values of the disjunction the package has no kind
	// for (other object paths) or that are not valid values of their kind.
	Dropped int
	// Score is the decay score at the export's time, set by Export.
	Score int
}

// indicatorJSON is the part of an indicator's JSON the exporters read
// (scanIndicator reads it; the tags say what encoding/json would).
type indicatorJSON struct {
	Type           string   `json:"type"`
	ID             string   `json:"id"`
	SpecVersion    string   `json:"spec_version"`
	Name           string   `json:"name"`
	Labels         []string `json:"labels"`
	Created        string   `json:"created"`
	Modified       string   `json:"modified"`
	ValidFrom      string   `json:"valid_from"`
	ValidUntil     string   `json:"valid_until"`
	Confidence     *int     `json:"confidence"`
	Revoked        bool     `json:"revoked"`
	Pattern        string   `json:"pattern"`
	PatternType    string   `json:"pattern_type"`
	PatternVersion string   `json:"pattern_version"`
}

// ReadIndicator reads a stored indicator version: its properties and the
// values of its pattern. It returns an error naming the object for JSON
// that is not an indicator or has bad timestamps; a pattern in another
// language or one that does not parse is not an error but leaves Values
// nil with the reason in Unexportable.
func ReadIndicator(o *cyberpact.Object) (*Indicator, error) {
	var j indicatorJSON
	if err := scanIndicator(o.Raw, &j); err != nil {
		return nil, fmt.Errorf("object %s (seq %d): %w", o.ID, o.Seq, err)
	}
	if j.Type != "indicator" {
		return nil, fmt.Errorf("object %s: type %q, not indicator", j.ID, j.Type)
	}
	ind := &Indicator{ID: j.ID, Name: j.Name, Labels: j.Labels, Revoked: j.Revoked || o.Revoked, Pattern: j.Pattern, Confidence: -1}
	if j.Confidence != nil {
		ind.Confidence = *j.Confidence
	}
	ind.TLP = o.Release.TLP
	if ind.TLP == cyberpact.TLPUnknown {
		ind.TLP = o.TLP
	}
	for _, t := range []struct {
		prop string
		src  string
		dst  *time.Time
	}{{"created", j.Created, &ind.Created}, {"modified", j.Modified, &ind.Modified}, {"valid_from", j.ValidFrom, &ind.ValidFrom}, {"valid_until", j.ValidUntil, &ind.ValidUntil}} {
		if t.src == "" {
			continue
		}
		v, err := stix.ParseTime(t.src)
		if err != nil {
			return nil, fmt.Errorf("indicator %s: %s: %w", j.ID, t.prop, err)
		}
		*t.dst = v
	}
	if ind.Modified.IsZero() {
		ind.Modified = ind.Created
	}
	if j.PatternType != "" && j.PatternType != "stix" {
		ind.Unexportable = "pattern_type " + j.PatternType
		return ind, nil
	}
	version := "2.1"
	if strings.HasPrefix(j.PatternVersion, "2.0") || (j.PatternVersion == "" && j.SpecVersion == "2.0") {
		version = "2.0"
	}
	p, err := pattern.ParseVersion(j.Pattern, version)
	if err != nil {
		ind.Unexportable = "pattern does not parse: " + err.Error()
		return ind, nil
	}
	ind.Values, ind.Dropped, ind.Unexportable = disjunction(p)
	return ind, nil
}

// disjunction returns the values of a pattern that is an OR of equality
// tests, or why it is not one.
func disjunction(p *pattern.Pattern) (vals []Value, dropped int, why string) {
	var cmps []*pattern.Comparison
	var walkCmp func(c pattern.ComparisonExpr) string
	walkCmp = func(c pattern.ComparisonExpr) string {
		switch c := c.(type) {
		case *pattern.ComparisonBinary:
			if c.Op != pattern.BoolOr {
				return "pattern joins comparisons with AND"
			}
			if w := walkCmp(c.Left); w != "" {
				return w
			}
			return walkCmp(c.Right)
		case *pattern.Comparison:
			if c.Negated || (c.Op != pattern.OpEq && c.Op != pattern.OpIn) {
				return "pattern has a comparison other than = or IN"
			}
			cmps = append(cmps, c)
		}
		return ""
	}
	var walkObs func(e pattern.ObservationExpr) string
	walkObs = func(e pattern.ObservationExpr) string {
		switch e := e.(type) {
		case *pattern.ObservationBinary:
			if e.Op != pattern.ObsOr {
				return "pattern joins observations with " + e.Op.String()
			}
			if w := walkObs(e.Left); w != "" {
				return w
			}
			return walkObs(e.Right)
		case *pattern.ObservationQualified:
			return "pattern has a " + e.Kind.String() + " qualifier"
		case *pattern.ObservationBracket:
			return walkCmp(e.Expr)
		}
		return "unknown pattern node"
	}
	if w := walkObs(p.Root); w != "" {
		return nil, 0, w
	}
	seen := map[Value]bool{}
	for _, c := range cmps {
		lits := c.List
		if c.Op == pattern.OpEq {
			lits = []pattern.Literal{c.Value}
		}
		for _, l := range lits {
			v, ok := valueOf(c.Path, l)
			if !ok {
				dropped++
				continue
			}
			if !seen[v] {
				seen[v] = true
				vals = append(vals, v)
			}
		}
	}
	if len(vals) == 0 {
		return nil, dropped, "pattern tests no value of a kind sensors load"
	}
	return vals, dropped, ""
}

// valueOf returns the exported value of the test path = l, reporting false
// for paths no kind covers and for values not valid for their kind.
func valueOf(path pattern.ObjectPath, l pattern.Literal) (Value, bool) {
	if l.Kind != pattern.LitString || len(path.Steps) == 0 {
		return Value{}, false
	}
	steps := path.Steps
	key := func(i int) string {
		if i < len(steps) && steps[i].Kind == pattern.StepKey {
			return steps[i].Key
		}
		return ""
	}
	switch {
	case (path.Type == "ipv4-addr" || path.Type == "ipv6-addr") && len(steps) == 1 && key(0) == "value",
		path.Type == "network-traffic" && len(steps) == 2 && (key(0) == "dst_ref" || key(0) == "src_ref") && key(1) == "value":
		return addrValue(l.Str)
	case path.Type == "domain-name" && len(steps) == 1 && key(0) == "value":
		return normal(match.KindDomain, KindDomain, l.Str)
	case path.Type == "url" && len(steps) == 1 && key(0) == "value":
		return normal(match.KindURL, KindURL, l.Str)
	case path.Type == "email-addr" && len(steps) == 1 && key(0) == "value",
		path.Type == "email-message" && len(steps) == 2 && (key(0) == "from_ref" || key(0) == "sender_ref") && key(1) == "value":
		return normal(match.KindEmail, KindEmail, l.Str)
	case (path.Type == "file" || path.Type == "artifact") && len(steps) == 2 && key(0) == "hashes":
		want := hashKind(key(1))
		if want == 0 {
			return Value{}, false
		}
		s, k, ok := match.NormalizeHash(l.Str, want.matchKind())
		if !ok || k != want.matchKind() {
			return Value{}, false
		}
		return Value{want, s}, true
	}
	return Value{}, false
}

func normal(mk match.Kind, k Kind, s string) (Value, bool) {
	v, _, ok := match.Normalize(mk, s)
	return Value{k, v}, ok
}

// addrValue reads an address or a CIDR range; a range of one address is
// an address.
func addrValue(s string) (Value, bool) {
	p, ok := match.ParsePrefix(s)
	if !ok {
		return Value{}, false
	}
	if p.IsSingleIP() {
		return Value{KindIP, p.Addr().String()}, true
	}
	return Value{KindCIDR, p.String()}, true
}

// hashKind reads a STIX hash algorithm name (MD5, SHA-1, SHA-256, SHA-512,
// and the spellings without the hyphen).
func hashKind(alg string) Kind {
	switch strings.ReplaceAll(strings.ToUpper(alg), "-", "") {
	case "MD5":
		return KindMD5
	case "SHA1":
		return KindSHA1
	case "SHA256":
		return KindSHA256
	case "SHA512":
		return KindSHA512
	}
	return 0
}

// prefixOf returns the range of an ip or cidr value.
func prefixOf(v Value) netip.Prefix {
	p, _ := match.ParsePrefix(v.Value)
	return p
}
