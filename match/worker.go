package match

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact/pattern"
)

// result is what a worker made of a chunk: the alerts of the indicators
// the index decides alone, written out, and the events the pattern engine
// must look at, in order, for the writer to evaluate.
type result struct {
	out   []byte
	evals []eval
	sum   Summary
}

// eval is one event with complex indicators to confirm.
type eval struct {
	off     int // where in result.out its alerts go
	line    int
	event   []byte
	field   string
	value   string
	warning string
	obs     pattern.Observation
	cands   []*Indicator
	hit     bool      // the event already had an alert
	now     time.Time // when it was matched, for scores
}

// worker matches the lines of chunks; each goroutine has its own.
type worker struct {
	m       *Matcher
	opt     *StreamOptions
	js      jsonScanner
	cols    [][]byte
	vals    []extracted
	scratch []byte
	nbuf    []byte
	hits    []*Indicator
	cands   []*Indicator
	ids     []*Indicator
	urlFld  int32
}

func newWorker(m *Matcher, opt *StreamOptions) *worker {
	wk := &worker{m: m, opt: opt, urlFld: -1}
	wk.js.f = opt.Fields
	if x, ok := opt.Fields.byName["host+uri"]; ok {
		wk.urlFld = int32(x)
	}
	return wk
}

func (res *result) broken(line int, reason string) {
	res.sum.Broken++
	if len(res.sum.BrokenLines) < MaxListedBroken {
		res.sum.BrokenLines = append(res.sum.BrokenLines, BrokenLine{line, reason})
	}
}

func (wk *worker) chunk(c *chunk) *result {
	res := &result{}
	res.sum.Bytes = int64(len(c.data))
	if c.oversized {
		res.broken(c.startLine, fmt.Sprintf("line longer than %d bytes", wk.opt.MaxLine))
		return res
	}
	ix := wk.m.Load()
	now := wk.opt.Now()
	data := c.data
	line := c.startLine
	for len(data) > 0 {
		var l []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			l, data = data, nil
		}
		wk.line(ix, res, c.header, l, line, now)
		line++
	}
	return res
}

