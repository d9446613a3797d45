package match

import "strings"

// ObservableKey returns the form in which correlation keeps an observable
// value of the named kind (ip, domain, url, email, md5, sha1, sha256,
// sha512, hash or other; see cyberpact.Observable), normalised as events
// and indicators are (Normalize), so that 'EVIL.example.' and
// 'evil.example' meet; and the kind it turned out to be. A CIDR range
// written where an address is expected is kept in prefix form. Values of
// other kinds are kept as written, without surrounding space. It reports
// false for a value that is not valid for its kind.
func ObservableKey(kind, value string) (string, Kind, bool) {
	k, ok := ParseKind(kind)
	if !ok {
		v := strings.TrimSpace(value)
		return v, KindOther, v != ""
	}
	v, k2, ok := Normalize(k, strings.TrimSpace(value))
	if !ok && k == KindIP {
		if p, ok := ParsePrefix(strings.TrimSpace(value)); ok {
			return p.String(), KindIP, true
		}
	}
	return v, k2, ok
}

// ObservableKeys returns the forms a value given without its kind may be
// kept in, most specific first: as an address or CIDR range, a hash, a
// URL, an e-mail address or a domain name when it reads as one, and as
// written (kind other) in every case, so that a file name such as
// evil.exe is found whether it was stored as a domain or a name.
func ObservableKeys(value string) []ObservableCandidate {
	v := strings.TrimSpace(value)
	if v == "" {
		return nil
	}
	var out []ObservableCandidate
	add := func(key string, k Kind) {
		for _, c := range out {
			if c.Key == key {
				return
			}
		}
		out = append(out, ObservableCandidate{Key: key, Kind: k})
	}
	for _, k := range []Kind{KindIP, KindHash, KindURL, KindEmail, KindDomain} {
		if k == KindURL && !strings.Contains(v, "://") {
			continue
		}
		if k == KindDomain && !strings.Contains(v, ".") {
			continue
		}
		if key, got, ok := ObservableKey(k.String(), v); ok {
			add(key, got)
			if k != KindDomain {
				break // an address, hash, URL or e-mail address is nothing else
			}
		}
	}
	add(v, KindOther)
	return out
}

// ObservableCandidate is one form a value may be kept in for correlation.
type ObservableCandidate struct {
	Key  string
	Kind Kind
}
