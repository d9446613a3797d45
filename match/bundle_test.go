package match

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestBundleSplitter(t *testing.T) {
	i1 := `{"type":"indicator","id":"a","pattern":"[x:y = '}]\"{[']","x":{"objects":[1]}}`
	i2 := `{"type":"indicator","id":"b","pattern":"p\\\\"}`
	for _, tc := range []struct {
		name    string
		in      string
		want    []string
		wantErr string
	}{
		{"Bundle", `{"type":"bundle","id":"bundle--1","objects":[` + i1 + `, {"type":"malware"} ,` + i2 + `]}`, []string{i1, i2}, ""},
		{"KeysAfterObjects", `{"objects":[` + i1 + `],"type":"bundle","spec_version":"2.0"}`, []string{i1}, ""},
		{"StringValueNamedObjects", `{"type":"objects","id":"x","objects":[` + i2 + `]}`, []string{i2}, ""},
		{"SingleObject", "\n" + i1 + "\n", []string{i1}, ""},
		{"EmptyObjects", `{"type":"bundle","objects":[]}`, nil, ""},
		{"Unbalanced", `{"type":"bundle","objects":[` + i1, []string{i1}, "ends inside"},
		{"NotAnObjectElement", `{"objects":[1]}`, nil, "not a JSON object"},
		{"TwoTopObjects", `{"objects":[]} {"objects":[]}`, nil, "single JSON object"},
		{"Empty", ``, nil, "no JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				var got []string
				var err error
				for raw, e := range BundleIndicators(r) {
					if e != nil {
						err = e
						break
					}
					got = append(got, string(raw))
				}
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("got %q, want %q", got, tc.want)
				}
				if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
					t.Errorf("err = %v, want %q", err, tc.wantErr)
				}
			}
		})
	}
}
