package storetest

import (
	"context"
	"testing"

	"github.com/cyberpact/cyberpact"
	"github.com/google/go-cmp/cmp"
)

// DeleteLogStore is what RunDeleteLog tests.
type DeleteLogStore interface {
	cyberpact.ObjectStore
	cyberpact.ChangeNotifier
}

// RunDeleteLog checks the log of deletes (ChangeNotifier.DeletedSince)
// that live indexes follow: every delete is logged once, in order, and
// nothing else is.
func RunDeleteLog(t *testing.T, s DeleteLogStore) {
	ctx := context.Background()
	_, start, err := s.DeletedSince(ctx, -1)
	if err != nil || start != 0 {
		t.Fatalf("a new store's log: last %d, %v; want 0", start, err)
	}
	a, b := sdo("malware", 1, 1, nil), sdo("malware", 2, 1, nil)
	mustImport(t, s, a, b, sdo("malware", 2, 2, nil))
	if ids, last, err := s.DeletedSince(ctx, 0); err != nil || len(ids) != 0 || last != 0 {
		t.Fatalf("after an import: %v, %d, %v; want nothing logged", ids, last, err)
	}
	for _, x := range []string{id(b), id(a)} {
		if _, err := s.DeleteObject(ctx, x, cyberpact.ObjectFilter{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.DeleteObject(ctx, id(a), cyberpact.ObjectFilter{}); cyberpact.ErrorCode(err) != cyberpact.ENOTFOUND {
		t.Fatalf("deleting nothing: %v", err)
	}
	ids, last, err := s.DeletedSince(ctx, 0)
	if err != nil || !cmp.Equal(ids, []string{id(b), id(a)}) {
		t.Fatalf("log: %v, %v; want b then a", ids, err)
	}
	if more, l2, err := s.DeletedSince(ctx, last); err != nil || len(more) != 0 || l2 != last {
		t.Errorf("after the last: %v, %d, %v; want nothing new", more, l2, err)
	}
	if ids, _, _ := s.DeletedSince(ctx, last-1); !cmp.Equal(ids, []string{id(a)}) {
		t.Errorf("after the first: %v, want a", ids)
	}
}
