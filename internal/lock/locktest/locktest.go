// Package locktest is the conformance suite every lock.Manager must pass.
package locktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/lock"
)

// Clock is a manual clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock set to a fixed instant.
func NewClock() *Clock {
	return &Clock{t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// New returns a fresh, empty Manager that reads time from now. It may use
// t for cleanup and may set any server maximum timeout of at least one
// minute.
type New func(t *testing.T, now func() time.Time) lock.Manager

// Run runs the suite; each subtest gets its own Manager from newM.
func Run(t *testing.T, newM New) {
	t.Run("Conflicts", func(t *testing.T) { testConflicts(t, newM) })
	t.Run("CreateFields", func(t *testing.T) { testCreateFields(t, newM) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, newM) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, newM) })
	t.Run("Refresh", func(t *testing.T) { testRefresh(t, newM) })
	t.Run("Unlock", func(t *testing.T) { testUnlock(t, newM) })
	t.Run("CoveringBelow", func(t *testing.T) { testCoveringBelow(t, newM) })
	t.Run("BelowAfterChanges", func(t *testing.T) { testBelowAfterChanges(t, newM) })
	t.Run("OwnersCopied", func(t *testing.T) { testOwnersCopied(t, newM) })
	t.Run("RemoveTree", func(t *testing.T) { testRemoveTree(t, newM) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, newM) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newM) })
}

// spec describes a lock compactly: "x" or "s" for exclusive or shared, then
// "0" or "i" for the depth, then the root, e.g. "xi/a".
func spec(s string) lock.Lock {
	l := lock.Lock{Root: s[2:], Exclusive: s[0] == 'x', Depth: 0, Timeout: 10 * time.Second}
	if s[1] == 'i' {
		l.Depth = lock.Infinity
	}
	return l
}

func mustCreate(t *testing.T, m lock.Manager, l lock.Lock) lock.Lock {
	t.Helper()
	got, err := m.Create(context.Background(), l)
	if err != nil {
		t.Fatalf("Create(%s d=%d x=%v): %v", l.Root, l.Depth, l.Exclusive, err)
	}
	return got
}

func testConflicts(t *testing.T, newM New) {
	tests := []struct {
		have   []string
		req    string
		locked bool
	}{
		// Same resource.
		{[]string{"x0/a"}, "x0/a", true},
		{[]string{"x0/a"}, "s0/a", true},
		{[]string{"s0/a"}, "x0/a", true},
		{[]string{"s0/a"}, "s0/a", false},
		{[]string{"s0/a", "si/a"}, "s0/a", false},
		{[]string{"s0/a", "s0/a"}, "x0/a", true},
		// An ancestor's lock covers only with Depth infinity.
		{[]string{"x0/a"}, "x0/a/b", false},
		{[]string{"xi/a"}, "x0/a/b", true},
		{[]string{"xi/a"}, "s0/a/b/c", true},
		{[]string{"si/a"}, "s0/a/b", false},
		{[]string{"si/a"}, "xi/a/b", true},
		// A descendant's lock conflicts only with a Depth infinity request.
		{[]string{"x0/a/b"}, "x0/a", false},
		{[]string{"x0/a/b/c"}, "xi/a", true},
		{[]string{"s0/a/b"}, "si/a", false},
		{[]string{"s0/a/b"}, "xi/a", true},
		{[]string{"x0/a/b"}, "si/a", true},
		// Siblings, including those sharing a name prefix, never conflict.
		{[]string{"xi/a"}, "xi/ab", false},
		{[]string{"xi/ab"}, "xi/a", false},
		{[]string{"xi/a/b"}, "xi/a/c", false},
		{[]string{"xi/a/b"}, "xi/a/bc", false},
		// The root.
		{[]string{"xi/"}, "x0/x", true},
		{[]string{"x0/"}, "x0/x", false},
		{[]string{"x0/x/y"}, "xi/", true},
		{[]string{"x0/x/y"}, "x0/", false},
		{[]string{"x0/"}, "si/", true},
		{[]string{"si/"}, "si/x", false},
	}
	for _, tt := range tests {
		name := strings.Join(tt.have, "+") + "=>" + tt.req
		t.Run(strings.ReplaceAll(name, "/", "_"), func(t *testing.T) {
			m := newM(t, NewClock().Now)
			for _, h := range tt.have {
				mustCreate(t, m, spec(h))
			}
			_, err := m.Create(context.Background(), spec(tt.req))
			if tt.locked && !errors.Is(err, lock.ErrLocked) {
				t.Fatalf("Create = %v, want ErrLocked", err)
			}
			if !tt.locked && err != nil {
				t.Fatalf("Create = %v, want success", err)
			}
		})
	}
}

