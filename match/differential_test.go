package match_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact/match"
	"github.com/cyberpact/cyberpact/pattern"
)

// The differential test holds match to the pattern engine. It has its own
// model of what an event is as STIX, written from the field map's
// documentation and not from match's code: a set of places (an object of
// the observation and a property of it), each with the ECS fields and Zeek
// columns that fill it and a few values in normal form. From the model it
// generates events, written once as ECS JSON or Zeek lines for match and
// once as observed data (a bundle of SCOs) for the engine, and patterns
// over every path that reaches a place, directly or through a reference,
// with every operator, AND and OR in every order, and observation
// operators. Whatever match answers must be what pattern.Match answers.

// obj is an object of the model's observation.
type obj int

const (
	oTraffic  obj = iota // network-traffic
	oSrc                 // the address src_ref points to
	oDst                 // the address dst_ref points to
	oHost                // an address of its own
	oDomain              // domain-name
	oURL                 // url
	oMessage             // email-message
	oFrom                // the e-mail address from_ref points to
	oSender              // sender_ref
	oTo                  // to_refs
	oCc                  // cc_refs
	oMailbox             // an e-mail address of its own
	oFile                // file
	oDir                 // directory, the file's parent_directory_ref
	oProcess             // process
	oParent              // process, the process's parent_ref
	oImage               // file, the process's image_ref
	oOwner               // user-account, the process's creator_user_ref
	oUser                // user-account
	oRegistry            // windows-registry-key
	oCert                // x509-certificate
	oMAC                 // mac-addr
	numObjs
)

// objDef says what type an object is and which reference of which other
// object points to it.
type objDef struct {
	typ    string // "" for an address, typed by its value
	parent obj    // -1 for none
	ref    string
	list   bool
}

var objDefs = [numObjs]objDef{
	oTraffic:  {"network-traffic", -1, "", false},
	oSrc:      {"", oTraffic, "src_ref", false},
	oDst:      {"", oTraffic, "dst_ref", false},
	oHost:     {"", -1, "", false},
	oDomain:   {"domain-name", -1, "", false},
	oURL:      {"url", -1, "", false},
	oMessage:  {"email-message", -1, "", false},
	oFrom:     {"email-addr", oMessage, "from_ref", false},
	oSender:   {"email-addr", oMessage, "sender_ref", false},
	oTo:       {"email-addr", oMessage, "to_refs", true},
	oCc:       {"email-addr", oMessage, "cc_refs", true},
	oMailbox:  {"email-addr", -1, "", false},
	oFile:     {"file", -1, "", false},
	oDir:      {"directory", oFile, "parent_directory_ref", false},
	oProcess:  {"process", -1, "", false},
	oParent:   {"process", oProcess, "parent_ref", false},
	oImage:    {"file", oProcess, "image_ref", false},
	oOwner:    {"user-account", oProcess, "creator_user_ref", false},
	oUser:     {"user-account", -1, "", false},
	oRegistry: {"windows-registry-key", -1, "", false},
	oCert:     {"x509-certificate", -1, "", false},
	oMAC:      {"mac-addr", -1, "", false},
}

// place is one property of one object, with the event fields that fill
// it and the values the test uses.
type place struct {
	obj  obj
	prop []string // property keys, nested
	list bool     // the property is a list of values
	ecs  []string
	zeek []string
	vals []any // string or int
}

