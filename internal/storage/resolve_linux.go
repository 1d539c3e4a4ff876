package storage

import (
	"io/fs"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// deepLevels is how deep a name must lie before LocalFS resolves it with
// one openat2 call instead of os.Root's walk, which opens and closes every
// folder on the way (BenchmarkResolve: Stat two levels down 5.1 -> 3.9 µs,
// five levels down 13.6 -> 4.0 µs). At the top level the walk is a single
// call already, and the walk stays the reference for what is allowed.
const deepLevels = 2

// walkOnly, set by tests, sends every name through os.Root's walk: the
// reference the shortcuts here are compared with.
var walkOnly atomic.Bool

// beneath opens rel (a clean path relative to the root) with flags in one
// openat2 call that follows symbolic links only while they stay inside the
// root (RESOLVE_BENEATH), as os.Root does, when rel is deepLevels or more
// down. done is false when the caller must walk through os.Root instead:
// rel is shallower, openat2 is missing or refused, or it failed otherwise
// than on a missing name (a link leading outside, a loop, a rename racing
// the walk), whose error the walk words as the rest of LocalFS expects.
func (l *LocalFS) beneath(rel string, flags int) (fd int, done bool, err error) {
	if strings.Count(rel, "/") < deepLevels-1 {
		return -1, false, nil
	}
	return l.openat2(rel, flags)
}

// openat2 is beneath at any depth.
func (l *LocalFS) openat2(rel string, flags int) (fd int, done bool, err error) {
	if noOpenat2.Load() || walkOnly.Load() {
		return -1, false, nil
	}
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(int(l.top.Fd()), rel, &how)
		switch err {
		case nil:
			return fd, true, nil
		case unix.EINTR:
			continue
		case unix.ENOENT, unix.ENOTDIR, unix.EACCES:
			return -1, true, &fs.PathError{Op: "openat2", Path: rel, Err: err}
		case unix.ENOSYS, unix.EPERM:
			noOpenat2.Store(true)
		}
		return -1, false, nil
	}
}

// openRead opens rel to read, through openFd below the top level. It looks
// first (notServed): opening a device node runs its driver's open (a
// watchdog arms, a tape rewinds) even when LocalFS then refuses the file,
// so anything but a file or folder is refused unopened. At the top level
// os.Root's open is one openat already, where an *os.File made from a
// bare descriptor costs an fcntl more. Callers still check what they
// opened.
func (l *LocalFS) openRead(rel string) (*os.File, error) {
	if strings.Contains(rel, "/") {
		if fd, done, err := l.openFd(rel); done {
			if err != nil {
				return nil, err
			}
			return os.NewFile(uintptr(fd), rel), nil
		}
	} else if l.notServed(rel) {
		return nil, &fs.PathError{Op: "open", Path: rel, Err: ErrPermission}
	}
	return l.root.OpenFile(rel, os.O_RDONLY|openFlags, 0)
}

// openFd opens rel to read as a bare descriptor, after the look that
// refuses what is not a file or folder unopened (see openRead): at the top
// level with one openat on the root descriptor that follows no link, below
// it through beneath. done is false when the walk must open it: a link at
// the top level (which the walk follows while it stays inside), or
// whatever beneath leaves to the walk.
func (l *LocalFS) openFd(rel string) (fd int, done bool, err error) {
	var st unix.Stat_t
	looked, lerr := l.describe(rel, &st)
	return l.openLooked(rel, &st, looked, lerr)
}

