package server_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
