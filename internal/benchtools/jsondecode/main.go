// Command jsondecode times encoding/json decoding a file into generic
// values, object by object of a bundle's "objects" array: the baseline the
// import benchmarks in BENCHMARKS.md are compared with ("how long does
// merely decoding this file take").
//
//	go run ./internal/benchtools/jsondecode FILE
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: jsondecode FILE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	start := time.Now()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	n, err := decodeBundle(dec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	d := time.Since(start)
	fmt.Printf("encoding/json decoded %d objects in %.2fs (%.0f objects/s)\n", n, d.Seconds(), float64(n)/d.Seconds())
}

// decodeBundle walks the bundle's top level with tokens and decodes each
// element of "objects" into an any, streaming as the import does.
func decodeBundle(dec *json.Decoder) (int, error) {
	if _, err := dec.Token(); err != nil { // {
		return 0, err
	}
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n, err
		}
		if tok != "objects" {
			var skip any
			if err := dec.Decode(&skip); err != nil {
				return n, err
			}
			continue
		}
		if _, err := dec.Token(); err != nil { // [
			return n, err
		}
		for dec.More() {
			var v any
			if err := dec.Decode(&v); err != nil {
				return n, err
			}
			n++
		}
		if _, err := dec.Token(); err != nil { // ]
			return n, err
		}
	}
	return n, nil
}
