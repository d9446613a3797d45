package sqlstore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	t.Run("InOrderAboveCurrent", func(t *testing.T) {
		fsys := fstest.MapFS{
			"migrations/0010_ten.sql":   file("ten"),
			"migrations/0002_two.sql":   file("two"),
			"migrations/0001_one.sql":   file("one"),
			"migrations/0003_three.sql": file("three"),
		}
		got, err := Migrations(fsys, 2)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range got {
			names = append(names, m.Name+"="+m.SQL)
		}
		if want := "0003_three.sql=three 0010_ten.sql=ten"; strings.Join(names, " ") != want {
			t.Errorf("got %q, want %q", strings.Join(names, " "), want)
		}
		if got[1].N != 10 {
			t.Errorf("0010_ten.sql has N = %d, want 10", got[1].N)
		}
	})
	t.Run("SameNumberRefused", func(t *testing.T) {
		// Two branches each adding their next migration: the second file
		// would be skipped once the first had set the version.
		fsys := fstest.MapFS{
			"migrations/0001_one.sql":     file("one"),
			"migrations/0002_objects.sql": file("a"),
			"migrations/0002_peers.sql":   file("b"),
		}
		_, err := Migrations(fsys, 2)
		if err == nil || !strings.Contains(err.Error(), "0002_objects.sql and 0002_peers.sql have the same number") {
			t.Errorf("err = %v, want the two files named", err)
		}
	})
	t.Run("NumberlessNameRefused", func(t *testing.T) {
		_, err := Migrations(fstest.MapFS{"migrations/init.sql": file("x")}, 0)
		if err == nil || !strings.Contains(err.Error(), "init.sql: name must start with its number") {
			t.Errorf("err = %v, want the file named", err)
		}
	})
}
