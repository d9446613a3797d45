package sensor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/sensor"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
)

// graphStore imports testdata/graph.json into a real SQLite store: shared
// with all members by org A, except the objects about T1105 (the attack
// pattern, the group's use of it, its sighting), which stay with A.
func graphStore(t *testing.T) (hubStore, cyberpact.Viewer, cyberpact.Viewer) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return fillGraph(t, db)
}

// hubStore is what the layer tests need of a store.
type hubStore interface {
	cyberpact.ObjectStore
	cyberpact.AccountService
}

// fillGraph imports testdata/graph.json into db as graphStore says.
func fillGraph(t *testing.T, db hubStore) (hubStore, cyberpact.Viewer, cyberpact.Viewer) {
	t.Helper()
	ctx := context.Background()
	a := &cyberpact.Org{Name: "A", Nation: "GB", Sector: "finance"}
	b := &cyberpact.Org{Name: "B", Nation: "GB", Sector: "finance"}
	for _, o := range []*cyberpact.Org{a, b} {
		if err := db.CreateOrg(ctx, o, "test"); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile("testdata/graph.json")
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct{ Objects []map[string]any }
	json.Unmarshal(data, &bundle)
	private := map[string]bool{
		"attack-pattern--00000006-0000-4000-8000-000000000006": true,
		"relationship--00000007-0000-4000-8000-000000000007":   true,
		"sighting--00000003-0000-4000-8000-000000000003":       true,
	}
	for _, priv := range []bool{false, true} {
		var objs []map[string]any
		for _, o := range bundle.Objects {
			if private[o["id"].(string)] == priv {
				objs = append(objs, o)
			}
		}
		raw, _ := json.Marshal(map[string]any{"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000009", "objects": objs})
		dec := stix.NewDecoder(bytes.NewReader(raw))
		au := cyberpact.Audience{Kind: cyberpact.AudienceAll}
		if priv {
			au = cyberpact.Audience{Kind: cyberpact.AudienceOrg}
		}
		res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: a.ID, Audience: au, DefaultTLP: cyberpact.TLPGreen})
		dec.Close()
		if err != nil || !res.Committed || len(res.Rejected) > 0 {
			t.Fatalf("import: %v %+v", err, res)
		}
	}
	return db, cyberpact.Viewer{Org: a.ID}, cyberpact.Viewer{Org: b.ID}
}

func TestNavigatorLayers(t *testing.T) {
	db, viewerA, viewerB := graphStore(t)
	testLayers(t, db, viewerA, viewerB)
}

// TestNavigatorLayersPostgres builds the same layers from the PostgreSQL
// store, when CYBERPACT_TEST_POSTGRES names a database.
func TestNavigatorLayersPostgres(t *testing.T) {
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	if base == "" {
		t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("t_sensor_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		conn.Close(ctx)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store, viewerA, viewerB := fillGraph(t, db)
	testLayers(t, store, viewerA, viewerB)
}

func testLayers(t *testing.T, db hubStore, viewerA, viewerB cyberpact.Viewer) {
	ctx := context.Background()
	type tech struct {
		ID    string
		Score float64
	}
	for _, c := range []struct {
		name, of string
		viewer   cyberpact.Viewer
		want     []tech
	}{
		// The group uses T1059 itself and through its campaign, T1566
		// through the campaign, T1105 (seen by A alone); its in-house
		// technique has no ATT&CK id.
		{"group", "intrusion-set--00000001-0000-4000-8000-000000000001", viewerA, []tech{{"T1059", 2}, {"T1105", 1}, {"T1566", 1}}},
		{"group-as-B", "intrusion-set--00000001-0000-4000-8000-000000000001", viewerB, []tech{{"T1059", 2}, {"T1566", 1}}},
		{"campaign", "campaign--00000001-0000-4000-8000-000000000001", viewerB, []tech{{"T1059", 1}, {"T1566", 1}}},
		{"report", "report--00000001-0000-4000-8000-000000000001", viewerB, []tech{{"T1059.001", 1}, {"T1071", 1}}},
		// Five sightings of an indicator of T1566, two of T1071 itself,
		// one of T1105 that only A sees.
		{"sighted", "", viewerA, []tech{{"T1071", 2}, {"T1105", 1}, {"T1566", 5}}},
		{"sighted-as-B", "", viewerB, []tech{{"T1071", 2}, {"T1566", 5}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := c.viewer
			l, err := sensor.BuildLayer(ctx, db, cyberpact.ObjectFilter{Viewer: &v, MaxTLP: cyberpact.TLPAmberStrict}, sensor.LayerSpec{Of: c.of, Attack: "18"})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := sensor.WriteLayer(&buf, l); err != nil {
				t.Fatal(err)
			}
			parsed, err := parseLayer(buf.Bytes())
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			var got []tech
			for _, tq := range parsed.Techniques {
				got = append(got, tech{*tq.TechniqueID, *tq.Score})
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("techniques (-want +got):\n%s", d)
			}
			golden(t, "navigator-"+c.name+".json", buf.String()) // the same from either store
		})
	}
	t.Run("NotVisible", func(t *testing.T) {
		v := viewerB
		_, err := sensor.BuildLayer(ctx, db, cyberpact.ObjectFilter{Viewer: &v}, sensor.LayerSpec{Of: "intrusion-set--00000099-0000-4000-8000-000000000099"})
		if cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
			t.Errorf("error %v, want ENOTFOUND", err)
		}
	})
	t.Run("WrongType", func(t *testing.T) {
		_, err := sensor.BuildLayer(ctx, db, cyberpact.ObjectFilter{Viewer: &viewerB}, sensor.LayerSpec{Of: "indicator--00000001-0000-4000-8000-000000000001"})
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID {
			t.Errorf("error %v, want EINVALID", err)
		}
	})
}

// TestSightedLayerEitherWay checks that the layer of sightings is the
// same whether the indicators' relationships are read one by one or in
// one pass.
func TestSightedLayerEitherWay(t *testing.T) {
	db, viewerA, viewerB := graphStore(t)
	for _, v := range []cyberpact.Viewer{viewerA, viewerB} {
		var out [2]string
		for i, many := range []int{1000, 0} {
			sensor.SetManyIndicators(many)
			l, err := sensor.BuildLayer(context.Background(), db, cyberpact.ObjectFilter{Viewer: &v}, sensor.LayerSpec{})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(l.Techniques)
			out[i] = string(b)
		}
		sensor.SetManyIndicators(1000)
		if out[0] != out[1] || !strings.Contains(out[0], "T1566") {
			t.Errorf("one by one %s, in one pass %s", out[0], out[1])
		}
	}
}
