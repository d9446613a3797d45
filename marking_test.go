package cyberpact_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

func TestMarksPermit(t *testing.T) {
	gb := cyberpact.Viewer{Org: 2, Nation: "GB", Sector: "finance", Clearances: cyberpact.Clearances{"UK-CLASS": 2}}
	us := cyberpact.Viewer{Org: 3, Nation: "US", Sector: "energy"}
	for _, tc := range []struct {
		name   string
		parts  cyberpact.MarkParts
		gb, us bool
	}{
		{"None", cyberpact.MarkParts{}, true, true},
		{"RelToGB", cyberpact.MarkParts{Nations: []string{"GB"}}, true, false},
		{"RelToGBUS", cyberpact.MarkParts{Nations: []string{"GB", "US"}}, true, true},
		{"EnergyOnly", cyberpact.MarkParts{Sectors: []string{"energy"}}, false, true},
		{"PAPRedHidesNothing", cyberpact.MarkParts{PAP: cyberpact.PAPRed}, true, true},
		{"LevelWithinClearance", cyberpact.MarkParts{Levels: []cyberpact.MarkLevel{{Set: "UK-CLASS", Level: 2}}}, true, false},
		{"LevelAboveClearance", cyberpact.MarkParts{Levels: []cyberpact.MarkLevel{{Set: "UK-CLASS", Level: 3}}}, false, false},
		{"EmptyIntersection", cyberpact.Restrict(cyberpact.MarkParts{Nations: []string{"GB"}}, cyberpact.MarkParts{Nations: []string{"US"}}), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.parts.Marks()
			if got := m.Permit(gb); got != tc.gb {
				t.Errorf("%q permits GB finance cleared 2: %v, want %v", m, got, tc.gb)
			}
			if got := m.Permit(us); got != tc.us {
				t.Errorf("%q permits US energy: %v, want %v", m, got, tc.us)
			}
			if m != "" && m.Permit(cyberpact.Viewer{Public: true}) != (tc.parts.PAP != 0 && len(tc.parts.Nations)+len(tc.parts.Sectors)+len(tc.parts.Levels) == 0) {
				t.Errorf("%q and the public collection", m)
			}
			if again := m.Parts().Marks(); again != m {
				t.Errorf("Marks round trip %q -> %q", m, again)
			}
		})
	}
	// The producer always sees its own; a sync account never PAP:RED.
	r := cyberpact.Release{Producer: 3, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen,
		Marks: cyberpact.MarkParts{Nations: []string{"GB"}, PAP: cyberpact.PAPRed}.Marks()}
	if !cyberpact.MaySee(us, r) || !cyberpact.MaySee(gb, r) {
		t.Errorf("the producer or a GB member does not see it")
	}
	gb.Sync = true
	if cyberpact.MaySee(gb, r) || cyberpact.MayForward(r) {
		t.Errorf("PAP:RED seen by a sync account, or forwarded")
	}
}

func TestParseMarkingDefinition(t *testing.T) {
	ext := `"extensions": {"` + cyberpact.MarkingExtension + `": {"extension_type": "property-extension", `
	for _, tc := range []struct {
		name, json string
		want       cyberpact.Marks
		ok         bool
		bad        string
	}{
		{"RelTo", `{"type": "marking-definition", ` + ext + `"rel_nations": ["us", "JP"]}}}`, "<n:JP><n:US>", true, ""},
		{"Level", `{"type": "marking-definition", ` + ext + `"marking_set": "UK-CLASS", "level": 2, "pap": "PAP:AMBER"}}}`, "<m:UK-CLASS:2><p:3>", true, ""},
		{"OpenCTIPAP", `{"type": "marking-definition", "definition_type": "PAP", "definition": {"PAP": "PAP:RED"}, "name": "PAP:RED"}`, "<p:4>", true, ""},
		{"MISPStylePAPByName", `{"type": "marking-definition", "definition_type": "statement", "definition": {"statement": "x"}, "name": "PAP:GREEN"}`, "<p:2>", true, ""},
		{"TLPIsNoMark", `{"type": "marking-definition", "definition_type": "tlp", "definition": {"tlp": "red"}, "name": "TLP:RED"}`, "", false, ""},
		{"BadNation", `{"type": "marking-definition", ` + ext + `"rel_nations": ["UK"]}}}`, "", false, "rel_nations"},
		{"BadLevel", `{"type": "marking-definition", ` + ext + `"marking_set": "UK-CLASS", "level": 0}}}`, "", false, "level"},
		{"BadSetName", `{"type": "marking-definition", ` + ext + `"marking_set": "uk class", "level": 1}}}`, "", false, "marking_set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ok, err := cyberpact.ParseMarkingDefinition([]byte(tc.json))
			if tc.bad != "" {
				if cyberpact.ErrorCode(err) != cyberpact.EINVALID || !contains(err.Error(), tc.bad) {
					t.Errorf("error %v, want EINVALID naming %s", err, tc.bad)
				}
				return
			}
			if err != nil || ok != tc.ok || p.Marks() != tc.want {
				t.Errorf("= %q, %v, %v; want %q, %v", p.Marks(), ok, err, tc.want, tc.ok)
			}
		})
	}
}

