package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/davit-dav/davit/internal/server"
)

// openBelow lists the files below dir that this process holds open, as
// /proc/self/fd shows them ("(deleted)" after the name of a removed one).
func openBelow(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, dir+"/") && !strings.Contains(target, "/"+server.StateDir) {
			out = append(out, strings.TrimPrefix(target, dir+"/"))
		}
	}
	slices.Sort(out)
	return out
}

// TestSmallFilesKeptStayCurrent: through the whole server, small files
// read again are kept open (storage's file cache), and every answer is
// still current: after a PUT or DELETE through Davit, and after changes
// made by another program, the next GET gives the new content, ETag or
// 404, and nothing removed or replaced stays open.
func TestSmallFilesKeptStayCurrent(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"a.txt", "c.txt", "d/b.txt", "d/e.txt"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("first "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file is kept once its change time is a second old.
	time.Sleep(1100 * time.Millisecond)
	l := start(t, dir, server.Options{})
	get := func(path, want string) string {
		t.Helper()
		resp, b := l.must(200, "GET", path, "")
		if string(b) != want {
			t.Fatalf("GET %s: %q, want %q", path, b, want)
		}
		return resp.Header.Get("Etag")
	}
	for _, n := range names {
		get("/"+n, "first "+n)
		get("/"+n, "first "+n)
	}
	if got := openBelow(t, dir); !slices.Equal(got, names) {
		t.Fatalf("files held open after reading them: %q, want all of %q kept", got, names)
	}

	// noneHeld fails when a file removed or replaced is still held open.
	noneHeld := func(when string) {
		t.Helper()
		for _, f := range openBelow(t, dir) {
			if strings.HasSuffix(f, "(deleted)") {
				t.Errorf("%s: %s is removed or replaced, and still held open", when, f)
			}
		}
	}

	// Replaced through Davit: the old file is let go at once.
	etag := get("/a.txt", "first a.txt")
	l.must(204, "PUT", "/a.txt", "second")
	noneHeld("after the PUT")
	if get("/a.txt", "second") == etag {
		t.Error("a.txt: same ETag after a PUT")
	}
	// Rewritten in place by another program: same size, same inode.
	etag = get("/d/b.txt", "first d/b.txt")
	if err := os.WriteFile(filepath.Join(dir, "d/b.txt"), []byte("FIRST D/B.TXT"), 0o644); err != nil {
		t.Fatal(err)
	}
	if get("/d/b.txt", "FIRST D/B.TXT") == etag {
		t.Error("d/b.txt: same ETag after another program rewrote it")
	}
	// Removed through Davit (let go at once), and by another program (let
	// go at the next request for it).
	l.must(204, "DELETE", "/c.txt", "")
	noneHeld("after the DELETE")
	l.must(404, "GET", "/c.txt", "")
	if err := os.Remove(filepath.Join(dir, "d/e.txt")); err != nil {
		t.Fatal(err)
	}
	l.must(404, "GET", "/d/e.txt", "")
	noneHeld("after a GET of a file another program removed")
}

// TestGetUnderReplacement: while a writer swaps the folder holding a small
// file for others holding other versions of it (renameat2 with
// RENAME_EXCHANGE: the files keep their settled change times, so the
// small-file cache keeps each one it finds there), and now and then PUTs a new
// version through Davit, readers GET the file plainly, with If-None-Match
// carrying the last ETag they saw, and with a Range. Every answer must
// agree with its own ETag: a body is one whole version, never another's or
// a mix; a 206 is the asked window of one version; a 304 names the ETag
// asked for; and one ETag never stands for two versions.
func TestGetUnderReplacement(t *testing.T) {
	const (
		size     = 4096
		versions = 8
		readers  = 4
	)
	version := func(v int) []byte {
		return bytes.Repeat(fmt.Appendf(nil, "v%06d\n", v), size/8)
	}
	dir := t.TempDir()
	for v := range versions {
		sub := filepath.Join(dir, "s"+strconv.Itoa(v))
		if v == 0 {
			sub = filepath.Join(dir, "cur")
		}
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, "f.bin"), version(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Settled, so that the cache keeps the files (see above).
	time.Sleep(1100 * time.Millisecond)
	l := start(t, dir, server.Options{})
	// Each version read twice through /cur, so that the cache keeps each
	// in turn (it keeps one file a name).
	for v := range versions {
		l.must(200, "GET", "/cur/f.bin", "")
		l.must(200, "GET", "/cur/f.bin", "")
		if v+1 < versions { // cur now holds v+1, and s<v+1> holds v
			if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(dir, "cur"), unix.AT_FDCWD, filepath.Join(dir, "s"+strconv.Itoa(v+1)), unix.RENAME_EXCHANGE); err != nil {
				t.Fatalf("renameat2: %v", err)
			}
		}
	}
	// The last one read there is the one kept.
	if got := openBelow(t, dir); !slices.Equal(got, []string{"cur/f.bin"}) {
		t.Fatalf("files held open: %q, want cur/f.bin kept", got)
	}

	var (
		mu      sync.Mutex
		seen    = map[string]int{} // ETag → version
		failed  []string
		answers [4]int // 200, 206, 304, other
	)
	fail := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failed) < 10 {
			failed = append(failed, fmt.Sprintf(format, a...))
		}
	}
	// bind records that etag stood for version v.
	bind := func(etag string, v int) {
		mu.Lock()
		defer mu.Unlock()
		if old, ok := seen[etag]; ok && old != v {
			if len(failed) < 10 {
				failed = append(failed, fmt.Sprintf("ETag %s stood for version %d and for version %d", etag, old, v))
			}
			return
		}
		seen[etag] = v
	}
	// versionOf reads the version that a window of a body starting at
	// offset off belongs to, and checks that the window is exactly that.
	versionOf := func(b []byte, off int) (int, bool) {
		i := (8 - off%8) % 8 // the first whole line
		if len(b) < i+8 {
			return 0, false
		}
		v, err := strconv.Atoi(string(b[i+1 : i+7]))
		if err != nil {
			return 0, false
		}
		return v, bytes.Equal(b, version(v)[off:off+len(b)])
	}
	get := func(hdr ...string) (int, string, []byte, error) {
		req, err := http.NewRequest("GET", l.url+"/cur/f.bin", nil)
		if err != nil {
			return 0, "", nil, err
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := l.client.Do(req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Etag"), b, err
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		for step := 0; ; step++ {
			select {
			case <-stop:
				return
			default:
			}
			if step%16 == 15 {
				resp, err := l.client.Do(mustRequest("PUT", l.url+"/cur/f.bin", version(versions+step)))
				if err != nil {
					fail("PUT: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 204 && resp.StatusCode != 201 {
					fail("PUT: status %d", resp.StatusCode)
				}
				continue
			}
			other := filepath.Join(dir, "s"+strconv.Itoa(1+step%(versions-1)))
			if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(dir, "cur"), unix.AT_FDCWD, other, unix.RENAME_EXCHANGE); err != nil {
				fail("renameat2: %v", err)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := ""
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var hdr []string
				switch i % 3 {
				case 1:
					if last != "" {
						hdr = []string{"If-None-Match", last}
					}
				case 2:
					hdr = []string{"Range", "bytes=100-199"}
				}
				code, etag, b, err := get(hdr...)
				if err != nil {
					fail("GET %q: %v", hdr, err)
					return
				}
				mu.Lock()
				switch code {
				case 200:
					answers[0]++
				case 206:
					answers[1]++
				case 304:
					answers[2]++
				default:
					answers[3]++
				}
				mu.Unlock()
				switch {
				case etag == "":
					fail("GET %q: %d without an ETag", hdr, code)
				case code == 200:
					v, ok := versionOf(b, 0)
					if !ok || len(b) != size {
						fail("GET %q: 200 with %d bytes that are not one whole version (%q...)", hdr, len(b), b[:min(len(b), 16)])
						continue
					}
					if len(hdr) > 0 && hdr[0] == "If-None-Match" && etag == hdr[1] {
						fail("GET with If-None-Match %s: 200 with that very ETag", etag)
					}
					bind(etag, v)
					last = etag
				case code == 206:
					v, ok := versionOf(b, 100)
					if !ok || len(b) != 100 {
						fail("GET bytes=100-199: 206 with %d bytes that are not that window of one version (%q)", len(b), b)
						continue
					}
					bind(etag, v)
				case code == 304:
					if len(hdr) == 0 || hdr[0] != "If-None-Match" || etag != hdr[1] {
						fail("GET %q: 304 with ETag %s", hdr, etag)
					}
				default:
					fail("GET %q: status %d", hdr, code)
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	close(stop)
	wg.Wait()
	for _, f := range failed {
		t.Error(f)
	}
	t.Logf("answers: %d 200, %d 206, %d 304, %d other; %d ETags seen", answers[0], answers[1], answers[2], answers[3], len(seen))
	// The test means something only if every kind of answer came, and
	// the file changed under the readers.
	if answers[0] == 0 || answers[1] == 0 || answers[2] == 0 || len(seen) < versions {
		t.Errorf("answers %v and %d ETags: the readers did not meet every case", answers, len(seen))
	}
}

// mustRequest builds a request with body b; it panics on a bad URL (a
// test's own mistake).
func mustRequest(method, url string, b []byte) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	return req
}