func testCreateFields(t *testing.T, newM New) {
	ctx := context.Background()
	clk := NewClock()
	m := newM(t, clk.Now)
	owner := []byte(`<D:href xmlns:D="DAV:">mailto:ü@example.com</D:href>`)
	req := lock.Lock{Root: "/d", Depth: lock.Infinity, Exclusive: true, Owner: owner,
		Principal: "alice", Timeout: 30 * time.Second, Token: "ignored"}
	got := mustCreate(t, m, req)
	if got.Token == "" || got.Token == "ignored" {
		t.Errorf("Token = %q, want a fresh token", got.Token)
	}
	if got.Root != "/d" || got.Depth != lock.Infinity || !got.Exclusive || got.Principal != "alice" || string(got.Owner) != string(owner) {
		t.Errorf("Create = %+v, fields not kept", got)
	}
	if got.Timeout <= 0 || got.Timeout > 30*time.Second {
		t.Errorf("Timeout = %v, want in (0, 30s]", got.Timeout)
	}
	if !got.Expires.Equal(clk.Now().Add(got.Timeout)) {
		t.Errorf("Expires = %v, want now + %v", got.Expires, got.Timeout)
	}
	owner[0] = 'X' // the manager must hold its own copy
	g, err := m.Get(ctx, got.Token)
	if err != nil {
		t.Fatal(err)
	}
	if string(g.Owner) != string(got.Owner) || g.Token != got.Token || !g.Expires.Equal(got.Expires) || g.Timeout != got.Timeout {
		t.Errorf("Get = %+v, want %+v", g, got)
	}
	g.Owner[0] = 'Y'
	if g2, _ := m.Get(ctx, got.Token); g2.Owner[0] != '<' {
		t.Error("Get returned an Owner aliasing the stored one")
	}

	// An infinite request (0) is granted: infinite, or a positive timeout.
	inf := mustCreate(t, m, lock.Lock{Root: "/inf"})
	if inf.Timeout == 0 && !inf.Expires.IsZero() || inf.Timeout > 0 && !inf.Expires.Equal(clk.Now().Add(inf.Timeout)) || inf.Timeout < 0 {
		t.Errorf("infinite request granted Timeout %v Expires %v", inf.Timeout, inf.Expires)
	}
	if inf.Timeout > 0 && inf.Timeout < time.Minute {
		t.Errorf("infinite request granted only %v", inf.Timeout)
	}
	if _, err := m.Get(ctx, "urn:uuid:00000000-0000-0000-0000-000000000000"); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("Get(unknown) = %v, want ErrNoSuchLock", err)
	}
}

func testInvalid(t *testing.T, newM New) {
	ctx := context.Background()
	m := newM(t, NewClock().Now)
	for _, l := range []lock.Lock{
		{Root: ""}, {Root: "a"}, {Root: "/a/"}, {Root: "/a/../b"}, {Root: "/a//b"},
		{Root: "/a", Depth: 1}, {Root: "/a", Timeout: -time.Second},
	} {
		if _, err := m.Create(ctx, l); err == nil || errors.Is(err, lock.ErrLocked) {
			t.Errorf("Create(%+v) = %v, want a validation error", l, err)
		}
	}
	for _, p := range []string{"", "a", "/a/"} {
		if _, err := m.Covering(ctx, p); err == nil {
			t.Errorf("Covering(%q) succeeded", p)
		}
		if _, err := m.Below(ctx, p); err == nil {
			t.Errorf("Below(%q) succeeded", p)
		}
		if err := m.RemoveTree(ctx, p); err == nil {
			t.Errorf("RemoveTree(%q) succeeded", p)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Create(cctx, spec("x0/a")); !errors.Is(err, context.Canceled) {
		t.Errorf("Create with canceled context = %v", err)
	}
}

func testExpiry(t *testing.T, newM New) {
	ctx := context.Background()
	clk := NewClock()
	m := newM(t, clk.Now)
	short := mustCreate(t, m, spec("xi/a"))
	below := mustCreate(t, m, spec("x0/b/c"))
	clk.Advance(short.Timeout - time.Nanosecond)
	if _, err := m.Get(ctx, short.Token); err != nil {
		t.Fatalf("Get just before expiry: %v", err)
	}
	if _, err := m.Create(ctx, spec("x0/a/x")); !errors.Is(err, lock.ErrLocked) {
		t.Fatalf("Create under a live lock = %v, want ErrLocked", err)
	}
	clk.Advance(time.Nanosecond)
	if _, err := m.Get(ctx, short.Token); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("Get(expired) = %v, want ErrNoSuchLock", err)
	}
	if ls, _ := m.Covering(ctx, "/a/x"); len(ls) != 0 {
		t.Errorf("Covering returned expired locks %v", ls)
	}
	if ls, _ := m.Below(ctx, "/b"); len(ls) != 0 {
		t.Errorf("Below returned expired locks %v", ls)
	}
	if _, err := m.Refresh(ctx, below.Token, time.Minute); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("Refresh(expired) = %v, want ErrNoSuchLock", err)
	}
	// Expired locks never conflict, above or below.
	mustCreate(t, m, spec("x0/a/x"))
	mustCreate(t, m, spec("xi/b"))
	if err := m.Unlock(ctx, short.Token); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("Unlock(expired) = %v, want ErrNoSuchLock", err)
	}
	// Lazy removal must not disturb live locks: much later, all expire.
	clk.Advance(24 * time.Hour)
	mustCreate(t, m, spec("xi/"))
}

