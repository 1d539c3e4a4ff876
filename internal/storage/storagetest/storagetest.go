// Package storagetest is the conformance suite for storage.FS: every
// backend runs it from its own tests with Run.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/davit-dav/davit/internal/storage"
)

// Run checks that the file systems newFS returns keep the storage.FS
// contract. Each subtest gets a new, empty file system.
func Run(t *testing.T, newFS func(t *testing.T) storage.FS) {
	tests := []struct {
		name string
		run  func(t *testing.T, fsys storage.FS)
	}{
		{"InvalidNames", testInvalidNames},
		{"Stat", testStat},
		{"List", testList},
		{"ListMany", testListMany},
		{"Open", testOpen},
		{"OpenInfo", testOpenInfo},
		{"Put", testPut},
		{"PutETag", testPutETag},
		{"PutAborted", testPutAborted},
		{"PutConcurrent", testPutConcurrent},
		{"PutCommit", testPutCommit},
		{"Mkdir", testMkdir},
		{"Remove", testRemove},
		{"CopyFile", testCopyFile},
		{"Rename", testRename},
		{"SetModTime", testSetModTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newFS(t)) })
	}
}

// unknownSize is PutOptions.ExpectedSize for a body of unknown length.
var unknownSize = storage.PutOptions{ExpectedSize: -1}

func testInvalidNames(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	put(t, fsys, "/f", "content")
	ops := []struct {
		name string
		do   func(name string) error
	}{
		{"Stat", func(n string) error { _, err := fsys.Stat(ctx, n); return err }},
		{"List", func(n string) error { _, err := list(fsys, n); return err }},
		{"Open", func(n string) error { _, err := fsys.Open(ctx, n); return err }},
		{"Put", func(n string) error { _, _, err := fsys.Put(ctx, n, strings.NewReader("x"), unknownSize); return err }},
		{"Mkdir", func(n string) error { return fsys.Mkdir(ctx, n) }},
		{"Remove", func(n string) error { return fsys.Remove(ctx, n) }},
		{"CopyFileSrc", func(n string) error { return fsys.CopyFile(ctx, n, "/g") }},
		{"CopyFileDst", func(n string) error { return fsys.CopyFile(ctx, "/f", n) }},
		{"RenameSrc", func(n string) error { return fsys.Rename(ctx, n, "/g") }},
		{"RenameDst", func(n string) error { return fsys.Rename(ctx, "/f", n) }},
		{"SetModTime", func(n string) error { return fsys.SetModTime(ctx, n, time.Unix(1e9, 0)) }},
	}
	names := []string{"", "f", "/f/", "//f", "/./f", "/f/.", "/..", "/../etc/passwd", "/a/../../x", "/a/../f", "/a\x00b", "/f\x00"}
	for _, op := range ops {
		for _, name := range names {
			if err := op.do(name); !errors.Is(err, storage.ErrInvalidName) {
				t.Errorf("%s(%q) = %v, want ErrInvalidName", op.name, name, err)
			}
		}
	}
	if got := read(t, fsys, "/f"); got != "content" {
		t.Errorf("/f = %q after invalid operations, want %q", got, "content")
	}
}

