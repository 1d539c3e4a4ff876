package storage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// newCachedFS returns a LocalFS on dir with a cache of its own (so that
// the test's counts are its own), failing the test when the folder's file
// system is not one that may be kept (the tests would then check nothing).
func newCachedFS(t testing.TB, dir string) *LocalFS {
	t.Helper()
	l, err := NewLocal(dir, LocalOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if l.dirs == nil {
		notKeptFS(t, "folder cache", dir)
	}
	if l.dirs = newDirCache(); l.dirs == nil {
		t.Fatal("inotify is not available")
	}
	t.Cleanup(l.dirs.close)
	return l
}

// notKeptFS fails a test of the folder or file cache (what) whose folder
// dir is not on a file system that may be kept (keptFS): it would check
// nothing.
func notKeptFS(t testing.TB, what, dir string) {
	t.Helper()
	var sfs unix.Statfs_t
	unix.Statfs(dir, &sfs)
	t.Fatalf("no %s on %s (file system type %#x): these tests need ext4, xfs, btrfs, tmpfs or f2fs", what, dir, sfs.Type)
}

// listNames lists name through l, sorted, with "/" after folders.
func listNames(t testing.TB, l *LocalFS, name string) []string {
	t.Helper()
	var out []string
	for in, err := range l.List(context.Background(), name) {
		if err != nil {
			t.Fatalf("List(%s): %v", name, err)
		}
		n := in.Name
		if in.IsDir {
			n += "/"
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// diskNames is what the folder dir holds, as listNames gives it.
func diskNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		n := e.Name()
		if e.IsDir() {
			n += "/"
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// keep lists name twice, so that the cache keeps it (a folder is kept
// from its second listing), and checks that it did.
func keep(t testing.TB, l *LocalFS, name string) []string {
	t.Helper()
	listNames(t, l, name)
	k := kept(l)
	names := listNames(t, l, name)
	if kept(l) != k+1 {
		t.Fatalf("%s not kept after two listings", name)
	}
	return names
}

func hits(l *LocalFS) int {
	l.dirs.mu.Lock()
	defer l.dirs.mu.Unlock()
	return l.dirs.hits
}

func kept(l *LocalFS) int {
	l.dirs.mu.Lock()
	defer l.dirs.mu.Unlock()
	return len(l.dirs.byKey)
}

func write(t testing.TB, p string) {
	t.Helper()
	if err := os.WriteFile(p, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
}

// TestDirCacheSeesEveryChange keeps a folder, then changes it from outside
// the LocalFS (as another program would) in each way a folder's names can
// change; the next listing must show the change, and the one after that
// must come from the cache again.
func TestDirCacheSeesEveryChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, d, other string)
	}{
		{"file created", func(t *testing.T, d, _ string) { write(t, filepath.Join(d, "new.txt")) }},
		{"file removed", func(t *testing.T, d, _ string) { must(t, os.Remove(filepath.Join(d, "a.txt"))) }},
		{"file renamed inside", func(t *testing.T, d, _ string) {
			must(t, os.Rename(filepath.Join(d, "a.txt"), filepath.Join(d, "renamed.txt")))
		}},
		{"file moved out", func(t *testing.T, d, other string) {
			must(t, os.Rename(filepath.Join(d, "a.txt"), filepath.Join(other, "a.txt")))
		}},
		{"file moved in", func(t *testing.T, d, other string) {
			must(t, os.Rename(filepath.Join(other, "o.txt"), filepath.Join(d, "o.txt")))
		}},
		{"file replaced by a rename", func(t *testing.T, d, other string) {
			must(t, os.Rename(filepath.Join(other, "o.txt"), filepath.Join(d, "a.txt")))
		}},
		{"file replaced by a folder", func(t *testing.T, d, _ string) {
			must(t, os.Remove(filepath.Join(d, "a.txt")))
			must(t, os.Mkdir(filepath.Join(d, "a.txt"), 0o777))
		}},
		{"folder created", func(t *testing.T, d, _ string) { must(t, os.Mkdir(filepath.Join(d, "sub2"), 0o777)) }},
		{"folder removed", func(t *testing.T, d, _ string) { must(t, os.Remove(filepath.Join(d, "sub"))) }},
		{"hard link made", func(t *testing.T, d, other string) {
			must(t, os.Link(filepath.Join(other, "o.txt"), filepath.Join(d, "link.txt")))
		}},
		{"symbolic link made", func(t *testing.T, d, _ string) { must(t, os.Symlink("a.txt", filepath.Join(d, "sym.txt"))) }},
		{"folder's permissions changed", func(t *testing.T, d, _ string) { must(t, os.Chmod(d, 0o700)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			d, other := filepath.Join(root, "d"), filepath.Join(root, "other")
			must(t, os.MkdirAll(filepath.Join(d, "sub"), 0o777))
			must(t, os.Mkdir(other, 0o777))
			write(t, filepath.Join(d, "a.txt"))
			write(t, filepath.Join(d, "b.txt"))
			write(t, filepath.Join(other, "o.txt"))
			l := newCachedFS(t, root)
			first := keep(t, l, "/d")
			if h := hits(l); h != 0 {
				t.Fatalf("%d hits before any folder was kept", h)
			}
			if again := listNames(t, l, "/d"); !slices.Equal(again, first) || hits(l) != 1 {
				t.Fatalf("second listing %q (%d hits), want %q from the cache", again, hits(l), first)
			}
			tc.change(t, d, other)
			want := diskNames(t, d)
			if slices.Equal(want, first) && tc.name != "folder's permissions changed" && tc.name != "file replaced by a rename" {
				t.Fatalf("the change changed no name: %q", want)
			}
			if got := listNames(t, l, "/d"); !slices.Equal(got, want) {
				t.Errorf("after the change: %q, want %q", got, want)
			}
			if hits(l) != 1 {
				t.Errorf("the listing after the change came from the cache")
			}
			if got := listNames(t, l, "/d"); !slices.Equal(got, want) || hits(l) != 2 {
				t.Errorf("listing again: %q with %d hits, want %q from the cache", got, hits(l), want)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestDirCacheFollowsThePath keeps a folder, then puts another folder at
// its path: by moving the folder away, and by moving its parent away (no
// event reaches the kept folder then). The path must list the new folder.
func TestDirCacheFollowsThePath(t *testing.T) {
	for _, move := range []string{"p/d", "p"} {
		t.Run("move "+move, func(t *testing.T) {
			root := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(root, "p", "d"), 0o777))
			write(t, filepath.Join(root, "p", "d", "old.txt"))
			l := newCachedFS(t, root)
			keep(t, l, "/p/d")
			must(t, os.Rename(filepath.Join(root, move), filepath.Join(root, "moved")))
			must(t, os.MkdirAll(filepath.Join(root, "p", "d"), 0o777))
			write(t, filepath.Join(root, "p", "d", "new.txt"))
			if got := listNames(t, l, "/p/d"); !slices.Equal(got, []string{"new.txt"}) {
				t.Errorf("after moving %s away: /p/d lists %q, want [new.txt]", move, got)
			}
		})
	}
}

// TestDirCacheChangeDuringFill changes the folder after a fill has read it
// and before it is kept: the read may miss the change, so it must not be
// kept, and the next listing must show the change.
func TestDirCacheChangeDuringFill(t *testing.T) {
	root := t.TempDir()
	d := filepath.Join(root, "d")
	must(t, os.Mkdir(d, 0o777))
	write(t, filepath.Join(d, "a.txt"))
	l := newCachedFS(t, root)
	listNames(t, l, "/d") // recent: the next listing keeps it
	l.dirs.afterFill = func() {
		l.dirs.afterFill = nil
		write(t, filepath.Join(d, "during.txt"))
	}
	listNames(t, l, "/d")
	if n := kept(l); n != 0 {
		t.Errorf("%d folders kept after a fill that saw a change, want 0", n)
	}
	if got, want := listNames(t, l, "/d"), []string{"a.txt", "during.txt"}; !slices.Equal(got, want) {
		t.Errorf("after a change during the fill: %q, want %q", got, want)
	}
}

// TestDirCacheOtherFileSystem keeps no folder whose own file system is not
// one whose changes inotify sees all of (here: every file system counts as
// such a one), whatever the root's is: another may be mounted below it.
func TestDirCacheOtherFileSystem(t *testing.T) {
	root := t.TempDir()
	must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
	l := newCachedFS(t, root)
	defer func(k map[int64]bool) { keptFS = k }(keptFS)
	keptFS = map[int64]bool{}
	listNames(t, l, "/d")
	listNames(t, l, "/d")
	if n := kept(l); n != 0 {
		t.Errorf("%d folders kept on a file system not to keep, want 0", n)
	}
}

// TestDirCacheLostEvents drops everything kept when the kernel reports
// that events were lost.
func TestDirCacheLostEvents(t *testing.T) {
	root := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		must(t, os.Mkdir(filepath.Join(root, n), 0o777))
	}
	l := newCachedFS(t, root)
	for _, n := range []string{"/a", "/b", "/c"} {
		keep(t, l, n)
	}
	if n := kept(l); n != 3 {
		t.Fatalf("%d folders kept, want 3", n)
	}
	l.dirs.mu.Lock()
	l.dirs.event(-1, unix.IN_Q_OVERFLOW)
	l.dirs.mu.Unlock()
	if n := kept(l); n != 0 {
		t.Errorf("%d folders kept after lost events, want 0", n)
	}
}

// TestDirCacheBounds lists more folders than the cache keeps, and a folder
// too large to keep, which a fill tries to read whole (its size limit
// lifted) and must then read again from its start: the cache stays within
// its bounds, every listing is whole, and closing leaves no descriptor
// open.
func TestDirCacheBounds(t *testing.T) {
	defer func(s int64) { maxFillSize = s }(maxFillSize)
	maxFillSize = 1 << 40
	root := t.TempDir()
	for i := range maxKeptDirs + 40 {
		p := filepath.Join(root, fmt.Sprintf("d%03d", i))
		must(t, os.Mkdir(p, 0o777))
		write(t, filepath.Join(p, "f.txt"))
	}
	big := filepath.Join(root, "big")
	must(t, os.Mkdir(big, 0o777))
	for i := range 3000 {
		write(t, filepath.Join(big, fmt.Sprintf("file-with-a-longer-name-%05d.txt", i)))
	}
	fds := openFds(t)
	l, err := NewLocal(root, LocalOptions{NoSync: true, NoFolderCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.dirs = newDirCache(); l.dirs == nil {
		t.Fatal("inotify is not available")
	}
	for i := range maxKeptDirs + 40 {
		for round := range 2 { // kept from the second listing
			if got := listNames(t, l, fmt.Sprintf("/d%03d", i)); !slices.Equal(got, []string{"f.txt"}) {
				t.Fatalf("round %d, d%03d: %q", round, i, got)
			}
		}
	}
	for range 2 {
		if got := listNames(t, l, "/big"); len(got) != 3000 {
			t.Fatalf("/big lists %d names, want 3000", len(got))
		}
	}
	l.dirs.mu.Lock()
	n, bytes := len(l.dirs.byKey), l.dirs.bytes
	l.dirs.mu.Unlock()
	if n != maxKeptDirs || bytes > maxKeptBytes {
		t.Errorf("%d folders and %d bytes kept; want %d folders, at most %d bytes", n, bytes, maxKeptDirs, maxKeptBytes)
	}
	l.dirs.close()
	l.Close()
	if after := openFds(t); after != fds {
		t.Errorf("%d descriptors open after the cache's close and Close, %d before NewLocal", after, fds)
	}
}

func openFds(t testing.TB) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestDirCacheWalk lists more folders than the cache keeps, each once, and
// then all of them again, as repeated walks of a tree do: none is kept (the
// walk would pay for keeping and push out the folders listed again and
// again). A folder listed twice in a row is kept.
func TestDirCacheWalk(t *testing.T) {
	root := t.TempDir()
	const n = maxKeptDirs + 20
	for i := range n {
		must(t, os.Mkdir(filepath.Join(root, fmt.Sprintf("d%03d", i)), 0o777))
	}
	l := newCachedFS(t, root)
	for range 2 {
		for i := range n {
			listNames(t, l, fmt.Sprintf("/d%03d", i))
		}
	}
	if k := kept(l); k != 0 {
		t.Errorf("%d folders kept after two walks, want 0", k)
	}
	keep(t, l, "/d007")
}

// TestDirCacheRandom makes random changes to a few folders from outside
// the LocalFS, each followed by a listing of a random folder, which must
// match what the folder holds.
func TestDirCacheRandom(t *testing.T) {
	root := t.TempDir()
	dirs := []string{"a", "b", "a/c"}
	for _, d := range dirs {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o777))
	}
	l := newCachedFS(t, root)
	rng := rand.New(rand.NewPCG(7, 11))
	pick := func() string { return filepath.Join(root, dirs[rng.IntN(len(dirs))]) }
	names := func(d string) []string {
		es, _ := os.ReadDir(d)
		var out []string
		for _, e := range es {
			if !e.IsDir() {
				out = append(out, e.Name())
			}
		}
		return out
	}
	for i := range 600 {
		d := pick()
		switch ns := names(d); {
		case len(ns) == 0 || rng.IntN(3) == 0:
			write(t, filepath.Join(d, fmt.Sprintf("f%d", i)))
		case rng.IntN(2) == 0:
			must(t, os.Remove(filepath.Join(d, ns[rng.IntN(len(ns))])))
		default:
			must(t, os.Rename(filepath.Join(d, ns[rng.IntN(len(ns))]), filepath.Join(pick(), fmt.Sprintf("m%d", i))))
		}
		rel := dirs[rng.IntN(len(dirs))]
		if got, want := listNames(t, l, "/"+rel), diskNames(t, filepath.Join(root, rel)); !slices.Equal(got, want) {
			t.Fatalf("step %d: /%s lists %q, holds %q", i, rel, got, want)
		}
	}
	if hits(l) == 0 {
		t.Error("no listing came from the cache")
	}
}

// TestDirCacheConcurrent lists folders from several goroutines while
// another changes them (for the race detector), then checks that the
// listings agree with the folders.
func TestDirCacheConcurrent(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b"} {
		must(t, os.Mkdir(filepath.Join(root, d), 0o777))
	}
	l := newCachedFS(t, root)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, d := range []string{"/a", "/b"} {
					for _, err := range l.List(context.Background(), d) {
						if err != nil && !strings.Contains(err.Error(), "not found") {
							t.Error(err)
						}
					}
				}
			}
		})
	}
	for i := range 300 {
		d := filepath.Join(root, []string{"a", "b"}[i%2])
		write(t, filepath.Join(d, fmt.Sprintf("f%d", i)))
		if i%3 == 0 {
			must(t, os.Remove(filepath.Join(d, fmt.Sprintf("f%d", i))))
		}
	}
	close(stop)
	wg.Wait()
	for _, d := range []string{"a", "b"} {
		if got, want := listNames(t, l, "/"+d), diskNames(t, filepath.Join(root, d)); !slices.Equal(got, want) {
			t.Errorf("/%s lists %q, holds %q", d, got, want)
		}
	}
}

// benchFS is a LocalFS on root for a benchmark: with a folder cache of its
// own (so that what it keeps is the benchmark's alone), or with none.
func benchFS(b *testing.B, root string, cached bool) *LocalFS {
	l, err := NewLocal(root, LocalOptions{NoSync: true, NoFolderCache: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	if cached {
		if l.dirs = newDirCache(); l.dirs == nil {
			b.Fatal("inotify is not available")
		}
		b.Cleanup(l.dirs.close)
	}
	return l
}

// listAll lists name through l, failing on an error.
func listAll(b *testing.B, l *LocalFS, name string) {
	for _, err := range l.List(context.Background(), name) {
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListKept lists a folder of 100 files, kept (checked) and read.
func BenchmarkListKept(b *testing.B) {
	root := b.TempDir()
	d := filepath.Join(root, "d100")
	must(b, os.Mkdir(d, 0o777))
	for i := range 100 {
		write(b, filepath.Join(d, fmt.Sprintf("f%06d.txt", i)))
	}
	for _, cached := range []bool{true, false} {
		name := map[bool]string{true: "kept", false: "read"}[cached]
		b.Run(name, func(b *testing.B) {
			l := benchFS(b, root, cached)
			if cached {
				keep(b, l, "/d100")
			}
			if got := listNames(b, l, "/d100"); len(got) != 100 {
				b.Fatalf("%d names, want 100", len(got))
			}
			b.ReportAllocs()
			for b.Loop() {
				listAll(b, l, "/d100")
			}
		})
	}
}

// BenchmarkListMany lists 300 folders of 5 files in turn, more than the
// cache keeps, as a walk of a tree does: what the cache costs where it
// keeps nothing (checked).
func BenchmarkListMany(b *testing.B) {
	root := b.TempDir()
	for i := range 300 {
		d := filepath.Join(root, fmt.Sprintf("d%03d", i))
		must(b, os.Mkdir(d, 0o777))
		for j := range 5 {
			write(b, filepath.Join(d, fmt.Sprintf("f%d.txt", j)))
		}
	}
	for _, cached := range []bool{true, false} {
		name := map[bool]string{true: "cache", false: "nocache"}[cached]
		b.Run(name, func(b *testing.B) {
			l := benchFS(b, root, cached)
			b.ReportAllocs()
			for b.Loop() {
				for i := range 300 {
					listAll(b, l, fmt.Sprintf("/d%03d", i))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/300/1000, "us/folder")
			if cached && kept(l) != 0 {
				b.Fatalf("%d folders kept by a walk, want 0", kept(l))
			}
		})
	}
}

// TestDirCacheSweep: a kept folder unused for idleRounds sweeps is closed
// (a file system mounted below the root must not stay busy), one listed
// between sweeps stays, and the sweeps stop once nothing is kept.
func TestDirCacheSweep(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"idle", "busy"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o777); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, n, "f"))
	}
	l := newCachedFS(t, dir)
	keep(t, l, "/idle")
	keep(t, l, "/busy")
	keptDirs := func() map[string]*keptDir {
		l.dirs.mu.Lock()
		defer l.dirs.mu.Unlock()
		m := map[string]*keptDir{}
		for _, d := range l.dirs.byKey {
			m[d.rel] = d
		}
		return m
	}
	// fdOpen reports whether fd is still open on the folder d was.
	fdOpen := func(d *keptDir) bool {
		var st unix.Stat_t
		return unix.Fstat(d.fd, &st) == nil && st.Ino == d.key.ino && uint64(st.Dev) == d.key.dev
	}
	k := keptDirs()
	idle, busy := k["idle"], k["busy"]
	if idle == nil || busy == nil {
		t.Fatalf("kept: %v, want idle and busy", k)
	}
	for range idleRounds {
		l.dirs.sweep()
		h := hits(l)
		listNames(t, l, "/busy")
		if hits(l) != h+1 {
			t.Fatal("the busy folder was not listed from the cache")
		}
	}
	k = keptDirs()
	if k["idle"] != nil || fdOpen(idle) {
		t.Error("the idle folder is still kept, or still open")
	}
	if k["busy"] != busy || !fdOpen(busy) {
		t.Error("the folder listed between sweeps was dropped")
	}
	for range idleRounds {
		l.dirs.sweep()
	}
	if len(keptDirs()) != 0 || fdOpen(busy) {
		t.Error("a folder unused for idleRounds sweeps is still kept")
	}
	l.dirs.mu.Lock()
	timer := l.dirs.timer
	l.dirs.mu.Unlock()
	if timer != nil {
		t.Error("the sweep keeps running with nothing kept")
	}
	// Listed again, it is kept again (at once: it was listed recently),
	// and the sweeps start again.
	listNames(t, l, "/idle")
	if k := keptDirs(); k["idle"] == nil || len(k) != 1 {
		t.Errorf("listed again: kept %v, want idle alone", k)
	}
	l.dirs.mu.Lock()
	timer = l.dirs.timer
	l.dirs.mu.Unlock()
	if timer == nil {
		t.Error("a folder is kept with no sweep to come")
	}
}
