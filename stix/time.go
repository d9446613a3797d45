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
	t, ok := parseTimestamp(s)
	if !ok {
		return time.Time{}, fmt.Errorf("timestamp %q is not a valid date and time", s)
	}
	return t, nil
}

// parseTimestamp reads YYYY-MM-DDTHH:MM:SS[.fraction]Z, the form ParseTime
// has checked the length, 'T', '.', fraction and 'Z' of, accepting what
// time.Parse(time.RFC3339Nano, s) accepts of that form: the same digits,
// separators and ranges (days by month and leap year, no leap second),
// the fraction truncated to nanoseconds. Timestamps are parsed several
// times for every imported object, and time.Parse is most of that work.
func parseTimestamp(s string) (time.Time, bool) {
	ok := true
	num := func(i, min, max int) int {
		a, b := s[i]-'0', s[i+1]-'0'
		if a > 9 || b > 9 {
			ok = false
			return min
		}
		x := int(a)*10 + int(b)
		if x < min || x > max {
			ok = false
			return min
		}
		return x
	}
	year := num(0, 0, 99)*100 + num(2, 0, 99)
	month := num(5, 1, 12)
	day := num(8, 1, daysIn(month, year))
	hour := num(11, 0, 23)
	minute := num(14, 0, 59)
	sec := num(17, 0, 59)
	if !ok || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	nsec := 0
	if len(s) > 20 {
		frac := s[20 : len(s)-1]
		if len(frac) > 9 {
			frac = frac[:9]
		}
		for i := 0; i < len(frac); i++ {
			nsec = nsec*10 + int(frac[i]-'0')
		}
		for i := len(frac); i < 9; i++ {
			nsec *= 10
		}
	}
	secs := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(secs, int64(nsec)).UTC(), true
}

// daysSinceEpoch returns the number of days from 1970-01-01 to a valid
// date of the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400                     // [0, 399]
	mp := int64((month + 9) % 12)          // March is 0
	doy := (153*mp+2)/5 + int64(day) - 1   // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// daysIn returns the number of days of month (1 to 12) of year in the
// proleptic Gregorian calendar.
func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
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
	return formatTime(t.UTC(), 9)
}

// FormatTime formats t as a STIX timestamp with millisecond precision, or
// more when t has sub-millisecond digits.
func FormatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()%int(time.Millisecond) == 0 {
		return formatTime(t, 3)
	}
	return formatTime(t, 9)
}

// formatTime formats a UTC time as t.Format("2006-01-02T15:04:05.000Z")
// does with 3 fractional digits, or ".000000000" with 9, appending the
// digits by hand: every imported object's version is formatted, and
// time.Format's layout interpretation is most of that work. Years outside
// 0 to 9999, which Format writes with a sign or more digits, go to Format.
func formatTime(t time.Time, digits int) string {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		if digits == 3 {
			return t.Format("2006-01-02T15:04:05.000Z")
		}
		return t.Format("2006-01-02T15:04:05.000000000Z")
	}
	hour, minute, sec := t.Clock()
	var b [30]byte
	put2 := func(i, v int) {
		b[i], b[i+1] = byte('0'+v/10), byte('0'+v%10)
	}
	put2(0, year/100)
	put2(2, year%100)
	b[4] = '-'
	put2(5, int(month))
	b[7] = '-'
	put2(8, day)
	b[10] = 'T'
	put2(11, hour)
	b[13] = ':'
	put2(14, minute)
	b[16] = ':'
	put2(17, sec)
	b[19] = '.'
	frac := t.Nanosecond()
	if digits == 3 {
		frac /= int(time.Millisecond)
	}
	for i := 19 + digits; i > 19; i-- {
		b[i] = byte('0' + frac%10)
		frac /= 10
	}
	b[20+digits] = 'Z'
	return string(b[:21+digits])
}
