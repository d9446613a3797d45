package stix

import (
	"fmt"
	"time"
)

// ParseTime parses a STIX timestamp: RFC 3339 in UTC with a literal "Z",
// seconds always present and any number of fractional digits
// (YYYY-MM-DDTHH:mm:ss[.s+]Z).
func ParseTime(s string) (time.Time, error) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[10] != 'T' {
		return time.Time{}, fmt.Errorf("timestamp %q is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z", s)
	}
	if len(s) > 20 {
		if s[19] != '.' || len(s) == 21 {
			return time.Time{}, fmt.Errorf("timestamp %q is not of the form YYYY-MM-DDTHH:MM:SS[.fraction]Z", s)
		}
		for i := 20; i < len(s)-1; i++ {
			if s[i] < '0' || s[i] > '9' {
				return time.Time{}, fmt.Errorf("timestamp %q has a non-digit in its fraction", s)
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q is not a valid date and time", s)
	}
	return t, nil
}

// TimePrecision returns the number of fractional-second digits in a
// well-formed STIX timestamp.
func TimePrecision(s string) int {
	if len(s) <= 21 {
		return 0
	}
	return len(s) - 21
}

// NormTime formats t as a fixed-width UTC timestamp with nanoseconds, so that
// normalised timestamps sort as text in time order. The zero time gives "".
func NormTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// FormatTime formats t as a STIX timestamp with millisecond precision, or
// more when t has sub-millisecond digits.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) == 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05.000000000Z")
}
