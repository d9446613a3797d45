package stix_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cyberpact/cyberpact/internal/gen"
	"github.com/cyberpact/cyberpact/stix"
	"github.com/google/go-cmp/cmp"
)

// readAll reads every item of input, stopping at the first error (io.EOF
// gives a nil error).
func readAll(r *stix.Reader) ([]stix.Item, error) {
	var items []stix.Item
	for {
		it, err := r.Next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return items, err
		}
		items = append(items, it)
	}
}

func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("compacting %s: %v", s, err)
	}
	return b.String()
}

const (
	tool1 = `{"type":"tool","id":"tool--00000001-0000-4000-8000-000000000001","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Hammer"}`
	tool2 = `{"type":"tool","id":"tool--00000002-0000-4000-8000-000000000002","spec_version":"2.1","created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"Saw"}`
	bid   = `"bundle--00000009-0000-4000-8000-000000000009"`
)

// item is what a test expects of one read object.
type item struct {
	Raw   string
	Index int
	Line  int
}

func TestReader(t *testing.T) {
	escapes := `{"type":"note","id":"note--00000003-0000-4000-8000-000000000003","content":"quote \" backslash \\ slash \/ nl \n tab \t u \u00e9\u4e2d \ud83d\ude00 raw é中😀 two  spaces { [ ] } , :"}`
	indented := "{\n  \"type\" : \"tool\",\n\t\"id\":\"tool--00000001-0000-4000-8000-000000000001\",\r\n  \"x_list\" : [ 1 , 2.5e3 , true , false , null , { } , [ ] ],\n  \"name\": \"a  b\"\n}"
	for _, tc := range []struct {
		name   string
		input  string
		want   []item
		bundle string // BundleID after the end
	}{
		{"ObjectsBeforeType", `{"objects":[` + tool1 + `,` + tool2 + `],"id":` + bid + `,"type":"bundle"}`,
			[]item{{tool1, 0, 1}, {tool2, 1, 1}}, strings.Trim(bid, `"`)},
		{"TypeFirst", `{"type":"bundle","id":` + bid + `,"objects":[` + tool1 + `]}`, []item{{tool1, 0, 1}}, strings.Trim(bid, `"`)},
		{"EmptyBundle", `{"type":"bundle","id":` + bid + `,"objects":[]}`, nil, strings.Trim(bid, `"`)},
		{"BundleWithoutObjects", `{"type":"bundle","id":` + bid + `}`, nil, strings.Trim(bid, `"`)},
		{"STIX20BundleProperties", `{"type":"bundle","id":` + bid + `,"spec_version":"2.0","objects":[` + tool1 + `]}`, []item{{tool1, 0, 1}}, strings.Trim(bid, `"`)},
		{"UnknownTopLevelPropertiesSkipped", `{"type":"bundle","x_extra":{"a":[1,{"b":"]"}]},"id":` + bid + `,"objects":[` + tool1 + `],"x_after":"}"}`, []item{{tool1, 0, 1}}, strings.Trim(bid, `"`)},
		{"SingleObjectIsABundleOfOne", tool1, []item{{tool1, 0, 1}}, ""},
		{"SingleObjectIndented", indented, []item{{compact(t, indented), 0, 1}}, ""},
		{"WhitespaceCompacted", "{\"type\":\"bundle\",\n\"id\":" + bid + ",\n\"objects\":[\n" + indented + ",\n\n" + tool2 + "\n]\n}\n",
			[]item{{compact(t, indented), 0, 4}, {tool2, 1, 11}}, strings.Trim(bid, `"`)},
		{"StringsWithEscapesAndUnicodeKept", `{"type":"bundle","id":` + bid + `,"objects":[` + escapes + `]}`, []item{{escapes, 0, 1}}, strings.Trim(bid, `"`)},
		{"LeadingAndTrailingWhitespace", "\n\n  " + tool1 + " \n\t\n", []item{{tool1, 0, 1}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Byte by byte too, so every buffer boundary is crossed.
			for _, in := range []struct {
				name string
				r    io.Reader
			}{{"Whole", strings.NewReader(tc.input)}, {"OneByte", iotest.OneByteReader(strings.NewReader(tc.input))}} {
				r := stix.NewReader(in.r)
				items, err := readAll(r)
				if err != nil {
					t.Fatalf("%s: %v", in.name, err)
				}
				var got []item
				for _, it := range items {
					got = append(got, item{string(it.Raw), it.Index, it.Line})
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("%s: items (-want +got):\n%s", in.name, diff)
				}
				if r.BundleID() != tc.bundle {
					t.Errorf("%s: BundleID = %q, want %q", in.name, r.BundleID(), tc.bundle)
				}
				if _, err := r.Next(); err != io.EOF {
					t.Errorf("%s: Next after the end = %v, want io.EOF again", in.name, err)
				}
			}
		})
	}
}

