package storage

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// direntBuf is the size of the buffer List reads directory entries into:
// one getdents64 system call fills it with some 800 to 1,000 entries.
const direntBuf = 32 << 10

// statBatch is the most entries readDir describes in one fstatatMany call.
const statBatch = 256

// statResult is what fstatatMany reports of one entry: the fields of its
// stat a listing uses, or err, the errno of a failed call. Its layout is
// that of struct davit_stat in statmany_cgo.go.
type statResult struct {
	ino  uint64
	size int64
	sec  int64
	nsec int64
	mode uint32
	err  int32
}

// listScratch is the memory one readDir call works in: the getdents64
// buffer and a batch of entries found in it, with the names to describe and
// what fstatatMany said of them.
type listScratch struct {
	buf  [direntBuf]byte
	ents [statBatch]listEnt
	offs [statBatch]int32
	sts  [statBatch]statResult
}

// listEnt is one entry of a batch: where its record starts in the buffer,
// its name's length, and the index of its stat in the batch (-1 for a
// link by the directory's type field, which needs none).
type listEnt struct {
	off, n, st int32
}

var listScratches = sync.Pool{New: func() any { return new(listScratch) }}

// readDir yields the entries of the directory rel (relative to the root),
// whose Paths start with prefix, checking ctx before each buffer of
// entries. It returns the error that ends the walk, nil at the end or when
// yield asks to stop.
//
// Each entry costs one fstatat (for size, times and inode), made for up to
// statBatch entries at a time (fstatatMany), and, in memory, its Path and
// ETag strings, made in blocks shared by many entries (see infoIn); Name is
// a substring of Path. The rules are those of os.File.ReadDir as List used
// it: entries removed meanwhile are skipped, and so are pipes, sockets and
// devices, which the directory's own type field often tells without an
// fstatat. A symbolic link is followed through the root, so one leading
// outside is skipped. A small folder listed again may come from the
// dirCache: its names as they are now, without reading the folder.
func (l *LocalFS) readDir(ctx context.Context, rel, prefix string, yield func(Info, error) bool) error {
	c := l.dirs
	if c != nil && !c.wanted(rel) {
		c = nil
	}
	if c != nil {
		// A kept folder, if the path leads to one (dirCache).
		var st unix.Stat_t
		if done, err := l.describe(rel, &st); done && err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if d := c.lookup(dirKey{uint64(st.Dev), st.Ino}); d != nil {
				defer c.release(d)
				return l.listRecords(ctx, d.fd, rel, prefix, d.recs, yield)
			}
		}
	}
	fd, err := l.openDirFd(rel)
	if err != nil {
		return err
	}
	if c != nil {
		d, recs, ok, err := l.fill(c, fd, rel)
		switch {
		case err != nil:
			unix.Close(fd)
			return err
		case ok:
			if d != nil {
				defer c.release(d) // kept: the cache closes fd
			} else {
				defer unix.Close(fd)
			}
			return l.listRecords(ctx, fd, rel, prefix, recs, yield)
		}
	}
	defer unix.Close(fd)
	sc := listScratches.Get().(*listScratch)
	defer listScratches.Put(sc)
	lst := lister{l: l, fd: fd, rel: rel, prefix: prefix, sc: sc, yield: yield}
	buf := sc.buf[:]
	for read := false; ; read = true {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := getdents(fd, buf)
		if err == unix.ENOENT && read {
			// The folder was removed after its first read, whose
			// names may already be yielded (the kernel refuses to read
			// a removed folder, even for the read that would find its
			// end). The listing ends where it stands, as with any
			// change made while a listing runs; at the first read, the
			// folder is reported gone, as when it cannot be opened.
			return nil
		}
		if err != nil {
			return os.NewSyscallError("getdents64", err)
		}
		if n <= 0 {
			return nil
		}
		if !lst.records(buf[:n]) {
			return nil
		}
	}
}

