package storage

import (
	"bytes"
	"context"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// direntBuf is the size of the buffer List reads directory entries into:
// one getdents64 system call fills it with some 800 to 1,000 entries.
const direntBuf = 32 << 10

var direntBufs = sync.Pool{New: func() any { b := make([]byte, direntBuf); return &b }}

// readDir yields the entries of the open directory dir (rel to the root),
// whose Paths start with prefix, checking ctx before each buffer of
// entries. It returns the error that ends the walk, nil at the end or when
// yield asks to stop.
//
// Each entry costs one fstatat (for size, times and inode) and, in memory,
// its Path and ETag strings; Name is a substring of Path. The rules are
// those of os.File.ReadDir as List used it: entries removed meanwhile are
// skipped, and so are pipes, sockets and devices, which the directory's
// own type field often tells without an fstatat. A symbolic link is
// followed through the root, so one leading outside is skipped.
func (l *LocalFS) readDir(ctx context.Context, dir *os.File, rel, prefix string, yield func(Info, error) bool) error {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	fd := int(dir.Fd())
	var st unix.Stat_t
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
			if !yield(m.info(prefix+string(base)), nil) {
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
