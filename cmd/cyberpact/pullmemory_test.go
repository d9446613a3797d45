package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bigPage streams one TAXII page of n indicators, each padded to about
// size bytes, the one at index n/2 padded to largest bytes, without ever
// holding the page: what it writes is the body's size.
type bigPage struct {
	n, size, largest int
	written          int64
}

func (p *bigPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/objects/") || r.URL.Query().Get("added_after") != "" {
		w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
		w.Write([]byte(`{"more":false}`))
		return
	}
	w.Header().Set("Content-Type", "application/taxii+json;version=2.1")
	w.Header().Set("X-TAXII-Date-Added-Last", "2026-01-03T00:00:00.000Z")
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	write := func(s string) {
		m, _ := bw.WriteString(s)
		n += int64(m)
	}
	pad := strings.Repeat("x", p.largest)
	write(`{"more":false,"objects":[`)
	for i := 0; i < p.n; i++ {
		if i > 0 {
			write(",")
		}
		size := p.size
		if i == p.n/2 {
			size = p.largest
		}
		write(fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-0000-4000-8000-%012x","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-02T00:00:00.000Z","name":"big %d","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","pattern":"[ipv4-addr:value = '198.51.%d.%d']","object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],"description":"`,
			i, i, i, i/250%250, i%250+1))
		write(pad[:max(size-400, 1)])
		write(`"}`)
	}
	write(`]}`)
	bw.Flush()
	p.written = n
}

