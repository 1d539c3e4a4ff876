package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newFileCachedFS returns a LocalFS on dir whose small files are kept open
// in a cache of its own (so that the test's counts are its own), with no
// settle time, so that files just written may be kept. It fails the test
// when the folder's file system is not one whose files may be kept.
func newFileCachedFS(t testing.TB, dir string) *LocalFS {
	t.Helper()
	l, err := NewLocal(dir, LocalOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.files == nil {
		l.Close()
		notKeptFS(t, "file cache", dir)
	}
	c := newFileCache(maxKeptFiles)
	l.files = c
	old := settleTime
	settleTime = 0
	t.Cleanup(func() {
		l.Close()
		settleTime = old
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
	})
	return l
}

func fileHits(l *LocalFS) int {
	l.files.mu.Lock()
	defer l.files.mu.Unlock()
	return l.files.hits
}

func keptFiles(l *LocalFS) int {
	l.files.mu.Lock()
	defer l.files.mu.Unlock()
	return len(l.files.m)
}

func keptOf(l *LocalFS, rel string) *keptFile {
	l.files.mu.Lock()
	defer l.files.mu.Unlock()
	return l.files.m[fileKey{l, rel}]
}

// answer is what OpenInfo with a small buffer gives for name, as text: the
// body, the description and the class of the error.
func answer(t *testing.T, l *LocalFS, name string) string {
	t.Helper()
	f, body, in, err := l.OpenInfo(context.Background(), name, make([]byte, 64))
	return fmt.Sprintf("%s %q %s %s", content(t, f), body, infoString(in), errClass(err))
}

// TestFileCacheSeesEveryChange keeps a file, then changes it from outside
// the LocalFS (as another program would) in each way a file can change.
// The next read must answer exactly as a LocalFS without the cache does,
// and a file that is still a small file is then kept again and read from
// the cache.
func TestFileCacheSeesEveryChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, p string)
		again  bool // still a small regular file: kept again after the change
	}{
		{"unchanged", func(t *testing.T, p string) {}, true},
		{"rewritten in place, same size", func(t *testing.T, p string) {
			must(t, os.WriteFile(p, []byte("NEW CONTENT"), 0o644))
		}, true},
		{"written through an open descriptor", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("XY"), 3)
			must(t, err)
			must(t, f.Close())
		}, true},
		{"appended", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			_, err = f.WriteString(" and more")
			must(t, err)
			must(t, f.Close())
		}, true},
		{"truncated", func(t *testing.T, p string) { must(t, os.Truncate(p, 3)) }, true},
		{"grown past the buffer", func(t *testing.T, p string) {
			must(t, os.WriteFile(p, bytes.Repeat([]byte("z"), 100), 0o644))
		}, false},
		{"replaced by rename", func(t *testing.T, p string) {
			must(t, os.WriteFile(p+".new", []byte("replacement"), 0o644))
			must(t, os.Rename(p+".new", p))
		}, true},
		{"removed", func(t *testing.T, p string) { must(t, os.Remove(p)) }, false},
		{"replaced by a folder", func(t *testing.T, p string) {
			must(t, os.Remove(p))
			must(t, os.Mkdir(p, 0o755))
		}, false},
		{"replaced by a fifo", func(t *testing.T, p string) {
			must(t, os.Remove(p))
			must(t, unix.Mkfifo(p, 0o644))
		}, false},
		{"replaced by a link leaving the root", func(t *testing.T, p string) {
			must(t, os.Remove(p))
			must(t, os.Symlink("/etc/hostname", p))
		}, false},
		{"permissions changed", func(t *testing.T, p string) { must(t, os.Chmod(p, 0o600)) }, true},
		{"modification time set", func(t *testing.T, p string) {
			must(t, os.Chtimes(p, time.Time{}, time.Date(2001, 2, 3, 4, 5, 6, 7, time.UTC)))
		}, true},
	} {
		for _, name := range []string{"/f.txt", "/a/b/f.txt"} {
			t.Run(c.name+" "+name, func(t *testing.T) {
				dir := t.TempDir()
				must(t, os.MkdirAll(filepath.Join(dir, "a/b"), 0o755))
				p := filepath.Join(dir, name)
				must(t, os.WriteFile(p, []byte("old content"), 0o644))
				l := newFileCachedFS(t, dir)
				ref, err := NewLocal(dir, LocalOptions{NoSync: true, NoFileCache: true})
				must(t, err)
				defer ref.Close()
				rel := name[1:]

				first := answer(t, l, name)
				if keptOf(l, rel) == nil {
					t.Fatal("not kept after the first read")
				}
				if got := answer(t, l, name); got != first || fileHits(l) != 1 {
					t.Fatalf("second read: %s, hits %d; want %s from the cache", got, fileHits(l), first)
				}
				kept := keptOf(l, rel)

				c.change(t, p)
				got, want := answer(t, l, name), answer(t, ref, name)
				if got != want {
					t.Errorf("after the change:\ncache:    %s\nno cache: %s", got, want)
				}
				if c.name != "unchanged" && kept.fd != -1 {
					t.Errorf("the descriptor kept before the change is still open (%d)", kept.fd)
				}
				hits := fileHits(l)
				if got := answer(t, l, name); got != want {
					t.Errorf("read after that:\ncache:    %s\nno cache: %s", got, want)
				}
				if again := fileHits(l) == hits+1; again != c.again {
					t.Errorf("read from the cache again: %v, want %v", again, c.again)
				}
			})
		}
	}
}

