package lock_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/lock/locktest"
)

func openDB(t testing.TB, file string, noSync bool) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(file, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: noSync})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newBolt(t testing.TB, db *bbolt.DB, opt lock.Options) *lock.Bolt {
	t.Helper()
	b, err := lock.NewBolt(db, opt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMemory(t *testing.T) {
	locktest.Run(t, func(t *testing.T, now func() time.Time) lock.Manager {
		return lock.NewMemory(lock.Options{Now: now})
	})
}

func TestBolt(t *testing.T) {
	locktest.Run(t, func(t *testing.T, now func() time.Time) lock.Manager {
		db := openDB(t, filepath.Join(t.TempDir(), "locks.db"), true)
		t.Cleanup(func() { db.Close() })
		return newBolt(t, db, lock.Options{Now: now})
	})
}

func TestBoltReopen(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "locks.db")
	clk := locktest.NewClock()
	opt := lock.Options{Now: clk.Now}
	db := openDB(t, file, false)
	m := newBolt(t, db, opt)
	keep, err := m.Create(ctx, lock.Lock{Root: "/a", Depth: lock.Infinity, Exclusive: true,
		Owner: []byte("<href>me</href>"), Principal: "alice", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	short, err := m.Create(ctx, lock.Lock{Root: "/b", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := m.Create(ctx, lock.Lock{Root: "/c", Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(ctx, gone.Token); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := m.Create(ctx, lock.Lock{Root: "/d"}); err == nil {
		t.Error("Create on a closed database succeeded")
	}

	clk.Advance(time.Minute)
	db = openDB(t, file, false)
	defer db.Close()
	m = newBolt(t, db, opt)
	got, err := m.Get(ctx, keep.Token)
	if err != nil {
		t.Fatal(err)
	}
	if got.Root != keep.Root || got.Depth != keep.Depth || !got.Exclusive || string(got.Owner) != string(keep.Owner) ||
		got.Principal != keep.Principal || got.Timeout != keep.Timeout || !got.Expires.Equal(keep.Expires) {
		t.Errorf("reloaded %+v, want %+v", got, keep)
	}
	for _, tok := range []string{short.Token, gone.Token} {
		if _, err := m.Get(ctx, tok); !errors.Is(err, lock.ErrNoSuchLock) {
			t.Errorf("Get(%s) after reload = %v, want ErrNoSuchLock", tok, err)
		}
	}
	if _, err := m.Create(ctx, lock.Lock{Root: "/a/x"}); !errors.Is(err, lock.ErrLocked) {
		t.Errorf("reloaded lock does not conflict: %v", err)
	}
	db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket([]byte(lock.BoltBucket)).Stats().KeyN; n != 1 {
			t.Errorf("%d keys on disk after load, want 1 (expired dropped)", n)
		}
		return nil
	})
}

func TestOptions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		max, req, want time.Duration
	}{
		{0, 0, lock.DefaultMaxTimeout},
		{0, 2 * time.Hour, lock.DefaultMaxTimeout},
		{0, time.Minute, time.Minute},
		{time.Minute, 0, time.Minute},
		{time.Minute, time.Second, time.Second},
		{-1, 0, 0},
		{-1, 100 * time.Hour, 100 * time.Hour},
	}
	for _, tt := range tests {
		m := lock.NewMemory(lock.Options{MaxTimeout: tt.max})
		l, err := m.Create(ctx, lock.Lock{Root: "/", Timeout: tt.req})
		if err != nil {
			t.Fatal(err)
		}
		if l.Timeout != tt.want || l.Expires.IsZero() != (tt.want == 0) {
			t.Errorf("max %v req %v: granted %v until %v, want %v", tt.max, tt.req, l.Timeout, l.Expires, tt.want)
		}
		r, err := m.Refresh(ctx, l.Token, tt.req)
		if err != nil || r.Timeout != tt.want {
			t.Errorf("max %v req %v: refresh granted %v, %v", tt.max, tt.req, r.Timeout, err)
		}
	}
	l, _ := lock.NewMemory(lock.Options{}).Create(ctx, lock.Lock{Root: "/"})
	if !strings.HasPrefix(l.Token, "urn:uuid:") || len(l.Token) != len("urn:uuid:")+36 {
		t.Errorf("default token %q", l.Token)
	}
	m := lock.NewMemory(lock.Options{NewToken: func() string { return "opaquelocktoken:1" }})
	if l, _ := m.Create(ctx, lock.Lock{Root: "/a"}); l.Token != "opaquelocktoken:1" {
		t.Errorf("NewToken ignored: %q", l.Token)
	}
	if _, err := m.Create(ctx, lock.Lock{Root: "/b"}); err == nil {
		t.Error("duplicate token accepted")
	}
}

// BenchmarkCreateUnlock is litmus's lockbomb: LOCK then UNLOCK, in a row.
func BenchmarkCreateUnlock(b *testing.B) {
	run := func(b *testing.B, m lock.Manager) {
		ctx := context.Background()
		// Some unrelated locks, so the index is not empty.
		for _, p := range []string{"/x", "/y/z", "/lockbomb/other"} {
			if _, err := m.Create(ctx, lock.Lock{Root: p, Exclusive: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			l, err := m.Create(ctx, lock.Lock{Root: "/lockbomb/file", Exclusive: true, Timeout: time.Hour,
				Owner: []byte("<D:href>litmus</D:href>")})
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(ctx, l.Token); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("Memory", func(b *testing.B) { run(b, lock.NewMemory(lock.Options{})) })
	for _, noSync := range []bool{true, false} {
		name := "Bolt"
		if noSync {
			name = "BoltNoSync"
		}
		b.Run(name, func(b *testing.B) {
			db := openDB(b, filepath.Join(b.TempDir(), "locks.db"), noSync)
			defer db.Close()
			run(b, newBolt(b, db, lock.Options{}))
		})
	}
	// Eight clients at once, each on its own file, as the lock workload
	// of bench-peers: their changes share commits (boltgroup).
	b.Run("BoltNoSync8", func(b *testing.B) {
		db := openDB(b, filepath.Join(b.TempDir(), "locks.db"), true)
		defer db.Close()
		m := newBolt(b, db, lock.Options{})
		ctx := context.Background()
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			p := "/lockbomb/file" + strconv.FormatInt(next.Add(1), 10)
			for pb.Next() {
				l, err := m.Create(ctx, lock.Lock{Root: p, Exclusive: true, Timeout: time.Hour,
					Owner: []byte("<D:href>litmus</D:href>")})
				if err != nil {
					b.Error(err)
					return
				}
				if err := m.Unlock(ctx, l.Token); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkLookup guards the lock lookups every request pays: Covering
// (the If header check of each write, lockdiscovery, a Depth 0 PROPFIND)
// and Below (DELETE, MOVE, a listing's page), with 1,000 unrelated locks
// held elsewhere, one infinite-depth lock on an ancestor and one on the
// resource itself, and a folder of 100 locked files (Below/100: a listing
// of documents open in Office). Each case checks what it finds once, so a
// lookup that finds too much or too little fails the benchmark.
func BenchmarkLookup(b *testing.B) {
	run := func(b *testing.B, m lock.Manager) {
		ctx := context.Background()
		for i := range 1000 {
			p := "/other/u" + strconv.Itoa(i%50) + "/f" + strconv.Itoa(i)
			if _, err := m.Create(ctx, lock.Lock{Root: p, Timeout: time.Hour}); err != nil {
				b.Fatal(err)
			}
		}
		for _, l := range []lock.Lock{
			{Root: "/projects", Depth: lock.Infinity, Timeout: time.Hour},
			{Root: "/projects/2026/report.pdf", Timeout: time.Hour},
		} {
			if _, err := m.Create(ctx, l); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 100 { // a folder of documents open in Office
			if _, err := m.Create(ctx, lock.Lock{Root: "/office/doc" + strconv.Itoa(i) + ".docx", Timeout: time.Hour}); err != nil {
				b.Fatal(err)
			}
		}
		for _, tc := range []struct {
			name string
			p    string
			find func(context.Context, string) ([]lock.Lock, error)
			want int
		}{
			{"Covering/locked", "/projects/2026/report.pdf", m.Covering, 2},
			{"Covering/unlocked", "/public/readme.txt", m.Covering, 0},
			{"Below/folder", "/projects/2026", m.Below, 1},
			{"Below/unlocked", "/public", m.Below, 0},
			{"Below/100", "/office", m.Below, 100},
		} {
			b.Run(tc.name, func(b *testing.B) {
				if ls, err := tc.find(ctx, tc.p); err != nil || len(ls) != tc.want {
					b.Fatalf("%s(%s): %d locks, %v; want %d", tc.name, tc.p, len(ls), err, tc.want)
				}
				b.ReportAllocs()
				for b.Loop() {
					tc.find(ctx, tc.p)
				}
			})
		}
	}
	b.Run("Memory", func(b *testing.B) { run(b, lock.NewMemory(lock.Options{})) })
	b.Run("Bolt", func(b *testing.B) {
		db := openDB(b, filepath.Join(b.TempDir(), "locks.db"), true)
		defer db.Close()
		run(b, newBolt(b, db, lock.Options{}))
	})
}

// TestBoltSweep checks that expired locks nobody touches again still leave
// the database.
func TestBoltSweep(t *testing.T) {
	ctx := context.Background()
	clk := locktest.NewClock()
	db := openDB(t, filepath.Join(t.TempDir(), "locks.db"), true)
	defer db.Close()
	m := newBolt(t, db, lock.Options{Now: clk.Now})
	for _, p := range []string{"/a", "/b/c", "/d"} {
		if _, err := m.Create(ctx, lock.Lock{Root: p, Timeout: time.Second}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	if _, err := m.Create(ctx, lock.Lock{Root: "/e"}); err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket([]byte(lock.BoltBucket)).Stats().KeyN; n != 1 {
			t.Errorf("%d keys on disk after sweep, want 1", n)
		}
		return nil
	})
}

// TestBoltRefusedCleans checks a Create refused by a live lock that met
// an expired one on the way: the expired one is removed from the
// database, and the refusal waits for that, so the store is free for the
// next change (a removal staged and never waited for would hold every
// later one).
func TestBoltRefusedCleans(t *testing.T) {
	ctx := context.Background()
	clk := locktest.NewClock()
	db := openDB(t, filepath.Join(t.TempDir(), "locks.db"), true)
	defer db.Close()
	m := newBolt(t, db, lock.Options{Now: clk.Now})
	if _, err := m.Create(ctx, lock.Lock{Root: "/a/c", Exclusive: true, Timeout: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, lock.Lock{Root: "/a/b", Exclusive: true, Timeout: time.Second}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second) // /a/b expires; no sweep is due yet
	for i := range 3 {
		if _, err := m.Create(ctx, lock.Lock{Root: "/a", Depth: lock.Infinity, Exclusive: true}); !errors.Is(err, lock.ErrLocked) {
			t.Fatalf("try %d: a lock over a locked member: %v, want ErrLocked", i, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := m.Create(ctx, lock.Lock{Root: "/z"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Create after the refusals is still waiting after 10 s")
	}
	db.View(func(tx *bbolt.Tx) error {
		if n := tx.Bucket([]byte(lock.BoltBucket)).Stats().KeyN; n != 2 {
			t.Errorf("%d keys on disk, want 2 (/a/c and /z)", n)
		}
		return nil
	})
}

// TestBoltConcurrentMatchesStore has many clients lock, refresh, unlock
// and remove trees at once (run it with -race), then checks that what
// the database holds is what the index holds: a Bolt loaded from it
// finds the same locks. The changes are staged in the index and stored
// after the index's mutex is released, so an order lost between the two
// would leave them apart.
func TestBoltConcurrentMatchesStore(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, filepath.Join(t.TempDir(), "locks.db"), true)
	defer db.Close()
	m := newBolt(t, db, lock.Options{})
	paths := []string{"/a", "/a/b", "/a/b/c", "/a/d", "/e", "/e/f"}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var held []string
			for range 300 {
				p := paths[rng.IntN(len(paths))]
				switch r := rng.IntN(10); {
				case r < 4:
					depth := 0
					if rng.IntN(2) == 0 {
						depth = lock.Infinity
					}
					l, err := m.Create(ctx, lock.Lock{Root: p, Depth: depth, Exclusive: rng.IntN(2) == 0, Timeout: time.Hour})
					if err == nil {
						held = append(held, l.Token)
					} else if !errors.Is(err, lock.ErrLocked) {
						t.Error(err)
						return
					}
				case r < 6 && len(held) > 0:
					if _, err := m.Refresh(ctx, held[rng.IntN(len(held))], time.Duration(1+rng.IntN(60))*time.Minute); err != nil && !errors.Is(err, lock.ErrNoSuchLock) {
						t.Error(err)
						return
					}
				case r < 9 && len(held) > 0:
					i := rng.IntN(len(held))
					if err := m.Unlock(ctx, held[i]); err != nil && !errors.Is(err, lock.ErrNoSuchLock) {
						t.Error(err)
						return
					}
					held = append(held[:i], held[i+1:]...)
				default:
					if err := m.RemoveTree(ctx, p); err != nil {
						t.Error(err)
						return
					}
				}
			}
			// One lock each that no tree removal reaches, so the end
			// state is never empty, made while the others still work.
			if _, err := m.Create(ctx, lock.Lock{Root: "/z/w" + strconv.Itoa(w), Timeout: time.Hour}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	all := func(m lock.Manager) map[string]lock.Lock {
		got := map[string]lock.Lock{}
		at, _ := m.Covering(ctx, "/")
		below, _ := m.Below(ctx, "/")
		for _, l := range append(at, below...) {
			got[l.Token] = l
		}
		return got
	}
	want := all(m)
	got := all(newBolt(t, db, lock.Options{}))
	if len(want) < 16 {
		t.Fatalf("%d locks held at the end, want at least the 16 under /z", len(want))
	}
	if len(got) != len(want) {
		t.Errorf("the database holds %d locks, the index %d", len(got), len(want))
	}
	for tok, w := range want {
		g, ok := got[tok]
		if !ok || g.Root != w.Root || g.Depth != w.Depth || g.Exclusive != w.Exclusive || !g.Expires.Equal(w.Expires) {
			t.Errorf("lock %s: stored %+v, in the index %+v", tok, g, w)
		}
	}
}