func testRefresh(t *testing.T, newM New) {
	ctx := context.Background()
	clk := NewClock()
	m := newM(t, clk.Now)
	l := mustCreate(t, m, spec("x0/r"))
	clk.Advance(l.Timeout / 2)
	r, err := m.Refresh(ctx, l.Token, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.Token != l.Token || r.Root != l.Root || r.Exclusive != l.Exclusive || r.Depth != l.Depth {
		t.Errorf("Refresh changed the lock: %+v -> %+v", l, r)
	}
	if r.Timeout <= 0 || r.Timeout > 20*time.Second || !r.Expires.Equal(clk.Now().Add(r.Timeout)) {
		t.Errorf("Refresh granted %v until %v", r.Timeout, r.Expires)
	}
	clk.Advance(l.Timeout) // past the original expiry, within the new one
	if g, err := m.Get(ctx, l.Token); err != nil || !g.Expires.Equal(r.Expires) {
		t.Errorf("Get after refresh = %+v, %v", g, err)
	}
	if _, err := m.Create(ctx, spec("s0/r")); !errors.Is(err, lock.ErrLocked) {
		t.Errorf("refreshed lock lost its conflicts: %v", err)
	}
	if _, err := m.Refresh(ctx, "urn:uuid:nope", time.Minute); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("Refresh(unknown) = %v, want ErrNoSuchLock", err)
	}
	if _, err := m.Refresh(ctx, l.Token, -time.Second); err == nil {
		t.Error("Refresh with a negative timeout succeeded")
	}
}

func testUnlock(t *testing.T, newM New) {
	ctx := context.Background()
	m := newM(t, NewClock().Now)
	a := mustCreate(t, m, spec("s0/u"))
	b := mustCreate(t, m, spec("s0/u"))
	if err := m.Unlock(ctx, a.Token); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(ctx, a.Token); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("second Unlock = %v, want ErrNoSuchLock", err)
	}
	if _, err := m.Get(ctx, a.Token); !errors.Is(err, lock.ErrNoSuchLock) {
		t.Errorf("Get(unlocked) = %v", err)
	}
	if ls, _ := m.Covering(ctx, "/u"); len(ls) != 1 || ls[0].Token != b.Token {
		t.Errorf("Covering after Unlock = %v, want only %s", ls, b.Token)
	}
	if _, err := m.Create(ctx, spec("x0/u")); !errors.Is(err, lock.ErrLocked) {
		t.Errorf("Create with one shared lock left = %v", err)
	}
	if err := m.Unlock(ctx, b.Token); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, m, spec("x0/u"))
}

func tokens(ls []lock.Lock) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.Root)
	}
	return strings.Join(s, " ")
}

