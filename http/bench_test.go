package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	cphttp "github.com/cyberpact/cyberpact/http"
	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/sqlite"
	"github.com/cyberpact/cyberpact/stix"
)

// benchN is the size of the benchmarks' collection: CYBERPACT_BENCH_OBJECTS,
// default 100,000 (the figures in BENCHMARKS.md use 1,000,000).
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_OBJECTS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// benchHub is a server over a store holding n generated objects produced
// by organisation A for all members, and a member of B who reads them (so
// every page is a release, audited).
type benchHub struct {
	db       *sqlite.DB
	srv      *cphttp.Server
	base     string
	producer *member
	reader   *member
	objects  string // the all-members collection's objects URL
	stored   int
}

func newBenchHub(b *testing.B, n int) *benchHub {
	b.Helper()
	db := openDB(b)
	orgA, orgB := mkOrg(b, db, "Org A"), mkOrg(b, db, "Org B")
	h := &benchHub{db: db, producer: mkMember(b, db, orgA, "alice", cyberpact.RoleAnalyst), reader: mkMember(b, db, orgB, "bob", cyberpact.RoleAnalyst)}
	if n > 0 {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(gen.Write(pw, n, 1)) }()
		dec := stix.NewDecoder(pr)
		// Partial: the generator's TLP:RED objects may not go to all members.
		res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: orgA.ID, Audience: cyberpact.Audience{Kind: cyberpact.AudienceAll}, Partial: true})
		dec.Close()
		if err != nil {
			b.Fatal(err)
		}
		h.stored = res.Added
		b.Logf("stored %d of %d, %d rejected", res.Added, n, len(res.Rejected))
		if len(res.Rejected) > 0 {
			b.Log(res.Rejected[0])
		}
	}
	h.srv, h.base = serve(b, db, func(s *cphttp.Server) { s.TAXIIMaxBodyBytes = 1 << 30 })
	h.objects = h.base + "/taxii2/api1/collections/" + cphttp.CollectionID("all") + "/objects/"
	return h
}

func (h *benchHub) get(client *http.Client, m *member, u string) (envelopeAnswer, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth(m.user.Name, m.key)
	req.Header.Set("Accept", taxiiType)
	resp, err := client.Do(req)
	if err != nil {
		return envelopeAnswer{}, err
	}
	defer resp.Body.Close()
	var e struct {
		More    bool              `json:"more"`
		Next    string            `json:"next"`
		Objects []json.RawMessage `json:"objects"`
	}
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		return envelopeAnswer{}, fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		return envelopeAnswer{}, err
	}
	out := envelopeAnswer{More: e.More, Next: e.Next, Objects: make([]map[string]any, len(e.Objects))}
	return out, nil
}

// readAll pages through the collection with limit 1000 and returns the
// objects read and each page's latency.
func (h *benchHub) readAll(b *testing.B, client *http.Client) (int, []time.Duration) {
	var pages []time.Duration
	n := 0
	u := h.objects + "?limit=1000"
	for {
		start := time.Now()
		e, err := h.get(client, h.reader, u)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, time.Since(start))
		n += len(e.Objects)
		if !e.More {
			return n, pages
		}
		u = h.objects + "?limit=1000&next=" + url.QueryEscape(e.Next)
	}
}

// pageStream is one page of the collection as a streaming client takes
// it: the envelope's objects split by the project's STIX reader
// (stix.NewEnvelopeReader, as a federation pull reads a peer's pages,
// without the full JSON check a client that parses each object makes),
// with the envelope's more and next known as soon as they are read, which
// this server writes before the objects.
type pageStream struct {
	resp  *http.Response
	rd    *stix.Reader
	first stix.Item
	err   error // of the first Next: io.EOF for an empty page
	more  bool
	next  string
}

