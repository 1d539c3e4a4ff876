package storage

import (
	"errors"
	"io/fs"
	"strings"
	"sync"
)

// dirSyncs shares the syncs of a folder among the changes waiting for
// one: a change (a rename, a removal) is durable once its folder has been
// synced after it was made, so a sync started after several changes
// covers them all. Renames into one folder by several clients at once,
// and the members of a removed tree, each waiting for its folder, then
// cost one fsync a folder where each would have had its own.
type dirSyncs struct {
	mu sync.Mutex
	m  map[string]*dirSync // by folder (relative to the root)
}

// dirSync is one folder's changes and syncs, counted: changes noted so
// far, and the number of them known durable.
type dirSync struct {
	noted, synced uint64
	running       chan struct{} // closed when the sync under way ends; nil when none
	covers        uint64        // changes the sync under way covers
	waiting       int           // noted changes whose wait has not returned
	failed        uint64        // changes a failed sync covered: their waits fail with ferr
	ferr          error
}

// syncLater notes a change just made in the folder dir and returns the
// wait for it to be durable, which must be called once (nothing to wait
// for under NoSync).
func (l *LocalFS) syncLater(dir string) func() error {
	if l.noSync {
		return nothingToSync
	}
	d := &l.dsyncs
	d.mu.Lock()
	if d.m == nil {
		d.m = map[string]*dirSync{}
	}
	st := d.m[dir]
	if st == nil {
		st = &dirSync{}
		d.m[dir] = st
	}
	st.noted++
	st.waiting++
	change := st.noted
	d.mu.Unlock()
	return func() error { return d.wait(l, dir, st, change) }
}

// wait returns once the folder has been synced after change was noted:
// by a sync under way that began after it, or by one it starts.
func (d *dirSyncs) wait(l *LocalFS, dir string, st *dirSync, change uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for st.synced < change {
		if change <= st.failed {
			// A sync that began after it failed. Another would not
			// tell: Linux reports a failed writeback once, to the
			// descriptors open then, and a new one's fsync may succeed
			// with the change never written.
			d.release(dir, st)
			return st.ferr
		}
		if ch := st.running; ch != nil {
			d.mu.Unlock()
			<-ch
			d.mu.Lock()
			continue
		}
		ch := make(chan struct{})
		st.running, st.covers = ch, st.noted
		d.mu.Unlock()
		syncDir := l.syncDir
		if l.syncDirTest != nil {
			syncDir = l.syncDirTest
		}
		err := syncDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			// The folder was removed since (a folder renamed away is
			// synced first, see settle): its removal is its parent's to
			// sync, and its entries no longer matter.
			err = nil
		}
		d.mu.Lock()
		st.running = nil
		close(ch)
		if err != nil {
			st.failed, st.ferr = max(st.failed, st.covers), err
			d.release(dir, st)
			return err // and so do those it covered
		}
		st.synced = max(st.synced, st.covers)
	}
	d.release(dir, st)
	return nil
}

// release ends one wait, forgetting the folder after its last.
func (d *dirSyncs) release(dir string, st *dirSync) {
	if st.waiting--; st.waiting == 0 && st.running == nil {
		delete(d.m, dir)
	}
}

// settle syncs every folder at or below rel (a clean path relative to the
// root) that has changes waiting, before rel is renamed: the waits sync
// their folder by its path, which the rename is about to change.
func (l *LocalFS) settle(rel string) error {
	d := &l.dsyncs
	d.mu.Lock()
	var dirs []string
	for dir := range d.m {
		if rel == "." || dir == rel || strings.HasPrefix(dir, rel+"/") {
			dirs = append(dirs, dir)
		}
	}
	d.mu.Unlock()
	for _, dir := range dirs {
		if err := l.syncLater(dir)(); err != nil {
			return err
		}
	}
	return nil
}
