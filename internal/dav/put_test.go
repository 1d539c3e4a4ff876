package dav_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/storage"
)

func TestPut(t *testing.T) {
	for _, tc := range []struct {
		name, target, body string
		hdr                []string
		code               int
		want               string // content afterwards at target; "-" absent
	}{
		{"create", "/dir/new.txt", "fresh", nil, 201, "fresh"},
		{"overwrite", "/dir/old.txt", "newer", nil, 204, "newer"},
		{"empty body", "/dir/empty", "", nil, 201, ""},
		{"missing parent", "/nodir/x", "x", nil, 409, "-"},
		{"parent is a file", "/dir/old.txt/x", "x", nil, 409, "-"},
		{"onto a collection", "/dir", "x", nil, 405, "-"},
		{"onto a collection slash", "/dir/", "x", nil, 405, "-"},
		{"onto the root", "/", "x", nil, 405, "-"},
		{"content-range", "/dir/old.txt", "x", []string{"Content-Range", "bytes 0-0/1"}, 400, "old"},
		{"if-none-match star on existing", "/dir/old.txt", "x", []string{"If-None-Match", "*"}, 412, "old"},
		{"if-none-match star on new", "/dir/n2", "x", []string{"If-None-Match", "*"}, 201, "x"},
		{"if-match star on new", "/dir/n3", "x", []string{"If-Match", "*"}, 412, "-"},
		{"if-match wrong", "/dir/old.txt", "x", []string{"If-Match", `"nope"`}, 412, "old"},
		{"malformed x-oc-mtime", "/dir/old.txt", "x", []string{"X-OC-Mtime", "yesterday"}, 400, "old"},
		{"malformed if", "/dir/old.txt", "x", []string{"If", "(broken"}, 400, "old"},
		{"encoded slash", "/dir/a%2fb", "x", nil, 400, "-"},
		{"climbs above root", "/../x", "x", nil, 400, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/dir/old.txt", "old")
			w := e.do("PUT", tc.target, tc.body, tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if tc.code == 201 {
				if loc := w.Header().Get("Location"); loc != tc.target {
					t.Errorf("Location %q, want %q", loc, tc.target)
				}
			}
			if tc.code == 201 || tc.code == 204 {
				etag := w.Header().Get("ETag")
				if got := e.do("HEAD", tc.target, "").Header().Get("ETag"); etag == "" || got != etag {
					t.Errorf("PUT ETag %q, HEAD ETag %q", etag, got)
				}
			}
			if strings.Contains(tc.target, "%") || strings.Contains(tc.target, "..") {
				return
			}
			got, ok := e.content(tc.target)
			switch {
			case tc.want == "-" && ok && tc.target != "/dir" && tc.target != "/dir/" && tc.target != "/":
				t.Errorf("%s exists afterwards", tc.target)
			case tc.want != "-" && (!ok || got != tc.want):
				t.Errorf("content %q (%v), want %q", got, ok, tc.want)
			}
		})
	}
}

// chunked returns a PUT request whose body has no announced length, as
// macOS Finder sends it.
func chunked(target, body string, hdr ...string) *http.Request {
	r := newRequest("PUT", target, "", hdr...)
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = -1
	r.TransferEncoding = []string{"chunked"}
	return r
}

func TestPutChunked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		expected string // X-Expected-Entity-Length; "" none
		code     int
		want     string
	}{
		{"no length", "chunked body", "", 204, "chunked body"},
		{"expected matches", "12345", "5", 204, "12345"},
		{"expected larger", "12345", "10", 400, "old content"},
		{"expected smaller", "12345", "3", 400, "old content"},
		{"expected malformed", "12345", "five", 400, "old content"},
		{"expected negative", "12345", "-1", 400, "old content"},
	} {
		t.Run("MacFinder/"+tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "old content")
			var hdr []string
			if tc.expected != "" {
				hdr = []string{"X-Expected-Entity-Length", tc.expected}
			}
			w := e.serve(chunked("/f", tc.body, hdr...))
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if got, _ := e.content("/f"); got != tc.want {
				t.Fatalf("content %q, want %q", got, tc.want)
			}
		})
	}
}

// TestPutBodyCutShort: a body that ends before its Content-Length (the
// client went away) leaves the old content, and is the client's fault,
// not a server error.
func TestPutBodyCutShort(t *testing.T) {
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"unexpected EOF", io.MultiReader(strings.NewReader("half"), iotest.ErrReader(io.ErrUnexpectedEOF))},
		{"short", strings.NewReader("half")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "the old content")
			r := newRequest("PUT", "/f", "")
			r.Body = io.NopCloser(tc.body)
			r.ContentLength = 100
			w := e.serve(r)
			if w.Code >= 500 || w.Code < 400 {
				t.Errorf("status %d, want 4xx", w.Code)
			}
			if got, _ := e.content("/f"); got != "the old content" {
				t.Fatalf("content %q", got)
			}
		})
	}
}

