//go:build !linux

package storage

import (
	"context"
	"io"
	"io/fs"
	"strings"
)

// listPage is how many directory entries List reads at a time.
const listPage = 256

// readDir yields the entries of the directory rel (relative to the root),
// whose Paths start with prefix, listPage at a time, checking ctx between
// pages. It returns the error that ends the walk, nil at the end or when
// yield asks to stop.
func (l *LocalFS) readDir(ctx context.Context, rel, prefix string, yield func(Info, error) bool) error {
	dir, err := l.openDir(rel)
	if err != nil {
		return err
	}
	defer dir.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, err := dir.ReadDir(listPage)
		for _, e := range entries {
			if in, ok := l.entry(rel, prefix, e); ok && !yield(in, nil) {
				return nil
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// entry describes the directory entry e of the directory rel; ok is false
// for an entry List skips.
func (l *LocalFS) entry(rel, prefix string, e fs.DirEntry) (in Info, ok bool) {
	base := e.Name()
	if strings.HasPrefix(base, tempPrefix) || l.hidden[base] && (rel == "." || l.hiddenAll || l.isRoot(rel)) {
		return Info{}, false
	}
	fi, err := e.Info() // loaded by ReadDir with fstatat: no extra system call
	if err != nil {
		return Info{}, false // removed meanwhile
	}
	m := metaOf(fi)
	if fi.Mode()&fs.ModeSymlink != 0 {
		if m, ok = l.followLink(rel, base); !ok {
			return Info{}, false // leads outside, or nowhere
		}
	} else if !served(fi) {
		return Info{}, false
	}
	return m.info(prefix + base), true
}
