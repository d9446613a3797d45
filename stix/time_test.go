package stix

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// parseTimeStd is ParseTime as written with time.Parse, the reference the
// hand-written parser must agree with.
func parseTimeStd(s string) (time.Time, error) {
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

func checkParseTime(t *testing.T, s string) (valid bool) {
	t.Helper()
	got, gerr := ParseTime(s)
	want, werr := parseTimeStd(s)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("ParseTime(%q): error %v, time.Parse gives %v", s, gerr, werr)
	}
	if got != want {
		t.Fatalf("ParseTime(%q) = %v, time.Parse gives %v", s, got, want)
	}
	return werr == nil
}

func TestParseTimeAgreesWithTimeParse(t *testing.T) {
	t.Run("Fixed", func(t *testing.T) {
		for _, s := range []string{
			"2024-01-01T00:00:00Z", "2024-01-01T00:00:00.000Z", "2024-02-29T23:59:59.999999999Z",
			"2023-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-28T00:00:00Z",
			"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.1234567891234Z", "2024-12-31T23:59:60Z",
			"2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-04-31T00:00:00Z", "2024-04-30T24:00:00Z",
			"2024-01-01T00:60:00Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z", "2024-01-01T00:00:00.Z",
			"2024-01-01T00:00:00,5Z", "2024-01-01T00:00:00.5aZ", "2024-01-01T00:00:00+00:00",
			"+024-01-01T00:00:00Z", "-024-01-01T00:00:00Z", "2024-1-01T00:00:00Z", "2024-01-1T00:00:00Z",
			"2024-01-01T0:00:00.0Z", "2024-01-01T00:0:00.0Z", "2024-01-01T00:00:0.00Z", "2024/01/01T00:00:00Z",
			"2024-01-01T00-00-00Z", "2024-01-01T00:00:00.0000000001Z", "2024-01-01T00:00:00.100000000Z",
			"2024-01-01T1:00:00.5Z", "2024-01-01T 0:00:00Z", "2024-01-01T00: 0:00Z", " 2024-01-01T00:00:00Z",
			"２024-01-01T00:00:00Z", "2024-01-01T00:00:00.١Z", "", "Z", "2024-01-01T00:00:00",
		} {
			checkParseTime(t, s)
		}
	})
	t.Run("EveryDateOfLeapAndOtherYears", func(t *testing.T) {
		for _, y := range []string{"0000", "0001", "0004", "0100", "0400", "1600", "1700", "1900", "1999", "2000", "2023", "2024", "2100", "2400", "9996", "9999", "20a4", "2 24", "-999"} {
			for m := -1; m <= 14; m++ {
				for d := -1; d <= 33; d++ {
					checkParseTime(t, fmt.Sprintf("%s-%02d-%02dT12:34:56Z", y, m, d))
				}
			}
		}
	})
	t.Run("EveryTimeOfDay", func(t *testing.T) {
		for h := 0; h <= 25; h++ {
			for m := 0; m <= 61; m++ {
				for _, sec := range []string{"00", "09", "10", "59", "60", "61", "99", "0a", "a0", "-1"} {
					checkParseTime(t, fmt.Sprintf("2024-03-15T%02d:%02d:%sZ", h, m, sec))
				}
			}
		}
	})
	t.Run("Fractions", func(t *testing.T) {
		frac := ""
		for n := 1; n <= 15; n++ {
			frac += string(rune('0' + n%10))
			checkParseTime(t, "2024-03-15T01:02:03."+frac+"Z")
			checkParseTime(t, "2024-03-15T01:02:03."+frac[:n-1]+"0Z")
		}
	})
	t.Run("RandomMutations", func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		alphabet := "0123456789-:TZ.,+ tz/\x00\xff9"
		valid := 0
		for i := 0; i < 300_000; i++ {
			ts := time.Date(r.IntN(10000), time.Month(1+r.IntN(12)), 1+r.IntN(31), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1e9), time.UTC)
			layout := "2006-01-02T15:04:05Z"
			switch r.IntN(4) {
			case 1:
				layout = "2006-01-02T15:04:05.000Z"
			case 2:
				layout = "2006-01-02T15:04:05.999999999Z"
			case 3:
				layout = "2006-01-02T15:04:05.000000000000Z" // more digits than nanoseconds
			}
			b := []byte(ts.Format(layout))
			for k := r.IntN(3); k > 0; k-- {
				b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
			}
			if r.IntN(8) == 0 {
				b = b[:r.IntN(len(b))]
			}
			if checkParseTime(t, string(b)) {
				valid++
			}
		}
		t.Logf("%d valid", valid)
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-02-29T23:59:59.999999999Z", "2023-02-29T00:00:00Z", "2024-01-01T00:00:00.0000000001Z", "2024-01-01T1:00:00.5Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParseTime(t, s) })
}

func BenchmarkParseTime(b *testing.B) {
	for b.Loop() {
		if _, err := ParseTime("2024-02-29T23:59:59.123Z"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFormatTimeAgreesWithTimeFormat(t *testing.T) {
	const ms, ns = "2006-01-02T15:04:05.000Z", "2006-01-02T15:04:05.000000000Z"
	check := func(tm time.Time) {
		t.Helper()
		want := tm.UTC().Format(ns)
		if tm.IsZero() {
			want = ""
		}
		if got := NormTime(tm); got != want {
			t.Fatalf("NormTime(%v) = %q, time.Format gives %q", tm, got, want)
		}
		want = tm.UTC().Format(ns)
		if tm.Nanosecond()%int(time.Millisecond) == 0 {
			want = tm.UTC().Format(ms)
		}
		if got := FormatTime(tm); got != want {
			t.Fatalf("FormatTime(%v) = %q, time.Format gives %q", tm, got, want)
		}
	}
	east := time.FixedZone("east", 5*3600+30*60)
	for _, tm := range []time.Time{
		{}, time.Unix(0, 0), time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
		time.Date(2024, 12, 31, 23, 0, 0, 1, east), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, east), time.Date(9999, 12, 31, 23, 59, 59, 123000000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-12345, 6, 1, 0, 0, 0, 5, time.UTC), time.Date(123456, 6, 1, 0, 0, 0, 5000000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond), time.Now(),
	} {
		check(tm)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200_000; i++ {
		var tm time.Time
		switch r.IntN(3) {
		case 0: // years 0 to 9999, any nanosecond
			tm = time.Unix(r.Int64N(315537897600)-62167219200, r.Int64N(1e9))
		case 1: // whole milliseconds in a zone
			tm = time.Unix(r.Int64N(4e9), r.Int64N(1000)*1e6).In(east)
		default: // anywhere
			tm = time.Unix(r.Int64()>>r.IntN(30), r.Int64N(1e9))
		}
		check(tm)
	}
}

func BenchmarkNormTime(b *testing.B) {
	tm := time.Date(2024, 2, 29, 23, 59, 59, 123000000, time.UTC)
	for b.Loop() {
		_ = NormTime(tm)
	}
}