// openLooked is openFd after its look: describe's st, done and err.
func (l *LocalFS) openLooked(rel string, st *unix.Stat_t, looked bool, lerr error) (fd int, done bool, err error) {
	if l.notServedLooked(rel, st, looked, lerr) {
		return -1, true, &fs.PathError{Op: "open", Path: rel, Err: ErrPermission}
	}
	if strings.Contains(rel, "/") {
		return l.beneath(rel, unix.O_RDONLY|openFlags)
	}
	if walkOnly.Load() {
		return -1, false, nil
	}
	for {
		fd, err := unix.Openat(int(l.top.Fd()), rel, unix.O_RDONLY|openFlags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		switch err {
		case nil:
			return fd, true, nil
		case unix.EINTR:
			continue
		case unix.ENOENT, unix.EACCES:
			return -1, true, &fs.PathError{Op: "openat", Path: rel, Err: err}
		}
		return -1, false, nil
	}
}

// openInfoFd is OpenInfo on a bare descriptor: openFd, an fstat into a
// stack buffer, and for a file that fits buf one read and a close. No
// *os.File is made for a small file: os.File registers every descriptor
// with the poller (one failed epoll_ctl per regular file) and sets a
// finalizer. A larger file becomes an *os.File, for sendfile. done is
// false when the walk must open the name (see openFd).
//
// A small file whose descriptor the fileCache keeps is read through it
// after openFd's look alone, when the look finds that very file unchanged;
// a small file opened here is offered to the cache instead of closed.
func (l *LocalFS) openInfoFd(name, rel string, buf []byte) (f File, body []byte, info Info, done bool, err error) {
	var look unix.Stat_t
	looked, lerr := l.describe(rel, &look)
	if l.files != nil {
		st := &look
		if !looked || lerr != nil || look.Mode&unix.S_IFMT != unix.S_IFREG {
			st = nil // no file there now, or left to the walk: drop what is kept for it
		}
		if body, ok := l.files.read(l, rel, st, buf); ok {
			return nil, body, metaOfStat(&look).info(name), true, nil
		}
	}
	fd, done, err := l.openLooked(rel, &look, looked, lerr)
	if !done || err != nil {
		return nil, nil, Info{}, done, wrap("open", name, true, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, Info{}, true, wrap("open", name, true, &fs.PathError{Op: "fstat", Path: rel, Err: err})
	}
	m := metaOfStat(&st)
	switch {
	case !servedMode(st.Mode):
		unix.Close(fd)
		return nil, nil, Info{}, true, wrap("open", name, true, ErrPermission)
	case m.isDir:
		unix.Close(fd)
		return nil, nil, m.info(name), true, nil
	}
	info = m.info(name)
	if _, body := ReadWhole(heldFd(fd), info, buf); body != nil {
		if !l.files.keep(l, rel, fd, &st, buf, time.Now()) {
			unix.Close(fd)
		}
		return nil, body, info, true, nil
	}
	return os.NewFile(uintptr(fd), rel), nil, info, true, nil
}

// heldFd reads and seeks a bare descriptor, for ReadWhole to read a small
// file on it without an *os.File; its Close leaves the descriptor open,
// for the caller to keep it in the file cache or close it.
type heldFd int

func (fd heldFd) Read(p []byte) (int, error) { return fdReader(fd).Read(p) }

func (fd heldFd) Seek(off int64, whence int) (int64, error) { return unix.Seek(int(fd), off, whence) }
func (heldFd) Close() error                                 { return nil }

// statBeneath describes rel without the walk when it can (describe);
// done is false when the walk must decide.
func (l *LocalFS) statBeneath(name, rel string) (_ Info, done bool, err error) {
	var st unix.Stat_t
	done, link, err := l.describeLink(rel, &st)
	if !done || err != nil {
		return Info{}, done, err
	}
	if !servedMode(st.Mode) {
		return Info{}, true, ErrPermission
	}
	m := metaOfStat(&st)
	m.link = link
	return m.info(name), true, nil
}

// notServed reports whether rel names, inside the folder, something other
// than a file or a folder, without opening it: through describe, or the
// walk where describe cannot decide. A name neither can describe (missing,
// behind a link leading out) is left to the open, which words the error,
// so no answer tells what lies outside the folder.
func (l *LocalFS) notServed(rel string) bool {
	var st unix.Stat_t
	done, err := l.describe(rel, &st)
	return l.notServedLooked(rel, &st, done, err)
}

// notServedLooked is notServed after describe (st, done, err).
func (l *LocalFS) notServedLooked(rel string, st *unix.Stat_t, done bool, err error) bool {
	if !done {
		fi, err := l.root.Stat(rel)
		return err == nil && !served(fi)
	}
	return err == nil && !servedMode(st.Mode)
}

// describe fills st with what rel names, following links only while they
// stay inside the root, without opening it and without os.Root's walk: at
// the top level one fstatat on the root descriptor that does not follow a
// link, into a stack buffer (os.Root's Stat allocates its FileInfo); below
// it, or for a link there, an O_PATH openat2 beneath the root (which opens
// nothing) and fstat. done is false when the walk must decide (see
// openat2), or when a test hook sends every name through the walk.
func (l *LocalFS) describe(rel string, st *unix.Stat_t) (done bool, err error) {
	done, _, err = l.describeLink(rel, st)
	return done, err
}

// describeLink is describe, and tells whether rel itself is a symbolic
// link (st then describes what it leads to), for Info.Link. A link costs
// one openat2 and fstat more; anything else nothing more: below the top
// level the O_PATH openat2 does not follow a link at the end of rel, so
// its fstat says whether there is one.
func (l *LocalFS) describeLink(rel string, st *unix.Stat_t) (done, link bool, err error) {
	if walkOnly.Load() {
		return false, false, nil
	}
	top := !strings.Contains(rel, "/")
	if top && len(rel) < 255 {
		var buf [256]byte
		n := copy(buf[:], rel)
		buf[n] = 0
		switch err := fstatat(int(l.top.Fd()), buf[:n+1], st); {
		case err == unix.ENOENT:
			return true, false, &fs.PathError{Op: "fstatat", Path: rel, Err: err}
		case err != nil:
			return false, false, nil
		case st.Mode&unix.S_IFMT != unix.S_IFLNK:
			return true, false, nil
		}
		link = true
	}
	flags := unix.O_PATH
	if !link {
		flags |= unix.O_NOFOLLOW
	}
	for {
		fd, done, err := l.openat2(rel, flags)
		if !done || err != nil {
			return done, false, err
		}
		err = unix.Fstat(fd, st)
		unix.Close(fd)
		if err != nil {
			return true, false, &fs.PathError{Op: "fstat", Path: rel, Err: err}
		}
		if flags&unix.O_NOFOLLOW == 0 || st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return true, link, nil
		}
		flags, link = unix.O_PATH, true // the link itself: now what it leads to
	}
}

// servedMode is served for a stat mode.
func servedMode(mode uint32) bool {
	t := mode & unix.S_IFMT
	return t == unix.S_IFREG || t == unix.S_IFDIR
}
