package exercise

import (
	"encoding/json"
	"fmt"
	"io"
)

// LoadTechniques reads an ATT&CK STIX bundle (Enterprise, ICS or Mobile,
// STIX 2.0 or 2.1) and returns the ids of its techniques and
// sub-techniques that are neither revoked nor deprecated, e.g. T1566.001
// or T0855.
func LoadTechniques(r io.Reader) (map[string]bool, error) {
	var b struct {
		Objects []struct {
			Type       string `json:"type"`
			Revoked    bool   `json:"revoked"`
			Deprecated bool   `json:"x_mitre_deprecated"`
			Refs       []struct {
				Source string `json:"source_name"`
				ID     string `json:"external_id"`
			} `json:"external_references"`
		} `json:"objects"`
	}
	if err := json.NewDecoder(r).Decode(&b); err != nil {
		return nil, fmt.Errorf("reading ATT&CK data: %w", err)
	}
	out := map[string]bool{}
	for _, o := range b.Objects {
		if o.Type != "attack-pattern" || o.Revoked || o.Deprecated {
			continue
		}
		for _, ref := range o.Refs {
			if (ref.Source == "mitre-attack" || ref.Source == "mitre-ics-attack" || ref.Source == "mitre-mobile-attack") && techniqueRE.MatchString(ref.ID) {
				out[ref.ID] = true
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reading ATT&CK data: no techniques found")
	}
	return out, nil
}
