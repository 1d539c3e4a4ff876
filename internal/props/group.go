package props

import (
	"errors"
	"fmt"
	"sync"

	"go.etcd.io/bbolt"
)

// maxGroup bounds the writes one transaction carries.
const maxGroup = 128

// group commits the writes that arrive while another commit is under way
// together, in one bbolt transaction: one sync of the database for all of
// them, where each alone would wait for its own. A write that finds no
// commit under way starts one at once, so a lone client (Windows
// Explorer's one PROPPATCH after each upload) waits no longer than it
// would without the group; bbolt's own Batch instead holds every write
// for a fixed delay (10 ms by default), and with no delay its batches
// leave before the writes behind them have queued.
//
// The writer that commits (the leader) takes the whole queue, commits
// it, and hands the lead to the first write that queued meanwhile, so no
// writer commits more than its own group. Each write's function must be
// safe to run again (it is re-run when another write of its group fails)
// and must touch nothing but the bucket it is given.
type group struct {
	db    *bbolt.DB
	mu    sync.Mutex
	queue []*write
	busy  bool // a leader is committing
}

type write struct {
	f    func(b *bbolt.Bucket) error
	done chan error // the outcome, or errLead
}

// errLead tells a queued write that it leads the next commit.
var errLead = errors.New("props: lead the next commit")

// update runs f in a write transaction of the props bucket and returns
// once that transaction is durable (as durable as the database's NoSync
// allows), with f's error, or the commit's, or nil.
func (g *group) update(f func(b *bbolt.Bucket) error) error {
	w := &write{f: f, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	if g.busy {
		g.mu.Unlock()
		if err := <-w.done; err != errLead {
			return err
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	g.commit(batch) // w is batch[0]: the queue's first write leads

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- errLead
	} else {
		g.busy = false
		g.queue = nil // let the backing array go
	}
	g.mu.Unlock()
	return <-w.done
}

// commit runs batch in one transaction and gives each write its outcome.
// A write whose function fails gets that error, and the others are run
// again without it: its failure was decided on the state the writes
// before it left, as if it had run alone right after them, and it
// changed nothing.
func (g *group) commit(batch []*write) {
	for len(batch) > 0 {
		failed, ferr := -1, error(nil)
		err := g.db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte(BoltBucket))
			if b == nil {
				return errNoBucket
			}
			for i, w := range batch {
				if err := safely(w.f, b); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, w := range batch {
				w.done <- err // the commit's outcome
			}
			return
		}
		batch[failed].done <- ferr
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
}

// safely runs f, turning a panic into an error, so that one write's
// fault fails that write and never leaves the others of its group
// waiting.
func safely(f func(b *bbolt.Bucket) error, b *bbolt.Bucket) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("props: write panicked: %v", p)
		}
	}()
	return f(b)
}
