package storage

import (
	"container/list"
	"os"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// dirCache keeps the names of small folders between listings: the
// getdents64 records of the whole folder and the folder open, so that
// listing it again costs neither the open, the two getdents64 calls nor
// the close. On ext4 those are about 36 µs for a folder of 100 files (the
// file system hashes and sorts every name on each read of a folder, and
// frees that on close), some 12% of a Depth 1 PROPFIND of it; the stat of
// each entry is still made on every listing, so sizes, times and ETags are
// always current.
//
// A kept folder is never stale. Every kept folder has an inotify watch for
// the changes of its names (a name created, removed or moved in or out),
// for its own attributes and for its removal or move. The kernel queues
// such an event inside the system call that makes the change, before that
// call returns, and a listing reads the queue (one read that finds it
// empty, 0.4 µs) and drops what changed before it uses a kept folder. So
// any change finished before a listing starts is in what it lists; a change
// made while it runs may or may not be, as with getdents64 itself. A lost
// event (the queue overflowed) drops every kept folder. A folder is found
// by the device and inode its path leads to now (described through the
// root as Stat does), so a folder moved away, or replaced at its path,
// is never listed for its path.
//
// Only folders on local file systems whose changes all go through this
// kernel are kept (see keptFS), checked for each folder, since another
// file system may be mounted below the root; on others (NFS, FUSE,
// overlays) every listing reads the folder. A folder whose records do not fit one read of the listing
// buffer is not kept either, so the cache holds at most maxKeptDirs
// folders and maxKeptBytes of records. A folder unused for idleRounds
// sweeps (sweepEvery apart, so between 5 and 10 seconds, as the file
// cache's) is closed: a file system mounted below the root is kept busy by
// a kept folder (umount fails), and a removed one's inode held, no longer
// than that.
type dirCache struct {
	mu    sync.Mutex
	in    int // the inotify descriptor, non-blocking; -1 once closed
	byKey map[dirKey]*keptDir
	byWd  map[int32]*keptDir
	fills map[int32]*dirFill // watches added by fills in flight
	bytes int
	lru   list.List // the kept folders, most recently used first
	ev    [4096]byte
	epoch uint32      // sweeps so far
	timer *time.Timer // the next sweep; nil when nothing is kept

	// Admission: a folder is kept from its second listing among the last
	// maxKeptDirs listings of folders not kept (recent, a ring of their
	// paths), so that a walk through a tree, which lists each folder
	// once, neither pays for keeping folders nor pushes out the ones
	// listed again and again. kept maps the paths kept folders were read
	// at, a hint that lets a listing of any other path skip the cache at
	// no system call's cost. Paths are hints only, shared by every
	// LocalFS: a folder is always found by device and inode.
	recent   [maxKeptDirs]string
	recentAt int
	inRecent map[string]int // how many times each path is in recent
	kept     map[string]int // kept folders read at each path

	// For tests: hits counts listings served from a kept folder, and
	// afterFill, when set, runs between a fill's read of the folder and
	// its keeping.
	hits      int
	afterFill func()
}

// Bounds of the cache: folders kept, and their records' bytes in all.
const (
	maxKeptDirs  = 128
	maxKeptBytes = 1 << 20
)

// watchMask is what a kept folder's watch reports: every change of its
// names, of its own attributes (permissions), and its removal or move.
// Changes to the content of its files are not needed: each listing
// describes every entry afresh.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

type dirKey struct{ dev, ino uint64 }

// keptDir is one kept folder: open, with its records, which never change.
type keptDir struct {
	key  dirKey
	rel  string // the path it was read at (dirCache.kept)
	fd   int
	wd   int32
	recs []byte
	refs int           // listings using fd
	gone bool          // dropped: fd is closed when refs reaches 0
	elem *list.Element // in dirCache.lru
	used uint32        // the epoch of the last use
}

// dirFill is a watch added for a folder being read: dirty once any event
// of that watch is seen, which means the read may be stale.
type dirFill struct {
	n     int // fills in flight with this watch
	dirty bool
}

// keptFS lists the file systems (statfs f_type) whose folders may be kept:
// local ones, changed only through this kernel, whose changes inotify sees.
var keptFS = map[int64]bool{
	unix.EXT4_SUPER_MAGIC:  true, // also ext2 and ext3
	unix.XFS_SUPER_MAGIC:   true,
	unix.BTRFS_SUPER_MAGIC: true,
	unix.TMPFS_MAGIC:       true,
	unix.F2FS_SUPER_MAGIC:  true,
}

// sharedDirs is the process's one cache, for every LocalFS: one inotify
// instance in all (a user has 128 by default, shared with their other
// programs), one set of bounds, and a folder kept once however many
// LocalFS (locations, users' folders) reach it. Entries are found by
// device and inode, and what a LocalFS hides is left out at each listing,
// so sharing them is safe.
var sharedDirs struct {
	once sync.Once
	c    *dirCache
}

// folderCache returns the shared cache when the folders of the file system
// holding the folder top may be kept, else nil (also when inotify is not
// available).
func folderCache(top *os.File) *dirCache {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(top.Fd()), &sfs); err != nil || !keptFS[int64(sfs.Type)] {
		return nil
	}
	sharedDirs.once.Do(func() { sharedDirs.c = newDirCache() })
	return sharedDirs.c
}

