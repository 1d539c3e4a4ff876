package boltgroup

// Audit tests: attacks on the documented promises of Group.

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// holdLeader starts a write that leads and holds its transaction until
// the returned release is called; it returns once the leader has taken
// itself out of the queue.
func holdLeader(t *testing.T, g *Group) (release func() error) {
	t.Helper()
	rel := make(chan struct{})
	res := make(chan error, 1)
	go func() {
		res <- g.Update(func(b *bbolt.Bucket) error {
			<-rel
			return appendLog(b, "L")
		})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g.mu.Lock()
		leading := g.busy && len(g.queue) == 0
		g.mu.Unlock()
		if leading {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no leader after 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	return func() error { close(rel); return <-res }
}

func appendLog(b *bbolt.Bucket, s string) error {
	old := b.Get([]byte("log"))
	v := append(bytes.Clone(old), s...)
	v = append(v, ',')
	return b.Put([]byte("log"), v)
}

func readLog(t *testing.T, db *bbolt.DB) string {
	t.Helper()
	var s string
	if err := db.View(func(tx *bbolt.Tx) error {
		s = string(tx.Bucket([]byte(bucket)).Get([]byte("log")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGroupAuditFailuresInGroup queues writes behind a held leader, several of
// which fail (first of the group, middle, consecutive, last) or panic
// (including panic(nil)), and checks: each failing write gets its own
// error, no later write sees a failed write's effect, the stored order is
// the submitted one minus the failures, and the run counts are those of
// "re-run without it".
func TestGroupAuditFailuresInGroup(t *testing.T) {
	db, g := groupDB(t)
	release := holdLeader(t, g)
	const n = 12
	fails := map[int]string{0: "err", 4: "err", 5: "panic", 6: "nilpanic", 11: "err"}
	var (
		mu     sync.Mutex
		runs   = make([]int, n)
		sawBad = make([]bool, n)
		errs   = make([]error, n)
		wg     sync.WaitGroup
	)
	for i := range n {
		queued(t, g, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.Update(func(b *bbolt.Bucket) error {
				mu.Lock()
				runs[i]++
				mu.Unlock()
				if b.Get([]byte("bad")) != nil {
					mu.Lock()
					sawBad[i] = true
					mu.Unlock()
				}
				if k, ok := fails[i]; ok {
					if err := b.Put([]byte("bad"), []byte(fmt.Sprint(i))); err != nil {
						return err
					}
					if err := appendLog(b, fmt.Sprint(i)); err != nil {
						return err
					}
					switch k {
					case "panic":
						panic(fmt.Sprint("write ", i))
					case "nilpanic":
						panic(nil)
					}
					return fmt.Errorf("write %d fails", i)
				}
				return appendLog(b, fmt.Sprint(i))
			})
		}()
	}
	queued(t, g, n)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	var want []string
	for i := range n {
		if _, ok := fails[i]; ok {
			if errs[i] == nil {
				t.Errorf("write %d (%s) got no error", i, fails[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("write %d: %v", i, errs[i])
		}
		want = append(want, fmt.Sprint(i))
		if sawBad[i] {
			t.Errorf("write %d saw a failed write's change", i)
		}
	}
	if got, w := readLog(t, db), "L,"+strings.Join(want, ",")+","; got != w {
		t.Errorf("log %q, want %q", got, w)
	}
	// Expected run counts: a write runs once per pass that reaches it.
	// Passes: fail at 0; fail at 4; at 5; at 6; at 11; then the commit.
	failAt := []int{0, 4, 5, 6, 11}
	for i := range n {
		exp := 0
		for _, f := range failAt {
			if i <= f {
				exp++
			}
			if i == f {
				break
			}
		}
		if _, ok := fails[i]; !ok {
			exp++ // the final, committing pass
		}
		if runs[i] != exp {
			t.Errorf("write %d ran %d times, want %d", i, runs[i], exp)
		}
	}
	t.Logf("runs %v errs[6]=%v", runs, errs[6])
	idle(t, g)
}

// TestGroupAuditOrderConcurrent submits under a caller's lock (fixing the
// order), from many goroutines, some writes failing, while a reader
// checks that every state it sees is a prefix of the final one. Run with
// -race, and with GOMAXPROCS=1.
func TestGroupAuditOrderConcurrent(t *testing.T) {
	for _, procs := range []int{0, 1} {
		t.Run(fmt.Sprint("procs", procs), func(t *testing.T) {
			if procs > 0 {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			}
			db, g := groupDB(t)
			var (
				order   sync.Mutex
				seq     int
				resMu   sync.Mutex
				okSeq   = map[int]bool{}
				wg      sync.WaitGroup
				stop    = make(chan struct{})
				snaps   []string
				readerW sync.WaitGroup
			)
			readerW.Add(1)
			go func() {
				defer readerW.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					snaps = append(snaps, readLog(t, db))
					runtime.Gosched()
				}
			}()
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 100 {
						order.Lock()
						s := seq
						seq++
						wait := g.Submit(func(b *bbolt.Bucket) error {
							if err := appendLog(b, fmt.Sprint(s)); err != nil {
								return err
							}
							if s%7 == 3 {
								return errors.New("fail")
							}
							if s%11 == 5 {
								panic("boom")
							}
							return nil
						})
						order.Unlock()
						err := wait()
						shouldFail := s%7 == 3 || s%11 == 5
						if (err != nil) != shouldFail {
							t.Errorf("write %d: %v", s, err)
						}
						resMu.Lock()
						okSeq[s] = err == nil
						resMu.Unlock()
					}
				}()
			}
			wg.Wait()
			close(stop)
			readerW.Wait()
			var want strings.Builder
			for s := range seq {
				if okSeq[s] {
					fmt.Fprintf(&want, "%d,", s)
				}
			}
			final := readLog(t, db)
			if final != want.String() {
				t.Errorf("final log differs from the submitted order minus failures\n got %.200q\nwant %.200q", final, want.String())
			}
			for _, s := range snaps {
				if !strings.HasPrefix(final, s) {
					t.Errorf("a state seen is not a prefix of the final one: %.100q", s)
					break
				}
			}
			idle(t, g)
		})
	}
}

// TestGroupAuditBeyondMaxGroup queues more than maxGroup writes with failures
// on both sides of the boundary.
func TestGroupAuditBeyondMaxGroup(t *testing.T) {
	db, g := groupDB(t)
	release := holdLeader(t, g)
	const n = 300
	waits := make([]func() error, n)
	for i := range n {
		waits[i] = g.Submit(func(b *bbolt.Bucket) error {
			if err := appendLog(b, fmt.Sprint(i)); err != nil {
				return err
			}
			if i == 0 || i == 127 || i == 128 || i == 299 {
				return errors.New("fail")
			}
			return nil
		})
	}
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- waits[i]() }()
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	nerr := 0
	for range n {
		if <-errs != nil {
			nerr++
		}
	}
	if nerr != 4 {
		t.Errorf("%d errors, want 4", nerr)
	}
	var want strings.Builder
	want.WriteString("L,")
	for i := range n {
		if i != 0 && i != 127 && i != 128 && i != 299 {
			fmt.Fprintf(&want, "%d,", i)
		}
	}
	if got := readLog(t, db); got != want.String() {
		t.Errorf("log differs\n got %.300q\nwant %.300q", got, want.String())
	}
	idle(t, g)
}

// TestGroupAuditClosedMidway closes the database while a commit is under way
// and writes are queued: they must get an error and nothing may hang;
// writes after also fail at once.
func TestGroupAuditClosedMidway(t *testing.T) {
	db, g := groupDB(t)
	file := db.Path()
	release := holdLeader(t, g)
	const n = 5
	errs := make([]chan error, n)
	for i := range n {
		queued(t, g, i)
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- g.Update(func(b *bbolt.Bucket) error { return appendLog(b, fmt.Sprint(i)) }) }()
	}
	queued(t, g, n)
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	time.Sleep(20 * time.Millisecond) // Close waits for the write transaction
	if err := release(); err != nil {
		t.Logf("leader: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	timeout := time.After(10 * time.Second)
	var ok []string
	for i := range n {
		select {
		case err := <-errs[i]:
			// The next leader may take bbolt's lock before Close does
			// (sync.Mutex barging): then the group commits, legitimately.
			switch {
			case err == nil:
				ok = append(ok, fmt.Sprint(i))
			case !errors.Is(err, bolterrors.ErrDatabaseNotOpen):
				t.Errorf("queued write after close: %v, want ErrDatabaseNotOpen", err)
			}
		case <-timeout:
			t.Fatal("queued writes hang after the database closed")
		}
	}
	if err := g.Update(func(b *bbolt.Bucket) error { return nil }); err == nil {
		t.Error("write after close succeeded")
	}
	idle(t, g)
	db2, err := bbolt.Open(file, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	want := "L,"
	if len(ok) > 0 {
		want += strings.Join(ok, ",") + ","
	}
	if got := readLog(t, db2); got != want {
		t.Errorf("stored %q, want %q (the writes told they succeeded)", got, want)
	}
}

// TestGroupAuditCommitFails makes tx.Commit itself fail (MaxSize reached) for
// a whole group: every write of it gets the commit error, nothing of it is
// stored, and the group still works for small writes afterwards.
func TestGroupAuditCommitFails(t *testing.T) {
	db, g := groupDBWith(t, bbolt.Options{MaxSize: 1 << 20})
	release := holdLeader(t, g)
	const n = 4
	errs := make(chan error, n)
	for i := range n {
		queued(t, g, i)
		go func() {
			errs <- g.Update(func(b *bbolt.Bucket) error {
				return b.Put(fmt.Appendf(nil, "big%d", i), make([]byte, 400<<10))
			})
		}()
	}
	queued(t, g, n)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	nerr := 0
	for range n {
		if err := <-errs; err != nil {
			nerr++
			t.Logf("write: %v", err)
		}
	}
	if nerr != n {
		t.Errorf("%d of %d writes of a group whose commit failed got an error", nerr, n)
	}
	if err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucket))
		for i := range n {
			if b.Get(fmt.Appendf(nil, "big%d", i)) != nil && nerr == n {
				t.Errorf("big%d stored though its commit failed", i)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := g.Update(func(b *bbolt.Bucket) error { return b.Put([]byte("small"), []byte("v")) }); err != nil {
		t.Errorf("small write after the failed commit: %v", err)
	}
	idle(t, g)
}

// TestGroupAuditGoexit: a write whose function calls runtime.Goexit (as
// t.FailNow does) from the leader's goroutine. safely recovers panics
// only, so does the rest of the group, and every later write, hang?
func TestGroupAuditGoexit(t *testing.T) {
	_, g := groupDB(t)
	release := holdLeader(t, g)
	errs := make(chan error, 3)
	for i := range 3 {
		queued(t, g, i)
		go func() {
			errs <- g.Update(func(b *bbolt.Bucket) error {
				if i == 0 {
					runtime.Goexit()
				}
				return b.Put([]byte{byte(i)}, nil)
			})
		}()
	}
	queued(t, g, 3)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	got := 0
	timeout := time.After(2 * time.Second)
	for got < 2 {
		select {
		case <-errs:
			got++
		case <-timeout:
			t.Fatalf("after a write's Goexit, %d of the 2 other writes of its group got an outcome; the rest hang (busy=%v)", got, g.busy)
		}
	}
}

// TestGroupAuditFailureBeforeCommit: write F fails because of what write E,
// before it in the group, did. F's error must not be sent before the
// group's re-run commits E, or F's caller, reading right after its error,
// would not see the E its failure was decided on.
func TestGroupAuditFailureBeforeCommit(t *testing.T) {
	db, g := groupDB(t)
	release := holdLeader(t, g)
	errConflict := errors.New("x exists")
	observed := make(chan struct{})
	var runsE int
	eDone := make(chan error, 1)
	queued(t, g, 0)
	go func() {
		eDone <- g.Update(func(b *bbolt.Bucket) error {
			runsE++
			if runsE > 1 {
				select { // hold the re-run until F's caller has looked
				case <-observed:
				case <-time.After(300 * time.Millisecond): // F is answered after the commit now
				}
			}
			return b.Put([]byte("x"), []byte("E"))
		})
	}()
	queued(t, g, 1)
	fDone := make(chan bool, 1)
	go func() {
		err := g.Update(func(b *bbolt.Bucket) error {
			if b.Get([]byte("x")) != nil {
				return errConflict
			}
			return b.Put([]byte("x"), []byte("F"))
		})
		if !errors.Is(err, errConflict) {
			t.Errorf("F: %v", err)
		}
		var seen bool
		db.View(func(tx *bbolt.Tx) error { seen = tx.Bucket([]byte(bucket)).Get([]byte("x")) != nil; return nil })
		close(observed)
		fDone <- seen
	}()
	queued(t, g, 2)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	seen := <-fDone
	if err := <-eDone; err != nil {
		t.Fatal(err)
	}
	if !seen {
		t.Errorf("F returned its error (caused by E's change) before E was committed: a read right after F's error does not see E")
	}
}

// TestGroupAuditFailureThenCommitFails: as above, but E's commit then fails:
// F was failed on account of a change that never happened.
func TestGroupAuditFailureThenCommitFails(t *testing.T) {
	_, g := groupDBWith(t, bbolt.Options{MaxSize: 1 << 20})
	release := holdLeader(t, g)
	errConflict := errors.New("x exists")
	eDone, fDone := make(chan error, 1), make(chan error, 1)
	go func() {
		eDone <- g.Update(func(b *bbolt.Bucket) error {
			if err := b.Put([]byte("big"), make([]byte, 2<<20)); err != nil {
				return err
			}
			return b.Put([]byte("x"), []byte("E"))
		})
	}()
	queued(t, g, 1)
	go func() {
		fDone <- g.Update(func(b *bbolt.Bucket) error {
			if b.Get([]byte("x")) != nil {
				return errConflict
			}
			return b.Put([]byte("x"), []byte("F"))
		})
	}()
	queued(t, g, 2)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	eErr, fErr := <-eDone, <-fDone
	t.Logf("E: %v; F: %v", eErr, fErr)
	if eErr != nil && errors.Is(fErr, errConflict) {
		t.Errorf("F failed with %q, decided on E's change, but E never committed (%v)", fErr, eErr)
	}
}
