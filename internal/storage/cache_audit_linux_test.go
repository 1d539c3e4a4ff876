package storage

// Audit tests: attempts to make the folder cache (dirCache) and the file
// cache (fileCache) serve a stale answer. Each test compares what a
// LocalFS with the cache answers with what a LocalFS without any cache
// answers for the same tree at the same moment.

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
	"time"

	"golang.org/x/sys/unix"
)

// auditPair returns a LocalFS on dir with a folder cache and a file cache
// of their own (settleTime untouched), and a reference LocalFS without.
func auditPair(t *testing.T, dir string, opt LocalOptions) (l, ref *LocalFS) {
	t.Helper()
	opt.NoSync = true
	l, err := NewLocal(dir, opt)
	must(t, err)
	if l.dirs == nil || l.files == nil {
		l.Close()
		notKeptFS(t, "cache", dir)
	}
	if l.dirs = newDirCache(); l.dirs == nil {
		t.Fatal("no inotify")
	}
	fc := newFileCache(maxKeptFiles)
	l.files = fc
	t.Cleanup(func() {
		l.Close()
		l.dirs.close()
		fc.mu.Lock()
		if fc.timer != nil {
			fc.timer.Stop()
		}
		fc.mu.Unlock()
	})
	opt.NoFolderCache, opt.NoFileCache = true, true
	ref, err = NewLocal(dir, opt)
	must(t, err)
	t.Cleanup(func() { ref.Close() })
	return l, ref
}