// TestFileCacheSettle: a file changed less than settleTime ago is not
// kept, since a change within the same tick of the clock would not change
// its change time.
func TestFileCacheSettle(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("fresh"), 0o644))
	l := newFileCachedFS(t, dir)
	settleTime = time.Hour
	for range 2 {
		if got := answer(t, l, "/f"); !strings.Contains(got, `"fresh"`) {
			t.Fatalf("read: %s", got)
		}
	}
	if keptFiles(l) != 0 || fileHits(l) != 0 {
		t.Errorf("a file changed just now was kept (%d kept, %d hits)", keptFiles(l), fileHits(l))
	}
	settleTime = 0
	answer(t, l, "/f")
	if keptFiles(l) != 1 {
		t.Errorf("with no settle time the file was not kept")
	}
}

// TestFileCacheOnlySmallFiles: a file the buffer cannot hold, a folder and
// a file read without a buffer are never kept.
func TestFileCacheOnlySmallFiles(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "big"), bytes.Repeat([]byte("b"), 64), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "small"), []byte("s"), 0o644))
	must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	l := newFileCachedFS(t, dir)
	ctx := context.Background()
	for _, name := range []string{"/big", "/d"} {
		answer(t, l, name)
	}
	f, _, _, err := l.OpenInfo(ctx, "/small", nil)
	must(t, err)
	f.Close()
	if n := keptFiles(l); n != 0 {
		t.Errorf("%d kept, want none", n)
	}

	// A kept file stays kept through a read without a buffer (a range or
	// a conditional GET), which opens it.
	answer(t, l, "/small")
	k := keptOf(l, "small")
	f, _, _, err = l.OpenInfo(ctx, "/small", nil)
	must(t, err)
	f.Close()
	if keptOf(l, "small") != k || k.fd == -1 {
		t.Error("a read without a buffer dropped the kept file")
	}
}