func testCoveringBelow(t *testing.T, newM New) {
	ctx := context.Background()
	m := newM(t, NewClock().Now)
	for _, s := range []string{"si/", "s0/", "si/a", "s0/a/b", "s0/a/b/c", "si/a/b/d/e", "s0/ab", "s0/x/y"} {
		mustCreate(t, m, spec(s))
	}
	// Depth 0 lock on "/" is included only for "/" itself.
	covering := []struct{ p, want string }{
		{"/", "/ /"},
		{"/a", "/ /a"},
		{"/a/b", "/ /a /a/b"},
		{"/a/b/c", "/ /a /a/b/c"},
		{"/a/b/d/e/f", "/ /a /a/b/d/e"},
		{"/ab", "/ /ab"},
		{"/ab/c", "/"},
		{"/x", "/"},
		{"/x/y", "/ /x/y"},
	}
	for _, tt := range covering {
		ls, err := m.Covering(ctx, tt.p)
		if err != nil || tokens(ls) != tt.want {
			t.Errorf("Covering(%s) = %q, %v; want %q", tt.p, tokens(ls), err, tt.want)
		}
	}
	below := []struct{ p, want string }{
		{"/", "/a /a/b /a/b/c /a/b/d/e /ab /x/y"},
		{"/a", "/a/b /a/b/c /a/b/d/e"},
		{"/a/b", "/a/b/c /a/b/d/e"},
		{"/a/b/c", ""},
		{"/ab", ""},
		{"/x", "/x/y"},
		{"/nothing", ""},
	}
	for _, tt := range below {
		ls, err := m.Below(ctx, tt.p)
		if err != nil || tokens(ls) != tt.want {
			t.Errorf("Below(%s) = %q, %v; want %q", tt.p, tokens(ls), err, tt.want)
		}
	}
	for _, l := range append(mustCovering(t, m, "/a/b/d/e/f"), mustBelow(t, m, "/")...) {
		if !l.Covers(l.Root) || l.Token == "" || l.Expires.IsZero() && l.Timeout != 0 {
			t.Errorf("incomplete lock %+v", l)
		}
	}
}