func (wk *worker) line(ix *Index, res *result, h *header, l []byte, n int, now time.Time) {
	if len(l) > 0 && l[len(l)-1] == '\r' {
		l = l[:len(l)-1]
	}
	if n == 1 {
		l = bytes.TrimPrefix(l, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	}
	if len(bytes.TrimSpace(l)) == 0 {
		return
	}
	if len(l) > wk.opt.MaxLine {
		res.broken(n, fmt.Sprintf("line longer than %d bytes", wk.opt.MaxLine))
		return
	}
	if cap(wk.scratch) < 2*len(l)+64 {
		wk.scratch = make([]byte, 0, 2*len(l)+64)
	}
	wk.scratch = wk.scratch[:0]
	switch wk.opt.Format {
	case JSONLines:
		if err := wk.js.scan(l); err != nil {
			res.broken(n, err.Error())
			return
		}
		wk.vals = wk.js.out
	case Zeek, CSV:
		if h == nil || h.names == nil {
			reason := "no #fields header before this line"
			if h != nil && h.err != "" {
				reason = h.err
			}
			if wk.opt.Format == CSV {
				reason = "no CSV header"
				if h != nil && h.err != "" {
					reason = h.err
				}
			}
			res.broken(n, reason)
			return
		}
		if wk.opt.Format == Zeek {
			wk.cols = splitSep(l, h.sep, wk.cols)
		} else {
			var err error
			wk.cols, wk.scratch, err = splitCSV(l, wk.cols, wk.scratch)
			if err != nil {
				res.broken(n, err.Error())
				return
			}
		}
		if len(wk.cols) != len(h.names) {
			res.broken(n, fmt.Sprintf("%d columns where the header names %d", len(wk.cols), len(h.names)))
			return
		}
		wk.vals = wk.columns(h)
	}
	res.sum.Events++
	wk.match(ix, res, h, l, n, now)
}

// unset reports whether a Zeek column is empty or unset.
func unset(v []byte) bool {
	return len(v) == 0 || (len(v) == 1 && v[0] == '-') || string(v) == "(empty)"
}

// columns extracts the mapped columns of a Zeek or CSV row.
func (wk *worker) columns(h *header) []extracted {
	vals := wk.vals[:0]
	for i, col := range wk.cols {
		f := h.colField[i]
		if f < 0 || unset(col) {
			continue
		}
		if wk.opt.Format == Zeek && wk.opt.Fields.list[f].Kind != KindURL && bytes.IndexByte(col, ',') >= 0 {
			for _, v := range bytes.Split(col, []byte{','}) {
				if !unset(v) {
					vals = append(vals, extracted{f, v})
				}
			}
			continue
		}
		vals = append(vals, extracted{f, col})
	}
	if wk.urlFld >= 0 && h.host >= 0 && !unset(wk.cols[h.host]) && !unset(wk.cols[h.uri]) {
		from := len(wk.scratch)
		wk.scratch = append(wk.scratch, "http://"...)
		wk.scratch = append(wk.scratch, wk.cols[h.host]...)
		wk.scratch = append(wk.scratch, wk.cols[h.uri]...)
		vals = append(vals, extracted{wk.urlFld, wk.scratch[from:len(wk.scratch):len(wk.scratch)]})
	}
	return vals
}

// parseIP parses an address from bytes, IPv4 without allocating.
func parseIP(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	n, dots, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && n == 0 {
				goto slow // leading zero
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 {
				goto slow
			}
		case c == '.' && digits > 0 && dots < 3:
			ip[dots] = byte(n)
			dots++
			n, digits = 0, 0
		default:
			goto slow
		}
	}
	if dots == 3 && digits > 0 {
		ip[3] = byte(n)
		return netip.AddrFrom4(ip), true
	}
slow:
	if t := bytes.TrimSpace(b); len(t) != len(b) {
		return parseIP(t)
	}
	if len(b) < 2 || len(b) > 64 || bytes.IndexByte(b, ':') < 0 {
		return netip.Addr{}, false
	}
	return ParseIP(string(b))
}

