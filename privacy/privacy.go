// Package privacy finds personal data in what members publish and
// replaces it with stable pseudonyms before it is released beyond the
// producer's organisation. It is pure: no I/O, no store.
//
// Detection is a set of heuristics, one detector per kind of personal data
// (see Kind); which detectors run is a policy (Detectors), chosen per
// sharing group. The heuristics and their measured precision and recall
// are described in the README's "Personal data" section; privacy_test.go
// measures them over testdata/corpus.txt and testdata/objects.jsonl.
//
// A pseudonym is "pd:KIND:" and the first 32 hex digits of the
// HMAC-SHA256, under the partnership's key, of the kind and the value
// normalised (see Normalise): hubs of one partnership that share the key
// give the same value the same pseudonym, so partners can tell that two
// objects name the same victim without learning who it is.
package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Kind is a kind of personal data, and the detector that finds it.
type Kind string

const (
	// Email is an e-mail address of someone who is not the attacker: the
	// value of an email-addr observable, or an address in free text
	// that the sentence does not present as the attacker's.
	Email Kind = "email"
	// Account is a user account of someone who is not the attacker: the
	// user_id, account_login and display_name of a user-account
	// observable.
	Account Kind = "account"
	// Phone is a telephone number in free text: E.164 (+44 20 7946 0958)
	// or national formats with spaces, dashes, dots or parentheses.
	Phone Kind = "phone"
	// Name is a personal name in free text: after an honorific, or two or
	// three capitalised words near a word about people or contact.
	Name Kind = "name"
	// Individual is an identity object with identity_class "individual":
	// its name and contact_information.
	Individual Kind = "individual"
	// Address is a postal address in free text (a street with its house
	// number, a PO box, a town with a UK postcode; see findAddresses) and
	// a location object's street_address.
	Address Kind = "address"
)

// Kinds lists every detector, in the order policies print them.
var Kinds = []Kind{Email, Account, Phone, Name, Individual, Address}

// Detectors is the set of detectors a policy turns on.
type Detectors map[Kind]bool

// All returns every detector on.
func All() Detectors {
	d := Detectors{}
	for _, k := range Kinds {
		d[k] = true
	}
	return d
}

// ParseDetectors reads a comma-separated list of detector names ("email,
// phone"); "all" turns every one on and "" or "none" none. It returns an
// error naming the unknown detector.
func ParseDetectors(s string) (Detectors, error) {
	d := Detectors{}
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return d, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "all" {
			return All(), nil
		}
		if !slices.Contains(Kinds, Kind(f)) {
			return nil, fmt.Errorf("detector %q is not one of email, account, phone, name, individual, address (or all, none)", f)
		}
		d[Kind(f)] = true
	}
	return d, nil
}

// String lists the detectors that are on, comma separated, in the order of
// Kinds; "none" when none is.
func (d Detectors) String() string {
	var on []string
	for _, k := range Kinds {
		if d[k] {
			on = append(on, string(k))
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// With returns a new set of the detectors on in d or in o.
func (d Detectors) With(o Detectors) Detectors {
	u := Detectors{}
	for _, x := range []Detectors{d, o} {
		for k, on := range x {
			u[k] = u[k] || on
		}
	}
	return u
}

// Any reports whether any detector is on.
func (d Detectors) Any() bool {
	for _, on := range d {
		if on {
			return true
		}
	}
	return false
}

// Finding is one piece of personal data found.
type Finding struct {
	Kind  Kind
	Value string // as it appears
	Path  string // where: the object's property (JSON path), "" in plain text
	Start int    // byte offsets of Value in free text; 0, 0 for a whole property
	End   int
}

// Pseudonymizer makes pseudonyms under one partnership key.
type Pseudonymizer struct {
	key []byte
}

// NewPseudonymizer returns a pseudonymizer for key, which must have at
// least 16 bytes.
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("the partnership key has %d bytes; it needs at least 16", len(key))
	}
	return &Pseudonymizer{key: slices.Clone(key)}, nil
}

// Pseudonym returns the pseudonym of value as personal data of kind k:
// "pd:KIND:" and 32 hex digits. Values that Normalise makes equal get the
// same pseudonym.
func (p *Pseudonymizer) Pseudonym(k Kind, value string) string {
	return "pd:" + string(k) + ":" + p.mac(string(k) + "\x00" + Normalise(k, value))[:32]
}

func (p *Pseudonymizer) mac(s string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// IsPseudonym reports whether s has the form of a pseudonym.
func IsPseudonym(s string) bool {
	rest, ok := strings.CutPrefix(s, "pd:")
	if !ok {
		return false
	}
	k, h, ok := strings.Cut(rest, ":")
	if !ok || !slices.Contains(Kinds, Kind(k)) && k != "contact" && k != "secret" || len(h) != 32 {
		return false
	}
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Normalise is the form of a value that its pseudonym is made from: e-mail
// addresses and accounts in lower case, phone numbers as their digits
// (with the leading + kept), names with their spaces collapsed, in lower
// case, addresses as names but without their commas and full stops.
func Normalise(k Kind, v string) string {
	v = strings.TrimSpace(v)
	switch k {
	case Email, Account:
		return strings.ToLower(v)
	case Phone:
		var b strings.Builder
		for i, r := range v {
			if r == '+' && i == 0 || '0' <= r && r <= '9' {
				b.WriteRune(r)
			}
		}
		return b.String()
	case Address:
		v = strings.NewReplacer(",", " ", ".", " ").Replace(v)
	}
	return strings.ToLower(strings.Join(strings.FieldsFunc(v, unicode.IsSpace), " "))
}
