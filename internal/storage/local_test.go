package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/internal/storage/storagetest"
)

func TestLocal(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.FS { return newLocal(t, t.TempDir(), storage.LocalOptions{}) })
}

func TestLocalNoSync(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.FS {
		return newLocal(t, t.TempDir(), storage.LocalOptions{NoSync: true})
	})
}

// TestLocalEscapes checks that symbolic links leading outside the folder
// are neither read nor written through.
func TestLocalEscapes(t *testing.T) {
	ctx := t.Context()
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	secret := filepath.Join(outside, "secret")
	must(t, os.Mkdir(root, 0o777))
	must(t, os.Mkdir(outside, 0o777))
	must(t, os.WriteFile(secret, []byte("secret"), 0o666))
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	must(t, os.Chtimes(secret, old, old))
	must(t, os.Mkdir(filepath.Join(root, "sub"), 0o777))
	must(t, os.WriteFile(filepath.Join(root, "sub", "file"), []byte("inside"), 0o666))
	for link, target := range map[string]string{
		"etc":     "/etc",
		"out":     "../outside",
		"secret":  secret,
		"rsecret": "../outside/secret",
		"in":      "sub/file", // stays inside: served
		"up":      "sub/../sub",
	} {
		must(t, os.Symlink(target, filepath.Join(root, link)))
	}
	l := newLocal(t, root, storage.LocalOptions{})

	for _, name := range []string{"/etc", "/etc/passwd", "/out", "/out/secret", "/secret", "/rsecret"} {
		if _, err := l.Stat(ctx, name); !errors.Is(err, storage.ErrPermission) {
			t.Errorf("Stat(%q) = %v, want ErrPermission", name, err)
		}
		if f, err := l.Open(ctx, name); !errors.Is(err, storage.ErrPermission) {
			t.Errorf("Open(%q) = %v, want ErrPermission", name, err)
			if err == nil {
				f.Close()
			}
		}
		for _, err := range l.List(ctx, name) {
			if !errors.Is(err, storage.ErrPermission) {
				t.Errorf("List(%q) yields %v, want ErrPermission", name, err)
			}
			break
		}
	}
	if got := listNames(t, l, "/"); !slices.Equal(got, []string{"in", "sub", "up"}) {
		t.Errorf("List(/) = %q, want the links that stay inside", got)
	}
	if in, err := l.Stat(ctx, "/in"); err != nil || in.Size != 6 || in.IsDir {
		t.Errorf("Stat(/in) = %+v, %v; want the file it links to", in, err)
	}
	if got := listNames(t, l, "/up"); !slices.Equal(got, []string{"file"}) {
		t.Errorf("List(/up) = %q", got)
	}

	body := func() io.Reader { return strings.NewReader("overwritten") }
	for what, err := range map[string]error{
		"Put into a link":        put(l, "/out/new", body()),
		"Put onto a link":        put(l, "/secret", body()),
		"Put onto relative link": put(l, "/rsecret", body()),
		"Put into /etc":          put(l, "/etc/davit-test", body()),
		"Mkdir":                  l.Mkdir(ctx, "/out/dir"),
		"CopyFile to":            l.CopyFile(ctx, "/sub/file", "/out/copy"),
		"CopyFile onto":          l.CopyFile(ctx, "/sub/file", "/secret"),
		"CopyFile from":          l.CopyFile(ctx, "/secret", "/copy"),
		"Rename":                 l.Rename(ctx, "/sub/file", "/out/moved"),
		"SetModTime":             l.SetModTime(ctx, "/secret", time.Now()),
		"SetModTime through":     l.SetModTime(ctx, "/out/secret", time.Now()),
		"Remove through":         l.Remove(ctx, "/out/secret"),
	} {
		if err == nil {
			t.Errorf("%s: no error", what)
		}
	}
	// Removing a link removes the link, never its target.
	must(t, l.Remove(ctx, "/secret"))

	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 1 || entries[0].Name() != "secret" {
		t.Errorf("outside folder now holds %v (%v)", entries, err)
	}
	b, err := os.ReadFile(secret)
	fi, _ := os.Stat(secret)
	if err != nil || string(b) != "secret" || !fi.ModTime().Equal(old) {
		t.Errorf("outside file changed: %q %v (%v)", b, fi.ModTime(), err)
	}
	if _, err := os.Stat(filepath.Join(root, "copy")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CopyFile from an outside link created a copy (%v)", err)
	}
}

