package lock

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultMaxTimeout is the server maximum used when Options.MaxTimeout is 0.
const DefaultMaxTimeout = time.Hour

// sweepInterval is how often a write sweeps every expired lock out of the
// index (and the database), so locks on paths nobody touches again do not
// pile up. Locks met on the way are dropped at once.
const sweepInterval = time.Minute

// Options tune a manager. The zero value is ready to use.
type Options struct {
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// NewToken returns a fresh, globally unique lock token (RFC 4918 §6.5).
	// Default "urn:uuid:" + a random (version 4) UUID.
	NewToken func() string
	// MaxTimeout is the longest timeout granted. A request for an infinite
	// timeout (0) or a longer one is granted MaxTimeout. 0 means
	// DefaultMaxTimeout; a negative value means no maximum, so infinite
	// requests are granted as infinite (Timeout 0, zero Expires).
	MaxTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewToken == nil {
		o.NewToken = func() string { return "urn:uuid:" + uuid.NewString() }
	}
	if o.MaxTimeout == 0 {
		o.MaxTimeout = DefaultMaxTimeout
	}
	return o
}

// grant returns the timeout granted for a request (0 = infinite).
func (o Options) grant(requested time.Duration) time.Duration {
	if o.MaxTimeout < 0 {
		return requested
	}
	if requested == 0 || requested > o.MaxTimeout {
		return o.MaxTimeout
	}
	return requested
}

// persister writes index changes through to storage. stage queues put
// and del, to be stored together, atomically, after every change staged
// before them, and returns the wait for them to be stored. It is called
// with m.mu held, so the stored state is always that of a prefix of the
// index's changes; the wait is called after m.mu is released, so that
// changes staged meanwhile may be stored with these (see
// boltgroup.Group).
type persister interface {
	stage(put []*Lock, del []string) (wait func() error)
}

// manager is the in-memory index shared by Memory and Bolt.
//
// byRoot answers Covering in O(depth of the path); below maps every
// ancestor of a lock's root to that lock, so Below(p) costs O(locks below
// p) and each lock costs O(depth) index entries.
type manager struct {
	opt   Options
	store persister // nil: memory only

	mu      sync.RWMutex
	byToken map[string]*Lock
	byRoot  map[string]map[string]*Lock // root -> token -> lock
	below   map[string]map[string]*Lock // strict ancestor of root -> token -> lock
	// sorted holds, for a path Below was asked about, below's locks for it
	// in Below's order (root, then token), so that a listing of a folder
	// of locked files does not sort them again each time. Below fills it
	// holding mu shared and sortedMu; insert and remove, which hold mu
	// exclusively, drop the entries of every ancestor of the lock they
	// change (a refresh replaces its lock, so it is one of those).
	sortedMu  sync.Mutex
	sorted    map[string][]*Lock
	nextSweep time.Time
	// dying holds the locks whose removal is being stored: still in the
	// index, so they still conflict and cover, but unknown to their
	// token (Get, Refresh, Unlock), and taken out once stored.
	dying map[string]*Lock
	// pending holds, for each token with changes being stored, those
	// changes and its stored lock (see settle).
	pending map[string]*tokenOps
}

func newManager(opt Options, store persister) *manager {
	return &manager{
		opt:     opt.withDefaults(),
		store:   store,
		byToken: make(map[string]*Lock),
		byRoot:  make(map[string]map[string]*Lock),
		below:   make(map[string]map[string]*Lock),
		sorted:  make(map[string][]*Lock),
		dying:   make(map[string]*Lock),
		pending: make(map[string]*tokenOps),
	}
}

func (m *manager) now() time.Time { return m.opt.Now().Round(0) }

func expired(l *Lock, now time.Time) bool {
	return !l.Expires.IsZero() && !now.Before(l.Expires)
}

// ancestors calls f for each strict ancestor of p, nearest first.
func ancestors(p string, f func(a string)) {
	for p != "/" {
		i := strings.LastIndexByte(p, '/')
		if i == 0 {
			p = "/"
		} else {
			p = p[:i]
		}
		f(p)
	}
}

func addTo(idx map[string]map[string]*Lock, key string, l *Lock) {
	s := idx[key]
	if s == nil {
		s = make(map[string]*Lock)
		idx[key] = s
	}
	s[l.Token] = l
}

func removeFrom(idx map[string]map[string]*Lock, key, token string) {
	if s := idx[key]; s != nil {
		delete(s, token)
		if len(s) == 0 {
			delete(idx, key)
		}
	}
}

func (m *manager) insert(l *Lock) {
	m.byToken[l.Token] = l
	addTo(m.byRoot, l.Root, l)
	ancestors(l.Root, func(a string) { addTo(m.below, a, l); delete(m.sorted, a) })
}

