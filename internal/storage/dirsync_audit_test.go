package storage

// Audit tests: attacks on the ordering promises of dirsync.go.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type auditSyncErr struct{ id int64 }

func (e *auditSyncErr) Error() string { return fmt.Sprint("sync ", e.id, " failed") }

type auditSync struct {
	dir        string
	start, end int64
	err        error
}

// TestDirSyncOrdering: many changes on a few folders from many
// goroutines, the syncs taking random time and failing at random. For
// every wait: nil only after a successful sync of its folder that began
// after the change and ended before the wait returned; an error only from
// a failed sync of its folder that began after the change. Also: syncs of
// one folder never overlap. Run with -race.
func TestDirSyncOrdering(t *testing.T) {
	l, _, _ := counted(t)
	var (
		ev      atomic.Int64
		mu      sync.Mutex
		syncs   = map[int64]auditSync{} // by start
		running = map[string]int{}
		overlap atomic.Int32
	)
	l.syncDirTest = func(dir string) error {
		start := ev.Add(1)
		mu.Lock()
		running[dir]++
		if running[dir] > 1 {
			overlap.Add(1)
		}
		mu.Unlock()
		time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		var err error
		if rand.IntN(5) == 0 {
			err = &auditSyncErr{start}
		}
		mu.Lock()
		running[dir]--
		end := ev.Add(1)
		syncs[start] = auditSync{dir, start, end, err}
		mu.Unlock()
		return err
	}
	type result struct {
		dir      string
		pre, ret int64
		err      error
	}
	var (
		wg      sync.WaitGroup
		resMu   sync.Mutex
		results []result
	)
	for w := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 80 {
				dir := fmt.Sprint("d", (w*7+i)%3)
				pre := ev.Add(1)
				wait := l.syncLater(dir)
				if i%3 == 0 {
					time.Sleep(time.Duration(rand.IntN(100)) * time.Microsecond)
				}
				err := wait()
				ret := ev.Add(1)
				resMu.Lock()
				results = append(results, result{dir, pre, ret, err})
				resMu.Unlock()
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("waits hang (lost wakeup?)")
	}
	if n := overlap.Load(); n > 0 {
		t.Errorf("%d syncs of a folder overlapped another of it", n)
	}
	bad := 0
	for _, r := range results {
		if r.err != nil {
			var se *auditSyncErr
			if !errors.As(r.err, &se) {
				t.Errorf("unexpected error %v", r.err)
				continue
			}
			s := syncs[se.id]
			if s.dir != r.dir || s.start < r.pre || s.end > r.ret {
				bad++
				if bad < 5 {
					t.Errorf("change in %s (noted ~%d, returned %d) got the error of sync %+v, which did not run after it", r.dir, r.pre, r.ret, s)
				}
			}
			continue
		}
		ok := false
		for _, s := range syncs {
			if s.dir == r.dir && s.err == nil && s.start > r.pre && s.end < r.ret {
				ok = true
				break
			}
		}
		if !ok {
			bad++
			if bad < 5 {
				t.Errorf("change in %s (noted after %d) returned nil at %d without a successful sync of it in between", r.dir, r.pre, r.ret)
			}
		}
	}
	nfail := 0
	for _, s := range syncs {
		if s.err != nil {
			nfail++
		}
	}
	t.Logf("%d waits, %d syncs, %d failed, %d violations", len(results), len(syncs), nfail, bad)
	if n := l.syncsPending(); n != 0 {
		t.Errorf("%d folders kept after every wait", n)
	}
}

// TestDirSyncFailureCovered: two changes noted before a sync that fails,
// the second's wait joining that sync while it runs, and a third noted
// while it runs: the failure fails both changes it covered (a second sync
// could report success with them never written: Linux reports a failed
// writeback once, to the descriptors open then), and the third syncs
// anew.
func TestDirSyncFailureCovered(t *testing.T) {
	l, c, _ := counted(t)
	c.hold, c.started = make(chan struct{}), make(chan string, 4)
	boom := errors.New("EIO")
	c.fail = boom
	w1, w2 := l.syncLater("a"), l.syncLater("a")
	r1, r2, r3 := make(chan error, 1), make(chan error, 1), make(chan error, 1)
	go func() { r1 <- w1() }()
	<-c.started
	w3 := l.syncLater("a")
	go func() { r2 <- w2() }()
	time.Sleep(20 * time.Millisecond) // w2 now waits on the running sync
	close(c.hold)                     // the held sync fails (c.fail is for one sync only)
	if e1, e2 := <-r1, <-r2; !errors.Is(e1, boom) || !errors.Is(e2, boom) {
		t.Errorf("the changes the failed sync covered: %v and %v, want both %v", e1, e2, boom)
	}
	go func() { r3 <- w3() }()
	if e3 := <-r3; e3 != nil {
		t.Errorf("the change noted during the failed sync: %v, want nil from a sync of its own", e3)
	}
	if n := c.count("a"); n != 2 {
		t.Errorf("%d syncs of a, want 2", n)
	}
	if n := l.syncsPending(); n != 0 {
		t.Errorf("%d folders kept after every wait", n)
	}
}
