package privacy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// freeText are the properties of free text that FindObject reads in
// every object: descriptions, notes, opinions, reports' abstracts, e-mail
// subjects and bodies, contact details of organisations. An indicator's
// pattern is never read: what it names is the attacker's infrastructure.
var freeText = []string{"description", "content", "abstract", "explanation", "subject", "body", "contact_information"}

// attackerTypes are the types whose relationships to an e-mail address or
// user account make it the attacker's (an intrusion set uses it, an
// indicator is based on it).
var attackerTypes = map[string]bool{"threat-actor": true, "intrusion-set": true, "campaign": true, "infrastructure": true,
	"malware": true, "tool": true, "indicator": true, "attack-pattern": true}

// Context is what one stream of objects (an import) has shown so far of
// which e-mail addresses and user accounts are the attacker's. The zero
// value knows none.
type Context struct {
	attackers map[string]bool
}

// Learn records what obj says of attackers: the from_ref and sender_ref
// of an e-mail message, and the e-mail address or user account at one end
// of a relationship whose other end is a threat actor, intrusion set,
// campaign, infrastructure, malware, tool, indicator or attack pattern.
func (c *Context) Learn(props map[string]any) {
	if c.attackers == nil {
		c.attackers = map[string]bool{}
	}
	switch props["type"] {
	case "email-message":
		for _, p := range []string{"from_ref", "sender_ref"} {
			if id, ok := props[p].(string); ok {
				c.attackers[id] = true
			}
		}
	case "relationship":
		src, _ := props["source_ref"].(string)
		dst, _ := props["target_ref"].(string)
		if attackerTypes[typeOf(src)] && personalType(typeOf(dst)) {
			c.attackers[dst] = true
		}
		if attackerTypes[typeOf(dst)] && personalType(typeOf(src)) {
			c.attackers[src] = true
		}
	}
}

// Attacker reports whether the stream showed id as the attacker's.
func (c *Context) Attacker(id string) bool { return c != nil && c.attackers[id] }

func typeOf(id string) string {
	t, _, _ := strings.Cut(id, "--")
	return t
}

// personalType reports whether objects of type t hold an e-mail address
// or a user account, whose id is derived from it.
func personalType(t string) bool { return t == "email-addr" || t == "user-account" }

