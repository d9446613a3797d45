package ingest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/uuid"
)

// CSV and list sources. Each value becomes an indicator whose id is made
// from the source's name, the value's type and the value, so that the
// same value read again is the same object: unchanged, it is left alone
// (counted present); with another name, description or labels, it gets a
// new version. A body the source serves unchanged (the same ETag, or the
// same SHA-256) is not read again. Values that leave the list are not
// withdrawn.

// row is one value of a CSV or list source.
type row struct {
	line                    int
	value, typ, name, descr string
	labels                  []string
}

// indicatorNamespace is the namespace of the ids of indicators made from
// CSV and list values.
var indicatorNamespace = uuid.MustParse("a7c3e9d2-4b61-4f0e-8d25-3c9b7f1e6a40")

func (r *Runner) runValues(ctx context.Context, src *cyberpact.Source, st *cyberpact.SourceState, res *Result) error {
	etag := st.ETag
	if st.LastError != "" {
		etag = ""
	}
	body, h, err := r.get(ctx, src, src.URL, etag)
	if errors.Is(err, errNotModified) {
		return nil
	}
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	if digest == st.Digest && st.LastError == "" {
		st.ETag = h.Get("ETag")
		return nil
	}
	rows, bad, err := parseValues(src, body)
	if err != nil {
		return err
	}
	res.Rejected += len(bad)
	for _, b := range bad {
		res.reject(b)
	}
	objs, present, err := r.indicators(ctx, src, rows)
	if err != nil {
		return err
	}
	res.Present += present
	ir, err := r.importObjects(ctx, src, objs, string(src.Kind)+" "+src.URL)
	res.add(ir, src.URL)
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		// The good rows are in; the body is read again next time, so that
		// the bad ones are reported until the source mends them.
		more := ""
		if len(bad) > 3 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-3)
			bad = bad[:3]
		}
		return fmt.Errorf("%s%s", strings.Join(bad, "; "), more)
	}
	st.ETag, st.Digest = h.Get("ETag"), digest
	return nil
}

// parseValues reads the rows of a CSV or list body; bad lists the rows
// that could not be read, each with its line.
func parseValues(src *cyberpact.Source, body []byte) (rows []row, bad []string, err error) {
	typ := src.Type
	if typ == "" {
		typ = "auto"
	}
	add := func(line int, value, t, name, descr, labels string) {
		value = strings.TrimSpace(value)
		if value == "" {
			bad = append(bad, fmt.Sprintf("line %d: no value", line))
			return
		}
		if t = strings.TrimSpace(t); t == "" {
			t = typ
		}
		rt, err := valueType(t, value)
		if err != nil {
			bad = append(bad, fmt.Sprintf("line %d: %v", line, err))
			return
		}
		rw := row{line: line, value: value, typ: rt, name: strings.TrimSpace(name), descr: strings.TrimSpace(descr)}
		for l := range strings.FieldsFuncSeq(labels, func(c rune) bool { return c == ';' || c == '|' }) {
			if l = strings.TrimSpace(l); l != "" {
				rw.labels = append(rw.labels, l)
			}
		}
		rows = append(rows, rw)
	}
	if src.Kind == cyberpact.SourceList {
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for n := 1; sc.Scan(); n++ {
			l := strings.TrimSpace(sc.Text())
			if i := strings.IndexAny(l, "#;"); i >= 0 && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
				l = strings.TrimSpace(l[:i])
			}
			switch f := strings.Fields(l); {
			case len(f) > 1:
				bad = append(bad, fmt.Sprintf("line %d: %q is not one value", n, l))
			case len(f) == 1:
				add(n, f[0], "", "", "", "")
			}
		}
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", src.URL, err)
		}
		return rows, bad, nil
	}
	m, err := cyberpact.ParseColumnMap(src.Columns)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord, cr.Comment, cr.LazyQuotes, cr.ReuseRecord = -1, '#', true, true
	cell := func(rec []string, n int) string {
		if n == 0 || n > len(rec) {
			return ""
		}
		return rec[n-1]
	}
	first := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", src.URL, err) // a csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		if first && m.Header {
			first = false
			continue
		}
		first = false
		if m.Value > len(rec) {
			bad = append(bad, fmt.Sprintf("line %d: no column %d (the value)", line, m.Value))
			continue
		}
		add(line, cell(rec, m.Value), cell(rec, m.Type), cell(rec, m.Name), cell(rec, m.Description), cell(rec, m.Labels))
	}
	return rows, bad, nil
}

// typeAliases are the names of value types a CSV column may use besides
// cyberpact.ValueTypes: MISP's attribute types and common words.
var typeAliases = map[string]string{
	"ip": "auto", "ip-dst": "auto", "ip-src": "auto", "ipv4": "ipv4-addr", "ipv6": "ipv6-addr",
	"domain": "domain-name", "hostname": "domain-name", "uri": "url", "link": "url",
	"email": "email-addr", "email-src": "email-addr", "email-dst": "email-addr",
	"sha-1": "sha1", "sha-256": "sha256",
}

