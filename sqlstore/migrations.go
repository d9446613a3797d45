package sqlstore

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// A Migration is one step of a store's schema: a file NNNN_what.sql of
// its embedded migrations.
type Migration struct {
	N    int    // the schema version it brings the store to
	Name string // the file's name, for errors
	SQL  string
}

// Migrations returns, in order, the migrations of fsys (the files
// migrations/*.sql) numbered above current. It refuses a file whose name
// does not start with its number, and two files of one number: the second
// would never be applied, since the first already brings the store to its
// version.
func Migrations(fsys fs.FS, current int) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	seen := map[int]string{}
	for _, name := range names {
		base := path.Base(name)
		n, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: name must start with its number", base)
		}
		if other, dup := seen[n]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same number", other, base)
		}
		seen[n] = base
		if n <= current {
			continue
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{N: n, Name: base, SQL: string(body)})
	}
	return out, nil
}
