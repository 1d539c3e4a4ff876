//go:build unix

package storage

import (
	"io/fs"
	"syscall"
)

// openFlags are added when LocalFS opens a file to read, so that opening a
// named pipe returns at once (to be refused) instead of blocking.
const openFlags = syscall.O_NONBLOCK

// inode returns the inode number of fi, for ETags.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
