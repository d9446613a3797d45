package pattern

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// conformanceDir is where the shared OASIS-derived test vectors live,
// beside the repository root.
var conformanceDir = filepath.Join("..", "..", "shared", "conformance", "stix-patterns")

func loadCases(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformanceDir, name))
	if os.IsNotExist(err) {
		t.Skipf("conformance vectors not present: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type matcherCase struct {
	ID          string   `json:"id"`
	Pattern     string   `json:"pattern"`
	Observed    any      `json:"observed_data"`
	Version     string   `json:"stix_version"`
	ExpectMatch *bool    `json:"expect_match"`
	ExpectError *string  `json:"expect_error"`
	MatchedIDs  []string `json:"matched_observed_data_ids"`
	MatchedN    *int     `json:"matched_count"`
	Disputed    any      `json:"disputed"`
}

// TestConformanceMatcher runs the reference matcher's recorded cases.
// ParseException and MatcherException both count as "an error".
func TestConformanceMatcher(t *testing.T) {
	var file struct {
		Cases []matcherCase `json:"cases"`
	}
	loadCases(t, "matcher_cases.json", &file)
	pass := 0
	for _, c := range file.Cases {
		ok := t.Run(c.ID, func(t *testing.T) {
			p, err := ParseVersion(c.Pattern, c.Version)
			var res MatchResult
			if err == nil {
				var obs []Observation
				obs, err = ObservationsFromJSON(c.Observed)
				if err == nil {
					res, err = p.Match(obs)
				}
			}
			if c.Disputed != nil {
				return
			}
			if c.ExpectError != nil {
				if err == nil {
					t.Fatalf("%s: want %s, got matched=%v", c.Pattern, *c.ExpectError, res.Matched)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: unexpected error: %v", c.Pattern, err)
			}
			if res.Matched != *c.ExpectMatch {
				t.Fatalf("%s: matched=%v, want %v", c.Pattern, res.Matched, *c.ExpectMatch)
			}
			if c.MatchedN != nil && len(res.IDs) != *c.MatchedN {
				t.Fatalf("%s: %d observed-data matched, want %d (%v)", c.Pattern, len(res.IDs), *c.MatchedN, res.IDs)
			}
			if c.MatchedIDs != nil {
				if len(res.IDs) != len(c.MatchedIDs) {
					t.Fatalf("%s: matched %v, want %v", c.Pattern, res.IDs, c.MatchedIDs)
				}
				for i := range res.IDs {
					if res.IDs[i] != c.MatchedIDs[i] {
						t.Fatalf("%s: matched %v, want %v", c.Pattern, res.IDs, c.MatchedIDs)
					}
				}
			}
		})
		if ok {
			pass++
		}
	}
	t.Logf("matcher conformance: %d/%d cases pass", pass, len(file.Cases))
}

type validatorCase struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Version string `json:"stix_version"`
	Valid   bool   `json:"valid"`
}

// TestConformanceValidator runs the reference validator's recorded cases.
func TestConformanceValidator(t *testing.T) {
	var file struct {
		Cases []validatorCase `json:"cases"`
	}
	loadCases(t, "validator_cases.json", &file)
	pass := 0
	for _, c := range file.Cases {
		ok := t.Run(c.ID, func(t *testing.T) {
			err := Validate(c.Pattern, c.Version)
			if c.Valid && err != nil {
				t.Fatalf("%s (STIX %s): want valid, got %v", c.Pattern, c.Version, err)
			}
			if !c.Valid && err == nil {
				t.Fatalf("%s (STIX %s): want invalid, got valid", c.Pattern, c.Version)
			}
		})
		if ok {
			pass++
		}
	}
	t.Logf("validator conformance: %d/%d cases pass", pass, len(file.Cases))
}
