//go:build !unix

package storage

import "io/fs"

// openFlags are added when LocalFS opens a file to read; none are needed.
const openFlags = 0

// inode returns 0: this system has no portable inode number, so ETags rest
// on size and modification time alone.
func inode(fs.FileInfo) uint64 { return 0 }
