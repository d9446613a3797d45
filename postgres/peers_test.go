package postgres_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/cyberpact/cyberpact/storetest"
)

// TestPeers runs the peer store suite every store passes.
func TestPeers(t *testing.T) {
	requirePostgres(t)
	storetest.RunPeers(t, func(t *testing.T) storetest.PeerTestStore {
		db, err := postgres.Open(context.Background(), testURL(t), postgres.PeerKeyFile(filepath.Join(t.TempDir(), "peers.key")))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func peer(name string) *cyberpact.Peer {
	return &cyberpact.Peer{Name: name, URL: "https://hub.example/taxii2/api1/", Collection: "c1", Key: "secret-" + name,
		Direction: cyberpact.SyncPull, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}
}

// TestPeerKeyFileSharedByProcesses checks the sealing key's life across
// processes: made on first use, read by another process given a copy, and
// refused, saying why, to a process given another key or none.
func TestPeerKeyFileSharedByProcesses(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "peers.key")
	open := func(opts ...postgres.Option) *postgres.DB {
		t.Helper()
		db, err := postgres.Open(ctx, u, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	first := open(postgres.PeerKeyFile(keyFile))
	if err := first.CreatePeer(ctx, peer("london"), "cli"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("key file not made: %v", err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Errorf("key file mode %v size %d, want 0600 and 32 bytes", fi.Mode().Perm(), fi.Size())
	}
	raw, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	copyFile := filepath.Join(dir, "copy.key")
	if err := os.WriteFile(copyFile, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.key")
	if err := os.WriteFile(other, make([]byte, 32), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		opts []postgres.Option
		code string
	}{
		{"CopyOfTheKeyOpensAndSeals", []postgres.Option{postgres.PeerKeyFile(copyFile)}, ""},
		{"AnotherKeyRefused", []postgres.Option{postgres.PeerKeyFile(other)}, cyberpact.EINTERNAL},
		{"NoKeyFileRefused", nil, cyberpact.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(tc.opts...)
			p, err := db.PeerByName(ctx, "LONDON")
			if code := cyberpact.ErrorCode(err); code != tc.code {
				t.Fatalf("PeerByName: %v (code %q), want code %q", err, code, tc.code)
			}
			if err == nil && p.Key != "secret-london" {
				t.Errorf("key %q, want the one sealed by the other process", p.Key)
			}
			err = db.CreatePeer(ctx, peer("tokyo-"+tc.name), "cli")
			if code := cyberpact.ErrorCode(err); code != tc.code {
				t.Errorf("CreatePeer: %v (code %q), want code %q", err, code, tc.code)
			}
		})
	}
	// What the copy sealed, the first process opens.
	ps, err := first.Peers(ctx)
	if err != nil || len(ps) != 2 {
		t.Fatalf("Peers = %v, %v; want london and the copy's", ps, err)
	}
}

// TestSources runs the source store suite every store passes against a
// real PostgreSQL.
func TestSources(t *testing.T) {
	storetest.RunSources(t, func(t *testing.T) storetest.SourceTestStore {
		db, err := postgres.Open(context.Background(), testURL(t), postgres.PeerKeyFile(filepath.Join(t.TempDir(), "peers.key")))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

// TestCrises runs the crisis store suite every store passes against a
// real PostgreSQL.
func TestCrises(t *testing.T) {
	storetest.RunCrises(t, func(t *testing.T) storetest.CrisisTestStore {
		db, err := postgres.Open(context.Background(), testURL(t), postgres.PeerKeyFile(filepath.Join(t.TempDir(), "peers.key")))
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
