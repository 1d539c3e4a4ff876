package lock

import (
	"context"
	"errors"
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
