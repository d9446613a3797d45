package bundle_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/bundle"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/jackc/pgx/v5"
)

// db is what a hub's store offers the test.
type db interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
	cyberpact.AuditLog
	cyberpact.PeerStore
	cyberpact.BundleStore
	Close() error
}

// engines opens a fresh store of each engine: SQLite always, PostgreSQL
// when CYBERPACT_TEST_POSTGRES is set.
var engines = []struct {
	name string
	open func(t *testing.T) db
}{
	{"SQLite", func(t *testing.T) db {
		d, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}},
	{"PostgreSQL", func(t *testing.T) db {
		base := os.Getenv("CYBERPACT_TEST_POSTGRES")
		if base == "" {
			t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connecting to %s: %v", base, err)
		}
		var b [6]byte
		rand.Read(b[:])
		schema := "t_" + hex.EncodeToString(b[:])
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		conn.Close(ctx)
		u, _ := url.Parse(base)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		d, err := postgres.Open(ctx, u.String(), postgres.PeerKeyFile(filepath.Join(t.TempDir(), "peers.key")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			d.Close()
			if conn, err := pgx.Connect(ctx, base); err == nil {
				conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
				conn.Close(ctx)
			}
		})
		return d
	}},
}

// hub is one hub of a test.
type hub struct {
	t   *testing.T
	db  db
	hub *bundle.Hub
	dir string
}

func newHub(t *testing.T, open func(*testing.T) db) *hub {
	d := open(t)
	return &hub{t: t, db: d, hub: &bundle.Hub{Store: d, Peers: d, Chains: d, Audit: d}, dir: t.TempDir()}
}

func (h *hub) org(name string) *cyberpact.Org {
	h.t.Helper()
	o := &cyberpact.Org{Name: name, Nation: "GB", Sector: "government"}
	if err := h.db.CreateOrg(context.Background(), o, "cli"); err != nil {
		h.t.Fatal(err)
	}
	return o
}

func (h *hub) group(name string, orgs ...*cyberpact.Org) *cyberpact.Group {
	h.t.Helper()
	g := &cyberpact.Group{Name: name}
	for _, o := range orgs {
		g.Orgs = append(g.Orgs, o.ID)
	}
	if err := h.db.CreateGroup(context.Background(), g, "cli"); err != nil {
		h.t.Fatal(err)
	}
	return g
}

func (h *hub) peer(name string, aud cyberpact.Audience, org int64) {
	h.t.Helper()
	p := &cyberpact.Peer{Name: name, URL: "https://" + name + ".invalid/taxii2/api1/", Collection: "offline", Key: "none",
		Direction: cyberpact.SyncPush, Audience: aud, Org: org}
	if err := h.db.CreatePeer(context.Background(), p, "cli"); err != nil {
		h.t.Fatal(err)
	}
}

// trust makes h trust other's bundle key for the peer name.
func (h *hub) trust(name string, other *hub) {
	h.t.Helper()
	pub, err := other.hub.PublicKey(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.db.TrustBundleKey(context.Background(), name, pub, "cli"); err != nil {
		h.t.Fatal(err)
	}
}

func (h *hub) publish(org *cyberpact.Org, aud cyberpact.Audience, objs ...map[string]any) {
	h.t.Helper()
	body, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--" + uuidOf(999999), "objects": objs})
	dec := stix.NewDecoder(bytes.NewReader(body))
	defer dec.Close()
	res, err := h.db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: org.ID, Audience: aud})
	if err != nil || !res.Committed {
		h.t.Fatalf("publishing: %v %v", err, res)
	}
}

// seal seals the next bundle for peer and returns its file.
func (h *hub) seal(peer string) (string, *bundle.Sealed) {
	h.t.Helper()
	out := filepath.Join(h.dir, fmt.Sprintf("%s-%d.bundle", peer, len(mustGlob(h.t, h.dir))+1))
	res, err := h.hub.Seal(context.Background(), peer, out)
	if err != nil {
		h.t.Fatal(err)
	}
	return out, res
}

