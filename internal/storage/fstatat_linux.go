//go:build linux && (amd64 || arm64 || riscv64)

package storage

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// fstatat describes the entry name of the directory dirfd without following
// a symbolic link. name holds the name and then at least one NUL byte, as
// getdents64 returns it, so the system call reads it in place where
// unix.Fstatat would copy it to the heap first.
func fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(dirfd), uintptr(unsafe.Pointer(&name[0])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}