func (m *manager) remove(token string) {
	l := m.byToken[token]
	if l == nil {
		return
	}
	delete(m.byToken, token)
	removeFrom(m.byRoot, l.Root, token)
	ancestors(l.Root, func(a string) { removeFrom(m.below, a, token); delete(m.sorted, a) })
}

// change is a change staged in the index and being stored: one op for
// each token it puts or removes.
type change struct {
	m    *manager
	ops  []*op
	toks []string // the token of each op
	wait func() error
}

// op is one token's part of a change: a lock put (new, or a refresh
// replacing the token's lock), or the token's removal.
type op struct {
	put   *Lock // nil: the removal
	state opState
}

type opState int8

const (
	opPending opState = iota
	opStored
	opFailed
)

// tokenOps holds a token's changes not yet settled, in the order they
// were staged (the order they are stored in), and the token's lock as
// stored before the first of them (nil: none). The index holds what they
// make of it (see settle); once every one has settled, the index's lock
// is the stored one and the entry goes.
type tokenOps struct {
	base *Lock
	ops  []*op
}

// stage makes put and del the index's changes, with m.mu held for
// writing, and queues them to be stored; the caller releases m.mu and
// then calls done. What put adds is in force at once: a lock granted
// while it is stored conflicts already, which only errs on the side of
// refusal. What del removes stays in force until it is stored (it is
// dying meanwhile), so that no change is allowed on the strength of a
// removal that a crash could still undo. Tokens already dying or not in
// the index are left out of del.
func (m *manager) stage(put []*Lock, del []string) *change {
	c := &change{m: m}
	if m.store == nil { // memory only: nothing to wait for
		for _, t := range del {
			m.remove(t)
		}
		for _, l := range put {
			m.remove(l.Token)
			m.insert(l)
		}
		return c
	}
	var gone []string
	for _, t := range del {
		l := m.byToken[t]
		if l == nil || m.dying[t] != nil {
			continue
		}
		c.add(t, &op{})
		m.dying[t] = l
		gone = append(gone, t)
	}
	for _, l := range put {
		c.add(l.Token, &op{put: l})
		m.remove(l.Token)
		m.insert(l)
	}
	if len(c.ops) > 0 {
		c.wait = m.store.stage(put, gone)
	}
	return c
}

// add records o, a change of token t about to be made in the index, with
// m.mu held for writing.
func (c *change) add(t string, o *op) {
	m := c.m
	to := m.pending[t]
	if to == nil {
		// Nothing of t is being stored, so the index's lock is the stored one.
		to = &tokenOps{base: m.byToken[t]}
		m.pending[t] = to
	}
	to.ops = append(to.ops, o)
	c.ops = append(c.ops, o)
	c.toks = append(c.toks, t)
}

// done waits for the change to be stored, with m.mu released, and then
// settles each of its tokens: once stored, its removals are taken out of
// the index; when it could not be stored, what it did is taken back, even
// where a later change of the same token came on top of it.
func (c *change) done() error {
	var err error
	if c.wait != nil {
		err = c.wait()
	}
	if len(c.ops) == 0 {
		return err
	}
	st := opStored
	if err != nil {
		st = opFailed
	}
	m := c.m
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range c.ops {
		o.state = st
	}
	for _, t := range c.toks {
		m.settle(t)
	}
	return err
}

// settle makes the index's entry for token t what its stored lock and its
// changes not failed make of it, in their order: a put gives its lock; a
// removal takes the lock out once stored, and leaves it dying while it is
// being stored. A change that failed is left out, so a lock that a failed
// change put is never brought back by a later one's failure, and a lock
// that a failed refresh replaced comes back under a later removal. The
// settled changes at the front are folded into the stored lock. m.mu is
// held for writing.
func (m *manager) settle(t string) {
	to := m.pending[t]
	if to == nil {
		return // settled already, by another op of the same change
	}
	v, dying := to.base, false
	for _, o := range to.ops {
		switch {
		case o.state == opFailed:
		case o.put != nil:
			v, dying = o.put, false
		case o.state == opStored:
			v, dying = nil, false
		default:
			dying = v != nil
		}
	}
	if m.byToken[t] != v {
		m.remove(t)
		if v != nil {
			m.insert(v)
		}
	}
	if dying {
		m.dying[t] = v
	} else {
		delete(m.dying, t)
	}
	n := 0
	for ; n < len(to.ops) && to.ops[n].state != opPending; n++ {
		if o := to.ops[n]; o.state == opStored {
			to.base = o.put // nil for a removal
		}
	}
	to.ops = to.ops[n:]
	if len(to.ops) == 0 {
		delete(m.pending, t)
	}
}

