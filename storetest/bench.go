package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
)

// BenchAuthenticate measures one request's authentication on s, empty: a
// key looked up with its user, its organisation and the organisation's
// one group.
func BenchAuthenticate(b *testing.B, s cyberpact.AccountService) {
	ctx := context.Background()
	o := &cyberpact.Org{Name: "Bench", Nation: "GB", Sector: "energy"}
	if err := s.CreateOrg(ctx, o, "cli"); err != nil {
		b.Fatal(err)
	}
	if err := s.CreateGroup(ctx, &cyberpact.Group{Name: "G", Orgs: []int64{o.ID}}, "cli"); err != nil {
		b.Fatal(err)
	}
	u := &cyberpact.User{Name: "bench", Org: o.ID, Role: cyberpact.RoleReader}
	if err := s.CreateUser(ctx, u, "cli"); err != nil {
		b.Fatal(err)
	}
	key, _, err := s.CreateKey(ctx, u.ID, time.Time{}, "cli")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Authenticate(ctx, "", key); err != nil {
			b.Fatal(err)
		}
	}
}