// TestFileCacheOwnChanges: the LocalFS's own Put, CopyFile, Rename and
// Remove close what they replace or remove at once, folders included.
func TestFileCacheOwnChanges(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		op   func(l *LocalFS) error
		gone []string // kept names whose descriptors must be closed
	}{
		{"put", func(l *LocalFS) error {
			_, _, err := l.Put(ctx, "/d/f1", strings.NewReader("put"), PutOptions{ExpectedSize: -1})
			return err
		}, []string{"d/f1"}},
		{"copy", func(l *LocalFS) error { return l.CopyFile(ctx, "/top", "/d/f1") }, []string{"d/f1"}},
		{"remove", func(l *LocalFS) error { return l.Remove(ctx, "/d/f2") }, []string{"d/f2"}},
		{"rename a file", func(l *LocalFS) error { return l.Rename(ctx, "/d/f1", "/moved") }, []string{"d/f1"}},
		{"rename the folder", func(l *LocalFS) error { return l.Rename(ctx, "/d", "/e") }, []string{"d/f1", "d/f2"}},
		{"close", func(l *LocalFS) error { return l.Close() }, []string{"top", "d/f1", "d/f2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			must(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
			for _, n := range []string{"top", "d/f1", "d/f2"} {
				must(t, os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644))
			}
			l := newFileCachedFS(t, dir)
			kept := map[string]*keptFile{}
			for _, n := range []string{"top", "d/f1", "d/f2"} {
				answer(t, l, "/"+n)
				if kept[n] = keptOf(l, n); kept[n] == nil {
					t.Fatalf("%s not kept", n)
				}
			}
			must(t, c.op(l))
			for n, k := range kept {
				closed := k.fd == -1
				if want := slices.Contains(c.gone, n); closed != want {
					t.Errorf("%s: closed %v, want %v", n, closed, want)
				}
			}
		})
	}
}

// TestFileCacheSweep: a file unused for idleRounds sweeps is closed; one
// read in between is kept.
func TestFileCacheSweep(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"idle", "busy"} {
		must(t, os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644))
	}
	l := newFileCachedFS(t, dir)
	answer(t, l, "/idle")
	answer(t, l, "/busy")
	idle, busy := keptOf(l, "idle"), keptOf(l, "busy")
	for range idleRounds {
		l.files.sweep()
		answer(t, l, "/busy")
	}
	if idle.fd != -1 || keptOf(l, "idle") != nil {
		t.Error("the idle file is still kept")
	}
	if busy.fd == -1 || keptOf(l, "busy") != busy {
		t.Error("the file read between sweeps was dropped")
	}
	for range idleRounds {
		l.files.sweep()
	}
	if keptFiles(l) != 0 || busy.fd != -1 {
		t.Error("a file unused for idleRounds sweeps is still kept")
	}
	l.files.mu.Lock()
	timer := l.files.timer
	l.files.mu.Unlock()
	if timer != nil {
		t.Error("the sweep keeps running with nothing kept")
	}
}

// TestFileCacheBound: never more than maxKeptFiles descriptors, and every
// read still right; and the bound follows a low limit on open files.
func TestFileCacheBound(t *testing.T) {
	var rl unix.Rlimit
	must(t, unix.Getrlimit(unix.RLIMIT_NOFILE, &rl))
	if rl.Max < 16*maxKeptFiles {
		t.Fatalf("the hard limit on open files, %d, is below the cases here", rl.Max)
	}
	for _, c := range []struct{ cur, want uint64 }{{8, 0}, {1024, 64}, {16 * maxKeptFiles, maxKeptFiles}, {rl.Max, maxKeptFiles}} {
		low := rl
		low.Cur = c.cur
		must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &low))
		got := keptBound()
		must(t, unix.Setrlimit(unix.RLIMIT_NOFILE, &rl))
		if got != int(c.want) {
			t.Errorf("soft limit %d: bound %d, want %d", c.cur, got, c.want)
		}
	}

	dir := t.TempDir()
	n := maxKeptFiles + 20
	for i := range n {
		must(t, os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), []byte(fmt.Sprint(i)), 0o644))
	}
	l := newFileCachedFS(t, dir)
	for round := range 2 {
		for i := range n {
			if got := answer(t, l, fmt.Sprint("/", i)); !strings.Contains(got, fmt.Sprintf(" %q ", fmt.Sprint(i))) {
				t.Fatalf("round %d, file %d: %s", round, i, got)
			}
			if k := keptFiles(l); k > maxKeptFiles {
				t.Fatalf("%d kept, bound %d", k, maxKeptFiles)
			}
		}
	}
}

