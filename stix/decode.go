package stix

import (
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/cyberpact/cyberpact"
	"github.com/google/uuid"
)

// Decoder turns a bundle into the object versions the store keeps: it
// reads, parses, upgrades STIX 2.0, fills in missing cyber-observable ids
// and validates, spreading the work over the available cores while keeping
// the bundle's order. Its Next method is a cyberpact.ObjectSource.
type Decoder struct {
	r       *Reader
	batches chan *decodeBatch
	cur     *decodeBatch
	i       int
	stop    chan struct{}
	once    sync.Once

	// Upgraded counts the STIX 2.0 objects upgraded to 2.1 so far.
	Upgraded int
}

type decodeBatch struct {
	items []Item
	outs  []decoded
	err   error // the reader's error after the items, io.EOF at the end
	done  chan struct{}
}

type decoded struct {
	obj      *cyberpact.Object
	err      error
	upgraded bool
}

// A batch of the decoder ends at decodeBatchSize objects or once their
// JSON reaches decodeBatchBytes, so that the batches in flight (a few per
// core) hold a bounded amount whatever the objects' sizes: a batch of 128
// objects of 100 KB would be 12 MB, and eight are in flight. An object
// larger than the bound makes a batch of its own.
const (
	decodeBatchSize  = 128
	decodeBatchBytes = 256 << 10
)

// NewDecoder returns a Decoder of the bundle r reads.
func NewDecoder(r io.Reader) *Decoder {
	return NewDecoderOf(NewReader(r))
}

// NewDecoderOf returns a Decoder over a Reader whose limits the caller has
// set.
func NewDecoderOf(r *Reader) *Decoder {
	r.SkipJSONCheck = true // decodeItem parses every object and rejects invalid JSON itself
	workers := runtime.GOMAXPROCS(0)
	d := &Decoder{r: r, batches: make(chan *decodeBatch, 2*workers+2), stop: make(chan struct{})}
	jobs := make(chan *decodeBatch, 2*workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range jobs {
				b.outs = make([]decoded, len(b.items))
				for i, it := range b.items {
					b.outs[i] = decodeItem(it)
				}
				close(b.done)
			}
		}()
	}
	go func() {
		defer close(d.batches)
		defer close(jobs)
		for {
			b := &decodeBatch{done: make(chan struct{})}
			for size := 0; len(b.items) < decodeBatchSize && size < decodeBatchBytes; {
				it, err := r.Next()
				if err != nil {
					b.err = err
					break
				}
				b.items = append(b.items, it)
				size += len(it.Raw)
			}
			select {
			case jobs <- b:
			case <-d.stop:
				return
			}
			select {
			case d.batches <- b:
			case <-d.stop:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return d
}

// Next returns the next object version; io.EOF after the last; a
// cyberpact.Rejections for an object that is refused (the next call goes
// on with the following object); or another error when the input itself
// is broken, after which nothing more can be read.
func (d *Decoder) Next() (*cyberpact.Object, error) {
	for {
		if d.cur != nil && d.i < len(d.cur.outs) {
			out := d.cur.outs[d.i]
			d.i++
			if out.upgraded {
				d.Upgraded++
			}
			return out.obj, out.err
		}
		if d.cur != nil && d.cur.err != nil {
			return nil, d.cur.err
		}
		b, ok := <-d.batches
		if !ok {
			return nil, io.EOF
		}
		<-b.done
		d.cur, d.i = b, 0
	}
}

// Close stops the decoder's goroutines; call it when stopping before
// io.EOF.
func (d *Decoder) Close() {
	d.once.Do(func() { close(d.stop) })
}

// BundleID returns the bundle's id, once read.
func (d *Decoder) BundleID() string { return d.r.BundleID() }

// decodeItem parses, upgrades, completes and validates one raw object.
func decodeItem(it Item) decoded {
	reject := func(id, path, msg string) decoded {
		return decoded{err: cyberpact.Rejections{{Index: it.Index, Line: it.Line, ID: id, Path: path, Reason: msg}}}
	}
	if it.Err != nil {
		var mod string
		if t, err := ParseTime(it.Modified); err == nil {
			mod = NormTime(t)
		}
		return decoded{err: cyberpact.Rejections{{Index: it.Index, Line: it.Line, ID: it.ID, Modified: mod, Reason: it.Err.Msg}}}
	}
	o, err := Parse(it.Raw)
	if err != nil {
		return reject("", "", fmt.Sprintf("object #%d, which starts on line %d, is not valid JSON: %v", it.Index, it.Line, err))
	}
	var out decoded
	o, out.upgraded, err = Complete(o)
	if err != nil {
		return reject(o.ID, "", err.Error())
	}
	if ps := Errors(Validate(o)); len(ps) > 0 {
		rs := make(cyberpact.Rejections, len(ps))
		for i, p := range ps {
			rs[i] = &cyberpact.Rejection{Index: it.Index, Line: it.Line, ID: o.ID, Modified: NormTime(o.VersionKey()), Path: p.Path, Reason: p.Message}
		}
		out.err = rs
		return out
	}
	out.obj = o.Stored()
	out.obj.Index, out.obj.Line = it.Index, it.Line
	return out
}

// Complete turns a parsed object into what the hub stores and validates:
// STIX 2.0 is upgraded to 2.1 (upgraded reports it) and a cyber observable
// without an id gets its deterministic one (random when its type has no id
// contributing properties). It returns o itself when nothing changed. The
// import and validate commands both go through it, so validate accepts
// exactly what import does.
func Complete(o *Object) (out *Object, upgraded bool, err error) {
	changed := false
	if IsSTIX20(o.Props) {
		if err := Upgrade20(o.Props); err != nil {
			return o, false, fmt.Errorf("cannot upgrade from STIX 2.0: %w", err)
		}
		upgraded, changed = true, true
	}
	if _, has := o.Props["id"]; !has && KindOf(o.Type) == KindSCO {
		id, ok := SCOID(o.Props)
		if !ok {
			id = o.Type + "--" + uuid.NewString()
		}
		o.Props["id"] = id
		changed = true
	}
	if !changed {
		return o, false, nil
	}
	n, err := FromProps(o.Props)
	if err != nil {
		return o, upgraded, fmt.Errorf("cannot encode: %w", err)
	}
	n.dup = o.dup // refused all the same: the input was ambiguous
	return n, upgraded, nil
}