func TestLocalHidden(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	state := filepath.Join(dir, ".davit-state")
	must(t, os.Mkdir(state, 0o777))
	must(t, os.WriteFile(filepath.Join(state, "db"), []byte("state"), 0o666))
	must(t, os.MkdirAll(filepath.Join(dir, "sub", ".davit-state"), 0o777)) // hidden only at the top
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("f"), 0o666))
	l := newLocal(t, dir, storage.LocalOptions{Hidden: []string{".davit-state"}})

	for _, name := range []string{"/.davit-state", "/.davit-state/db", "/.davit-state/missing"} {
		if _, err := l.Stat(ctx, name); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrNotFound", name, err)
		}
		if _, err := l.Open(ctx, name); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", name, err)
		}
		for _, err := range l.List(ctx, name) {
			if !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("List(%q) yields %v, want ErrNotFound", name, err)
			}
			break
		}
	}
	if got := listNames(t, l, "/"); !slices.Equal(got, []string{"f", "sub"}) {
		t.Errorf("List(/) = %q", got)
	}
	if got := listNames(t, l, "/sub"); !slices.Equal(got, []string{".davit-state"}) {
		t.Errorf("List(/sub) = %q", got)
	}
	for what, err := range map[string]error{
		"Put":           put(l, "/.davit-state", strings.NewReader("x")),
		"Put under":     put(l, "/.davit-state/db", strings.NewReader("x")),
		"Mkdir":         l.Mkdir(ctx, "/.davit-state"),
		"Mkdir under":   l.Mkdir(ctx, "/.davit-state/x"),
		"Remove":        l.Remove(ctx, "/.davit-state/db"),
		"Rename from":   l.Rename(ctx, "/.davit-state", "/x"),
		"Rename to":     l.Rename(ctx, "/f", "/.davit-state/f"),
		"CopyFile from": l.CopyFile(ctx, "/.davit-state/db", "/x"),
		"CopyFile to":   l.CopyFile(ctx, "/f", "/.davit-state/db"),
		"SetModTime":    l.SetModTime(ctx, "/.davit-state", time.Now()),
	} {
		want := storage.ErrInvalidName
		if what == "CopyFile from" {
			want = storage.ErrNotFound // reading: it does not exist
		}
		if !errors.Is(err, want) {
			t.Errorf("%s = %v, want %v", what, err, want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(state, "db")); err != nil || string(b) != "state" {
		t.Errorf("state changed: %q, %v", b, err)
	}

	for _, h := range []string{"", ".", "..", "a/b", "a\x00"} {
		if l, err := storage.NewLocal(dir, storage.LocalOptions{Hidden: []string{h}}); err == nil {
			l.Close()
			t.Errorf("NewLocal with Hidden %q: no error", h)
		}
	}
}

// TestLocalTempFiles checks that aborted Puts leave nothing behind and that
// temporary names are never shown nor accepted.
func TestLocalTempFiles(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	l := newLocal(t, dir, storage.LocalOptions{})
	if err := put(l, "/f", strings.NewReader("old")); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	failing := []func() error{
		func() error {
			return put(l, "/f", io.MultiReader(strings.NewReader("new"), iotest.ErrReader(errors.New("client gone"))))
		},
		func() error {
			_, _, err := l.Put(ctx, "/f", strings.NewReader("new"), storage.PutOptions{ExpectedSize: 100})
			return err
		},
		func() error {
			_, _, err := l.Put(cancelled, "/f", strings.NewReader("new"), storage.PutOptions{ExpectedSize: -1})
			return err
		},
	}
	for i, f := range failing {
		if f() == nil {
			t.Errorf("Put %d: no error", i)
		}
		if got := osNames(t, dir); !slices.Equal(got, []string{"f"}) {
			t.Errorf("after failed Put %d the folder holds %q", i, got)
		}
	}

	must(t, os.WriteFile(filepath.Join(dir, ".davit-tmp-stray"), nil, 0o666))
	if got := listNames(t, l, "/"); !slices.Equal(got, []string{"f"}) {
		t.Errorf("List(/) = %q, want the temporary file skipped", got)
	}
	if _, err := l.Stat(ctx, "/.davit-tmp-stray"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Stat of a temporary file = %v, want ErrNotFound", err)
	}
	if err := put(l, "/.davit-tmp-x", strings.NewReader("x")); !errors.Is(err, storage.ErrInvalidName) {
		t.Errorf("Put of a temporary name = %v, want ErrInvalidName", err)
	}
	if err := l.Mkdir(ctx, "/.davit-tmp-x"); !errors.Is(err, storage.ErrInvalidName) {
		t.Errorf("Mkdir of a temporary name = %v, want ErrInvalidName", err)
	}
}

func TestLocalErrors(t *testing.T) {
	if _, err := storage.NewLocal(filepath.Join(t.TempDir(), "missing"), storage.LocalOptions{}); err == nil {
		t.Error("NewLocal of a missing folder: no error")
	}
	dir := t.TempDir()
	l := newLocal(t, dir, storage.LocalOptions{})
	// The OS error stays in the chain, but the message leads with the name.
	_, err := l.Stat(t.Context(), "/missing")
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), `stat "/missing": storage: not found`) {
		t.Errorf("Stat(/missing) = %v", err)
	}
	if strings.Contains(err.Error(), dir) {
		t.Errorf("error %q reveals the folder's path", err)
	}
}

