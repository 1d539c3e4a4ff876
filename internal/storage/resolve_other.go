//go:build !linux

package storage

import (
	"io/fs"
	"os"
)

// openRead opens rel to read. It looks first: opening a device node runs
// its driver's open even when LocalFS then refuses the file, so anything
// but a file or folder is refused unopened.
func (l *LocalFS) openRead(rel string) (*os.File, error) {
	if fi, err := l.root.Stat(rel); err == nil && !served(fi) {
		return nil, &fs.PathError{Op: "open", Path: rel, Err: ErrPermission}
	}
	return l.root.OpenFile(rel, os.O_RDONLY|openFlags, 0)
}

// statBeneath is the Linux openat2 shortcut; done is always false here.
func (l *LocalFS) statBeneath(name, rel string) (_ Info, done bool, err error) {
	return Info{}, false, nil
}

// openInfoFd is the Linux descriptor path of OpenInfo; done is always
// false here.
func (l *LocalFS) openInfoFd(name, rel string, buf []byte) (f File, body []byte, info Info, done bool, err error) {
	return nil, nil, Info{}, false, nil
}
