package sqlite_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
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

// TestSecondWriterTold is issue 15's "a second writer waits or queues with
// a clear message": while another process's import holds the writer, an
// import waits for it (the busy timeout) and then fails EBUSY, saying so,
// before reading any of its input, so that its caller may begin again
// from the same input (the command line does; HTTP answers 503 with
// Retry-After).
func TestSecondWriterTold(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cyberpact.db")
	first, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	gate, started := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sent := false
		_, err := first.Import(ctx, func() (*cyberpact.Object, error) {
			if sent {
				return nil, io.EOF
			}
			close(started)
			<-gate
			sent = true
			o, err := stix.Parse([]byte(indicator(1, 1)))
			if err != nil {
				return nil, err
			}
			return o.Stored(), nil
		}, cyberpact.ImportOptions{})
		done <- err
	}()
	<-started
	read := false
	_, err = second.Import(ctx, func() (*cyberpact.Object, error) { read = true; return nil, io.EOF }, cyberpact.ImportOptions{})
	close(gate)
	if cyberpact.ErrorCode(err) != cyberpact.EBUSY || !strings.Contains(cyberpact.ErrorMessage(err), "another process is writing") {
		t.Errorf("import beside another's: %v, want EBUSY saying another process is writing", err)
	}
	if read {
		t.Error("the refused import read its input: its caller could not begin again from it")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
