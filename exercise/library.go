package exercise

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// library holds the scenarios shipped with cyberpact.
//
//go:embed scenarios/*.json
var library embed.FS

// Library returns the names of the built-in scenarios (their file names
// without ".json"), sorted.
func Library() []string {
	ents, _ := fs.ReadDir(library, "scenarios")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// LibraryScenario returns the file of a built-in scenario, and whether
// there is one of that name.
func LibraryScenario(name string) ([]byte, bool) {
	b, err := library.ReadFile("scenarios/" + name + ".json")
	return b, err == nil
}