// fill reads the whole folder open as fd for the cache c, when one read of
// the listing buffer holds it, and keeps it unless it changed meanwhile.
// ok is false when the folder is to be read as usual instead (too large,
// or no watch could be added); fd is then at its start, or err says why it
// could not be put back there. d is the kept folder, in use until
// released, or nil when the caller keeps fd and closes it.
func (l *LocalFS) fill(c *dirCache, fd int, rel string) (d *keptDir, recs []byte, ok bool, err error) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Size > maxFillSize {
		return nil, nil, false, nil
	}
	// The folder's own file system, not the root's: another may be
	// mounted below the root (an NFS share inside an ext4 folder), and
	// inotify does not see changes made on another machine.
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil || !keptFS[int64(sfs.Type)] {
		return nil, nil, false, nil
	}
	wd, ok := c.startFill(fd)
	if !ok {
		return nil, nil, false, nil
	}
	sc := listScratches.Get().(*listScratch)
	defer listScratches.Put(sc)
	buf := sc.buf[:]
	n, err := getdents(fd, buf)
	if err == nil && n > 0 {
		// The end of the folder must show within the same buffer: a
		// read that finds no more entries. (Too little room left for a
		// record fails with EINVAL.)
		var more int
		if more, err = getdents(fd, buf[n:]); more != 0 {
			err = unix.EINVAL
		}
	}
	if err != nil || n <= 0 {
		c.endFill(wd, dirKey{}, "", -1, nil)
		if _, err := unix.Seek(fd, 0, 0); err != nil {
			// Read on from where this read stopped, the listing would
			// miss names: fail it instead.
			return nil, nil, false, os.NewSyscallError("lseek", err)
		}
		return nil, nil, false, nil
	}
	recs = bytes.Clone(buf[:n])
	d, _ = c.endFill(wd, dirKey{uint64(st.Dev), st.Ino}, rel, fd, recs)
	return d, recs, true, nil
}

// maxFillSize is the largest folder (its st_size) fill tries to read
// whole: on ext4 a 16 KiB folder holds a few hundred names, whose records
// fit the listing buffer. Other file systems count differently; fill
// checks that the records fit. (A variable for tests.)
var maxFillSize int64 = 16 << 10

