package dav_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// discardWriter is a ResponseWriter that keeps nothing, so that a
// benchmark's allocations are the handler's.
type discardWriter struct {
	h http.Header
	n int64
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(b []byte) (int, error) { w.n += int64(len(b)); return len(b), nil }

// benchHandler serves a LocalFS folder holding small.bin and d100/ with
// 100 files, with memory locks and properties.
func benchHandler(b *testing.B) http.Handler {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small.bin"), make([]byte, 4096), 0o666); err != nil {
		b.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d100"), 0o777); err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if err := os.WriteFile(filepath.Join(dir, "d100", fmt.Sprintf("file-%03d.txt", i)), make([]byte, 64), 0o666); err != nil {
			b.Fatal(err)
		}
	}
	fsys, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fsys.Close() })
	return dav.New(dav.Config{
		FS: fsys, Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

const namedBody = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>` +
	`<D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/></D:prop></D:propfind>`

// explorerBody is the Depth 1 PROPFIND Windows Explorer lists a folder
// with (../shared/CLIENTS.md).
const explorerBody = `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">` +
	`<D:creationdate/><D:displayname/><D:getcontentlength/><D:getlastmodified/><D:resourcetype/>` +
	`<Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/><Z:Win32FileAttributes/></D:prop></D:propfind>`

const allpropBody = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`

func benchPropfind(b *testing.B, h http.Handler, target, depth, body string) {
	w := &discardWriter{h: http.Header{}}
	var rd strings.Reader
	for b.Loop() {
		clear(w.h)
		rd.Reset(body)
		r, _ := http.NewRequest("PROPFIND", target, &rd)
		r.ContentLength = int64(len(body))
		r.Header.Set("Depth", depth)
		h.ServeHTTP(w, r)
	}
	b.ReportMetric(float64(w.n)/float64(b.N), "answer-bytes")
}

// BenchmarkPropfindDepth0 is PROPFIND Depth 0 on a 4 KiB file of a
// LocalFS, with the bodies of bench-peers' pf0 workloads (and none), and
// Windows Explorer's.
func BenchmarkPropfindDepth0(b *testing.B) {
	h := benchHandler(b)
	for _, c := range []struct{ name, body string }{{"nobody", ""}, {"allprop", allpropBody}, {"named4", namedBody}, {"explorer", explorerBody}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			benchPropfind(b, h, "/small.bin", "0", c.body)
		})
	}
}

// BenchmarkPropfindDepth1x100 is PROPFIND Depth 1 on a LocalFS collection
// of 100 files; in "win32-allprop" the properties are in the Bolt store
// and every file holds the three Windows Explorer sets on upload
// (../shared/CLIENTS.md), which an allprop answer reads and returns.
func BenchmarkPropfindDepth1x100(b *testing.B) {
	h := benchHandler(b)
	for _, c := range []struct{ name, body string }{{"allprop", allpropBody}, {"named4", namedBody}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			benchPropfind(b, h, "/d100/", "1", c.body)
		})
	}
	// A folder of documents open in Office: every file locked (exclusive,
	// Depth 0, as the lock row of bench-peers takes them).
	b.Run("locked-allprop", func(b *testing.B) {
		h := benchHandlerLocked(b)
		b.ReportAllocs()
		benchPropfind(b, h, "/d100/", "1", allpropBody)
	})
	b.Run("win32-allprop", func(b *testing.B) {
		h := benchHandlerWin32(b)
		b.ReportAllocs()
		benchPropfind(b, h, "/d100/", "1", allpropBody)
	})
	// Explorer's own listing request: five DAV: properties and its four.
	b.Run("win32-explorer", func(b *testing.B) {
		h := benchHandlerWin32(b)
		b.ReportAllocs()
		benchPropfind(b, h, "/d100/", "1", explorerBody)
	})
}

// benchHandlerWin32 is benchHandler with the properties in a Bolt store
// and, on each file of d100/, the properties Windows Explorer sets.
func benchHandlerWin32(b *testing.B) http.Handler {
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d100"), 0o777); err != nil {
		b.Fatal(err)
	}
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "props.db"), 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	store, err := props.NewBolt(db)
	if err != nil {
		b.Fatal(err)
	}
	ms := "urn:schemas-microsoft-com:"
	for i := range 100 {
		name := fmt.Sprintf("file-%03d.txt", i)
		if err := os.WriteFile(filepath.Join(dir, "d100", name), make([]byte, 64), 0o666); err != nil {
			b.Fatal(err)
		}
		err := store.Apply(b.Context(), "/d100/"+name, []props.Patch{
			{Prop: props.Property{Name: xml.Name{Space: ms, Local: "Win32CreationTime"}, Inner: []byte("Sun, 06 Dec 2026 19:46:03 GMT")}},
			{Prop: props.Property{Name: xml.Name{Space: ms, Local: "Win32LastModifiedTime"}, Inner: []byte("Sun, 06 Dec 2026 19:46:03 GMT")}},
			{Prop: props.Property{Name: xml.Name{Space: ms, Local: "Win32FileAttributes"}, Inner: []byte("00000020")}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The answer must carry the properties, or this measures nothing.
	return benchListingHandler(b, dir, lock.NewMemory(lock.Options{}), store, ">00000020</")
}

// benchListingHandler is a handler over the LocalFS folder dir with locks
// and props, checked to list d100/ with marker once for each of its 100
// files.
func benchListingHandler(b *testing.B, dir string, locks lock.Manager, store props.Store, marker string) http.Handler {
	fsys, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fsys.Close() })
	h := dav.New(dav.Config{
		FS: fsys, Locks: locks, Props: store,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	w := httptest.NewRecorder()
	r := httptest.NewRequest("PROPFIND", "/d100/", strings.NewReader(allpropBody))
	r.Header.Set("Depth", "1")
	h.ServeHTTP(w, r)
	if n := strings.Count(w.Body.String(), marker); w.Code != http.StatusMultiStatus || n != 100 {
		b.Fatalf("PROPFIND: %d with %d of %q, want 207 with 100", w.Code, n, marker)
	}
	return h
}

// benchHandlerLocked is a handler over a folder d100/ of 100 files, each
// locked with an owner and a timeout, as bench-peers' pf1-100-locked.
func benchHandlerLocked(b *testing.B) http.Handler {
	dir := b.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "d100"), 0o777); err != nil {
		b.Fatal(err)
	}
	locks := lock.NewMemory(lock.Options{})
	for i := range 100 {
		name := fmt.Sprintf("file-%03d.txt", i)
		if err := os.WriteFile(filepath.Join(dir, "d100", name), make([]byte, 64), 0o666); err != nil {
			b.Fatal(err)
		}
		_, err := locks.Create(b.Context(), lock.Lock{Root: "/d100/" + name, Exclusive: true,
			Owner: []byte("<D:href>davit-bench</D:href>"), Timeout: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The answer must carry the locks, or this measures nothing.
	return benchListingHandler(b, dir, locks, props.NewMemory(), "<D:activelock>")
}
