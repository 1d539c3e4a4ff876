package lock

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// heldStore is a persister whose writes wait until released with an
// outcome.
type heldStore struct {
	staged  chan []string // each change's removals, as staged
	release chan error
}

func (s *heldStore) stage(put []*Lock, del []string) func() error {
	s.staged <- del
	return func() error { return <-s.release }
}

var errStore = errors.New("store failed")

// heldManager returns a manager on a heldStore, with a clock that stands
// still.
func heldManager() (*manager, *heldStore) {
	s := &heldStore{staged: make(chan []string, 16), release: make(chan error)}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	return newManager(Options{Now: func() time.Time { return now }}, s), s
}

// async runs f in a goroutine and returns its outcome's channel.
func async(f func() error) chan error {
	c := make(chan error, 1)
	go func() { c <- f() }()
	return c
}

// stored runs f, which stages one change, and lets the store end it with
// outcome; it returns the removals the change staged and f's error.
// check runs while the change is held.
func stored(t *testing.T, s *heldStore, outcome error, f func() error, check func()) ([]string, error) {
	t.Helper()
	done := async(f)
	var del []string
	select {
	case del = <-s.staged:
	case err := <-done:
		t.Fatalf("returned without staging a change: %v", err)
	}
	if check != nil {
		check()
	}
	s.release <- outcome
	return del, <-done
}

func covering(m *manager, p string) int {
	l, _ := m.Covering(context.Background(), p)
	return len(l)
}

// TestStagedCreate checks that a lock being stored is in force already
// (it conflicts and covers), that Create answers only once it is stored,
// and that one the store fails is taken back.
func TestStagedCreate(t *testing.T) {
	ctx := context.Background()
	for _, outcome := range []error{nil, errStore} {
		m, s := heldManager()
		_, err := stored(t, s, outcome, func() error {
			_, err := m.Create(ctx, Lock{Root: "/a", Exclusive: true, Depth: Infinity})
			return err
		}, func() {
			if _, err := m.Create(ctx, Lock{Root: "/a/b"}); !errors.Is(err, ErrLocked) {
				t.Errorf("a lock below, while the first is stored: %v, want ErrLocked", err)
			}
			if n := covering(m, "/a"); n != 1 {
				t.Errorf("while stored: %d locks cover /a, want 1", n)
			}
		})
		if !errors.Is(err, outcome) {
			t.Errorf("Create, store %v: %v", outcome, err)
		}
		want := 1
		if outcome != nil {
			want = 0
		}
		if n := covering(m, "/a"); n != want {
			t.Errorf("store %v: %d locks cover /a after, want %d", outcome, n, want)
		}
	}
}

// TestStagedUnlock checks that a lock being removed stays in force until
// the removal is stored (it conflicts and covers) while its token no
// longer finds it, and that a removal the store fails leaves it whole.
func TestStagedUnlock(t *testing.T) {
	ctx := context.Background()
	m, s := heldManager()
	var l Lock
	if _, err := stored(t, s, nil, func() (err error) {
		l, err = m.Create(ctx, Lock{Root: "/a", Exclusive: true, Timeout: time.Minute})
		return err
	}, nil); err != nil {
		t.Fatal(err)
	}
	for _, outcome := range []error{errStore, nil} {
		del, err := stored(t, s, outcome, func() error { return m.Unlock(ctx, l.Token) }, func() {
			if _, err := m.Get(ctx, l.Token); !errors.Is(err, ErrNoSuchLock) {
				t.Errorf("Get while unlocking: %v, want ErrNoSuchLock", err)
			}
			if _, err := m.Refresh(ctx, l.Token, time.Minute); !errors.Is(err, ErrNoSuchLock) {
				t.Errorf("Refresh while unlocking: %v, want ErrNoSuchLock", err)
			}
			if err := m.Unlock(ctx, l.Token); !errors.Is(err, ErrNoSuchLock) {
				t.Errorf("a second Unlock while unlocking: %v, want ErrNoSuchLock", err)
			}
			if _, err := m.Create(ctx, Lock{Root: "/a"}); !errors.Is(err, ErrLocked) {
				t.Errorf("a lock while unlocking: %v, want ErrLocked", err)
			}
			if n := covering(m, "/a"); n != 1 {
				t.Errorf("while unlocking: %d locks cover /a, want 1", n)
			}
		})
		if !errors.Is(err, outcome) {
			t.Errorf("Unlock, store %v: %v", outcome, err)
		}
		if len(del) != 1 || del[0] != l.Token {
			t.Errorf("Unlock staged the removal of %q, want [%s]", del, l.Token)
		}
		_, gerr := m.Get(ctx, l.Token)
		if outcome != nil && gerr != nil {
			t.Errorf("after a failed Unlock: Get %v, want the lock", gerr)
		}
		if outcome == nil && (!errors.Is(gerr, ErrNoSuchLock) || covering(m, "/a") != 0) {
			t.Errorf("after Unlock: Get %v, %d covering, want none", gerr, covering(m, "/a"))
		}
	}
}

