package match_test

import (
	"bufio"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact/match"
)

func TestZZLoad(t *testing.T) {
	f, err := os.Open("/tmp/bench/indicators.json")
	if err != nil {
		t.Skip()
	}
	defer f.Close()
	start := time.Now()
	ix, err := match.Build(match.BundleIndicators(bufio.NewReaderSize(f, 1<<20)), match.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("%d indicators in %s; live heap %d MB, sys %d MB, gc cpu %.2f", ix.Len(), el, ms.HeapAlloc>>20, ms.Sys>>20, ms.GCCPUFraction)
}
