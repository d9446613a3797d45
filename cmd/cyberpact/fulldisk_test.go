package main

import (
	"errors"
	"fmt"
	"io"
	"net"
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
	disk := tmpfs(t, 64)
	h := &faultHub{t: t, bin: buildCyberpact(t), vars: map[string]string{"CYBERPACT_DATA": filepath.Join(disk, "hub")}, home: t.TempDir()}
	fullDisk(t, h, filepath.Join(disk, "filler"))
}

// TestFullDiskLosesNothingPostgres is the same on PostgreSQL: a server of
// its own, started by the test as the postgres user with the machine's
// initdb, whose data directory is on a 256 MB tmpfs and whose write-ahead
// log is on another disk, as production servers often keep it. The tables
// then cannot grow (PostgreSQL's disk_full, 53100), which the hub answers
// as it does SQLite's full disk. (With the log itself on the full disk,
// PostgreSQL stops at its next log file as if it crashed: the kill tests
// cover what a crashed store keeps.)
func TestFullDiskLosesNothingPostgres(t *testing.T) {
	disk := tmpfs(t, 256)
	store := privatePostgres(t, disk)
	h := &faultHub{t: t, bin: buildCyberpact(t), vars: map[string]string{"CYBERPACT_STORE": store, "CYBERPACT_DATA": t.TempDir()}, home: t.TempDir()}
	fullDisk(t, h, filepath.Join(disk, "filler"))
}

// tmpfs mounts a tmpfs of mb megabytes for the test, which needs root.
func tmpfs(t *testing.T, mb int) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the full-disk test builds the binary and mounts a file system")
	}
	if os.Geteuid() != 0 {
		t.Skipf("not root: the full-disk test mounts a %d MB tmpfs for the data directory (it runs as root in CI)", mb)
	}
	disk, err := os.MkdirTemp("", "cyberpact-full-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%dm,mode=0755", mb), "tmpfs", disk).CombinedOutput(); err != nil {
		os.Remove(disk)
		t.Skipf("mounting a tmpfs on %s failed (%v: %s): the full-disk test needs one", disk, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			// Busy: detach it now, freed once the last user is gone.
			t.Errorf("umount %s: %v %s", disk, err, out)
			exec.Command("umount", "-l", disk).Run()
		}
		os.Remove(disk)
	})
	return disk
}

// privatePostgres starts a PostgreSQL server of the test's own, its data
// directory on disk and its write-ahead log elsewhere, listening on a free
// port of 127.0.0.1, and returns its address; it is stopped when the test
// ends. Skipped where PostgreSQL's server programs or the postgres user
// are missing.
func privatePostgres(t *testing.T, disk string) string {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/initdb: the PostgreSQL full-disk test starts a server of its own (Debian's postgresql package)")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	if _, err := exec.LookPath("runuser"); err != nil {
		t.Skip("no runuser to start PostgreSQL as the postgres user")
	}
	if err := exec.Command("id", "postgres").Run(); err != nil {
		t.Skip("no postgres user to start PostgreSQL as")
	}
	wal, err := os.MkdirTemp("", "cyberpact-wal-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(wal) })
	data := filepath.Join(disk, "pg")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "-R", "postgres", data, wal).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	as := func(args ...string) *exec.Cmd {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
	}
	if out, err := as(filepath.Join(bin, "initdb"), "-D", data, "--waldir", filepath.Join(wal, "pg_wal"), "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, wal)
	logFile := filepath.Join(wal, "log")
	if out, err := as(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", logFile, "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		if out, err := as(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Errorf("pg_ctl stop: %v %s", err, out)
		}
	})
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// fullDisk fills the disk of filler while h's server takes POSTs and an
// import runs, and checks what TestFullDiskLosesNothing says.
func fullDisk(t *testing.T, h *faultHub, filler string) {
	h.must("org", "create", "Faults", "--nation", "GB", "--sector", "other")
	key := strings.TrimSpace(h.must("user", "create", "poster", "--org", "Faults", "--role", "analyst").stdout)
	outside := t.TempDir()
	first, firstIDs, firstWord, _ := h.genBundle(t, outside, 2000, 1)
	h.must("import", "--org", "Faults", first)
	big, bigIDs, bigWord, bigID := h.genBundle(t, outside, 20000, 2)

	srv, base := h.serve(t)
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
