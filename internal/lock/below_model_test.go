package lock_test

// A model of the lock table, kept from the manager's own answers, driven
// by random operations: every Below (the kept order of a folder's locks)
// must agree with it after each step.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/lock"
)

// auditClock is a settable clock.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *auditClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var auditPaths = []string{"/", "/a", "/a/b", "/a/b/c", "/a/b/c/g", "/a/d", "/e", "/e/f", "/ab", "/a/bc"}

func below(root, p string) bool {
	if root == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, root+"/")
}

func lockString(l lock.Lock) string {
	return fmt.Sprintf("%s %s d=%d x=%v o=%q p=%q t=%v e=%d", l.Token, l.Root, l.Depth, l.Exclusive, l.Owner, l.Principal, l.Timeout, l.Expires.UnixNano())
}

// auditLockModel drives m with random operations and checks every Below
// against a model kept from the manager's own answers.
func auditLockModel(t *testing.T, m lock.Manager, clk *auditClock, rng *rand.Rand, steps int) {
	t.Helper()
	ctx := context.Background()
	model := map[string]lock.Lock{}
	live := func(l lock.Lock) bool { return l.Expires.IsZero() || clk.Now().Before(l.Expires) }
	tokens := func() []string {
		var ts []string
		for tok := range model {
			ts = append(ts, tok)
		}
		slices.Sort(ts)
		return ts
	}
	check := func(step int, op string) {
		t.Helper()
		for _, p := range auditPaths {
			got, err := m.Below(ctx, p)
			if err != nil {
				t.Fatalf("step %d (%s): Below(%s): %v", step, op, p, err)
			}
			var want []lock.Lock
			for _, l := range model {
				if below(p, l.Root) && live(l) {
					want = append(want, l)
				}
			}
			slices.SortFunc(want, func(a, b lock.Lock) int { return strings.Compare(a.Root+"\x00"+a.Token, b.Root+"\x00"+b.Token) })
			var gs, ws []string
			for _, l := range got {
				gs = append(gs, lockString(l))
				if len(l.Owner) > 0 {
					l.Owner[0] = '!' // must not reach the index or its kept order
				}
			}
			for _, l := range want {
				ws = append(ws, lockString(l))
			}
			if !slices.Equal(gs, ws) {
				t.Fatalf("step %d (%s): Below(%s):\n got %q\nwant %q", step, op, p, gs, ws)
			}
		}
	}
	for step := range steps {
		var op string
		switch r := rng.IntN(10); {
		case r < 3:
			p := auditPaths[1+rng.IntN(len(auditPaths)-1)]
			req := lock.Lock{Root: p, Exclusive: rng.IntN(3) == 0, Owner: []byte(fmt.Sprintf("owner-%d", step)),
				Timeout: []time.Duration{10 * time.Second, time.Minute, 0}[rng.IntN(3)]}
			if rng.IntN(2) == 0 {
				req.Depth = lock.Infinity
			}
			op = "create " + p
			l, err := m.Create(ctx, req)
			switch {
			case err == nil:
				model[l.Token] = l
			case errors.Is(err, lock.ErrLocked):
			default:
				t.Fatalf("create: %v", err)
			}
		case r < 5:
			ts := tokens()
			if len(ts) == 0 {
				continue
			}
			tok := ts[rng.IntN(len(ts))]
			op = "refresh " + model[tok].Root
			l, err := m.Refresh(ctx, tok, time.Duration(1+rng.IntN(90))*time.Second)
			if err == nil {
				model[tok] = l
			} else if live(model[tok]) {
				t.Fatalf("step %d: refresh of a live lock: %v", step, err)
			}
		case r < 6:
			ts := tokens()
			if len(ts) == 0 {
				continue
			}
			tok := ts[rng.IntN(len(ts))]
			op = "unlock " + model[tok].Root
			if err := m.Unlock(ctx, tok); err == nil {
				delete(model, tok)
			}
		case r < 7:
			p := auditPaths[rng.IntN(len(auditPaths))]
			op = "removetree " + p
			if err := m.RemoveTree(ctx, p); err == nil {
				for tok, l := range model {
					if l.Root == p || below(p, l.Root) {
						delete(model, tok)
					}
				}
			} else {
				t.Fatal(err)
			}
		case r < 9:
			d := time.Duration(rng.IntN(20)) * time.Second
			op = fmt.Sprint("clock +", d)
			clk.add(d)
		default:
			op = "sweep clock"
			clk.add(61 * time.Second)
		}
		check(step, op)
	}
}

