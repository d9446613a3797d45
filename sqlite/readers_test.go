package sqlite_test

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// TestReadersNeverWaitForAnImport is issue 15's "a long import locks
// everyone else out": while one process's import holds the store's writer
// (its objects not yet committed), another process opens the same store
// and reads (stats, search, list, audit verify) without waiting for it.
func TestReadersNeverWaitForAnImport(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	writer, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	importText(t, writer, bundleOf([]string{indicator(1, 1)}), false)

	// An import that stops half way until released.
	gate, started := make(chan struct{}), make(chan struct{})
	objs := []string{indicator(2, 2), indicator(3, 3)}
	i := 0
	done := make(chan error, 1)
	go func() {
		_, err := writer.Import(ctx, func() (*cyberpact.Object, error) {
			if i == len(objs) {
				return nil, io.EOF
			}
			if i == 1 {
				close(started)
				<-gate
			}
			o, err := stix.Parse([]byte(objs[i]))
			i++
			if err != nil {
				return nil, err
			}
			return o.Stored(), nil
		}, cyberpact.ImportOptions{})
		done <- err
	}()
	<-started

	readDone := make(chan error, 1)
	go func() {
		reader, err := sqlite.Open(ctx, path)
		if err != nil {
			readDone <- err
			return
		}
		defer reader.Close()
		if _, err := reader.Stats(ctx, &cyberpact.Viewer{Org: 5}); err != nil {
			readDone <- err
			return
		}
		if _, err := reader.FindObjects(ctx, cyberpact.ObjectFilter{Text: "198.51.100.1"}); err != nil {
			readDone <- err
			return
		}
		if _, err := reader.VerifyAudit(ctx); err != nil {
			readDone <- err
			return
		}
		readDone <- nil
	}()
	select {
	case err := <-readDone:
		if err != nil {
			t.Errorf("reading beside an import: %v", err)
		}
	case <-time.After(8 * time.Second): // the store's busy timeout is 10 s
		t.Error("opening and reading the store waited for the import's writer")
		close(gate)
		<-readDone
		<-done
		return
	}
	close(gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