func TestPutXOCMtime(t *testing.T) {
	for _, name := range []string{"mem", "local"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, func(c *dav.Config) {
				if name == "local" {
					l, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{NoSync: true})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { l.Close() })
					c.FS = l
				}
			})
			for i, code := range []int{201, 204} {
				w := e.do("PUT", "/f", "content", "X-OC-Mtime", "1700000000.5")
				if w.Code != code {
					t.Fatalf("PUT %d: %d", i, w.Code)
				}
				if got := w.Header().Get("X-OC-MTime"); got != "accepted" {
					t.Fatalf("X-OC-MTime %q, want accepted", got)
				}
				info, err := e.fs.Stat(context.Background(), "/f")
				if err != nil {
					t.Fatal(err)
				}
				if want := time.Unix(1700000000, 5e8); !info.ModTime.Equal(want) {
					t.Fatalf("mtime %v, want %v", info.ModTime, want)
				}
				lm := propText(e.propfind1("/f", "getlastmodified"), "getlastmodified")
				if want := "Tue, 14 Nov 2023 22:13:20 GMT"; lm != want {
					t.Fatalf("getlastmodified %q, want %q", lm, want)
				}
			}
			if w := e.must(204, "PUT", "/f", "x"); w.Header().Get("X-OC-MTime") != "" {
				t.Fatalf("X-OC-MTime answered without X-OC-Mtime")
			}
		})
	}
}

func TestPutMaxUpload(t *testing.T) {
	e := newEnv(t, func(c *dav.Config) { c.MaxUploadBytes = 10 })
	e.put("/f", "small")
	e.must(http.StatusRequestEntityTooLarge, "PUT", "/f", strings.Repeat("x", 11))
	w := e.serve(chunked("/f", strings.Repeat("y", 50)))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked over the limit: %d", w.Code)
	}
	e.must(http.StatusNoContent, "PUT", "/f", strings.Repeat("z", 10))
	if got, _ := e.content("/f"); got != strings.Repeat("z", 10) {
		t.Fatalf("content %q", got)
	}
}

func TestMkcol(t *testing.T) {
	for _, tc := range []struct {
		name, target, body string
		hdr                []string
		code               int
	}{
		{"create", "/new", "", nil, 201},
		{"create trailing slash (MacFinder)", "/new/", "", nil, 201},
		{"nested", "/dir/sub", "", nil, 201},
		{"exists collection", "/dir", "", nil, 405},
		{"exists collection slash", "/dir/", "", nil, 405},
		{"exists file", "/file", "", nil, 405},
		{"root", "/", "", nil, 405},
		{"missing parent", "/none/sub", "", nil, 409},
		{"parent is a file", "/file/sub", "", nil, 409},
		{"body", "/withbody", "<x/>", []string{"Content-Type", "application/xml"}, 415},
		{"if-match on unmapped", "/guarded", "", []string{"If-Match", "*"}, 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/file", "f")
			w := e.do("MKCOL", tc.target, tc.body, tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			info, err := e.fs.Stat(context.Background(), strings.TrimSuffix(tc.target, "/"))
			if tc.code == 201 && (err != nil || !info.IsDir) {
				t.Fatalf("no collection afterwards: %v", err)
			}
			if tc.code >= 409 && err == nil && tc.code != 405 {
				t.Fatalf("%s exists after %d", tc.target, tc.code)
			}
		})
	}
	t.Run("chunked body", func(t *testing.T) {
		e := newEnv(t)
		r := newRequest("MKCOL", "/c", "")
		r.Body = io.NopCloser(strings.NewReader("<x/>"))
		r.ContentLength = -1
		if w := e.serve(r); w.Code != http.StatusUnsupportedMediaType {
			t.Fatalf("status %d, want 415", w.Code)
		}
	})
}

// failFS fails Remove (and Open) on chosen paths, to exercise partial
// failures.
type failFS struct {
	storage.FS
	mu         sync.Mutex
	failRemove map[string]error
}

func (f *failFS) Remove(ctx context.Context, name string) error {
	f.mu.Lock()
	err := f.failRemove[name]
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.FS.Remove(ctx, name)
}