// listing is a full description of a listing of name: every entry with
// type, size, ETag and mtime, sorted, or the error's class.
func listing(l *LocalFS, name string) string {
	var out []string
	for in, err := range l.List(context.Background(), name) {
		if err != nil {
			return "error: " + errClass(err)
		}
		out = append(out, fmt.Sprintf("%s dir=%v size=%d etag=%s mtime=%d", in.Path, in.IsDir, in.Size, in.ETag, in.ModTime.UnixNano()))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// sameListing fails the test when l and ref list name differently.
func sameListing(t *testing.T, step string, l, ref *LocalFS, name string) {
	t.Helper()
	got, want := listing(l, name), listing(ref, name)
	if got != want {
		t.Errorf("%s: List(%s) with the cache:\n%s\nwithout:\n%s", step, name, got, want)
	}
}

// keepDir lists name until the cache keeps the folder it leads to.
func keepDir(t *testing.T, l *LocalFS, name string) {
	t.Helper()
	for range 3 {
		listing(l, name)
	}
	rel := strings.TrimPrefix(name, "/")
	if rel == "" {
		rel = "."
	}
	var st unix.Stat_t
	if done, err := l.describe(rel, &st); !done || err != nil {
		t.Fatalf("describe %s: %v %v", name, done, err)
	}
	l.dirs.mu.Lock()
	d := l.dirs.byKey[dirKey{uint64(st.Dev), st.Ino}]
	l.dirs.mu.Unlock()
	if d == nil {
		t.Fatalf("%s not kept", name)
	}
}

func dirIno(t *testing.T, p string) uint64 {
	t.Helper()
	var st unix.Stat_t
	must(t, unix.Stat(p, &st))
	return st.Ino
}

// auditRoots are the file systems tried: ext4 (t.TempDir) and tmpfs.
func auditRoots(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"ext4": func(t *testing.T) string { return t.TempDir() },
		"tmpfs": func(t *testing.T) string {
			d, err := os.MkdirTemp("/dev/shm", "davit-audit-")
			must(t, err)
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		},
	}
}

// TestDirCacheAuditReplacedAtPath: the kept folder's path is made to lead
// elsewhere in ways TestDirCacheFollowsThePath does not try.
func TestDirCacheAuditReplacedAtPath(t *testing.T) {
	cases := map[string]func(t *testing.T, root string){
		"moved away, symlink to another folder": func(t *testing.T, root string) {
			must(t, os.Rename(filepath.Join(root, "d"), filepath.Join(root, "moved")))
			must(t, os.Symlink("other", filepath.Join(root, "d")))
		},
		"moved away, symlink to the moved folder, then changed": func(t *testing.T, root string) {
			must(t, os.Rename(filepath.Join(root, "d"), filepath.Join(root, "moved")))
			must(t, os.Symlink("moved", filepath.Join(root, "d")))
			write(t, filepath.Join(root, "moved", "later.txt"))
		},
		"exchanged with another folder": func(t *testing.T, root string) {
			must(t, unix.Renameat2(unix.AT_FDCWD, filepath.Join(root, "d"), unix.AT_FDCWD, filepath.Join(root, "other"), unix.RENAME_EXCHANGE))
		},
		"parent exchanged": func(t *testing.T, root string) {
			must(t, unix.Renameat2(unix.AT_FDCWD, filepath.Join(root, "p"), unix.AT_FDCWD, filepath.Join(root, "q"), unix.RENAME_EXCHANGE))
		},
		"removed and made again (inode reuse?)": func(t *testing.T, root string) {
			old := dirIno(t, filepath.Join(root, "d"))
			must(t, os.RemoveAll(filepath.Join(root, "d")))
			must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
			write(t, filepath.Join(root, "d", "fresh.txt"))
			t.Logf("old inode %d, new inode %d", old, dirIno(t, filepath.Join(root, "d")))
		},
		"other folder renamed over it": func(t *testing.T, root string) {
			must(t, os.RemoveAll(filepath.Join(root, "d", "sub")))
			must(t, os.Remove(filepath.Join(root, "d", "a.txt")))
			es, _ := os.ReadDir(filepath.Join(root, "d"))
			for _, e := range es {
				t.Logf("left in d: %s", e.Name())
			}
			must(t, unix.Rename(filepath.Join(root, "other"), filepath.Join(root, "d")))
		},
	}
	for fsName, mk := range auditRoots(t) {
		for name, change := range cases {
			t.Run(fsName+"/"+name, func(t *testing.T) {
				root := mk(t)
				must(t, os.MkdirAll(filepath.Join(root, "d", "sub"), 0o777))
				write(t, filepath.Join(root, "d", "a.txt"))
				must(t, os.MkdirAll(filepath.Join(root, "other"), 0o777))
				write(t, filepath.Join(root, "other", "o.txt"))
				for _, pq := range []string{"p", "q"} {
					must(t, os.MkdirAll(filepath.Join(root, pq, "d"), 0o777))
					write(t, filepath.Join(root, pq, "d", pq+".txt"))
				}
				l, ref := auditPair(t, root, LocalOptions{})
				keepDir(t, l, "/d")
				keepDir(t, l, "/p/d")
				keepDir(t, l, "/other")
				change(t, root)
				for _, n := range []string{"/d", "/p/d", "/q/d", "/other", "/moved"} {
					sameListing(t, "after", l, ref, n)
					sameListing(t, "again", l, ref, n)
				}
			})
		}
	}
}

// TestDirCacheAuditInodeReuseLoop removes a kept folder and makes a new one at
// its path many times over, on ext4 and tmpfs, counting how often the new
// folder gets the old inode number.
func TestDirCacheAuditInodeReuseLoop(t *testing.T) {
	for fsName, mk := range auditRoots(t) {
		t.Run(fsName, func(t *testing.T) {
			root := mk(t)
			must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
			l, ref := auditPair(t, root, LocalOptions{})
			reused := 0
			for i := range 200 {
				write(t, filepath.Join(root, "d", fmt.Sprintf("f%d", i)))
				keepDir(t, l, "/d")
				old := dirIno(t, filepath.Join(root, "d"))
				must(t, os.RemoveAll(filepath.Join(root, "d")))
				// Churn so that a freed inode would be handed out again.
				must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
				if dirIno(t, filepath.Join(root, "d")) == old {
					reused++
				}
				write(t, filepath.Join(root, "d", fmt.Sprintf("g%d", i)))
				if got, want := listing(l, "/d"), listing(ref, "/d"); got != want {
					t.Fatalf("round %d: cache %q, disk %q", i, got, want)
				}
				// Also: drop the kept folder by eviction, so its inode can be freed.
			}
			t.Logf("inode number reused by the new folder in %d of 200 rounds", reused)
		})
	}
}

// TestDirCacheAuditInodeReuseAfterDrop: the kept folder is dropped (its
// descriptor closed) by the cache's own bounds while the old folder is
// removed; new folders then get the freed inode. No entry may survive.
func TestDirCacheAuditInodeReuseAfterDrop(t *testing.T) {
	root := t.TempDir()
	l, ref := auditPair(t, root, LocalOptions{})
	reused := 0
	for i := range 50 {
		d := filepath.Join(root, "d")
		must(t, os.Mkdir(d, 0o777))
		write(t, filepath.Join(d, fmt.Sprintf("old%d", i)))
		keepDir(t, l, "/d")
		old := dirIno(t, d)
		must(t, os.RemoveAll(d))
		// Drain the events of the removal.
		l.dirs.lookup(dirKey{})
		l.dirs.mu.Lock()
		stillKept := len(l.dirs.byKey)
		l.dirs.mu.Unlock()
		if i == 0 {
			t.Logf("kept after removal and drain: %d", stillKept)
		}
		for j := 0; j < 5; j++ {
			must(t, os.Mkdir(filepath.Join(root, fmt.Sprintf("x%d", j)), 0o777))
		}
		must(t, os.Mkdir(d, 0o777))
		if dirIno(t, d) == old {
			reused++
		}
		write(t, filepath.Join(d, fmt.Sprintf("new%d", i)))
		sameListing(t, fmt.Sprint("round ", i), l, ref, "/d")
		for j := 0; j < 5; j++ {
			must(t, os.Remove(filepath.Join(root, fmt.Sprintf("x%d", j))))
		}
		must(t, os.RemoveAll(d))
	}
	t.Logf("inode reused %d of 50 rounds", reused)
}

// TestDirCacheAuditExchangeTypes exchanges an entry of a kept folder with one of
// another type (RENAME_EXCHANGE), so the name stays and its type changes.
func TestDirCacheAuditExchangeTypes(t *testing.T) {
	mkFile := func(t *testing.T, p string) { write(t, p) }
	mkDir := func(t *testing.T, p string) { must(t, os.Mkdir(p, 0o777)) }
	mkLink := func(t *testing.T, p string) { must(t, os.Symlink("target.txt", p)) }
	mkFifo := func(t *testing.T, p string) { must(t, unix.Mkfifo(p, 0o644)) }
	kinds := map[string]func(*testing.T, string){"file": mkFile, "dir": mkDir, "link": mkLink, "fifo": mkFifo}
	for inName, mkIn := range kinds {
		for outName, mkOut := range kinds {
			if inName == outName {
				continue
			}
			for _, same := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s<->%s same=%v", inName, outName, same), func(t *testing.T) {
					root := t.TempDir()
					d, o := filepath.Join(root, "d"), filepath.Join(root, "o")
					mkDir(t, d)
					mkDir(t, o)
					write(t, filepath.Join(d, "target.txt"))
					write(t, filepath.Join(o, "target.txt"))
					mkIn(t, filepath.Join(d, "x"))
					other := filepath.Join(o, "y")
					if same {
						other = filepath.Join(d, "y")
					}
					mkOut(t, other)
					l, ref := auditPair(t, root, LocalOptions{})
					keepDir(t, l, "/d")
					keepDir(t, l, "/o")
					must(t, unix.Renameat2(unix.AT_FDCWD, filepath.Join(d, "x"), unix.AT_FDCWD, other, unix.RENAME_EXCHANGE))
					sameListing(t, "after", l, ref, "/d")
					sameListing(t, "after", l, ref, "/o")
					sameListing(t, "again", l, ref, "/d")
				})
			}
		}
	}
}