// FindObject returns the personal data the detectors d find in one STIX
// object, given as its decoded properties, with the JSON path of each:
//
//   - email (Email): an email-addr's value, unless c shows it as the
//     attacker's (Context.Learn); its display_name (as a Name);
//   - user-account (Account): user_id, account_login, display_name and
//     credential, unless c shows it as the attacker's;
//   - identity whose identity_class is "individual" (Individual): its name
//     and contact_information, whole;
//   - location (Address): its street_address, whole;
//   - free text (freeText, and external references' descriptions) of any
//     object: what FindText finds there with d.
func FindObject(props map[string]any, d Detectors, c *Context) []Finding {
	var out []Finding
	whole := func(k Kind, prop string) {
		if s, ok := props[prop].(string); ok && s != "" && !IsPseudonym(s) {
			out = append(out, Finding{Kind: k, Value: s, Path: prop})
		}
	}
	id, _ := props["id"].(string)
	typ, _ := props["type"].(string)
	individual := false
	switch typ {
	case "email-addr":
		if d[Email] && !c.Attacker(id) {
			whole(Email, "value")
			whole(Name, "display_name")
		}
	case "user-account":
		if d[Account] && !c.Attacker(id) {
			whole(Account, "user_id")
			whole(Account, "account_login")
			whole(Name, "display_name")
			whole(Account, "credential")
		}
	case "identity":
		if props["identity_class"] == "individual" && d[Individual] {
			individual = true
			whole(Name, "name")
			whole(Individual, "contact_information")
		}
	case "location":
		if d[Address] {
			whole(Address, "street_address")
		}
	}
	for _, p := range freeText {
		if individual && p == "contact_information" {
			continue
		}
		if s, ok := props[p].(string); ok {
			for _, f := range FindText(s, d) {
				f.Path = p
				out = append(out, f)
			}
		}
	}
	if refs, ok := props["external_references"].([]any); ok {
		for i, r := range refs {
			m, _ := r.(map[string]any)
			if s, ok := m["description"].(string); ok {
				for _, f := range FindText(s, d) {
					f.Path = fmt.Sprintf("external_references[%d].description", i)
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// Redaction is what Redact did to one object.
type Redaction struct {
	// Findings are the personal data replaced.
	Findings []Finding
	// Values maps each pseudonym written to the value it replaced (as
	// normalised), for unmasking under a warrant.
	Values map[string]string
	// IDs maps the ids rewritten (the object's own and those it refers
	// to) to their new ids.
	IDs map[string]string
}

// Changed reports whether Redact changed the object.
func (r *Redaction) Changed() bool { return len(r.Findings) > 0 || len(r.IDs) > 0 }

// idSpace is the namespace of the UUIDv5 ids RefID makes.
var idSpace = uuid.MustParse("6c9e3b52-6f0a-5b3e-9d6a-707269766163")

// RefID returns the id that replaces id, the id of an e-mail address or
// user account, in redacted objects: the same type, and a UUIDv5 of the
// keyed hash of the original id. The ids of these observables are UUIDv5
// of their value, so anyone could test a guessed address against one; the
// new id cannot be tested without the key, and it is the same wherever the
// original is referred to (in any object, in any later import, on any hub
// that shares the key), so references stay whole without any state. The
// UUID is marked version 8 (RFC 9562's custom version) so that a
// redacted id is known as one (Redacted) and never rewritten twice, as
// when it comes back from a peer.
func (p *Pseudonymizer) RefID(id string) string {
	if Redacted(id) {
		return id
	}
	u := uuid.NewSHA1(idSpace, []byte(p.mac("id\x00"+id)))
	u[6] = u[6]&0x0f | 0x80
	return typeOf(id) + "--" + u.String()
}

// Redacted reports whether id is an id RefID made: its UUID is of version 8.
func Redacted(id string) bool {
	_, u, ok := strings.Cut(id, "--")
	if !ok {
		return false
	}
	x, err := uuid.Parse(u)
	return err == nil && x.Version() == 8
}

// Redact replaces, in props, the personal data that FindObject finds with
// d and c by pseudonyms (Pseudonym): whole properties are replaced, free
// text has each finding replaced in place, and a user account's credential
// is removed. When d has Email or Account on, the ids of e-mail addresses
// and user accounts, the object's own and every reference to one (any
// property ending in _ref or _refs, at any depth), are rewritten with
// RefID, whether or not their value was personal data, so that
// references agree. The caller should call c.Learn(props) before Redact.
func (p *Pseudonymizer) Redact(props map[string]any, d Detectors, c *Context) *Redaction {
	r := &Redaction{Values: map[string]string{}, IDs: map[string]string{}}
	r.Findings = FindObject(props, d, c)
	// Free-text findings of one property, last first, so offsets hold.
	sort.SliceStable(r.Findings, func(i, j int) bool {
		if r.Findings[i].Path != r.Findings[j].Path {
			return r.Findings[i].Path < r.Findings[j].Path
		}
		return r.Findings[i].Start > r.Findings[j].Start
	})
	for _, f := range r.Findings {
		kind := f.Kind
		if f.Kind == Individual {
			kind = "contact"
		}
		ps := p.Pseudonym(kind, f.Value)
		r.Values[ps] = Normalise(kind, f.Value)
		if f.Path == "credential" {
			delete(props, "credential")
			delete(r.Values, ps)
			continue
		}
		if f.End == 0 {
			props[f.Path] = ps
			continue
		}
		replaceAt(props, f.Path, func(s string) string {
			if f.End > len(s) || s[f.Start:f.End] != f.Value {
				return s
			}
			return s[:f.Start] + ps + s[f.End:]
		})
	}
	if d[Email] || d[Account] {
		rewriteRefs(props, "", p, r.IDs)
		if id, ok := props["id"].(string); ok && personalType(typeOf(id)) && !Redacted(id) {
			n := p.RefID(id)
			r.IDs[id] = n
			props["id"] = n
		}
	}
	return r
}

// replaceAt applies fn to the string at path: a top-level property or
// external_references[N].description.
func replaceAt(props map[string]any, path string, fn func(string) string) {
	var i int
	if _, err := fmt.Sscanf(path, "external_references[%d].description", &i); err == nil {
		refs, _ := props["external_references"].([]any)
		if i < len(refs) {
			if m, ok := refs[i].(map[string]any); ok {
				if s, ok := m["description"].(string); ok {
					m["description"] = fn(s)
				}
			}
		}
		return
	}
	if s, ok := props[path].(string); ok {
		props[path] = fn(s)
	}
}

// rewriteRefs rewrites, in v, every reference to an e-mail address or
// user account.
func rewriteRefs(v any, key string, p *Pseudonymizer, ids map[string]string) any {
	isRef := strings.HasSuffix(key, "_ref") || strings.HasSuffix(key, "_refs")
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = rewriteRefs(e, k, p, ids)
		}
	case []any:
		for i, e := range x {
			x[i] = rewriteRefs(e, key, p, ids)
		}
	case string:
		if isRef && personalType(typeOf(x)) && !Redacted(x) {
			n := p.RefID(x)
			ids[x] = n
			return n
		}
	}
	return v
}