func testStat(t *testing.T, fsys storage.FS) {
	put(t, fsys, "/f", "hello")
	mkdir(t, fsys, "/d")
	put(t, fsys, "/d/g", "")
	for _, want := range []storage.Info{
		{Name: "", Path: "/", IsDir: true},
		{Name: "f", Path: "/f", Size: 5},
		{Name: "d", Path: "/d", IsDir: true},
		{Name: "g", Path: "/d/g"},
	} {
		got := stat(t, fsys, want.Path)
		if got.Name != want.Name || got.Path != want.Path || got.Size != want.Size || got.IsDir != want.IsDir {
			t.Errorf("Stat(%q) = %+v, want %+v", want.Path, got, want)
		}
		if got.ModTime.IsZero() {
			t.Errorf("Stat(%q): zero ModTime", want.Path)
		}
		if !want.IsDir && !strongETag(got.ETag) {
			t.Errorf("Stat(%q): ETag %q is not a strong entity tag", want.Path, got.ETag)
		}
	}
	for _, name := range []string{"/missing", "/d/missing", "/missing/x", "/f/x"} {
		if _, err := fsys.Stat(t.Context(), name); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

func testList(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	if got := names(t, fsys, "/"); len(got) != 0 {
		t.Errorf("List(/) of an empty FS = %q", got)
	}
	put(t, fsys, "/f", "hello")
	mkdir(t, fsys, "/d")
	put(t, fsys, "/d/g", "x")
	mkdir(t, fsys, "/d/e")
	for dir, want := range map[string][]string{"/": {"d", "f"}, "/d": {"e", "g"}, "/d/e": nil} {
		infos, err := list(fsys, dir)
		if err != nil {
			t.Fatalf("List(%q): %v", dir, err)
		}
		var got []string
		for _, in := range infos {
			got = append(got, in.Name)
			if s := stat(t, fsys, in.Path); !sameInfo(in, s) {
				t.Errorf("List(%q) gives %+v, Stat gives %+v", dir, in, s)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", dir, got, want)
		}
	}

	for name, want := range map[string]error{
		"/f":         storage.ErrNotDir,
		"/missing":   storage.ErrNotFound,
		"/f/x":       storage.ErrNotFound,
		"/missing/x": storage.ErrNotFound,
	} {
		if _, err := list(fsys, name); !errors.Is(err, want) {
			t.Errorf("List(%q) = %v, want %v", name, err, want)
		}
	}

	for range fsys.List(ctx, "/") {
		break // the iterator must stop cleanly
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var err error
	for _, err = range fsys.List(cancelled, "/") {
		if err != nil {
			break
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context ends with %v, want context.Canceled", err)
	}
}

func testListMany(t *testing.T, fsys storage.FS) {
	const n = 1000
	mkdir(t, fsys, "/many")
	for i := range n {
		if i%10 == 0 {
			mkdir(t, fsys, fmt.Sprintf("/many/d%04d", i))
		} else {
			put(t, fsys, fmt.Sprintf("/many/f%04d", i), "x")
		}
	}
	got := sorted(names(t, fsys, "/many"))
	if distinct := len(slices.Compact(slices.Clone(got))); len(got) != n || distinct != n {
		t.Errorf("List of %d entries gives %d, %d distinct", n, len(got), distinct)
	}
}

func testOpen(t *testing.T, fsys storage.FS) {
	put(t, fsys, "/f", "hello world")
	mkdir(t, fsys, "/d")
	f, err := fsys.Open(t.Context(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(6, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(f); err != nil || string(b) != "world" {
		t.Errorf("read after Seek = %q, %v; want %q", b, err, "world")
	}
	if n, err := f.Seek(0, io.SeekEnd); n != 11 || err != nil {
		t.Errorf("Seek to end = %d, %v; want 11", n, err)
	}

	for name, want := range map[string]error{
		"/":        storage.ErrIsDir,
		"/d":       storage.ErrIsDir,
		"/missing": storage.ErrNotFound,
		"/f/x":     storage.ErrNotFound,
	} {
		if f, err := fsys.Open(t.Context(), name); !errors.Is(err, want) {
			t.Errorf("Open(%q) = %v, want %v", name, err, want)
			if err == nil {
				f.Close()
			}
		}
	}
}

// testOpenInfo checks storage.OpenInfo: the backend's own OpenInfo when it
// is an InfoOpener, Stat then Open otherwise. Without a buffer it gives a
// File; with one the file fits in (its size and a byte more), the content
// read whole and no File: the backends here all read small files whole.
func testOpenInfo(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	put(t, fsys, "/f", "hello world")
	mkdir(t, fsys, "/d")
	put(t, fsys, "/d/g", "")
	put(t, fsys, "/d/h", "sixteen bytes..!")
	for _, name := range []string{"/f", "/d/g", "/d/h"} {
		content := read(t, fsys, name)
		for _, buf := range [][]byte{nil, make([]byte, len(content)), make([]byte, len(content)+1), make([]byte, 4096)} {
			fits := buf != nil && len(content) < len(buf)
			f, body, in, err := storage.OpenInfo(ctx, fsys, name, buf)
			if err != nil {
				t.Fatalf("OpenInfo(%q, %d-byte buffer): %v", name, len(buf), err)
			}
			if want := stat(t, fsys, name); !sameInfo(in, want) {
				t.Errorf("OpenInfo(%q) Info = %+v, Stat = %+v", name, in, want)
			}
			switch {
			case fits && (f != nil || body == nil || string(body) != content):
				t.Errorf("OpenInfo(%q, %d-byte buffer) = File %v, body %q; want no File and %q", name, len(buf), f, body, content)
			case !fits && (f == nil || body != nil):
				t.Errorf("OpenInfo(%q, %d-byte buffer) = File %v, body %q; want a File and no body", name, len(buf), f, body)
			case f != nil:
				b, err := io.ReadAll(f)
				if err != nil || string(b) != content {
					t.Errorf("OpenInfo(%q) reads %q, %v", name, b, err)
				}
			}
			if f != nil {
				f.Close()
			}
		}
	}
	for _, name := range []string{"/", "/d"} {
		f, body, in, err := storage.OpenInfo(ctx, fsys, name, make([]byte, 4096))
		if f != nil || body != nil || err != nil || !sameInfo(in, stat(t, fsys, name)) {
			t.Errorf("OpenInfo(%q) = %v, %q, %+v, %v; want no File, no body and the collection's Info", name, f, body, in, err)
			if f != nil {
				f.Close()
			}
		}
	}
	for name, want := range map[string]error{
		"/missing": storage.ErrNotFound,
		"/f/x":     storage.ErrNotFound,
		"/d/":      storage.ErrInvalidName,
		"f":        storage.ErrInvalidName,
	} {
		if f, body, _, err := storage.OpenInfo(ctx, fsys, name, make([]byte, 4096)); !errors.Is(err, want) || f != nil || body != nil {
			t.Errorf("OpenInfo(%q) = %v, %q, %v; want %v", name, f, body, err, want)
			if f != nil {
				f.Close()
			}
		}
	}
}

func testPut(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	in, created, err := fsys.Put(ctx, "/f", strings.NewReader("one"), unknownSize)
	if err != nil || !created {
		t.Fatalf("Put new = %v, created %v; want created", err, created)
	}
	if s := stat(t, fsys, "/f"); !sameInfo(in, s) || in.Size != 3 {
		t.Errorf("Put gives %+v, Stat gives %+v", in, s)
	}
	in2, created, err := fsys.Put(ctx, "/f", strings.NewReader("second"), storage.PutOptions{ExpectedSize: 6})
	if err != nil || created {
		t.Fatalf("Put over = %v, created %v; want replaced", err, created)
	}
	if got := read(t, fsys, "/f"); got != "second" || in2.ETag == in.ETag {
		t.Errorf("after replacing: content %q, ETags %s then %s", got, in.ETag, in2.ETag)
	}

	mod := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	in, _, err = fsys.Put(ctx, "/m", strings.NewReader("x"), storage.PutOptions{ExpectedSize: -1, ModTime: mod})
	if err != nil {
		t.Fatal(err)
	}
	if s := stat(t, fsys, "/m"); !in.ModTime.Equal(mod) || !s.ModTime.Equal(mod) {
		t.Errorf("Put with ModTime %v: Put gives %v, Stat gives %v", mod, in.ModTime, s.ModTime)
	}

	mkdir(t, fsys, "/d")
	for name, want := range map[string]error{
		"/":          storage.ErrIsDir,
		"/d":         storage.ErrIsDir,
		"/missing/x": storage.ErrNotFound,
		"/f/x":       storage.ErrNotDir,
	} {
		if _, _, err := fsys.Put(ctx, name, strings.NewReader("x"), unknownSize); !errors.Is(err, want) {
			t.Errorf("Put(%q) = %v, want %v", name, err, want)
		}
	}
	if got := names(t, fsys, "/"); !slices.Equal(sorted(got), []string{"d", "f", "m"}) {
		t.Errorf("List(/) after failed Puts = %q", got)
	}
}

func testPutETag(t *testing.T, fsys storage.FS) {
	seen := map[string]bool{}
	for i := range 20 {
		// Same size, often the same content, all within a second.
		in := put(t, fsys, "/f", strings.Repeat(string(rune('a'+i%3)), 100))
		if seen[in.ETag] {
			t.Fatalf("Put %d repeats ETag %s", i, in.ETag)
		}
		seen[in.ETag] = true
		if s := stat(t, fsys, "/f"); s.ETag != in.ETag {
			t.Fatalf("Put %d gives ETag %s, Stat gives %s", i, in.ETag, s.ETag)
		}
	}
}

func testPutAborted(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	old := put(t, fsys, "/f", "old content")
	errBoom := errors.New("boom")
	cases := []struct {
		name string
		body func(cancel func()) io.Reader
		opt  storage.PutOptions
		want error
	}{
		{"ReaderError", func(func()) io.Reader {
			return io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(errBoom))
		}, unknownSize, errBoom},
		{"Shorter", func(func()) io.Reader { return strings.NewReader("short") },
			storage.PutOptions{ExpectedSize: 10}, storage.ErrSizeMismatch},
		{"Longer", func(func()) io.Reader { return strings.NewReader("much longer than said") },
			storage.PutOptions{ExpectedSize: 10}, storage.ErrSizeMismatch},
		{"Cancelled", func(cancel func()) io.Reader { return &cancellingReader{cancel: cancel} },
			unknownSize, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, name := range []string{"/f", "/new"} {
				pctx, cancel := context.WithCancel(ctx)
				_, _, err := fsys.Put(pctx, name, c.body(cancel), c.opt)
				cancel()
				if !errors.Is(err, c.want) {
					t.Errorf("Put(%q) = %v, want %v", name, err, c.want)
				}
			}
			if s := stat(t, fsys, "/f"); read(t, fsys, "/f") != "old content" || s.ETag != old.ETag {
				t.Errorf("old content changed: %+v", s)
			}
			if _, err := fsys.Stat(ctx, "/new"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Stat(/new) after a failed Put = %v, want ErrNotFound", err)
			}
			if got := names(t, fsys, "/"); !slices.Equal(got, []string{"f"}) {
				t.Errorf("List(/) after a failed Put = %q, want [f]", got)
			}
		})
	}
}

// cancellingReader is an endless body that cancels its request on the
// second read. It ends after 1 MiB so that a backend that ignores the
// context fails rather than hangs.
type cancellingReader struct {
	cancel func()
	reads  int
}

func (r *cancellingReader) Read(p []byte) (int, error) {
	if r.reads++; r.reads == 2 {
		r.cancel()
	}
	if r.reads > 1024 {
		return 0, io.EOF
	}
	n := min(len(p), 1024)
	clear(p[:n])
	return n, nil
}

func testPutConcurrent(t *testing.T, fsys storage.FS) {
	const writers, rounds = 8, 5
	var wg sync.WaitGroup
	for w := range writers {
		body := bytes.Repeat([]byte{byte('a' + w)}, (w+1)*10000)
		wg.Go(func() {
			for range rounds {
				if _, _, err := fsys.Put(t.Context(), "/f", bytes.NewReader(body), unknownSize); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := read(t, fsys, "/f")
	if len(got) == 0 || got != strings.Repeat(got[:1], int(got[0]-'a'+1)*10000) {
		t.Errorf("after concurrent Puts, content of %d bytes is not one whole body", len(got))
	}
	if n := names(t, fsys, "/"); !slices.Equal(n, []string{"f"}) {
		t.Errorf("List(/) after concurrent Puts = %q, want [f]", n)
	}
}

// testPutCommit checks PutOptions.Commit: called once, after the whole body
// was read, with a publish that makes the content visible; an error from
// Commit without publishing keeps the old content.
func testPutCommit(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	put(t, fsys, "/f", "old")
	refuse := errors.New("refused")
	body := strings.NewReader("new content")
	calls := 0
	_, _, err := fsys.Put(ctx, "/f", body, storage.PutOptions{ExpectedSize: -1, Commit: func(publish func() error) error {
		calls++
		if body.Len() != 0 {
			t.Errorf("Commit called with %d body bytes unread", body.Len())
		}
		if got := read(t, fsys, "/f"); got != "old" {
			t.Errorf("before publish the content is %q, want the old one", got)
		}
		return refuse
	}})
	if !errors.Is(err, refuse) || calls != 1 {
		t.Fatalf("Put with a refusing Commit = %v after %d calls; want the Commit error after 1", err, calls)
	}
	if got := read(t, fsys, "/f"); got != "old" {
		t.Fatalf("after a refused Commit the content is %q, want %q", got, "old")
	}
	if got := names(t, fsys, "/"); len(got) != 1 {
		t.Fatalf("after a refused Commit the root lists %v, want only f", got)
	}
	_, created, err := fsys.Put(ctx, "/f", strings.NewReader("new"), storage.PutOptions{ExpectedSize: -1, Commit: func(publish func() error) error {
		return publish()
	}})
	if err != nil || created {
		t.Fatalf("Put with a publishing Commit = created %v, %v", created, err)
	}
	if got := read(t, fsys, "/f"); got != "new" {
		t.Fatalf("after publish the content is %q, want %q", got, "new")
	}
}

func testMkdir(t *testing.T, fsys storage.FS) {
	mkdir(t, fsys, "/d")
	mkdir(t, fsys, "/d/e")
	if s := stat(t, fsys, "/d/e"); !s.IsDir {
		t.Errorf("Stat after Mkdir = %+v", s)
	}
	put(t, fsys, "/f", "x")
	for name, want := range map[string]error{
		"/":          storage.ErrExist,
		"/d":         storage.ErrExist,
		"/f":         storage.ErrExist,
		"/missing/x": storage.ErrNotFound,
		"/f/x":       storage.ErrNotDir,
	} {
		if err := fsys.Mkdir(t.Context(), name); !errors.Is(err, want) {
			t.Errorf("Mkdir(%q) = %v, want %v", name, err, want)
		}
	}
}

func testRemove(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	put(t, fsys, "/f", "x")
	mkdir(t, fsys, "/empty")
	mkdir(t, fsys, "/full")
	put(t, fsys, "/full/g", "x")
	for name, want := range map[string]error{
		"/":        storage.ErrPermission,
		"/full":    storage.ErrNotEmpty,
		"/missing": storage.ErrNotFound,
		"/f/x":     storage.ErrNotFound,
	} {
		if err := fsys.Remove(ctx, name); !errors.Is(err, want) {
			t.Errorf("Remove(%q) = %v, want %v", name, err, want)
		}
	}
	for _, name := range []string{"/f", "/empty", "/full/g", "/full"} {
		if err := fsys.Remove(ctx, name); err != nil {
			t.Errorf("Remove(%q): %v", name, err)
		}
		if _, err := fsys.Stat(ctx, name); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%q) after Remove = %v, want ErrNotFound", name, err)
		}
	}
	if got := names(t, fsys, "/"); len(got) != 0 {
		t.Errorf("List(/) after removing all = %q", got)
	}
}

func testCopyFile(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	src := put(t, fsys, "/src", "content")
	mkdir(t, fsys, "/d")
	if err := fsys.CopyFile(ctx, "/src", "/d/new"); err != nil {
		t.Fatal(err)
	}
	old := put(t, fsys, "/dst", "old")
	if err := fsys.CopyFile(ctx, "/src", "/dst"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/d/new", "/dst"} {
		if got := read(t, fsys, name); got != "content" {
			t.Errorf("%s after CopyFile = %q", name, got)
		}
	}
	if s := stat(t, fsys, "/dst"); s.ETag == old.ETag || s.Size != 7 {
		t.Errorf("replaced by CopyFile: %+v, before %+v", s, old)
	}
	if s := stat(t, fsys, "/src"); !sameInfo(s, src) || read(t, fsys, "/src") != "content" {
		t.Errorf("CopyFile changed the source: %+v, before %+v", s, src)
	}

	for _, c := range []struct {
		src, dst string
		want     error
	}{
		{"/missing", "/x", storage.ErrNotFound},
		{"/d", "/x", storage.ErrIsDir},
		{"/src", "/d", storage.ErrIsDir},
		{"/src", "/", storage.ErrIsDir},
		{"/src", "/missing/x", storage.ErrNotFound},
		{"/src", "/src/x", storage.ErrNotDir},
	} {
		if err := fsys.CopyFile(ctx, c.src, c.dst); !errors.Is(err, c.want) {
			t.Errorf("CopyFile(%q, %q) = %v, want %v", c.src, c.dst, err, c.want)
		}
	}
	if got := names(t, fsys, "/"); !slices.Equal(sorted(got), []string{"d", "dst", "src"}) {
		t.Errorf("List(/) after failed copies = %q", got)
	}
}

func testRename(t *testing.T, fsys storage.FS) {
	ctx := t.Context()
	put(t, fsys, "/f", "content")
	if err := fsys.Rename(ctx, "/f", "/g"); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(ctx, "/f"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of the old name = %v, want ErrNotFound", err)
	}
	if got := read(t, fsys, "/g"); got != "content" {
		t.Errorf("renamed content = %q", got)
	}

	put(t, fsys, "/other", "other")
	mkdir(t, fsys, "/d")
	put(t, fsys, "/d/x", "x")
	mkdir(t, fsys, "/d/e")
	for _, c := range []struct {
		src, dst string
		want     error
	}{
		{"/missing", "/x", storage.ErrNotFound},
		{"/g/x", "/x", storage.ErrNotFound},
		{"/g", "/other", storage.ErrExist},
		{"/g", "/d", storage.ErrExist},
		{"/g", "/", storage.ErrExist},
		{"/g", "/missing/x", storage.ErrNotFound},
		{"/g", "/other/x", storage.ErrNotDir},
		{"/", "/x", storage.ErrPermission},
		{"/d", "/d/e/d", storage.ErrInvalidName},
	} {
		if err := fsys.Rename(ctx, c.src, c.dst); !errors.Is(err, c.want) {
			t.Errorf("Rename(%q, %q) = %v, want %v", c.src, c.dst, err, c.want)
		}
	}
	if read(t, fsys, "/g") != "content" || read(t, fsys, "/other") != "other" {
		t.Error("a failed Rename changed content")
	}

	switch err := fsys.Rename(ctx, "/d", "/moved"); {
	case errors.Is(err, storage.ErrNotSupported):
		if got := names(t, fsys, "/d"); !slices.Equal(sorted(got), []string{"e", "x"}) {
			t.Errorf("an unsupported Rename changed the collection: %q", got)
		}
	case err != nil:
		t.Errorf("Rename of a collection: %v", err)
	default:
		if got := names(t, fsys, "/moved"); !slices.Equal(sorted(got), []string{"e", "x"}) {
			t.Errorf("renamed collection holds %q", got)
		}
		if got := read(t, fsys, "/moved/x"); got != "x" {
			t.Errorf("/moved/x = %q", got)
		}
		if _, err := fsys.Stat(ctx, "/d"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat of the old collection = %v, want ErrNotFound", err)
		}
	}
}

func testSetModTime(t *testing.T, fsys storage.FS) {
	put(t, fsys, "/f", "x")
	mkdir(t, fsys, "/d")
	mod := time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC)
	for _, name := range []string{"/f", "/d", "/"} {
		if err := fsys.SetModTime(t.Context(), name, mod); err != nil {
			t.Fatalf("SetModTime(%q): %v", name, err)
		}
		if got := stat(t, fsys, name).ModTime; !got.Equal(mod) {
			t.Errorf("SetModTime(%q, %v), then Stat gives %v", name, mod, got)
		}
	}
	for _, name := range []string{"/missing", "/f/x"} {
		if err := fsys.SetModTime(t.Context(), name, mod); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("SetModTime(%q) = %v, want ErrNotFound", name, err)
		}
	}
}

func put(t *testing.T, fsys storage.FS, name, content string) storage.Info {
	t.Helper()
	in, _, err := fsys.Put(t.Context(), name, strings.NewReader(content), unknownSize)
	if err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
	return in
}

func mkdir(t *testing.T, fsys storage.FS, name string) {
	t.Helper()
	if err := fsys.Mkdir(t.Context(), name); err != nil {
		t.Fatalf("Mkdir(%q): %v", name, err)
	}
}

func stat(t *testing.T, fsys storage.FS, name string) storage.Info {
	t.Helper()
	in, err := fsys.Stat(t.Context(), name)
	if err != nil {
		t.Fatalf("Stat(%q): %v", name, err)
	}
	return in
}

func read(t *testing.T, fsys storage.FS, name string) string {
	t.Helper()
	f, err := fsys.Open(t.Context(), name)
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("reading %q: %v", name, err)
	}
	return string(b)
}

// list collects a whole listing, stopping at the first error.
func list(fsys storage.FS, name string) ([]storage.Info, error) {
	var infos []storage.Info
	for in, err := range fsys.List(context.Background(), name) {
		if err != nil {
			return infos, err
		}
		infos = append(infos, in)
	}
	return infos, nil
}

// names lists the base names in the collection name.
func names(t *testing.T, fsys storage.FS, name string) []string {
	t.Helper()
	infos, err := list(fsys, name)
	if err != nil {
		t.Fatalf("List(%q): %v", name, err)
	}
	var names []string
	for _, in := range infos {
		names = append(names, in.Name)
	}
	return names
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

func sameInfo(a, b storage.Info) bool {
	return a.Name == b.Name && a.Path == b.Path && a.Size == b.Size && a.IsDir == b.IsDir &&
		a.ETag == b.ETag && a.ModTime.Equal(b.ModTime)
}

// strongETag reports whether tag is a strong entity tag (RFC 9110 §8.8.3).
func strongETag(tag string) bool {
	return len(tag) >= 2 && tag[0] == '"' && tag[len(tag)-1] == '"' && !strings.Contains(tag[1:len(tag)-1], `"`)
}

// RunLinks checks the contract for symbolic links on a backend that
// follows them inside its root (LocalFS): Stat and List describe a link by
// what it leads to, with Info.Link set, and Remove removes the link itself,
// never what it leads to. newFS returns an empty file system and a
// function that makes the link name (a contract name) leading to target,
// a path relative to the link's folder as `ln -s` takes it.
func RunLinks(t *testing.T, newFS func(t *testing.T) (storage.FS, func(target, name string))) {
	tests := []struct {
		name, target string // the link /d/<name> leads to target
		isDir        bool
		keep         []string // what the link leads to: still there after Remove
	}{
		{"tofolder", "../keep", true, []string{"/keep/f", "/keep/sub/g"}},
		{"tofile", "../keep/f", false, []string{"/keep/f"}},
		{"toparent", "..", true, []string{"/d/f", "/keep/f", "/keep/sub/g"}},
		{"toself", ".", true, []string{"/d/f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			fsys, link := newFS(t)
			mkdir(t, fsys, "/keep")
			mkdir(t, fsys, "/keep/sub")
			put(t, fsys, "/keep/f", "kept")
			put(t, fsys, "/keep/sub/g", "kept")
			mkdir(t, fsys, "/d")
			put(t, fsys, "/d/f", "file")
			name := "/d/" + tt.name
			link(tt.target, name)

			in := stat(t, fsys, name)
			if !in.Link || in.IsDir != tt.isDir || in.Path != name {
				t.Errorf("Stat(%s) = %+v, want Link, IsDir %v", name, in, tt.isDir)
			}
			infos, err := list(fsys, "/d")
			if err != nil {
				t.Fatalf("List(/d): %v", err)
			}
			for _, in := range infos {
				want := in.Name == tt.name
				if in.Link != want || want && in.IsDir != tt.isDir {
					t.Errorf("List(/d) entry %+v: Link %v, want %v (IsDir %v)", in, in.Link, want, tt.isDir)
				}
			}
			for _, p := range []string{"/d", "/d/f", "/keep"} {
				if in := stat(t, fsys, p); in.Link {
					t.Errorf("Stat(%s) = %+v: not a link", p, in)
				}
			}

			if err := fsys.Remove(ctx, name); err != nil {
				t.Fatalf("Remove(%s): %v", name, err)
			}
			if _, err := fsys.Stat(ctx, name); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Stat(%s) after Remove: %v, want ErrNotFound", name, err)
			}
			for _, p := range tt.keep {
				if _, err := fsys.Stat(ctx, p); err != nil {
					t.Errorf("Remove(%s) took %s: %v", name, p, err)
				}
			}
		})
	}
}