// open sends the request for u and reads the envelope up to its first
// object.
func (h *benchHub) open(client *http.Client, m *member, u string) (*pageStream, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.SetBasicAuth(m.user.Name, m.key)
	req.Header.Set("Accept", taxiiType)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
	}
	ps := &pageStream{resp: resp, rd: stix.NewEnvelopeReader(resp.Body)}
	// A client that hands the objects on splits them, as the reader
	// does without its full JSON check (it still checks brackets and
	// strings); one that parses each object checks it then.
	ps.rd.SkipJSONCheck = true
	ps.first, ps.err = ps.rd.Next()
	if ps.err != nil && ps.err != io.EOF {
		resp.Body.Close()
		return nil, ps.err
	}
	ps.more = string(ps.rd.Property("more")) == "true"
	if raw := ps.rd.Property("next"); raw != nil {
		if err := json.Unmarshal(raw, &ps.next); err != nil {
			resp.Body.Close()
			return nil, err
		}
	}
	return ps, nil
}

// drain reads the rest of the page's objects, handing each to use, and
// returns how many the page held.
func (ps *pageStream) drain(use func([]byte)) (int, error) {
	defer ps.resp.Body.Close()
	if ps.err == io.EOF {
		return 0, nil
	}
	n := 0
	for it, err := ps.first, error(nil); ; it, err = ps.rd.Next() {
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		use(it.Raw)
		n++
	}
}

// readAllPipelined pages through the collection with limit 1000 as a
// streaming client: it splits each page's objects with the STIX reader
// and asks for the next page as soon as the envelope's next has been
// read, while it still reads the objects of the current one, so the
// server reads a page while the client takes the one before. It returns
// the objects read and each page's latency (from its request to its last
// object).
func (h *benchHub) readAllPipelined(b *testing.B, client *http.Client) (int, []time.Duration) {
	type opened struct {
		ps    *pageStream
		start time.Time
		err   error
	}
	get := func(u string) chan opened {
		c := make(chan opened, 1)
		go func() {
			start := time.Now()
			ps, err := h.open(client, h.reader, u)
			c <- opened{ps, start, err}
		}()
		return c
	}
	var pages []time.Duration
	n := 0
	pending := get(h.objects + "?limit=1000")
	for pending != nil {
		o := <-pending
		if o.err != nil {
			b.Fatal(o.err)
		}
		pending = nil
		if o.ps.more {
			pending = get(h.objects + "?limit=1000&next=" + url.QueryEscape(o.ps.next))
		}
		got, err := o.ps.drain(func([]byte) {})
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, time.Since(o.start))
		n += got
	}
	return n, pages
}

// readAllRaw pages through the collection with limit 1000 as a client
// that spools pages: it reads each envelope's more and next and passes
// the rest of the page on unsplit (here to io.Discard), so that nearly
// all the CPU it costs is the server's and HTTP's. It returns the objects
// the server said it sent (the length of each page but the last: the
// limit).
func (h *benchHub) readAllRaw(b *testing.B, client *http.Client) int {
	n := 0
	u := h.objects + "?limit=1000"
	for {
		ps, err := h.open(client, h.reader, u)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, ps.resp.Body)
		ps.resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if !ps.more {
			// The last page's objects are counted by splitting it.
			return n + h.lastPage(b, client, u)
		}
		n += 1000
		u = h.objects + "?limit=1000&next=" + url.QueryEscape(ps.next)
	}
}

// lastPage counts the objects of the page at u.
func (h *benchHub) lastPage(b *testing.B, client *http.Client, u string) int {
	ps, err := h.open(client, h.reader, u)
	if err != nil {
		b.Fatal(err)
	}
	n, err := ps.drain(func([]byte) {})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func p95(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)*95/100]
}

