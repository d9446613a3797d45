package http_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/misp"
	"github.com/cyberpact/cyberpact/stix"
)

// mispClient pulls the hub's MISP feed the way a MISP instance pulls a
// feed of type "MISP Feed" (app/Model/Feed.php): it sends the feed's
// configured header (here "Authorization: KEY") with every request,
// fetches manifest.json (with If-None-Match once it holds an ETag, using
// its cached manifest on 304), adds the events it does not hold and edits
// those it holds with an older timestamp than the manifest's, fetching
// only those as UUID.json, and reads hashes.csv into its correlation
// cache. It keeps what it fetched as MISP keeps events: by uuid, with
// their timestamp.
type mispClient struct {
	base, key string

	etag     string
	manifest map[string]misp.ManifestEntry
	events   map[string]*misp.Event // held, by uuid
	hashes   map[string][]string    // md5 of a value -> the events holding it

	// What the last pull did.
	notModified bool
	added       []string
	edited      []string
}

func newMISPClient(base, key string) *mispClient {
	return &mispClient{base: base + "/api/v1/misp", key: key, events: map[string]*misp.Event{}}
}

func (c *mispClient) get(t testing.TB, file, etag string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", c.base+"/"+file, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("MISP-version", "2.5.0")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

// pull runs one fetch of the feed.
func (c *mispClient) pull(t testing.TB) {
	t.Helper()
	c.notModified, c.added, c.edited = false, nil, nil
	code, body, h := c.get(t, "manifest.json", c.etag)
	switch {
	case code == http.StatusNotModified && c.manifest != nil:
		c.notModified = true
	case code == http.StatusOK:
		var m map[string]misp.ManifestEntry
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("manifest.json: %v: %.300s", err, body)
		}
		c.manifest, c.etag = m, h.Get("ETag")
	default:
		t.Fatalf("manifest.json: %d %.300s", code, body)
	}
	for uuid, entry := range c.manifest {
		if entry.Orgc.Name == "" || entry.Orgc.UUID == "" || entry.Info == "" || entry.Date == "" || entry.Timestamp == 0 {
			t.Errorf("manifest entry %s lacks what MISP requires (Orgc, info, date, timestamp): %+v", uuid, entry)
		}
		held := c.events[uuid]
		switch {
		case held == nil:
			c.added = append(c.added, uuid)
		case heldTimestamp(held) < entry.Timestamp:
			c.edited = append(c.edited, uuid)
		default:
			continue
		}
		code, body, _ := c.get(t, uuid+".json", "")
		if code != http.StatusOK {
			t.Fatalf("%s.json: %d %.300s", uuid, code, body)
		}
		evs, err := misp.Decode(bytes.NewReader(body))
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s.json: %v, %d events", uuid, err, len(evs))
		}
		if evs[0].UUID != uuid || evs[0].Timestamp != fmt.Sprint(entry.Timestamp) {
			t.Errorf("%s.json is event %s of timestamp %s; the manifest says %d", uuid, evs[0].UUID, evs[0].Timestamp, entry.Timestamp)
		}
		c.events[uuid] = evs[0]
	}
	slices.Sort(c.added)
	slices.Sort(c.edited)
	code, body, _ = c.get(t, "hashes.csv", "")
	if code != http.StatusOK {
		t.Fatalf("hashes.csv: %d %.300s", code, body)
	}
	c.hashes = map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if line == "" {
			continue
		}
		h, ev, ok := strings.Cut(line, ",")
		if !ok || len(h) != 32 || c.manifest[ev].Timestamp == 0 {
			t.Errorf("hashes.csv line %q is not an MD5 and an event of the manifest", line)
		}
		c.hashes[h] = append(c.hashes[h], ev)
	}
}

// values returns every attribute value of the events held.
func (c *mispClient) values() map[string]string {
	out := map[string]string{}
	for uuid, ev := range c.events {
		for _, a := range ev.Attributes {
			out[a.Value] = uuid
		}
		for _, ob := range ev.Objects {
			for _, a := range ob.Attributes {
				out[a.Value] = uuid
			}
		}
	}
	return out
}

// heldTimestamp is a held event's timestamp, as MISP keeps it: a number.
func heldTimestamp(ev *misp.Event) int64 {
	n, _ := strconv.ParseInt(ev.Timestamp, 10, 64)
	return n
}

func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func indicatorOf(n int, ip, modified string) map[string]any {
	return map[string]any{"type": "indicator", "spec_version": "2.1", "id": uuidN("indicator", n), "created": day(0), "modified": modified,
		"name": "address " + ip, "pattern": "[ipv4-addr:value = '" + ip + "']", "pattern_type": "stix", "valid_from": day(0)}
}