func strs(s ...string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

var (
	addrs   = strs("203.0.113.31", "203.0.113.32", "198.51.100.7", "2001:db8::31")
	mails   = strs("ceo@evil.example", "ap@corp.example", "x@good.example")
	md5s    = strs(strings.Repeat("a1", 16), strings.Repeat("b2", 16))
	sha256s = strs(strings.Repeat("c3", 32), strings.Repeat("d4", 32))
	names   = strs("mimikatz.exe", "svchost.exe", "it's.exe")
)

var places = []place{
	{obj: oSrc, prop: []string{"value"}, ecs: []string{"source.ip", "client.ip", "source.address"}, zeek: []string{"id.orig_h", "src"}, vals: addrs},
	{obj: oDst, prop: []string{"value"}, ecs: []string{"destination.ip", "server.ip", "destination.address"}, zeek: []string{"id.resp_h", "dst"}, vals: addrs},
	{obj: oHost, prop: []string{"value"}, ecs: []string{"host.ip"}, zeek: []string{"tx_hosts"}, vals: addrs},
	{obj: oTraffic, prop: []string{"src_port"}, ecs: []string{"source.port", "client.port"}, zeek: []string{"id.orig_p"}, vals: []any{51000, 443}},
	{obj: oTraffic, prop: []string{"dst_port"}, ecs: []string{"destination.port", "server.port"}, zeek: []string{"id.resp_p"}, vals: []any{443, 8443, 53}},
	{obj: oTraffic, prop: []string{"dst_byte_count"}, ecs: []string{"destination.bytes"}, zeek: []string{"resp_bytes"}, vals: []any{100, 2000}},
	{obj: oTraffic, prop: []string{"protocols"}, list: true, ecs: []string{"network.transport"}, zeek: []string{"proto"}, vals: strs("tcp", "udp")},
	{obj: oTraffic, prop: []string{"extensions", "http-request-ext", "request_method"}, ecs: []string{"http.request.method"}, zeek: []string{"method"}, vals: strs("GET", "POST")},
	{obj: oTraffic, prop: []string{"extensions", "http-request-ext", "request_header", "User-Agent"}, ecs: []string{"user_agent.original"}, zeek: []string{"user_agent"}, vals: strs("curl/8.0", "Mozilla/5.0")},
	{obj: oDomain, prop: []string{"value"}, ecs: []string{"dns.question.name", "url.domain", "destination.domain"}, zeek: []string{"query", "host", "server_name"}, vals: strs("evil.example", "www.evil.example", "good.example")},
	{obj: oURL, prop: []string{"value"}, ecs: []string{"url.full", "url.original"}, vals: strs("http://evil.example/a", "https://good.example/b?x=1")},
	{obj: oFrom, prop: []string{"value"}, ecs: []string{"email.from.address"}, zeek: []string{"from"}, vals: mails},
	{obj: oSender, prop: []string{"value"}, ecs: []string{"email.sender.address"}, zeek: []string{"mailfrom"}, vals: mails},
	{obj: oTo, prop: []string{"value"}, ecs: []string{"email.to.address"}, zeek: []string{"rcptto", "to"}, vals: mails},
	{obj: oCc, prop: []string{"value"}, ecs: []string{"email.cc.address"}, zeek: []string{"cc"}, vals: mails},
	{obj: oMailbox, prop: []string{"value"}, ecs: []string{"user.email"}, vals: mails},
	{obj: oMessage, prop: []string{"subject"}, ecs: []string{"email.subject"}, zeek: []string{"subject"}, vals: strs("Invoice 4471", "Hello", "invoice due")},
	{obj: oMessage, prop: []string{"message_id"}, ecs: []string{"email.message_id"}, zeek: []string{"msg_id"}, vals: strs("<1@evil.example>", "<2@corp.example>")},
	{obj: oFile, prop: []string{"name"}, ecs: []string{"file.name"}, zeek: []string{"filename"}, vals: names},
	{obj: oFile, prop: []string{"size"}, ecs: []string{"file.size"}, zeek: []string{"total_bytes"}, vals: []any{1024, 20000}},
	{obj: oFile, prop: []string{"hashes", "MD5"}, ecs: []string{"file.hash.md5"}, zeek: []string{"md5"}, vals: md5s},
	{obj: oFile, prop: []string{"hashes", "SHA-256"}, ecs: []string{"file.hash.sha256"}, zeek: []string{"sha256"}, vals: sha256s},
	{obj: oDir, prop: []string{"path"}, ecs: []string{"file.directory"}, vals: strs(`C:\Users\Public`, "/tmp")},
	{obj: oProcess, prop: []string{"pid"}, ecs: []string{"process.pid"}, vals: []any{4, 1234}},
	{obj: oProcess, prop: []string{"name"}, ecs: []string{"process.name"}, vals: names},
	{obj: oProcess, prop: []string{"command_line"}, ecs: []string{"process.command_line"}, vals: strs("cmd.exe /c whoami", `powershell -enc "AAA"`)},
	{obj: oParent, prop: []string{"pid"}, ecs: []string{"process.parent.pid"}, vals: []any{4, 1234}},
	{obj: oParent, prop: []string{"name"}, ecs: []string{"process.parent.name"}, vals: names},
	{obj: oImage, prop: []string{"hashes", "MD5"}, ecs: []string{"process.hash.md5"}, vals: md5s},
	{obj: oOwner, prop: []string{"user_id"}, ecs: []string{"process.user.id"}, vals: strs("1001", "0")},
	{obj: oUser, prop: []string{"user_id"}, ecs: []string{"user.id"}, vals: strs("1001", "0")},
	{obj: oUser, prop: []string{"account_login"}, ecs: []string{"user.name"}, vals: strs("bob", "root")},
	{obj: oRegistry, prop: []string{"key"}, ecs: []string{"registry.key", "registry.path"}, vals: strs(`HKEY_LOCAL_MACHINE\Software\Run`, `HKEY_CURRENT_USER\Run`)},
	{obj: oRegistry, prop: []string{"values"}, list: true, ecs: []string{"registry.value"}, vals: strs("evil", "updater")}, // values[*].name, below
	{obj: oCert, prop: []string{"serial_number"}, ecs: []string{"x509.serial_number", "tls.server.x509.serial_number"}, zeek: []string{"certificate.serial"}, vals: strs("01:02", "0a:0b")},
	{obj: oCert, prop: []string{"subject"}, ecs: []string{"x509.subject.distinguished_name"}, zeek: []string{"certificate.subject"}, vals: strs("CN=evil.example", "CN=good.example")},
	{obj: oCert, prop: []string{"hashes", "SHA-256"}, ecs: []string{"tls.server.hash.sha256"}, vals: sha256s},
	{obj: oMAC, prop: []string{"value"}, ecs: []string{"source.mac", "host.mac"}, zeek: []string{"mac"}, vals: strs("00:00:5e:00:53:01", "00:00:5e:00:53:02")},
}

// registryValues is the place whose list holds objects: values[*].name.
var registryValues = func() int {
	for i, p := range places {
		if p.obj == oRegistry && p.prop[0] == "values" {
			return i
		}
	}
	panic("no registry values place")
}()

// addrType returns the STIX type of an address value.
func addrType(v any) string {
	s, _ := v.(string)
	if strings.Contains(s, "@") {
		return "email-addr"
	}
	if strings.Contains(s, ":") {
		return "ipv6-addr"
	}
	return "ipv4-addr"
}

// objType returns the type of object o holding value v (for addresses).
func objType(o obj, v any) string {
	if t := objDefs[o].typ; t != "" {
		return t
	}
	return addrType(v)
}

// event is one generated event: a value for some places, and a time.
type event struct {
	vals map[int]any // place index to value
	at   time.Time
	name map[int]string // place index to the field name used
}

// genEvent makes an event of a few places, related ones (one object and
// what refers to it) more often than not, for the given format: Zeek
// restricts it to places with Zeek columns, and CSV, whose cells hold one
// value, to single values.
func genEvent(r *rand.Rand, format match.Format, at time.Time) event {
	e := event{vals: map[int]any{}, name: map[int]string{}, at: at}
	n := 1 + r.IntN(5)
	group := obj(r.IntN(int(numObjs)))
	for tries := 0; len(e.vals) < n && tries < 40; tries++ {
		i := r.IntN(len(places))
		p := &places[i]
		if r.IntN(3) > 0 && !related(p.obj, group) {
			continue
		}
		fieldNames := p.ecs
		if format == match.Zeek {
			fieldNames = p.zeek
		}
		if len(fieldNames) == 0 {
			continue
		}
		if _, dup := e.vals[i]; dup {
			continue
		}
		e.vals[i] = p.vals[r.IntN(len(p.vals))]
		if (p.list || objDefs[p.obj].list) && format != match.CSV && r.IntN(3) == 0 {
			// Two members of a list: an ECS array, a Zeek set.
			a := r.IntN(len(p.vals))
			e.vals[i] = []any{p.vals[a], p.vals[(a+1)%len(p.vals)]}
		}
		e.name[i] = fieldNames[r.IntN(len(fieldNames))]
	}
	return e
}

// related reports whether a and b are the same object or one refers to
// the other.
func related(a, b obj) bool {
	return a == b || objDefs[a].parent == b || objDefs[b].parent == a || (objDefs[a].parent >= 0 && objDefs[a].parent == objDefs[b].parent)
}

// observedData returns the event as a STIX 2.1 bundle holding one
// observed-data object and its SCOs, as the model says.
func (e event) observedData(n int) map[string]any {
	objs := map[obj]map[string]any{}
	ids := map[obj]string{}
	get := func(o obj, v any) map[string]any {
		if x := objs[o]; x != nil {
			return x
		}
		x := map[string]any{"type": objType(o, v)}
		id := x["type"].(string) + "--" + strconv.Itoa(int(o))
		x["id"] = id
		objs[o], ids[o] = x, id
		return x
	}
	idx := make([]int, 0, len(e.vals))
	for i := range e.vals {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	members := map[obj][]any{} // the ids of list-referenced objects with several values
	var extra []any
	for _, i := range idx {
		p, v := &places[i], e.vals[i]
		vs, several := v.([]any)
		if !several {
			vs = []any{v}
		}
		if several && objDefs[p.obj].list {
			// One object per value, all in the reference list.
			for k, v := range vs {
				id := objType(p.obj, v) + "--" + strconv.Itoa(int(p.obj)) + "-" + strconv.Itoa(k)
				members[p.obj] = append(members[p.obj], id)
				extra = append(extra, map[string]any{"type": objType(p.obj, v), "id": id, p.prop[0]: v})
			}
			get(objDefs[p.obj].parent, nil)
			continue
		}
		x := get(p.obj, vs[0])
		if i == registryValues {
			var l []any
			for _, v := range vs {
				l = append(l, map[string]any{"name": v})
			}
			x["values"] = l
			continue
		}
		cur := x
		for _, k := range p.prop[:len(p.prop)-1] {
			m, _ := cur[k].(map[string]any)
			if m == nil {
				m = map[string]any{}
				cur[k] = m
			}
			cur = m
		}
		last := p.prop[len(p.prop)-1]
		if p.list {
			cur[last] = vs
		} else {
			cur[last] = v
		}
	}
	// References, from each object to the ones that hang off it; an
	// object referred to brings the one referring to it.
	for o, ids := range members {
		objs[objDefs[o].parent][objDefs[o].ref] = ids
	}
	for o := range numObjs {
		if objs[o] == nil || objDefs[o].parent < 0 {
			continue
		}
		d := objDefs[o]
		par := get(d.parent, nil)
		if d.list {
			par[d.ref] = []any{ids[o]}
		} else {
			par[d.ref] = ids[o]
		}
	}
	refs := []any{}
	list := []any{}
	for o := range numObjs {
		if objs[o] != nil {
			refs = append(refs, ids[o])
			list = append(list, objs[o])
		}
	}
	for _, x := range extra {
		refs = append(refs, x.(map[string]any)["id"])
		list = append(list, x)
	}
	ts := e.at.UTC().Format(time.RFC3339Nano)
	od := map[string]any{"type": "observed-data", "id": "observed-data--" + strconv.Itoa(n),
		"first_observed": ts, "last_observed": ts, "number_observed": 1, "object_refs": refs}
	return map[string]any{"type": "bundle", "objects": append([]any{od}, list...)}
}

// ecsLine writes the event as one ECS JSON line, dotted or nested.
func (e event) ecsLine(r *rand.Rand) string {
	flat := map[string]any{"@timestamp": e.at.UTC().Format(time.RFC3339Nano)}
	for i, v := range e.vals {
		if n, ok := v.(int); ok && r.IntN(4) == 0 {
			v = strconv.Itoa(n) // some producers quote numbers
		}
		flat[e.name[i]] = v
	}
	var b []byte
	if r.IntN(2) == 0 {
		b, _ = json.Marshal(flat)
	} else {
		nested := map[string]any{}
		for k, v := range flat {
			cur := nested
			parts := strings.Split(k, ".")
			for _, p := range parts[:len(parts)-1] {
				m, _ := cur[p].(map[string]any)
				if m == nil {
					m = map[string]any{}
					cur[p] = m
				}
				cur = m
			}
			cur[parts[len(parts)-1]] = v
		}
		b, _ = json.Marshal(nested)
	}
	return string(b)
}

// zeekLines writes the event as a Zeek #fields header and one data line.
func (e event) zeekLines() string {
	cols := []string{"ts"}
	vals := []string{fmt.Sprintf("%d.%06d", e.at.Unix(), e.at.Nanosecond()/1000)}
	idx := make([]int, 0, len(e.vals))
	for i := range e.vals {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	for _, i := range idx {
		cols = append(cols, e.name[i])
		if vs, ok := e.vals[i].([]any); ok {
			var set []string
			for _, v := range vs {
				set = append(set, fmt.Sprint(v))
			}
			vals = append(vals, strings.Join(set, ","))
			continue
		}
		vals = append(vals, fmt.Sprint(e.vals[i]))
	}
	return "#fields\t" + strings.Join(cols, "\t") + "\n" + strings.Join(vals, "\t") + "\n"
}

// csvHeader returns the columns of a CSV file holding evs: the time and
// every field name the events use.
func csvHeader(evs []event) []string {
	cols := []string{"@timestamp"}
	for _, e := range evs {
		for _, n := range e.name {
			if !slices.Contains(cols, n) {
				cols = append(cols, n)
			}
		}
	}
	sort.Strings(cols[1:])
	return cols
}

// csvRow writes one CSV record.
func csvRow(cells []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	if err := w.Write(cells); err != nil {
		panic(err) // a strings.Builder does not fail
	}
	w.Flush()
	return b.String()
}

// csvLine writes the event as a CSV record under header, empty where it
// has no value.
func (e event) csvLine(header []string) string {
	cells := make([]string, len(header))
	cells[0] = e.at.UTC().Format(time.RFC3339Nano)
	for i, v := range e.vals {
		cells[slices.Index(header, e.name[i])] = fmt.Sprint(v)
	}
	return csvRow(cells)
}

// target is a path a pattern can name, with the values it may meet.
type target struct {
	typ, path string
	vals      []any
	addr      bool // the values are IP addresses
}

// quoteKey writes a path key as a pattern does.
func quoteKey(k string) string {
	if regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`).MatchString(k) {
		return k
	}
	return "'" + k + "'"
}

// targets lists every path that reaches a place of the model: from the
// object itself and through the reference pointing to it, the list
// elements by [*] and by position, and the type of what a reference
// points to.
var targets = func() []target {
	byKey := map[string]*target{}
	var order []string
	add := func(typ, path string, vals []any, addr bool) {
		k := typ + ":" + path
		t := byKey[k]
		if t == nil {
			t = &target{typ: typ, path: path, addr: addr}
			byKey[k] = t
			order = append(order, k)
		}
		for _, v := range vals {
			if !slices.Contains(t.vals, v) {
				t.vals = append(t.vals, v)
			}
		}
	}
	for i, p := range places {
		var keys []string
		for _, k := range p.prop {
			keys = append(keys, quoteKey(k))
		}
		prop := strings.Join(keys, ".")
		if i == registryValues {
			prop = "values[*].name"
		}
		var elems []string
		if p.list && i != registryValues {
			elems = []string{prop + "[*]", prop + "[0]"}
		} else {
			elems = []string{prop}
		}
		d := objDefs[p.obj]
		byType := map[string][]any{}
		for _, v := range p.vals {
			byType[objType(p.obj, v)] = append(byType[objType(p.obj, v)], v)
		}
		for typ, vals := range byType {
			for _, el := range elems {
				add(typ, el, vals, d.typ == "")
			}
		}
		if d.parent >= 0 {
			ref := d.ref
			if d.list {
				ref += "[*]"
			}
			pt := objDefs[d.parent].typ
			for _, el := range elems {
				add(pt, ref+"."+el, p.vals, d.typ == "")
			}
			types := []any{}
			for t := range byType {
				types = append(types, t)
			}
			sort.Slice(types, func(a, b int) bool { return types[a].(string) < types[b].(string) })
			add(pt, ref+".type", append(types, "domain-name"), false)
		}
	}
	out := make([]target, len(order))
	for i, k := range order {
		out[i] = *byKey[k]
	}
	return out
}()

// literal writes v as a pattern literal.
func literal(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case string:
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	}
	panic(fmt.Sprintf("literal %T", v))
}

// genValue picks a value for a comparison on t: one it may meet, mostly,
// or another of the same type, or a number written as text.
func genValue(r *rand.Rand, t *target) any {
	v := t.vals[r.IntN(len(t.vals))]
	switch r.IntN(10) {
	case 0:
		if n, ok := v.(int); ok {
			return n + 1
		}
		return v.(string) + "x"
	case 1:
		if n, ok := v.(int); ok {
			return strconv.Itoa(n) // text where the property holds a number: never equal
		}
	}
	return v
}

// genComparison writes one comparison on t.
func genComparison(r *rand.Rand, t *target) string {
	lhs := t.typ + ":" + t.path
	v := genValue(r, t)
	not := ""
	if r.IntN(8) == 0 {
		not = "NOT "
	}
	switch op := r.IntN(12); {
	case op < 4:
		return lhs + " " + not + "= " + literal(v)
	case op == 4:
		return lhs + " != " + literal(v)
	case op == 5:
		vs := []string{literal(v), literal(genValue(r, t))}
		return lhs + " " + not + "IN (" + strings.Join(vs, ", ") + ")"
	case op == 6:
		if s, ok := v.(string); ok {
			pre := s[:r.IntN(len(s)+1)]
			pre = strings.NewReplacer("%", "", "_", "").Replace(pre)
			return lhs + " " + not + "LIKE " + literal(pre+"%")
		}
		return lhs + " " + not + "> " + literal(v)
	case op == 7:
		if s, ok := v.(string); ok {
			pre := s[:r.IntN(len(s)+1)]
			return lhs + " " + not + "MATCHES " + literal("^"+regexp.QuoteMeta(pre))
		}
		return lhs + " " + not + "< " + literal(v)
	case op == 8:
		if t.addr {
			cidr := []string{"203.0.113.0/24", "198.51.100.0/25", "2001:db8::/32", "203.0.113.31/32"}[r.IntN(4)]
			return lhs + " " + not + "ISSUBSET " + literal(cidr)
		}
		return lhs + " " + not + ">= " + literal(v)
	case op == 9:
		return lhs + " " + not + "<= " + literal(v)
	case op == 10:
		if r.IntN(2) == 0 {
			return "EXISTS " + lhs
		}
		return "NOT EXISTS " + lhs
	default:
		return lhs + " " + not + "= " + literal(v)
	}
}

// cmpTree is a comparison expression, kept as a tree so that it can be
// written in another order.
type cmpTree struct {
	leaf        string
	op          string // AND, OR
	left, right *cmpTree
}

// genTree makes a comparison expression of up to depth levels; AND joins
// comparisons on one type (as STIX requires), OR any.
func genTree(r *rand.Rand, depth int, typ string) *cmpTree {
	if depth == 0 || r.IntN(3) == 0 {
		var cands []int
		for i := range targets {
			if typ == "" || targets[i].typ == typ {
				cands = append(cands, i)
			}
		}
		return &cmpTree{leaf: genComparison(r, &targets[cands[r.IntN(len(cands))]])}
	}
	if r.IntN(2) == 0 {
		if typ == "" {
			typ = targets[r.IntN(len(targets))].typ
		}
		return &cmpTree{op: "AND", left: genTree(r, depth-1, typ), right: genTree(r, depth-1, typ)}
	}
	return &cmpTree{op: "OR", left: genTree(r, depth-1, typ), right: genTree(r, depth-1, typ)}
}

// write writes the tree; flip reverses the operands at every node.
func (c *cmpTree) write(flip bool) string {
	if c.op == "" {
		return c.leaf
	}
	l, rt := c.left.write(flip), c.right.write(flip)
	if flip {
		l, rt = rt, l
	}
	return "(" + l + " " + c.op + " " + rt + ")"
}

// genBracket writes one observation expression's brackets, in both
// orders.
func genBracket(r *rand.Rand) (string, string) {
	c := genTree(r, 3, "")
	return "[" + c.write(false) + "]", "[" + c.write(true) + "]"
}

// engineObs converts the events to the engine's observations, through
// the observed data's JSON as `cyberpact pattern match` reads it.
func engineObs(t testing.TB, evs []event) []pattern.Observation {
	t.Helper()
	var docs []any
	for i, e := range evs {
		docs = append(docs, e.observedData(i))
	}
	raw, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	obs, err := pattern.ObservationsFromJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(obs) != len(evs) {
		t.Fatalf("%d observations from %d events", len(obs), len(evs))
	}
	return obs
}

// parseAll parses the generated patterns.
func parseAll(t testing.TB, srcs []string) []*pattern.Pattern {
	t.Helper()
	ps := make([]*pattern.Pattern, len(srcs))
	for i, src := range srcs {
		p, err := pattern.Parse(src)
		if err != nil {
			t.Fatalf("generated pattern %s does not parse: %v", src, err)
		}
		ps[i] = p
	}
	return ps
}

// engineMatches reports whether the engine matches p against obs.
func engineMatches(p *pattern.Pattern, obs []pattern.Observation) bool {
	res, err := p.Match(obs)
	return err == nil && res.Matched
}

// diffIndicator returns the JSON of indicator n with pattern p.
func diffIndicator(n int, p string) string {
	q, _ := json.Marshal(p)
	return strings.Replace(ind(n, "PATTERN", ""), `"PATTERN"`, string(q), 1)
}

// diffPositives counts the comparisons where the engine matched, so that
// TestDifferential can tell that it compared more than misses.
var diffPositives int

// diffBase is the time of the first generated event.
var diffBase = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// runDiffBatch builds an index of the patterns, streams the events (as
// ECS JSON, Zeek or CSV), and compares, for every pattern and event,
// whether match fired with whether the engine matches. It returns the
// pairs compared.
func runDiffBatch(t testing.TB, r *rand.Rand, pats []string, evs []event, format match.Format) int {
	t.Helper()
	objs := make([]string, len(pats))
	for i, p := range pats {
		objs[i] = diffIndicator(i+1, p)
	}
	ix, err := match.Build(raws(objs...), match.BuildOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if st := ix.Stats(); st.Errors > 0 {
		t.Fatalf("generated patterns refused: %v", st.FirstErrors)
	}
	var in strings.Builder
	lineOf := make([]int, len(evs))
	line := 0
	var header []string
	switch format {
	case match.Zeek:
		in.WriteString("#separator \\x09\n")
		line++
	case match.CSV:
		header = csvHeader(evs)
		in.WriteString(csvRow(header))
		line++
	}
	for i, e := range evs {
		switch format {
		case match.Zeek:
			in.WriteString(e.zeekLines())
			line += 2
		case match.CSV:
			in.WriteString(e.csvLine(header))
			line++
		default:
			in.WriteString(e.ecsLine(r) + "\n")
			line++
		}
		lineOf[i] = line
	}
	alerts, sum := runStream(t, ix, []byte(in.String()), match.StreamOptions{Format: format})
	if sum.Broken > 0 {
		t.Fatalf("broken lines %v in\n%s", sum.BrokenLines, in.String())
	}
	fired := map[[2]int]bool{}
	for _, a := range alerts {
		for _, s := range a.Indicators {
			n, _ := strconv.Atoi(s[len(s)-12:])
			fired[[2]int{a.Line, n - 1}] = true
		}
	}
	obs := engineObs(t, evs)
	parsed := parseAll(t, pats)
	fails := 0
	for pi, p := range pats {
		for ei := range evs {
			want := engineMatches(parsed[pi], obs[ei:ei+1])
			if want {
				diffPositives++
			}
			got := fired[[2]int{lineOf[ei], pi}]
			if got != want && fails < 5 {
				fails++
				var ev string
				switch format {
				case match.Zeek:
					ev = evs[ei].zeekLines()
				case match.CSV:
					ev = csvRow(header) + evs[ei].csvLine(header)
				default:
					ev = evs[ei].ecsLine(rand.New(rand.NewPCG(1, 2)))
				}
				od, _ := json.Marshal(evs[ei].observedData(ei))
				t.Errorf("pattern %s\nevent %s\nobserved data %s\nmatch fired: %v, the engine matches: %v", p, ev, od, got, want)
			}
		}
	}
	if fails > 0 {
		t.FailNow()
	}
	return len(pats) * len(evs)
}

// genObsPattern writes a pattern of two or three brackets joined by AND,
// OR or FOLLOWEDBY, with qualifiers.
func genObsPattern(r *rand.Rand) string {
	var expr string
	n := 2 + r.IntN(2)
	for i := range n {
		b, _ := genBracket(r)
		if r.IntN(5) == 0 {
			b = "(" + b + " REPEATS 2 TIMES)"
		}
		if i == 0 {
			expr = b
			continue
		}
		op := []string{"AND", "OR", "FOLLOWEDBY"}[r.IntN(3)]
		expr = "(" + expr + " " + op + " " + b + ")"
	}
	switch r.IntN(4) {
	case 0:
		expr += fmt.Sprintf(" WITHIN %d SECONDS", 5+r.IntN(60))
	case 1:
		a := diffBase.Add(time.Duration(r.IntN(60)) * time.Second)
		expr += " START t'" + a.Format("2006-01-02T15:04:05Z") + "' STOP t'" + a.Add(time.Duration(10+r.IntN(60))*time.Second).Format("2006-01-02T15:04:05Z") + "'"
	}
	return expr
}

// runSeqBatch streams a few events past patterns joining observations and
// compares, for every pattern, the first event at which match fires with
// the first at which the engine matches the events so far: the engine
// matching a prefix for the first time means every binding holds the
// prefix's last event, so match must fire there and not before. It
// returns the pairs compared.
func runSeqBatch(t testing.TB, r *rand.Rand, pats []string, evs []event) int {
	t.Helper()
	objs := make([]string, len(pats))
	for i, p := range pats {
		objs[i] = diffIndicator(i+1, p)
	}
	ix, err := match.Build(raws(objs...), match.BuildOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for _, e := range evs {
		in.WriteString(e.ecsLine(r) + "\n")
	}
	alerts, _ := runStream(t, ix, []byte(in.String()), match.StreamOptions{})
	first := make([]int, len(pats))
	for _, a := range alerts {
		for _, s := range a.Indicators {
			n, _ := strconv.Atoi(s[len(s)-12:])
			if first[n-1] == 0 || a.Line < first[n-1] {
				first[n-1] = a.Line
			}
		}
	}
	obs := engineObs(t, evs)
	parsed := parseAll(t, pats)
	for pi, p := range pats {
		want := 0
		for k := range evs {
			if engineMatches(parsed[pi], obs[:k+1]) {
				want = k + 1
				diffPositives++
				break
			}
		}
		if first[pi] != want {
			var lines bytes.Buffer
			for i, e := range evs {
				od, _ := json.Marshal(e.observedData(i))
				fmt.Fprintf(&lines, "%d: %s\n", i+1, od)
			}
			t.Fatalf("pattern %s\nmatch first fires at event %d, the engine first matches at event %d (0: never) of\n%s", p, first[pi], want, lines.String())
		}
	}
	return len(pats) * len(evs)
}

// genSingle generates n patterns of one observation (brackets joined by
// OR at most), each followed by its mirror image.
func genSingle(r *rand.Rand, n int) []string {
	var pats []string
	for len(pats) < n {
		a, b := genBracket(r)
		if r.IntN(4) == 0 {
			c, d := genBracket(r)
			a, b = a+" OR "+c, d+" OR "+b
		}
		pats = append(pats, a, b)
	}
	return pats
}

func genEvents(r *rand.Rand, n int, format match.Format) []event {
	evs := make([]event, n)
	at := diffBase
	for i := range evs {
		evs[i] = genEvent(r, format, at)
		at = at.Add(time.Duration(r.IntN(20)) * time.Second)
	}
	return evs
}

// TestDifferential compares match with the pattern engine over generated
// patterns and events: 200,000 pattern and event pairs of one observation
// as ECS JSON, 40,000 as Zeek and 40,000 as CSV, and 20,000 where patterns
// join several events (AND, OR, FOLLOWEDBY, REPEATS, WITHIN, START/STOP).
// The seed is fixed; -short runs a tenth.
func TestDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 2026))
	batches := 10
	if testing.Short() {
		batches = 1
	}
	pairs := 0
	diffPositives = 0
	t.Run("ECS", func(t *testing.T) {
		for range batches {
			pairs += runDiffBatch(t, r, genSingle(r, 400), genEvents(r, 50, match.JSONLines), match.JSONLines)
		}
	})
	t.Run("Zeek", func(t *testing.T) {
		for range batches {
			pairs += runDiffBatch(t, r, genSingle(r, 100), genEvents(r, 40, match.Zeek), match.Zeek)
		}
	})
	t.Run("CSV", func(t *testing.T) {
		for range batches {
			pairs += runDiffBatch(t, r, genSingle(r, 100), genEvents(r, 40, match.CSV), match.CSV)
		}
	})
	t.Run("Sequences", func(t *testing.T) {
		for range batches * 5 {
			var pats []string
			for range 50 {
				pats = append(pats, genObsPattern(r))
			}
			pairs += runSeqBatch(t, r, pats, genEvents(r, 8, match.JSONLines))
		}
	})
	t.Logf("%d pattern and event pairs compared, %d where the engine matched", pairs, diffPositives)
	if diffPositives < pairs/100 {
		t.Errorf("the engine matched only %d of %d pairs: the generator no longer makes patterns that meet their events", diffPositives, pairs)
	}
}

// FuzzDifferential is TestDifferential driven by the fuzzer: its input
// seeds the generator of one small batch of each kind.
func FuzzDifferential(f *testing.F) {
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(16), uint64(2026))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		r := rand.New(rand.NewPCG(a, b))
		runDiffBatch(t, r, genSingle(r, 20), genEvents(r, 10, match.JSONLines), match.JSONLines)
		runDiffBatch(t, r, genSingle(r, 10), genEvents(r, 6, match.Zeek), match.Zeek)
		runDiffBatch(t, r, genSingle(r, 10), genEvents(r, 6, match.CSV), match.CSV)
		var pats []string
		for range 10 {
			pats = append(pats, genObsPattern(r))
		}
		runSeqBatch(t, r, pats, genEvents(r, 6, match.JSONLines))
	})
}

// normalFormOnly reports whether every literal that p compares with = or
// IN against an address, a domain name, a URL, an e-mail address or a
// hash is already in the normal form match compares such values in, and
// is not a CIDR range written with =, which match reads as the range
// (both documented departures from the engine's plain text comparison).
func normalFormOnly(p *pattern.Pattern) bool {
	ok := true
	var walkCmp func(e pattern.ComparisonExpr)
	walkCmp = func(e pattern.ComparisonExpr) {
		switch e := e.(type) {
		case *pattern.ComparisonBinary:
			walkCmp(e.Left)
			walkCmp(e.Right)
		case *pattern.Comparison:
			if e.Op != pattern.OpEq && e.Op != pattern.OpIn {
				return
			}
			path := e.Path.String()
			var kind match.Kind
			switch {
			case strings.HasSuffix(path, "addr:value"), strings.HasSuffix(path, "src_ref.value"), strings.HasSuffix(path, "dst_ref.value"):
				kind = match.KindIP
				if strings.HasPrefix(path, "email") {
					kind = match.KindEmail
				}
			case path == "domain-name:value":
				kind = match.KindDomain
			case path == "url:value":
				kind = match.KindURL
			case strings.HasPrefix(path, "email-message:") && strings.HasSuffix(path, ".value"):
				kind = match.KindEmail
			case strings.Contains(path, "hashes."):
				kind = match.KindHash
			default:
				return
			}
			lits := append([]pattern.Literal{e.Value}, e.List...)
			for _, l := range lits {
				if l.Kind != pattern.LitString {
					continue
				}
				if strings.Contains(l.Str, "/") && kind == match.KindIP {
					ok = false
				}
				if n, _, good := match.Normalize(kind, l.Str); good && n != l.Str {
					ok = false
				}
			}
		}
	}
	var walk func(e pattern.ObservationExpr)
	walk = func(e pattern.ObservationExpr) {
		switch e := e.(type) {
		case *pattern.ObservationBinary:
			walk(e.Left)
			walk(e.Right)
		case *pattern.ObservationQualified:
			walk(e.Expr)
		case *pattern.ObservationBracket:
			walkCmp(e.Expr)
		}
	}
	walk(p.Root)
	return ok
}

// FuzzDifferentialPattern lets the fuzzer write the pattern, as text, and
// compares match with the engine over a fixed set of generated events, as
// TestDifferential does; patterns relying on match's documented
// normalisation are skipped.
func FuzzDifferentialPattern(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 7))
	for range 20 {
		a, _ := genBracket(r)
		f.Add(a)
	}
	f.Add("[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.31' AND network-traffic:dst_port = 8443]")
	f.Add("[email-message:from_ref.value = 'ceo@evil.example' AND email-message:subject LIKE 'Invoice%']")
	f.Add("[file:hashes.'MD5' = '" + strings.Repeat("a1", 16) + "']")
	evs := genEvents(rand.New(rand.NewPCG(8, 8)), 40, match.JSONLines)
	f.Fuzz(func(t *testing.T, src string) {
		if !utf8.ValidString(src) {
			return // an indicator's JSON cannot carry it
		}
		p, err := pattern.Parse(src)
		if err != nil || !normalFormOnly(p) {
			return
		}
		if _, err := p.Match(nil); err != nil {
			return // refused by the engine whatever the data (a bad regular expression...)
		}
		runDiffBatch(t, rand.New(rand.NewPCG(9, 9)), []string{src}, evs, match.JSONLines)
	})
}