func BenchmarkList(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	for i := range n {
		must(b, os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%05d.txt", i)), []byte("x"), 0o666))
	}
	mem := storage.NewMem()
	for i := range n {
		if err := put(mem, fmt.Sprintf("/file-%05d.txt", i), strings.NewReader("x")); err != nil {
			b.Fatal(err)
		}
	}
	for name, fsys := range map[string]storage.FS{"Local": newLocal(b, dir, storage.LocalOptions{}), "Mem": mem} {
		b.Run(name, func(b *testing.B) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				count := 0
				for _, err := range fsys.List(b.Context(), "/") {
					if err != nil {
						b.Fatal(err)
					}
					count++
				}
				if count != n {
					b.Fatalf("listed %d entries, want %d", count, n)
				}
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*n), "allocs/entry")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}

func newLocal(t testing.TB, dir string, opt storage.LocalOptions) *storage.LocalFS {
	t.Helper()
	l, err := storage.NewLocal(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func put(fsys storage.FS, name string, r io.Reader) error {
	_, _, err := fsys.Put(context.Background(), name, r, storage.PutOptions{ExpectedSize: -1})
	return err
}

// listNames lists the collection name, sorted.
func listNames(t *testing.T, fsys storage.FS, name string) []string {
	t.Helper()
	var names []string
	for in, err := range fsys.List(t.Context(), name) {
		if err != nil {
			t.Fatalf("List(%q): %v", name, err)
		}
		names = append(names, in.Name)
	}
	slices.Sort(names)
	return names
}

// osNames lists dir directly, temporary files included, sorted.
func osNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLocalStaged runs the suite with uploads staged in a hidden folder.
func TestLocalStaged(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.FS {
		return newLocal(t, t.TempDir(), storage.LocalOptions{Hidden: []string{".state"}, StageDir: ".state/up"})
	})
}

// TestLocalStagedMove moves the collection an upload is arriving into: the
// upload then fails (its parent is gone) and no temporary file is left in
// the moved collection, nor in the stage folder.
func TestLocalStagedMove(t *testing.T) {
	dir := t.TempDir()
	fsys := newLocal(t, dir, storage.LocalOptions{Hidden: []string{".state"}, StageDir: ".state/up"})
	ctx := t.Context()
	if err := fsys.Mkdir(ctx, "/d"); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, _, err := fsys.Put(ctx, "/d/f", pr, storage.PutOptions{ExpectedSize: -1})
		done <- err
	}()
	pw.Write([]byte("first half "))
	if err := fsys.Rename(ctx, "/d", "/e"); err != nil {
		t.Fatal(err)
	}
	pw.Write([]byte("second half"))
	pw.Close()
	if err := <-done; !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrNotDir) {
		t.Fatalf("Put into a moved collection = %v, want ErrNotFound", err)
	}
	for _, sub := range []string{"e", ".state/up"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 0 {
			t.Errorf("%s holds %v after the failed upload, want nothing", sub, ents)
		}
	}
}