func TestReaderRejects(t *testing.T) {
	big := `{"type":"note","id":"note--00000003-0000-4000-8000-000000000003","content":"` + strings.Repeat("x", 2000) + `"}`
	deep := `{"type":"x-deep","id":"x-deep--00000003-0000-4000-8000-000000000003","v":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`
	bundle := func(objs ...string) string {
		return `{"type":"bundle","id":` + bid + `,"objects":[` + strings.Join(objs, ",") + `]}`
	}
	for _, tc := range []struct {
		name      string
		input     string
		maxSize   int
		wantItems int    // read before the error
		wantMsg   string // in the error
		wantLine  int
	}{
		{"Empty", "", 0, 0, "the input is empty", 1},
		{"OnlyWhitespace", " \n ", 0, 0, "the input is empty", 2},
		{"JSONArray", `[` + tool1 + `]`, 0, 0, "expected a STIX bundle (a JSON object) but found an array", 1},
		{"JSONString", `"bundle"`, 0, 0, "found a string", 1},
		{"ObjectNotSTIX", `{"hello":"world"}`, 0, 0, `not a STIX bundle: a JSON object with no STIX "type" and "id"`, 1},
		{"ObjectsWithoutType", `{"id":` + bid + `,"objects":[]}`, 0, 0, `no "type": "bundle"`, 1},
		{"ObjectsWithOtherType", `{"type":"report","id":` + bid + `,"objects":[]}`, 0, 0, `the top-level type is "report"`, 1},
		{"ObjectsNotArray", `{"type":"bundle","objects":{}}`, 0, 0, `"objects" must be an array`, 1},
		{"ElementNotObject", bundle(tool1, `"tool"`), 0, 1, "object #1 of the bundle is a string", 1},
		{"TruncatedInsideObject", bundle(tool1, tool2)[:len(bundle(tool1, tool2))-40], 0, 1, "truncated input: the file ends inside", 1},
		{"TruncatedAfterObject", bundle(tool1)[:len(bundle(tool1))-2], 0, 1, "truncated input", 1},
		{"TruncatedInString", `{"type":"bundle","objects":[{"type":"too`, 0, 0, "truncated input", 1},
		{"MissingComma", `{"type":"bundle","objects":[` + tool1 + tool2 + `]}`, 0, 1, "expected ',' or ']' after object #0", 1},
		{"TrailingGarbage", bundle(tool1) + ` {}`, 0, 1, "after the end of the bundle", 1},
		{"UnbalancedBrackets", bundle(`{"type":"tool","x":[}`), 0, 0, `unexpected '}'`, 1},
		{"BadLiteral", bundle(`{"type":"tool","id":"tool--00000001-0000-4000-8000-000000000001","revoked":tru}`), 0, 0, "object #0, which starts on line 1, is not valid JSON", 1},
		{"MissingColonInObject", bundle(`{"type" "tool"}`), 0, 0, "is not valid JSON", 1},
		{"TrailingCommaInObject", bundle(`{"type":"tool",}`), 0, 0, "is not valid JSON", 1},
		{"BadEscape", bundle(`{"type":"tool","name":"\x"}`), 0, 0, "is not valid JSON", 1},
		{"BadLiteralInSingleObject", `{"type":"tool","id":"tool--00000001-0000-4000-8000-000000000001","revoked":yes}`, 0, 0, "not valid JSON", 1},
		{"UnescapedNewlineInString", "{\"type\":\"bundle\",\"objects\":[{\"name\":\"a\nb\"}]}", 0, 0, "unescaped newline", 1},
		{"ControlCharacter", "{\"type\":\"bundle\",\"objects\":[{\"name\":\"a\x01b\"}]}", 0, 0, "invalid character '\\x01' in string literal", 1},
		{"ControlCharacterOutsideString", "{\"type\":\"bundle\",\"objects\":[{\"name\":\x01\"b\"}]}", 0, 0, "control character 0x01", 1},
		{"ObjectLargerThanLimit", bundle(tool1, big), 1000, 1, "object #1 is larger than the limit of 1000 bytes", 1},
		{"DefaultLimitHolds", bundle(tool1), 0, 1, "", 0},
		{"NestedTooDeep", bundle(tool1, deep), 0, 1, "object #1 nests deeper than 100 levels", 1},
		{"ErrorLineNumbers", "{\"type\":\"bundle\",\n\"objects\":[\n" + tool1 + ",\n" + tool2 + ",\n\"x\"]}", 0, 2, "object #2 of the bundle is a string", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := stix.NewReader(strings.NewReader(tc.input))
			if tc.maxSize > 0 {
				r.MaxObjectSize = tc.maxSize
			}
			items, err := readAll(r)
			if len(items) != tc.wantItems {
				t.Errorf("read %d objects before the error, want %d", len(items), tc.wantItems)
			}
			if tc.wantMsg == "" {
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
				return
			}
			var se *stix.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v (%T), want a *stix.SyntaxError", err, err)
			}
			if !strings.Contains(se.Msg, tc.wantMsg) {
				t.Errorf("error %q does not say %q", se.Error(), tc.wantMsg)
			}
			if se.Line != tc.wantLine {
				t.Errorf("error on line %d, want %d: %v", se.Line, tc.wantLine, se)
			}
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("Next after an error = %v, want the same error again", err2)
			}
		})
	}
}