// lowerInto appends b lower-cased to dst.
func lowerInto(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// lookup finds the indicators of one extracted value and returns them with
// the value's normal form and warning.
func (wk *worker) lookup(ix *Index, fd *Field, fi *fieldInfo, v []byte) (hits []*Indicator, norm string, warning string) {
	hits = wk.hits[:0]
	kind := fd.Kind
	switch kind {
	case KindDomain:
		if a, ok := parseIP(v); ok {
			return wk.lookupIP(ix, a)
		}
		v = bytes.TrimSpace(v)
		if len(v) > 0 && v[len(v)-1] == '.' {
			v = v[:len(v)-1]
		}
		wk.nbuf = lowerInto(wk.nbuf[:0], v)
		hits = ix.Lookup(KindDomain, wk.nbuf, wk.opt.Subdomains, hits)
		if len(hits) == 0 {
			return hits, "", ""
		}
		norm = string(wk.nbuf)
		return hits, norm, wk.opt.Warnings.Domain(norm)
	case KindIP:
		a, ok := parseIP(v)
		if !ok {
			return hits, "", ""
		}
		return wk.lookupIP(ix, a)
	case KindURL, KindEmail:
		if kind == KindURL && urlNormal(v) {
			wk.nbuf = append(wk.nbuf[:0], v...)
			break
		}
		s, _, ok := Normalize(kind, string(v))
		if !ok {
			return hits, "", ""
		}
		wk.nbuf = append(wk.nbuf[:0], s...)
	case KindMD5, KindSHA1, KindSHA256, KindSHA512, KindHash:
		k := hashKindOfLen(len(v))
		if k == KindNone || (kind != KindHash && k != kind) {
			return hits, "", ""
		}
		kind = k
		wk.nbuf = lowerInto(wk.nbuf[:0], v)
	case KindOther:
		if !fi.usable {
			return hits, "", ""
		}
		wk.nbuf = append(wk.nbuf[:0], fi.key...)
		wk.nbuf = append(wk.nbuf, 0)
		wk.nbuf = appendOtherValue(wk.nbuf, fi, v)
		hits = ix.Lookup(KindOther, wk.nbuf, false, hits)
		if fi.alias != "" {
			// The referenced object is in the observation as an object
			// of its own type too: [process:name = 'x'] holds for a
			// parent process named x.
			wk.nbuf = append(wk.nbuf[:0], fi.alias...)
			wk.nbuf = append(wk.nbuf, 0)
			wk.nbuf = appendOtherValue(wk.nbuf, fi, v)
			hits = ix.Lookup(KindOther, wk.nbuf, false, hits)
		}
		if len(hits) == 0 {
			return hits, "", ""
		}
		return hits, string(v), ""
	default:
		return hits, "", ""
	}
	hits = ix.Lookup(kind, wk.nbuf, false, hits)
	if len(hits) == 0 {
		return hits, "", ""
	}
	norm = string(wk.nbuf)
	return hits, norm, wk.opt.Warnings.Value(kind, norm)
}

func (wk *worker) lookupIP(ix *Index, a netip.Addr) ([]*Indicator, string, string) {
	hits := ix.LookupIP(a, wk.hits[:0])
	if len(hits) == 0 {
		return hits, "", ""
	}
	return hits, a.String(), wk.opt.Warnings.IP(a)
}

// usable reports whether ind may match now, and its score.
func (wk *worker) usable(ind *Indicator, now time.Time) (int, bool) {
	ns := now.UnixNano()
	if ind.Revoked || (ind.ValidUntil != 0 && ns >= ind.ValidUntil) || (ind.ValidFrom != 0 && ns < ind.ValidFrom) {
		return 0, false
	}
	s := ind.Score(wk.opt.Decay, now)
	return s, s >= wk.opt.MinScore
}

func addOnce(s []*Indicator, ind *Indicator) []*Indicator {
	for _, x := range s {
		if x == ind {
			return s
		}
	}
	return append(s, ind)
}

// match looks up every extracted value of one event and writes its alerts.
func (wk *worker) match(ix *Index, res *result, h *header, l []byte, n int, now time.Time) {
	var event []byte
	hit := false
	wk.cands = wk.cands[:0]
	var ev *eval
	for _, e := range wk.vals {
		fd := &wk.opt.Fields.list[e.field]
		hits, norm, warning := wk.lookup(ix, fd, &wk.opt.Fields.info[e.field], e.val)
		wk.hits = hits[:0]
		if len(hits) == 0 || (warning != "" && wk.opt.SkipWarninglisted) {
			continue
		}
		wk.ids = wk.ids[:0]
		score := 0
		for _, ind := range hits {
			s, ok := wk.usable(ind, now)
			if !ok {
				continue
			}
			if ind.pat != nil {
				if len(wk.cands) == 0 && ev == nil {
					ev = &eval{field: fd.Name, value: norm, warning: warning}
				}
				wk.cands = addOnce(wk.cands, ind)
				continue
			}
			if len(wk.ids) == 0 || s > score {
				score = max(score, s)
			}
			wk.ids = addOnce(wk.ids, ind)
		}
		if len(wk.ids) == 0 {
			continue
		}
		if event == nil {
			event = wk.eventJSON(h, l)
		}
		hit = true
		res.sum.Alerts++
		res.out = appendAlert(res.out, event, n, fd.Name, norm, wk.ids, score, warning, wk.opt.Name)
	}
	if ix.hasTypes() {
		for _, e := range wk.vals {
			for _, t := range wk.opt.Fields.info[e.field].types {
				for _, ind := range ix.ByType(t, wk.hits[:0]) {
					if _, ok := wk.usable(ind, now); ok {
						if ev == nil {
							ev = &eval{field: wk.opt.Fields.list[e.field].Name, value: string(e.val)}
						}
						wk.cands = addOnce(wk.cands, ind)
					}
				}
			}
		}
	}
	if hit {
		res.sum.Hits++
	}
	if len(wk.cands) == 0 {
		return
	}
	if ev == nil {
		ev = &eval{}
	}
	if event == nil {
		event = wk.eventJSON(h, l)
	}
	ev.off, ev.line, ev.event, ev.hit, ev.now = len(res.out), n, event, hit, now
	ev.cands = append([]*Indicator(nil), wk.cands...)
	ev.obs = wk.observation(now)
	res.evals = append(res.evals, *ev)
}

// eventJSON returns the event as an alert shows it: the line itself for
// JSON lines, an object of column names to values for Zeek and CSV.
func (wk *worker) eventJSON(h *header, l []byte) []byte {
	if wk.opt.Format == JSONLines {
		if !utf8.Valid(l) {
			return bytes.ToValidUTF8(l, []byte("\uFFFD"))
		}
		return bytes.Clone(l)
	}
	b := []byte{'{'}
	for i, name := range h.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		b = appendJSONString(b, wk.cols[i])
	}
	return append(b, '}')
}