// testBelowAfterChanges asks Below again after each kind of change under
// the paths it was asked about: a manager that keeps anything between two
// calls (the order of a folder's locks, for its listings) must show every
// change at once, on every ancestor.
func testBelowAfterChanges(t *testing.T, newM New) {
	ctx := context.Background()
	clk := NewClock()
	m := newM(t, clk.Now)
	check := func(step string, want map[string]string) {
		t.Helper()
		for p, w := range want {
			if got := tokens(mustBelow(t, m, p)); got != w {
				t.Errorf("%s: Below(%s) = %q, want %q", step, p, got, w)
			}
		}
	}
	a := mustCreate(t, m, spec("x0/d/a"))
	check("one lock", map[string]string{"/": "/d/a", "/d": "/d/a", "/d/e": ""})
	mustCreate(t, m, spec("x0/d/e/b"))
	check("created below", map[string]string{"/": "/d/a /d/e/b", "/d": "/d/a /d/e/b", "/d/e": "/d/e/b"})
	clk.Advance(5 * time.Second)
	r, err := m.Refresh(ctx, a.Token, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range mustBelow(t, m, "/d") {
		if l.Token == a.Token && !l.Expires.Equal(r.Expires) {
			t.Errorf("refreshed: Below(/d) gives the lock expiring at %v, want %v", l.Expires, r.Expires)
		}
	}
	clk.Advance(6 * time.Second) // b's 10 s are over, a's refreshed minute is not
	check("expired", map[string]string{"/": "/d/a", "/d": "/d/a", "/d/e": ""})
	mustCreate(t, m, spec("x0/d/c"))
	check("created beside", map[string]string{"/": "/d/a /d/c", "/d": "/d/a /d/c"})
	if err := m.Unlock(ctx, a.Token); err != nil {
		t.Fatal(err)
	}
	check("unlocked", map[string]string{"/": "/d/c", "/d": "/d/c"})
	if err := m.RemoveTree(ctx, "/d/c"); err != nil {
		t.Fatal(err)
	}
	check("tree removed", map[string]string{"/": "", "/d": "", "/d/e": ""})
}

// testOwnersCopied changes the owners of the locks Covering and Below
// return, in place and by appending: neither the stored locks nor the
// other locks of the same answer may change (a manager may copy them
// together, but each caller's copy is its own).
func testOwnersCopied(t *testing.T, m0 New) {
	m := m0(t, NewClock().Now)
	owners := map[string]string{"/d": "<D:href>d</D:href>", "/d/a": "<D:href>a</D:href>", "/d/b": "", "/d/c": "<D:href>c</D:href>"}
	for _, s := range []string{"si/d", "s0/d/a", "s0/d/b", "s0/d/c"} {
		l := spec(s)
		if o := owners[l.Root]; o != "" {
			l.Owner = []byte(o)
		}
		mustCreate(t, m, l)
	}
	check := func(step string) {
		t.Helper()
		for _, ls := range [][]lock.Lock{mustBelow(t, m, "/d"), mustBelow(t, m, "/"), mustCovering(t, m, "/d/a")} {
			for _, l := range ls {
				if string(l.Owner) != owners[l.Root] {
					t.Errorf("%s: the lock on %s has owner %q, want %q", step, l.Root, l.Owner, owners[l.Root])
				}
			}
		}
	}
	check("as created")
	for _, ls := range [][]lock.Lock{mustBelow(t, m, "/d"), mustCovering(t, m, "/d/a")} {
		for i := range ls {
			for j := range ls[i].Owner {
				ls[i].Owner[j] = 'X'
			}
		}
		check("owners overwritten")
		for i := range ls {
			ls[i].Owner = append(ls[i].Owner, "<tail/>"...)
		}
		for _, l := range ls {
			if want := strings.Repeat("X", len(owners[l.Root])) + "<tail/>"; string(l.Owner) != want {
				t.Errorf("after the appends, the returned lock on %s has owner %q, want %q", l.Root, l.Owner, want)
			}
		}
		check("owners appended to")
	}
}

func mustCovering(t *testing.T, m lock.Manager, p string) []lock.Lock {
	t.Helper()
	ls, err := m.Covering(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func mustBelow(t *testing.T, m lock.Manager, p string) []lock.Lock {
	t.Helper()
	ls, err := m.Below(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func testRemoveTree(t *testing.T, newM New) {
	ctx := context.Background()
	tests := []struct {
		p, want string // roots left
	}{
		{"/a", "/ /ab /b"},
		{"/a/b", "/ /a /a /ab /b"},
		{"/ab", "/ /a /a /a/b /a/b/c /b"},
		{"/zzz", "/ /a /a /a/b /a/b/c /ab /b"},
		{"/", ""},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.p, "/", "_"), func(t *testing.T) {
			m := newM(t, NewClock().Now)
			var all []lock.Lock
			for _, s := range []string{"s0/", "s0/a", "s0/a", "s0/a/b", "x0/a/b/c", "x0/ab", "x0/b"} {
				all = append(all, mustCreate(t, m, spec(s)))
			}
			if err := m.RemoveTree(ctx, tt.p); err != nil {
				t.Fatal(err)
			}
			var left []string
			for _, l := range all {
				if _, err := m.Get(ctx, l.Token); err == nil {
					left = append(left, l.Root)
				} else if !errors.Is(err, lock.ErrNoSuchLock) {
					t.Fatal(err)
				}
			}
			if got := strings.Join(left, " "); got != tt.want {
				t.Errorf("left %q, want %q", got, tt.want)
			}
			if got := tokens(append(mustCovering(t, m, "/"), mustBelow(t, m, "/")...)); got != tt.want {
				t.Errorf("index left %q, want %q", got, tt.want)
			}
		})
	}
}

func testTokens(t *testing.T, newM New) {
	m := newM(t, NewClock().Now)
	seen := make(map[string]bool)
	for i := range 200 {
		l := mustCreate(t, m, spec(fmt.Sprintf("x0/t%d", i)))
		if seen[l.Token] {
			t.Fatalf("token %s handed out twice", l.Token)
		}
		seen[l.Token] = true
	}
}

// testConcurrent checks, under -race, that exclusivity holds when many
// goroutines compete for the same resources.
func testConcurrent(t *testing.T, newM New) {
	ctx := context.Background()
	m := newM(t, NewClock().Now)
	const workers, rounds = 8, 200
	var holders [3]atomic.Int32
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				k := (w + i) % 3
				req := spec([]string{"x0/c/0", "xi/c/1", "xi/c"}[k])
				l, err := m.Create(ctx, req)
				if errors.Is(err, lock.ErrLocked) {
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				holders[k].Add(1)
				// "/c" (k=2) excludes both others; 0 and 1 are siblings.
				if holders[k].Load() != 1 || k == 2 && holders[0].Load()+holders[1].Load() != 0 ||
					k != 2 && holders[2].Load() != 0 {
					errc <- fmt.Errorf("two conflicting locks held at once (%s)", req.Root)
				}
				m.Covering(ctx, req.Root)
				m.Below(ctx, "/c")
				holders[k].Add(-1)
				if err := m.Unlock(ctx, l.Token); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if ls := mustBelow(t, m, "/"); len(ls) != 0 {
		t.Errorf("locks left after concurrent run: %v", tokens(ls))
	}
}