// TestDirCacheAuditRealOverflow overflows the inotify queue for real (no
// simulated event): a kept folder's change is then lost among the events,
// and the next listing must still show it.
func TestDirCacheAuditRealOverflow(t *testing.T) {
	max, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	must(t, err)
	var n int
	fmt.Sscan(string(max), &n)
	root := t.TempDir()
	for _, d := range []string{"a", "flood"} {
		must(t, os.Mkdir(filepath.Join(root, d), 0o777))
	}
	write(t, filepath.Join(root, "a", "one.txt"))
	l, ref := auditPair(t, root, LocalOptions{})
	keepDir(t, l, "/a")
	keepDir(t, l, "/flood")
	f := filepath.Join(root, "flood", "f")
	for i := 0; i < n/2+100; i++ {
		write(t, f)
		must(t, os.Remove(f))
	}
	// The queue is full now: this change's event is lost.
	write(t, filepath.Join(root, "a", "two.txt"))
	must(t, os.Remove(filepath.Join(root, "a", "one.txt")))
	sameListing(t, "after overflow", l, ref, "/a")
	sameListing(t, "after overflow", l, ref, "/flood")
	// And once more, overflow while a fill is in flight.
	listing(l, "/a")
	l.dirs.mu.Lock()
	for _, d := range l.dirs.byKey {
		l.dirs.drop(d, true)
	}
	l.dirs.mu.Unlock()
	keepDir(t, l, "/flood")
	l.dirs.afterFill = func() {
		l.dirs.afterFill = nil
		for i := 0; i < n/2+100; i++ {
			write(t, f)
			must(t, os.Remove(f))
		}
		write(t, filepath.Join(root, "a", "three.txt"))
	}
	listing(l, "/a")
	sameListing(t, "overflow during fill", l, ref, "/a")
	sameListing(t, "overflow during fill, again", l, ref, "/a")
}