// TestMISPFeedFetchesOnlyWhatChanged pulls the feed as MISP does, twice
// with nothing new (the manifest answers 304 and no event is fetched),
// then after one indicator of a report changes (only the report's event
// is fetched again), and checks that a member of another group gets
// nothing of the group's report.
func TestMISPFeedFetchesOnlyWhatChanged(t *testing.T) {
	db := openDB(t)
	a, b, c := mkOrg(t, db, "Org A"), mkOrg(t, db, "Org B"), mkOrg(t, db, "Org C")
	g := mkGroup(t, db, "Cell", a, b)
	mb, mc := mkMember(t, db, b, "bob", cyberpact.RoleReader), mkMember(t, db, c, "carol", cyberpact.RoleReader)
	group := cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}, TLP: cyberpact.TLPAmber}
	all := cyberpact.Release{Producer: a.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, TLP: cyberpact.TLPGreen}
	report := map[string]any{"type": "report", "spec_version": "2.1", "id": uuidN("report", 1), "created": day(0), "modified": day(1),
		"name": "Cell operation", "published": day(1), "object_refs": []string{uuidN("indicator", 1), uuidN("indicator", 2)}}
	importAs(t, db, group, indicatorOf(1, "198.51.100.1", day(1)), indicatorOf(2, "198.51.100.2", day(1)), report)
	importAs(t, db, all, indicatorOf(3, "203.0.113.3", day(1)))
	_, base := serve(t, db, nil)

	bob, carol := newMISPClient(base, mb.key), newMISPClient(base, mc.key)
	bob.pull(t)
	reportEvent := uuidN("report", 1)[len("report--"):]
	dayEvent := misp.DayEventUUID(a.ID, a.Name, "2026-01-01")
	if want := []string{reportEvent, dayEvent}; !sameStrings(bob.added, want) {
		t.Fatalf("first pull added %v, want the report's event and Org A's day event %v", bob.added, want)
	}
	vals := bob.values()
	for ip, ev := range map[string]string{"198.51.100.1": reportEvent, "198.51.100.2": reportEvent, "203.0.113.3": dayEvent} {
		if vals[ip] != ev {
			t.Errorf("%s is in event %q, want %s", ip, vals[ip], ev)
		}
		if !slices.Contains(bob.hashes[md5Hex(ip)], ev) {
			t.Errorf("hashes.csv has no line for %s in %s", ip, ev)
		}
	}
	if bob.manifest[reportEvent].Info != "Cell operation" || bob.manifest[dayEvent].Orgc.Name != "Org A" {
		t.Errorf("manifest headers: %+v, %+v", bob.manifest[reportEvent], bob.manifest[dayEvent])
	}

	t.Run("NothingNewFetchesNothing", func(t *testing.T) {
		bob.pull(t)
		if !bob.notModified || len(bob.added)+len(bob.edited) > 0 {
			t.Errorf("second pull: manifest not modified %v, added %v, edited %v; want 304 and nothing fetched", bob.notModified, bob.added, bob.edited)
		}
	})

	t.Run("AChangedIndicatorFetchesItsEventAlone", func(t *testing.T) {
		before := bob.manifest[reportEvent].Timestamp
		importAs(t, db, group, indicatorOf(2, "198.51.100.22", day(2)))
		bob.pull(t)
		if len(bob.added) > 0 || !sameStrings(bob.edited, []string{reportEvent}) {
			t.Errorf("after a change: added %v, edited %v; want only %s edited", bob.added, bob.edited, reportEvent)
		}
		if bob.manifest[reportEvent].Timestamp <= before {
			t.Errorf("the report's event timestamp %d did not grow past %d", bob.manifest[reportEvent].Timestamp, before)
		}
		if bob.values()["198.51.100.22"] != reportEvent {
			t.Errorf("the new version's value is not in the report's event: %v", bob.values())
		}
	})

	t.Run("AnotherGroupsMemberGetsNothingOfTheGroups", func(t *testing.T) {
		carol.pull(t)
		if !sameStrings(carol.added, []string{dayEvent}) {
			t.Errorf("Org C's pull added %v, want only Org A's day event %s", carol.added, dayEvent)
		}
		for _, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.22"} {
			if _, ok := carol.values()[ip]; ok || carol.hashes[md5Hex(ip)] != nil {
				t.Errorf("Org C got %s of the group's report", ip)
			}
		}
		for _, file := range []string{"manifest.json", "hashes.csv", reportEvent + ".json", dayEvent + ".json"} {
			code, body, _ := carol.get(t, file, "")
			if file == reportEvent+".json" && code != http.StatusNotFound {
				t.Errorf("Org C reading the group's event: %d, want 404", code)
			}
			for _, leak := range []string{"Cell operation", "198.51.100.", reportEvent, uuidN("indicator", 1)[len("indicator--"):], uuidN("indicator", 2)[len("indicator--"):]} {
				if bytes.Contains(body, []byte(leak)) {
					t.Errorf("Org C's %s names %q", file, leak)
				}
			}
		}
	})

	t.Run("KeyRequired", func(t *testing.T) {
		for _, key := range []string{"", "cpk_not-a-key"} {
			c := newMISPClient(base, key)
			if code, _, _ := c.get(t, "manifest.json", ""); code != http.StatusUnauthorized {
				t.Errorf("manifest with key %q: %d, want 401", key, code)
			}
		}
	})
}