func mustGlob(t *testing.T, dir string) []string {
	m, err := filepath.Glob(filepath.Join(dir, "*.bundle"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (h *hub) open(file string) (*bundle.Opened, error) {
	h.t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.hub.Open(context.Background(), data)
}

// versions counts the stored versions, by id.
func (h *hub) versions() map[string]int {
	h.t.Helper()
	out := map[string]int{}
	err := h.db.EachObject(context.Background(), cyberpact.ObjectFilter{Versions: []string{"all"}}, func(o *cyberpact.Object) error {
		out[o.ID]++
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// carried lists the ids a bundle file carries, sorted.
func carried(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Read(data)
	if err != nil {
		t.Fatal(err)
	}
	var sb struct {
		Objects []struct{ ID string } `json:"objects"`
	}
	if err := json.Unmarshal(b.STIX, &sb); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range sb.Objects {
		out = append(out, o.ID)
	}
	slices.Sort(out)
	return out
}

func uuidOf(n int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n) }

var tlpMarking = map[cyberpact.TLP]string{
	cyberpact.TLPClear:       "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
	cyberpact.TLPGreen:       "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
	cyberpact.TLPAmber:       "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
	cyberpact.TLPAmberStrict: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
	cyberpact.TLPRed:         "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}

func indicator(n int, level cyberpact.TLP) map[string]any {
	return map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": "indicator--" + uuidOf(n),
		"created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-02T00:00:00.000Z",
		"name": fmt.Sprintf("indicator %d", n), "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
		"pattern":             fmt.Sprintf("[ipv4-addr:value = '198.51.100.%d']", n%250+1),
		"object_marking_refs": []string{tlpMarking[level]},
	}
}

func id(n int) string { return "indicator--" + uuidOf(n) }

// pair is Washington and London, each trusting the other's bundle key:
// Washington's peer london stands for the sharing group five (of which
// uk is London's representative here), London's peer washington for the
// members there, its objects attributed to the organisation us.
type pair struct {
	was, lon *hub
	us       *cyberpact.Org
	five     *cyberpact.Group
	other    *cyberpact.Group
}

func newPair(t *testing.T, open func(*testing.T) db) *pair {
	was, lon := newHub(t, open), newHub(t, open)
	us, uk, fr := was.org("us"), was.org("uk"), was.org("fr")
	five := was.group("five", us, uk)
	other := was.group("other", us, fr)
	was.peer("london", cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: five.ID}, uk.ID)
	usThere := lon.org("us")
	lon.peer("washington", all(), usThere.ID)
	was.trust("london", lon)
	lon.trust("washington", was)
	return &pair{was: was, lon: lon, us: us, five: five, other: other}
}

func all() cyberpact.Audience { return cyberpact.Audience{Kind: cyberpact.AudienceAll} }
func grp(g *cyberpact.Group) cyberpact.Audience {
	return cyberpact.Audience{Kind: cyberpact.AudienceGroup, Group: g.ID}
}

// TestRoundTrip seals what Washington may send London and opens it in
// London, exactly once; later bundles carry only what was added since.
func TestRoundTrip(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			p := newPair(t, e.open)
			p.was.publish(p.us, all(), indicator(1, cyberpact.TLPGreen))
			p.was.publish(p.us, grp(p.five), indicator(2, cyberpact.TLPAmber))
			p.was.publish(p.us, grp(p.five), indicator(3, cyberpact.TLPRed))
			p.was.publish(p.us, grp(p.other), indicator(4, cyberpact.TLPGreen))
			p.was.publish(p.us, all(), indicator(5, cyberpact.TLPAmberStrict))
			p.was.publish(p.us, cyberpact.Audience{Kind: cyberpact.AudienceOrg}, indicator(6, cyberpact.TLPGreen))

			f1, s1 := p.was.seal("london")
			if want := []string{id(1), id(2)}; !slices.Equal(carried(t, f1), want) {
				t.Fatalf("bundle 1 carries %v, want %v (RED, AMBER+STRICT, another group's and an org's private objects never)", carried(t, f1), want)
			}
			if s1.Seq != 1 || s1.Objects != 2 || s1.Withheld != 4 {
				t.Errorf("seal 1: %+v", s1)
			}
			o1, err := p.lon.open(f1)
			if err != nil {
				t.Fatal(err)
			}
			// The AMBER one is kept out by London's border rule: London
			// releases what comes from Washington to all members.
			if o1.Seq != 1 || o1.Added != 1 || o1.Withheld != 1 || o1.Peer != "washington" {
				t.Errorf("open 1: %+v", o1)
			}
			if got := p.lon.versions(); len(got) != 1 || got[id(1)] != 1 {
				t.Fatalf("London holds %v", got)
			}

			// Nothing new: an empty bundle, still in the chain.
			f2, s2 := p.was.seal("london")
			if len(carried(t, f2)) != 0 || s2.Seq != 2 {
				t.Fatalf("bundle 2: %v %+v", carried(t, f2), s2)
			}
			p.was.publish(p.us, all(), indicator(7, cyberpact.TLPClear))
			f3, _ := p.was.seal("london")
			if want := []string{id(7)}; !slices.Equal(carried(t, f3), want) {
				t.Fatalf("bundle 3 carries %v, want %v", carried(t, f3), want)
			}
			for _, f := range []string{f2, f3} {
				if _, err := p.lon.open(f); err != nil {
					t.Fatal(err)
				}
			}
			if got := p.lon.versions(); len(got) != 2 || got[id(7)] != 1 {
				t.Fatalf("London holds %v", got)
			}
			// What came from Washington never goes back to it; London's
			// own goes, and opens there.
			ncsc := p.lon.org("ncsc")
			p.lon.publish(ncsc, all(), indicator(8, cyberpact.TLPGreen))
			fb, sb := p.lon.seal("washington")
			if want := []string{id(8)}; !slices.Equal(carried(t, fb), want) || sb.Withheld != 0 || sb.PeerOwn != 2 {
				t.Fatalf("London's bundle carries %v (%+v), want %v", carried(t, fb), sb, want)
			}
			if ob, err := p.was.open(fb); err != nil || ob.Added != 1 {
				t.Fatalf("Washington opening London's bundle: %+v %v", ob, err)
			}

			// A peer standing for all members gets neither the group's
			// objects nor RED ones.
			paris := newHub(t, e.open)
			p.was.peer("paris", all(), 0)
			p.was.trust("paris", paris)
			fp, _ := p.was.seal("paris")
			if want := []string{id(1), id(7)}; !slices.Equal(carried(t, fp), want) {
				t.Fatalf("paris's bundle carries %v, want %v", carried(t, fp), want)
			}
		})
	}
}

func mustKey(t *testing.T, h *hub) []byte {
	k, err := h.hub.PublicKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// refused opens file on h, wants it refused with a reason holding want
// and h's store unchanged.
func refused(t *testing.T, h *hub, file, want string) {
	t.Helper()
	before := h.versions()
	_, err := h.open(file)
	if err == nil {
		t.Fatalf("%s opened, want it refused (%s)", filepath.Base(file), want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%s refused with %q, want %q", filepath.Base(file), err, want)
	}
	if after := h.versions(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a refused bundle changed the store: %v, then %v", before, after)
	}
}

// TestRefused holds that a replay, a gap (a bundle out of order) and a
// bundle with any one byte changed are each refused with the reason,
// changing nothing, and that the right bundle still opens after.
func TestRefused(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			p := newPair(t, e.open)
			p.was.publish(p.us, all(), indicator(1, cyberpact.TLPGreen))
			f1, _ := p.was.seal("london")
			p.was.publish(p.us, all(), indicator(2, cyberpact.TLPGreen))
			f2, _ := p.was.seal("london")
			p.was.publish(p.us, all(), indicator(3, cyberpact.TLPGreen))
			f3, _ := p.was.seal("london")

			t.Run("Gap", func(t *testing.T) {
				refused(t, p.lon, f2, "gap: this is bundle 2 but the next expected is 1")
				refused(t, p.lon, f3, "gap")
			})
			if _, err := p.lon.open(f1); err != nil {
				t.Fatal(err)
			}
			t.Run("Replay", func(t *testing.T) {
				refused(t, p.lon, f1, "replay: bundle 1 from this sender was already opened")
			})
			t.Run("OutOfOrder", func(t *testing.T) {
				refused(t, p.lon, f3, "gap: this is bundle 3 but the next expected is 2")
			})
			t.Run("ChangedByte", func(t *testing.T) {
				data, err := os.ReadFile(f2)
				if err != nil {
					t.Fatal(err)
				}
				before := p.lon.versions()
				bad := filepath.Join(t.TempDir(), "changed.bundle")
				for i := range data {
					for _, flip := range []byte{0x01, 0x20} {
						changed := bytes.Clone(data)
						changed[i] ^= flip
						if _, err := p.lon.hub.Open(context.Background(), changed); err == nil {
							t.Fatalf("bundle 2 with byte %d changed (%q to %q) opened", i, data[i], changed[i])
						}
					}
				}
				changed := bytes.Clone(data)
				i := bytes.Index(changed, []byte("indicator 2"))
				changed[i+len("indicator ")] = '9'
				if err := os.WriteFile(bad, changed, 0o600); err != nil {
					t.Fatal(err)
				}
				refused(t, p.lon, bad, "the signature does not verify")
				if after := p.lon.versions(); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("changed bundles changed the store: %v, then %v", before, after)
				}
			})
			t.Run("CutShort", func(t *testing.T) {
				data, err := os.ReadFile(f2)
				if err != nil {
					t.Fatal(err)
				}
				for n := range len(data) {
					if _, err := p.lon.hub.Open(context.Background(), data[:n]); err == nil {
						t.Fatalf("bundle 2 cut to %d of %d bytes opened", n, len(data))
					}
				}
				bad := filepath.Join(t.TempDir(), "cut.bundle")
				os.WriteFile(bad, data[:len(data)-1], 0o600)
				refused(t, p.lon, bad, "it does not end with a line break (cut short?)")
			})
			// The genuine bundles still open, in order, once each.
			for _, f := range []string{f2, f3} {
				if _, err := p.lon.open(f); err != nil {
					t.Fatal(err)
				}
			}
			refused(t, p.lon, f3, "replay")
			refused(t, p.lon, f2, "replay")
			if got := p.lon.versions(); len(got) != 3 || got[id(1)] != 1 || got[id(2)] != 1 || got[id(3)] != 1 {
				t.Fatalf("London holds %v, want each of 3 versions once", got)
			}
		})
	}
}

