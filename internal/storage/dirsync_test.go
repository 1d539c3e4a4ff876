package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// syncCounter stands in for the folder sync: it counts the syncs of each
// folder and can hold them until released.
type syncCounter struct {
	mu      sync.Mutex
	n       map[string]int
	hold    chan struct{} // when set, each sync waits for it to be closed
	started chan string   // when set, each sync sends its folder first
	fail    error         // returned by the next sync (once)
}

func (c *syncCounter) sync(dir string) error {
	if c.started != nil {
		c.started <- dir
	}
	if c.hold != nil {
		<-c.hold
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[dir]++
	err := c.fail
	c.fail = nil
	return err
}

func (c *syncCounter) count(dir string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[dir]
}

func counted(t *testing.T) (*LocalFS, *syncCounter, string) {
	t.Helper()
	root := t.TempDir()
	l, err := NewLocal(root, LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c := &syncCounter{n: map[string]int{}}
	l.syncDirTest = c.sync
	return l, c, root
}

func (l *LocalFS) syncsPending() int {
	l.dsyncs.mu.Lock()
	defer l.dsyncs.mu.Unlock()
	return len(l.dsyncs.m)
}

// TestDirSyncShared: changes noted before a sync starts share it; one
// noted while a sync runs waits for the next; nothing is kept after.
func TestDirSyncShared(t *testing.T) {
	l, c, _ := counted(t)
	var waits []func() error
	for range 100 {
		waits = append(waits, l.syncLater("a"))
	}
	waits = append(waits, l.syncLater("b"))
	for i, w := range waits {
		if err := w(); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
	if a, b := c.count("a"), c.count("b"); a != 1 || b != 1 {
		t.Errorf("syncs: a %d, b %d; want 1 each", a, b)
	}

	// A change noted while a sync runs is not covered by it.
	c.hold, c.started = make(chan struct{}), make(chan string, 4)
	first := l.syncLater("a")
	done1 := make(chan error, 1)
	go func() { done1 <- first() }()
	<-c.started // the sync of the first change runs, held
	second := l.syncLater("a")
	done2 := make(chan error, 1)
	go func() { done2 <- second() }()
	select {
	case err := <-done2:
		t.Fatalf("the second change's wait returned (%v) before any sync after it", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(c.hold)
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	if n := c.count("a"); n != 3 {
		t.Errorf("syncs of a: %d, want 3 (1 + the held one + one after the second change)", n)
	}
	if n := l.syncsPending(); n != 0 {
		t.Errorf("%d folders kept after every wait", n)
	}
}

// TestDirSyncErrors: a failed sync fails the wait that ran it and every
// other change it covered, without a sync again (one would not tell, see
// dirSyncs.wait); a change made after it syncs anew; a folder gone since
// counts as synced.
func TestDirSyncErrors(t *testing.T) {
	l, c, _ := counted(t)
	boom := errors.New("I/O error")
	c.fail = boom
	w1, w2 := l.syncLater("a"), l.syncLater("a")
	if err := w1(); !errors.Is(err, boom) {
		t.Errorf("first wait: %v, want %v", err, boom)
	}
	w3 := l.syncLater("a")
	if err := w2(); !errors.Is(err, boom) {
		t.Errorf("second wait, covered by the failed sync: %v, want %v", err, boom)
	}
	if n := c.count("a"); n != 1 {
		t.Errorf("syncs: %d, want 1", n)
	}
	if err := w3(); err != nil {
		t.Errorf("a change made after the failed sync: %v", err)
	}
	if n := c.count("a"); n != 2 {
		t.Errorf("syncs: %d, want 2", n)
	}
	c.fail = &fs.PathError{Op: "open", Path: "gone", Err: fs.ErrNotExist}
	if err := l.syncLater("gone")(); err != nil {
		t.Errorf("a folder gone: %v", err)
	}
	if n := l.syncsPending(); n != 0 {
		t.Errorf("%d folders kept after every wait", n)
	}
}

// TestDirSyncConcurrent: many waits at once (run it with -race), each
// returning only once a sync has followed its change.
func TestDirSyncConcurrent(t *testing.T) {
	l, c, _ := counted(t)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if err := l.syncLater(fmt.Sprint("d", (w+i)%3))(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := c.count("d0") + c.count("d1") + c.count("d2")
	if total == 0 || total > 16*50 {
		t.Errorf("%d syncs for 800 changes", total)
	}
	if n := l.syncsPending(); n != 0 {
		t.Errorf("%d folders kept after every wait", n)
	}
}

// TestRemoveSyncLater removes 300 files of a folder, each with its wait,
// then waits for all: one sync of the folder, and the files gone.
func TestRemoveSyncLater(t *testing.T) {
	l, c, root := counted(t)
	dir := filepath.Join(root, "f")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var waits []func() error
	for i := range 300 {
		w, err := l.RemoveSyncLater(ctx, fmt.Sprint("/f/", i))
		if err != nil {
			t.Fatal(err)
		}
		waits = append(waits, w)
	}
	for _, w := range waits {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.count("f"); n != 1 {
		t.Errorf("syncs of the folder: %d, want 1", n)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d files left", len(ents))
	}
	if _, err := l.RemoveSyncLater(ctx, "/f/missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a missing name: %v", err)
	}
}

// TestRenameSettles: a folder renamed while a change inside it waits for
// its sync is synced first, under its old name; its wait then has nothing
// left to do.
func TestRenameSettles(t *testing.T) {
	l, c, root := counted(t)
	for _, d := range []string{"a/sub", "other"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a/sub/f", "other/f"} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	wait, err := l.RemoveSyncLater(ctx, "/a/sub/f")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.RemoveSyncLater(ctx, "/other/f")
	if err != nil {
		t.Fatal(err)
	}
	sync, err := l.RenameSyncLater(ctx, "/a", "/b")
	if err != nil {
		t.Fatal(err)
	}
	if n := c.count("a/sub"); n != 1 {
		t.Errorf("syncs of a/sub before the rename: %d, want 1", n)
	}
	if n := c.count("other"); n != 0 {
		t.Errorf("syncs of other, outside the renamed folder: %d, want 0", n)
	}
	for _, w := range []func() error{wait, other, sync} {
		if err := w(); err != nil {
			t.Error(err)
		}
	}
	if n := c.count("a/sub"); n != 1 {
		t.Errorf("syncs of a/sub in all: %d, want 1 (the wait had nothing left)", n)
	}
	if n := l.syncsPending(); n != 0 {
		t.Errorf("%d folders kept after every wait", n)
	}
}
