package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/web"
	"github.com/jackc/pgx/v5"
)

// pgSchemaURL returns the URL of a fresh schema of the test database,
// dropped when the test ends, or skips when CYBERPACT_TEST_POSTGRES is
// not set.
func pgSchemaURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("CYBERPACT_TEST_POSTGRES")
	if base == "" {
		t.Skip("CYBERPACT_TEST_POSTGRES is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "w_" + hex.EncodeToString(b[:])
	exec := func(sql string) {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatalf("connecting to %s: %v", base, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestSessionsSharedAcrossProcessesOnPostgres runs two hubs, as two serve
// processes would, over one PostgreSQL schema: a session made by one
// works on the other, and a user disabled through one is signed out of
// both at its next request.
func TestSessionsSharedAcrossProcessesOnPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := pgSchemaURL(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var hubs [2]*hub
	for i := range hubs {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		api := cphttp.NewServer(db, quiet)
		ui := web.New(db, api, quiet)
		api.Mount(ui, ui.Routes()...)
		srv := httptest.NewServer(api)
		t.Cleanup(srv.Close)
		hubs[i] = &hub{api: api, ui: ui, srv: srv}
		if i == 0 {
			org := &cyberpact.Org{Name: "Acme", Nation: "GB", Sector: "finance"}
			if err := db.CreateOrg(ctx, org, "cli"); err != nil {
				t.Fatal(err)
			}
			u := &cyberpact.User{Name: "alice", Org: org.ID, Role: cyberpact.RoleAnalyst}
			if err := db.CreateUser(ctx, u, "cli"); err != nil {
				t.Fatal(err)
			}
			hash, _ := web.HashPassword(password)
			if err := db.SetPassword(ctx, u.ID, hash, "cli"); err != nil {
				t.Fatal(err)
			}
		}
	}
	a := hubs[0].client(t)
	a.mustSignIn("alice")
	token := a.cookie("cyberpact_session")
	b := hubs[1].client(t)
	u, _ := url.Parse(hubs[1].srv.URL)
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: "cyberpact_session", Value: token}})
	p := b.get("/account")
	wantStatus(t, "the session on the other process", p, http.StatusOK)
	mustContain(t, "account page", p.body, "alice", "Acme")

	// An org admin's disable through the second process ends the
	// session on the first.
	db2 := hubs[1].ui.Store
	user, err := db2.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := db2.SetDisabled(ctx, user.ID, true, "cli"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "the first process after the disable", a.get("/account"), http.StatusSeeOther)
}
