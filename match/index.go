package match

import (
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gaissmai/bart"
)

// layer is one immutable set of compiled indicators with its tables. An
// Index is a base layer plus the small layers patches added.
//
// The tables hold no pointers, so the garbage collector never scans them:
// addresses are keyed by their 16 bytes; other values by a 64-bit hash of
// kind and value, each hit checked against the value kept in an arena.
type layer struct {
	inds  indList
	ip    map[[16]byte]int32
	str   map[uint64]int32 // hash to entry, or a multi list of entries
	ents  []entry
	arena [][]byte // value bytes, in chunks that never move
	seed  maphash.Seed
	multi [][]int32 // a table value v < 0 means multi[-v-1]
	cidr  *bart.Table[[]int32]
	types map[string][]int32 // SCO type to complex indicators triggered by it
	filt  filter             // over the values of ip and str, set by finish
}

// indList holds a layer's indicators in fixed-size chunks, so that
// growing it never copies and never leaves a half-empty array behind.
type indList struct {
	chunks [][]Indicator
	n      int32
}

const indChunk = 1 << 14

func (l *indList) add(ind Indicator) int32 {
	if int(l.n)%indChunk == 0 {
		l.chunks = append(l.chunks, make([]Indicator, 0, indChunk))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, ind)
	l.n++
	return l.n - 1
}

func (l *indList) at(i int32) *Indicator { return &l.chunks[i/indChunk][i%indChunk] }

// entry is one value of kind kind leading to indicator slot; its bytes
// are arena[ref>>arenaShift][ref&arenaMask:][:n].
type entry struct {
	ref  uint32
	n    uint32
	slot int32
	kind Kind
}

const (
	arenaShift = 22
	arenaChunk = 1 << arenaShift
	arenaMask  = arenaChunk - 1
)

func newLayer() *layer {
	return &layer{ip: map[[16]byte]int32{}, str: map[uint64]int32{}, seed: maphash.MakeSeed()}
}

func (l *layer) hash(kind Kind, v []byte) uint64 {
	return maphash.Bytes(l.seed, v) ^ uint64(kind)*0x9e3779b97f4a7c15
}

func (l *layer) value(e *entry) []byte {
	return l.arena[e.ref>>arenaShift][e.ref&arenaMask:][:e.n]
}

// store copies v into the arena.
func (l *layer) store(v string) (uint32, bool) {
	if len(v) > arenaChunk {
		return 0, false
	}
	n := len(l.arena)
	if n == 0 || len(l.arena[n-1])+len(v) > arenaChunk {
		if n >= 1<<(32-arenaShift) {
			return 0, false
		}
		l.arena = append(l.arena, make([]byte, 0, arenaChunk))
		n++
	}
	c := l.arena[n-1]
	ref := uint32(n-1)<<arenaShift | uint32(len(c))
	l.arena[n-1] = append(c, v...)
	return ref, true
}

func (l *layer) putIP(k [16]byte, slot int32) {
	v, ok := l.ip[k]
	if !ok {
		l.ip[k] = slot
		return
	}
	l.ip[k] = l.addMulti(v, slot)
}

func (l *layer) putStr(kind Kind, v string, slot int32) {
	ref, ok := l.store(v)
	if !ok {
		return
	}
	ei := int32(len(l.ents))
	l.ents = append(l.ents, entry{ref: ref, n: uint32(len(v)), slot: slot, kind: kind})
	h := l.hash(kind, []byte(v))
	x, ok := l.str[h]
	if !ok {
		l.str[h] = ei
		return
	}
	l.str[h] = l.addMulti(x, ei)
}

func (l *layer) addMulti(v, x int32) int32 {
	if v >= 0 {
		if v == x {
			return v
		}
		l.multi = append(l.multi, []int32{v, x})
		return -int32(len(l.multi))
	}
	m := l.multi[-v-1]
	if m[len(m)-1] != x {
		l.multi[-v-1] = append(m, x)
	}
	return v
}

// add puts a compiled indicator into the layer's tables.
func (l *layer) add(c *compiled) int32 {
	slot := l.inds.add(c.ind)
	for _, k := range c.keys {
		if k.kind == KindIP {
			l.putIP(k.addr.As16(), slot)
			continue
		}
		l.putStr(k.kind, k.value, slot)
	}
	for _, p := range c.prefixes {
		if l.cidr == nil {
			l.cidr = &bart.Table[[]int32]{}
		}
		l.cidr.Modify(p, func(old []int32, _ bool) ([]int32, bool) {
			return append(old, slot), false
		})
	}
	for _, t := range c.types {
		if l.types == nil {
			l.types = map[string][]int32{}
		}
		l.types[t] = append(l.types[t], slot)
	}
	return slot
}

// Index is an immutable set of compiled indicators, safe for concurrent
// use. Patch returns a new Index sharing the unchanged parts.
type Index struct {
	layers []*layer
	// current maps the id of every indicator changed by a patch to the
	// layer holding its current version; versions in other layers are
	// ignored. Base-layer indicators absent from it are current.
	current map[string]int32
	stats   Stats
}

