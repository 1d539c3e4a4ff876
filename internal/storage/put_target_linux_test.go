package storage

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// putTree is renameTree with every kind of entry a Put may land on, at the
// top level and below it: files, folders, links to each (inside, leaving,
// dangling, looping), a fifo, a link to it, and a name of 255 bytes.
func putTree(t *testing.T, base string) string {
	t.Helper()
	root := renameTree(t, base)
	secret := filepath.Join(base, "out", "secret")
	if err := os.WriteFile(secret, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, links := range map[string]map[string]string{
		"": {"lfile": "top", "ldir": "d", "lout": "../out/secret", "labs": secret,
			"ldangle": "nope", "lloop": "lloop", "lfifo": "fifo"},
		"a/b/c/": {"lfile": "f", "ldir": "../../../d", "lout": "../../../../out/secret", "labs": secret,
			"ldangle": "nope", "lloop": "lloop", "lfifo": "fifo"},
	} {
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(root, dir+name)); err != nil {
				t.Fatal(err)
			}
		}
		if err := syscall.Mkfifo(filepath.Join(root, dir+"fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir+strings.Repeat("x", 255)), []byte("long"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestPutTargetMatchesWalk puts a file onto every kind of entry, with the
// look at the target made in its open folder when the content is published
// (replaceableIn: one fstatat) and with the walk from the root
// (replaceable, which every Put made before the body until the thirteenth
// session of 2026-12-07), each on a fresh tree: the same error, the same
// created flag, the same tree after, nothing left staged, and nothing
// outside the root touched.
func TestPutTargetMatchesWalk(t *testing.T) {
	long := strings.Repeat("x", 255)
	var names []string
	for _, dir := range []string{"/", "/a/b/c/"} {
		for _, n := range []string{"f", "top", "new", "c", "d", "lfile", "ldir", "lout", "labs", "ldangle", "lloop", "fifo", "lfifo", long} {
			names = append(names, dir+n)
		}
	}
	names = append(names, "/a/in/f", "/a/in/new", "/a/leave/secret", "/a/leave/new", "/a/missing/new", "/a/f/new")
	for i, name := range names {
		t.Run(strconv.Itoa(i)+strings.ReplaceAll(name, long, "long"), func(t *testing.T) {
			outcome := func(walk bool) string {
				base := t.TempDir()
				l, err := NewLocal(putTree(t, base), LocalOptions{NoSync: true, Hidden: []string{".state"}, StageDir: ".state/upload"})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				walkOnly.Store(walk)
				defer walkOnly.Store(false)
				_, created, err := l.Put(context.Background(), name, strings.NewReader("new content"), PutOptions{ExpectedSize: -1})
				walkOnly.Store(false)
				staged, serr := os.ReadDir(filepath.Join(base, "root", ".state", "upload"))
				if serr != nil || len(staged) != 0 {
					t.Errorf("stage folder after the Put: %v %v", staged, serr)
				}
				if b, _ := os.ReadFile(filepath.Join(base, "out", "secret")); string(b) != "outside" {
					t.Errorf("the file outside the root now holds %q", b)
				}
				tree := strings.ReplaceAll(treeOf(t, base), base, "BASE") // labs names it
				return errClass(err) + " created=" + strconv.FormatBool(created && err == nil) + "\n" + tree
			}
			if fast, walk := outcome(false), outcome(true); fast != walk {
				t.Errorf("in the open folder: %s\nwalk: %s", fast, walk)
			}
		})
	}
}

// TestPutTargetAtPublish: what the target is when the content is published
// decides, not what it was before the body came. Commit changes the target
// just before publish, as a request running beside the Put would.
func TestPutTargetAtPublish(t *testing.T) {
	for _, c := range []struct {
		name        string
		change      func(p string) error
		wantErr     string
		wantCreated bool
	}{
		{"made a folder", func(p string) error { return os.Mkdir(p, 0o755) }, ErrIsDir.Error(), false},
		{"made a file", func(p string) error { return os.WriteFile(p, []byte("old"), 0o644) }, "ok", false},
		{"made a fifo", func(p string) error { return syscall.Mkfifo(p, 0o644) }, ErrPermission.Error(), false},
		{"left alone", func(string) error { return nil }, "ok", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			root := putTree(t, base)
			l, err := NewLocal(root, LocalOptions{NoSync: true, Hidden: []string{".state"}, StageDir: ".state/upload"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			opt := PutOptions{ExpectedSize: -1, Commit: func(publish func() error) error {
				if err := c.change(filepath.Join(root, "a/b/c/new")); err != nil {
					return err
				}
				return publish()
			}}
			_, created, err := l.Put(context.Background(), "/a/b/c/new", strings.NewReader("new content"), opt)
			if errClass(err) != c.wantErr || (err == nil && created != c.wantCreated) {
				t.Errorf("Put: %v, created %v; want %s, created %v", err, created, c.wantErr, c.wantCreated)
			}
			if staged, _ := os.ReadDir(filepath.Join(root, ".state", "upload")); len(staged) != 0 {
				t.Errorf("left staged: %v", staged)
			}
			if err == nil {
				if b, _ := os.ReadFile(filepath.Join(root, "a/b/c/new")); string(b) != "new content" {
					t.Errorf("the target holds %q", b)
				}
			}
		})
	}
}

// TestPutReservation: a synced upload reserves its announced length before
// the body (a full disk fails it at once, and ext4 has no writeback to
// start in the rename); an unsynced one reserves nothing, so that the file
// system's guard for a rename over an old file applies to it. The staged
// file is looked at while the body is still arriving.
func TestPutReservation(t *testing.T) {
	const size = 1 << 20
	for _, noSync := range []bool{false, true} {
		t.Run("NoSync="+strconv.FormatBool(noSync), func(t *testing.T) {
			root := t.TempDir()
			l, err := NewLocal(root, LocalOptions{NoSync: noSync, Hidden: []string{".state"}, StageDir: ".state/upload"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				_, _, err := l.Put(context.Background(), "/f", pr, PutOptions{ExpectedSize: size})
				done <- err
			}()
			chunk := make([]byte, 4096)
			if _, err := pw.Write(chunk); err != nil { // Put has made the staged file
				t.Fatal(err)
			}
			staged, err := os.ReadDir(filepath.Join(root, ".state", "upload"))
			if err != nil || len(staged) != 1 {
				t.Fatalf("stage folder while the body arrives: %v %v", staged, err)
			}
			var st syscall.Stat_t
			if err := syscall.Stat(filepath.Join(root, ".state", "upload", staged[0].Name()), &st); err != nil {
				t.Fatal(err)
			}
			if reserved := st.Blocks*512 >= size; reserved == noSync {
				t.Errorf("staged file holds %d bytes of blocks with %d of %d written; reserved: %v, want %v",
					st.Blocks*512, len(chunk), size, reserved, !noSync)
			}
			for n := len(chunk); n < size; n += len(chunk) {
				if _, err := pw.Write(chunk); err != nil {
					t.Fatal(err)
				}
			}
			pw.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
