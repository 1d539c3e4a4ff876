package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/server"
	"github.com/davit-dav/davit/internal/storage"
)

// fillWithLocalFS creates n small files in /big of dir through a LocalFS
// (NoSync), a few goroutines at a time.
func fillWithLocalFS(tb testing.TB, dir string, n int) {
	tb.Helper()
	fs, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: true, Hidden: []string{server.StateDir}})
	if err != nil {
		tb.Fatal(err)
	}
	defer fs.Close()
	ctx := context.Background()
	if err := fs.Mkdir(ctx, "/big"); err != nil {
		tb.Fatal(err)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Value
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				body := fmt.Sprintf("file %d", i)
				_, _, err := fs.Put(ctx, fmt.Sprintf("/big/file-%06d.txt", i), strings.NewReader(body), storage.PutOptions{ExpectedSize: int64(len(body))})
				if err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		tb.Fatal(err)
	}
}

// fillDirect creates n small files in /big of dir with plain system
// calls, which is several times faster than fillWithLocalFS.
func fillDirect(tb testing.TB, dir string, n int) {
	tb.Helper()
	big := filepath.Join(dir, "big")
	if err := os.Mkdir(big, 0o755); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if err := os.WriteFile(filepath.Join(big, fmt.Sprintf("file-%06d.txt", i)), []byte("x"), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// discard is an http.ResponseWriter that counts and drops the answer, so
// every allocation measured is the server's.
type discard struct {
	h    http.Header
	code int
	n    int64
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { d.n += int64(len(p)); return len(p), nil }
func (d *discard) Flush()                      {}

// heapSampler records the high-water mark of the heap's object bytes
// while it runs, reading runtime/metrics (no stop-the-world) every 200 µs.
type heapSampler struct {
	stop chan struct{}
	done chan uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan uint64, 1)}
	go func() {
		s := []metrics.Sample{{Name: heapMetric}}
		peak := uint64(0)
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-h.stop:
				metrics.Read(s)
				h.done <- max(peak, s[0].Value.Uint64())
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) peak() uint64 {
	close(h.stop)
	return <-h.done
}

// propfindOnce serves one PROPFIND Depth 1 of /big straight to the handler
// and returns the answer's size.
func propfindOnce(tb testing.TB, h http.Handler, body string) int64 {
	req := httptest.NewRequest("PROPFIND", "/big/", strings.NewReader(body))
	req.Header.Set("Depth", "1")
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	w := &discard{h: http.Header{}}
	h.ServeHTTP(w, req)
	if w.code != http.StatusMultiStatus {
		tb.Fatalf("PROPFIND: %d", w.code)
	}
	return w.n
}

// peakHeapMiB is the heap's high-water mark during one PROPFIND, above the
// live heap just before it, in MiB.
// The answer's size comes with it.
func peakHeapMiB(tb testing.TB, h http.Handler, body string) (float64, int64) {
	runtime.GC()
	base := heapNow()
	s := startHeapSampler()
	size := propfindOnce(tb, h, body)
	peak := s.peak()
	if peak < base {
		return 0, size
	}
	return float64(peak-base) / (1 << 20), size
}

const rcloneBody = `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop>` +
	`<D:displayname/><D:getlastmodified/><D:getcontentlength/><D:resourcetype/></D:prop></D:propfind>`

// BenchmarkPropfindDepth1 lists a collection of 10,000 and of 100,000 files
// (server.Open on a LocalFS folder, bbolt state): "handler" calls the
// handler directly with a discarding writer, so allocations are the
// server's; "http" goes through a real connection on 127.0.0.1 with the
// client reading and discarding the answer. Reported per operation:
// answer-bytes, allocs/entry and B/entry (server side), peak-heap-MiB (the
// heap's high-water mark during one request above the live heap before it).
func BenchmarkPropfindDepth1(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		dir := b.TempDir()
		fillWithLocalFS(b, dir, n)
		srv, err := server.Open(server.Options{Root: dir, NoSync: true, Logger: quietLogger()})
		if err != nil {
			b.Fatal(err)
		}
		entries := float64(n + 1)
		for _, kind := range []struct{ name, body string }{{"allprop", ""}, {"rclone4", rcloneBody}} {
			b.Run(fmt.Sprintf("files=%d/%s/handler", n, kind.name), func(b *testing.B) {
				propfindOnce(b, srv.Handler, kind.body) // warm the page cache and the state store
				peak, size := peakHeapMiB(b, srv.Handler, kind.body)
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				for b.Loop() {
					propfindOnce(b, srv.Handler, kind.body)
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				ops := float64(b.N)
				b.ReportMetric(float64(size), "answer-bytes")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/ops/entries, "allocs/entry")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/ops/entries, "B/entry")
				b.ReportMetric(peak, "peak-heap-MiB")
			})
		}
		b.Run(fmt.Sprintf("files=%d/allprop/http", n), func(b *testing.B) {
			ts := httptest.NewServer(srv.Handler)
			defer ts.Close()
			client := ts.Client()
			var size int64
			for b.Loop() {
				req, _ := http.NewRequest("PROPFIND", ts.URL+"/big/", nil)
				req.Header.Set("Depth", "1")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				size, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusMultiStatus {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
			b.ReportMetric(float64(size), "answer-bytes")
		})
		srv.Close()
	}
}

// TestPropfindMemoryIsFlat: a PROPFIND Depth 1 streams its answer, so
// listing 100,000 files needs no more heap than listing 10,000, give or
// take a few MiB (the answer alone is tens of MiB).
func TestPropfindMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 110,000 files")
	}
	peaks := map[int]float64{}
	for _, n := range []int{10_000, 100_000} {
		dir := fastTempDir(t)
		fillDirect(t, dir, n)
		srv, err := server.Open(server.Options{Root: dir, NoSync: true, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		// Some dead properties, as a real folder has.
		for i := 0; i < n; i += 97 {
			w := httptest.NewRecorder()
			srv.Handler.ServeHTTP(w, httptest.NewRequest("PROPPATCH", fmt.Sprintf("/big/file-%06d.txt", i),
				strings.NewReader(`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">`+strings.Repeat("v", 200)+`</x></D:prop></D:set></D:propertyupdate>`)))
			if w.Code != http.StatusMultiStatus {
				t.Fatalf("PROPPATCH: %d", w.Code)
			}
		}
		best, size := -1.0, int64(0)
		for range 2 { // the lower of two runs: a stray GC timing is not the server's
			p, n := peakHeapMiB(t, srv.Handler, "")
			if best < 0 || p < best {
				best = p
			}
			size = n
		}
		peaks[n] = best
		t.Logf("%d files: peak heap %.1f MiB above the live heap, answer %.1f MiB", n, best, float64(size)/(1<<20))
		srv.Close()
	}
	if peaks[100_000] > peaks[10_000]+8 {
		t.Errorf("peak heap grows with the listing: %.1f MiB for 10,000 files, %.1f MiB for 100,000", peaks[10_000], peaks[100_000])
	}
}