// TestDirCacheAuditAfterFill changes the folder between a fill's read and its
// keeping in ways other than a new file.
func TestDirCacheAuditAfterFill(t *testing.T) {
	cases := map[string]func(t *testing.T, root string){
		"moved away, new folder at path": func(t *testing.T, root string) {
			must(t, os.Rename(filepath.Join(root, "d"), filepath.Join(root, "moved")))
			must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
		},
		"moved away and back": func(t *testing.T, root string) {
			must(t, os.Rename(filepath.Join(root, "d"), filepath.Join(root, "moved")))
			write(t, filepath.Join(root, "moved", "while-away.txt"))
			must(t, os.Rename(filepath.Join(root, "moved"), filepath.Join(root, "d")))
		},
		"entry exchanged with a folder": func(t *testing.T, root string) {
			must(t, os.Mkdir(filepath.Join(root, "x"), 0o777))
			must(t, unix.Renameat2(unix.AT_FDCWD, filepath.Join(root, "d", "a.txt"), unix.AT_FDCWD, filepath.Join(root, "x"), unix.RENAME_EXCHANGE))
		},
		"entry hard-linked in": func(t *testing.T, root string) {
			write(t, filepath.Join(root, "outside.txt"))
			must(t, os.Link(filepath.Join(root, "outside.txt"), filepath.Join(root, "d", "linked.txt")))
		},
		"removed entirely": func(t *testing.T, root string) { must(t, os.RemoveAll(filepath.Join(root, "d"))) },
		"chmod":            func(t *testing.T, root string) { must(t, os.Chmod(filepath.Join(root, "d"), 0o500)) },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
			write(t, filepath.Join(root, "d", "a.txt"))
			l, ref := auditPair(t, root, LocalOptions{})
			listing(l, "/d") // recent
			l.dirs.afterFill = func() {
				l.dirs.afterFill = nil
				change(t, root)
			}
			listing(l, "/d")
			for _, n := range []string{"/d", "/moved"} {
				sameListing(t, "after", l, ref, n)
				sameListing(t, "again", l, ref, n)
			}
		})
	}
}