func sameStrings(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// checkMISPFeed is the route matrix's case of the MISP feed (all three of
// its routes): anonymous callers get 401; a member pulls the feed as MISP
// does, and what it gets (every event, the manifest, hashes.csv) holds
// the addresses of exactly the indicators it may see below TLP:RED and
// PAP:RED, the
// names of exactly the latest campaign versions it may see below RED,
// and names no object it may not see. An event of another member's feed
// is 404.
func (w *world) checkMISPFeed(t *testing.T, vc *viewerCase) {
	if vc.m == nil {
		for _, f := range []string{"manifest.json", "hashes.csv", "00000001-0000-4000-8000-000000000001.json"} {
			mustStatus(t, "anonymous MISP feed "+f, w.req(t, vc, "GET", "/api/v1/misp/"+f, nil, ""), 401)
		}
		return
	}
	c := newMISPClient(w.base, vc.m.key)
	c.pull(t)
	var bodies [][]byte
	for _, f := range append([]string{"manifest.json", "hashes.csv"}, mapKeys(c.manifest)...) {
		if f != "manifest.json" && f != "hashes.csv" {
			f += ".json"
		}
		_, body, _ := c.get(t, f, "")
		bodies = append(bodies, body)
	}
	all := bytes.Join(bodies, []byte("\n"))
	shown := map[string]bool{} // uuid parts of what vc may be shown
	want := map[string]bool{}
	for k := range w.expect(vc.viewer(), nil, false, "") {
		if w.release(k).TLP == cyberpact.TLPRed || w.release(k).Marks.PAP() == cyberpact.PAPRed {
			continue
		}
		want[k] = true
		id, _, _ := strings.Cut(k, "@")
		_, u, _ := strings.Cut(id, "--")
		shown[u] = true
	}
	for _, id := range w.ids {
		if _, u, _ := strings.Cut(id, "--"); !shown[u] && bytes.Contains(all, []byte(u)) {
			t.Errorf("MISP feed of %s: LEAK, names %s, which it may not see", vc.name, id)
		}
	}
	vals := c.values()
	for id, ip := range w.feedIPs {
		seen := false
		for k := range want {
			seen = seen || strings.HasPrefix(k, id+"@")
		}
		if _, got := vals[ip]; got != seen {
			t.Errorf("MISP feed of %s: indicator %s (%s) in an event %v, may see it below RED %v", vc.name, id, ip, got, seen)
		}
		if got := c.hashes[md5Hex(ip)] != nil; got != seen {
			t.Errorf("MISP feed of %s: hashes.csv has %s %v, may see it below RED %v", vc.name, ip, got, seen)
		}
		if seen != bytes.Contains(all, []byte(ip+"\"")) {
			t.Errorf("MISP feed of %s: %s named %v, may see it below RED %v", vc.name, ip, !seen, seen)
		}
	}
	for _, x := range w.versions {
		if x.typ != "campaign" {
			continue
		}
		name := w.campaignName(x)
		if got := bytes.Contains(all, []byte(strconv.Quote(name))); got != want[x.id+"@"+x.modified] {
			t.Errorf("MISP feed of %s: campaign version %q shown %v, may be shown %v", vc.name, name, got, !got)
		}
	}
	// Another member's events are not found.
	for _, other := range w.viewers {
		if other.m == nil || other.m.org.ID == vc.m.org.ID {
			continue
		}
		oc := newMISPClient(w.base, other.m.key)
		code, body, _ := oc.get(t, "manifest.json", "")
		if code != 200 {
			t.Fatalf("manifest of %s: %d", other.name, code)
		}
		var m map[string]misp.ManifestEntry
		json.Unmarshal(body, &m)
		for u := range m {
			if _, mine := c.manifest[u]; mine {
				continue
			}
			if code, _, _ := c.get(t, u+".json", ""); code != http.StatusNotFound {
				t.Errorf("%s reading %s's event %s: %d, want 404", vc.name, other.name, u, code)
			}
		}
	}
}

// campaignName is the name the seeding gave campaign version x.
func (w *world) campaignName(x seedVersion) string {
	var got string
	if o, err := w.db.ObjectVersions(context.Background(), x.id, nil); err == nil {
		for _, v := range o {
			if v.Modified == stixTime(x.modified) {
				var n struct{ Name string }
				json.Unmarshal(v.Raw, &n)
				got = n.Name
			}
		}
	}
	return got
}

// stixTime is a seeded timestamp as the store keys versions.
func stixTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return stix.NormTime(t)
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