// BenchmarkTAXIIReadCollection reads the whole collection in pages of
// 1,000 as one client, beside the store's plain export (EachObject) of the
// same versions with the same viewer and audience. TAXII is a client that
// decodes each page whole with encoding/json before it asks for the next;
// TAXIIPipelined a streaming client (readAllPipelined) that splits the
// objects with the STIX reader and asks for the next page while it reads
// the current one.
func BenchmarkTAXIIReadCollection(b *testing.B) {
	h := newBenchHub(b, benchN())
	client := &http.Client{}
	b.Run("TAXII", func(b *testing.B) {
		var all []time.Duration
		objs := 0
		for b.Loop() {
			n, pages := h.readAll(b, client)
			objs += n
			all = append(all, pages...)
		}
		b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64(p95(all).Microseconds())/1000, "p95-ms/page")
		b.ReportMetric(float64(objs/b.N), "objects/read")
	})
	b.Run("TAXIIPipelined", func(b *testing.B) {
		var all []time.Duration
		objs := 0
		for b.Loop() {
			n, pages := h.readAllPipelined(b, client)
			objs += n
			all = append(all, pages...)
		}
		b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
		b.ReportMetric(float64(p95(all).Microseconds())/1000, "p95-ms/page")
		b.ReportMetric(float64(objs/b.N), "objects/read")
	})
	b.Run("EachObjectBaseline", func(b *testing.B) {
		v := h.reader.p.Viewer()
		f := cyberpact.ObjectFilter{Viewer: &v, Audience: &cyberpact.Audience{Kind: cyberpact.AudienceAll}}
		objs := 0
		for b.Loop() {
			err := h.db.EachObject(context.Background(), f, func(o *cyberpact.Object) error { objs++; return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(objs)/b.Elapsed().Seconds(), "objects/s")
	})
	// On a machine shared with other work the load moves between the
	// sub-benchmarks above: Alternated reads the collection with the store
	// and the clients in turn, CYBERPACT_BENCH_ROUNDS times (default 0:
	// not run), and reports each client's rate over the store's in the
	// same round (the store reads before and after the clients), the
	// worst and the best round. Beside the two clients
	// above, a raw client (readAllRaw) passes the pages on unsplit, so its
	// CPU is nearly all the server's. Each client reads with the server's
	// read-ahead and without it (which first alternates from round to
	// round); the metrics are of the reads with it.
	rounds, _ := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_ROUNDS"))
	if rounds <= 0 {
		return
	}
	b.Run("Alternated", func(b *testing.B) {
		v := h.reader.p.Viewer()
		f := cyberpact.ObjectFilter{Viewer: &v, Audience: &cyberpact.Audience{Kind: cyberpact.AudienceAll}}
		// rate returns the objects read a second of wall time and a
		// second of this process's CPU time (server and client alike are
		// in it): the second moves less with the other work of a shared
		// machine.
		rate := func(read func() int) (wall, cpu float64) {
			start, cpu0 := time.Now(), processCPU()
			n := read()
			return float64(n) / time.Since(start).Seconds(), float64(n) / (processCPU() - cpu0).Seconds()
		}
		for b.Loop() {
			var piped, whole, pipedCPU, wholeCPU, rawCPU []float64
			storeRead := func() (wall, cpu float64) {
				return rate(func() int {
					n := 0
					if err := h.db.EachObject(context.Background(), f, func(*cyberpact.Object) error { n++; return nil }); err != nil {
						b.Fatal(err)
					}
					return n
				})
			}
			// The store reads before and after the clients of a round,
			// and the clients are compared with the two reads' rate
			// together (the harmonic mean: the same objects, read twice),
			// so that a load that rises or falls during the round moves
			// the clients and their baseline alike.
			both := func(x, y float64) float64 { return 2 / (1/x + 1/y) }
			for r := range rounds {
				storeBefore, storeCPUBefore := storeRead()
				// Each client with the server's read-ahead (readahead.go)
				// and then without, in the same round.
				type reading struct {
					p, pc, w, wc, rw, rc float64
					pp95, wp95           time.Duration
				}
				read := func() (x reading) {
					var pp, wp []time.Duration
					x.p, x.pc = rate(func() int { n, pages := h.readAllPipelined(b, client); pp = pages; return n })
					x.w, x.wc = rate(func() int { n, pages := h.readAll(b, client); wp = pages; return n })
					x.rw, x.rc = rate(func() int { return h.readAllRaw(b, client) })
					x.pp95, x.wp95 = p95(pp), p95(wp)
					return x
				}
				// Which goes first alternates from round to round.
				var on, off reading
				readOn := func() {
					served := cphttp.ReadAheadCount(h.srv, "served")
					on = read()
					b.Logf("round %d: pages read ahead: %d served, %d changed, %d dropped so far", r+1,
						cphttp.ReadAheadCount(h.srv, "served")-served, cphttp.ReadAheadCount(h.srv, "changed"), cphttp.ReadAheadCount(h.srv, "dropped"))
				}
				readOff := func() {
					cphttp.SetReadAhead(h.srv, false)
					off = read()
					cphttp.SetReadAhead(h.srv, true)
				}
				if r%2 == 0 {
					readOn()
					readOff()
				} else {
					readOff()
					readOn()
				}
				storeAfter, storeCPUAfter := storeRead()
				store, storeCPU := both(storeBefore, storeAfter), both(storeCPUBefore, storeCPUAfter)
				b.Logf("round %d: store %.0f objects/s before the clients and %.0f after (%.0f and %.0f objects/CPU-s)", r+1, storeBefore, storeAfter, storeCPUBefore, storeCPUAfter)
				for _, x := range []struct {
					name string
					reading
				}{{"read-ahead", on}, {"no read-ahead", off}} {
					b.Logf("round %d, %s: wall: store %.0f objects/s, pipelined client %.0f (%.2f, p95 %.1f ms a page), whole-page client %.0f (%.2f, p95 %.1f ms), raw client %.0f (%.2f); CPU: store %.0f objects/CPU-s, pipelined %.0f (%.2f), whole-page %.0f (%.2f), raw %.0f (%.2f)",
						r+1, x.name, store, x.p, x.p/store, float64(x.pp95.Microseconds())/1000, x.w, x.w/store, float64(x.wp95.Microseconds())/1000, x.rw, x.rw/store,
						storeCPU, x.pc, x.pc/storeCPU, x.wc, x.wc/storeCPU, x.rc, x.rc/storeCPU)
				}
				p, pc, w, wc, rc := on.p, on.pc, on.w, on.wc, on.rc
				piped, whole = append(piped, p/store), append(whole, w/store)
				pipedCPU, wholeCPU, rawCPU = append(pipedCPU, pc/storeCPU), append(wholeCPU, wc/storeCPU), append(rawCPU, rc/storeCPU)
			}
			b.ReportMetric(slices.Min(piped), "pipelined/store-min")
			b.ReportMetric(slices.Max(piped), "pipelined/store-max")
			b.ReportMetric(slices.Min(whole), "whole/store-min")
			b.ReportMetric(slices.Max(whole), "whole/store-max")
			b.ReportMetric(slices.Min(pipedCPU), "pipelined/store-cpu-min")
			b.ReportMetric(slices.Min(wholeCPU), "whole/store-cpu-min")
			b.ReportMetric(slices.Min(rawCPU), "raw/store-cpu-min")
		}
	})
}

// BenchmarkTAXIIConcurrentClients runs 64 clients paging through the
// collection from spread-out places for CYBERPACT_BENCH_SECONDS (default 5;
// 30 for BENCHMARKS.md) and fails on any error; beside it, the same 64
// readers paging the store directly with the same viewer and collection.
func BenchmarkTAXIIConcurrentClients(b *testing.B) {
	h := newBenchHub(b, benchN())
	secs, _ := strconv.Atoi(os.Getenv("CYBERPACT_BENCH_SECONDS"))
	if secs <= 0 {
		secs = 5
	}
	b.Run("TAXII", func(b *testing.B) {
		for b.Loop() {
			concurrentPaging(b, h, secs, func(c int) pager {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				return func(next string) (int, string, bool, error) {
					e, err := h.get(client, h.reader, h.objects+"?limit=1000&next="+next)
					if err != nil {
						return 0, "", false, err
					}
					return len(e.Objects), e.Next, e.More, nil
				}
			})
		}
	})
	b.Run("StoreBaseline", func(b *testing.B) {
		v := h.reader.p.Viewer()
		for b.Loop() {
			concurrentPaging(b, h, secs, func(c int) pager {
				return func(next string) (int, string, bool, error) {
					after, _ := strconv.ParseInt(next, 10, 64)
					p, err := h.db.FindObjects(context.Background(), cyberpact.ObjectFilter{
						Viewer: &v, Audience: &cyberpact.Audience{Kind: cyberpact.AudienceAll}, After: after, Limit: 1000})
					if err != nil {
						return 0, "", false, err
					}
					return len(p.Objects), strconv.FormatInt(p.Next, 10), p.More, nil
				}
			})
		}
	})
}

// pager reads the page after the cursor next: how many objects, the next
// cursor, whether more follow.
type pager func(next string) (n int, cursor string, more bool, err error)

// concurrentPaging runs 64 readers, each from its own place in the
// collection and round again at its end, for secs seconds, and reports
// objects/s, pages/s, p95 per page and errors.
func concurrentPaging(b *testing.B, h *benchHub, secs int, newPager func(c int) pager) {
	var pages, objs, errs atomic.Int64
	var lat sync.Mutex
	var all []time.Duration
	stop := time.Now().Add(time.Duration(secs) * time.Second)
	var wg sync.WaitGroup
	for c := 0; c < 64; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			page := newPager(c)
			next := strconv.Itoa(c * h.stored / 64)
			for time.Now().Before(stop) {
				start := time.Now()
				n, cursor, more, err := page(next)
				if err != nil {
					errs.Add(1)
					b.Error(err)
					return
				}
				d := time.Since(start)
				lat.Lock()
				all = append(all, d)
				lat.Unlock()
				pages.Add(1)
				objs.Add(int64(n))
				next = cursor
				if !more {
					next = "0"
				}
			}
		}(c)
	}
	wg.Wait()
	b.ReportMetric(float64(objs.Load())/float64(secs), "objects/s")
	b.ReportMetric(float64(pages.Load())/float64(secs), "pages/s")
	b.ReportMetric(float64(p95(all).Microseconds())/1000, "p95-ms/page")
	b.ReportMetric(float64(errs.Load()), "errors")
}