// TestDirCacheAuditSharedRoots: LocalFS on nested roots, with different hidden
// names, share one cache; each must list what it alone would.
func TestDirCacheAuditSharedRoots(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "sub")
	must(t, os.Mkdir(sub, 0o777))
	for _, n := range []string{"h1", "h2", "plain", tempPrefix + "x"} {
		write(t, filepath.Join(sub, n))
	}
	must(t, os.Mkdir(filepath.Join(sub, "inner"), 0o777))
	must(t, os.Symlink("../sub/plain", filepath.Join(sub, "up"))) // leaves sub's root
	must(t, os.Symlink("plain", filepath.Join(sub, "in")))        // stays inside
	must(t, os.Symlink(filepath.Join(sub, "plain"), filepath.Join(sub, "abs")))
	l1, ref1 := auditPair(t, root, LocalOptions{Hidden: []string{"h1"}})
	l2, ref2 := auditPair(t, sub, LocalOptions{Hidden: []string{"h2"}})
	l2.dirs = l1.dirs // one cache, as in production
	keepDir(t, l1, "/sub")
	sameListing(t, "l2 root via l1's kept folder", l2, ref2, "/")
	keepDir(t, l2, "/")
	sameListing(t, "l1", l1, ref1, "/sub")
	sameListing(t, "l2", l2, ref2, "/")
	// A symlink in l2's root leading to a folder l1 kept.
	must(t, os.Symlink("inner", filepath.Join(sub, "toinner")))
	write(t, filepath.Join(sub, "inner", "i.txt"))
	keepDir(t, l1, "/sub/inner")
	sameListing(t, "l2 through a link", l2, ref2, "/toinner")
	sameListing(t, "l1 through a link", l1, ref1, "/sub/toinner")
}

// TestDirCacheAuditHardLinkedFile: a file of a kept folder changed through a
// hard link elsewhere; the listing's sizes and times must be current.
func TestDirCacheAuditHardLinkedFile(t *testing.T) {
	root := t.TempDir()
	must(t, os.Mkdir(filepath.Join(root, "d"), 0o777))
	write(t, filepath.Join(root, "d", "f"))
	must(t, os.Link(filepath.Join(root, "d", "f"), filepath.Join(root, "g")))
	l, ref := auditPair(t, root, LocalOptions{})
	keepDir(t, l, "/d")
	must(t, os.WriteFile(filepath.Join(root, "g"), []byte("longer content"), 0o666))
	must(t, os.Chtimes(filepath.Join(root, "g"), time.Time{}, time.Unix(12345, 678)))
	sameListing(t, "after", l, ref, "/d")
}

