//go:build !linux

package storage

import "os"

// dirCache keeps small folders' names between listings on Linux only
// (dircache_linux.go); elsewhere every listing reads the folder.
type dirCache struct{}

func folderCache(*os.File) *dirCache { return nil }
