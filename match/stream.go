package match

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Format is the layout of an event stream.
type Format uint8

// The event formats.
const (
	JSONLines Format = iota // one JSON object a line, ECS field names nested or dotted
	Zeek                    // Zeek TSV logs, columns named by their #fields header
	CSV                     // comma-separated values, columns named by the first line
)

// ParseFormat returns the format named s: jsonl (or json, ndjson), zeek or
// csv.
func ParseFormat(s string) (Format, bool) {
	switch s {
	case "jsonl", "json", "ndjson", "ecs":
		return JSONLines, true
	case "zeek", "tsv":
		return Zeek, true
	case "csv":
		return CSV, true
	}
	return 0, false
}

// DefaultMaxLine is the longest event line read; longer lines are counted
// as broken and skipped.
const DefaultMaxLine = 1 << 20

// StreamOptions tunes Stream.
type StreamOptions struct {
	Format Format
	// Fields are the fields to extract; nil means the format's defaults
	// (ECSFields, ZeekFields, CSVFields).
	Fields *Fields
	// Subdomains makes a domain indicator match its subdomains.
	Subdomains bool
	// SkipWarninglisted drops hits on warning-listed values instead of
	// flagging them.
	SkipWarninglisted bool
	// MinScore drops hits of indicators whose decayed score is below it.
	MinScore int
	// Decay is the decay curve of scores; the zero value means
	// DefaultDecay.
	Decay Decay
	// Warnings are the warning lists; nil means DefaultWarnings().
	Warnings *Warnings
	// Now gives the time scores and expiry are judged at; nil means
	// time.Now.
	Now func() time.Time
	// Workers is how many goroutines match; 0 means GOMAXPROCS.
	Workers int
	// MaxLine bounds a line; 0 means DefaultMaxLine.
	MaxLine int
	// Name, when set, is written into every alert as "file".
	Name string
}

// BrokenLine is a line that could not be read as an event.
type BrokenLine struct {
	Line   int
	Reason string
}

// MaxListedBroken is how many broken lines a Summary lists.
const MaxListedBroken = 20

// Summary counts what a Stream did.
type Summary struct {
	Lines  int64 // lines read, blank and header lines included
	Events int64 // lines read as events
	Hits   int64 // events with at least one alert
	Alerts int64 // alerts written
	Broken int64 // lines skipped as broken
	// BrokenLines lists the first MaxListedBroken broken lines.
	BrokenLines []BrokenLine
	Bytes       int64
}

// Add adds the counts of o to s, listing o's broken lines after s's.
func (s *Summary) Add(o Summary) {
	s.Lines += o.Lines
	s.Events += o.Events
	s.Hits += o.Hits
	s.Alerts += o.Alerts
	s.Broken += o.Broken
	s.Bytes += o.Bytes
	for _, b := range o.BrokenLines {
		if len(s.BrokenLines) < MaxListedBroken {
			s.BrokenLines = append(s.BrokenLines, b)
		}
	}
}

// chunk is a block of whole lines handed to a worker.
type chunk struct {
	data      []byte
	startLine int
	header    *header // Zeek and CSV column names in force
	oversized bool    // data is empty: one line too long to read
	res       chan *result
	buf       *[]byte // to give back to the pool
}

// header maps the columns of a Zeek or CSV stream to fields.
type header struct {
	names    [][]byte
	colField []int32 // field index per column, -1 for none
	sep      byte
	host     int // Zeek http.log: columns joined into a URL, or -1
	uri      int
	err      string // why data lines cannot be read, if they cannot
}

// Stream reads events from r, matches them against the index m holds (the
// current one, loaded for each block of lines, so patches apply as the
// stream goes), and writes one JSON alert a line to w, in input order. It
// returns when r is exhausted or ctx is done, with the counts; the error
// is a failure to read r or to write w, never a broken line, which is
// counted and skipped.
func Stream(ctx context.Context, m *Matcher, r io.Reader, w io.Writer, opt StreamOptions) (Summary, error) {
	if opt.Fields == nil {
		switch opt.Format {
		case Zeek:
			opt.Fields = ZeekFields()
		case CSV:
			opt.Fields = CSVFields()
		default:
			opt.Fields = ECSFields()
		}
	}
	if opt.Decay.HalfLife == nil && opt.Decay.Default == 0 {
		opt.Decay = DefaultDecay
	}
	if opt.Warnings == nil {
		opt.Warnings = DefaultWarnings()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = DefaultMaxLine
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	chunkSize := 1 << 20
	pool := &sync.Pool{New: func() any { b := make([]byte, 0, chunkSize+opt.MaxLine+1); return &b }}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *chunk, workers*2)
	ordered := make(chan *chunk, workers*4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := newWorker(m, &opt)
			for c := range jobs {
				c.res <- wk.chunk(c)
			}
		}()
	}
	var readErr error
	var lines int64
	go func() {
		defer close(ordered)
		defer close(jobs)
		rd := &chunker{r: r, opt: &opt, pool: pool, chunkSize: chunkSize, line: 1}
		for {
			c, err := rd.next()
			if c != nil {
				c.res = make(chan *result, 1)
				select {
				case jobs <- c:
				case <-ctx.Done():
					return
				}
				select {
				case ordered <- c:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				lines = int64(rd.line - 1)
				return
			}
		}
	}()

	var sum Summary
	corr := newCorrelator()
	var writeErr error
	for c := range ordered {
		res := <-c.res
		if writeErr == nil {
			writeErr = corr.write(w, res, &opt)
		}
		sum.Add(res.sum)
		if c.buf != nil {
			pool.Put(c.buf)
		}
		if writeErr != nil {
			cancel()
		}
	}
	wg.Wait()
	sum.Lines = lines
	if writeErr != nil {
		return sum, fmt.Errorf("write alerts: %w", writeErr)
	}
	if readErr != nil {
		return sum, readErr
	}
	return sum, ctx.Err()
}