// appendAlert appends one alert line.
func appendAlert(b, event []byte, line int, field, value string, inds []*Indicator, score int, warning, file string) []byte {
	b = append(b, `{"event":`...)
	b = append(b, event...)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, int64(line), 10)
	b = append(b, `,"field":`...)
	b = appendJSONString(b, field)
	b = append(b, `,"value":`...)
	b = appendJSONString(b, value)
	b = append(b, `,"indicators":[`...)
	for i, ind := range inds {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, ind.idBytes())
	}
	b = append(b, `],"score":`...)
	b = strconv.AppendInt(b, int64(score), 10)
	if warning != "" {
		b = append(b, `,"warning":`...)
		b = appendJSONString(b, warning)
	}
	if file != "" {
		b = append(b, `,"file":`...)
		b = appendJSONString(b, file)
	}
	return append(b, '}', '\n')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaping quotes,
// backslashes and control characters and replacing invalid UTF-8 with
// U+FFFD, as encoding/json does.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
			if r == utf8.RuneError && n == 1 {
				b = append(b, "\ufffd"...)
			} else {
				b = append(b, s[i:i+n]...)
			}
			i += n
			continue
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}

var hashNames = map[Kind]string{KindMD5: "MD5", KindSHA1: "SHA-1", KindSHA256: "SHA-256", KindSHA512: "SHA-512"}

// observation builds the STIX observation the event's fields imply, each
// value put where its field's Path says: addresses, domain names, URLs and
// e-mail addresses as objects of their own, referenced from the
// network-traffic or email-message object when the path follows a
// reference; every other property set on the one object of its type (or
// on the object a reference of the path points to), or, when that object
// already holds a different value there, on another object of that type.
func (wk *worker) observation(now time.Time) pattern.Observation {
	b := obsBuilder{objs: map[string]map[string]any{}, single: map[string]map[string]any{}}
	at := now
	for _, e := range wk.vals {
		fd := &wk.opt.Fields.list[e.field]
		if fd.Kind == KindTime {
			if t, ok := eventTime(e.val); ok {
				at = t
			}
			continue
		}
		b.put(fd, &wk.opt.Fields.info[e.field], e.val)
	}
	o := pattern.Observation{FirstObserved: at, LastObserved: at, NumberObserved: 1, Objects: b.objs}
	o.Prepare()
	return o
}

// obsBuilder collects the objects of one event's observation.
type obsBuilder struct {
	objs   map[string]map[string]any
	single map[string]map[string]any // the one object of a type, or of a type's reference ("process:parent_ref")
	n      int
}

func (b *obsBuilder) add(o map[string]any) string {
	b.n++
	k := "o" + strconv.Itoa(b.n)
	b.objs[k] = o
	return k
}

// one returns the object of type typ all fields share.
func (b *obsBuilder) one(typ string) map[string]any {
	o := b.single[typ]
	if o == nil {
		o = map[string]any{"type": typ}
		b.single[typ] = o
		b.add(o)
	}
	return o
}

