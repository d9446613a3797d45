package http_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
)

// openDB opens a real SQLite store in t's temporary directory.
func openDB(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// serve runs a server over db on 127.0.0.1:0 until the test ends, after
// configure (when not nil) has set its options, and returns its base URL.
func serve(t testing.TB, db *sqlite.DB, configure func(*cphttp.Server)) (*cphttp.Server, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if configure != nil {
		configure(srv)
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		db.Close()
	})
	return srv, "http://" + srv.Addr()
}

// member is an organisation's user with a key.
type member struct {
	org  *cyberpact.Org
	user *cyberpact.User
	key  string
	p    *cyberpact.Principal
}

// mkOrg adds an organisation.
func mkOrg(t testing.TB, db *sqlite.DB, name string) *cyberpact.Org {
	t.Helper()
	o := &cyberpact.Org{Name: name, Nation: "GB", Sector: "government"}
	if err := db.CreateOrg(context.Background(), o, "test"); err != nil {
		t.Fatal(err)
	}
	return o
}

// mkGroup adds a sharing group of orgs.
func mkGroup(t testing.TB, db *sqlite.DB, name string, orgs ...*cyberpact.Org) *cyberpact.Group {
	t.Helper()
	g := &cyberpact.Group{Name: name}
	for _, o := range orgs {
		g.Orgs = append(g.Orgs, o.ID)
	}
	if err := db.CreateGroup(context.Background(), g, "test"); err != nil {
		t.Fatal(err)
	}
	return g
}

// mkMember adds a user of org with role and a key, and authenticates it
// once to learn its principal (groups included).
func mkMember(t testing.TB, db *sqlite.DB, org *cyberpact.Org, name string, role cyberpact.Role) *member {
	t.Helper()
	ctx := context.Background()
	u := &cyberpact.User{Name: name, Org: org.ID, Role: role}
	if err := db.CreateUser(ctx, u, "test"); err != nil {
		t.Fatal(err)
	}
	key, _, err := db.CreateKey(ctx, u.ID, time.Time{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.Authenticate(ctx, "", key)
	if err != nil {
		t.Fatal(err)
	}
	return &member{org: org, user: u, key: key, p: p}
}
