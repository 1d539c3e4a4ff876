package storage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// renameTree makes the tree every case of TestRenameBeneathMatchesWalk
// starts from: nested folders, a file where a folder is looked for, a
// link to a folder inside the root and one leading out of it.
func renameTree(t *testing.T, base string) string {
	t.Helper()
	root := filepath.Join(base, "root")
	for _, d := range []string{"a/b/c", "d", "e"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(base, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"top", "top2", "a/f", "a/b/f", "a/b/c/f", "a/b/c/g", "d/f"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range map[string]string{"a/in": "b", "a/leave": "../../out", "toplink": "top"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// treeOf lists every name under root with what it is (and a file's
// content), to compare what two renames left.
func treeOf(t *testing.T, base string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			lines = append(lines, rel+" -> "+target)
		case d.IsDir():
			lines = append(lines, rel+"/")
		case d.Type()&fs.ModeNamedPipe != 0:
			lines = append(lines, rel+" (fifo)") // reading it would wait for a writer
		default:
			b, _ := os.ReadFile(p)
			lines = append(lines, rel+": "+string(b))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestRenameBeneathMatchesWalk renames with the renameat2 shortcut and
// with os.Root's walk, each on a fresh tree, and wants the same error
// and the same tree after; and the shortcut taken where it should be.
func TestRenameBeneathMatchesWalk(t *testing.T) {
	for _, c := range []struct {
		src, dst string
		fast     bool // the shortcut answers (otherwise it leaves it to the walk)
	}{
		{"/top", "/moved", true},           // top level
		{"/a/b/c/f", "/a/b/c/h", true},     // in one deep folder
		{"/a/b/c/f", "/d/f2", true},        // across folders
		{"/top", "/a/b/c/top", true},       // down
		{"/a/b/c/g", "/top3", true},        // up
		{"/a/b/c", "/e/c", true},           // a folder
		{"/a/in/f", "/a/in/f3", true},      // through a link inside
		{"/toplink", "/toplink2", true},    // a link itself
		{"/a/b/c/f", "/a/b/c/g", true},     // onto a file: ErrExist
		{"/a/b/c/f", "/d", true},           // onto a folder: ErrExist
		{"/top", "/top2", true},            // onto a file, top level
		{"/a/b/c/missing", "/a/x", false},  // no source
		{"/a/b/missing/f", "/a/x", true},   // no source folder
		{"/a/b/c/f", "/a/missing/x", true}, // no destination folder
		{"/a/b/c/f", "/a/f/x", true},       // a file as the destination folder
		{"/a/f/x", "/a/y", true},           // a file as the source folder
		{"/a/leave/x", "/a/y", false},      // a link out, source: the walk words it
		{"/a/b/c/f", "/a/leave/x", false},  // a link out, destination: the same
		{"/a/b/c", "/a/b/c/sub/c", false},  // into itself: refused before
		{"/", "/x", false},                 // the root: refused before
	} {
		t.Run(c.src+"->"+c.dst, func(t *testing.T) {
			outcome := func(walk bool) (string, string) {
				base := t.TempDir()
				l := openLocal(t, renameTree(t, base))
				walkOnly.Store(walk)
				defer walkOnly.Store(false)
				err := l.Rename(context.Background(), c.src, c.dst)
				return errClassRename(err), treeOf(t, base)
			}
			ferr, ftree := outcome(false)
			werr, wtree := outcome(true)
			if ferr != werr || ftree != wtree {
				t.Errorf("renameat2: %s\n%s\nwalk: %s\n%s", ferr, ftree, werr, wtree)
			}
			if c.src == "/" || strings.HasPrefix(c.dst, c.src+"/") {
				return
			}
			l := openLocal(t, renameTree(t, t.TempDir()))
			srel, drel := c.src[1:], c.dst[1:]
			sync, done, err := l.renameBeneath(c.src, c.dst, srel, drel)
			if done != c.fast {
				t.Errorf("shortcut answered: %v (%v), want %v", done, err, c.fast)
			}
			if sync != nil {
				if err := sync(); err != nil {
					t.Errorf("sync: %v", err)
				}
			}
		})
	}
}

// errClassRename is errClass with ErrExist, which Rename answers.
func errClassRename(err error) string {
	if err != nil && strings.Contains(fmt.Sprint(err), ErrExist.Error()) {
		return ErrExist.Error()
	}
	return errClass(err)
}

// TestRenameBeneathDescriptors: the shortcut closes every folder it
// opened, whether it synced (durable), did not (NoSync), or failed.
func TestRenameBeneathDescriptors(t *testing.T) {
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	for _, noSync := range []bool{false, true} {
		root := renameTree(t, t.TempDir())
		l, err := NewLocal(root, LocalOptions{NoSync: noSync, NoFolderCache: true, NoFileCache: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		before := fds()
		for i := range 10 {
			for _, p := range [][2]string{{"/a/b/c/f", "/d/f2"}, {"/d/f2", "/a/b/c/f"}, {"/a/b/c/f", "/a/b/c/g"}, {"/a/missing/x", "/d/x"}} {
				l.Rename(ctx, p[0], p[1])
			}
			if got := fds(); got != before {
				t.Fatalf("noSync %v, round %d: %d descriptors open, %d before", noSync, i, got, before)
			}
		}
		l.Close()
	}
}

// BenchmarkRename renames a file two levels down to a new name and back,
// without syncing: the renameat2 shortcut against os.Root's walk with its
// two looks (the storage's part of a MOVE).
func BenchmarkRename(b *testing.B) {
	root := b.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "a", "b"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "b", "f0"), []byte("x"), 0o644); err != nil {
		b.Fatal(err)
	}
	l, err := NewLocal(root, LocalOptions{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	names := [2]string{"/a/b/f0", "/a/b/f1"}
	for _, walk := range []bool{false, true} {
		how := "renameat2"
		if walk {
			how = "walk"
		}
		b.Run(how, func(b *testing.B) {
			walkOnly.Store(walk)
			defer walkOnly.Store(false)
			i := 0
			if _, err := os.Stat(filepath.Join(root, "a", "b", "f1")); err == nil {
				i = 1
			}
			for b.Loop() {
				if err := l.Rename(ctx, names[i], names[1-i]); err != nil {
					b.Fatal(err)
				}
				i = 1 - i
			}
		})
	}
}
