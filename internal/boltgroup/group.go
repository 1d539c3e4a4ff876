// Package boltgroup commits the writes to a bbolt bucket that arrive
// together in one transaction (group commit).
package boltgroup

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"go.etcd.io/bbolt"
)

// maxGroup bounds the writes one transaction carries.
const maxGroup = 128

// Group commits the writes that arrive while another commit is under way
// together, in one bbolt transaction: one sync of the database for all of
// them (one pass over bbolt's pages when the database does not sync),
// where each alone would wait for its own. A write that finds no commit
// under way starts one at once, so a lone client (Windows Explorer's one
// PROPPATCH after each upload) waits no longer than it would without the
// group; bbolt's own Batch instead holds every write for a fixed delay
// (10 ms by default), and with no delay its batches leave before the
// writes behind them have queued.
//
// The writes are committed in the order they were submitted: the durable
// state is always the outcome of a prefix of them. The writer that
// commits (the leader) takes the whole queue, commits it, and hands the
// lead to the first write that queued meanwhile, so no writer commits
// more than its own group. Each write's function must be safe to run
// again (it is re-run when another write of its group fails) and must
// touch nothing but the bucket it is given.
//
// A Group must be the only writer of its bucket. Use New: the zero value
// is not usable.
type Group struct {
	db      *bbolt.DB
	bucket  []byte
	missing error // the error of a transaction that finds no bucket

	mu    sync.Mutex
	queue []*write
	busy  bool // a leader is committing, or a write submitted to lead has yet to wait
}

type write struct {
	f    func(b *bbolt.Bucket) error
	done chan error // the outcome, or errLead
}

// ErrNoBucket is the error of every write of a transaction that finds no
// bucket.
var ErrNoBucket = errors.New("boltgroup: bucket missing")

// errLead tells a queued write that it leads the next commit.
var errLead = errors.New("boltgroup: lead the next commit")

// New returns a Group committing to the bucket of db, which must exist
// when a write is committed.
func New(db *bbolt.DB, bucket string) *Group {
	return &Group{db: db, bucket: []byte(bucket), missing: fmt.Errorf("%w: %q", ErrNoBucket, bucket)}
}

// Update runs f in a write transaction of the bucket and returns once that
// transaction is durable (as durable as the database's NoSync allows),
// with f's error, or the commit's, or nil.
func (g *Group) Update(f func(b *bbolt.Bucket) error) error {
	return g.Submit(f)()
}

// Submit queues f behind every write submitted before it and returns the
// wait for its outcome, which Update returns. The wait must be called,
// once: a write submitted when no commit is under way leads the next one,
// and every later write waits for it to. A caller may so fix the order of
// its writes under its own lock and wait after releasing it.
func (g *Group) Submit(f func(b *bbolt.Bucket) error) (wait func() error) {
	w := &write{f: f, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.busy
	g.busy = true
	g.mu.Unlock()
	return func() error {
		if !lead {
			if err := <-w.done; err != errLead {
				return err
			}
		} else if runtime.GOMAXPROCS(0) == 1 {
			// Let the writers that are ready run first, so that they
			// queue for this commit: on one processor (a server pinned
			// to a core) a commit that does not sync never blocks, and
			// without the yield no group would form. With nothing else
			// ready it returns at once. With more processors the others
			// queue while this one commits, and a yield would wake an
			// idle processor on every commit (a lone writer's commit
			// took half as long again with it).
			runtime.Gosched()
		}
		g.lead()
		return <-w.done
	}
}

// lead commits the writes at the head of the queue, the leader's own
// first, and hands the lead on. Should the commit never return (a write's
// function ended its goroutine, as runtime.Goexit does), the writes of
// the batch still get an outcome and the lead is still handed on, so that
// no writer waits for good.
func (g *Group) lead() {
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	committed := false
	defer func() {
		if !committed {
			for _, w := range batch {
				w.done <- errAborted // each has room: commit gives outcomes only as it returns
			}
		}
		g.mu.Lock()
		if len(g.queue) > 0 {
			g.queue[0].done <- errLead
		} else {
			g.busy = false
			g.queue = nil // let the backing array go
		}
		g.mu.Unlock()
	}()
	g.commit(batch)
	committed = true
}

// errAborted is the outcome of the writes of a commit whose leader's
// goroutine ended in it.
var errAborted = errors.New("boltgroup: commit abandoned: a write ended its goroutine")

// commit runs batch in one transaction and gives each write its outcome
// once the transaction is over. A write whose function fails is left
// out, and the others are run again without it: its failure was decided
// on the state the writes before it left, as if it had run alone right
// after them, and it changed nothing. It gets its error only once those
// writes are committed, so that its caller sees them; should that commit
// fail, it gets the commit's error instead, as they do (its failure was
// decided on changes that never happened), unless no write came before
// it in its pass.
func (g *Group) commit(batch []*write) {
	type failure struct {
		w     *write
		err   error
		after bool // writes came before it in its pass
	}
	var failed []failure
	var err error
	for len(batch) > 0 {
		at := -1
		var ferr error
		err = g.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket(g.bucket)
			if b == nil {
				return g.missing
			}
			for i, w := range batch {
				if err := safely(w.f, b); err != nil {
					at, ferr = i, err
					return err
				}
			}
			return nil
		})
		if at < 0 {
			break
		}
		failed = append(failed, failure{batch[at], ferr, at > 0})
		batch = append(batch[:at:at], batch[at+1:]...)
		err = nil
	}
	for _, w := range batch {
		w.done <- err // the commit's outcome
	}
	for _, f := range failed {
		if f.after && err != nil {
			f.w.done <- err
		} else {
			f.w.done <- f.err
		}
	}
}

// safely runs f, turning a panic into an error, so that one write's
// fault fails that write and never leaves the others of its group
// waiting.
func safely(f func(b *bbolt.Bucket) error, b *bbolt.Bucket) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("boltgroup: write panicked: %v", p)
		}
	}()
	return f(b)
}