// getdents is unix.Getdents, again when interrupted.
func getdents(fd int, buf []byte) (int, error) {
	for {
		n, err := unix.Getdents(fd, buf)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// listRecords lists the folder open as fd whose getdents64 records are
// all in recs (a kept folder, or one just read whole).
func (l *LocalFS) listRecords(ctx context.Context, fd int, rel, prefix string, recs []byte, yield func(Info, error) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sc := listScratches.Get().(*listScratch)
	defer listScratches.Put(sc)
	lst := lister{l: l, fd: fd, rel: rel, prefix: prefix, sc: sc, yield: yield}
	lst.records(recs)
	return nil
}

// lister turns getdents64 records of the folder rel, open as fd, into the
// Infos it yields, describing the entries in batches (fstatatMany).
type lister struct {
	l           *LocalFS
	fd          int
	rel, prefix string
	sc          *listScratch
	yield       func(Info, error) bool
	arena       []byte // where the entries' Path and ETag strings are built (infoIn)
	described   int
	root        int8 // whether the folder is the root: 0 not known yet, 1 yes, -1 no
}

// records lists the entries of the records in buf; false means yield
// asked to stop.
func (t *lister) records(buf []byte) bool {
	ents, offs := t.sc.ents[:0], t.sc.offs[:0]
	for off := 0; off < len(buf); {
		// struct linux_dirent64: ino u64, off s64, reclen u16, type u8,
		// then the name, ending in NUL bytes within reclen.
		rec := buf[off : off+int(*(*uint16)(unsafe.Pointer(&buf[off+16])))]
		recOff := off
		off += len(rec)
		ino := *(*uint64)(unsafe.Pointer(&rec[0]))
		typ := rec[18]
		base := rec[19:]
		i := bytes.IndexByte(base, 0)
		if i < 0 {
			continue // no name ending within the record: not from the kernel
		}
		base = base[:i]
		if ino == 0 || dot(base) || t.skipName(base) {
			continue
		}
		e := listEnt{off: int32(recOff), n: int32(i), st: -1}
		switch typ {
		case unix.DT_FIFO, unix.DT_CHR, unix.DT_BLK, unix.DT_SOCK:
			continue // never served
		case unix.DT_LNK:
		default: // regular, directory, or unknown to this file system
			e.st = int32(len(offs))
			offs = append(offs, int32(recOff+19))
		}
		ents = append(ents, e)
		if len(ents) == statBatch {
			if !t.emit(buf, ents, offs) {
				return false
			}
			ents, offs = ents[:0], offs[:0]
		}
	}
	return t.emit(buf, ents, offs)
}

// emit describes the batch's entries that need it, then yields them in
// the folder's order; false means yield asked to stop.
func (t *lister) emit(buf []byte, ents []listEnt, offs []int32) bool {
	sc := t.sc
	fstatatMany(t.fd, buf, offs, sc.sts[:len(offs)], &t.described)
	for _, e := range ents {
		base := buf[e.off+19 : e.off+19+e.n]
		var m meta
		if e.st >= 0 {
			st := &sc.sts[e.st]
			if st.err != 0 {
				continue // removed meanwhile
			}
			switch st.mode & unix.S_IFMT {
			case unix.S_IFREG, unix.S_IFDIR:
				m = meta{
					ino:   st.ino,
					size:  st.size,
					mtime: time.Unix(st.sec, st.nsec),
					isDir: st.mode&unix.S_IFMT == unix.S_IFDIR,
				}
			case unix.S_IFLNK:
				var ok bool
				if m, ok = t.l.followLink(t.rel, string(base)); !ok {
					continue
				}
			default:
				continue
			}
		} else { // a link, by the directory's type field
			var ok bool
			if m, ok = t.l.followLink(t.rel, string(base)); !ok {
				continue
			}
		}
		var in Info
		in, t.arena = m.infoIn(t.prefix, base, t.arena)
		if !t.yield(in, nil) {
			return false
		}
	}
	return true
}

// listArena is the size of the blocks in which a listing builds its
// entries' strings: some 60 to 80 entries share one allocation.
const listArena = 4 << 10

// infoIn is info(prefix + base) for an entry of a listing. Path, Name and
// ETag are slices of one string made at the end of arena, a block that is
// only ever appended to: the strings already made in it never change, as
// unsafe.String requires, and a new block is made when it is full. It
// returns arena for the next entry.
func (m meta) infoIn(prefix string, base []byte, arena []byte) (Info, []byte) {
	if need := len(prefix) + len(base) + maxETag; cap(arena)-len(arena) < need {
		arena = make([]byte, 0, max(listArena, need))
	}
	start := len(arena)
	arena = append(append(arena, prefix...), base...)
	n := len(arena) - start
	if !m.isDir {
		arena = m.appendETag(arena)
	}
	s := unsafe.String(unsafe.SliceData(arena[start:]), len(arena)-start)
	in := Info{Name: s[len(prefix):n], Path: s[:n], ModTime: m.mtime, IsDir: m.isDir, Link: m.link}
	if !m.isDir {
		in.Size, in.ETag = m.size, s[n:]
	}
	return in, arena
}

// dot reports whether name is "." or "..".
func dot(name []byte) bool {
	return len(name) == 1 && name[0] == '.' || len(name) == 2 && name[0] == '.' && name[1] == '.'
}

// skipName reports whether List leaves out the entry base of the folder
// listed: temporary files anywhere, hidden names at the top or in a
// folder that is the root (reached through a link), or anywhere with
// HiddenAnywhere.
func (t *lister) skipName(base []byte) bool {
	return len(base) >= len(tempPrefix) && string(base[:len(tempPrefix)]) == tempPrefix ||
		t.l.hiddenFirst[base[0]] && t.l.hidden[string(base)] && (t.rel == "." || t.l.hiddenAll || t.isRoot())
}

// isRoot reports whether the folder listed is the root, by the device and
// inode of the folder open, once per listing.
func (t *lister) isRoot() bool {
	if t.root == 0 {
		t.root = -1
		var st unix.Stat_t
		if rst, ok := t.l.rootFi.Sys().(*syscall.Stat_t); ok && unix.Fstat(t.fd, &st) == nil &&
			uint64(st.Dev) == uint64(rst.Dev) && st.Ino == rst.Ino {
			t.root = 1
		}
	}
	return t.root > 0
}

// metaOfStat returns the metadata in st.
func metaOfStat(st *unix.Stat_t) meta {
	return meta{
		ino:   uint64(st.Ino),
		size:  st.Size,
		mtime: time.Unix(st.Mtim.Unix()),
		isDir: st.Mode&unix.S_IFMT == unix.S_IFDIR,
	}
}

// noOpenat2 is set once openat2 turns out to be missing (Linux before 5.6)
// or forbidden (some seccomp filters).
var noOpenat2 atomic.Bool

// openDirFd opens the directory rel (relative to the root) and returns its
// descriptor. A path without symbolic links is resolved in one openat2
// system call, which RESOLVE_BENEATH confines to the root as os.Root does;
// any failure (a link on the way, a missing or non-directory element, a
// rename racing with the lookup, no openat2) falls back to openDir, which
// walks the path through the root and gives the error List reports. The
// descriptor is a plain one, so the runtime's poller is never asked about
// it.
func (l *LocalFS) openDirFd(rel string) (int, error) {
	if !noOpenat2.Load() {
		how := unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		}
		fd, err := unix.Openat2(int(l.top.Fd()), rel, &how)
		if err == nil {
			return fd, nil
		}
		if err == unix.ENOSYS || err == unix.EPERM {
			noOpenat2.Store(true)
		}
	}
	d, err := l.openDir(rel)
	if err != nil {
		return -1, err
	}
	defer d.Close()
	fd, err := unix.FcntlInt(d.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	return fd, nil
}