// TestReaderReadError checks that a failing io.Reader's error comes back,
// not a syntax error about truncation.
func TestReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	in := io.MultiReader(strings.NewReader(`{"type":"bundle","objects":[`+tool1+`,`), iotest.ErrReader(boom))
	items, err := readAll(stix.NewReader(in))
	if len(items) != 1 || !errors.Is(err, boom) {
		t.Errorf("got %d items and %v, want 1 item and the read error", len(items), err)
	}
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// TestReaderMemoryBounded reads a generated bundle through a pipe, never
// holding the file, and checks the heap stays a small fraction of the
// file's size.
func TestReaderMemoryBounded(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 50_000
	}
	pr, pw := io.Pipe()
	cw := &countingWriter{w: pw}
	go func() { pw.CloseWithError(gen.Write(cw, n, 1)) }()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	r := stix.NewReader(pr)
	count := 0
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if it.Index != count {
			t.Fatalf("item index %d, want %d", it.Index, count)
		}
		count++
		if count%2000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if count != n {
		t.Fatalf("read %d objects, want %d", count, n)
	}
	growth := int64(peak) - int64(base)
	t.Logf("bundle of %d objects, %d MB; heap in use %d MB at start, peak %d MB", n, cw.n>>20, base>>20, peak>>20)
	if limit := cw.n / 8; growth > limit {
		t.Errorf("heap grew by %d bytes reading a %d-byte bundle; want under %d (an eighth): the reader is holding the input", growth, cw.n, limit)
	}
}

// FuzzReader checks that no input makes the reader panic or hand out an
// object that is not a valid JSON object, that reading in one-byte pieces
// gives the same result, and that a well-formed bundle yields exactly the
// objects encoding/json sees in it.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`{"type":"bundle","id":` + bid + `,"objects":[` + tool1 + `,` + tool2 + `]}`,
		`{"objects":[` + tool1 + `],"type":"bundle","id":` + bid + `}`,
		tool1,
		`{"type":"bundle","objects":[]}`,
		`{"type":"bundle","objects":[{"type":"note","content":"a\"b\\c\u00e9 😀"}]}`,
		"{\n \"type\" : \"bundle\" ,\n \"objects\" : [ { \"a\" : [ 1 , -2.5e+3 , true , null ] } ]\n}",
		`{"type":"bundle","objects":[{"revoked":tru}]}`,
		`[1,2]`,
		`{"hello":"world"}`,
		`{"type":"bundle","objects":[{"a":[[[[[[[[[[]]]]]]]]]]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(in io.Reader) ([]stix.Item, error) {
			r := stix.NewReader(in)
			r.MaxObjectSize = 1 << 16
			r.MaxDepth = 20
			return readAll(r)
		}
		items, err := read(bytes.NewReader(data))
		for i, it := range items {
			if !json.Valid(it.Raw) || len(it.Raw) == 0 || it.Raw[0] != '{' {
				t.Fatalf("item %d is not a valid JSON object: %q", i, it.Raw)
			}
			if it.Index != i {
				t.Fatalf("item %d has index %d", i, it.Index)
			}
		}
		var se *stix.SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error %v (%T) is not a *stix.SyntaxError", err, err)
		}
		items2, err2 := read(iotest.OneByteReader(bytes.NewReader(data)))
		if fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("whole read gives error %v, byte by byte %v", err, err2)
		}
		if diff := cmp.Diff(items, items2); diff != "" {
			t.Fatalf("whole and byte-by-byte reads differ (-whole +bytes):\n%s", diff)
		}
		// A bundle encoding/json reads: the same objects, compacted.
		if err != nil || !json.Valid(data) || bytes.Count(data, []byte(`"objects"`)) != 1 {
			return
		}
		var b struct {
			Type    string
			Objects []json.RawMessage
		}
		if json.Unmarshal(data, &b) != nil || b.Type != "bundle" {
			return
		}
		if len(b.Objects) != len(items) {
			t.Fatalf("reader gave %d objects, encoding/json sees %d", len(items), len(b.Objects))
		}
		for i, o := range b.Objects {
			var c bytes.Buffer
			if json.Compact(&c, o) != nil {
				t.Fatal("compact failed")
			}
			if !bytes.Equal(c.Bytes(), items[i].Raw) {
				t.Fatalf("object %d: reader %q, encoding/json %q", i, items[i].Raw, c.Bytes())
			}
		}
	})
}

// BenchmarkReaderGenerated reads a generated bundle of 100,000 objects
// with the streaming reader alone (no decoding).
func BenchmarkReaderGenerated(b *testing.B) {
	var buf bytes.Buffer
	if err := gen.Write(&buf, 100_000, 1); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readAll(stix.NewReader(bytes.NewReader(raw))); err != nil {
			b.Fatal(err)
		}
	}
}
