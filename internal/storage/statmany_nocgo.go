//go:build linux && !cgo

package storage

import "golang.org/x/sys/unix"

// fstatatMany describes the entries of the directory dirfd whose names
// (each ending in a NUL byte, as getdents64 leaves them) start at
// buf[offs[i]], into out[i], one system call each: the build without cgo
// (see statmany_cgo.go, where described is used).
func fstatatMany(dirfd int, buf []byte, offs []int32, out []statResult, _ *int) {
	var st unix.Stat_t
	for i, o := range offs {
		if err := fstatat(dirfd, buf[o:], &st); err != nil {
			errno, _ := err.(unix.Errno)
			out[i] = statResult{err: int32(errno)}
			if errno == 0 {
				out[i].err = int32(unix.EIO)
			}
			continue
		}
		out[i] = statResult{
			ino:  uint64(st.Ino),
			size: st.Size,
			sec:  int64(st.Mtim.Sec),
			nsec: int64(st.Mtim.Nsec),
			mode: uint32(st.Mode),
		}
	}
}