// target returns the object reference ref of the shared object of type
// typ points to, of type holder, creating both as needed.
func (b *obsBuilder) target(typ, ref, holder string) map[string]any {
	k := typ + ":" + ref
	o := b.single[k]
	if o == nil {
		o = map[string]any{"type": holder}
		b.single[k] = o
		b.one(typ)[ref] = b.add(o)
	}
	return o
}

// put adds value v of field fd, with info fi, to the observation.
func (b *obsBuilder) put(fd *Field, fi *fieldInfo, v []byte) {
	if !fi.usable {
		return
	}
	s := string(v)
	switch fd.Kind {
	case KindIP, KindDomain, KindURL, KindEmail:
		var o map[string]any
		// Values are in the normal form the index compares them in, so
		// that the engine confirms what the index found.
		switch fd.Kind {
		case KindIP, KindDomain:
			if a, ok := parseIP(v); ok {
				t := "ipv4-addr"
				if a.Is6() {
					t = "ipv6-addr"
				}
				o = map[string]any{"type": t, "value": a.String()}
			} else if fd.Kind == KindDomain {
				o = map[string]any{"type": "domain-name", "value": normal(KindDomain, s)}
			} else {
				return
			}
		case KindURL:
			o = map[string]any{"type": "url", "value": normal(KindURL, s)}
		case KindEmail:
			o = map[string]any{"type": "email-addr", "value": normal(KindEmail, s)}
		}
		k := b.add(o)
		switch {
		case fi.ref == "":
		case fi.list:
			holder := b.one(fi.typ)
			refs, _ := holder[fi.ref].([]any)
			holder[fi.ref] = append(refs, k)
		default:
			holder := b.one(fi.typ)
			if _, taken := holder[fi.ref]; taken {
				holder = map[string]any{"type": fi.typ}
				b.add(holder)
			}
			holder[fi.ref] = k
		}
		return
	}
	var val any = s
	if fd.Kind == KindOther {
		val = otherValue(fi, v)
	} else {
		val = normal(fd.Kind, s)
	}
	if fd.Kind == KindHash {
		name, ok := hashNames[hashKindOfLen(len(s))]
		if !ok {
			return
		}
		fi = &fieldInfo{holder: "file", typ: "file", rest: []pattern.PathStep{{Key: "hashes"}, {Key: name}}}
	}
	holder := b.one(fi.typ)
	if fi.ref != "" {
		holder = b.target(fi.typ, fi.ref, fi.holder)
	}
	if !setPath(holder, fi.rest, val) {
		o := map[string]any{"type": fi.holder}
		setPath(o, fi.rest, val)
		b.add(o)
	}
}

// normal returns s in the normal form of kind, or as it is when it is not
// a valid value of that kind.
func normal(kind Kind, s string) string {
	if n, _, ok := Normalize(kind, s); ok {
		return n
	}
	return s
}

// setPath sets the property steps name in o to val, making the maps and
// lists on the way: a step followed by [*] appends to a list. It reports
// false, having set nothing, when o already holds a value there.
func setPath(o map[string]any, steps []pattern.PathStep, val any) bool {
	cur := o
	for i := 0; i < len(steps); i++ {
		key := steps[i].Key
		if i+1 < len(steps) && steps[i+1].Kind == pattern.StepAny {
			list, _ := cur[key].([]any)
			if i+2 == len(steps) {
				cur[key] = append(list, val)
				return true
			}
			m := map[string]any{}
			cur[key] = append(list, m)
			cur = m
			i++
			continue
		}
		if i == len(steps)-1 {
			if _, taken := cur[key]; taken {
				return false
			}
			cur[key] = val
			return true
		}
		m, ok := cur[key].(map[string]any)
		if !ok {
			if _, taken := cur[key]; taken {
				return false
			}
			m = map[string]any{}
			cur[key] = m
		}
		cur = m
	}
	return false
}

// eventTime parses an event's time: RFC 3339 (ECS @timestamp) or seconds
// since 1970 with a fraction (Zeek ts).
func eventTime(v []byte) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, string(v)); err == nil {
		return t.UTC(), true
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil && f > 0 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
	}
	return time.Time{}, false
}

