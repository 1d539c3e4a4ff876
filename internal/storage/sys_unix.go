//go:build unix

package storage

import (
	"context"
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

// Quota reports the space left to unprivileged users and the space in use
// on the file system holding the folder (RFC 4331 quota properties, which
// davfs2 reads for df).
func (l *LocalFS) Quota(ctx context.Context) (available, used int64, err error) {
	f, err := l.root.Open(".")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err != nil {
		return 0, 0, err
	}
	bs := int64(st.Bsize)
	return int64(st.Bavail) * bs, int64(st.Blocks-st.Bfree) * bs, nil
}
