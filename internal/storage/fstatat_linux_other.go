//go:build linux && !(amd64 || arm64 || riscv64)

package storage

import (
	"bytes"

	"golang.org/x/sys/unix"
)

// fstatat describes the entry name of the directory dirfd without following
// a symbolic link. name holds the name and then at least one NUL byte, as
// getdents64 returns it.
func fstatat(dirfd int, name []byte, st *unix.Stat_t) error {
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return unix.Fstatat(dirfd, string(name), st, unix.AT_SYMLINK_NOFOLLOW)
}