// newDirCache returns an empty cache, or nil when inotify is not
// available.
func newDirCache() *dirCache {
	in, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	return &dirCache{in: in, byKey: map[dirKey]*keptDir{}, byWd: map[int32]*keptDir{}, fills: map[int32]*dirFill{},
		inRecent: map[string]int{}, kept: map[string]int{}}
}

// close drops every kept folder and the inotify descriptor (for tests: the
// shared cache lives as long as the process). Listings still running keep
// their folder open until they end.
func (c *dirCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.byKey {
		c.drop(d, false)
	}
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if c.in >= 0 {
		unix.Close(c.in)
		c.in = -1
	}
}

// wanted reports whether a listing of the folder at rel should look for it
// in the cache and keep it if it is not there: when a kept folder was read
// at that path, or when the path was listed recently. Otherwise the path
// becomes recent, and the listing reads the folder as without a cache.
func (c *dirCache) wanted(rel string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kept[rel] > 0 || c.inRecent[rel] > 0 {
		return true
	}
	if old := c.recent[c.recentAt]; old != "" {
		if c.inRecent[old]--; c.inRecent[old] == 0 {
			delete(c.inRecent, old)
		}
	}
	c.recent[c.recentAt] = rel
	c.inRecent[rel]++
	c.recentAt = (c.recentAt + 1) % len(c.recent)
	return false
}

// lookup returns the kept folder key names, in use by the caller until
// release, or nil.
func (c *dirCache) lookup(key dirKey) *keptDir {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.drain() {
		return nil
	}
	d := c.byKey[key]
	if d == nil {
		return nil
	}
	d.refs++
	d.used = c.epoch
	c.hits++
	c.lru.MoveToFront(d.elem)
	return d
}

// release ends the caller's use of d.
func (c *dirCache) release(d *keptDir) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d.refs--
	if d.gone && d.refs == 0 {
		unix.Close(d.fd)
	}
}

// startFill adds a watch on the folder open as fd, before the caller reads
// it; ok is false when none could be added (the folder is then not kept).
func (c *dirCache) startFill(fd int) (wd int32, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.drain() {
		return 0, false
	}
	// The watch goes through the descriptor's link in /proc, so that it
	// is on the very folder read, whatever its path has become.
	w, err := unix.InotifyAddWatch(c.in, "/proc/self/fd/"+strconv.Itoa(fd), watchMask)
	if err != nil {
		return 0, false
	}
	wd = int32(w)
	f := c.fills[wd]
	if f == nil {
		f = &dirFill{}
		c.fills[wd] = f
	}
	f.n++
	return wd, true
}

