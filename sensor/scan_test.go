package sensor

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzScanMatchesEncodingJSON holds scanIndicator to encoding/json: for
// any input, both fail or both give the same properties. Inputs where the
// two are meant to differ are passed over: encoding/json matches property
// names case-insensitively (STIX's are exact), and accepts a top-level
// null.
func FuzzScanMatchesEncodingJSON(f *testing.F) {
	f.Add(`{"type":"indicator","id":"indicator--1","name":"a\u00e9\ud83d\ude00\"","labels":["x","y"],"confidence":50,"revoked":true,"pattern":"[a:b = 'c']","extra":{"n":[1,2.5e3,null,true]}}`)
	f.Add(`{"labels":null,"confidence":null,"name":null,"revoked":false}`)
	f.Add(`{"name":"\ud800x","labels":[]," created":"x"}`)
	f.Add("{\"name\":\"\xff\xfe\"}")
	f.Add(`{"confidence":1.5}`)
	f.Add(`{"labels":[1]}`)
	f.Add(`{"a":[}`)
	f.Add(`{"name":"a"} x`)
	f.Fuzz(func(t *testing.T, in string) {
		if strings.TrimSpace(in) == "null" {
			return
		}
		var keys map[string]json.RawMessage
		if json.Unmarshal([]byte(in), &keys) == nil {
			for k := range keys {
				for _, f := range []string{"type", "id", "spec_version", "name", "created", "modified", "valid_from", "valid_until",
					"confidence", "revoked", "pattern", "pattern_type", "pattern_version", "labels"} {
					if k != f && strings.EqualFold(k, f) {
						return
					}
				}
			}
		}
		var want, got indicatorJSON
		werr := json.Unmarshal([]byte(in), &want)
		gerr := scanIndicator([]byte(in), &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: encoding/json %v, scan %v", in, werr, gerr)
		}
		if werr == nil {
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("%q (-encoding/json +scan):\n%s", in, d)
			}
		}
	})
}
