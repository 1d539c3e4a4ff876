package boltgroup

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

const bucket = "b"

// groupDB opens a database with a bucket and a group on it.
func groupDB(t *testing.T) (*bbolt.DB, *Group) {
	t.Helper()
	return groupDBWith(t, bbolt.Options{})
}

// groupDBWith is groupDB with options of the test's own (a MaxSize); the
// timeout and NoSync are set.
func groupDBWith(t *testing.T, opt bbolt.Options) (*bbolt.DB, *Group) {
	t.Helper()
	opt.Timeout, opt.NoSync = time.Second, true
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, &opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte(bucket))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db, New(db, bucket)
}

// queued waits until n writes wait in g's queue.
func queued(t *testing.T, g *Group, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		k := len(g.queue)
		g.mu.Unlock()
		if k >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued after 10 s, want %d", k, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// idle checks that g has no commit under way and nothing queued, as
// after every write has its outcome.
func idle(t *testing.T, g *Group) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy || len(g.queue) != 0 {
		t.Errorf("after every write: busy %v, %d queued", g.busy, len(g.queue))
	}
}

// TestGroupCommit holds a first write in its transaction while others
// queue, then checks that the queued ones commit together in one
// transaction, in the order they came, that a failing or panicking
// write gets its own error and changes nothing, and that every other
// write is committed.
func TestGroupCommit(t *testing.T) {
	db, g := groupDB(t)
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- g.Update(func(b *bbolt.Bucket) error {
			<-release
			return b.Put([]byte("first"), []byte("1"))
		})
	}()
	for { // the first leads: it took itself out of the queue
		g.mu.Lock()
		leading := g.busy && len(g.queue) == 0
		g.mu.Unlock()
		if leading {
			break
		}
		time.Sleep(time.Millisecond)
	}

	const n = 10
	errBad := errors.New("bad write")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		txs  = map[int]int{} // write -> transaction ID of its last run
		errs = make([]error, n)
	)
	for i := range n {
		queuedBefore := i
		queued(t, g, queuedBefore) // one at a time, so the order is known
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.Update(func(b *bbolt.Bucket) error {
				mu.Lock()
				txs[i] = b.Tx().ID()
				mu.Unlock()
				switch i {
				case 3:
					if err := b.Put([]byte("bad"), []byte("x")); err != nil {
						return err
					}
					return errBad
				case 6:
					panic("write 6")
				}
				if err := b.Put(fmt.Appendf(nil, "k%02d", i), []byte("v")); err != nil {
					return err
				}
				return b.Put([]byte("last"), fmt.Appendf(nil, "%d", i))
			})
		}()
	}
	queued(t, g, n)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}

	for i, err := range errs {
		switch i {
		case 3:
			if !errors.Is(err, errBad) {
				t.Errorf("write 3: %v, want its own error", err)
			}
		case 6:
			if err == nil {
				t.Errorf("write 6 panicked and got no error")
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	// The ten queued behind the first commit together, in one transaction
	// (bbolt numbers a write transaction by the commit it would make, so
	// the reruns after 3's and 6's failures count as one; writes
	// committed apart would count as several).
	ids := map[int]bool{}
	for i, id := range txs {
		if i != 3 && i != 6 {
			ids[id] = true
		}
	}
	if len(ids) != 1 {
		t.Errorf("the queued writes last ran in %d transactions, want 1: %v", len(ids), txs)
	}
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		for i := range n {
			got := b.Get(fmt.Appendf(nil, "k%02d", i)) != nil
			if want := i != 3 && i != 6; got != want {
				t.Errorf("write %d kept: %v, want %v", i, got, want)
			}
		}
		if b.Get([]byte("bad")) != nil {
			t.Error("the failed write's change was kept")
		}
		if b.Get([]byte("first")) == nil {
			t.Error("the first write was not kept")
		}
		if got := string(b.Get([]byte("last"))); got != "9" {
			t.Errorf("last = %q, want 9 (the writes run in the order they came)", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	idle(t, g)
}

// TestGroupCommitError checks that a transaction that cannot be made
// (the bucket is gone) fails every write of its group, and that the
// group still works afterwards.
func TestGroupCommitError(t *testing.T) {
	db, g := groupDB(t)
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte(bucket)) }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.Update(func(b *bbolt.Bucket) error { return b.Put([]byte{byte(i)}, nil) }); !errors.Is(err, ErrNoBucket) {
				t.Errorf("write %d: %v, want %v", i, err, ErrNoBucket)
			}
		}()
	}
	wg.Wait()
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte(bucket))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.Update(func(b *bbolt.Bucket) error { return b.Put([]byte("k"), []byte("v")) }); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
}

// TestGroupConcurrent has many writers at once (run it with -race): each
// gets its outcome, nothing is lost, nothing waits forever.
func TestGroupConcurrent(t *testing.T) {
	db, g := groupDB(t)
	const writers, each = 16, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := g.Update(func(b *bbolt.Bucket) error {
					return b.Put(fmt.Appendf(nil, "%02d-%03d", w, i), []byte("v"))
				}); err != nil {
					t.Errorf("writer %d, write %d: %v", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket([]byte(bucket)).Stats().KeyN; n != writers*each {
			t.Errorf("%d keys, want %d", n, writers*each)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestGroupSubmit checks the split of Submit and its wait: writes
// submitted in turn under a caller's lock commit in that order, even
// when the one that leads waits last; nothing commits before the leader
// waits; and every wait gets its outcome.
func TestGroupSubmit(t *testing.T) {
	db, g := groupDB(t)
	const n = 8
	waits := make([]func() error, n)
	for i := range n {
		waits[i] = g.Submit(func(b *bbolt.Bucket) error {
			return b.Put([]byte("last"), fmt.Appendf(nil, "%d", i))
		})
	}
	errs := make(chan error, n)
	for i := n - 1; i >= 1; i-- { // the followers wait first
		go func() { errs <- waits[i]() }()
	}
	time.Sleep(20 * time.Millisecond)
	if err := db.View(func(tx *bbolt.Tx) error {
		if v := tx.Bucket([]byte(bucket)).Get([]byte("last")); v != nil {
			t.Errorf("a write committed before its leader waited: last = %q", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := waits[0](); err != nil {
		t.Fatalf("write 0: %v", err)
	}
	for i := 1; i < n; i++ {
		if err := <-errs; err != nil {
			t.Errorf("a follower: %v", err)
		}
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		if v := string(tx.Bucket([]byte(bucket)).Get([]byte("last"))); v != fmt.Sprint(n-1) {
			t.Errorf("last = %q, want %d (the order submitted)", v, n-1)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	idle(t, g)
}

// TestGroupOneProcessor checks that writers ready together on one
// processor share a commit even when the commit never blocks (a database
// that does not sync): the first yields before it leads, so the others
// queue behind it.
func TestGroupOneProcessor(t *testing.T) {
	_, g := groupDB(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const n = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	txs := map[int]bool{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := g.Update(func(b *bbolt.Bucket) error {
				mu.Lock()
				txs[b.Tx().ID()] = true
				mu.Unlock()
				return b.Put(fmt.Appendf(nil, "k%d", i), []byte("v"))
			}); err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(txs) > 2 {
		t.Errorf("%d writers ready together committed in %d transactions, want at most 2", n, len(txs))
	}
}