// TestDirCacheAuditQuiescentStress: several goroutines and two LocalFS sharing
// the cache list folders after each change from outside; every listing
// that starts after a change has finished must show it.
func TestDirCacheAuditQuiescentStress(t *testing.T) {
	root := t.TempDir()
	dirs := []string{"a", "b", "a/c"}
	for _, d := range dirs {
		must(t, os.MkdirAll(filepath.Join(root, d), 0o777))
	}
	l, ref := auditPair(t, root, LocalOptions{})
	l2, _ := auditPair(t, root, LocalOptions{})
	l2.dirs = l.dirs
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 400 {
		d := filepath.Join(root, dirs[rng.IntN(len(dirs))])
		es, _ := os.ReadDir(d)
		var files []string
		for _, e := range es {
			if !e.IsDir() {
				files = append(files, e.Name())
			}
		}
		switch {
		case len(files) == 0 || rng.IntN(4) == 0:
			write(t, filepath.Join(d, fmt.Sprintf("f%d", i)))
		case rng.IntN(3) == 0:
			must(t, os.Remove(filepath.Join(d, files[rng.IntN(len(files))])))
		case rng.IntN(2) == 0:
			other := filepath.Join(root, dirs[rng.IntN(len(dirs))], fmt.Sprintf("m%d", i))
			must(t, os.Rename(filepath.Join(d, files[rng.IntN(len(files))]), other))
		default:
			tmp := filepath.Join(root, fmt.Sprintf("tmp%d", i))
			must(t, os.Mkdir(tmp, 0o777))
			must(t, unix.Renameat2(unix.AT_FDCWD, filepath.Join(d, files[rng.IntN(len(files))]), unix.AT_FDCWD, tmp, unix.RENAME_EXCHANGE))
		}
		want := map[string]string{}
		for _, rel := range dirs {
			want[rel] = listing(ref, "/"+rel)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				fs := []*LocalFS{l, l2}[g%2]
				for k := range 3 {
					rel := dirs[(g+k+i)%len(dirs)]
					if got := listing(fs, "/"+rel); got != want[rel] {
						t.Errorf("step %d, goroutine %d: /%s lists\n%s\nwant\n%s", i, g, rel, got, want[rel])
					}
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
	}
	if hits(l) == 0 {
		t.Error("no hits")
	}
	t.Logf("hits %d", hits(l))
}

// --- file cache ---------------------------------------------------------

// fileAnswer is OpenInfo's answer for name with a 64 KiB buffer.
func fileAnswer(t *testing.T, l *LocalFS, name string) string {
	t.Helper()
	f, body, in, err := l.OpenInfo(context.Background(), name, make([]byte, 64<<10))
	return fmt.Sprintf("%s %q %s %s", content(t, f), body, infoString(in), errClass(err))
}

func sameFile(t *testing.T, step string, l, ref *LocalFS, name string) {
	t.Helper()
	got, want := fileAnswer(t, l, name), fileAnswer(t, ref, name)
	if got != want {
		t.Errorf("%s: %s\ncache:    %s\nno cache: %s", step, name, got, want)
	}
}

// keepFile reads name until it is read from the cache (the file's change
// time must be settleTime old first).
func keepFile(t *testing.T, l *LocalFS, name string) {
	t.Helper()
	h := fileHits(l)
	for range 3 {
		fileAnswer(t, l, name)
	}
	if fileHits(l) == h {
		t.Fatalf("%s not read from the cache", name)
	}
}

// TestFileCacheAuditChanges keeps a file with the real settle time, then
// changes it at once in ways meant to keep its description: same size,
// same mtime (set back), same inode where possible.
func TestFileCacheAuditChanges(t *testing.T) {
	const old = "0123456789abcdef"
	cases := map[string]func(t *testing.T, dir, p string){
		"same size pwrite at once": func(t *testing.T, dir, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("ZZZZ"), 0)
			must(t, err)
			must(t, f.Close())
		},
		"same size, mtime set back": func(t *testing.T, dir, p string) {
			var st unix.Stat_t
			must(t, unix.Stat(p, &st))
			must(t, os.WriteFile(p, []byte("FEDCBA9876543210"), 0o644))
			must(t, unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim}))
		},
		"truncate and rewrite": func(t *testing.T, dir, p string) {
			must(t, os.Truncate(p, 0))
			must(t, os.WriteFile(p, []byte("XXXXXXXXXXXXXXXX"), 0o644))
		},
		"renamed over, same size and mtime": func(t *testing.T, dir, p string) {
			var st unix.Stat_t
			must(t, unix.Stat(p, &st))
			q := filepath.Join(dir, "new")
			must(t, os.WriteFile(q, []byte("RENAMED-OVER-IT!"), 0o644))
			must(t, unix.UtimesNano(q, []unix.Timespec{st.Atim, st.Mtim}))
			must(t, os.Rename(q, p))
		},
		"removed, recreated, same size and mtime": func(t *testing.T, dir, p string) {
			var st unix.Stat_t
			must(t, unix.Stat(p, &st))
			must(t, os.Remove(p))
			for i := range 20 { // churn for inode reuse
				write(t, filepath.Join(dir, fmt.Sprintf("churn%d", i)))
				os.Remove(filepath.Join(dir, fmt.Sprintf("churn%d", i)))
			}
			must(t, os.WriteFile(p, []byte("RECREATED-FILE!!"), 0o644))
			must(t, unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim}))
			var nst unix.Stat_t
			must(t, unix.Stat(p, &nst))
			t.Logf("old ino %d new ino %d", st.Ino, nst.Ino)
		},
		"parent replaced": func(t *testing.T, dir, p string) {
			var st unix.Stat_t
			must(t, unix.Stat(p, &st))
			must(t, os.Rename(filepath.Dir(p), filepath.Join(dir, "away")))
			must(t, os.Mkdir(filepath.Dir(p), 0o755))
			must(t, os.WriteFile(p, []byte("IN-A-NEW-PARENT!"), 0o644))
			must(t, unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim}))
		},
		"written through a hard link": func(t *testing.T, dir, p string) {
			q := filepath.Join(dir, "hl")
			must(t, os.Link(p, q))
			must(t, os.WriteFile(q, []byte("VIA-HARD-LINK!!!"), 0o644))
		},
		"mmap write (no time update on a dirty page)": func(t *testing.T, dir, p string) {
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			must(t, err)
			defer f.Close()
			b, err := unix.Mmap(int(f.Fd()), 0, len(old), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			must(t, err)
			copy(b, "MMAP")
			must(t, unix.Munmap(b))
		},
		"punch hole": func(t *testing.T, dir, p string) {
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			must(t, err)
			defer f.Close()
			if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, 0, 4096); err != nil {
				t.Skip("punch hole:", err)
			}
		},
	}
	for fsName, mk := range auditRoots(t) {
		t.Run(fsName, func(t *testing.T) {
			t.Parallel()
			for name, change := range cases {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					dir := mk(t)
					must(t, os.Mkdir(filepath.Join(dir, "a"), 0o755))
					p := filepath.Join(dir, "a", "f")
					must(t, os.WriteFile(p, []byte(old), 0o644))
					l, ref := auditPair(t, dir, LocalOptions{})
					time.Sleep(settleTime + 100*time.Millisecond)
					keepFile(t, l, "/a/f")
					change(t, dir, p)
					sameFile(t, "at once", l, ref, "/a/f")
					sameFile(t, "again", l, ref, "/a/f")
				})
			}
		})
	}
}