// TestStagedRefresh checks that a refresh the store fails leaves the
// lock as it was.
func TestStagedRefresh(t *testing.T) {
	ctx := context.Background()
	m, s := heldManager()
	var l Lock
	if _, err := stored(t, s, nil, func() (err error) {
		l, err = m.Create(ctx, Lock{Root: "/a", Timeout: time.Minute})
		return err
	}, nil); err != nil {
		t.Fatal(err)
	}
	_, err := stored(t, s, errStore, func() error {
		_, err := m.Refresh(ctx, l.Token, 10*time.Minute)
		return err
	}, func() {
		if got, _ := m.Get(ctx, l.Token); got.Timeout != 10*time.Minute {
			t.Errorf("while stored: timeout %v, want the new one", got.Timeout)
		}
	})
	if !errors.Is(err, errStore) {
		t.Errorf("Refresh: %v, want the store's error", err)
	}
	if got, err := m.Get(ctx, l.Token); err != nil || got.Timeout != time.Minute || !got.Expires.Equal(l.Expires) {
		t.Errorf("after a failed refresh: %+v, %v; want the lock as it was", got, err)
	}
}

// orderedStore is a persister that holds each change until the test
// settles it, in any order, with any outcome.
type orderedStore struct{ staged chan chan error }

func (s *orderedStore) stage(put []*Lock, del []string) func() error {
	c := make(chan error)
	s.staged <- c
	return func() error { return <-c }
}

// TestOverlappingChanges stages up to three changes of one lock before
// any is stored (refreshes, an unlock; or the creation itself, staged as
// LOCK does, then refreshes), lets the store end them in every order with
// every outcome, and after each one compares the index with the changes
// not failed, applied in the order they were staged: the order in which
// the store applies them. A failed change must be taken back even when a
// later change of the same lock came on top of it, and must never be
// brought back by the later one's failure.
func TestOverlappingChanges(t *testing.T) {
	const (
		create = iota
		refresh
		unlock
	)
	seqs := [][]int{
		{refresh, refresh}, {refresh, unlock}, {refresh, refresh, unlock}, {refresh, refresh, refresh},
		{create, refresh}, {create, unlock}, {create, refresh, unlock}, {create, refresh, refresh},
	}
	for _, seq := range seqs {
		for _, order := range permutations(len(seq)) {
			for fails := range 1 << len(seq) {
				var kinds, ends, outcomes []string
				for i, k := range seq {
					kinds = append(kinds, []string{"create", "refresh", "unlock"}[k])
					ends = append(ends, fmt.Sprint(order[i]))
					outcomes = append(outcomes, map[bool]string{false: "ok", true: "fail"}[fails&(1<<i) != 0])
				}
				name := strings.Join(kinds, ",") + "/ends=" + strings.Join(ends, ",") + "/" + strings.Join(outcomes, ",")
				t.Run(name, func(t *testing.T) { overlapping(t, seq, order, fails) })
			}
		}
	}
}

