package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFullDiskLosesNothing is issue 15's full disk: the embedded store's
// data directory on a 64 MB tmpfs (mounted by the test, so it runs as root
// and is skipped elsewhere), filled while `cyberpact serve` takes POSTs
// and a command-line import runs. Writes that meet the full disk fail
// saying so (HTTP 507, exit 1 with "disk is full") and store nothing;
// every acknowledged one is stored; reads keep working; once space is
// freed the same writes succeed, and check and audit verify pass.
func TestFullDiskLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the full-disk test builds the binary and mounts a file system")
	}
	if os.Geteuid() != 0 {
		t.Skip("not root: the full-disk test mounts a 64 MB tmpfs for the data directory (it runs as root in CI)")
	}
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("mounting a tmpfs on %s failed (%v: %s): the full-disk test needs one", disk, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			// Busy: detach it now, freed once the last user is gone.
			t.Errorf("umount %s: %v %s", disk, err, out)
			exec.Command("umount", "-l", disk).Run()
		}
	})
	h := &faultHub{t: t, bin: buildCyberpact(t), vars: map[string]string{"CYBERPACT_DATA": filepath.Join(disk, "hub")}, home: t.TempDir()}
	h.must("org", "create", "Faults", "--nation", "GB", "--sector", "other")
	key := strings.TrimSpace(h.must("user", "create", "poster", "--org", "Faults", "--role", "analyst").stdout)
	outside := t.TempDir()
	first, firstIDs, firstWord, _ := h.genBundle(t, outside, 2000, 1)
	h.must("import", "--org", "Faults", first)
	big, bigIDs, bigWord, bigID := h.genBundle(t, outside, 20000, 2)

	srv, base := h.serve(t)
	filler := filepath.Join(disk, "filler")
	fill(t, filler, 3<<20)

	type post struct {
		n, status, added int
		via              string
		body             string
	}
	var posts []post
	full := 0
	for n := 0; full < 4 && n < 400; n++ {
		via := []string{"rest", "taxii"}[n%2]
		st, added, body := postFaultBundleBody(base, key, via, n, 200)
		posts = append(posts, post{n, st, added, via, body})
		switch {
		case st == http.StatusInsufficientStorage:
			full++
			if !strings.Contains(body, "disk is full") {
				t.Errorf("POST %d through %s on a full disk: %d %s, want it to say the disk is full", n, via, st, body)
			}
		case st != 200 && st != 202:
			t.Errorf("POST %d through %s on a filling disk: %d %s", n, via, st, body)
		}
	}
	if full == 0 {
		t.Fatal("the disk never filled")
	}
	t.Logf("%d POSTs until the disk was full (%d of them answered 507)", len(posts), full)

	r := h.run("", "import", "--org", "Faults", big)
	if r.code != 1 || !strings.Contains(r.stderr, "disk is full") {
		t.Errorf("import on a full disk: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Reads go on, through the server and from the command line.
	if st, _, body := get(base, key, "/api/v1/objects/"+firstIDs[0]); st != 200 {
		t.Errorf("GET on a full disk: %d %s", st, body)
	}
	for _, args := range [][]string{{"stats"}, {"audit", "verify"}, {"search", "--limit", "1000", firstWord}, {"get", firstIDs[0]}} {
		if r := h.run("", args...); r.code != 0 {
			t.Errorf("%s on a full disk: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if st, added, body := postFaultBundleBody(base, key, "rest", 1000, 200); st != 200 || added != 200 {
		t.Errorf("POST once space is freed: %d %s", st, body)
	}
	srv.Process.Signal(os.Interrupt)
	if err := srv.Wait(); err != nil {
		t.Errorf("serve: %v", err)
	}
	h.must("import", "--org", "Faults", big)
	if !h.searchFinds(t, bigWord, bigID) {
		t.Errorf("search %s does not find %s", bigWord, bigID)
	}

	s := h.holds(t)
	wholeOrNothing(t, s, "the first import", firstIDs, true)
	wholeOrNothing(t, s, "the import once space is freed", bigIDs, true)
	wholeOrNothing(t, s, "the POST once space is freed", faultBundleIDs(1000, 200), true)
	for _, p := range posts {
		acked := p.status == 200 || p.status == 202
		what := fmt.Sprintf("POST %d through %s (answered %d)", p.n, p.via, p.status)
		if stored := wholeOrNothing(t, s, what, faultBundleIDs(p.n, 200), acked); stored && !acked {
			t.Errorf("%s is stored", what)
		}
		if acked && p.added != 200 {
			t.Errorf("%s said %d added; 200 are stored", what, p.added)
		}
	}
}

// fill writes zeros to name until the file system is full, then gives
// back slack bytes.
func fill(t *testing.T, name string, slack int64) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for {
		_, err := f.Write(buf)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(max(fi.Size()-slack, 0)); err != nil {
		t.Fatal(err)
	}
}

// postFaultBundleBody is postFaultBundle with the answer's body.
func postFaultBundleBody(base, key, via string, n, size int) (status, added int, body string) {
	var raw []byte
	status, added, _ = postFaultBundleRaw(base, key, via, n, size, &raw)
	return status, added, string(raw)
}

// get GETs path from base as the poster.
func get(base, key, path string) (int, http.Header, string) {
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		return 0, nil, err.Error()
	}
	req.SetBasicAuth("poster", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}
