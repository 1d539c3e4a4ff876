package storage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemFS is an FS held in memory, for tests. Its ETags come from a write
// counter, so they are unique and, with a fixed Now, reproducible. List
// takes a snapshot of the collection. A MemFS is safe for concurrent use;
// set its fields before the first call.
type MemFS struct {
	// NoDirRename makes Rename of a collection fail with ErrNotSupported,
	// as on a backend without a native move, to exercise the caller's
	// copy-then-remove fallback.
	NoDirRename bool
	// Now gives modification times; nil means time.Now.
	Now func() time.Time

	mu   sync.RWMutex
	gen  uint64 // the last write generation handed out
	root *memNode
}

// memNode is one resource. data is never changed in place, so readers may
// keep it after the lock is released.
type memNode struct {
	children map[string]*memNode // non-nil exactly for collections
	data     []byte
	mod      time.Time
	gen      uint64
}

// NewMem returns an empty MemFS.
func NewMem() *MemFS {
	m := &MemFS{}
	m.root = &memNode{children: map[string]*memNode{}, mod: m.now()}
	return m
}

// Stat implements FS.
func (m *MemFS) Stat(ctx context.Context, name string) (Info, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup("stat", name)
	if err != nil {
		return Info{}, err
	}
	return n.info(name), nil
}

// List implements FS. It yields from a snapshot taken when the walk starts.
func (m *MemFS) List(ctx context.Context, name string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		infos, err := m.snapshot(name)
		if err != nil {
			yield(Info{}, err)
			return
		}
		for _, in := range infos {
			if err := ctx.Err(); err != nil {
				yield(Info{}, memErr("list", name, err))
				return
			}
			if !yield(in, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(Info{}, memErr("list", name, err))
		}
	}
}

// snapshot describes the members of the collection name.
func (m *MemFS) snapshot(name string) ([]Info, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	dir, err := m.lookup("list", name)
	if err != nil {
		return nil, err
	}
	if dir.children == nil {
		return nil, memErr("list", name, ErrNotDir)
	}
	infos := make([]Info, 0, len(dir.children))
	for base, n := range dir.children {
		infos = append(infos, n.info(path.Join(name, base)))
	}
	return infos, nil
}

// Open implements FS.
func (m *MemFS) Open(ctx context.Context, name string) (File, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.children != nil {
		return nil, memErr("open", name, ErrIsDir)
	}
	return memFile{bytes.NewReader(n.data)}, nil
}

// OpenInfo implements InfoOpener.
func (m *MemFS) OpenInfo(ctx context.Context, name string) (File, Info, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, err := m.lookup("open", name)
	if err != nil {
		return nil, Info{}, err
	}
	if n.children != nil {
		return nil, n.info(name), nil
	}
	return memFile{bytes.NewReader(n.data)}, n.info(name), nil
}

// Put implements FS. It reads the whole body before touching the tree.
func (m *MemFS) Put(ctx context.Context, name string, r io.Reader, opt PutOptions) (Info, bool, error) {
	if !ValidName(name) {
		return Info{}, false, memErr("put", name, ErrInvalidName)
	}
	var body bytes.Buffer
	if err := copyBody(ctx, &body, r, opt.ExpectedSize); err != nil {
		return Info{}, false, memErr("put", name, err)
	}
	mod := opt.ModTime
	if mod.IsZero() {
		mod = m.now()
	}
	var (
		created bool
		info    Info
	)
	err := commit(opt, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		var err error
		if created, err = m.setFile("put", name, body.Bytes(), mod); err == nil {
			info = m.root.find(name).info(name)
		}
		return err
	})
	if err != nil {
		return Info{}, false, err
	}
	return info, created, nil
}

// setFile stores a new version of the file name, under the write lock.
func (m *MemFS) setFile(op, name string, data []byte, mod time.Time) (created bool, err error) {
	dir, base, err := m.parent(op, name)
	if err != nil {
		return false, err
	}
	if base == "" {
		return false, memErr(op, name, ErrIsDir)
	}
	old := dir.children[base]
	if old != nil && old.children != nil {
		return false, memErr(op, name, ErrIsDir)
	}
	m.gen++
	dir.children[base] = &memNode{data: data, mod: mod, gen: m.gen}
	return old == nil, nil
}

