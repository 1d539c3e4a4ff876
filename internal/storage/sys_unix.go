//go:build unix

package storage

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// openFlags are added when LocalFS opens a file to read, so that opening a
// named pipe returns at once (to be refused) instead of blocking, and a
// terminal never becomes the process's controlling one.
const openFlags = syscall.O_NONBLOCK | syscall.O_NOCTTY

// dirFlags are added when LocalFS opens a directory, so that anything else
// fails without being opened.
const dirFlags = syscall.O_DIRECTORY

// inode returns the inode number of fi, for ETags.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// openDir opens the directory rel (relative to the root) for List, in one
// walk of its path. Anything but a directory fails, with ErrNotDir when it
// is the last element that is not one.
func (l *LocalFS) openDir(rel string) (*os.File, error) {
	d, err := l.root.OpenFile(rel, os.O_RDONLY|dirFlags, 0)
	if !errors.Is(err, syscall.ENOTDIR) {
		return d, err
	}
	// A file where a parent should be (ErrNotFound), or rel itself is not
	// a directory.
	fi, serr := l.root.Stat(rel)
	if serr != nil {
		return nil, serr
	}
	if !fi.IsDir() {
		return nil, ErrNotDir
	}
	return nil, err // replaced meanwhile
}

// Quota reports the space left to unprivileged users and the space in use
// on the file system holding the folder (RFC 4331 quota properties, which
// davfs2 reads for df).
func (l *LocalFS) Quota(ctx context.Context) (available, used int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(l.top.Fd()), &st); err != nil {
		return 0, 0, err
	}
	bs := int64(st.Bsize)
	return int64(st.Bavail) * bs, int64(st.Blocks-st.Bfree) * bs, nil
}