// contains is strings.Contains, kept local to the test.
func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestAgreementRefuse(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	a := &cyberpact.Agreement{Group: 7, GroupName: "Cell", Version: 3, TLPs: []cyberpact.TLP{cyberpact.TLPGreen, cyberpact.TLPAmber},
		PAPs: []cyberpact.PAP{cyberpact.PAPClear, cyberpact.PAPGreen}, Expires: now.Add(time.Hour)}
	green := cyberpact.Release{TLP: cyberpact.TLPGreen}
	for _, tc := range []struct {
		name string
		r    cyberpact.Release
		p    cyberpact.MarkParts
		at   time.Time
		says string
	}{
		{"Permitted", green, cyberpact.MarkParts{}, now, ""},
		{"UnmarkedPAPPermitted", green, cyberpact.MarkParts{PAP: cyberpact.PAPUnknown}, now, ""},
		{"TLPNotPermitted", cyberpact.Release{TLP: cyberpact.TLPRed}, cyberpact.MarkParts{}, now, `the agreement of group "Cell" (version 3) does not permit TLP:RED (it permits TLP:GREEN, TLP:AMBER)`},
		{"PAPNotPermitted", green, cyberpact.MarkParts{PAP: cyberpact.PAPRed}, now, "does not permit PAP:RED"},
		{"Expired", green, cyberpact.MarkParts{}, now.Add(time.Hour), "expired on 2026-06-01T01:00:00Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.Refuse(tc.r, tc.p, tc.at); got != tc.says && !(tc.says != "" && contains(got, tc.says)) {
				t.Errorf("Refuse = %q, want %q", got, tc.says)
			}
		})
	}
}

func TestSpans(t *testing.T) {
	for _, s := range []string{"90d", "36h0m0s", "1d"} {
		d, err := cyberpact.ParseSpan(s)
		if err != nil || cyberpact.FormatSpan(d) != s {
			t.Errorf("%s: %v %v -> %s", s, d, err, cyberpact.FormatSpan(d))
		}
	}
	for _, s := range []string{"", "0d", "-3h", "forever", "d"} {
		if _, err := cyberpact.ParseSpan(s); cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("ParseSpan(%q) = %v, want EINVALID", s, err)
		}
	}
}

// TestNationsAndSectorsEnteredAnyWay: an organisation's nation and sector
// are taken as a marking definition's are, whatever their case and
// surrounding spaces, and refused with the value named otherwise.
func TestNationsAndSectorsEnteredAnyWay(t *testing.T) {
	for _, in := range []string{"gb", " GB", "Gb\t"} {
		if got, err := cyberpact.CheckNation(in); err != nil || got != "GB" {
			t.Errorf("CheckNation(%q) = %q, %v; want GB", in, got, err)
		}
	}
	for _, in := range []string{"energy", "Energy ", " ENERGY"} {
		if got, err := cyberpact.CheckSector(in); err != nil || got != "energy" {
			t.Errorf("CheckSector(%q) = %q, %v; want energy", in, got, err)
		}
	}
	if got, err := cyberpact.CheckNations([]string{" fr", "GB", "gb "}); err != nil || !slices.Equal(got, []string{"FR", "GB"}) {
		t.Errorf("CheckNations = %q, %v; want [FR GB]", got, err)
	}
	for _, bad := range []string{"UK", "G B", "", "GBR"} {
		if _, err := cyberpact.CheckNation(bad); cyberpact.ErrorCode(err) != cyberpact.EINVALID || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Errorf("CheckNation(%q) = %v; want EINVALID naming it", bad, err)
		}
	}
	if _, err := cyberpact.CheckSector("power plants"); cyberpact.ErrorCode(err) != cyberpact.EINVALID || !strings.Contains(err.Error(), `"power plants"`) {
		t.Errorf("CheckSector(power plants) = %v; want EINVALID naming it", err)
	}
}