// Stats counts what went into an Index.
type Stats struct {
	Indicators int // indicators indexed, current versions only
	Complex    int // of which the pattern engine confirms
	Skipped    int // objects the source gave that were not indicators with STIX patterns
	Revoked    int // revoked or already expired, not indexed
	Errors     int // indicators whose JSON or pattern was broken
	// FirstErrors holds the first problems, each naming the indicator.
	FirstErrors []error
}

// Stats returns the counts of what went into the index.
func (ix *Index) Stats() Stats { return ix.stats }

// Len returns the number of indicators the index can match.
func (ix *Index) Len() int { return ix.stats.Indicators }

// BuildOptions tunes Build.
type BuildOptions struct {
	// Now is the time against which expiry is judged; zero means
	// time.Now().
	Now time.Time
	// Workers is how many goroutines decode and compile; 0 means
	// GOMAXPROCS.
	Workers int
}

const maxListedErrors = 20

// Build compiles the indicators src yields (raw JSON of STIX objects;
// other object types are skipped) into an Index. Decoding and pattern
// parsing run on several goroutines. Broken indicators are counted in the
// Stats and left out; Build fails only when src does, with that error. Of
// several versions of one indicator the latest modified wins. Build keeps
// the slices src yields until it has compiled them, so src must not reuse
// them. The time of an indicator's last sighting, which restores its
// decayed score, is read from its x_cyberpact_last_sighted property.
func Build(src iter.Seq2[[]byte, error], opt BuildOptions) (*Index, error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type batch struct {
		raws [][]byte
		out  []*compiled
		errs []error
		done chan struct{}
	}
	const batchSize = 512
	jobs := make(chan *batch, 64)
	ordered := make(chan *batch, 64)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sc jsonScanner
			for b := range jobs {
				b.out = make([]*compiled, len(b.raws))
				b.errs = make([]error, len(b.raws))
				for i, raw := range b.raws {
					b.out[i], b.errs[i] = compile(raw, &sc)
				}
				b.raws = nil
				close(b.done)
			}
		}()
	}
	var srcErr error
	go func() {
		cur := &batch{done: make(chan struct{})}
		flush := func() {
			jobs <- cur
			ordered <- cur
			cur = &batch{done: make(chan struct{})}
		}
		for raw, err := range src {
			if err != nil {
				srcErr = err
				break
			}
			cur.raws = append(cur.raws, raw)
			if len(cur.raws) == batchSize {
				flush()
			}
		}
		if len(cur.raws) > 0 {
			flush()
		}
		close(jobs)
		close(ordered)
	}()

	l := newLayer()
	ix := &Index{layers: []*layer{l}}
	seen := newIDSet(l)
	nowNS := now.UnixNano()
	for b := range ordered {
		<-b.done
		for i, c := range b.out {
			if err := b.errs[i]; err != nil {
				if errors.Is(err, ErrNotIndicator) {
					ix.stats.Skipped++
					continue
				}
				ix.stats.Errors++
				if len(ix.stats.FirstErrors) < maxListedErrors {
					ix.stats.FirstErrors = append(ix.stats.FirstErrors, err)
				}
				continue
			}
			if old, ok := seen.get(c.ind.idBytes()); ok {
				if l.inds.at(old).Modified > c.ind.Modified {
					continue
				}
				l.inds.at(old).dead = true
			}
			if !c.ind.Revoked && (c.ind.ValidUntil == 0 || c.ind.ValidUntil > nowNS) {
				seen.put(c.ind.idBytes(), l.add(c))
			} else {
				ix.stats.Revoked++
				// Keep the revoked version so a later, older copy of
				// the indicator does not come back.
				c.ind.dead = true
				seen.put(c.ind.idBytes(), l.inds.add(c.ind))
			}
		}
	}
	wg.Wait()
	if srcErr != nil {
		return nil, srcErr
	}
	l.finish()
	ix.recount()
	return ix, nil
}

// idSet finds the slot of an indicator id in a layer being built. It
// keys by a 64-bit hash of the id, checked against the slot's id, so the
// table holds no pointers; ids whose hash collides go to a small map.
type idSet struct {
	l     *layer
	seed  maphash.Seed
	byH   map[uint64]int32
	extra map[string]int32
}

func newIDSet(l *layer) *idSet {
	return &idSet{l: l, seed: maphash.MakeSeed(), byH: map[uint64]int32{}, extra: map[string]int32{}}
}

func (s *idSet) get(id []byte) (int32, bool) {
	if slot, ok := s.byH[maphash.Bytes(s.seed, id)]; ok && string(s.l.inds.at(slot).idBytes()) == string(id) {
		return slot, true
	}
	slot, ok := s.extra[string(id)]
	return slot, ok
}

func (s *idSet) put(id []byte, slot int32) {
	h := maphash.Bytes(s.seed, id)
	if old, ok := s.byH[h]; ok && string(s.l.inds.at(old).idBytes()) != string(id) {
		s.extra[string(id)] = slot
		return
	}
	s.byH[h] = slot
}

