package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestBeneathMatchesWalk: names two or more levels down are resolved by
// one openat2 call (beneath); anything it cannot decide goes to os.Root's
// walk. For every kind of name (files and folders, links inside and out,
// relative and absolute, final and in the middle, dangling, looping, a
// fifo, a file used as a folder, missing names), Stat, Open and OpenInfo
// (with and without a buffer to read a small file whole on a bare
// descriptor, openFd) must answer exactly as the walk alone does: the same
// Info, the same error class, the same content.
func TestBeneathMatchesWalk(t *testing.T) {
	if noOpenat2.Load() {
		t.Fatal("openat2 is not available here, so this test would compare the walk with itself")
	}
	base := t.TempDir()
	root := filepath.Join(base, "root")
	out := filepath.Join(base, "out")
	for _, d := range []string{"a/b/c/sub/deeper", "a/b/c/empty"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "a/b/c/f.txt"), "deep file")
	write(filepath.Join(root, "a/b/c/sub/deeper/g.txt"), "deeper file")
	write(filepath.Join(root, "a/b/file.txt"), "a file")
	write(filepath.Join(out, "secret"), "outside")
	links := map[string]string{
		"a/b/in":        "c",                            // inside, relative
		"a/b/up":        "../..",                        // back to the root
		"a/b/out":       "../../../out",                 // leaves the root
		"a/b/abs":       filepath.Join(root, "a"),       // absolute, pointing inside
		"a/b/absout":    out,                            // absolute, pointing outside
		"a/b/c/flink":   "f.txt",                        // final link to a file
		"a/b/c/fout":    "../../../../out/secret",       // final link leaving the root
		"a/b/c/dangle":  "nope",                         // dangling
		"a/b/c/loop":    "loop",                         // a loop
		"a/b/c/dlink":   "sub",                          // final link to a folder
		"a/b/c/chain":   "../in/flink",                  // a link through links
		"a/b/c/outgone": "../../../../out/missing/deep", // leaves the root, dangling
		"toplink":       "a/b/c/f.txt",                  // top level, inside
		"topdir":        "a/b",                          // top level, to a folder
		"topout":        "../out/secret",                // top level, leaving
		"topdangle":     "nope",                         // top level, dangling
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/b/c/fifo", "topfifo"} {
		if err := syscall.Mkfifo(filepath.Join(root, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "top.txt"), "top file")

	names := []string{
		"/a/b/c", "/a/b/c/f.txt", "/a/b/c/sub", "/a/b/c/sub/deeper/g.txt", "/a/b/c/empty",
		"/a/b/in/f.txt", "/a/b/in/sub/deeper", "/a/b/up/a/b/c/f.txt",
		"/a/b/out/secret", "/a/b/abs/b/c/f.txt", "/a/b/absout/secret",
		"/a/b/c/flink", "/a/b/c/fout", "/a/b/c/dangle", "/a/b/c/loop", "/a/b/c/dlink",
		"/a/b/c/chain", "/a/b/c/outgone", "/a/b/c/fifo", "/a/b/c/loop/x",
		"/a/b/file.txt/x", "/a/b/c/missing", "/a/b/c/missing/x/y", "/a/b/nope/f.txt",
		"/a/b/c/dangle/x", "/a/b/out/secret/x",
		"/a/b/file.txt", "/a/b", "/a/nope", "/a/b.txt/x",
		"/a", "/nope", "/top.txt", "/toplink", "/topdir", "/topdir/c/f.txt", "/topout",
		"/topdangle", "/topfifo", "/", // at the top level
	}

	l := openLocal(t, root)
	ctx := context.Background()
	describe := func(name string) string {
		var b strings.Builder
		in, err := l.Stat(ctx, name)
		fmt.Fprintf(&b, "Stat: %s %s\n", infoString(in), errClass(err))
		f, err := l.Open(ctx, name)
		fmt.Fprintf(&b, "Open: %s %s\n", content(t, f), errClass(err))
		f, _, in, err = l.OpenInfo(ctx, name, nil)
		fmt.Fprintf(&b, "OpenInfo: %s %s %s\n", content(t, f), infoString(in), errClass(err))
		// Twice: the second read of a small file comes from the file
		// cache (fileCache), which must answer as the walk does too.
		for _, what := range []string{"buffer", "buffer again"} {
			f, body, in, err := l.OpenInfo(ctx, name, make([]byte, 64))
			fmt.Fprintf(&b, "OpenInfo, %s: %s %q %s %s\n", what, content(t, f), body, infoString(in), errClass(err))
		}
		return b.String()
	}
	old := settleTime
	settleTime = 0 // files just written may be kept
	defer func() { settleTime = old }()
	hits := 0
	if l.files != nil {
		hits = l.files.hits
	}
	for _, name := range names {
		fast := describe(name)
		walkOnly.Store(true)
		walk := describe(name)
		walkOnly.Store(false)
		if fast != walk {
			t.Errorf("%s:\nopenat2:\n%swalk:\n%s", name, fast, walk)
		}
	}
	if l.files == nil || l.files.hits == hits {
		t.Error("no read came from the file cache: the second reads checked nothing")
	}

	// The shortcut was taken where it should be, and answered.
	for _, c := range []struct {
		rel  string
		done bool
	}{
		{"a/b/c/f.txt", true}, {"a/b/c/missing", true}, {"a/b/file.txt/x", true},
		{"a/b/out/secret", false}, {"a/b/absout/secret", false}, {"a/b/c/loop", false},
		{"a/b/file.txt", true}, {"a/b", true}, {"a/nope", true}, {"a", false}, {"nope", false},
	} {
		fd, done, _ := l.beneath(c.rel, unix.O_PATH)
		if fd >= 0 {
			syscall.Close(fd)
		}
		if done != c.done {
			t.Errorf("beneath(%q): done = %v, want %v", c.rel, done, c.done)
		}
	}
	for _, c := range []struct {
		rel  string
		done bool
	}{
		{"top.txt", true}, {"nope", true}, {"topfifo", true}, {"a", true}, {"a/b/c/f.txt", true},
		{"toplink", false}, {"topdir", false}, {"a/b/out/secret", false},
	} {
		fd, done, _ := l.openFd(c.rel)
		if fd >= 0 {
			syscall.Close(fd)
		}
		if done != c.done {
			t.Errorf("openFd(%q): done = %v, want %v", c.rel, done, c.done)
		}
	}
}