// TestFileCacheAuditMmapDirtyPage: a page made dirty through a shared mapping
// before the file is kept, written again through the mapping after (no
// fault, so no time update): the description is unchanged, the content not.
func TestFileCacheAuditMmapDirtyPage(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	must(t, os.WriteFile(p, []byte("original content"), 0o644))
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), 0, 16, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	must(t, err)
	defer unix.Munmap(b)
	copy(b, "ORIGINAL")
	l, ref := auditPair(t, dir, LocalOptions{})
	time.Sleep(settleTime + 100*time.Millisecond)
	keepFile(t, l, "/f")
	var st1, st2 unix.Stat_t
	must(t, unix.Stat(p, &st1))
	copy(b, "CHANGED!")
	must(t, unix.Stat(p, &st2))
	t.Logf("ctime unchanged by the mapped write: %v", st1.Ctim == st2.Ctim)
	sameFile(t, "after mapped write", l, ref, "/f")
}

// TestFileCacheAuditSharedLocalFS: two LocalFS on one folder share the file
// cache; one changes the file through Put, the other reads it.
func TestFileCacheAuditSharedLocalFS(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "f"), []byte("first version..."), 0o644))
	l1, ref := auditPair(t, dir, LocalOptions{})
	l2, _ := auditPair(t, dir, LocalOptions{})
	l2.files = l1.files
	time.Sleep(settleTime + 100*time.Millisecond)
	keepFile(t, l1, "/f")
	_, _, err := l2.Put(context.Background(), "/f", strings.NewReader("second version.."), PutOptions{ExpectedSize: -1})
	must(t, err)
	sameFile(t, "after l2's Put", l1, ref, "/f")
}
