package stix

import (
	"encoding/hex"
	"strings"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/pattern"
	"github.com/cyberpact/cyberpact/privacy"
)

// scoValueProps are the properties of cyber-observable objects that hold
// a value worth correlating, beside value and hashes.
var scoValueProps = []string{"name", "key", "user_id", "account_login", "path", "serial_number", "command_line"}

// valueKinds maps the SCO types whose "value" has a kind of its own to
// that kind's name (see cyberpact.Observable).
var valueKinds = map[string]string{
	"ipv4-addr": "ip", "ipv6-addr": "ip", "domain-name": "domain", "url": "url", "email-addr": "email",
}

// hashKind maps a STIX hash algorithm name to the kind of its digest.
func hashKind(alg string) string {
	switch strings.ToUpper(strings.ReplaceAll(alg, "-", "")) {
	case "MD5":
		return "md5"
	case "SHA1":
		return "sha1"
	case "SHA256":
		return "sha256"
	case "SHA512":
		return "sha512"
	}
	return "hash"
}

// scoObservables returns the observable values of a cyber-observable
// object: its value (addresses, domains, URLs, e-mail addresses, MAC
// addresses...), its hashes and its name-like properties.
func (o *Object) scoObservables() []cyberpact.Observable {
	var out []cyberpact.Observable
	if v := o.String("value"); v != "" {
		k := valueKinds[o.Type]
		if k == "" || privacy.IsPseudonym(v) {
			// A pseudonym of a redacted address (package privacy) is
			// kept as written, so that partners correlate it.
			k = "other"
		}
		out = append(out, cyberpact.Observable{Kind: k, Type: o.Type, Value: v})
	}
	for _, p := range scoValueProps {
		if v := o.String(p); v != "" {
			out = append(out, cyberpact.Observable{Kind: "other", Type: o.Type, Value: v})
		}
	}
	if h, ok := o.Props["hashes"].(map[string]any); ok {
		for alg, v := range h {
			if s, ok := v.(string); ok && s != "" {
				out = append(out, cyberpact.Observable{Kind: hashKind(alg), Type: o.Type, Value: s})
			}
		}
	}
	return out
}

// patternObservables returns the values a STIX pattern tests for equality
// (=, IN, ISSUBSET, ISSUPERSET; not negated), each with the kind its
// object path gives it: addresses of ipv4-addr, ipv6-addr and the ends of
// network-traffic, domain names, URLs, e-mail addresses (also of an
// e-mail message's sender and recipients), hashes by algorithm, and any
// other string as "other".
func patternObservables(p *pattern.Pattern) []cyberpact.Observable {
	var out []cyberpact.Observable
	for _, a := range p.Atoms() {
		if a.Negated {
			continue
		}
		var lits []pattern.Literal
		switch a.Op {
		case pattern.OpEq, pattern.OpIsSubset, pattern.OpIsSuperset:
			lits = []pattern.Literal{a.Value}
		case pattern.OpIn:
			lits = a.Values
		default:
			continue
		}
		kind := pathKind(a.Type, a.Path)
		for _, l := range lits {
			var s string
			switch l.Kind {
			case pattern.LitString:
				s = l.Str
			case pattern.LitHex, pattern.LitBinary:
				s = hex.EncodeToString(l.Bytes)
			default:
				continue
			}
			if s != "" {
				out = append(out, cyberpact.Observable{Kind: kind, Type: a.Type, Value: s})
			}
		}
	}
	return out
}

// pathKind is the kind of the values at an object path of a pattern.
func pathKind(typ, path string) string {
	if strings.HasPrefix(path, "hashes.") {
		return hashKind(strings.Trim(strings.TrimPrefix(path, "hashes."), "'"))
	}
	if path == "value" {
		if k := valueKinds[typ]; k != "" {
			return k
		}
		return "other"
	}
	if strings.HasSuffix(path, ".value") {
		switch typ {
		case "network-traffic":
			return "ip"
		case "email-message":
			return "email"
		}
	}
	return "other"
}
