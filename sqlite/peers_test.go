package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/storetest"
)

// TestPeers runs the peer store suite every store passes against real
// SQLite files.
func TestPeers(t *testing.T) {
	storetest.RunPeers(t, func(t *testing.T) storetest.PeerTestStore {
		return openDB(t, t.TempDir())
	})
}

// TestPeerKeySealed shows that a peer's key is not in the database files
// in clear, that the key file is private to the hub's user, and that the
// database without its key file cannot give the key back.
func TestPeerKeySealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openDB(t, dir)
	const secret = "cp_very-secret-peer-key-4f1d2a"
	p := &cyberpact.Peer{Name: "london", URL: "https://london.example/taxii2/api1/", Collection: "c1", User: "washington", Key: secret,
		Direction: cyberpact.SyncBoth, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}}
	if err := db.CreatePeer(ctx, p, "cli"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the peer key in clear", filepath.Base(f))
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "cyberpact-peers.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	db = openDB(t, dir)
	got, err := db.PeerByName(ctx, "london")
	if err != nil || got.Key != secret {
		t.Fatalf("after reopening: %v, key recovered %v", err, got != nil && got.Key == secret)
	}
	db.Close()
	if err := os.Remove(filepath.Join(dir, "cyberpact-peers.key")); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir)
	defer db.Close()
	if _, err := db.PeerByName(ctx, "london"); err == nil {
		t.Fatal("the key was read back without the key file")
	}
}

// TestSources runs the source store suite every store passes against real
// SQLite files.
func TestSources(t *testing.T) {
	storetest.RunSources(t, func(t *testing.T) storetest.SourceTestStore {
		return openDB(t, t.TempDir())
	})
}

// TestCrises runs the crisis store suite every store passes against real
// SQLite files.
func TestCrises(t *testing.T) {
	storetest.RunCrises(t, func(t *testing.T) storetest.CrisisTestStore {
		return openDB(t, t.TempDir())
	})
}
