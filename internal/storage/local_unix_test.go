//go:build linux || darwin

package storage_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/davit-dav/davit/internal/storage"
)

// TestLocalSpecialFiles checks that a named pipe is neither listed nor
// opened (which would block) nor written to.
func TestLocalSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	must(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o666))
	l := newLocal(t, dir, storage.LocalOptions{})
	if got := listNames(t, l, "/"); !slices.Equal(got, nil) {
		t.Errorf("List(/) = %q, want the pipe skipped", got)
	}
	if _, err := l.Stat(t.Context(), "/fifo"); !errors.Is(err, storage.ErrPermission) {
		t.Errorf("Stat(/fifo) = %v, want ErrPermission", err)
	}
	if _, err := l.Open(t.Context(), "/fifo"); !errors.Is(err, storage.ErrPermission) {
		t.Errorf("Open(/fifo) = %v, want ErrPermission", err)
	}
	if err := put(l, "/fifo", strings.NewReader("x")); !errors.Is(err, storage.ErrPermission) {
		t.Errorf("Put(/fifo) = %v, want ErrPermission", err)
	}
}

// TestLocalListEntries lists a folder holding every kind of entry List
// must show or skip, at the top (where hidden names apply) and below, and
// checks that each entry shown is described exactly as Stat describes it.
func TestLocalListEntries(t *testing.T) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	must(t, os.Mkdir(outside, 0o777))
	must(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o666))
	long := strings.Repeat("x", 255) // the longest name: a full dirent
	for _, dir := range []string{root, filepath.Join(root, "sub")} {
		must(t, os.MkdirAll(dir, 0o777))
		for _, e := range []struct {
			name string
			make func(p string) error
		}{
			{"file", func(p string) error { return os.WriteFile(p, []byte("content"), 0o666) }},
			{"empty", func(p string) error { return os.WriteFile(p, nil, 0o666) }},
			{long, func(p string) error { return os.WriteFile(p, []byte("l"), 0o666) }},
			{"dir", func(p string) error { return os.Mkdir(p, 0o777) }},
			{"link-in", func(p string) error { return os.Symlink("file", p) }},
			{"link-dir", func(p string) error { return os.Symlink("dir", p) }},
			{"link-out", func(p string) error { return os.Symlink(filepath.Join(outside, "secret"), p) }},
			{"link-up", func(p string) error { return os.Symlink("../../outside", p) }},
			{"link-etc", func(p string) error { return os.Symlink("/etc", p) }},
			{"dangling", func(p string) error { return os.Symlink("missing", p) }},
			{"loop", func(p string) error { return os.Symlink("loop", p) }},
			{"fifo", func(p string) error { return syscall.Mkfifo(p, 0o666) }},
			{"link-fifo", func(p string) error { return os.Symlink("fifo", p) }},
			{".davit-tmp-upload", func(p string) error { return os.WriteFile(p, []byte("partial"), 0o666) }},
			{".state", func(p string) error { return os.Mkdir(p, 0o777) }},
			{"ünï cödé ☃", func(p string) error { return os.WriteFile(p, []byte("u"), 0o666) }},
		} {
			must(t, e.make(filepath.Join(dir, e.name)))
		}
	}
	l := newLocal(t, root, storage.LocalOptions{Hidden: []string{".state"}})
	shown := []string{"dir", "empty", "file", "link-dir", "link-in", long, "ünï cödé ☃"}
	for _, tc := range []struct {
		dir  string
		want []string
	}{
		{"/", append([]string{"sub"}, shown...)},
		{"/sub", append([]string{".state"}, shown...)}, // hidden only at the top
		{"/link-dir", nil},
		{"/sub/dir", nil},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			slices.Sort(tc.want)
			if got := listNames(t, l, tc.dir); !slices.Equal(got, tc.want) {
				t.Errorf("List(%q) = %q, want %q", tc.dir, got, tc.want)
			}
			for in, err := range l.List(t.Context(), tc.dir) {
				if err != nil {
					t.Fatal(err)
				}
				want, err := l.Stat(t.Context(), in.Path)
				if err != nil {
					t.Fatalf("Stat(%q): %v", in.Path, err)
				}
				if in != want {
					t.Errorf("List gives %+v, Stat %+v", in, want)
				}
				if prefix := strings.TrimSuffix(tc.dir, "/") + "/"; in.Path != prefix+in.Name {
					t.Errorf("Path %q does not end in Name %q", in.Path, in.Name)
				}
			}
		})
	}
	for name, want := range map[string]error{
		"/file":     storage.ErrNotDir,
		"/fifo":     storage.ErrNotDir,
		"/link-in":  storage.ErrNotDir,
		"/file/x":   storage.ErrNotFound,
		"/missing":  storage.ErrNotFound,
		"/dangling": storage.ErrNotFound,
		"/link-up":  storage.ErrPermission,
		"/link-etc": storage.ErrPermission,
		"/.state":   storage.ErrNotFound,
	} {
		for _, err := range l.List(t.Context(), name) {
			if !errors.Is(err, want) {
				t.Errorf("List(%q) yields %v, want %v", name, err, want)
			}
			break
		}
	}
}