// valueType resolves the type t of value v (auto: told from the value).
func valueType(t, v string) (string, error) {
	t = strings.ToLower(t)
	if a, ok := typeAliases[t]; ok {
		t = a
	}
	if !cyberpact.ValueTypes[t] {
		return "", fmt.Errorf("value type %q is not one of auto, ipv4-addr, ipv6-addr, domain-name, url, email-addr, md5, sha1, sha256", t)
	}
	guess := guessType(v)
	if t == "auto" {
		if guess == "" {
			return "", fmt.Errorf("cannot tell what %q is (an address, a domain, a URL, an email address or a hash)", v)
		}
		return guess, nil
	}
	if guess != t && !(t == "domain-name" && guess == "") {
		return "", fmt.Errorf("%q is not a %s", v, t)
	}
	return t, nil
}

// guessType tells the type of a value from its form, "" when none fits.
func guessType(v string) string {
	ip := v
	if i := strings.IndexByte(v, '/'); i > 0 {
		if _, _, err := net.ParseCIDR(v); err != nil {
			ip = ""
		} else {
			ip = v[:i]
		}
	}
	if a := net.ParseIP(ip); a != nil {
		if a.To4() != nil {
			return "ipv4-addr"
		}
		return "ipv6-addr"
	}
	if strings.Contains(v, "://") {
		return "url"
	}
	if isHex(v) {
		switch len(v) {
		case 32:
			return "md5"
		case 40:
			return "sha1"
		case 64:
			return "sha256"
		}
	}
	if at := strings.LastIndexByte(v, '@'); at > 0 && isDomain(v[at+1:]) {
		return "email-addr"
	}
	if isDomain(v) {
		return "domain-name"
	}
	return ""
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isDomain(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for l := range strings.SplitSeq(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// patternOf is the STIX pattern that matches value v of type t.
func patternOf(t, v string) string {
	q := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
	switch t {
	case "md5":
		return "[file:hashes.MD5 = " + q + "]"
	case "sha1":
		return "[file:hashes.'SHA-1' = " + q + "]"
	case "sha256":
		return "[file:hashes.'SHA-256' = " + q + "]"
	}
	return "[" + t + ":value = " + q + "]"
}

// indicator is the content of a value's indicator that decides whether
// it changed.
type indicator struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Pattern     string   `json:"pattern"`
	Labels      []string `json:"labels,omitempty"`
}

// indicators returns the indicators of rows that are new or changed (a
// value read twice in one body counts once, its last row winning), and
// how many are stored already as they are. Stored versions are read as
// the source's producer sees them.
func (r *Runner) indicators(ctx context.Context, src *cyberpact.Source, rows []row) ([]json.RawMessage, int, error) {
	var viewer *cyberpact.Viewer
	if src.Org != 0 {
		viewer = &cyberpact.Viewer{Org: src.Org}
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	last := map[string]int{}
	for i, rw := range rows {
		last[rw.typ+"\x00"+rw.value] = i
	}
	var out []json.RawMessage
	present := 0
	for i, rw := range rows {
		if last[rw.typ+"\x00"+rw.value] != i {
			continue
		}
		id := "indicator--" + uuid.NewSHA1(indicatorNamespace, []byte(src.Name+"\x00"+rw.typ+"\x00"+rw.value)).String()
		want := indicator{Name: rw.name, Description: rw.descr, Pattern: patternOf(rw.typ, rw.value), Labels: rw.labels}
		if want.Name == "" {
			want.Name = rw.value
		}
		slices.Sort(want.Labels)
		created, modified := now, now
		old, err := r.Store.Object(ctx, id, viewer)
		switch {
		case err == nil:
			var had indicator
			var times struct{ Created, Modified time.Time }
			json.Unmarshal(old.Raw, &had)
			json.Unmarshal(old.Raw, &times)
			slices.Sort(had.Labels)
			if had.Name == want.Name && had.Description == want.Description && had.Pattern == want.Pattern && slices.Equal(had.Labels, want.Labels) {
				present++
				continue
			}
			created = times.Created
			if !modified.After(times.Modified) {
				modified = times.Modified.Add(time.Millisecond)
			}
		case cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND:
			return nil, 0, err
		}
		o := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id,
			"created": stix.FormatTime(created), "modified": stix.FormatTime(modified),
			"name": want.Name, "pattern": want.Pattern, "pattern_type": "stix", "valid_from": stix.FormatTime(created),
			"indicator_types": []string{"malicious-activity"}}
		if want.Description != "" {
			o["description"] = want.Description
		}
		if len(want.Labels) > 0 {
			o["labels"] = want.Labels
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, b)
	}
	return out, present, nil
}
