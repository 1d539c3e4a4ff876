//go:build !linux

package storage

import "os"

// fileCache keeps small files open between reads on Linux only
// (filecache_linux.go); elsewhere every read opens the file.
type fileCache struct{}

func fileCacheFor(*os.File) (*fileCache, uint64) { return nil, 0 }

func (*fileCache) forget(*LocalFS, string) {}