// TestFileCacheHeldDescriptor: a file dropped while a read holds its
// descriptor is closed by that read, never under it.
func TestFileCacheHeldDescriptor(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("f"), 0o644))
	l := newFileCachedFS(t, dir)
	answer(t, l, "/f")
	k := keptOf(l, "f")
	c := l.files
	c.mu.Lock()
	k.refs++ // a read in progress
	c.dropLocked(fileKey{l, "f"}, k)
	open := k.fd != -1
	k.refs--
	k.closeIfDone()
	c.mu.Unlock()
	if !open {
		t.Fatal("closed under a read")
	}
	if k.fd != -1 {
		t.Fatal("not closed when the read ended")
	}
}

// TestFileCacheOtherDevice: only files on the root's own device are kept.
func TestFileCacheOtherDevice(t *testing.T) {
	dir := t.TempDir()
	l := newFileCachedFS(t, dir)
	st := unix.Stat_t{Dev: l.dev + 1, Mode: unix.S_IFREG | 0o644, Size: 1}
	if l.files.keep(l, "f", -1, &st, make([]byte, 64), time.Now()) {
		t.Error("kept a file of another device")
	}
	st.Dev = l.dev
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	must(t, err)
	if !l.files.keep(l, "f", fd, &st, make([]byte, 64), time.Now()) {
		unix.Close(fd)
		t.Error("did not keep a file of the root's device")
	}
}

// TestFileCacheConcurrent reads files from many goroutines while others
// replace them, rewrite them in place, and sweep; every read must give one
// of the contents the file had (run it with -race).
func TestFileCacheConcurrent(t *testing.T) {
	dir := t.TempDir()
	files := []string{"a", "b", "c"}
	valid := map[string]bool{}
	for i := range 4 {
		valid[fmt.Sprintf("content %d", i)] = true
	}
	for _, n := range files {
		must(t, os.WriteFile(filepath.Join(dir, n), []byte("content 0"), 0o644))
	}
	l := newFileCachedFS(t, dir)
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 6 {
		wg.Go(func() {
			buf := make([]byte, 64)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := files[(g+i)%len(files)]
				f, body, _, err := l.OpenInfo(ctx, "/"+name, buf)
				switch {
				case errors.Is(err, ErrNotFound):
					continue
				case err != nil:
					errs <- err
					return
				case f != nil:
					f.Close() // changed under the read: the caller sends what it holds
					continue
				}
				if !valid[string(body)] && len(body) != 0 {
					errs <- fmt.Errorf("%s: read %q", name, body)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			p := filepath.Join(dir, files[i%len(files)])
			data := []byte(fmt.Sprintf("content %d", i%4))
			if i%2 == 0 {
				os.WriteFile(p+".tmp", data, 0o644)
				os.Rename(p+".tmp", p)
			} else {
				os.WriteFile(p, data, 0o644)
			}
			if i%50 == 0 {
				l.files.sweep()
			}
		}
	})
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if fileHits(l) == 0 {
		t.Error("no read came from the cache: the test checked nothing")
	}
}

// BenchmarkOpenInfoKept is BenchmarkOpenInfo's OneStep with the file kept
// open: the look and one pread.
func BenchmarkOpenInfoKept(b *testing.B) {
	dir := b.TempDir()
	must(b, os.MkdirAll(filepath.Join(dir, "d"), 0o777))
	must(b, os.WriteFile(filepath.Join(dir, "f"), make([]byte, 4096), 0o666))
	must(b, os.WriteFile(filepath.Join(dir, "d", "f"), make([]byte, 4096), 0o666))
	l := newFileCachedFS(b, dir)
	buf := make([]byte, 16<<10+1)
	ctx := context.Background()
	for _, name := range []string{"/f", "/d/f"} {
		b.Run(name[1:], func(b *testing.B) {
			hits := fileHits(l)
			b.ReportAllocs()
			for b.Loop() {
				f, body, _, err := l.OpenInfo(ctx, name, buf)
				if err != nil || f != nil || len(body) != 4096 {
					b.Fatalf("OpenInfo: %v, File %v, %d bytes", err, f, len(body))
				}
			}
			if fileHits(l) < hits+b.N-1 {
				b.Fatalf("%d of %d reads from the cache", fileHits(l)-hits, b.N)
			}
		})
	}
}
