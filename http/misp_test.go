package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/misp"
)

// mispEventJSON returns one shared MISP event with its distribution and
// timestamp set (the shared events all have the same uuid: another
// timestamp makes a new version), skipping the test when the events are
// absent.
func mispEventJSON(t *testing.T, name, dist, timestamp string) (*misp.Event, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "misp", "events", name))
	if err != nil {
		t.Skipf("no shared MISP events (%v)", err)
	}
	evs, err := misp.DecodeJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	evs[0].Distribution, evs[0].Timestamp = dist, timestamp
	var buf bytes.Buffer
	if err := misp.Encode(&buf, evs); err != nil {
		t.Fatal(err)
	}
	return evs[0], buf.Bytes()
}

func post(t *testing.T, base, key, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func getStatus(t *testing.T, base, key, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPostMISPEvent posts MISP JSON to POST /api/v1/bundles: detected by
// its Event key, converted, stored with the audience its distribution
// says, and refused with the JSON path when malformed.
func TestPostMISPEvent(t *testing.T) {
	db := openDB(t)
	a := mkMember(t, db, mkOrg(t, db, "Org A"), "alice", cyberpact.RoleAnalyst)
	b := mkMember(t, db, mkOrg(t, db, "Org B"), "bob", cyberpact.RoleAnalyst)
	_, base := serve(t, db, nil)

	t.Run("OrgOnlyStaysWithTheOrg", func(t *testing.T) {
		ev, body := mispEventJSON(t, "event_with_url_attributes.json", "0", "1603642920")
		st, data := post(t, base, a.key, "/api/v1/bundles", "application/json", body)
		var ans importAnswer
		if err := json.Unmarshal(data, &ans); err != nil || st != 200 || ans.Added == 0 || len(ans.Rejected) > 0 {
			t.Fatalf("POST MISP event: %d %s", st, data)
		}
		report := "/api/v1/objects/report--" + ev.UUID
		if st := getStatus(t, base, a.key, report); st != 200 {
			t.Errorf("the poster's organisation gets %d for its report", st)
		}
		if st := getStatus(t, base, b.key, report); st != 404 {
			t.Errorf("another organisation gets %d for a distribution-0 event's report, want 404", st)
		}
	})
	t.Run("ContentTypeAndCommunity", func(t *testing.T) {
		ev, body := mispEventJSON(t, "event_with_threat_actor_galaxy.json", "3", "1603642999")
		// Bare event form, named by its Content-Type.
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(body, &wrapped); err != nil {
			t.Fatal(err)
		}
		st, data := post(t, base, a.key, "/api/v1/bundles", "application/vnd.misp+json", wrapped["Event"])
		if st != 200 {
			t.Fatalf("POST bare MISP event: %d %s", st, data)
		}
		if st := getStatus(t, base, b.key, "/api/v1/objects/report--"+ev.UUID); st != 200 {
			t.Errorf("another organisation gets %d for a distribution-3 event's report, want 200", st)
		}
	})
	t.Run("MalformedSaysWhere", func(t *testing.T) {
		body := `{"Event":{"uuid":"a6ef17d6-91cb-4a05-b10b-2f045daf874c","Attribute":[{"type":"ip-src","value":"1.2.3.4","to_ids":{}}]}}`
		st, data := post(t, base, a.key, "/api/v1/bundles", "application/json", []byte(body))
		if st != 400 || !strings.Contains(string(data), "Event.Attribute[0].to_ids") {
			t.Errorf("malformed MISP event: %d %s, want 400 naming Event.Attribute[0].to_ids", st, data)
		}
	})
	t.Run("DifferentDistributionsNeedAnAudience", func(t *testing.T) {
		// A store of its own: the shared events reuse attribute uuids.
		db := openDB(t)
		a := mkMember(t, db, mkOrg(t, db, "Org C"), "carol", cyberpact.RoleAnalyst)
		_, base := serve(t, db, nil)
		_, one := mispEventJSON(t, "event_with_mutex_attribute.json", "0", "1603644999")
		_, two := mispEventJSON(t, "event_with_asn_object.json", "3", "1603645999")
		list := []byte("[" + string(bytes.TrimSpace(one)) + "," + string(bytes.TrimSpace(two)) + "]")
		st, data := post(t, base, a.key, "/api/v1/bundles", "application/json", list)
		if st != 400 || !strings.Contains(string(data), "different distributions") {
			t.Errorf("events with different distributions: %d %s, want 400", st, data)
		}
		// With an audience given, the events go in together, to it.
		st, data = post(t, base, a.key, "/api/v1/bundles?audience=org", "application/json", list)
		var ans importAnswer
		if err := json.Unmarshal(data, &ans); err != nil || st != 200 || ans.Added == 0 {
			t.Errorf("events with an audience: %d %s", st, data)
		}
	})
	t.Run("UnknownSharingGroup", func(t *testing.T) {
		_, body := mispEventJSON(t, "event_with_mutex_attribute.json", "4", "1603643999")
		st, data := post(t, base, a.key, "/api/v1/bundles", "application/json", body)
		if st != 400 || !strings.Contains(string(data), "sharing group") {
			t.Errorf("event for an unknown sharing group: %d %s, want 400", st, data)
		}
	})
}