// chunker cuts the input into blocks of whole lines, keeps track of line
// numbers, and reads Zeek and CSV headers in order.
type chunker struct {
	r         io.Reader
	opt       *StreamOptions
	pool      *sync.Pool
	chunkSize int
	carry     []byte
	line      int // number of the next line
	skipping  bool
	eof       bool
	hdr       *header
	csvSeen   bool
	queue     []*chunk
}

func (c *chunker) next() (*chunk, error) {
	for {
		if len(c.queue) > 0 {
			ch := c.queue[0]
			c.queue = c.queue[1:]
			return ch, nil
		}
		if c.eof {
			return nil, io.EOF
		}
		bp := c.pool.Get().(*[]byte)
		buf := append((*bp)[:0], c.carry...)
		c.carry = c.carry[:0]
		var err error
		for len(buf) < c.chunkSize && err == nil {
			var n int
			n, err = c.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		if err == io.EOF {
			c.eof = true
		}
		if c.skipping {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				c.pool.Put(bp)
				continue
			}
			buf = buf[:copy(buf, buf[i+1:])]
			c.skipping = false
			c.line++
		}
		cut := bytes.LastIndexByte(buf, '\n')
		var rest []byte
		switch {
		case c.eof:
		case cut >= 0:
			rest = buf[cut+1:]
			buf = buf[:cut+1]
		default:
			rest, buf = buf, buf[:0]
		}
		if !c.eof && len(rest) > c.opt.MaxLine {
			// The last line is already too long: report it once and
			// skip to its end.
			c.add(bp, buf)
			c.queue = append(c.queue, &chunk{startLine: c.line, oversized: true})
			c.skipping = true
			continue
		}
		c.carry = append(c.carry, rest...)
		if len(buf) == 0 {
			c.pool.Put(bp)
			continue
		}
		c.add(bp, buf)
	}
}

// add queues the lines in buf, splitting off header lines.
func (c *chunker) add(bp *[]byte, buf []byte) {
	if len(buf) == 0 {
		return
	}
	switch c.opt.Format {
	case CSV:
		if !c.csvSeen {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				i = len(buf) - 1
			}
			c.csvSeen = true
			c.hdr = c.csvHeader(bytes.TrimRight(buf[:i+1], "\r\n"))
			c.queue = append(c.queue, &chunk{data: nil, startLine: c.line})
			c.line++
			buf = buf[i+1:]
		}
	case Zeek:
		if buf[0] == '#' || bytes.Contains(buf, []byte("\n#")) {
			c.zeekLines(buf)
			return
		}
	}
	ch := &chunk{data: buf, startLine: c.line, header: c.hdr, buf: bp}
	c.line += bytes.Count(buf, []byte{'\n'})
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		c.line++
	}
	c.queue = append(c.queue, ch)
}

// zeekLines splits a block holding Zeek header lines into runs of data
// lines, each with the header in force.
func (c *chunker) zeekLines(buf []byte) {
	start := 0
	startLine := c.line
	flush := func(end int) {
		if end > start {
			data := append([]byte(nil), buf[start:end]...)
			c.queue = append(c.queue, &chunk{data: data, startLine: startLine, header: c.hdr})
		}
	}
	for i := 0; i < len(buf); {
		j := bytes.IndexByte(buf[i:], '\n')
		end := len(buf)
		if j >= 0 {
			end = i + j + 1
		}
		if buf[i] == '#' {
			flush(i)
			c.zeekHeader(bytes.TrimRight(buf[i:end], "\r\n"))
			start = end
			startLine = c.line + 1
			c.queue = append(c.queue, &chunk{startLine: c.line})
		}
		c.line++
		i = end
	}
	flush(len(buf))
}

func (c *chunker) zeekHeader(line []byte) {
	sep := byte('\t')
	if c.hdr != nil {
		sep = c.hdr.sep
	}
	switch {
	case bytes.HasPrefix(line, []byte("#separator ")):
		v := string(bytes.TrimSpace(line[len("#separator "):]))
		if s, err := strconv.Unquote(`"` + v + `"`); err == nil && len(s) == 1 {
			sep = s[0]
		}
		c.hdr = &header{sep: sep, err: "no #fields header before this line", host: -1, uri: -1}
	case bytes.HasPrefix(line, []byte("#fields")):
		names := splitSep(line, sep, nil)[1:]
		h := &header{sep: sep, host: -1, uri: -1}
		h.setColumns(names, c.opt.Fields)
		for i, n := range h.names {
			switch string(n) {
			case "host":
				h.host = i
			case "uri":
				h.uri = i
			}
		}
		if h.host < 0 || h.uri < 0 {
			h.host, h.uri = -1, -1
		}
		c.hdr = h
	}
}

func (h *header) setColumns(names [][]byte, f *Fields) {
	h.names = make([][]byte, len(names))
	h.colField = make([]int32, len(names))
	for i, n := range names {
		h.names[i] = bytes.Clone(bytes.TrimSpace(n))
		h.colField[i] = -1
		if x, ok := f.byName[string(h.names[i])]; ok {
			h.colField[i] = int32(x)
		}
	}
}

func (c *chunker) csvHeader(line []byte) *header {
	names, _, err := splitCSV(line, nil, make([]byte, 0, len(line)))
	h := &header{sep: ',', host: -1, uri: -1}
	if err != nil {
		h.err = "the CSV header line is broken: " + err.Error()
		return h
	}
	h.setColumns(names, c.opt.Fields)
	return h
}