// recount sets the indicator counts from the layers.
func (ix *Index) recount() {
	n, cx := 0, 0
	for li, l := range ix.layers {
		for i := range l.inds.n {
			ind := l.inds.at(i)
			if ix.live(int32(li), ind) {
				n++
				if ind.pat != nil {
					cx++
				}
			}
		}
	}
	ix.stats.Indicators, ix.stats.Complex = n, cx
}

// live reports whether ind, held in layer li, is the current version of
// its indicator and not revoked.
func (ix *Index) live(li int32, ind *Indicator) bool {
	if ind.dead {
		return false
	}
	if len(ix.current) == 0 {
		return li == 0
	}
	cur, ok := ix.current[string(ind.idBytes())]
	if !ok {
		return li == 0
	}
	return cur == li
}

// maxLayers bounds the patch layers before Patch folds them into a new
// base.
const maxLayers = 8

// Patch returns a new Index with the indicators src yields added, or
// replaced when src holds a version of an indicator the index has (a
// revoked version removes it). The receiver is not changed, so matching
// can go on over it while the patch is built. Patches stack as small
// layers; after a few, Patch rebuilds the whole index from its current
// indicators.
func (ix *Index) Patch(src iter.Seq2[[]byte, error], opt BuildOptions) (*Index, error) {
	p, err := Build(src, opt)
	if err != nil {
		return nil, err
	}
	nl := p.layers[0]
	nx := &Index{
		layers:  append(ix.layers[:len(ix.layers):len(ix.layers)], nl),
		current: make(map[string]int32, len(ix.current)+int(nl.inds.n)),
	}
	for id, li := range ix.current {
		nx.current[id] = li
	}
	li := int32(len(nx.layers) - 1)
	for i := range nl.inds.n {
		nx.current[nl.inds.at(i).ID()] = li
	}
	nx.stats = ix.stats
	nx.stats.Revoked += p.stats.Revoked
	nx.stats.Skipped += p.stats.Skipped
	nx.stats.Errors += p.stats.Errors
	nx.stats.FirstErrors = append(nx.stats.FirstErrors[:len(nx.stats.FirstErrors):len(nx.stats.FirstErrors)], p.stats.FirstErrors...)
	nx.recount()
	if len(nx.layers) > maxLayers {
		return nx.Compact(), nil
	}
	return nx, nil
}

// Compact returns an Index with the same current indicators in a single
// layer.
func (ix *Index) Compact() *Index {
	l := newLayer()
	nx := &Index{layers: []*layer{l}, stats: ix.stats}
	for li, ol := range ix.layers {
		for i := range ol.inds.n {
			ind := ol.inds.at(i)
			if !ix.live(int32(li), ind) {
				continue
			}
			c := ol.compiledOf(int32(i))
			l.add(c)
		}
	}
	l.finish()
	nx.recount()
	return nx
}

// compiledOf recovers the keys of indicator slot from the layer's tables.
func (l *layer) compiledOf(slot int32) *compiled {
	c := &compiled{ind: *l.inds.at(slot)}
	has := func(v int32) bool {
		if v >= 0 {
			return v == slot
		}
		for _, s := range l.multi[-v-1] {
			if s == slot {
				return true
			}
		}
		return false
	}
	for k, v := range l.ip {
		if has(v) {
			c.keys = append(c.keys, key{kind: KindIP, addr: netip.AddrFrom16(k).Unmap()})
		}
	}
	for i := range l.ents {
		if e := &l.ents[i]; e.slot == slot {
			c.keys = append(c.keys, key{kind: e.kind, value: string(l.value(e))})
		}
	}
	if l.cidr != nil {
		for p, v := range l.cidr.All() {
			for _, s := range v {
				if s == slot {
					c.prefixes = append(c.prefixes, p)
				}
			}
		}
	}
	for t, v := range l.types {
		for _, s := range v {
			if s == slot {
				c.types = append(c.types, t)
			}
		}
	}
	return c
}

// Matcher holds the current Index behind an atomic pointer: readers take
// it with Load and match without locks while writers swap in patched or
// rebuilt indexes.
type Matcher struct {
	cur atomic.Pointer[Index]
	mu  sync.Mutex // serialises writers
}

// NewMatcher returns a Matcher over ix.
func NewMatcher(ix *Index) *Matcher {
	m := &Matcher{}
	m.cur.Store(ix)
	return m
}

// Load returns the current index.
func (m *Matcher) Load() *Index { return m.cur.Load() }

// Store replaces the index, for example by a full rebuild.
func (m *Matcher) Store(ix *Index) {
	m.mu.Lock()
	m.cur.Store(ix)
	m.mu.Unlock()
}

// Patch applies the indicators src yields (new ones, new versions,
// revocations) to the current index and swaps the result in. Matching
// that has already loaded the old index finishes over it.
func (m *Matcher) Patch(src iter.Seq2[[]byte, error], opt BuildOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	nx, err := m.cur.Load().Patch(src, opt)
	if err != nil {
		return fmt.Errorf("patch: %w", err)
	}
	m.cur.Store(nx)
	return nil
}
