//go:build !unix

package sqlite

// diskFull reports whether the file system holding dir is full: not known
// on this system.
func diskFull(dir string) bool { return false }