// sweep returns the tokens of every expired lock when a sweep is due.
func (m *manager) sweep(now time.Time) []string {
	if now.Before(m.nextSweep) {
		return nil
	}
	m.nextSweep = now.Add(sweepInterval)
	var del []string
	for t, l := range m.byToken {
		if expired(l, now) && m.dying[t] == nil {
			del = append(del, t)
		}
	}
	return del
}

func validPath(p string) bool {
	return p != "" && p[0] == '/' && path.Clean(p) == p && !strings.ContainsRune(p, 0)
}

// check returns the context's error or an error for an invalid path.
func check(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !validPath(p) {
		return fmt.Errorf("lock: invalid path %q", p)
	}
	return nil
}

func clone(l *Lock) Lock {
	c := *l
	c.Owner = slices.Clone(l.Owner)
	return c
}

// conflicts reports whether an existing lock and a request are incompatible.
func conflicts(have *Lock, req *Lock) bool { return have.Exclusive || req.Exclusive }

// Create implements Manager. The requested Timeout is capped to
// Options.MaxTimeout (0 asks for infinite).
func (m *manager) Create(ctx context.Context, l Lock) (Lock, error) {
	l, wait, err := m.Stage(ctx, l)
	if err == nil {
		err = wait()
	}
	if err != nil {
		return Lock{}, err
	}
	return l, nil
}

// Stage implements Stager.
func (m *manager) Stage(ctx context.Context, l Lock) (Lock, func() error, error) {
	if err := ctx.Err(); err != nil {
		return Lock{}, nil, err
	}
	if !validPath(l.Root) {
		return Lock{}, nil, fmt.Errorf("lock: invalid root %q", l.Root)
	}
	if l.Depth != 0 && l.Depth != Infinity {
		return Lock{}, nil, fmt.Errorf("lock: invalid depth %d", l.Depth)
	}
	if l.Timeout < 0 {
		return Lock{}, nil, fmt.Errorf("lock: negative timeout %v", l.Timeout)
	}
	m.mu.Lock()
	c, err := m.create(&l)
	m.mu.Unlock()
	if err != nil {
		c.done() // the expired locks met on the way; the refusal stands
		return Lock{}, nil, err
	}
	return clone(&l), c.done, nil
}

// create is Create's step with m.mu held for writing: it stages l, with
// its token and expiry filled in, or the removal of the expired locks it
// met on the way when it is refused (the refusal stands either way).
func (m *manager) create(l *Lock) (*change, error) {
	now := m.now()
	del := m.sweep(now)
	var err error
	visit := func(have *Lock) {
		switch {
		case expired(have, now):
			del = append(del, have.Token)
		case conflicts(have, l):
			err = fmt.Errorf("%w: %s by %s", ErrLocked, l.Root, have.Root)
		}
	}
	for _, have := range m.byRoot[l.Root] {
		visit(have)
	}
	ancestors(l.Root, func(a string) {
		for _, have := range m.byRoot[a] {
			if have.Depth == Infinity {
				visit(have)
			}
		}
	})
	if l.Depth == Infinity {
		for _, have := range m.below[l.Root] {
			visit(have)
		}
	}
	if err == nil {
		l.Token = m.opt.NewToken()
		if _, dup := m.byToken[l.Token]; dup {
			err = fmt.Errorf("lock: token generator returned a duplicate %q", l.Token)
		}
	}
	if err != nil {
		return m.stage(nil, del), err
	}
	l.Owner = slices.Clone(l.Owner)
	m.setTimeout(l, l.Timeout, now)
	return m.stage([]*Lock{l}, del), nil
}

func (m *manager) setTimeout(l *Lock, requested time.Duration, now time.Time) {
	l.Timeout = m.opt.grant(requested)
	l.Expires = time.Time{}
	if l.Timeout != 0 {
		l.Expires = now.Add(l.Timeout)
	}
}

// Refresh implements Manager. The timeout is capped as in Create.
func (m *manager) Refresh(ctx context.Context, token string, timeout time.Duration) (Lock, error) {
	if err := ctx.Err(); err != nil {
		return Lock{}, err
	}
	if timeout < 0 {
		return Lock{}, fmt.Errorf("lock: negative timeout %v", timeout)
	}
	m.mu.Lock()
	now := m.now()
	var n Lock
	del := m.sweep(now)
	l, err := m.live(token, now, &del)
	var c *change
	if err == nil {
		n = *l // the index's locks are never changed, only replaced
		m.setTimeout(&n, timeout, now)
		c = m.stage([]*Lock{&n}, del)
	} else {
		c = m.stage(nil, del)
	}
	m.mu.Unlock()
	if serr := c.done(); err == nil && serr != nil {
		return Lock{}, serr
	}
	if err != nil {
		return Lock{}, err
	}
	return clone(&n), nil
}

