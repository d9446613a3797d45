package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// call sends body to path as member m and decodes the JSON answer into out.
func call(t *testing.T, base string, m *member, method, path string, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+m.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

type alertsAnswer struct {
	Alerts []struct {
		Value      string   `json:"value"`
		Indicators []string `json:"indicators"`
	} `json:"alerts"`
	Events int64 `json:"events"`
}

// alertedIndicators returns the indicator ids the alerts name.
func (a alertsAnswer) alertedIndicators() map[string]bool {
	out := map[string]bool{}
	for _, al := range a.Alerts {
		for _, id := range al.Indicators {
			out[id] = true
		}
	}
	return out
}

func mkIndicator(n int, modDay int, domain string, extra map[string]any) map[string]any {
	o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": uuidN("indicator", n), "created": day(0), "modified": day(modDay),
		"pattern": fmt.Sprintf("[domain-name:value = '%s']", domain), "pattern_type": "stix", "valid_from": day(0)}
	for k, v := range extra {
		o[k] = v
	}
	return o
}

const matchEvents = `{"dns":{"question":{"name":"a-only.example"}}}
{"destination":{"domain":"everyone.example"}}
{"dns":{"question":{"name":"late.example"}}}
`

func TestMatchOverHTTP(t *testing.T) {
	db := openDB(t)
	a, b := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	ma, mb := mkMember(t, db, a, "alice", cyberpact.RoleAnalyst), mkMember(t, db, b, "bob", cyberpact.RoleAnalyst)
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber},
		mkIndicator(1, 1, "a-only.example", nil))
	importAs(t, db, cyberpact.Release{Producer: b.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen},
		mkIndicator(2, 1, "everyone.example", nil))
	_, base := serve(t, db, nil)

	match := func(m *member, body string) map[string]bool {
		t.Helper()
		var ans alertsAnswer
		if st := call(t, base, m, "POST", "/api/v1/match", body, &ans); st != 200 {
			t.Fatalf("match as %s: status %d", m.user.Name, st)
		}
		return ans.alertedIndicators()
	}
	t.Run("EachOrgAlertsOnlyOnWhatItSees", func(t *testing.T) {
		if got := match(ma, matchEvents); !got[uuidN("indicator", 1)] || !got[uuidN("indicator", 2)] {
			t.Errorf("A: alerts on %v, want both indicators", got)
		}
		if got := match(mb, matchEvents); got[uuidN("indicator", 1)] || !got[uuidN("indicator", 2)] {
			t.Errorf("B: alerts on %v, want only the shared indicator", got)
		}
	})
	t.Run("JSONArrayBody", func(t *testing.T) {
		if got := match(mb, `[{"destination":{"domain":"everyone.example"}}, {"x":1}]`); !got[uuidN("indicator", 2)] {
			t.Errorf("array body: alerts on %v", got)
		}
	})
	t.Run("CSVBody", func(t *testing.T) {
		if got := match(mb, "domain\neveryone.example\n"); len(got) != 0 {
			t.Errorf("CSV read as JSON lines should not alert: %v", got)
		}
		var ans alertsAnswer
		call(t, base, mb, "POST", "/api/v1/match?format=csv", "domain\neveryone.example\n", &ans)
		if !ans.alertedIndicators()[uuidN("indicator", 2)] {
			t.Errorf("CSV: alerts %+v", ans)
		}
	})
	t.Run("IndexFollowsTheStore", func(t *testing.T) {
		late := mkIndicator(3, 1, "late.example", nil)
		importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}, late)
		waitFor(t, "the new indicator alerts", func() bool { return match(mb, matchEvents)[uuidN("indicator", 3)] })
		revoked := mkIndicator(3, 2, "late.example", map[string]any{"revoked": true})
		importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}, revoked)
		waitFor(t, "the revoked indicator stops alerting", func() bool { return !match(mb, matchEvents)[uuidN("indicator", 3)] })
		if got := match(mb, matchEvents); !got[uuidN("indicator", 2)] || got[uuidN("indicator", 1)] {
			t.Errorf("after the changes B alerts on %v", got)
		}
	})
	t.Run("BadFormatRefused", func(t *testing.T) {
		if st := call(t, base, mb, "POST", "/api/v1/match?format=xml", "", nil); st != 400 {
			t.Errorf("status %d, want 400", st)
		}
	})
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type correlationAnswer struct {
	Value   string `json:"value"`
	Kind    string `json:"kind"`
	Warning string `json:"warning"`
	Common  bool   `json:"common"`
	Objects []struct {
		ID       string `json:"id"`
		Producer string `json:"producer"`
	} `json:"objects"`
}

