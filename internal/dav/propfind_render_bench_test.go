package dav

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// BenchmarkRender is the CPU of rendering one listing entry alone (no
// storage, no socket): a page of 100 files of a collection without locks
// or dead properties, as PROPFIND Depth 1 writes them.
func BenchmarkRender(b *testing.B) {
	h := New(Config{FS: storage.NewMem(), Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mod := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	var page []storage.Info
	for i := range 100 {
		name := fmt.Sprintf("f%06d.txt", i)
		page = append(page, storage.Info{Name: name, Path: "/d100/" + name, Size: 64, ModTime: mod, ETag: fmt.Sprintf(`"e3fe%d-40-18ea32d70c69b919"`, i)})
	}
	for _, c := range []struct {
		name string
		req  propfindRequest
	}{
		{"allprop", propfindRequest{kind: allProp}},
		{"named4", propfindRequest{kind: namedProps, names: []xml.Name{davName("getcontentlength"), davName("getlastmodified"), davName("resourcetype"), davName("getetag")}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			pw := &propWriter{h: h, ctx: context.Background(), req: c.req, ms: multistatus.NewWriter(io.Discard)}
			pw.resolveNames()
			pw.pageDir = "/d100"
			for b.Loop() {
				pw.locksDir = "" // the page's locks read anew, as on each listing
				for i := range page {
					if err := pw.writeWith(page[i].Path, page[i], nil); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page)), "ns/entry")
		})
	}
}
