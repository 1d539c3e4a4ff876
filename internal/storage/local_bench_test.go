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
// folder, into a collection below the root, with and without fsync; and
// 4 KiB files without fsync, where the steps around the copy weigh most.
func BenchmarkPut(b *testing.B) {
	for _, tc := range []struct {
		name   string
		noSync bool
		size   int
	}{{"Sync", false, 1 << 20}, {"NoSync", true, 1 << 20}, {"NoSync4KiB", true, 4 << 10}} {
		body := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16)
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

// BenchmarkOpenInfo is the storage side of a GET of a 4 KiB file at the
// top level and one level down: open it, describe it and read it whole,
// in one step (LocalFS.OpenInfo with a buffer: on Linux a bare descriptor)
// and as Stat, Open and a read (storage.ReadWhole).
func BenchmarkOpenInfo(b *testing.B) {
	dir := b.TempDir()
	must(b, os.MkdirAll(filepath.Join(dir, "d"), 0o777))
	must(b, os.WriteFile(filepath.Join(dir, "f"), make([]byte, 4096), 0o666))
	must(b, os.WriteFile(filepath.Join(dir, "d", "f"), make([]byte, 4096), 0o666))
	// Without the file cache: every read opens the file (a kept file's
	// read is BenchmarkOpenInfoKept). With it, these files, written just
	// now, would be kept once a second old, half way through the timing.
	l := newLocal(b, dir, storage.LocalOptions{NoFileCache: true})
	buf := make([]byte, 16<<10+1)
	for _, name := range []string{"/f", "/d/f"} {
		for how, fsys := range map[string]storage.FS{"OneStep": l, "StatOpen": plainFS{l}} {
			b.Run(how+name, func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					f, body, _, err := storage.OpenInfo(ctx, fsys, name, buf)
					if err != nil || f != nil || len(body) != 4096 {
						b.Fatalf("OpenInfo: %v, File %v, %d bytes", err, f, len(body))
					}
				}
			})
		}
	}
}
