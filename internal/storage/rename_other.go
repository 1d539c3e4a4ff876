//go:build !linux

package storage

// renameBeneath is the Linux renameat2 shortcut; done is always false here.
func (l *LocalFS) renameBeneath(src, dst, srel, drel string) (sync func() error, done bool, err error) {
	return nil, false, nil
}
