//go:build !unix

package storage

import (
	"io/fs"
	"os"
)

// openFlags are added when LocalFS opens a file to read; none are needed.
const openFlags = 0

// dirFlags are added when LocalFS opens a directory; none are portable.
const dirFlags = 0

// inode returns 0: this system has no portable inode number, so ETags rest
// on size and modification time alone.
func inode(fs.FileInfo) uint64 { return 0 }

// openDir opens the directory rel (relative to the root) for List; anything
// else fails, with ErrNotDir when it exists.
func (l *LocalFS) openDir(rel string) (*os.File, error) {
	fi, err := l.root.Stat(rel)
	switch {
	case err != nil:
		return nil, err
	case !fi.IsDir():
		return nil, ErrNotDir
	}
	return l.root.Open(rel)
}