// BenchmarkTAXIIPost10k POSTs an envelope of 10,000 generated objects to a
// fresh store, beside importing the same objects into the store directly.
func BenchmarkTAXIIPost10k(b *testing.B) {
	var bundle bytes.Buffer
	if err := gen.Write(&bundle, 10_000, 2); err != nil {
		b.Fatal(err)
	}
	var env struct{ Objects []json.RawMessage }
	json.Unmarshal(bundle.Bytes(), &env)
	body, _ := json.Marshal(map[string]any{"objects": env.Objects})
	b.Run("TAXII", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			h := newBenchHub(b, 0)
			b.StartTimer()
			req, _ := http.NewRequest("POST", h.base+"/taxii2/api1/collections/"+cphttp.CollectionID("org:"+strconv.FormatInt(h.producer.org.ID, 10))+"/objects/", bytes.NewReader(body))
			req.SetBasicAuth(h.producer.user.Name, h.producer.key)
			req.Header.Set("Accept", taxiiType)
			req.Header.Set("Content-Type", taxiiType)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var st statusAnswer
			json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if resp.StatusCode != 202 || st.Success != len(env.Objects) {
				b.Fatalf("POST: %d, %d of %d stored", resp.StatusCode, st.Success, len(env.Objects))
			}
		}
		b.ReportMetric(float64(len(env.Objects)*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("ImportBaseline", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			db := openDB(b)
			b.StartTimer()
			dec := stix.NewDecoder(bytes.NewReader(bundle.Bytes()))
			res, err := db.Import(context.Background(), dec.Next, cyberpact.ImportOptions{Producer: 1, Audience: cyberpact.Audience{Kind: cyberpact.AudienceOrg}, Partial: true})
			dec.Close()
			if err != nil || res.Added != len(env.Objects) {
				b.Fatalf("import: %v %+v", err, res)
			}
			b.StopTimer()
			db.Close()
			b.StartTimer()
		}
		b.ReportMetric(float64(len(env.Objects)*b.N)/b.Elapsed().Seconds(), "objects/s")
	})
}

// BenchmarkStreamRecheck measures what an open stream costs the store
// while idle: it authenticates its key again every streamRecheck (twice a
// second). Baseline, in the same run: the read a stream makes when woken
// with nothing new for it (FindObjects after the last Seq).
func BenchmarkStreamRecheck(b *testing.B) {
	db := openDB(b)
	defer db.Close()
	g := mkGroup(b, db, "G", mkOrg(b, db, "Org A"))
	m := mkMember(b, db, mkOrg(b, db, "Org B"), "bob", cyberpact.RoleAnalyst)
	if err := db.SetGroupOrgs(context.Background(), g.ID, []int64{m.org.ID}, "bench"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("Authenticate", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Authenticate(ctx, "bob", m.key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EmptyRead", func(b *testing.B) {
		v := m.p.Viewer()
		last, _ := db.LastSeq(ctx)
		for b.Loop() {
			if _, err := db.FindObjects(ctx, cyberpact.ObjectFilter{Viewer: &v, After: last, AllVersions: true, Limit: 1000}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
