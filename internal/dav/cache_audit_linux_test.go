package dav_test

// The storage caches and the lock table's kept order seen through the
// handler: changes made from outside Davit, or through it, must show in
// the next answer.

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/storage"
)

// TestLockDiscoveryAfterChanges: a PROPFIND of a folder shows its
// members' locks through Below; after a refresh, an unlock, a MOVE and a
// DELETE of locked members, the next PROPFIND must show the change.
func TestLockDiscoveryAfterChanges(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/d")
	for _, f := range []string{"f", "g", "h"} {
		e.put("/d/"+f, "x")
	}
	body := propfindBody("lockdiscovery")
	pf := func() string {
		return e.must(http.StatusMultiStatus, "PROPFIND", "/d/", body, "Depth", "1").Body.String()
	}
	tf := e.lock("/d/f", "0", lockExclusive)
	tg := e.lock("/d/g", "0", lockExclusive)
	th := e.lock("/d/h", "0", lockExclusive)
	if s := pf(); strings.Count(s, "Second-") != 3 {
		t.Fatalf("first PROPFIND: %d timeouts\n%s", strings.Count(s, "Second-"), s)
	}
	pf()
	// Refresh f.
	w := e.do("LOCK", "/d/f", "", "If", "(<"+tf+">)", "Timeout", "Second-1234")
	if w.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", w.Code, w.Body)
	}
	if s := pf(); !strings.Contains(s, "Second-1234") && !strings.Contains(s, "Second-1233") {
		t.Errorf("after refresh the PROPFIND shows no new timeout:\n%s", s)
	}
	// Unlock g.
	e.must(http.StatusNoContent, "UNLOCK", "/d/g", "", "Lock-Token", "<"+tg+">")
	if s := pf(); strings.Contains(s, tg) {
		t.Errorf("after unlock the PROPFIND still shows g's lock")
	}
	// Move h away (its lock stays behind, and goes).
	w = e.do("MOVE", "/d/h", "", "Destination", "/d/h2", "If", "(<"+th+">)")
	if w.Code != http.StatusCreated {
		t.Fatalf("MOVE: %d %s", w.Code, w.Body)
	}
	if s := pf(); strings.Contains(s, th) {
		t.Errorf("after MOVE the PROPFIND still shows h's lock:\n%s", s)
	}
	// Delete f (locked).
	e.must(http.StatusNoContent, "DELETE", "/d/f", "", "If", "(<"+tf+">)")
	if s := pf(); strings.Contains(s, tf) {
		t.Errorf("after DELETE the PROPFIND still shows f's lock")
	}
	// A new lock below.
	tn := e.lock("/d/h2", "0", lockExclusive)
	if s := pf(); !strings.Contains(s, tn) {
		t.Errorf("new lock not shown")
	}
}

// localEnv is a handler on a LocalFS of dir with the production caches
// (the process's shared folder and file caches, real settle time).
func localEnv(t *testing.T, dir string) *env {
	t.Helper()
	l, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if !l.KeepsFiles() || !l.KeepsFolders() {
		t.Fatalf("no caches on %s", dir)
	}
	return newEnv(t, func(c *dav.Config) { c.FS = l })
}

// TestGetSeesExternalChanges: GET of a small file kept open by the
// production file cache, changed from outside in ways that keep its size
// (and, where possible, its mtime and inode) at once after a cached read.
func TestGetSeesExternalChanges(t *testing.T) {
	cases := map[string]func(t *testing.T, dir, p string) string{
		"in place": func(t *testing.T, dir, p string) string {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.WriteAt([]byte("BBBB"), 0)
			noErr(t, err)
			noErr(t, f.Close())
			return "BBBBcontent-0001"
		},
		"renamed over, mtime set back": func(t *testing.T, dir, p string) string {
			var st unix.Stat_t
			noErr(t, unix.Stat(p, &st))
			q := filepath.Join(dir, "q")
			noErr(t, os.WriteFile(q, []byte("other-content-02"), 0o644))
			noErr(t, unix.UtimesNano(q, []unix.Timespec{st.Atim, st.Mtim}))
			noErr(t, os.Rename(q, p))
			return "other-content-02"
		},
		"recreated, mtime set back": func(t *testing.T, dir, p string) string {
			var st unix.Stat_t
			noErr(t, unix.Stat(p, &st))
			noErr(t, os.Remove(p))
			noErr(t, os.WriteFile(p, []byte("recreated-cont03"), 0o644))
			noErr(t, unix.UtimesNano(p, []unix.Timespec{st.Atim, st.Mtim}))
			return "recreated-cont03"
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			p := filepath.Join(dir, "f.txt")
			if err := os.WriteFile(p, []byte("AAAAcontent-0001"), 0o644); err != nil {
				t.Fatal(err)
			}
			e := localEnv(t, dir)
			time.Sleep(1100 * time.Millisecond)
			for range 3 {
				if got, _ := e.content("/f.txt"); got != "AAAAcontent-0001" {
					t.Fatalf("GET: %q", got)
				}
			}
			want := change(t, dir, p)
			if got, _ := e.content("/f.txt"); got != want {
				t.Errorf("GET after the change: %q, want %q", got, want)
			}
		})
	}
}

// TestPropfindSeesExternalChanges: a PROPFIND Depth 1 of a folder kept by
// the production folder cache after changes from outside.
func TestPropfindSeesExternalChanges(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	noErr(t, os.Mkdir(d, 0o755))
	noErr(t, os.WriteFile(filepath.Join(d, "a"), []byte("a"), 0o644))
	e := localEnv(t, dir)
	list := func() []string {
		return hrefs(ms(t, e.must(http.StatusMultiStatus, "PROPFIND", "/d/", propfindBody("getetag"), "Depth", "1")))
	}
	for range 3 {
		list()
	}
	steps := []func(){
		func() { noErr(t, os.WriteFile(filepath.Join(d, "b"), []byte("b"), 0o644)) },
		func() { noErr(t, os.Remove(filepath.Join(d, "a"))) },
		func() {
			noErr(t, os.Rename(d, filepath.Join(dir, "moved")))
			noErr(t, os.Mkdir(d, 0o755))
			noErr(t, os.WriteFile(filepath.Join(d, "c"), nil, 0o644))
		},
		func() { noErr(t, os.Mkdir(filepath.Join(d, "sub"), 0o755)) },
		func() {
			noErr(t, os.Mkdir(filepath.Join(dir, "x"), 0o755))
			noErr(t, unix.Renameat2(unix.AT_FDCWD, filepath.Join(d, "c"), unix.AT_FDCWD, filepath.Join(dir, "x"), unix.RENAME_EXCHANGE))
		},
	}
	for i, step := range steps {
		list()
		step()
		got := list()
		es, err := os.ReadDir(d)
		noErr(t, err)
		want := []string{"/d/"}
		for _, e := range es {
			n := "/d/" + e.Name()
			if e.IsDir() {
				n += "/"
			}
			want = append(want, n)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("step %d: PROPFIND lists %q, folder holds %q", i, got, want)
		}
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
