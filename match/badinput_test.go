package match_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cyberpact/cyberpact/match"
)

func TestBadInputCountedAndSkipped(t *testing.T) {
	ix := build(t, ind(1, "[ipv4-addr:value = '198.51.100.7']", ""), ind(2, "[domain-name:value = 'evil.example']", ""))
	good := `{"destination":{"ip":"198.51.100.7"}}`
	garbage := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(r.IntN(256))
		if garbage[i] == '\n' {
			garbage[i] = 0
		}
	}
	zeekHead := "#separator \\x09\n#path\tdns\n#fields\tts\tuid\tid.orig_h\tid.resp_h\tquery\n#types\ttime\tstring\taddr\taddr\tstring\n"
	for _, tc := range []struct {
		name       string
		format     match.Format
		input      string
		wantHits   []int
		wantBroken []int
		wantEvents int64
	}{
		{
			name:   "BrokenJSONLines",
			format: match.JSONLines,
			input: strings.Join([]string{good, `{"destination":{"ip":"198.51.100.7"}`, `{"a":1,}`, `[1,2]`, `{"a":"unterminated}`,
				`{"a":tru}`, `{"a":"x"} trailing`, `{"a":"\x01"}`, good, `{"a":"\q"}`, ``, good}, "\n"),
			wantHits:   []int{1, 9, 12},
			wantBroken: []int{2, 3, 4, 5, 6, 7, 8, 10},
			wantEvents: 3,
		},
		{
			name:       "TenMegabyteLine",
			format:     match.JSONLines,
			input:      good + "\n" + `{"x":"` + strings.Repeat("a", 10<<20) + `"}` + "\n" + good + "\n",
			wantHits:   []int{1, 3},
			wantBroken: []int{2},
			wantEvents: 2,
		},
		{
			name:       "TenMegabyteLastLineWithoutNewline",
			format:     match.JSONLines,
			input:      good + "\n" + strings.Repeat("a", 10<<20),
			wantHits:   []int{1},
			wantBroken: []int{2},
			wantEvents: 1,
		},
		{
			name:       "BinaryGarbage",
			format:     match.JSONLines,
			input:      good + "\n" + string(garbage) + "\n" + good + "\n" + string(garbage[:100]),
			wantHits:   []int{1, 3},
			wantBroken: []int{2, 4},
			wantEvents: 2,
		},
		{
			name:       "DeepNesting",
			format:     match.JSONLines,
			input:      strings.Repeat("{\"a\":", 100000) + "1" + strings.Repeat("}", 100000) + "\n" + good + "\n",
			wantHits:   []int{2},
			wantBroken: []int{1},
			wantEvents: 1,
		},
		{
			name:       "ZeekWithoutFields",
			format:     match.Zeek,
			input:      "1.0\tCx\t10.0.0.1\t198.51.100.7\tevil.example\n2.0\tCy\t10.0.0.1\t198.51.100.7\tevil.example\n",
			wantBroken: []int{1, 2},
		},
		{
			name:       "ZeekFieldsLater",
			format:     match.Zeek,
			input:      "1.0\tCx\t10.0.0.1\t198.51.100.7\tx\n" + zeekHead + "2.0\tCy\t10.0.0.1\t192.0.2.1\tevil.example\n3.0\tCz\t10.0.0.1\t-\n",
			wantHits:   []int{6},
			wantBroken: []int{1, 7},
			wantEvents: 1,
		},
		{
			name:       "ZeekUnsetAndSets",
			format:     match.Zeek,
			input:      zeekHead + "2.0\tCy\t-\t(empty)\tbenign.test,evil.example\n#close\t2026\n",
			wantHits:   []int{5},
			wantEvents: 1,
		},
		{
			name:       "CSVRaggedRows",
			format:     match.CSV,
			input:      "ts,source.ip,destination.ip\n1,10.0.0.1,198.51.100.7\n2,10.0.0.1\n3,10.0.0.1,198.51.100.7,extra\n\"4\",\"10.0.0.1\",\"198.51.100.7\"\n5,\"unterminated,198.51.100.7\n",
			wantHits:   []int{2, 5},
			wantBroken: []int{3, 4, 6},
			wantEvents: 2,
		},
		{
			name:       "ByteOrderMark",
			format:     match.JSONLines,
			input:      "\xef\xbb\xbf" + good + "\r\n" + good + "\r\n",
			wantHits:   []int{1, 2},
			wantEvents: 2,
		},
		{
			name:       "CSVCRLF",
			format:     match.CSV,
			input:      "dns.question.name,x\r\nEVIL.EXAMPLE,1\r\n",
			wantHits:   []int{2},
			wantEvents: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alerts, sum := runStream(t, ix, []byte(tc.input), match.StreamOptions{Format: tc.format})
			var hits, broken []int
			for _, a := range alerts {
				hits = append(hits, a.Line)
			}
			for _, b := range sum.BrokenLines {
				broken = append(broken, b.Line)
				if b.Reason == "" {
					t.Errorf("broken line %d has no reason", b.Line)
				}
			}
			if !equalInts(hits, tc.wantHits) || !equalInts(broken, tc.wantBroken) || sum.Broken != int64(len(tc.wantBroken)) || sum.Events != tc.wantEvents {
				t.Errorf("hits on lines %v, broken %v (%d, %+v), %d events; want hits %v, broken %v, %d events",
					hits, broken, sum.Broken, sum.BrokenLines, sum.Events, tc.wantHits, tc.wantBroken, tc.wantEvents)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n > 0 {
		f.n--
		return copy(p, "{\"a\":1}\n"), nil
	}
	return 0, errors.New("disk on fire")
}

func TestReadErrorIsReturned(t *testing.T) {
	ix := build(t, ind(1, "[ipv4-addr:value = '198.51.100.7']", ""))
	_, err := match.Stream(t.Context(), match.NewMatcher(ix), &failingReader{n: 3}, io.Discard, match.StreamOptions{})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v, want the reader's error", err)
	}
}

func TestZeekHTTPJoinsHostAndURI(t *testing.T) {
	ix := build(t, ind(1, "[url:value = 'http://evil.example/gate.php?id=1']", ""))
	log := "#separator \\x09\n#fields\tts\tid.orig_h\tid.resp_h\thost\turi\n1.0\t10.0.0.1\t192.0.2.1\tEVIL.example\t/gate.php?id=1\n"
	alerts, _ := runStream(t, ix, []byte(log), match.StreamOptions{Format: match.Zeek})
	if len(alerts) != 1 || alerts[0].Field != "host+uri" || alerts[0].Line != 3 {
		t.Fatalf("alerts %+v, want one on line 3 from host+uri", alerts)
	}
	if !bytes.Contains(alerts[0].Event, []byte(`"uri":"/gate.php?id=1"`)) {
		t.Errorf("event %s does not show the columns by name", alerts[0].Event)
	}
}

func TestFieldMapping(t *testing.T) {
	ix := build(t, ind(1, "[ipv4-addr:value = '198.51.100.7']", ""), ind(2, "[file:hashes.'SHA-256' = '"+strings.Repeat("a", 64)+"']", ""),
		ind(3, "[mutex:name = 'Global\\\\evil']", ""))
	f, err := match.ParseFields("dst=ipv4,h=sha256,mtx=mutex:name")
	if err != nil {
		t.Fatal(err)
	}
	events := `{"dst":"198.51.100.7","destination.ip":"198.51.100.8"}
{"h":"` + strings.Repeat("A", 64) + `"}
{"mtx":"Global\\evil"}
`
	got := hitsOf(t, ix, events, match.StreamOptions{Fields: f})
	if len(got) != 3 || got[1][0] != id(1) || got[2][0] != id(2) || got[3][0] != id(3) {
		t.Errorf("hits %v", got)
	}
	for _, bad := range []string{"", "x", "x=", "x=nonsense", "x=file:name[", "x=process:opened_connection_refs[*].dst_port", "x=file:contains_refs[*].name"} {
		if _, err := match.ParseFields(bad); err == nil {
			t.Errorf("ParseFields(%q) accepted", bad)
		}
	}
}

// TestFieldMappingByPath checks that a mapping may name any STIX path an
// event can stand for, written as in a pattern, with the kind the path
// implies: an address through a reference, a nested property, one behind
// a reference the observation can hold.
func TestFieldMappingByPath(t *testing.T) {
	ix := build(t,
		ind(1, "[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 22]", ""),
		ind(2, "[email-message:subject = 'Hi' AND email-message:to_refs[*].value = 'a@b.example']", ""),
		ind(3, "[directory:path = '/tmp']", ""),
		ind(4, "[file:parent_directory_ref.path = '/tmp' AND file:name = 'x.sh']", ""))
	f, err := match.ParseFields("d=network-traffic:dst_ref.value,p=network-traffic:dst_port,s=email-message:subject," +
		"to=email-message:to_refs[*].value,dir=file:parent_directory_ref.path,n=file:name")
	if err != nil {
		t.Fatal(err)
	}
	events := `{"d":"198.51.100.7","p":22}
{"s":"Hi","to":["c@d.example","A@B.example"]}
{"dir":"/tmp"}
{"dir":"/tmp","n":"x.sh"}
`
	got := hitsOf(t, ix, events, match.StreamOptions{Fields: f})
	want := map[int][]string{1: {id(1)}, 2: {id(2)}, 3: {id(3)}, 4: {id(3), id(4)}}
	for line := 1; line <= 4; line++ {
		if !slices.Equal(got[line], want[line]) {
			t.Errorf("line %d fired %v, want %v", line, got[line], want[line])
		}
	}
}

func TestAlertsAreValidUTF8(t *testing.T) {
	ix := build(t, ind(1, "[ipv4-addr:value = '198.51.100.7']", ""))
	var out bytes.Buffer
	in := "{\"destination.ip\":\"198.51.100.7\",\"user\":\"\xff\xfe bad\"}\n"
	if _, err := match.Stream(t.Context(), match.NewMatcher(ix), strings.NewReader(in), &out, match.StreamOptions{}); err != nil {
		t.Fatal(err)
	}
	if out.Len() == 0 || !utf8.Valid(out.Bytes()) {
		t.Errorf("alert %q is not valid UTF-8", out.Bytes())
	}
}