// pullPeak runs bin's sync of a peer serving page into a new data
// directory and returns its peak RSS in bytes (its VmHWM) and what it
// printed.
func pullPeak(t *testing.T, bin string, page *bigPage) (int64, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: page}
	go srv.Serve(ln)
	defer srv.Close()
	data := t.TempDir()
	run := func(stdin string, args ...string) *exec.Cmd {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--data", data)...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", filepath.Base(bin), args, err, out)
		}
		return cmd
	}
	run("", "org", "create", "Big Hub", "--nation", "US", "--sector", "government")
	run("k\n", "peer", "add", "big", "--url", "http://"+ln.Addr().String()+"/taxii2/api1/", "--collection", "c", "--key", "-", "--org", "Big Hub")
	cmd := exec.Command(bin, "sync", "big", "--data", data)
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	if os.Getenv("CYBERPACT_PULL_SHOW") != "" {
		cmd.Env = append(cmd.Env, "GODEBUG=gctrace=1")
	}
	var outb strings.Builder
	cmd.Stdout, cmd.Stderr = &outb, &outb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The peak is the process's own high-water mark (VmHWM), read from
	// /proc every 10 ms until it exits: it only grows, so the last read
	// misses at most the last 10 ms. (The rusage of a child is no use
	// here: on Linux its ru_maxrss starts at the RSS of the parent that
	// forked it, which in a full run of this package is the larger.)
	var hwm int64
	kinds := map[string]int64{}
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					f := strings.Fields(l)
					if len(f) != 3 || f[2] != "kB" {
						continue
					}
					kb, err := strconv.ParseInt(f[1], 10, 64)
					if err != nil {
						continue
					}
					switch {
					case f[0] == "VmHWM:":
						hwm = max(hwm, kb)
					case strings.HasPrefix(f[0], "Rss"):
						kinds[strings.TrimSuffix(f[0], ":")] = max(kinds[strings.TrimSuffix(f[0], ":")], kb)
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err = cmd.Wait()
	close(stop)
	<-polled
	out := outb.String()
	if err != nil {
		t.Fatalf("%s sync: %v\n%s", filepath.Base(bin), err, out)
	}
	if hwm == 0 {
		t.Skip("no /proc/PID/status to read the peak from (Linux only)")
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	t.Logf("%s: peak %d MB; largest resident memory by kind (KB): %v; rusage's maxrss, the parent's at the fork included: %d MB", filepath.Base(bin), hwm>>10, kinds, ru.Maxrss>>10)
	return hwm * 1024, out
}

// TestPullMemoryFollowsTheLargestObject pulls one large page from a peer
// with the real binary and measures its peak RSS: it must stay within
// twice the largest object plus a constant, whatever the page's size and
// however large its other objects (issue 15: a 510 MB page took 3.67 GB).
// By default the page is 48 MB with a largest object of 4 MB, once of
// objects of 4 KB and once of 256 KB (whose batches end at their bytes, not
// their count); CYBERPACT_PULL_PAGE_MB, CYBERPACT_PULL_LARGEST_MB and
// CYBERPACT_PULL_OBJECT_KB change them (BENCHMARKS.md, Federation: 500
// and 8), and CYBERPACT_PULL_BASELINE names another build of cyberpact to
// measure on the same page, for the same-run baseline.
func TestPullMemoryFollowsTheLargestObject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and pulls a large page")
	}
	mb := func(name string, def int) int {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				t.Fatalf("%s=%q is not a positive number", name, v)
			}
			return n
		}
		return def
	}
	pageMB, largestMB := mb("CYBERPACT_PULL_PAGE_MB", 48), mb("CYBERPACT_PULL_LARGEST_MB", 4)
	sizes := []int{4, 256}
	if os.Getenv("CYBERPACT_PULL_OBJECT_KB") != "" {
		sizes = []int{mb("CYBERPACT_PULL_OBJECT_KB", 4)}
	}
	// The constant, what the peak is made of besides the largest object:
	// the binary's code (about 24 MB resident), the Go runtime and the
	// heap of the pipeline (the decoder's batches and the import's, each
	// bounded by bytes, and the search index's chunks of 1 MiB in flight:
	// 20 to 40 MB live, which the collector's target doubles), SQLite's
	// caches (8 MiB for the writer of an import into a small store, and
	// the search index's) and statements: 90 to 100 MB with objects of 1
	// MB at most (BENCHMARKS.md, Federation, session 8: 91 MB). The
	// largest object costs more than twice its size: it is held at once
	// as its body, its description and its full-text row in the Go heap
	// (which the collector's target doubles), and as the copies SQLite
	// binds and builds its record from, about eight times its size in all
	// (140 MB with 8 MB, 204 MB with 15 MB). An object is at most 16 MiB
	// (stix.DefaultMaxObjectSize), so the six times beyond the two the
	// bound names are at most 96 MB: 256 MB holds for any largest object,
	// with some 70 MB to spare. Nothing in it grows with the page.
	const constant = 256 << 20
	for _, kb := range sizes {
		t.Run(fmt.Sprintf("objects=%dKB", kb), func(t *testing.T) {
			size := kb << 10
			page := &bigPage{n: pageMB << 20 / size, size: size, largest: largestMB << 20}
			peak, out := pullPeak(t, buildCyberpact(t), page)
			var pulled int
			if i := strings.Index(out, "big: "); i >= 0 {
				if os.Getenv("CYBERPACT_PULL_SHOW") != "" {
					t.Log(out[:i])
				}
				fmt.Sscanf(out[i:], "big: %d pulled", &pulled)
			}
			if pulled != page.n {
				t.Fatalf("pulled %d of %d objects:\n%s", pulled, page.n, out)
			}
			limit := int64(2*page.largest + constant)
			t.Logf("page %d bytes, %d objects, largest %d bytes: peak RSS %d MB (limit %d MB)", page.written, page.n, page.largest, peak>>20, limit>>20)
			if peak > limit {
				t.Errorf("peak RSS %d MB pulling a %d MB page whose largest object is %d MB: over 2x the largest object plus %d MB",
					peak>>20, page.written>>20, page.largest>>20, constant>>20)
			}
			if base := os.Getenv("CYBERPACT_PULL_BASELINE"); base != "" {
				bpeak, bout := pullPeak(t, base, page)
				t.Logf("baseline %s: peak RSS %d MB; %s", base, bpeak>>20, strings.TrimSpace(bout))
			}
		})
	}
}