// TestLocalStageCleaned checks that staged files an earlier run left are
// removed when the folder is opened again.
func TestLocalStageCleaned(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, ".state", "up", ".davit-tmp-stale")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	newLocal(t, dir, storage.LocalOptions{Hidden: []string{".state"}, StageDir: ".state/up"})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale staged file still there (%v)", err)
	}
	if _, err := storage.NewLocal(dir, storage.LocalOptions{StageDir: "up"}); err == nil {
		t.Fatal("a stage folder outside the hidden names was accepted")
	}
}

// TestListInfosStayIntact: the Infos of a listing share blocks of memory
// (many entries' strings to one allocation). Every Info kept from a long
// listing, with names from 1 to 250 bytes filling many blocks and one
// name longer than a block's share, still equals what Stat says of it
// once the listing is over; and a listing stopped early gives the first
// entries of the whole one.
func TestListInfosStayIntact(t *testing.T) {
	dir := t.TempDir()
	l := newLocal(t, dir, storage.LocalOptions{})
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o777))
	var names []string
	for i := range 600 {
		name := fmt.Sprintf("%d-%s", i, strings.Repeat("n", i%250))
		names = append(names, name)
		must(t, os.WriteFile(filepath.Join(dir, "sub", name), []byte(strings.Repeat("x", i)), 0o666))
	}
	must(t, os.Mkdir(filepath.Join(dir, "sub", "a-folder"), 0o777))
	var got []storage.Info
	for in, err := range l.List(t.Context(), "/sub") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, in)
	}
	if len(got) != len(names)+1 {
		t.Fatalf("listed %d entries, want %d", len(got), len(names)+1)
	}
	runtime.GC()
	for _, in := range got {
		want, err := l.Stat(t.Context(), "/sub/"+in.Name)
		if err != nil {
			t.Fatalf("Stat of listed %q: %v", in.Name, err)
		}
		if in.Path != want.Path || in.Name != want.Name || in.ETag != want.ETag || in.Size != want.Size || in.IsDir != want.IsDir {
			t.Errorf("listed %+v, Stat %+v", in, want)
		}
	}

	// A listing stopped after k entries gives exactly the first k of the
	// whole one, wherever k falls against the batches in which a listing
	// describes its entries (12 at a time for the first 128, then up to 256
	// from one directory buffer); the iterator panics if it yields again
	// after being told to stop.
	for _, k := range []int{1, 11, 12, 13, 127, 128, 129, 255, 256, 257, 600} {
		n := 0
		for in, err := range l.List(t.Context(), "/sub") {
			if err != nil {
				t.Fatal(err)
			}
			if in.Path != got[n].Path || in.ETag != got[n].ETag {
				t.Fatalf("stopped at %d: entry %d is %q, want %q", k, n, in.Path, got[n].Path)
			}
			if n++; n == k {
				break
			}
		}
		if n != k {
			t.Errorf("stopped at %d: listed %d", k, n)
		}
	}
}

// TestLocalLinks runs the links suite on LocalFS, with and without the
// folder cache (listings of folders kept between requests).
func TestLocalLinks(t *testing.T) {
	for _, tt := range []struct {
		name string
		opt  storage.LocalOptions
	}{
		{"cached", storage.LocalOptions{NoSync: true}},
		{"uncached", storage.LocalOptions{NoSync: true, NoFolderCache: true, NoFileCache: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.RunLinks(t, func(t *testing.T) (storage.FS, func(target, name string)) {
				dir := t.TempDir()
				return newLocal(t, dir, tt.opt), func(target, name string) {
					must(t, os.Symlink(target, filepath.Join(dir, filepath.FromSlash(name))))
				}
			})
		})
	}
}

