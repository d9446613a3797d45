package taxii_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/taxii"
)

// TestClientAgainstTheHub runs every call of the client against this
// project's TAXII server over real HTTP and SQLite.
func TestClientAgainstTheHub(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cyberpact.db"))
	if err != nil {
		t.Fatal(err)
	}
	org := &cyberpact.Org{Name: "US CISA", Nation: "US", Sector: "government"}
	db.CreateOrg(ctx, org, "cli")
	u := &cyberpact.User{Name: "alice", Org: org.ID, Role: cyberpact.RoleAnalyst}
	db.CreateUser(ctx, u, "cli")
	key, _, _ := db.CreateKey(ctx, u.ID, time.Time{}, "cli")
	srv := cphttp.NewServer(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	base := "http://" + srv.Addr() + "/taxii2/"
	root := base + "api1/"
	all := cphttp.CollectionID("all")
	obj := func(n string) json.RawMessage {
		return json.RawMessage(`{"type":"indicator","spec_version":"2.1","id":"indicator--0000000` + n + `-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '198.51.100.` + n + `']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}`)
	}
	for _, tc := range []struct {
		name   string
		client *taxii.Client
	}{
		{"Basic", &taxii.Client{User: "alice", Key: key}},
		{"Bearer", &taxii.Client{Key: key}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client
			d, err := c.Discover(ctx, base)
			if err != nil || d.Default != "http://"+srv.Addr()+"/taxii2/api1/" {
				t.Fatalf("discovery %+v %v", d, err)
			}
			if a, err := c.APIRoot(ctx, root); err != nil || len(a.Versions) == 0 {
				t.Fatalf("api root %+v %v", a, err)
			}
			cs, err := c.Collections(ctx, root)
			if err != nil || len(cs) < 2 {
				t.Fatalf("collections %+v %v", cs, err)
			}
			if col, err := c.Collection(ctx, root, all); err != nil || !col.CanWrite {
				t.Fatalf("collection %+v %v", col, err)
			}
		})
	}
	c := &taxii.Client{User: "alice", Key: key}
	t.Run("AddObjectsPagedReadManifestVersionsDelete", func(t *testing.T) {
		st, err := c.AddObjects(ctx, root, all, []json.RawMessage{obj("1"), obj("2"), obj("3"), json.RawMessage(`{"type":"indicator"}`)})
		if err != nil || st.Status != "complete" || st.Success != 3 || st.Failure != 1 {
			t.Fatalf("status %+v %v", st, err)
		}
		if again, err := c.Status(ctx, root, st.ID); err != nil || again.ID != st.ID {
			t.Fatalf("status again %+v %v", again, err)
		}
		var got int
		f := taxii.Filter{Limit: 2}
		for {
			env, err := c.Objects(ctx, root, all, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(env.Objects) > 0 && (env.DateAddedFirst == "" || env.DateAddedLast == "") {
				t.Errorf("page without X-TAXII-Date-Added headers: %+v", env.Page)
			}
			got += len(env.Objects)
			if !env.More {
				break
			}
			f.Next = env.Next
		}
		if got != 3 {
			t.Errorf("paged read gave %d objects, want 3", got)
		}
		m, err := c.Manifest(ctx, root, all, taxii.Filter{Types: []string{"indicator"}})
		if err != nil || len(m.Objects) != 3 {
			t.Fatalf("manifest %+v %v", m, err)
		}
		id := m.Objects[0].ID
		if v, err := c.Versions(ctx, root, all, id, taxii.Filter{}); err != nil || len(v.Versions) != 1 {
			t.Fatalf("versions %+v %v", v, err)
		}
		if e, err := c.Object(ctx, root, all, id, taxii.Filter{}); err != nil || len(e.Objects) != 1 {
			t.Fatalf("object %+v %v", e, err)
		}
		if err := c.DeleteObject(ctx, root, all, id); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Object(ctx, root, all, id, taxii.Filter{}); taxii.StatusCode(err) != 404 {
			t.Fatalf("deleted object: %v, want 404", err)
		}
	})
	t.Run("ErrorsCarryTheServersMessage", func(t *testing.T) {
		_, err := (&taxii.Client{Key: "wrong"}).Collections(ctx, root)
		if taxii.StatusCode(err) != 401 || !strings.Contains(err.Error(), root+"collections/") {
			t.Errorf("wrong key: %v", err)
		}
		_, err = c.Objects(ctx, root, all, taxii.Filter{AddedAfter: "yesterday"})
		if taxii.StatusCode(err) != 400 || !strings.Contains(err.Error(), "added_after") {
			t.Errorf("bad added_after: %v", err)
		}
		_, err = c.Objects(ctx, "http://"+srv.Addr()+"/api/v1/", all, taxii.Filter{})
		if err == nil {
			t.Error("a URL that is no TAXII API root gave no error")
		}
		_, err = (&taxii.Client{Timeout: time.Second}).Discover(ctx, "http://127.0.0.1:1/taxii2/")
		if err == nil || taxii.StatusCode(err) != 0 || !strings.Contains(err.Error(), "127.0.0.1:1") {
			t.Errorf("unreachable: %v", err)
		}
	})
}
