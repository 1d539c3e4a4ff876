package storage

import (
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// fileCache keeps small files open between reads of them, so that serving
// one again costs a pread instead of an open, an fstat, a read and a
// close (GET of a 4 KiB file, interleaved with the build before: about
// +20% requests per second; docs/performance.md).
//
// A kept descriptor is never used blindly. Every read still starts with the
// look that OpenInfo makes anyway (describe: the name resolved afresh
// through the root, as an open would), and the kept descriptor is used only
// when that look finds the very file it holds, unchanged: the same device,
// inode, size, mode, modification and change times. Content is always read
// from the file at that moment, never kept. What an open would check
// again is covered by the look and the change time: the path's folders are
// searched afresh, a renamed or replaced name leads to another inode, a
// removed one to nothing, and a change of the file's permissions, owner,
// ACL or security label, or of its content, sets its change time.
//
// A change time only tells apart changes made in different ticks of the
// kernel's clock, so a file is kept only when its change time is at least
// settleTime old when it is opened: any later change then gets a later
// change time than the one recorded.
//
// Only regular files smaller than the caller's buffer, on the file system
// of the root itself, which must be local (keptFS), are kept. The cache is
// bounded: maxKeptFiles descriptors in all, for every LocalFS, and never
// more than a sixteenth of the process's limit on open files, which
// connections need first. A descriptor unused for idleRounds sweeps
// (sweepEvery apart, so between 5 and 10 seconds) is closed: a kept file
// removed by another program holds its disk space, and a file system
// mounted below the root stays busy, no longer than that. Davit's own
// Remove, Rename, Put and CopyFile drop what they replace or remove at
// once.
type fileCache struct {
	mu    sync.Mutex
	m     map[fileKey]*keptFile
	max   int // the bound: maxKeptFiles or less (keptBound)
	epoch uint32
	timer *time.Timer

	hits int // for tests: reads served from a kept descriptor
}

type fileKey struct {
	l   *LocalFS
	rel string
}

// keptFile is one kept descriptor and what the look must find to use it.
// refs counts reads in progress; a dropped file (dead) is closed by the
// last of them, so a descriptor is never closed, and its number reused,
// under a read.
type keptFile struct {
	fd         int
	dev, ino   uint64
	size       int64
	mode       uint32
	mtim, ctim unix.Timespec
	used       uint32 // the epoch of the last use
	refs       int
	dead       bool
}

const (
	maxKeptFiles = 256
	sweepEvery   = 5 * time.Second
	idleRounds   = 2
)

// settleTime is how old a change time must be for its file to be kept.
// Tests lower it.
var settleTime = time.Second

// sharedFiles is the process's one fileCache.
var sharedFiles = newFileCache(keptBound())

func newFileCache(max int) *fileCache {
	return &fileCache{m: map[fileKey]*keptFile{}, max: max}
}

// keptBound is maxKeptFiles, or a sixteenth of the soft limit on open
// files when that is less (Go raises the soft limit to the hard one at
// start; a hard limit of 1024 leaves 64).
func keptBound() int {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return int(min(uint64(maxKeptFiles), rl.Cur/16))
}

// fileCacheFor returns the shared cache when the files of the root folder
// top may be kept (a local file system), else nil; dev is the root's
// device, the only one whose files are kept.
func fileCacheFor(top *os.File) (c *fileCache, dev uint64) {
	var sfs unix.Statfs_t
	var st unix.Stat_t
	if unix.Fstatfs(int(top.Fd()), &sfs) != nil || !keptFS[int64(sfs.Type)] || unix.Fstat(int(top.Fd()), &st) != nil {
		return nil, 0
	}
	return sharedFiles, st.Dev
}

func (k *keptFile) matches(st *unix.Stat_t) bool {
	return k.dev == st.Dev && k.ino == st.Ino && k.size == st.Size && k.mode == st.Mode &&
		k.mtim == st.Mtim && k.ctim == st.Ctim
}

// read reads the file l's rel names, as the look st describes it, into
// buf through a kept descriptor: ok is false when none is kept for it, or
// the kept one is not that file unchanged (it is then dropped), or the read
// does not return st.Size bytes. st nil says the look found no file there
// (nothing, a folder, anything else): what is kept for rel is dropped.
func (c *fileCache) read(l *LocalFS, rel string, st *unix.Stat_t, buf []byte) (body []byte, ok bool) {
	if c == nil {
		return nil, false
	}
	key := fileKey{l, rel}
	c.mu.Lock()
	k := c.m[key]
	switch {
	case k == nil:
		c.mu.Unlock()
		return nil, false
	case st == nil || !k.matches(st):
		c.dropLocked(key, k)
		c.mu.Unlock()
		return nil, false
	case st.Size >= int64(len(buf)):
		// A caller with no buffer, or too small a one, reads from an
		// open file: the kept file stays for the next read that fits.
		c.mu.Unlock()
		return nil, false
	}
	k.refs++
	k.used = c.epoch
	c.mu.Unlock()

	b := buf[:st.Size+1]
	n, err := preadFull(k.fd, b)

	c.mu.Lock()
	defer c.mu.Unlock()
	k.refs--
	if err != nil || int64(n) != st.Size {
		// Changed since the look: the caller opens it afresh.
		if c.m[key] == k {
			c.dropLocked(key, k)
		} else {
			k.closeIfDone() // dropped while it was read
		}
		return nil, false
	}
	k.closeIfDone() // dropped while it was read
	c.hits++
	return b[:n], true
}

// preadFull is one pread from the start, retried on EINTR. One call
// suffices: a regular file's read returns all that is there up to len(b),
// and a result of st.Size, short of the st.Size+1 asked, is the end.
func preadFull(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Pread(fd, b, 0)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// keep takes fd, open on the file l's rel names and described by st (its
// fstat), into the cache, and reports whether it did; when it did not, fd
// is still the caller's to close.
func (c *fileCache) keep(l *LocalFS, rel string, fd int, st *unix.Stat_t, buf []byte, now time.Time) bool {
	if c == nil || c.max == 0 || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Dev != l.dev || st.Size >= int64(len(buf)) ||
		now.Sub(time.Unix(st.Ctim.Unix())) < settleTime {
		return false
	}
	key := fileKey{l, rel}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[key]; old != nil {
		c.dropLocked(key, old)
	}
	if len(c.m) >= c.max && !c.evictLocked() {
		return false
	}
	c.m[key] = &keptFile{fd: fd, dev: st.Dev, ino: st.Ino, size: st.Size, mode: st.Mode,
		mtim: st.Mtim, ctim: st.Ctim, used: c.epoch}
	if c.timer == nil {
		c.timer = time.AfterFunc(sweepEvery, c.sweep)
	}
	return true
}

// evictLocked drops the least recently used file that no read holds.
func (c *fileCache) evictLocked() bool {
	var (
		victim fileKey
		vk     *keptFile
	)
	for key, k := range c.m {
		if k.refs == 0 && (vk == nil || k.used < vk.used) {
			victim, vk = key, k
		}
	}
	if vk == nil {
		return false
	}
	c.dropLocked(victim, vk)
	return true
}

func (c *fileCache) dropLocked(key fileKey, k *keptFile) {
	delete(c.m, key)
	k.dead = true
	k.closeIfDone()
}

func (k *keptFile) closeIfDone() {
	if k.dead && k.refs == 0 && k.fd >= 0 {
		unix.Close(k.fd)
		k.fd = -1
	}
}

// sweep closes the files unused for idleRounds sweeps, and runs again
// while any file is kept.
func (c *fileCache) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for key, k := range c.m {
		if c.epoch-k.used >= idleRounds {
			c.dropLocked(key, k)
		}
	}
	if len(c.m) == 0 {
		c.timer = nil
		return
	}
	c.timer.Reset(sweepEvery)
}

// forget drops what l keeps at rel and below it: Davit's own changes
// release a removed or replaced file's descriptor at once rather than at
// the next sweep. rel "." is everything l keeps.
func (c *fileCache) forget(l *LocalFS, rel string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, k := range c.m {
		if key.l == l && (rel == "." || key.rel == rel || strings.HasPrefix(key.rel, rel+"/")) {
			c.dropLocked(key, k)
		}
	}
}
