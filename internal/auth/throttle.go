package auth

import (
	"math"
	"net/netip"
	"sync"
	"time"
)

// Throttle slows down password guessing: each address has a token bucket
// of Burst tokens, one more every Interval. A failed login takes a token;
// while the bucket is empty, logins from that address are refused without
// checking the password. IPv6 addresses are grouped by /64 (what one
// client usually holds). At most MaxAddresses buckets are kept: full ones
// are dropped first, then the least recently used. Safe for concurrent use.
type Throttle struct {
	mu       sync.Mutex
	burst    float64
	interval time.Duration
	max      int
	now      func() time.Time
	m        map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewThrottle returns a throttle; now is the clock (nil: time.Now).
func NewThrottle(burst int, interval time.Duration, maxAddresses int, now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{burst: float64(burst), interval: interval, max: maxAddresses, now: now, m: map[netip.Addr]*bucket{}}
}

// Key returns the bucket key of an address.
func Key(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// refill brings b up to date; the caller holds t.mu.
func (t *Throttle) refill(b *bucket, now time.Time) {
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(t.burst, b.tokens+float64(el)/float64(t.interval))
	}
	b.last = now
}

// Allow reports whether a login from a may be tried now and, if not, how
// long until it may. A nil Throttle allows everything.
func (t *Throttle) Allow(a netip.Addr) (bool, time.Duration) {
	if t == nil {
		return true, 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.m[Key(a)]
	if b == nil {
		return true, 0
	}
	now := t.now()
	t.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(t.interval))
	return false, wait
}

// Fail records a failed login from a.
func (t *Throttle) Fail(a netip.Addr) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	k := Key(a)
	b := t.m[k]
	if b == nil {
		if len(t.m) >= t.max {
			t.evict(now)
		}
		b = &bucket{tokens: t.burst, last: now}
		t.m[k] = b
	}
	t.refill(b, now)
	b.tokens = math.Max(0, b.tokens-1)
}

// evict makes room: drops the buckets that have refilled, then the least
// recently used one if that was not enough. The caller holds t.mu.
func (t *Throttle) evict(now time.Time) {
	var oldest netip.Addr
	var oldestT time.Time
	for k, b := range t.m {
		t.refill(b, now)
		if b.tokens >= t.burst {
			delete(t.m, k)
			continue
		}
		if oldestT.IsZero() || b.last.Before(oldestT) {
			oldest, oldestT = k, b.last
		}
	}
	if len(t.m) >= t.max {
		delete(t.m, oldest)
	}
}

// Len is the number of addresses remembered.
func (t *Throttle) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