// TestLocalOpenInfoSpecial checks that OpenInfo refuses what Open refuses,
// without blocking on a pipe.
func TestLocalOpenInfoSpecial(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	must(t, os.Mkdir(root, 0o777))
	must(t, os.WriteFile(filepath.Join(base, "secret"), []byte("secret"), 0o666))
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o666))
	must(t, os.Symlink("../secret", filepath.Join(root, "out")))
	must(t, os.Symlink("fifo", filepath.Join(root, "link-fifo")))
	must(t, os.Mkdir(filepath.Join(root, ".state"), 0o777))
	l := newLocal(t, root, storage.LocalOptions{Hidden: []string{".state"}})
	for name, want := range map[string]error{
		"/fifo":                        storage.ErrPermission,
		"/link-fifo":                   storage.ErrPermission,
		"/out":                         storage.ErrPermission,
		"/.state":                      storage.ErrNotFound,
		"/.davit-tmp-x":                storage.ErrNotFound,
		"/missing":                     storage.ErrNotFound,
		"/fifo/x":                      storage.ErrNotFound,
		"/" + strings.Repeat("x", 300): storage.ErrInvalidName,
	} {
		if f, body, in, err := l.OpenInfo(t.Context(), name, make([]byte, 64)); !errors.Is(err, want) || f != nil || body != nil || in != (storage.Info{}) {
			t.Errorf("OpenInfo(%q) = %v, %q, %+v, %v; want %v", name, f, body, in, err, want)
			if f != nil {
				f.Close()
			}
		}
	}
}

// TestLocalPutAborted checks, with and without a stage folder and at two
// depths, that a Put failing at any step leaves the old content whole and
// no file behind, neither beside the target nor in the stage folder.
func TestLocalPutAborted(t *testing.T) {
	errGone := errors.New("client gone")
	refuse := errors.New("lock lost")
	cases := []struct {
		name string
		body func() io.Reader
		opt  storage.PutOptions
		want error
	}{
		{"error mid-body", func() io.Reader {
			return io.MultiReader(strings.NewReader(strings.Repeat("n", 300<<10)), iotest.ErrReader(errGone))
		}, storage.PutOptions{ExpectedSize: -1}, errGone},
		{"short body", func() io.Reader { return strings.NewReader("new") }, storage.PutOptions{ExpectedSize: 600 << 10}, storage.ErrSizeMismatch},
		{"long body", func() io.Reader { return strings.NewReader(strings.Repeat("n", 300<<10)) }, storage.PutOptions{ExpectedSize: 256 << 10}, storage.ErrSizeMismatch},
		{"long by one", func() io.Reader { return strings.NewReader("newer") }, storage.PutOptions{ExpectedSize: 4}, storage.ErrSizeMismatch},
		{"commit refused", func() io.Reader { return strings.NewReader("new") }, storage.PutOptions{
			ExpectedSize: 3, Commit: func(func() error) error { return refuse },
		}, refuse},
	}
	for _, staged := range []bool{false, true} {
		for _, target := range []string{"/f", "/d/e/f"} {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("staged=%v%s/%s", staged, target, tc.name), func(t *testing.T) {
					dir := t.TempDir()
					opt := storage.LocalOptions{Hidden: []string{".state"}}
					if staged {
						opt.StageDir = ".state/up"
					}
					l := newLocal(t, dir, opt)
					must(t, os.MkdirAll(filepath.Join(dir, "d", "e"), 0o777))
					old, _, err := l.Put(t.Context(), target, strings.NewReader("old"), storage.PutOptions{ExpectedSize: 3})
					must(t, err)
					if _, _, err := l.Put(t.Context(), target, tc.body(), tc.opt); !errors.Is(err, tc.want) {
						t.Errorf("Put = %v, want %v", err, tc.want)
					}
					if in, err := l.Stat(t.Context(), target); err != nil || in != old {
						t.Errorf("after the failed Put, Stat = %+v, %v; want %+v", in, err, old)
					}
					if b, err := os.ReadFile(filepath.Join(dir, target)); err != nil || string(b) != "old" {
						t.Errorf("content now %.10q, %v", b, err)
					}
					for _, sub := range []string{filepath.Dir(target), ".state/up"} {
						ents, _ := os.ReadDir(filepath.Join(dir, sub))
						for _, e := range ents {
							if strings.HasPrefix(e.Name(), ".davit-tmp-") {
								t.Errorf("%s holds %s", sub, e.Name())
							}
						}
					}
				})
			}
		}
	}
}

// TestLocalPutMtime checks that Put stamps the new file with the time asked
// for, to the nanosecond, and that the Info it returns is Stat's.
func TestLocalPutMtime(t *testing.T) {
	for _, staged := range []bool{false, true} {
		dir := t.TempDir()
		opt := storage.LocalOptions{Hidden: []string{".state"}}
		if staged {
			opt.StageDir = ".state/up"
		}
		l := newLocal(t, dir, opt)
		for _, mtime := range []time.Time{
			time.Date(2001, 2, 3, 4, 5, 6, 789012345, time.UTC),
			time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
			{},
		} {
			in, _, err := l.Put(t.Context(), "/f", strings.NewReader("x"), storage.PutOptions{ExpectedSize: 1, ModTime: mtime})
			must(t, err)
			if !mtime.IsZero() && !in.ModTime.Equal(mtime) {
				t.Errorf("Put with ModTime %v gives %v", mtime, in.ModTime)
			}
			if st, err := l.Stat(t.Context(), "/f"); err != nil || st != in {
				t.Errorf("Put gives %+v, Stat %+v (%v)", in, st, err)
			}
			fi, err := os.Stat(filepath.Join(dir, "f"))
			if err != nil || !fi.ModTime().Equal(in.ModTime) {
				t.Errorf("file time %v, Info %v (%v)", fi.ModTime(), in.ModTime, err)
			}
		}
	}
}

func TestLocalQuota(t *testing.T) {
	fs, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	avail, used, err := fs.Quota(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if avail <= 0 || used <= 0 {
		t.Fatalf("Quota() = %d available, %d used; want both positive", avail, used)
	}
}