// correlator confirms complex indicators with the pattern engine, in input
// order, keeping for each the last few observations that passed one of its
// atoms so that patterns joining observations (AND, FOLLOWEDBY, REPEATS)
// can match across events.
type correlator struct {
	win map[*Indicator][]pattern.Observation
}

// corrWindow is how many recent candidate observations a complex
// indicator keeps.
const corrWindow = 32

func newCorrelator() *correlator {
	return &correlator{win: map[*Indicator][]pattern.Observation{}}
}

// write writes a chunk's alerts, with those of complex indicators in
// their place.
func (c *correlator) write(w io.Writer, res *result, opt *StreamOptions) error {
	pos := 0
	var extra []byte
	for i := range res.evals {
		e := &res.evals[i]
		var ids []*Indicator
		for _, ind := range e.cands {
			if c.confirm(ind, e.obs) {
				ids = append(ids, ind)
			}
		}
		if len(ids) == 0 {
			continue
		}
		extra = append(extra[:0], res.out[pos:e.off]...)
		pos = e.off
		score := 0
		for _, ind := range ids {
			score = max(score, ind.Score(opt.Decay, e.now))
		}
		extra = appendAlert(extra, e.event, e.line, e.field, e.value, ids, score, e.warning, opt.Name)
		if _, err := w.Write(extra); err != nil {
			return err
		}
		res.sum.Alerts++
		if !e.hit {
			res.sum.Hits++
		}
	}
	_, err := w.Write(res.out[pos:])
	return err
}

// confirm adds obs to ind's window and reports whether the pattern
// matches with obs taking part.
func (c *correlator) confirm(ind *Indicator, obs pattern.Observation) bool {
	w := append(c.win[ind], obs)
	if len(w) > corrWindow {
		w = append(w[:0:0], w[len(w)-corrWindow:]...)
	}
	c.win[ind] = w
	if ok, err := ind.pat.MatchOne(&obs); err == nil && ok {
		return true
	}
	if len(w) < 2 {
		return false
	}
	// The engine reports the first binding it finds; with the new
	// observation first, that binding includes it whenever one does in
	// the common cases. (Times, not positions, order observations for
	// FOLLOWEDBY.)
	order := make([]pattern.Observation, 0, len(w))
	order = append(order, obs)
	order = append(order, w[:len(w)-1]...)
	r, err := ind.pat.MatchWith(order, pattern.MatchOptions{Budget: 200_000})
	if err != nil || !r.Matched {
		return false
	}
	for _, i := range r.Indices {
		if i == 0 {
			return true
		}
	}
	return false
}

// appendOtherValue appends the text of value v of a field (KindOther) as
// an indicator's key holds it: integers in decimal without leading zeros
// or a fraction of zero, booleans as true or false, text as it is.
func appendOtherValue(dst []byte, fi *fieldInfo, v []byte) []byte {
	if fi.ptype == propText || (fi.ptype == propInt && plainDecimal(v)) {
		return append(dst, v...) // the common cases, without converting
	}
	switch x := otherValue(fi, v).(type) {
	case json.Number:
		return append(dst, x...)
	case bool:
		return strconv.AppendBool(dst, x)
	}
	return append(dst, v...)
}

// otherValue returns value v of a field (KindOther), with info fi, as the pattern
// engine sees it: a json.Number in canonical decimal form for an integer
// property holding a whole number, a bool for a boolean property holding
// true or false, else the text.
func otherValue(fi *fieldInfo, v []byte) any {
	switch fi.ptype {
	case propInt:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return json.Number(strconv.FormatInt(n, 10))
		}
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && f == float64(int64(f)) {
			return json.Number(strconv.FormatInt(int64(f), 10))
		}
	case propBool:
		switch string(v) {
		case "true":
			return true
		case "false":
			return false
		}
	}
	return string(v)
}

// plainDecimal reports whether v is a decimal integer in canonical form:
// digits without a leading zero, or 0, possibly after a minus sign.
func plainDecimal(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
		if len(v) == 1 && v[0] == '0' {
			return false
		}
	}
	if len(v) == 0 || len(v) > 18 || (v[0] == '0' && len(v) > 1) {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
