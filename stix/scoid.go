package stix

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// scoNamespace is the UUIDv5 namespace of deterministic SCO ids (STIX 2.1
// section 2.9).
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// scoIDProps lists the ID contributing properties of each SCO type, from
// the "ID Contributing Properties" of each object in section 6 of STIX 2.1.
// process has none: its ids are UUIDv4.
var scoIDProps = map[string][]string{
	"artifact":             {"hashes", "payload_bin"},
	"autonomous-system":    {"number"},
	"directory":            {"path"},
	"domain-name":          {"value"},
	"email-addr":           {"value"},
	"email-message":        {"from_ref", "subject", "body"},
	"file":                 {"hashes", "name", "extensions", "parent_directory_ref"},
	"ipv4-addr":            {"value"},
	"ipv6-addr":            {"value"},
	"mac-addr":             {"value"},
	"mutex":                {"name"},
	"network-traffic":      {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"},
	"software":             {"name", "cpe", "swid", "vendor", "version"},
	"url":                  {"value"},
	"user-account":         {"account_type", "user_id", "account_login"},
	"windows-registry-key": {"key", "values"},
	"x509-certificate":     {"hashes", "serial_number"},
}

// preferredHashes is the order in which one hash is chosen when hashes
// contributes to an id: the order of the OASIS stix2 library
// (stix2/base.py, _choose_one_hash), continued with the rest of
// hash-algorithm-ov. Failing all of them the alphabetically first key is
// used, so that the choice does not depend on the input's key order.
var preferredHashes = []string{"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"}

// SCOID returns the deterministic id of a cyber observable: UUIDv5 in the
// STIX namespace over the canonical JSON of its ID-contributing properties.
// ok is false when the type has none of them present (a UUIDv4 is then
// allowed).
//
// The name hashed is the RFC 8785 (JCS) serialisation of a JSON object
// holding the contributing properties present, with hashes reduced to the
// one preferred algorithm (MD5, then SHA-1, SHA-256, SHA-512, as the OASIS
// stix2 library does).
func SCOID(props map[string]any) (id string, ok bool) {
	t, _ := props["type"].(string)
	names := scoIDProps[t]
	if len(names) == 0 {
		return "", false
	}
	contrib := make(map[string]any, len(names))
	for _, n := range names {
		v, present := props[n]
		if !present || v == nil {
			continue
		}
		if n == "hashes" {
			h, isMap := v.(map[string]any)
			if !isMap || len(h) == 0 {
				continue
			}
			v = chooseHash(h)
		}
		contrib[n] = v
	}
	if len(contrib) == 0 {
		return "", false
	}
	buf := make([]byte, 0, 128)
	buf, err := appendCanonical(buf, contrib)
	if err != nil {
		return "", false
	}
	return t + "--" + uuid.NewSHA1(scoNamespace, buf).String(), true
}

func chooseHash(h map[string]any) map[string]any {
	for _, k := range preferredHashes {
		if v, ok := h[k]; ok {
			return map[string]any{k: v}
		}
	}
	first := ""
	for k := range h {
		if first == "" || k < first {
			first = k
		}
	}
	return map[string]any{first: h[first]}
}

// errNotJSON reports a value that has no JSON form.
type errNotJSON struct{ v any }

func (e errNotJSON) Error() string { return "value has no JSON form" }

// appendCanonical appends the RFC 8785 serialisation of v: object members
// sorted by their UTF-16 code units, no whitespace, numbers in the
// ECMAScript shortest form, strings with only the mandatory escapes.
func appendCanonical(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		if v {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case string:
		return appendJCSString(b, v), nil
	case json.Number:
		f, err := v.Float64()
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return appendJCSNumber(b, f)
	case float64:
		return appendJCSNumber(b, v)
	case int:
		return appendJCSNumber(b, float64(v))
	case int64:
		return appendJCSNumber(b, float64(v))
	case []any:
		b = append(b, '[')
		for i, item := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCanonical(b, item); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return lessUTF16(keys[i], keys[j]) })
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJCSString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendCanonical(b, v[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []string:
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		return appendCanonical(b, l)
	}
	return nil, errNotJSON{v}
}

// lessUTF16 orders strings by their UTF-16 code units, as RFC 8785 sorts
// member names.
func lessUTF16(a, b string) bool {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			if ua[0] != ub[0] {
				return ua[0] < ub[0]
			}
			return ua[1] < ub[1]
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) < len(b) && b != ""
}

func utf16Units(r rune) [2]uint16 {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return [2]uint16{uint16(r1), uint16(r2)}
	}
	return [2]uint16{uint16(r), 0}
}

func appendJCSString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		ch := s[i]
		if ch >= 0x80 {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		}
		switch ch {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if ch < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hexDigits[ch>>4], hexDigits[ch&0xf])
			} else {
				b = append(b, ch)
			}
		}
		i++
	}
	return append(b, '"')
}

// appendJCSNumber formats f as ECMAScript's Number.prototype.toString does.
func appendJCSNumber(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errNotJSON{f}
	}
	if f == 0 {
		return append(b, '0'), nil
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.AppendFloat(b, f, 'f', -1, 64), nil
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// Go writes e-07 / e+21; ECMAScript writes e-7 / e+21.
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' {
			mant, exp := s[:i], s[i+1:]
			sign := exp[0]
			digits := exp[1:]
			for len(digits) > 1 && digits[0] == '0' {
				digits = digits[1:]
			}
			b = append(b, mant...)
			b = append(b, 'e', sign)
			return append(b, digits...), nil
		}
	}
	return append(b, s...), nil
}
