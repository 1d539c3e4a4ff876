package storage_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/davit-dav/davit/internal/storage"
)

// BenchmarkPut writes 1 MiB files as the server does: staged in a hidden
// folder, into a collection below the root, with and without fsync.
func BenchmarkPut(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	for _, tc := range []struct {
		name   string
		noSync bool
	}{{"Sync", false}, {"NoSync", true}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			must(b, os.Mkdir(filepath.Join(dir, "d"), 0o777))
			l := newLocal(b, dir, storage.LocalOptions{NoSync: tc.noSync, Hidden: []string{".state"}, StageDir: ".state/upload"})
			ctx := context.Background()
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				// A plain io.Reader, as an HTTP body is: no WriterTo.
				r := struct{ *bytes.Reader }{bytes.NewReader(body)}
				if _, _, err := l.Put(ctx, "/d/f", r, storage.PutOptions{ExpectedSize: int64(len(body))}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOpenInfo is the storage side of a GET: open a small file and
// describe it, in one step (LocalFS.OpenInfo) and as Stat then Open.
func BenchmarkOpenInfo(b *testing.B) {
	dir := b.TempDir()
	must(b, os.MkdirAll(filepath.Join(dir, "d"), 0o777))
	must(b, os.WriteFile(filepath.Join(dir, "d", "f"), make([]byte, 4096), 0o666))
	l := newLocal(b, dir, storage.LocalOptions{})
	for name, fsys := range map[string]storage.FS{"OneStep": l, "StatOpen": plainFS{l}} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				f, _, err := storage.OpenInfo(ctx, fsys, "/d/f")
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
