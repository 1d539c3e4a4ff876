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
