package server

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/config"
)

// benchWriter is a ResponseWriter that keeps nothing, so that the
// allocations counted are the server's.
type benchWriter struct {
	h    http.Header
	code int
	n    int64
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
}
func (w *benchWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += int64(len(b))
	return len(b), nil
}

// WriteString is there because net/http's own writer has it: a string
// written through io.WriteString costs the server no copy.
func (w *benchWriter) WriteString(s string) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += int64(len(s))
	return len(s), nil
}

// BenchmarkRequest measures the whole stack of one small request through
// the App (outer layer with request id and metrics, router, batch layer,
// WebDAV handler, LocalFS and the bbolt stores), access log off as in the
// peer benchmark: what Davit adds to net/http per request. allocs/op is
// the figure to watch; ns/op is rough on a shared machine.
func BenchmarkRequest(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small.bin"), make([]byte, 4096), 0o666); err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(dir, "davit.yaml")
	yaml := "locations:\n  - path: /\n    folder: " + dir + "\nlog:\n  access: false\n"
	if err := os.WriteFile(file, []byte(yaml), 0o666); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load(file, nil, nil)
	if err == nil {
		err = CheckConfig(cfg)
	}
	if err != nil {
		b.Fatal(err)
	}
	app, err := NewApp(cfg, AppOptions{ConfigFile: file, Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	// The file's change time must be a second old for the small-file cache
	// to keep it, as a file served for a while is: the GET rows then
	// measure the kept path.
	time.Sleep(1100 * time.Millisecond)
	etag := ""
	{
		r, _ := http.NewRequest("HEAD", "http://127.0.0.1/small.bin", http.NoBody)
		r.RemoteAddr = "127.0.0.1:4000"
		w := &benchWriter{h: http.Header{}}
		app.ServeHTTP(w, r)
		if etag = w.h.Get("Etag"); etag == "" {
			b.Fatal("no ETag")
		}
	}
	const named = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/></D:prop></D:propfind>`
	for _, tc := range []struct {
		name, method, body string
		depth              string
		header             [2]string
		want               int
	}{
		{"GET", "GET", "", "", [2]string{}, http.StatusOK},
		{"GET-304", "GET", "", "", [2]string{"If-None-Match", etag}, http.StatusNotModified},
		{"GET-range", "GET", "", "", [2]string{"Range", "bytes=100-199"}, http.StatusPartialContent},
		{"HEAD", "HEAD", "", "", [2]string{}, http.StatusOK},
		{"PROPFIND0-allprop", "PROPFIND", "", "0", [2]string{}, http.StatusMultiStatus},
		{"PROPFIND0-named", "PROPFIND", named, "0", [2]string{}, http.StatusMultiStatus},
		{"OPTIONS", "OPTIONS", "", "", [2]string{}, http.StatusOK},
		{"PROPFIND0-404", "PROPFIND", named, "0", [2]string{}, http.StatusNotFound},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				target := "http://127.0.0.1/small.bin"
				if tc.want == http.StatusNotFound {
					target = "http://127.0.0.1/._small.bin" // a probe of macOS Finder's
				}
				r, _ := http.NewRequest(tc.method, target, strings.NewReader(tc.body))
				if tc.body == "" {
					r.Body, r.ContentLength = http.NoBody, 0
				}
				r.RemoteAddr = "127.0.0.1:4000"
				if tc.depth != "" {
					r.Header.Set("Depth", tc.depth)
				}
				if tc.header[0] != "" {
					r.Header.Set(tc.header[0], tc.header[1])
				}
				w := &benchWriter{h: http.Header{}}
				app.ServeHTTP(w, r)
				if w.code != tc.want {
					b.Fatalf("%s: %d, want %d", tc.method, w.code, tc.want)
				}
			}
		})
	}
}