func infoString(in Info) string {
	return fmt.Sprintf("{%q %q dir=%v size=%d etag=%q mtime=%d}", in.Name, in.Path, in.IsDir, in.Size, in.ETag, in.ModTime.UnixNano())
}

func errClass(err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range []error{ErrNotFound, ErrNotDir, ErrIsDir, ErrPermission, ErrInvalidName, ErrNotSupported} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return "other error"
}

func content(t *testing.T, f File) string {
	t.Helper()
	if f == nil {
		return "<no file>"
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return "read error"
	}
	return string(b)
}

// BenchmarkResolve: Stat and OpenInfo of a file one, two, three and five levels
// down, with openat2 (beneath) and with os.Root's walk alone.
func BenchmarkResolve(b *testing.B) {
	root := b.TempDir()
	dir := filepath.Join(root, "l1", "l2", "l3", "l4")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	names := map[int]string{1: "/f.txt", 2: "/l1/f.txt", 3: "/l1/l2/f.txt", 5: "/l1/l2/l3/l4/f.txt"}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(n)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	l := openLocal(b, root)
	ctx := context.Background()
	for _, depth := range []int{1, 2, 3, 5} {
		for _, walk := range []bool{false, true} {
			how := "openat2"
			if walk {
				how = "walk"
			}
			b.Run(fmt.Sprintf("Stat/depth%d/%s", depth, how), func(b *testing.B) {
				walkOnly.Store(walk)
				defer walkOnly.Store(false)
				for b.Loop() {
					if _, err := l.Stat(ctx, names[depth]); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("OpenInfo/depth%d/%s", depth, how), func(b *testing.B) {
				walkOnly.Store(walk)
				defer walkOnly.Store(false)
				for b.Loop() {
					f, _, _, err := l.OpenInfo(ctx, names[depth], nil)
					if err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			})
		}
	}
}

// TestOpenRefusesUnopened: Open and OpenInfo refuse a name that is neither
// file nor folder without opening it (opening a device node runs its
// driver), nor one outside the folder. A fifo stands for every such node
// here: the kernel's IN_OPEN event, queued by open itself, tells whether
// it was opened, at the top level, deep down, through links inside and
// through links leading out.
func TestOpenRefusesUnopened(t *testing.T) {
	base := t.TempDir()
	root, out := filepath.Join(base, "root"), filepath.Join(base, "out")
	deep := filepath.Join(root, "a", "b")
	for _, d := range []string{deep, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(root, "fifo"), filepath.Join(deep, "fifo"), filepath.Join(out, "fifo")} {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{
		"a/link":   "b/fifo",                   // deep, inside
		"toplink":  "a/b/fifo",                 // top level, inside
		"outlink":  "../out/fifo",              // top level, leading out
		"a/outdir": "../../out",                // a folder leading out
		"abslink":  filepath.Join(out, "fifo"), // absolute, outside
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	for _, d := range []string{root, deep, out} {
		if _, err := unix.InotifyAddWatch(in, d, unix.IN_OPEN); err != nil {
			t.Fatal(err)
		}
	}
	l := openLocal(t, root)
	ctx := context.Background()
	for _, name := range []string{"/fifo", "/a/b/fifo", "/a/link", "/toplink", "/outlink", "/a/outdir/fifo", "/abslink"} {
		for _, walk := range []bool{false, true} {
			walkOnly.Store(walk)
			if f, err := l.Open(ctx, name); !errors.Is(err, ErrPermission) {
				t.Errorf("Open(%s): %v, want ErrPermission", name, err)
				if f != nil {
					f.Close()
				}
			}
			if f, _, _, err := l.OpenInfo(ctx, name, make([]byte, 64)); !errors.Is(err, ErrPermission) {
				t.Errorf("OpenInfo(%s): %v, want ErrPermission", name, err)
				if f != nil {
					f.Close()
				}
			}
			walkOnly.Store(false)
			if n := fifoOpens(t, in); n > 0 {
				t.Errorf("%s (walk %v): the fifo was opened", name, walk)
			}
		}
	}
	// The watch does see a fifo being opened, so the test can fail.
	fd, err := unix.Open(filepath.Join(deep, "fifo"), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if n := fifoOpens(t, in); n != 1 {
		t.Fatalf("opening the fifo directly gave %d IN_OPEN events, want 1", n)
	}
}

// fifoOpens reads the pending events of the inotify descriptor in and
// counts those naming "fifo".
func fifoOpens(t *testing.T, in int) int {
	t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Read(in, buf)
	if err == unix.EAGAIN {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	for off := 0; off+unix.SizeofInotifyEvent <= n; {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
		if strings.TrimRight(string(name), "\x00") == "fifo" {
			count++
		}
		off += unix.SizeofInotifyEvent + int(ev.Len)
	}
	return count
}

// closingFd is heldFd (as OpenInfo reads small files) whose Close closes
// the descriptor, so that a test sees when ReadWhole closes it.
type closingFd int

func (fd closingFd) Read(p []byte) (int, error)                { return heldFd(fd).Read(p) }
func (fd closingFd) Seek(off int64, whence int) (int64, error) { return heldFd(fd).Seek(off, whence) }
func (fd closingFd) Close() error                              { return unix.Close(int(fd)) }

// TestReadWholeOnDescriptor: ReadWhole on a bare descriptor (heldFd, as
// OpenInfo reads small files) gives the file as described, and closes it,
// never a content cut or padded to a stale size. A file that grew or shrank
// since its description, a failed read or a buffer too small leave the
// descriptor open at the start for the caller to send what it holds.
func TestReadWholeOnDescriptor(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		content string
		size    int64 // as described
		buf     int
		whole   bool
	}{
		{"as described", "0123456789", 10, 64, true},
		{"empty", "", 0, 64, true},
		{"fills the buffer but one byte", "0123456789", 10, 11, true},
		{"grew", "0123456789", 9, 64, false},
		{"grew from empty", "01234", 0, 64, false},
		{"shrank", "0123456789", 11, 64, false},
		{"shrank to empty", "", 3, 64, false},
		{"buffer too small", "0123456789", 10, 10, false},
		{"no buffer", "0123456789", 10, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "f")
			if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			var buf []byte
			if c.buf > 0 {
				buf = make([]byte, c.buf)
			}
			f, body := ReadWhole(closingFd(fd), Info{Size: c.size}, buf)
			whole := f == nil
			if whole {
				if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != unix.EBADF {
					t.Errorf("read whole, but the descriptor is still open (%v)", err)
				}
			} else {
				defer unix.Close(fd)
			}
			if whole != c.whole {
				t.Fatalf("whole = %v, want %v", whole, c.whole)
			}
			if whole {
				if body == nil || string(body) != c.content {
					t.Errorf("body %q, want %q", body, c.content)
				}
				return
			}
			if body != nil {
				t.Errorf("body %q, want none", body)
			}
			rest, err := io.ReadAll(f)
			if err != nil || string(rest) != c.content {
				t.Errorf("the File given back then reads %q, %v; want the whole %q", rest, err, c.content)
			}
		})
	}
	// A read that fails is not a whole file.
	fd, err := unix.Open(filepath.Join(dir, "f"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if f, body := ReadWhole(closingFd(fd), Info{}, make([]byte, 64)); f == nil || body != nil {
		t.Errorf("a failed read: File %v, body %q; want the File back and no body", f, body)
	}
}

// TestNoDescriptorLeak: small files are read on bare descriptors, which no
// finalizer would ever close. Every path of Stat, Open, OpenInfo (with and
// without a buffer, small and large files, folders, missing names, a fifo,
// links inside and leading out, through the walk too) and List leaves the
// process with the descriptors it had.
func TestNoDescriptorLeak(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	for _, d := range []string{"a/b/c", "out"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(base, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, size := range map[string]int{"small": 10, "big": 100 << 10, "a/b/c/small": 10, "a/b/c/big": 100 << 10} {
		if err := os.WriteFile(filepath.Join(root, p), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"toplink": "small", "a/b/in": "c", "a/b/leave": "../../../out"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "a/b/fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := openLocal(t, root)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	ctx := context.Background()
	names := []string{"/", "/small", "/big", "/a", "/a/b/c", "/a/b/c/small", "/a/b/c/big", "/missing", "/a/b/missing",
		"/toplink", "/a/b/in/small", "/a/b/leave", "/a/b/fifo", "/small/x"}
	run := func() {
		for _, name := range names {
			l.Stat(ctx, name)
			if f, err := l.Open(ctx, name); err == nil {
				f.Close()
			}
			for _, buf := range [][]byte{nil, make([]byte, 64)} {
				if f, _, _, err := l.OpenInfo(ctx, name, buf); err == nil && f != nil {
					f.Close()
				}
			}
			for range l.List(ctx, name) {
			}
		}
	}
	// A cache of its own (the shared one also holds other tests' folders,
	// dropped as their folders go), closed when the test ends.
	if l.dirs != nil {
		if l.dirs = newDirCache(); l.dirs == nil {
			t.Fatal("inotify is not available")
		}
		defer l.dirs.close()
	}
	// Anything opened once and kept is opened now: the runtime's poller,
	// and the folders the cache keeps from their second listing.
	run()
	run()
	before := fds()
	for _, walk := range []bool{false, true} {
		walkOnly.Store(walk)
		for range 20 {
			run()
		}
	}
	walkOnly.Store(false)
	if after := fds(); after != before {
		t.Errorf("%d descriptors open after, %d before", after, before)
	}
}

// openLocal is a LocalFS on root with the default options, closed when the
// test ends.
func openLocal(t testing.TB, root string) *LocalFS {
	t.Helper()
	l, err := NewLocal(root, LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}