// TestForAnotherHub holds that a bundle sealed for one hub is refused by
// another that trusts the same sender.
func TestForAnotherHub(t *testing.T) {
	open := engines[0].open
	p := newPair(t, open)
	paris := newHub(t, open)
	paris.peer("washington", cyberpact.Audience{Kind: cyberpact.AudienceOrg}, paris.org("us").ID)
	paris.trust("washington", p.was)
	p.was.publish(p.us, all(), indicator(1, cyberpact.TLPGreen))
	f, _ := p.was.seal("london")
	refused(t, paris, f, "it was sealed for the hub with key")
}

// TestNoKeyNoSeal holds that a peer without a trusted key gets no bundle
// and no file is left.
func TestNoKeyNoSeal(t *testing.T) {
	h := newHub(t, engines[0].open)
	h.peer("lagos", all(), 0)
	out := filepath.Join(h.dir, "x.bundle")
	_, err := h.hub.Seal(context.Background(), "lagos", out)
	if cyberpact.ErrorCode(err) != cyberpact.EINVALID || !strings.Contains(err.Error(), "no bundle key") {
		t.Fatalf("seal without a key: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a file was left: %v", err)
	}
}

// TestOpenedOnceAtATime opens the same bundle from several goroutines at
// once: exactly one open succeeds, the others are refused, and every
// version is stored once.
func TestOpenedOnceAtATime(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			p := newPair(t, e.open)
			p.was.publish(p.us, all(), indicator(1, cyberpact.TLPGreen), indicator(2, cyberpact.TLPClear))
			f, _ := p.was.seal("london")
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			const n = 4
			errs := make(chan error, n)
			for range n {
				go func() {
					_, err := p.lon.hub.Open(context.Background(), data)
					errs <- err
				}()
			}
			ok := 0
			for range n {
				if err := <-errs; err == nil {
					ok++
				} else if c := cyberpact.ErrorCode(err); c != cyberpact.ECONFLICT {
					t.Errorf("a concurrent open failed with %s, not ECONFLICT: %v", c, err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent opens succeeded, want 1", ok, n)
			}
			if got := p.lon.versions(); len(got) != 2 || got[id(1)] != 1 || got[id(2)] != 1 {
				t.Fatalf("London holds %v, want each version once", got)
			}
			c, err := p.lon.db.BundleChain(context.Background(), mustPeer(t, p.lon, "washington"))
			if err != nil {
				t.Fatal(err)
			}
			if c.OpenedSeq != 1 {
				t.Fatalf("opened chain at %d, want 1", c.OpenedSeq)
			}
		})
	}
}

func mustPeer(t *testing.T, h *hub, name string) int64 {
	t.Helper()
	pr, err := h.db.PeerByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return pr.ID
}

// TestNeverEchoed holds that what a bundle brought from a peer, recorded
// with its provenance, is never sealed back for that peer, even when no
// organisation stands for it.
func TestNeverEchoed(t *testing.T) {
	open := engines[0].open
	was, lon := newHub(t, open), newHub(t, open)
	us := was.org("us")
	was.peer("london", all(), 0)
	lon.peer("washington", all(), 0)
	was.trust("london", lon)
	lon.trust("washington", was)
	was.publish(us, all(), indicator(1, cyberpact.TLPGreen))
	f, _ := was.seal("london")
	if _, err := lon.open(f); err != nil {
		t.Fatal(err)
	}
	back, s := lon.seal("washington")
	if got := carried(t, back); len(got) != 0 || s.Echo != 1 {
		t.Fatalf("London seals back %v (%+v), want nothing, one echo held", got, s)
	}
}