func TestCorrelateOverHTTP(t *testing.T) {
	db := openDB(t)
	a, b := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B")
	ma, mb := mkMember(t, db, a, "alice", cyberpact.RoleAnalyst), mkMember(t, db, b, "bob", cyberpact.RoleAnalyst)
	importAs(t, db, cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, TLP: cyberpact.TLPAmber},
		mkIndicator(1, 1, "EVIL.example.", nil))
	importAs(t, db, cyberpact.Release{Producer: b.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen},
		mkIndicator(2, 1, "shared.example", nil),
		map[string]any{"type": "domain-name", "spec_version": "2.1", "id": "domain-name--" + uuidN("x", 5)[3:], "value": "google.com"})
	_, base := serve(t, db, nil)
	for _, tc := range []struct {
		name     string
		m        *member
		value    string
		want     []string
		producer string
		warning  bool
	}{
		{"ProducerFindsOwnWhateverTheSpelling", ma, "evil.example", []string{uuidN("indicator", 1)}, "Org A", false},
		{"OthersLearnNothingOfAnInvisibleObject", mb, "Evil.Example", nil, "", false},
		{"SharedSeenByAll", ma, "shared.example", []string{uuidN("indicator", 2)}, "Org B", false},
		{"WarningListedValueFlagged", ma, "google.com", []string{"domain-name--" + uuidN("x", 5)[3:]}, "Org B", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ans correlationAnswer
			if st := call(t, base, tc.m, "GET", "/api/v1/correlate?value="+tc.value, "", &ans); st != 200 {
				t.Fatalf("status %d", st)
			}
			var got []string
			for _, o := range ans.Objects {
				got = append(got, o.ID)
				if o.Producer != tc.producer {
					t.Errorf("producer %q, want %q", o.Producer, tc.producer)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("objects %v, want %v", got, tc.want)
			}
			if tc.warning && ans.Warning == "" {
				t.Errorf("no warning for %s", tc.value)
			}
		})
	}
	t.Run("PostManyValues", func(t *testing.T) {
		var ans struct{ Results []correlationAnswer }
		if st := call(t, base, mb, "POST", "/api/v1/correlate", `{"values":["evil.example","shared.example"]}`, &ans); st != 200 {
			t.Fatalf("status %d", st)
		}
		if len(ans.Results) != 2 || len(ans.Results[0].Objects) != 0 || len(ans.Results[1].Objects) != 1 {
			t.Errorf("results %+v", ans.Results)
		}
	})
}

// The route matrix: correlation and matching never show an object the
// caller may not see. The seeded world has no observables, so every
// member's answer about a value nobody may see is empty, and anonymous
// callers are refused.
func init() {
	anonymousRefused := func(t *testing.T, w *world, vc *viewerCase, method, path, body string) answer {
		a := w.req(t, vc, method, path, []byte(body), "application/json")
		if vc.m == nil {
			mustStatus(t, "anonymous "+method+" "+path, a, 401)
		}
		return a
	}
	leakCases["GET /api/v1/correlate"] = func(t *testing.T, w *world, vc *viewerCase) {
		for _, id := range w.ids {
			a := anonymousRefused(t, w, vc, "GET", "/api/v1/correlate?value="+id, "")
			if vc.m != nil {
				mustStatus(t, "correlate", a, 200)
				var ans correlationAnswer
				json.Unmarshal(a.body, &ans)
				if len(ans.Objects) != 0 {
					t.Errorf("an object holds an id as an observable value: %s", a.body)
				}
			}
		}
	}
	leakCases["POST /api/v1/correlate"] = func(t *testing.T, w *world, vc *viewerCase) {
		body, _ := json.Marshal(map[string]any{"values": w.ids})
		a := anonymousRefused(t, w, vc, "POST", "/api/v1/correlate", string(body))
		if vc.m != nil {
			mustStatus(t, "correlate", a, 200)
			var ans struct{ Results []correlationAnswer }
			json.Unmarshal(a.body, &ans)
			for _, r := range ans.Results {
				if len(r.Objects) != 0 {
					t.Errorf("an object holds an id as an observable value: %+v", r)
				}
			}
		}
	}
	leakCases["POST /api/v1/match"] = func(t *testing.T, w *world, vc *viewerCase) {
		var events bytes.Buffer
		for _, id := range w.ids {
			fmt.Fprintf(&events, "{\"process\":{\"name\":%q}}\n", id)
		}
		a := anonymousRefused(t, w, vc, "POST", "/api/v1/match", events.String())
		if vc.m != nil {
			mustStatus(t, "match", a, 200)
			var ans alertsAnswer
			json.Unmarshal(a.body, &ans)
			if len(ans.Alerts) != 0 {
				t.Errorf("alerts on a world without indicators: %s", a.body)
			}
		}
	}
}
