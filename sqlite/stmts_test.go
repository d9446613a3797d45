package sqlite

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestStmtCache: kept statements answer as fresh ones would, a statement
// evicted while its rows are still being read finishes its read, reads
// run concurrently on the same text, and after Close a read fails without
// keeping anything.
func TestStmtCache(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	c := db.stmts
	count := func(text string, arg int) int {
		t.Helper()
		st, err := c.get(ctx, text)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := st.QueryRowContext(ctx, arg).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	text := func(i int) string { return fmt.Sprintf("SELECT ? + %d", i) }
	if n := count(text(1), 41); n != 42 {
		t.Fatalf("got %d, want 42", n)
	}

	// Rows open on the first text while maxStmts others evict it.
	st, err := c.get(ctx, "SELECT value FROM json_each(?)")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.QueryContext(ctx, "[1,2,3]")
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	for i := range maxStmts + 1 {
		if n := count(text(i), 1); n != i+1 {
			t.Fatalf("text %d: got %d, want %d", i, n, i+1)
		}
	}
	if c.order.Len() != maxStmts || len(c.byText) != maxStmts {
		t.Fatalf("%d statements kept (%d by text), want %d", c.order.Len(), len(c.byText), maxStmts)
	}
	sum := 0
	for ok := true; ok; ok = rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	if err := rows.Close(); err != nil || sum != 6 {
		t.Fatalf("evicted statement's read: sum %d, %v", sum, err)
	}

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				st, err := c.get(ctx, text(1000))
				if err != nil {
					t.Error(err)
					return
				}
				var n int
				if err := st.QueryRowContext(ctx, g*100+i).Scan(&n); err != nil || n != g*100+i+1000 {
					t.Errorf("concurrent read: %d, %v", n, err)
					return
				}
			}
		})
	}
	wg.Wait()

	c.close()
	if _, err := c.get(ctx, text(2000)); err == nil {
		t.Fatal("a statement prepared after close")
	}
	if c.order.Len() != 0 {
		t.Fatalf("%d statements kept after close", c.order.Len())
	}
}
