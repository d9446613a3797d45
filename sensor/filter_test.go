package sensor_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cyberpact/cyberpact"
	"github.com/cyberpact/cyberpact/sensor"
)

// csvRows exports the fixture as CSV and returns the rows without header.
func csvRows(t *testing.T, objs []*cyberpact.Object, opt sensor.Options) ([][]string, *sensor.Stats) {
	t.Helper()
	got, st := export(t, objs, "csv", opt)
	rows, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:], st
}

func TestFilters(t *testing.T) {
	objs := fixture(t)
	all, st := csvRows(t, objs, sensor.Options{})
	for _, reason := range []string{"revoked", "expired", "not yet valid", "pattern joins comparisons with AND", "pattern has a WITHIN qualifier"} {
		if st.Skipped[reason] != 1 {
			t.Errorf("skipped for %q: %d, want 1 (%v)", reason, st.Skipped[reason], st.Skipped)
		}
	}
	t.Run("Labels", func(t *testing.T) {
		rows, _ := csvRows(t, objs, sensor.Options{Labels: []string{"c2", "scanner"}})
		want := 0
		for _, r := range all {
			if slices.ContainsFunc(strings.Split(r[4], ";"), func(l string) bool { return l == "c2" || l == "scanner" }) {
				want++
			}
		}
		for _, r := range rows {
			if !strings.Contains(r[4], "c2") && !strings.Contains(r[4], "scanner") {
				t.Errorf("row without the label: %v", r)
			}
		}
		if len(rows) != want || want == 0 {
			t.Errorf("%d rows, want %d", len(rows), want)
		}
	})
	t.Run("TLP", func(t *testing.T) {
		rows, _ := csvRows(t, objs, sensor.Options{TLPs: []cyberpact.TLP{cyberpact.TLPGreen, cyberpact.TLPClear}})
		if len(rows) != 2 {
			t.Errorf("%d rows, want the green and the clear one: %v", len(rows), rows)
		}
		for _, r := range rows {
			if r[5] != "green" && r[5] != "clear" {
				t.Errorf("row of TLP %s", r[5])
			}
		}
	})
	t.Run("MinScore", func(t *testing.T) {
		rows, _ := csvRows(t, objs, sensor.Options{MinScore: 30})
		want := 0
		for _, r := range all {
			if n, _ := strconv.Atoi(r[7]); n >= 30 {
				want++
			}
		}
		if len(rows) != want || want == 0 || want == len(all) {
			t.Errorf("%d rows, want %d of %d", len(rows), want, len(all))
		}
		for _, r := range rows {
			if n, _ := strconv.Atoi(r[7]); n < 30 {
				t.Errorf("row with score %d: %v", n, r)
			}
		}
	})
	t.Run("IncludeInvalid", func(t *testing.T) {
		rows, _ := csvRows(t, objs, sensor.Options{IncludeInvalid: true})
		var names []string
		for _, r := range rows[len(all):] {
			names = append(names, r[3])
		}
		if len(rows) != len(all)+2 {
			t.Errorf("%d rows, want %d and the expired and future ones; extra: %v", len(rows), len(all)+2, names)
		}
	})
	t.Run("Kinds", func(t *testing.T) {
		rows, _ := csvRows(t, objs, sensor.Options{Kinds: []sensor.Kind{sensor.KindEmail, sensor.KindCIDR}})
		for _, r := range rows {
			if r[1] != "email" && r[1] != "cidr" {
				t.Errorf("row of kind %s", r[1])
			}
		}
		if len(rows) != 2 {
			t.Errorf("%d rows, want 2", len(rows))
		}
	})
	t.Run("UnknownFormat", func(t *testing.T) {
		_, err := sensor.Export(nil, "pdf", sliceSource(objs), sensor.Options{})
		if cyberpact.ErrorCode(err) != cyberpact.EINVALID || !strings.Contains(err.Error(), "pdf") {
			t.Errorf("error %v, want EINVALID naming the format", err)
		}
	})
}