func overlapping(t *testing.T, seq, order []int, fails int) {
	const (
		create = iota
		refresh
		unlock
	)
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	s := &orderedStore{staged: make(chan chan error, 1)}
	m := newManager(Options{Now: func() time.Time { return now }}, s)

	// The lock as stored before the changes (none when seq creates it),
	// by its timeout; 0 stands for no lock.
	var base time.Duration
	var token string
	if seq[0] != create {
		done := async(func() error {
			l, err := m.Create(ctx, Lock{Root: "/a", Timeout: time.Minute})
			token = l.Token
			return err
		})
		(<-s.staged) <- nil
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		base = time.Minute
	}
	// Stage every change, each waiting on the store. A change's timeout
	// says which it is: the creation one minute, the i-th two or more.
	var releases []chan error
	var results []chan error
	for i, kind := range seq {
		var f func() error
		switch kind {
		case create:
			l, wait, err := m.Stage(ctx, Lock{Root: "/a", Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			token = l.Token
			f = wait
		case refresh:
			d := time.Duration(i+2) * time.Minute
			f = func() error { _, err := m.Refresh(ctx, token, d); return err }
		case unlock:
			f = func() error { return m.Unlock(ctx, token) }
		}
		var res chan error
		if kind == create {
			res = make(chan error, 1)
			wait := f
			releases = append(releases, <-s.staged)
			go func() { res <- wait() }()
		} else {
			res = async(f)
			select {
			case c := <-s.staged:
				releases = append(releases, c)
			case err := <-res:
				t.Fatalf("change %d returned without being staged: %v", i, err)
			}
		}
		results = append(results, res)
	}
	timeout := func(i int) time.Duration {
		if seq[i] == create {
			return time.Minute
		}
		return time.Duration(i+2) * time.Minute
	}
	// want folds the changes in staged order: settled[i] says whether
	// change i has been ended, failed whether it failed.
	settled := make([]bool, len(seq))
	want := func() (in time.Duration, dying bool) {
		in = base
		for i, kind := range seq {
			failed := fails&(1<<i) != 0
			switch {
			case settled[i] && failed:
			case kind != unlock:
				in, dying = timeout(i), false
			case settled[i]:
				in, dying = 0, false
			default:
				dying = in != 0
			}
		}
		return in, dying
	}
	check := func(step string) {
		t.Helper()
		in, dying := want()
		cov, _ := m.Covering(ctx, "/a")
		below, _ := m.Below(ctx, "/")
		var got time.Duration
		if len(cov) == 1 {
			got = cov[0].Timeout
		}
		if len(cov) > 1 || got != in || len(below) != len(cov) || len(below) == 1 && below[0].Timeout != in {
			t.Errorf("%s: Covering %d lock(s) of timeout %v, Below %d; want timeout %v (0: none)", step, len(cov), got, len(below), in)
		}
		g, err := m.Get(ctx, token)
		switch {
		case in == 0 || dying:
			if !errors.Is(err, ErrNoSuchLock) {
				t.Errorf("%s: Get %v, want ErrNoSuchLock (dying %v)", step, err, dying)
			}
		case err != nil || g.Timeout != in:
			t.Errorf("%s: Get %v, %v; want timeout %v", step, g.Timeout, err, in)
		}
	}
	check("all staged")
	for _, i := range order {
		var outcome error
		if fails&(1<<i) != 0 {
			outcome = errStore
		}
		releases[i] <- outcome
		if err := <-results[i]; !errors.Is(err, outcome) {
			t.Fatalf("change %d ended %v, want %v", i, err, outcome)
		}
		settled[i] = true
		check(fmt.Sprintf("change %d ended (%v)", i, outcome))
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.pending) != 0 || len(m.dying) != 0 {
		t.Errorf("all ended: %d tokens pending, %d dying; want none", len(m.pending), len(m.dying))
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{nil}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := append(append(append([]int(nil), p[:i]...), n-1), p[i:]...)
			out = append(out, q)
		}
	}
	return out
}