// TestLockBelowModelMemory: random creates, refreshes, unlocks, removals
// of trees and expiries, each followed by Below on every path.
func TestLockBelowModelMemory(t *testing.T) {
	for seed := range uint64(20) {
		clk := &auditClock{t: time.Unix(1_000_000, 0)}
		m := lock.NewMemory(lock.Options{Now: clk.Now, MaxTimeout: 2 * time.Minute})
		auditLockModel(t, m, clk, rand.New(rand.NewPCG(seed, 1)), 400)
	}
}

// TestLockBelowModelBolt: the same on Bolt, then with its database closed
// (every change fails and must be taken back), then after a reload.
func TestLockBelowModelBolt(t *testing.T) {
	for seed := range uint64(5) {
		file := filepath.Join(t.TempDir(), "locks.db")
		db, err := bbolt.Open(file, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		clk := &auditClock{t: time.Unix(1_000_000, 0)}
		b, err := lock.NewBolt(db, lock.Options{Now: clk.Now, MaxTimeout: 2 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 2))
		auditLockModel(t, b, clk, rng, 300)
		// Warm Below's kept order for every path, then break the store.
		for _, p := range auditPaths {
			b.Below(context.Background(), p)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		// With the store failing, every change must leave Below as it was.
		snapshot := func() map[string]string {
			out := map[string]string{}
			for _, p := range auditPaths {
				ls, _ := b.Below(context.Background(), p)
				var s []string
				for _, l := range ls {
					s = append(s, lockString(l))
				}
				out[p] = strings.Join(s, "\n")
			}
			return out
		}
		before := snapshot()
		ctx := context.Background()
		var toks []string
		for _, p := range auditPaths {
			ls, _ := b.Below(ctx, p)
			for _, l := range ls {
				toks = append(toks, l.Token)
			}
		}
		for _, tok := range toks {
			if _, err := b.Refresh(ctx, tok, 100*time.Second); err == nil {
				t.Fatal("refresh stored on a closed database")
			}
			if err := b.Unlock(ctx, tok); err == nil {
				t.Fatal("unlock stored on a closed database")
			}
		}
		for _, p := range auditPaths[1:] {
			if _, err := b.Create(ctx, lock.Lock{Root: p + "/new", Timeout: time.Minute}); err == nil {
				t.Fatal("create stored on a closed database")
			}
			b.RemoveTree(ctx, p) // fails, unless nothing is at or below p
		}
		if after := snapshot(); !maps.Equal(before, after) {
			t.Fatalf("seed %d: Below changed by failed changes:\nbefore %q\nafter  %q", seed, before, after)
		}
	}
}

// TestLockBelowModelConcurrent: Below on every path from several
// goroutines while locks change; after each round of changes (all
// finished) every Below must match the final state.
func TestLockBelowModelConcurrent(t *testing.T) {
	m := lock.NewMemory(lock.Options{})
	ctx := context.Background()
	var toks []lock.Lock
	for round := range 200 {
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					for _, p := range auditPaths {
						m.Below(ctx, p)
					}
				}
			})
		}
		p := auditPaths[1+round%(len(auditPaths)-1)]
		if l, err := m.Create(ctx, lock.Lock{Root: p, Owner: []byte("o"), Timeout: time.Hour}); err == nil {
			toks = append(toks, l)
		}
		if round%3 == 0 && len(toks) > 0 {
			m.Unlock(ctx, toks[0].Token)
			toks = toks[1:]
		}
		if round%5 == 0 && len(toks) > 0 {
			l, err := m.Refresh(ctx, toks[len(toks)-1].Token, time.Duration(round+1)*time.Second)
			if err == nil {
				toks[len(toks)-1] = l
			}
		}
		close(stop)
		wg.Wait()
		for _, q := range auditPaths {
			got, _ := m.Below(ctx, q)
			var want []lock.Lock
			for _, l := range toks {
				if below(q, l.Root) {
					want = append(want, l)
				}
			}
			slices.SortFunc(want, func(a, b lock.Lock) int { return strings.Compare(a.Root+"\x00"+a.Token, b.Root+"\x00"+b.Token) })
			var gs, ws []string
			for _, l := range got {
				gs = append(gs, lockString(l))
			}
			for _, l := range want {
				ws = append(ws, lockString(l))
			}
			if !slices.Equal(gs, ws) {
				t.Fatalf("round %d: Below(%s)\n got %q\nwant %q", round, q, gs, ws)
			}
		}
	}
}
