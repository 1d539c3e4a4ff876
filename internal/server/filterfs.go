package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"path"
	"time"

	"github.com/davit-dav/davit/internal/storage"
)

// filterFS applies a location's name patterns to a storage.FS, so the
// protocol layer knows nothing of them:
//
//   - a name matching a refuse pattern cannot be created (Put, Mkdir, the
//     destination of CopyFile and Rename fail with ErrPermission: 403);
//     existing ones stay visible;
//   - a path with any element matching a hide pattern does not exist for
//     readers (ErrNotFound: 404; List skips it) and cannot be created
//     (ErrPermission). Removing a collection that holds only hidden
//     names removes them with it.
//
// Patterns use path.Match syntax against one path element.
type filterFS struct {
	storage.FS
	refuse, hide []string
}

// newFilterFS wraps fs, or returns it as is when there are no patterns.
func newFilterFS(fs storage.FS, refuse, hide []string) storage.FS {
	if len(refuse) == 0 && len(hide) == 0 {
		return fs
	}
	return &filterFS{FS: fs, refuse: refuse, hide: hide}
}

func matchAny(pats []string, name string) bool {
	for _, p := range pats {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// hidden reports whether any element of p matches a hide pattern.
func (f *filterFS) hidden(p string) bool {
	if len(f.hide) == 0 {
		return false
	}
	for p != "/" && p != "." && p != "" {
		if matchAny(f.hide, path.Base(p)) {
			return true
		}
		p = path.Dir(p)
	}
	return false
}

// creatable returns an error when p may not be created.
func (f *filterFS) creatable(p string) error {
	if f.hidden(p) || matchAny(f.refuse, path.Base(p)) {
		return fmt.Errorf("%w: the name %q is refused on this location", storage.ErrPermission, path.Base(p))
	}
	return nil
}

func notFound(p string) error { return fmt.Errorf("%w: %s", storage.ErrNotFound, p) }

func (f *filterFS) Stat(ctx context.Context, name string) (storage.Info, error) {
	if f.hidden(name) {
		return storage.Info{}, notFound(name)
	}
	return f.FS.Stat(ctx, name)
}

func (f *filterFS) List(ctx context.Context, name string) iter.Seq2[storage.Info, error] {
	if f.hidden(name) {
		return func(yield func(storage.Info, error) bool) { yield(storage.Info{}, notFound(name)) }
	}
	return func(yield func(storage.Info, error) bool) {
		for info, err := range f.FS.List(ctx, name) {
			if err == nil && matchAny(f.hide, info.Name) {
				continue
			}
			if !yield(info, err) {
				return
			}
		}
	}
}

func (f *filterFS) Open(ctx context.Context, name string) (storage.File, error) {
	if f.hidden(name) {
		return nil, notFound(name)
	}
	return f.FS.Open(ctx, name)
}

// OpenInfo keeps the wrapped FS's one-step open (storage.InfoOpener) for
// GET under name patterns; without it, Stat then Open.
func (f *filterFS) OpenInfo(ctx context.Context, name string, buf []byte) (storage.File, []byte, storage.Info, error) {
	if f.hidden(name) {
		return nil, nil, storage.Info{}, notFound(name)
	}
	return storage.OpenInfo(ctx, f.FS, name, buf)
}

var _ storage.InfoOpener = (*filterFS)(nil)

func (f *filterFS) Put(ctx context.Context, name string, r io.Reader, opt storage.PutOptions) (storage.Info, bool, error) {
	if err := f.creatable(name); err != nil {
		return storage.Info{}, false, err
	}
	return f.FS.Put(ctx, name, r, opt)
}

func (f *filterFS) Mkdir(ctx context.Context, name string) error {
	if err := f.creatable(name); err != nil {
		return err
	}
	return f.FS.Mkdir(ctx, name)
}

func (f *filterFS) Remove(ctx context.Context, name string) error {
	sync, err := f.RemoveSyncLater(ctx, name)
	if err != nil {
		return err
	}
	return sync()
}

// RemoveSyncLater keeps the wrapped FS's removal without the wait for
// durability (storage.SyncLater). A collection holding hidden names only
// is removed with them.
func (f *filterFS) RemoveSyncLater(ctx context.Context, name string) (func() error, error) {
	if f.hidden(name) {
		return nil, notFound(name)
	}
	sync, err := storage.RemoveSyncLater(ctx, f.FS, name)
	if errors.Is(err, storage.ErrNotEmpty) && len(f.hide) > 0 {
		if f.removeHidden(ctx, name) {
			sync, err = storage.RemoveSyncLater(ctx, f.FS, name)
		}
	}
	return sync, err
}

// removeHidden removes the hidden members of the collection name when it
// holds nothing else, and reports whether it did.
func (f *filterFS) removeHidden(ctx context.Context, name string) bool {
	var members []storage.Info
	for info, err := range f.FS.List(ctx, name) {
		if err != nil || !matchAny(f.hide, info.Name) {
			return false
		}
		members = append(members, info)
	}
	for _, m := range members {
		if err := f.removeTree(ctx, path.Join(name, m.Name), m.IsDir); err != nil {
			return false
		}
	}
	return true
}

// removeTree removes p and everything below it, hidden or not (p itself
// is hidden, so nothing below it was ever visible).
func (f *filterFS) removeTree(ctx context.Context, p string, dir bool) error {
	if dir {
		var kids []storage.Info
		for info, err := range f.FS.List(ctx, p) {
			if err != nil {
				return err
			}
			kids = append(kids, info)
		}
		for _, k := range kids {
			if err := f.removeTree(ctx, path.Join(p, k.Name), k.IsDir); err != nil {
				return err
			}
		}
	}
	return f.FS.Remove(ctx, p)
}

func (f *filterFS) CopyFile(ctx context.Context, src, dst string) error {
	if f.hidden(src) {
		return notFound(src)
	}
	if err := f.creatable(dst); err != nil {
		return err
	}
	return f.FS.CopyFile(ctx, src, dst)
}

func (f *filterFS) Rename(ctx context.Context, src, dst string) error {
	sync, err := f.RenameSyncLater(ctx, src, dst)
	if err != nil {
		return err
	}
	return sync()
}

// RenameSyncLater keeps the wrapped FS's rename without the wait for
// durability (storage.SyncLater).
func (f *filterFS) RenameSyncLater(ctx context.Context, src, dst string) (func() error, error) {
	if f.hidden(src) {
		return nil, notFound(src)
	}
	if err := f.creatable(dst); err != nil {
		return nil, err
	}
	return storage.RenameSyncLater(ctx, f.FS, src, dst)
}

var _ storage.SyncLater = (*filterFS)(nil)

func (f *filterFS) SetModTime(ctx context.Context, name string, t time.Time) error {
	if f.hidden(name) {
		return notFound(name)
	}
	return f.FS.SetModTime(ctx, name, t)
}
