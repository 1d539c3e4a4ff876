package lock

import (
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/boltgroup"
)

// BoltBucket is the bbolt bucket holding the locks, one key per token, so
// the database may be shared with other stores.
const BoltBucket = "locks"

// Bolt is a Manager that persists its locks in a bbolt database, so they
// survive a restart. It answers every query from an in-memory index, as
// Memory does, and writes each change through before answering. Expired
// locks are dropped on load and lazily after.
//
// A Bolt owns its bucket: use one Bolt per database, and do not change the
// bucket behind its back. The changes that arrive while one is being
// written are written together (see boltgroup.Group), and nothing waits
// for a write holding the index: a new lock is in force while it is
// written, a removed one until it is written. Use NewBolt: the zero value
// is not usable.
type Bolt struct {
	*manager
}

var _ Stager = (*Bolt)(nil)

// record is the stored form of a Lock.
type record struct {
	Root      string        `json:"root"`
	Depth     int           `json:"depth"`
	Exclusive bool          `json:"exclusive,omitempty"`
	Owner     []byte        `json:"owner,omitempty"`
	Principal string        `json:"principal,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"`
	Expires   time.Time     `json:"expires,omitzero"`
}

// NewBolt opens the lock bucket of db, creating it if needed, and loads
// the live locks; expired ones are deleted.
func NewBolt(db *bbolt.DB, opt Options) (*Bolt, error) {
	b := &Bolt{}
	b.manager = newManager(opt, boltStore{boltgroup.New(db, BoltBucket)})
	now := b.now()
	err := db.Update(func(tx *bbolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists([]byte(BoltBucket))
		if err != nil {
			return err
		}
		var stale [][]byte
		err = bk.ForEach(func(k, v []byte) error {
			var r record
			if err := json.Unmarshal(v, &r); err != nil || !validPath(r.Root) || (r.Depth != 0 && r.Depth != Infinity) {
				stale = append(stale, k) // unreadable: drop rather than refuse to start
				return nil
			}
			l := &Lock{Token: string(k), Root: r.Root, Depth: r.Depth, Exclusive: r.Exclusive,
				Owner: r.Owner, Principal: r.Principal, Timeout: r.Timeout, Expires: r.Expires}
			if expired(l, now) {
				stale = append(stale, k)
				return nil
			}
			b.insert(l)
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range stale {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock: load %s bucket: %w", BoltBucket, err)
	}
	b.nextSweep = now.Add(sweepInterval)
	return b, nil
}

// boltStore stores the index's changes through a group commit: the
// changes staged while another is being written are written together,
// in one transaction, in the order staged.
type boltStore struct{ g *boltgroup.Group }

func (s boltStore) stage(put []*Lock, del []string) (wait func() error) {
	vals := make([][]byte, len(put))
	for i, l := range put {
		v, err := json.Marshal(record{Root: l.Root, Depth: l.Depth, Exclusive: l.Exclusive,
			Owner: l.Owner, Principal: l.Principal, Timeout: l.Timeout, Expires: l.Expires})
		if err != nil {
			return func() error { return fmt.Errorf("lock: store: %w", err) }
		}
		vals[i] = v
	}
	w := s.g.Submit(func(bk *bbolt.Bucket) error {
		for _, t := range del {
			if err := bk.Delete([]byte(t)); err != nil {
				return err
			}
		}
		for i, l := range put { // the index's locks are never changed
			if err := bk.Put([]byte(l.Token), vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return func() error {
		if err := w(); err != nil {
			return fmt.Errorf("lock: store: %w", err)
		}
		return nil
	}
}