func TestDelete(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		hdr          []string
		code         int
		gone, kept   []string
	}{
		{"file", "/d/a", nil, 204, []string{"/d/a"}, []string{"/d", "/d/b/c"}},
		{"collection", "/d", nil, 204, []string{"/d", "/d/a", "/d/b", "/d/b/c"}, []string{"/top"}},
		{"collection slash", "/d/", nil, 204, []string{"/d"}, []string{"/top"}},
		{"missing", "/missing", nil, 404, nil, []string{"/d/a"}},
		{"below a file", "/top/x", nil, 404, nil, []string{"/top"}},
		{"root", "/", nil, 403, nil, []string{"/d/a", "/top"}},
		{"if-match wrong", "/top", []string{"If-Match", `"nope"`}, 412, nil, []string{"/top"}},
		{"depth 0 ignored for files", "/top", []string{"Depth", "0"}, 204, []string{"/top"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/d")
			e.mkcol("/d/b")
			e.put("/d/a", "a")
			e.put("/d/b/c", "c")
			e.put("/top", "t")
			e.must(207, "PROPPATCH", "/d/b/c", proppatchSet("{urn:x}p", "v"))
			w := e.do("DELETE", tc.target, "", tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			for _, p := range tc.gone {
				if e.exists(p) {
					t.Errorf("%s still exists", p)
				}
			}
			for _, p := range tc.kept {
				if !e.exists(p) {
					t.Errorf("%s is gone", p)
				}
			}
			if !e.exists("/d/b/c") {
				if ps, _ := e.props.Get(context.Background(), "/d/b/c"); len(ps) != 0 {
					t.Errorf("properties of deleted /d/b/c remain: %v", ps)
				}
			}
		})
	}
}

// TestDeletePartialFailure: a member that cannot be removed is the only
// response of the 207 (its ancestors are implied, RFC 4918 §9.6.1);
// everything else is removed, and properties follow their resource.
func TestDeletePartialFailure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fail   map[string]error
		status map[string]int // href -> status in the 207
		gone   []string
		kept   []string
	}{
		{
			name:   "one file",
			fail:   map[string]error{"/d/b/bad": storage.ErrPermission},
			status: map[string]int{"/d/b/bad": 403},
			gone:   []string{"/d/a", "/d/b/good", "/d/c", "/d/c/x"},
			kept:   []string{"/d", "/d/b", "/d/b/bad"},
		},
		{
			name:   "one collection",
			fail:   map[string]error{"/d/c": storage.ErrPermission},
			status: map[string]int{"/d/c/": 403},
			gone:   []string{"/d/a", "/d/b", "/d/b/bad", "/d/c/x"},
			kept:   []string{"/d", "/d/c"},
		},
		{
			name:   "two members, server error",
			fail:   map[string]error{"/d/a": errors.New("disk on fire"), "/d/c/x": storage.ErrPermission},
			status: map[string]int{"/d/a": 500, "/d/c/x": 403},
			gone:   []string{"/d/b"},
			kept:   []string{"/d", "/d/a", "/d/c", "/d/c/x"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ff := &failFS{FS: storage.NewMem(), failRemove: map[string]error{}}
			e := newEnv(t, func(c *dav.Config) { c.FS = ff })
			e.mkcol("/d")
			e.mkcol("/d/b")
			e.mkcol("/d/c")
			for _, p := range []string{"/d/a", "/d/b/good", "/d/b/bad", "/d/c/x"} {
				e.put(p, p)
				e.must(207, "PROPPATCH", p, proppatchSet("{urn:x}p", p))
			}
			ff.failRemove = tc.fail
			m := ms(t, e.do("DELETE", "/d", ""))
			got := map[string]int{}
			for _, r := range m.Responses {
				if len(r.Propstats) > 0 {
					t.Errorf("response %v has propstats", r.Hrefs)
				}
				for _, h := range r.Hrefs {
					got[h] = r.Status.Code
				}
			}
			if len(got) != len(tc.status) {
				t.Errorf("responses %v, want %v", got, tc.status)
			}
			for h, code := range tc.status {
				if got[h] != code {
					t.Errorf("%s: %d, want %d (all: %v)", h, got[h], code, got)
				}
			}
			for _, p := range tc.gone {
				if e.exists(p) {
					t.Errorf("%s still exists", p)
				}
				if ps, _ := e.props.Get(context.Background(), p); len(ps) != 0 {
					t.Errorf("%s is gone but its properties remain", p)
				}
			}
			for _, p := range tc.kept {
				if !e.exists(p) {
					t.Errorf("%s is gone", p)
				}
			}
			for p := range tc.fail {
				if ps, _ := e.props.Get(context.Background(), p); len(ps) == 0 && !strings.HasPrefix(p, "/d/c") {
					t.Errorf("%s stays but lost its properties", p)
				}
			}
		})
	}
}

