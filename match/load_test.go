package match_test

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/match"
)

// TestLoadBundle builds the index from the bundle file named by
// CYBERPACT_MATCH_BUNDLE (scripts/bench-match.sh sets it) and logs the time and
// memory it took, with the garbage collector set as cyberpact match sets
// it. Without the variable it is skipped.
func TestLoadBundle(t *testing.T) {
	name := os.Getenv("CYBERPACT_MATCH_BUNDLE")
	if name == "" {
		t.Skip("CYBERPACT_MATCH_BUNDLE not set")
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	debug.SetGCPercent(50)
	defer debug.SetGCPercent(100)
	start := time.Now()
	ix, err := match.Build(match.BundleIndicators(bufio.NewReaderSize(f, 1<<20)), match.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d indicators in %.3f s; live heap %d MB after GC, sys %d MB", ix.Len(), el.Seconds(), ms.HeapAlloc>>20, ms.Sys>>20)
}