// TestLocalHiddenThroughLink: a hidden name is hidden in any folder that
// is the root, reached through a link (self -> ., sub/up -> ..), for
// lookups, writes and listings, and stays visible in other folders;
// HiddenAnywhere hides it at every depth.
func TestLocalHiddenThroughLink(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, ".davit-state"), 0o777))
	must(t, os.WriteFile(filepath.Join(dir, ".davit-state", "db"), []byte("state"), 0o666))
	must(t, os.MkdirAll(filepath.Join(dir, "sub", ".davit-state"), 0o777))
	must(t, os.WriteFile(filepath.Join(dir, "sub", ".davit-state", "own"), []byte("own"), 0o666))
	must(t, os.WriteFile(filepath.Join(dir, "sub", ".davit-stateX"), []byte("x"), 0o666))
	must(t, os.Symlink(".", filepath.Join(dir, "self")))
	must(t, os.Symlink("..", filepath.Join(dir, "sub", "up")))
	must(t, os.Symlink("sub", filepath.Join(dir, "alias")))
	for _, tt := range []struct {
		name     string
		anywhere bool
		hidden   []string // names that do not exist
		visible  []string // names that do
		lists    map[string]bool
	}{
		{"at the root", false,
			[]string{"/self/.davit-state", "/self/.davit-state/db", "/sub/up/.davit-state/db", "/self/self/.davit-state", "/sub/up/sub/up/.davit-state/db"},
			[]string{"/sub/.davit-state/own", "/alias/.davit-state/own", "/sub/.davit-stateX", "/self/sub/.davit-state/own"},
			map[string]bool{"/self": false, "/sub/up": false, "/sub": true, "/alias": true}},
		{"anywhere", true,
			[]string{"/self/.davit-state/db", "/sub/up/.davit-state/db", "/sub/.davit-state/own", "/alias/.davit-state", "/self/sub/.davit-state/own"},
			[]string{"/sub/.davit-stateX", "/sub/up/sub"},
			map[string]bool{"/self": false, "/sub/up": false, "/sub": false, "/alias": false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, cache := range []bool{true, false} {
				l := newLocal(t, dir, storage.LocalOptions{NoSync: true, Hidden: []string{".davit-state"}, HiddenAnywhere: tt.anywhere, NoFolderCache: !cache, NoFileCache: !cache})
				for _, name := range tt.hidden {
					if _, err := l.Stat(ctx, name); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("Stat(%s) = %v, want ErrNotFound", name, err)
					}
					if f, err := l.Open(ctx, name); !errors.Is(err, storage.ErrNotFound) {
						if f != nil {
							f.Close()
						}
						t.Errorf("Open(%s) = %v, want ErrNotFound", name, err)
					}
					if _, _, _, err := l.OpenInfo(ctx, name, make([]byte, 64)); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("OpenInfo(%s) = %v, want ErrNotFound", name, err)
					}
					for what, err := range map[string]error{
						"Put":    put(l, name+"/new", strings.NewReader("x")),
						"Mkdir":  l.Mkdir(ctx, name+"/new"),
						"Remove": l.Remove(ctx, name),
					} {
						if !errors.Is(err, storage.ErrInvalidName) {
							t.Errorf("%s(%s) = %v, want ErrInvalidName", what, name, err)
						}
					}
				}
				for _, name := range tt.visible {
					if _, err := l.Stat(ctx, name); err != nil {
						t.Errorf("Stat(%s) = %v", name, err)
					}
				}
				for folder, want := range tt.lists {
					for range 2 { // the second listing may come from the folder cache
						if got := slices.Contains(listNames(t, l, folder), ".davit-state"); got != want {
							t.Errorf("List(%s) shows .davit-state: %v, want %v", folder, got, want)
						}
					}
				}
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".davit-state", "db")); err != nil || string(b) != "state" {
		t.Errorf("state changed: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", ".davit-state", "own")); err != nil {
		t.Errorf("sub/.davit-state/own: %v", err)
	}
}