// TestServerErrorsAreNotLeaked: a 500 says "internal error" and nothing of
// the cause.
func TestServerErrorsAreNotLeaked(t *testing.T) {
	ff := &failFS{FS: storage.NewMem(), failRemove: map[string]error{}}
	e := newEnv(t, func(c *dav.Config) { c.FS = ff })
	e.put("/f", "x")
	ff.failRemove["/f"] = errors.New("secret path /srv/data/f: disk on fire")
	w := e.do("DELETE", "/f", "")
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	if strings.Contains(w.Body.String(), "secret") || strings.Contains(w.Body.String(), "fire") {
		t.Fatalf("body leaks the cause: %q", w.Body)
	}
	_ = httptest.NewRecorder
}

// TestPutConditionsAtCommit: the preconditions of a PUT hold when its
// content goes in, not only before its body arrives (RFC 9110 §13.1.1,
// §13.1.2). Two PUTs with the same condition both pass the early check;
// the first to finish wins and the second gets 412, its body discarded.
func TestPutConditionsAtCommit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		hdr    func(etag string) []string
		first  int
	}{
		{"If-None-Match star", "/new", func(string) []string { return []string{"If-None-Match", "*"} }, 201},
		{"If-Match etag", "/f", func(e string) []string { return []string{"If-Match", e} }, 204},
		{"If header etag", "/f", func(e string) []string { return []string{"If", "([" + e + "])"} }, 204},
		{"If-Match star on a missing resource", "/new", func(string) []string { return []string{"If-Match", "*"} }, 412},
	} {
		for _, backend := range []string{"mem", "local"} {
			t.Run(tc.name+" "+backend, func(t *testing.T) {
				var opts []func(*dav.Config)
				if backend == "local" {
					opts = append(opts, func(c *dav.Config) { c.FS = newLocalNoSync(t) })
				}
				e := newEnv(t, opts...)
				e.put("/f", "v0")
				etag := e.do("HEAD", "/f", "").Header().Get("ETag")
				r1, pw1 := pipedRequest("PUT", tc.target, tc.hdr(etag)...)
				r2, pw2 := pipedRequest("PUT", tc.target, tc.hdr(etag)...)
				d1, d2 := e.serveAsync(r1), e.serveAsync(r2)
				if tc.first == 412 {
					// Refused before the body: nothing reads it.
					pw1.Close()
					pw2.Close()
					if c1, c2 := <-d1, <-d2; c1 != 412 || c2 != 412 {
						t.Fatalf("statuses %d, %d, want 412, 412", c1, c2)
					}
					return
				}
				// A Write returns once the handler reads it: both are past
				// their early check, reading their bodies.
				pw1.Write([]byte("first"))
				pw2.Write([]byte("second"))
				pw1.Close()
				if c := <-d1; c != tc.first {
					t.Fatalf("first PUT: %d, want %d", c, tc.first)
				}
				pw2.Close()
				if c := <-d2; c != http.StatusPreconditionFailed {
					t.Fatalf("second PUT: %d, want 412", c)
				}
				if got, _ := e.content(tc.target); got != "first" {
					t.Fatalf("content %q, want the first PUT's", got)
				}
			})
		}
	}
}

// TestPutBodyUnreadable: a body that fails to read, whatever net/http's
// reason (malformed chunked encoding, a connection reset), is the client's
// fault: 400, the old content kept, and no error in the server's log.
func TestPutBodyUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		cl   int64
		code int
	}{
		{"invalid chunk length", errors.New("invalid byte in chunk length"), -1, 400},
		{"chunk length too large", errors.New("http chunk length too large"), -1, 400},
		{"malformed chunked encoding", errors.New("malformed chunked encoding"), -1, 400},
		{"connection reset", errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer"), -1, 400},
		{"cut short with a length", io.ErrUnexpectedEOF, 100, 400},
	} {
		for _, backend := range []string{"mem", "local"} {
			t.Run(tc.name+" "+backend, func(t *testing.T) {
				var log strings.Builder
				var mu sync.Mutex
				e := newEnv(t, func(c *dav.Config) {
					c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &log}, nil))
					if backend == "local" {
						c.FS = newLocalNoSync(t)
					}
				})
				e.put("/f", "the old content")
				r := newRequest("PUT", "/f", "")
				r.Body = io.NopCloser(io.MultiReader(strings.NewReader("new"), iotest.ErrReader(tc.err)))
				r.ContentLength = tc.cl
				w := e.serve(r)
				if w.Code != tc.code {
					t.Errorf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
				}
				if strings.Contains(w.Body.String(), tc.err.Error()) {
					t.Errorf("the answer shows the internal error: %q", w.Body)
				}
				if got, _ := e.content("/f"); got != "the old content" {
					t.Errorf("content %q", got)
				}
				mu.Lock()
				defer mu.Unlock()
				if strings.Contains(log.String(), "level=ERROR") {
					t.Errorf("logged as a server error:\n%s", log.String())
				}
			})
		}
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
