package props

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// groupDB opens a database with the props bucket and a group on it.
func groupDB(t *testing.T) (*bbolt.DB, *group) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte(BoltBucket))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db, &group{db: db}
}

// queued waits until n writes wait in g's queue.
func queued(t *testing.T, g *group, n int) {
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
		first <- g.update(func(b *bbolt.Bucket) error {
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
			errs[i] = g.update(func(b *bbolt.Bucket) error {
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
		b := tx.Bucket([]byte(BoltBucket))
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
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.busy || len(g.queue) != 0 {
		t.Errorf("after every write: busy %v, %d queued", g.busy, len(g.queue))
	}
}

// TestGroupCommitError checks that a transaction that cannot be made
// (the bucket is gone) fails every write of its group, and that the
// group still works afterwards.
func TestGroupCommitError(t *testing.T) {
	db, g := groupDB(t)
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte(BoltBucket)) }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.update(func(b *bbolt.Bucket) error { return b.Put([]byte{byte(i)}, nil) }); !errors.Is(err, errNoBucket) {
				t.Errorf("write %d: %v, want %v", i, err, errNoBucket)
			}
		}()
	}
	wg.Wait()
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucket([]byte(BoltBucket))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.update(func(b *bbolt.Bucket) error { return b.Put([]byte("k"), []byte("v")) }); err != nil {
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
				if err := g.update(func(b *bbolt.Bucket) error {
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
		if n := tx.Bucket([]byte(BoltBucket)).Stats().KeyN; n != writers*each {
			t.Errorf("%d keys, want %d", n, writers*each)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
