package storage

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// direntBuf is the size of the buffer List reads directory entries into:
// one getdents64 system call fills it with some 800 to 1,000 entries.
const direntBuf = 32 << 10

var direntBufs = sync.Pool{New: func() any { b := make([]byte, direntBuf); return &b }}

// readDir yields the entries of the directory rel (relative to the root),
// whose Paths start with prefix, checking ctx before each buffer of
// entries. It returns the error that ends the walk, nil at the end or when
// yield asks to stop.
//
// Each entry costs one fstatat (for size, times and inode) and, in memory,
// its Path and ETag strings, made in blocks shared by many entries (see
// infoIn); Name is a substring of Path. The rules are
// those of os.File.ReadDir as List used it: entries removed meanwhile are
// skipped, and so are pipes, sockets and devices, which the directory's
// own type field often tells without an fstatat. A symbolic link is
// followed through the root, so one leading outside is skipped.
func (l *LocalFS) readDir(ctx context.Context, rel, prefix string, yield func(Info, error) bool) error {
	fd, err := l.openDirFd(rel)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	var st unix.Stat_t
	var arena []byte // where the entries' Path and ETag strings are built (infoIn)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("getdents64", err)
		}
		if n <= 0 {
			return nil
		}
		for off := 0; off < n; {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8,
			// then the name, ending in NUL bytes within reclen.
			rec := buf[off : off+int(*(*uint16)(unsafe.Pointer(&buf[off+16])))]
			off += len(rec)
			ino := *(*uint64)(unsafe.Pointer(&rec[0]))
			typ := rec[18]
			base := rec[19:]
			if i := bytes.IndexByte(base, 0); i >= 0 {
				base = base[:i]
			}
			if ino == 0 || dot(base) || l.skipName(rel, base) {
				continue
			}
			var m meta
			switch typ {
			case unix.DT_FIFO, unix.DT_CHR, unix.DT_BLK, unix.DT_SOCK:
				continue // never served
			case unix.DT_LNK:
				var ok bool
				if m, ok = l.followLink(rel, string(base)); !ok {
					continue
				}
			default: // regular, directory, or unknown to this file system
				if fstatat(fd, rec[19:], &st) != nil {
					continue // removed meanwhile
				}
				switch st.Mode & unix.S_IFMT {
				case unix.S_IFREG, unix.S_IFDIR:
					m = metaOfStat(&st)
				case unix.S_IFLNK:
					var ok bool
					if m, ok = l.followLink(rel, string(base)); !ok {
						continue
					}
				default:
					continue
				}
			}
			var in Info
			in, arena = m.infoIn(prefix, base, arena)
			if !yield(in, nil) {
				return nil
			}
		}
	}
}

// dot reports whether name is "." or "..".
func dot(name []byte) bool {
	return len(name) == 1 && name[0] == '.' || len(name) == 2 && name[0] == '.' && name[1] == '.'
}

// skipName reports whether List leaves out the entry base of the directory
// rel: temporary files anywhere, hidden names at the top.
func (l *LocalFS) skipName(rel string, base []byte) bool {
	return len(base) >= len(tempPrefix) && string(base[:len(tempPrefix)]) == tempPrefix ||
		rel == "." && l.hidden[string(base)]
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
