package pattern

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// parseTimestamp parses a STIX timestamp: YYYY-MM-DDThh:mm:ss[.fraction]Z,
// upper-case T and Z, UTC, with any number of fraction digits (kept to the
// nanosecond). Dates that do not exist, such as February 30, are errors.
func parseTimestamp(s string) (time.Time, error) {
	if len(s) < 20 {
		return time.Time{}, errors.New("want YYYY-MM-DDThh:mm:ss[.fraction]Z")
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for j := i; j < i+n; j++ {
			if !isDigit(s[j]) {
				return 0, false
			}
			v = v*10 + int(s[j]-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	hour, ok4 := num(11, 2)
	min, ok5 := num(14, 2)
	sec, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errors.New("want YYYY-MM-DDThh:mm:ss[.fraction]Z")
	}
	i := 19
	nsec := 0
	if s[i] == '.' {
		j := i + 1
		scale := 100000000
		for j < len(s) && isDigit(s[j]) {
			nsec += int(s[j]-'0') * scale
			scale /= 10
			j++
		}
		if j == i+1 {
			return time.Time{}, errors.New("want digits after the decimal point")
		}
		i = j
	}
	if i != len(s)-1 || s[i] != 'Z' {
		return time.Time{}, errors.New("want YYYY-MM-DDThh:mm:ss[.fraction]Z ending in Z")
	}
	if month < 1 || month > 12 || day < 1 || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, errors.New("field out of range")
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, errors.New("day out of range for month")
	}
	if year < 1 {
		return time.Time{}, errors.New("year out of range")
	}
	return t, nil
}

// number converts a JSON number (float64, json.Number or a Go integer) to
// a numeric value. isInt reports an integer-typed value.
func number(v any) (f float64, i int64, isInt, ok bool) {
	switch n := v.(type) {
	case float64:
		return n, 0, false, true
	case float32:
		return float64(n), 0, false, true
	case int:
		return float64(n), int64(n), true, true
	case int64:
		return float64(n), n, true, true
	case int32:
		return float64(n), int64(n), true, true
	case json.Number:
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return float64(i), i, true, true
		}
		if f, err := strconv.ParseFloat(string(n), 64); err == nil {
			return f, 0, false, true
		}
	}
	return 0, 0, false, false
}

// cmpNum compares two numbers, exactly when both are integers.
func cmpNum(af float64, ai int64, aInt bool, bf float64, bi int64, bInt bool) int {
	if aInt && bInt {
		switch {
		case ai < bi:
			return -1
		case ai > bi:
			return 1
		}
		return 0
	}
	switch {
	case af < bf:
		return -1
	case af > bf:
		return 1
	case af == bf:
		return 0
	}
	return 2 // NaN: unordered
}

// latin1 converts s to bytes if every code point is below 256, as the
// spec requires for comparing strings with binary values.
func latin1(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 255 {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}

// latin1String maps each byte to the code point of the same value, so a
// regular expression can run over binary data.
func latin1String(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// litEqual implements the equality table of the STIX matcher: numbers
// with numbers, strings with strings, binary with binary or with a string
// of code points below 256, booleans with booleans, timestamps with
// timestamps. Other pairs are unequal. ok is false when the value is a
// string that must be read as a timestamp and is not one.
func litEqual(lit *Literal, v any) (bool, error) {
	switch lit.Kind {
	case LitInt, LitFloat:
		f, i, isInt, ok := number(v)
		if !ok {
			return false, nil
		}
		return cmpNum(f, i, isInt, lit.Float, lit.Int, lit.Kind == LitInt) == 0, nil
	case LitString:
		switch v := v.(type) {
		case string:
			return v == lit.Str, nil
		case []byte:
			b, ok := latin1(lit.Str)
			return ok && bytes.Equal(b, v), nil
		}
	case LitBool:
		b, ok := v.(bool)
		return ok && b == lit.Bool, nil
	case LitHex, LitBinary:
		switch v := v.(type) {
		case []byte:
			return bytes.Equal(v, lit.Bytes), nil
		case string:
			b, ok := latin1(v)
			return ok && bytes.Equal(b, lit.Bytes), nil
		}
	case LitTimestamp:
		if s, ok := v.(string); ok {
			t, err := parseTimestamp(s)
			if err != nil {
				return false, matchError("invalid timestamp in observed data: %q", s)
			}
			return t.Equal(lit.Time), nil
		}
	}
	return false, nil
}

// litCompare orders v against lit: -1, 0 or 1, or ok == false when the
// pair cannot be ordered.
func litCompare(lit *Literal, v any) (c int, ok bool, err error) {
	switch lit.Kind {
	case LitInt, LitFloat:
		f, i, isInt, ok := number(v)
		if !ok {
			return 0, false, nil
		}
		c := cmpNum(f, i, isInt, lit.Float, lit.Int, lit.Kind == LitInt)
		return c, c != 2, nil
	case LitString:
		switch v := v.(type) {
		case string:
			return strings.Compare(v, lit.Str), true, nil
		case []byte:
			b, ok := latin1(lit.Str)
			if !ok {
				return 0, false, nil
			}
			return bytes.Compare(v, b), true, nil
		}
	case LitHex, LitBinary:
		switch v := v.(type) {
		case []byte:
			return bytes.Compare(v, lit.Bytes), true, nil
		case string:
			b, ok := latin1(v)
			if !ok {
				return 0, false, nil
			}
			return bytes.Compare(b, lit.Bytes), true, nil
		}
	case LitTimestamp:
		if s, ok := v.(string); ok {
			t, err := parseTimestamp(s)
			if err != nil {
				return 0, false, matchError("invalid timestamp in observed data: %q", s)
			}
			return t.Compare(lit.Time), true, nil
		}
	}
	return 0, false, nil
}

// parsePrefix reads an IPv4 or IPv6 address or CIDR block. A bare address
// is a block of one.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') < 0 {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, errors.New("not an IP address or CIDR block")
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	addr, bits, _ := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, errors.New("not an IP address or CIDR block")
	}
	n, err := strconv.Atoi(bits)
	if err != nil || bits == "" || bits[0] == '+' || bits[0] == '-' || n < 0 || n > a.BitLen() {
		return netip.Prefix{}, errors.New("invalid prefix length")
	}
	return netip.PrefixFrom(a, n), nil
}

// prefixContains reports whether inner lies within outer. Addresses of
// different families never contain each other.
func prefixContains(outer, inner netip.Prefix) bool {
	if outer.Addr().Is4() != inner.Addr().Is4() {
		return false
	}
	if outer.Bits() > inner.Bits() {
		return false
	}
	return outer.Masked().Contains(inner.Addr())
}

// durationOf converts WITHIN seconds to a duration, saturating.
func durationOf(sec float64) time.Duration {
	ns := sec * 1e9
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(math.Round(ns))
}

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }

func sortInts(s []int) { sort.Ints(s) }