// indicatorObject builds a stored indicator with the given name and
// pattern.
func indicatorObject(t *testing.T, n int, name, pat string) *cyberpact.Object {
	t.Helper()
	id := fmt.Sprintf("indicator--%08x-0000-4000-8000-%012x", n, n)
	raw, err := json.Marshal(map[string]any{"type": "indicator", "spec_version": "2.1", "id": id, "name": name,
		"created": "2025-01-01T00:00:00Z", "modified": "2025-01-01T00:00:00Z", "pattern": pat, "pattern_type": "stix",
		"valid_from": "2025-01-01T00:00:00Z"})
	if err != nil {
		t.Fatal(err)
	}
	return &cyberpact.Object{ID: id, Type: "indicator", Raw: raw, Release: cyberpact.Release{TLP: cyberpact.TLPAmber}}
}

// TestRuleEscaping writes names holding every byte and URLs holding every
// printable character, and checks that the rule parser reads back the
// same msg and content.
func TestRuleEscaping(t *testing.T) {
	var objs []*cyberpact.Object
	var names []string
	for c := 1; c < 256; c += 5 {
		var b strings.Builder
		for i := c; i < c+5 && i < 256; i++ {
			b.WriteRune(rune(i))
		}
		b.WriteString(`;"\|:`)
		names = append(names, b.String())
		objs = append(objs, indicatorObject(t, len(objs)+1, b.String(), fmt.Sprintf("[ipv4-addr:value = '192.0.2.%d']", len(objs)+1)))
	}
	var paths []string
	for c := byte('!'); c <= '~'; c++ {
		if c == '#' || c == '\'' || c == '\\' || c == '%' {
			continue // a fragment, the pattern's quote, a pattern escape, a bad URL escape
		}
		p := "/a" + string(c) + "b;c\"d|e:f"
		paths = append(paths, p)
		objs = append(objs, indicatorObject(t, len(objs)+1, "url", "[url:value = 'http://h.example"+p+"']"))
	}
	for _, engine := range []string{"suricata", "snort"} {
		got, _ := export(t, objs, engine, sensor.Options{})
		var msgs, uris []string
		for i, line := range lines(got)[1:] {
			r, err := parseRule(engine, line)
			if err != nil {
				t.Fatalf("%s line %d: %v\n%s", engine, i+2, err, line)
			}
			msg, _ := r.opt("msg")
			if r.Proto == "ip" {
				msgs = append(msgs, msg.Text[strings.Index(msg.Text, ": ")+2:])
				continue
			}
			c := r.opts("content")
			uri := c[0].Bytes
			if engine == "suricata" {
				uri = c[1].Bytes
			}
			// The msg names the URL as exported (normalised).
			u, err := url.Parse(strings.Fields(msg.Text)[2][:len(strings.Fields(msg.Text)[2])-1])
			if err != nil {
				t.Fatalf("%s: msg %q: %v", engine, msg.Text, err)
			}
			if string(uri) != u.RequestURI() {
				t.Errorf("%s: content %q for URL %s", engine, uri, u)
			}
			uris = append(uris, string(uri))
		}
		for i, n := range names {
			want := strings.Map(func(r rune) rune {
				if r < 0x20 || r > 0x7e {
					return '?'
				}
				return r
			}, n)
			// A rune above 0x7f is two or more bytes, each a '?'.
			want = strings.ReplaceAll(want, "?", "")
			if strings.ReplaceAll(msgs[i], "?", "") != want {
				t.Errorf("%s: msg %q for name %q", engine, msgs[i], n)
			}
		}
		if len(uris) != len(paths) {
			t.Errorf("%s: %d URL rules for %d URLs", engine, len(uris), len(paths))
		}
	}
}

func TestDigestIgnoresOnlyTheHeader(t *testing.T) {
	objs := fixture(t)
	for _, format := range []string{"rpz", "suricata", "csv"} {
		var a, b, c bytes.Buffer
		sa, err := sensor.Export(&a, format, sliceSource(objs), sensor.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := sensor.Export(&b, format, sliceSource(objs), sensor.Options{Now: now.Add(time.Second)})
		sc, _ := sensor.Export(&c, format, sliceSource(objs[1:]), sensor.Options{Now: now})
		if format != "csv" && a.String() == b.String() {
			t.Errorf("%s: the header does not change with the time; the test shows nothing", format)
		}
		if sa.Digest != sb.Digest {
			t.Errorf("%s: digest changed with the export's time alone", format)
		}
		if sa.Digest == sc.Digest {
			t.Errorf("%s: digest unchanged without the first indicator", format)
		}
	}
}
