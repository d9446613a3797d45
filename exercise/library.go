package exercise

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// library holds the scenarios and simulated participants' profiles
// shipped with cyberpact.
//
//go:embed scenarios/*.json profiles/*.json
var library embed.FS

// Library returns the names of the built-in scenarios (their file names
// without ".json"), sorted.
func Library() []string { return names("scenarios") }

func names(dir string) []string {
	ents, _ := fs.ReadDir(library, dir)
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(names)
	return names
}

// DefaultProfiles is the built-in profiles file Simulate's command line
// uses when given none: every participant detects most techniques within
// the hour, some slowly, shares within two hours and raises a false alarm
// on one benign event in a hundred.
const DefaultProfiles = "typical"

// LibraryProfileNames returns the names of the built-in profiles files
// (typical, perfect, blind: a plausible partnership and the two bounds
// that calibrate a scenario), sorted.
func LibraryProfileNames() []string { return names("profiles") }

// LibraryProfiles returns a built-in profiles file, and whether there is
// one of that name.
func LibraryProfiles(name string) ([]byte, bool) {
	b, err := library.ReadFile("profiles/" + name + ".json")
	return b, err == nil
}

// LibraryScenario returns the file of a built-in scenario, and whether
// there is one of that name.
func LibraryScenario(name string) ([]byte, bool) {
	b, err := library.ReadFile("scenarios/" + name + ".json")
	return b, err == nil
}
