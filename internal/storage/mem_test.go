package storage_test

import (
	"testing"

	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/internal/storage/storagetest"
)

func TestMem(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.FS { return storage.NewMem() })
}

func TestMemNoDirRename(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.FS {
		m := storage.NewMem()
		m.NoDirRename = true
		return m
	})
}

// TestMemPlain runs the suite on a MemFS seen through the FS interface
// alone, so that the generic paths (storage.OpenInfo's Stat then Open)
// are held to the same contract as the backends' own.
func TestMemPlain(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.FS { return plainFS{storage.NewMem()} })
}

// plainFS hides every optional method of the FS it holds.
type plainFS struct{ storage.FS }