// endFill keeps the folder read by a fill, open as fd with the records
// recs, unless an event of its watch came since the watch was added (what
// was read may then be stale). It reports whether it kept it; the caller
// closes fd when it did not. A kept folder is in use by the caller until
// release.
func (c *dirCache) endFill(wd int32, key dirKey, rel string, fd int, recs []byte) (*keptDir, bool) {
	if c.afterFill != nil {
		c.afterFill()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	drained := c.drain()
	f := c.fills[wd]
	f.n--
	if f.n == 0 {
		delete(c.fills, wd)
	}
	keep := fd >= 0 && recs != nil && drained && !f.dirty && c.byKey[key] == nil && c.byWd[wd] == nil && len(recs) <= maxKeptBytes/4
	if !keep {
		c.unwatch(wd)
		return nil, false
	}
	d := &keptDir{key: key, rel: rel, fd: fd, wd: wd, recs: recs, refs: 1, used: c.epoch}
	c.byKey[key], c.byWd[wd] = d, d
	if c.timer == nil {
		c.timer = time.AfterFunc(sweepEvery, c.sweep)
	}
	c.kept[rel]++
	c.bytes += len(recs)
	d.elem = c.lru.PushFront(d)
	for len(c.byKey) > maxKeptDirs || c.bytes > maxKeptBytes {
		c.drop(c.lru.Back().Value.(*keptDir), true)
	}
	return d, true
}

// sweep drops the folders unused for idleRounds sweeps, and runs again
// while any folder is kept.
func (c *dirCache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer == nil {
		return // closed
	}
	c.epoch++
	for _, d := range c.byKey {
		if c.epoch-d.used >= idleRounds {
			c.drop(d, true)
		}
	}
	if len(c.byKey) == 0 {
		c.timer = nil
		return
	}
	c.timer.Reset(sweepEvery)
}

// unwatch removes the watch wd when neither a kept folder nor a fill in
// flight uses it.
func (c *dirCache) unwatch(wd int32) {
	if c.byWd[wd] == nil && c.fills[wd] == nil && c.in >= 0 {
		unix.InotifyRmWatch(c.in, uint32(wd))
	}
}

// drop forgets the kept folder d, closing it unless a listing uses it,
// and removes its watch when unwatch is set (not when the watch is gone
// already).
func (c *dirCache) drop(d *keptDir, unwatch bool) {
	if c.byKey[d.key] != d {
		return
	}
	delete(c.byKey, d.key)
	delete(c.byWd, d.wd)
	if c.kept[d.rel]--; c.kept[d.rel] == 0 {
		delete(c.kept, d.rel)
	}
	c.bytes -= len(d.recs)
	c.lru.Remove(d.elem)
	d.gone = true
	if d.refs == 0 {
		unix.Close(d.fd)
	}
	if unwatch {
		c.unwatch(d.wd)
	}
}

// drain reads every queued event and drops the folders they concern; it
// reports false when the queue cannot be read (then nothing kept may be
// trusted, and everything is dropped).
func (c *dirCache) drain() bool {
	if c.in < 0 {
		return false
	}
	for {
		n, err := unix.Read(c.in, c.ev[:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return true
		case err != nil || n <= 0:
			c.dropAll()
			return false
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			e := (*unix.InotifyEvent)(unsafe.Pointer(&c.ev[off]))
			off += unix.SizeofInotifyEvent + int(e.Len)
			c.event(e.Wd, e.Mask)
		}
	}
}

// event handles one event of the watch wd.
func (c *dirCache) event(wd int32, mask uint32) {
	if mask&unix.IN_Q_OVERFLOW != 0 {
		c.dropAll()
		return
	}
	if f := c.fills[wd]; f != nil {
		f.dirty = true
	}
	if d := c.byWd[wd]; d != nil {
		// An IN_IGNORED says the watch is gone (its folder removed, or
		// the watch removed): nothing left to remove.
		c.drop(d, mask&unix.IN_IGNORED == 0)
	}
}

// dropAll drops every kept folder and marks every fill in flight stale.
func (c *dirCache) dropAll() {
	for _, f := range c.fills {
		f.dirty = true
	}
	for _, d := range c.byKey {
		c.drop(d, true)
	}
}
