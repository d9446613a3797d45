package stix

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestSkipOverLimit shows an object over the size or depth limit become
// an Item with Err (its id and modified read wherever they are) while the
// objects beside it are read as usual, and that without SkipOverLimit the
// same input ends at the first such object.
func TestSkipOverLimit(t *testing.T) {
	good := func(n int) string {
		return fmt.Sprintf(`{"type":"indicator","id":"indicator--%d","modified":"2026-01-02T00:00:00.000Z"}`, n)
	}
	big := `{"type":"indicator","id":"indicator--big","modified":"2026-01-03T00:00:00.5Z","name":"` + strings.Repeat("x\\\"", 3000) + `","more":[1,2,{"a":"]"}]}`
	deep := `{"id":"indicator--deep","type":"indicator","x":` + strings.Repeat(`[{"a":`, 80) + `1` + strings.Repeat(`}]`, 80) + `,"modified":"2026-01-04T00:00:00Z"}`
	bigFirst := `{"name":"` + strings.Repeat("y", 5000) + `","id":"indicator--late"}`
	env := `{"more":true,"objects":[` + good(1) + "," + big + "," + good(2) + ",\n" + deep + "," + bigFirst + "," + good(3) + `],"next":"abc"}`

	r := NewEnvelopeReader(strings.NewReader(env))
	r.MaxObjectSize, r.MaxDepth, r.SkipOverLimit = 1000, 50, true
	type got struct{ id, mod, err string }
	var items []got
	for {
		it, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		g := got{id: it.ID, mod: it.Modified}
		if it.Err != nil {
			g.err = it.Err.Msg
		} else {
			o, err := Parse(it.Raw)
			if err != nil {
				t.Fatalf("item %d: %v", it.Index, err)
			}
			g.id = o.ID
		}
		items = append(items, g)
	}
	want := []got{
		{id: "indicator--1"},
		{id: "indicator--big", mod: "2026-01-03T00:00:00.5Z", err: "object #1 is larger than the limit of 1000 bytes"},
		{id: "indicator--2"},
		{id: "indicator--deep", mod: "2026-01-04T00:00:00Z", err: "object #3 nests deeper than 50 levels"},
		{id: "indicator--late", err: "object #4 is larger than the limit of 1000 bytes"},
		{id: "indicator--3"},
	}
	if fmt.Sprint(items) != fmt.Sprint(want) {
		t.Errorf("items\n%v\nwant\n%v", items, want)
	}
	if string(r.Property("next")) != `"abc"` || string(r.Property("more")) != "true" {
		t.Errorf("envelope properties: next %s more %s", r.Property("next"), r.Property("more"))
	}

	strict := NewEnvelopeReader(strings.NewReader(env))
	strict.MaxObjectSize = 1000
	var err error
	n := 0
	for ; err == nil; n++ {
		_, err = strict.Next()
	}
	if n != 2 || !strings.Contains(err.Error(), "larger than the limit") {
		t.Errorf("without SkipOverLimit: %d reads, %v; want the input to end at object #1", n, err)
	}

	// "objects": null is an empty page.
	empty := NewEnvelopeReader(strings.NewReader(`{"more":false,"objects":null}`))
	if _, err := empty.Next(); err != io.EOF {
		t.Errorf("objects null: %v, want io.EOF", err)
	}

	// A skipped object whose brackets do not match is still an error.
	bad := NewEnvelopeReader(bytes.NewReader([]byte(`{"objects":[{"a":"` + strings.Repeat("z", 2000) + `","b":[}]}`)))
	bad.MaxObjectSize, bad.SkipOverLimit = 1000, true
	if _, err := bad.Next(); err == nil || !strings.Contains(err.Error(), "unexpected") {
		t.Errorf("mismatched brackets in a skipped object: %v", err)
	}
}
