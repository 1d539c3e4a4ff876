//go:build !linux

package storage

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"strconv"
	"syscall"
	"time"
)

// write streams r into a new temporary file beside rel, then renames it
// over rel. On any error the temporary file is removed and rel untouched.
// name is the resource rel names; created tells whether it did not exist.
// Errors are not wrapped.
func (l *LocalFS) write(ctx context.Context, name, rel string, r io.Reader, opt PutOptions) (_ meta, created bool, err error) {
	if created, err = l.replaceable(name, rel); err != nil {
		return meta{}, false, err
	}
	dir := path.Dir(rel)
	stage := dir
	if l.stage != "" {
		stage = l.stage
	}
	tmp := path.Join(stage, tempPrefix+strconv.FormatUint(rand.Uint64(), 36))
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return meta{}, false, err
	}
	defer func() {
		if err != nil {
			f.Close()
			l.root.Remove(tmp)
		}
	}()
	if err := copyBody(ctx, f, r, opt.ExpectedSize); err != nil {
		return meta{}, false, err
	}
	// The kernel's own mtime is coarse (a clock tick); a precise one keeps
	// ETags of same-sized Puts apart even when inode numbers are reused.
	mtime := opt.ModTime
	if mtime.IsZero() {
		mtime = time.Now()
	}
	if err := l.root.Chtimes(tmp, time.Time{}, mtime); err != nil {
		return meta{}, false, err
	}
	if !l.noSync {
		if err := f.Sync(); err != nil {
			return meta{}, false, err
		}
	}
	fi, err := f.Stat()
	if err != nil {
		return meta{}, false, err
	}
	if err := f.Close(); err != nil {
		return meta{}, false, err
	}
	if err := ctx.Err(); err != nil {
		return meta{}, false, err
	}
	var copied os.FileInfo
	if err := commit(opt, func() (err error) { copied, err = l.publish(tmp, rel, mtime); return err }); err != nil {
		return meta{}, false, err
	}
	if copied != nil {
		fi = copied // a new inode: its ETag is the copy's
	}
	return metaOf(fi), created, l.syncDir(dir)
}

// publish renames the staged file tmp to rel. Where the target lies on
// another file system than the stage folder (a mount inside the served
// folder), the content is copied beside the target first, with the
// modification time mtime, and the copy's description is returned (nil
// when the rename did it): the copy is another inode, so its ETag is not
// the staged file's.
func (l *LocalFS) publish(tmp, rel string, mtime time.Time) (os.FileInfo, error) {
	err := l.root.Rename(tmp, rel)
	if !errors.Is(err, syscall.EXDEV) {
		return nil, err
	}
	src, err := l.root.Open(tmp)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	beside := path.Join(path.Dir(rel), tempPrefix+strconv.FormatUint(rand.Uint64(), 36))
	dst, err := l.root.OpenFile(beside, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(dst, src)
	if err == nil {
		err = l.root.Chtimes(beside, time.Time{}, mtime)
	}
	if err == nil && !l.noSync {
		err = dst.Sync()
	}
	var fi os.FileInfo
	if err == nil {
		fi, err = dst.Stat()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.root.Rename(beside, rel)
	}
	if err != nil {
		l.root.Remove(beside)
		return nil, err
	}
	l.root.Remove(tmp)
	return fi, nil
}
