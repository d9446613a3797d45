package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// BenchmarkAuthenticate is one request's authentication: the key looked
// up with its user, organisation and groups.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	db := openDB(b)
	defer db.Close()
	o := &cyberpact.Org{Name: "Bench", Nation: "GB", Sector: "energy"}
	if err := db.CreateOrg(ctx, o, "cli"); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateGroup(ctx, &cyberpact.Group{Name: "G", Orgs: []int64{o.ID}}, "cli"); err != nil {
		b.Fatal(err)
	}
	u := &cyberpact.User{Name: "bench", Org: o.ID, Role: cyberpact.RoleReader}
	if err := db.CreateUser(ctx, u, "cli"); err != nil {
		b.Fatal(err)
	}
	key, _, err := db.CreateKey(ctx, u.ID, time.Time{}, "cli")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := db.Authenticate(ctx, "", key); err != nil {
			b.Fatal(err)
		}
	}
}
