//go:build !linux

package storage

import "os"

// openRead opens rel to read.
func (l *LocalFS) openRead(rel string) (*os.File, error) {
	return l.root.OpenFile(rel, os.O_RDONLY|openFlags, 0)
}

// statBeneath is the Linux openat2 shortcut; done is always false here.
func (l *LocalFS) statBeneath(name, rel string) (_ Info, done bool, err error) {
	return Info{}, false, nil
}