// live returns the unexpired lock with this token, adding it to *del
// when it has expired. A dying lock is no longer its token's. m.mu is
// held for writing.
func (m *manager) live(token string, now time.Time, del *[]string) (*Lock, error) {
	l := m.byToken[token]
	if l == nil || m.dying[token] != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchLock, token)
	}
	if expired(l, now) {
		*del = append(*del, token)
		return nil, fmt.Errorf("%w: %s expired", ErrNoSuchLock, token)
	}
	return l, nil
}

// Unlock implements Manager. An expired token is ErrNoSuchLock.
func (m *manager) Unlock(ctx context.Context, token string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	now := m.now()
	del := m.sweep(now)
	_, err := m.live(token, now, &del)
	if err == nil {
		del = append(del, token)
	}
	c := m.stage(nil, del)
	m.mu.Unlock()
	if serr := c.done(); err == nil {
		err = serr
	}
	return err
}

// Get implements Manager.
func (m *manager) Get(ctx context.Context, token string) (Lock, error) {
	if err := ctx.Err(); err != nil {
		return Lock{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	l := m.byToken[token]
	if l == nil || m.dying[token] != nil || expired(l, m.now()) {
		return Lock{}, fmt.Errorf("%w: %s", ErrNoSuchLock, token)
	}
	return clone(l), nil
}

// Covering implements Manager in O(depth of p + locks found). The result is
// sorted by root (so shallowest first), then token.
func (m *manager) Covering(ctx context.Context, p string) ([]Lock, error) {
	if err := check(ctx, p); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	now := m.now()
	var live []*Lock
	add := func(s map[string]*Lock, needInfinity bool) {
		for _, l := range s {
			if (!needInfinity || l.Depth == Infinity) && !expired(l, now) {
				live = append(live, l)
			}
		}
	}
	add(m.byRoot[p], false)
	ancestors(p, func(a string) { add(m.byRoot[a], true) })
	return sortedClones(live), nil
}

// Below implements Manager in O(locks rooted below p), expired ones
// included, through the ancestor index. The result is sorted by root, then
// token; the order is kept (sorted) until a lock below p changes.
func (m *manager) Below(ctx context.Context, p string) ([]Lock, error) {
	if err := check(ctx, p); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	below := m.below[p]
	if len(below) == 0 {
		return nil, nil
	}
	m.sortedMu.Lock()
	ls, ok := m.sorted[p]
	if !ok {
		ls = make([]*Lock, 0, len(below))
		for _, l := range below {
			ls = append(ls, l)
		}
		slices.SortFunc(ls, byRootToken)
		m.sorted[p] = ls
	}
	m.sortedMu.Unlock()
	now := m.now()
	var out []Lock
	for _, l := range ls {
		if !expired(l, now) {
			if out == nil {
				out = make([]Lock, 0, len(ls))
			}
			out = append(out, *l)
		}
	}
	cloneOwners(out)
	return out, nil
}

// RemoveTree implements Manager in O(locks at or below p).
func (m *manager) RemoveTree(ctx context.Context, p string) error {
	if err := check(ctx, p); err != nil {
		return err
	}
	m.mu.Lock()
	del := m.sweep(m.now())
	for t := range m.byRoot[p] {
		del = append(del, t)
	}
	for t := range m.below[p] {
		del = append(del, t)
	}
	slices.Sort(del)
	c := m.stage(nil, slices.Compact(del))
	m.mu.Unlock()
	return c.done()
}

// byRootToken orders locks by root, then token.
func byRootToken(a, b *Lock) int {
	return cmp.Or(cmp.Compare(a.Root, b.Root), cmp.Compare(a.Token, b.Token))
}

// sortedClones returns copies of ls sorted by root, then token (nil for
// none). The pointers are sorted, not the locks, which are large.
func sortedClones(ls []*Lock) []Lock {
	if len(ls) == 0 {
		return nil
	}
	slices.SortFunc(ls, byRootToken)
	out := make([]Lock, len(ls))
	for i, l := range ls {
		out[i] = *l
	}
	cloneOwners(out)
	return out
}

// cloneOwners gives each lock of ls a copy of its owner, all copies in one
// allocation (a folder of locked documents has a lock a file, each with
// an owner), each limited in capacity so that an append copies it.
func cloneOwners(ls []Lock) {
	n := 0
	for i := range ls {
		n += len(ls[i].Owner)
	}
	var buf []byte
	if n > 0 {
		buf = make([]byte, 0, n)
	}
	for i := range ls {
		o := ls[i].Owner
		if len(o) == 0 {
			ls[i].Owner = o[:0:0] // nil stays nil, as with slices.Clone
			continue
		}
		start := len(buf)
		buf = append(buf, o...)
		ls[i].Owner = buf[start:len(buf):len(buf)]
	}
}
