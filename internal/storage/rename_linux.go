package storage

import (
	"path"

	"golang.org/x/sys/unix"
)

// renameBeneath renames srel to drel in one renameat2 call with
// RENAME_NOREPLACE (the destination must not exist, checked by the kernel
// in the same step), on their folders opened beneath the root with one
// openat2 each (none for the top level), where os.Root's rename with the
// two looks before it opens and closes each folder on the way several
// times over. Its sync is renameSyncs'. done is false when the caller
// must take the walk instead: openat2 or the flag is missing (a file
// system without RENAME_NOREPLACE answers EINVAL), or the rename failed
// otherwise than on an existing destination, whose error the walk words
// as the rest of LocalFS expects; nothing was renamed then.
func (l *LocalFS) renameBeneath(src, dst, srel, drel string) (sync func() error, done bool, err error) {
	if walkOnly.Load() {
		return nil, false, nil
	}
	sdir, ddir := path.Dir(srel), path.Dir(drel)
	sfd, ok, err := l.renameDir(sdir)
	if !ok || err != nil {
		return nil, ok, wrap("rename", src, true, err)
	}
	dfd := sfd
	if ddir != sdir {
		if dfd, ok, err = l.renameDir(ddir); !ok || err != nil {
			l.closeDir(sfd)
			return nil, ok, wrap("rename", dst, false, err)
		}
	}
	err = ignoringEINTR(func() error {
		return unix.Renameat2(sfd, path.Base(srel), dfd, path.Base(drel), unix.RENAME_NOREPLACE)
	})
	l.closeDir(sfd)
	if dfd != sfd {
		l.closeDir(dfd)
	}
	switch err {
	case nil:
		return l.renameSyncs(src, dst, srel, drel), true, nil
	case unix.EEXIST:
		return nil, true, wrap("rename", dst, false, ErrExist)
	}
	return nil, false, nil
}

// renameDir opens the folder rel (".": the top level, already open) to
// rename in, beneath the root; ok is false when openat2 is not there to
// do it.
func (l *LocalFS) renameDir(rel string) (fd int, ok bool, err error) {
	if rel == "." {
		return int(l.top.Fd()), true, nil
	}
	return l.openat2(rel, unix.O_PATH|unix.O_DIRECTORY)
}

// closeDir closes a descriptor of renameDir (never the top level's).
func (l *LocalFS) closeDir(fd int) {
	if fd != int(l.top.Fd()) {
		unix.Close(fd)
	}
}