// Mkdir implements FS.
func (m *MemFS) Mkdir(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.parent("mkdir", name)
	if err != nil {
		return err
	}
	if base == "" || dir.children[base] != nil {
		return memErr("mkdir", name, ErrExist)
	}
	dir.children[base] = &memNode{children: map[string]*memNode{}, mod: m.now()}
	return nil
}

// Remove implements FS.
func (m *MemFS) Remove(ctx context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("remove", name)
	switch {
	case err != nil:
		return err
	case name == "/":
		return memErr("remove", name, ErrPermission)
	case len(n.children) > 0:
		return memErr("remove", name, ErrNotEmpty)
	}
	dir, base, _ := m.parent("remove", name)
	delete(dir.children, base)
	return nil
}

// CopyFile implements FS.
func (m *MemFS) CopyFile(ctx context.Context, src, dst string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("copy", src)
	if err != nil {
		return err
	}
	if n.children != nil {
		return memErr("copy", src, ErrIsDir)
	}
	_, err = m.setFile("copy", dst, n.data, m.now())
	return err
}

// Rename implements FS; for a collection only without NoDirRename.
func (m *MemFS) Rename(ctx context.Context, src, dst string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("rename", src)
	if err != nil {
		return err
	}
	ddir, dbase, err := m.parent("rename", dst)
	switch {
	case err != nil:
		return err
	case src == "/":
		return memErr("rename", src, ErrPermission)
	case strings.HasPrefix(dst, src+"/"):
		return memErr("rename", dst, ErrInvalidName)
	case dbase == "" || ddir.children[dbase] != nil:
		return memErr("rename", dst, ErrExist)
	case n.children != nil && m.NoDirRename:
		return memErr("rename", src, ErrNotSupported)
	}
	sdir, sbase, _ := m.parent("rename", src)
	delete(sdir.children, sbase)
	ddir.children[dbase] = n
	return nil
}

// SetModTime implements FS.
func (m *MemFS) SetModTime(ctx context.Context, name string, t time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("setmodtime", name)
	if err != nil {
		return err
	}
	n.mod = t
	return nil
}

// lookup finds the existing resource name.
func (m *MemFS) lookup(op, name string) (*memNode, error) {
	if !ValidName(name) {
		return nil, memErr(op, name, ErrInvalidName)
	}
	n := m.root.find(name)
	if n == nil {
		return nil, memErr(op, name, ErrNotFound)
	}
	return n, nil
}

// parent finds the collection that is to hold name, and name's base ("" for
// the root).
func (m *MemFS) parent(op, name string) (dir *memNode, base string, err error) {
	if !ValidName(name) {
		return nil, "", memErr(op, name, ErrInvalidName)
	}
	if name == "/" {
		return nil, "", nil
	}
	elems := strings.Split(name[1:], "/")
	dir = m.root
	for _, el := range elems[:len(elems)-1] {
		switch dir = dir.children[el]; {
		case dir == nil:
			return nil, "", memErr(op, name, ErrNotFound)
		case dir.children == nil:
			return nil, "", memErr(op, name, ErrNotDir)
		}
	}
	return dir, elems[len(elems)-1], nil
}

func (m *MemFS) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// find returns the node at the valid name, or nil, also when a file stands
// where a collection should.
func (n *memNode) find(name string) *memNode {
	if name == "/" {
		return n
	}
	for el := range strings.SplitSeq(name[1:], "/") {
		if n == nil {
			return nil
		}
		n = n.children[el]
	}
	return n
}

func (n *memNode) info(name string) Info {
	in := Info{Name: path.Base(name), Path: name, ModTime: n.mod, IsDir: n.children != nil}
	if name == "/" {
		in.Name = ""
	}
	if !in.IsDir {
		in.Size = int64(len(n.data))
		in.ETag = `"` + strconv.FormatUint(n.gen, 16) + `"`
	}
	return in
}

// memFile is an open MemFS file.
type memFile struct{ *bytes.Reader }

func (memFile) Close() error { return nil }

// memErr adds op and name to a sentinel or context error.
func memErr(op, name string, err error) error {
	return fmt.Errorf("%s %q: %w", op, name, err)
}
