package stix

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestEnvelopeReader(t *testing.T) {
	ind := `{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"}`
	for _, tc := range []struct {
		name  string
		in    string
		n     int
		fails bool
	}{
		{"ObjectsAndMore", `{"more":false,"objects":[` + ind + `,` + ind + `]}`, 2, false},
		{"EmptyEnvelopeHoldsNothing", `{}`, 0, false},
		{"SpacesAroundEmptyEnvelope", " \n{ \n } ", 0, false},
		{"NoObjectsArray", `{"more":false}`, 0, false},
		{"ObjectsFirst", "{\n\"objects\":[" + ind + "],\"next\":\"10\"}", 1, false},
		{"ObjectsNotAnArray", `{"objects":{}}`, 0, true},
		{"NotAnObject", `[` + ind + `]`, 0, true},
		{"Empty", ``, 0, true},
		{"Truncated", `{"objects":[` + ind, 0, true},
		{"OtherType", `{"type":"indicator","objects":[]}`, 0, true},
		{"TrailingGarbage", `{"objects":[]} x`, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewEnvelopeReader(strings.NewReader(tc.in))
			n := 0
			var err error
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			if tc.fails {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error %v, want a SyntaxError", err)
				}
				return
			}
			if err != io.EOF || n != tc.n {
				t.Fatalf("read %d objects, ended with %v; want %d and EOF", n, err, tc.n)
			}
		})
	}
}

func TestEnvelopeReaderKeepsLines(t *testing.T) {
	r := NewEnvelopeReader(strings.NewReader("{\n\"objects\": [\n{\"type\":\"x\",\"id\":\"x--1\"}]}"))
	it, err := r.Next()
	if err != nil || it.Line != 3 {
		t.Fatalf("item line %d, err %v; want line 3", it.Line, err)
	}
}
