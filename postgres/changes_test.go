package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/postgres"
	"github.com/jackc/pgx/v5"
)

// within is how long a notification may take to arrive: generous, since
// the machine running the tests may be loaded.
const within = 10 * time.Second

func waitWake(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(within):
		t.Fatalf("no change notified within %v after %s", within, what)
	}
}

// drain empties a subscription of wake-ups already due.
func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		case <-time.After(200 * time.Millisecond):
			return
		}
	}
}

// TestChangesReachEveryProcess subscribes through one store and writes
// through another on the same schema, as two serve processes would.
func TestChangesReachEveryProcess(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	writer, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	reader, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	elsewhere := openDB(t) // another schema of the same database
	defer elsewhere.Close()

	ch, cancel := reader.Changes()
	defer cancel()
	waitListening(t, u)
	drain(ch)

	for _, tc := range []struct {
		name  string
		write func(t *testing.T)
		wake  bool
	}{
		{"ImportInAnotherProcess", func(t *testing.T) { importBundle(t, writer, tool(1)) }, true},
		{"ImportInThisProcess", func(t *testing.T) { importBundle(t, reader, tool(2)) }, true},
		{"DeleteInAnotherProcess", func(t *testing.T) {
			if _, err := writer.DeleteObject(ctx, "tool--00000001-0000-4000-8000-000000000000", cyberpact.ObjectFilter{}); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"ImportOfNothingNew", func(t *testing.T) { importBundle(t, writer, tool(2)) }, false},
		{"ImportInAnotherSchema", func(t *testing.T) { importBundle(t, elsewhere, tool(3)) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drain(ch)
			tc.write(t)
			if tc.wake {
				waitWake(t, ch, tc.name)
				return
			}
			select {
			case <-ch:
				t.Errorf("woken by a change that is not this store's")
			case <-time.After(time.Second):
			}
		})
	}

	last, err := reader.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reader.FindObjects(ctx, cyberpact.ObjectFilter{AllVersions: true})
	if err != nil || len(p.Objects) != 1 {
		t.Fatalf("FindObjects = %v, %v", p, err)
	}
	if last < p.Objects[0].Seq {
		t.Errorf("LastSeq %d is before the newest version's seq %d", last, p.Objects[0].Seq)
	}
}

// TestChangesSurviveADroppedConnection kills the listening connection on
// the server, as a restart or a network cut would, and checks that the
// subscriber is woken on reconnecting and then by changes as before.
func TestChangesSurviveADroppedConnection(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	writer, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	ch, cancel := db.Changes()
	defer cancel()
	waitListening(t, u)
	drain(ch)

	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var killed int
	if err := conn.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		postgres.ListenerName(schemaOf(t, u))).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listeners (%v), want 1", killed, err)
	}
	waitWake(t, ch, "reconnecting") // what committed meanwhile is read again
	waitListening(t, u)
	drain(ch)
	importBundle(t, writer, tool(1))
	waitWake(t, ch, "an import after reconnecting")
}

// schemaOf returns the schema the test URL's search_path names.
func schemaOf(t *testing.T, u string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.RuntimeParams["search_path"]
}

// waitListening waits until the store's listener for u's schema is
// connected and has run LISTEN.
func waitListening(t *testing.T, u string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE 'LISTEN%'`,
			postgres.ListenerName(schemaOf(t, u))).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no listener for the schema within %v", within)
}
