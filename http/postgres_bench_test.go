package http_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/jackc/pgx/v5"
)

// pgBenchStore opens a PostgreSQL store in a fresh schema of
// CYBERPACT_TEST_POSTGRES, dropped at the end, or skips without it.
func pgBenchStore(b *testing.B) *postgres.DB {
	b.Helper()
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	if base == "" {
		b.Skip("CYBERPACT_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	var r [6]byte
	rand.Read(r[:])
	schema := "t_" + hex.EncodeToString(r[:])
	exec := func(sql string) {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	b.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// pgMember adds an organisation and an analyst of it with a key.
func pgMember(b *testing.B, db *postgres.DB, org, name string) *member {
	b.Helper()
	ctx := context.Background()
	o := &cyberpact.Org{Name: org, Nation: "GB", Sector: "government"}
	if err := db.CreateOrg(ctx, o, "test"); err != nil {
		b.Fatal(err)
	}
	u := &cyberpact.User{Name: name, Org: o.ID, Role: cyberpact.RoleAnalyst}
	if err := db.CreateUser(ctx, u, "test"); err != nil {
		b.Fatal(err)
	}
	key, _, err := db.CreateKey(ctx, u.ID, time.Time{}, "test")
	if err != nil {
		b.Fatal(err)
	}
	p, err := db.Authenticate(ctx, "", key)
	if err != nil {
		b.Fatal(err)
	}
	return &member{org: o, user: u, key: key, p: p}
}

// BenchmarkTAXIIReadCollectionPostgres is BenchmarkTAXIIReadCollection on
// the PostgreSQL store: the same generated collection, read in pages of
// 1,000 by one client, beside the store's EachObject of the same versions.
func BenchmarkTAXIIReadCollectionPostgres(b *testing.B) {
	db := pgBenchStore(b)
	ctx := context.Background()
	h := &benchHub{producer: pgMember(b, db, "Org A", "alice"), reader: pgMember(b, db, "Org B", "bob")}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(gen.Write(pw, benchN(), 1)) }()
	dec := stix.NewDecoder(pr)
	res, err := db.Import(ctx, dec.Next, cyberpact.ImportOptions{Producer: h.producer.org.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
	dec.Close()
	if err != nil {
		b.Fatal(err)
	}
	h.stored = res.Added
	b.Logf("stored %d of %d, %d rejected", res.Added, benchN(), len(res.Rejected))

	sctx, cancel := context.WithCancel(ctx)
	srv := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	b.Cleanup(func() { cancel(); <-done; db.Close() })
	h.base = "http://" + srv.Addr()
	h.objects = h.base + "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"

	client := &http.Client{}
	b.Run("TAXII", func(b *testing.B) {
		var all []time.Duration
		objs := 0
		for b.Loop() {
			n, pages := h.readAll(b, client)
			objs += n
			all = append(all, pages...)
		}
		b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64(p95(all).Microseconds())/1000, "p95-ms/page")
		b.ReportMetric(float64(objs/b.N), "objects/read")
	})
	b.Run("TAXIIPipelined", func(b *testing.B) {
		var all []time.Duration
		objs := 0
		for b.Loop() {
			n, pages := h.readAllPipelined(b, client)
			objs += n
			all = append(all, pages...)
		}
		b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64(p95(all).Microseconds())/1000, "p95-ms/page")
		b.ReportMetric(float64(objs/b.N), "objects/read")
	})
	b.Run("EachObjectBaseline", func(b *testing.B) {
		v := h.reader.p.Viewer()
		f := cyberpact.ObjectFilter{Viewer: &v, Audience: &cyberpact.Audience{Kind: cyberpact.AudienceAll}}
		objs := 0
		for b.Loop() {
			if err := db.EachObject(ctx, f, func(*cyberpact.Object) error { objs++; return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
	})
}
