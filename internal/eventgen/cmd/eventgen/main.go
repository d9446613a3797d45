// Command eventgen writes the generated indicator bundle, events and
// values files that scripts/bench-match.sh measures with:
//
//	eventgen -indicators 1000000 -events 2000000 -dir /tmp/x
//
// It writes indicators.json, events.jsonl and values.txt into the
// directory.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cyberpact/cyberpact/internal/eventgen"
)

func main() {
	var cfg eventgen.Config
	flag.IntVar(&cfg.Indicators, "indicators", 1_000_000, "indicators to generate")
	flag.IntVar(&cfg.Events, "events", 2_000_000, "event lines to generate")
	flag.Float64Var(&cfg.HitRate, "hit-rate", 0.01, "share of events naming an indicator")
	seed := flag.Uint64("seed", 1, "seed")
	flag.BoolVar(&cfg.Variants, "variants", false, "write hit values in other forms (grep -F then misses them)")
	dir := flag.String("dir", ".", "output directory")
	flag.Parse()
	cfg.Seed = *seed
	write := func(name string, f func(*os.File) error) {
		out, err := os.Create(filepath.Join(*dir, name))
		if err == nil {
			err = f(out)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "eventgen:", err)
			os.Exit(1)
		}
	}
	write("indicators.json", func(f *os.File) error { return eventgen.WriteIndicators(f, cfg) })
	write("values.txt", func(f *os.File) error { return eventgen.WriteValues(f, cfg) })
	write("events.jsonl", func(f *os.File) error { return eventgen.WriteEvents(f, cfg, nil) })
}
