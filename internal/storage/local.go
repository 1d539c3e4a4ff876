package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempPrefix starts the names of Put's temporary files. List never shows
// such names and no method accepts them.
const tempPrefix = ".davit-tmp-"

// LocalOptions tune a LocalFS.
type LocalOptions struct {
	// NoSync skips the fsync of new content and of its directory. Writes
	// are then faster but the last ones may be lost if the machine crashes
	// soon after. Put then reserves no blocks before the body, so that the
	// file system's own guard for a file renamed over another without a
	// sync applies (ext4's auto_da_alloc: the old content or the new, not
	// an empty file). For tests and scratch data.
	NoSync bool
	// Hidden lists names at the top level of the folder (such as the
	// server's ".davit-state") that the FS treats as absent: Stat, Open and
	// List do not see them, and writes to them or below them fail with
	// ErrInvalidName. Each must be a single path element. They are
	// hidden in the same way in any folder that is the root itself,
	// reached through a symbolic link ("/self/.davit-state" with self
	// leading to "."): a name below the top level that is one of them
	// costs a look at the folder holding it.
	Hidden []string
	// HiddenAnywhere hides the Hidden names at every depth, whatever
	// folder holds them, with no look: for a folder that holds other
	// servers' folders and their state (a location without WebDAV over
	// a WebDAV location's folder).
	HiddenAnywhere bool
	// StageDir, when set, is a folder below the root, inside one of the
	// Hidden names (such as ".davit-state/upload"), where Put and CopyFile
	// stage new content before renaming it into place. A collection that
	// is moved or deleted while an upload into it is arriving then never
	// holds a temporary file. Stale staged files are removed when the
	// LocalFS opens. Without it, content is staged beside its target.
	StageDir string
	// NoFolderCache turns off the keeping of small folders' names between
	// listings (Linux; see dirCache), for comparisons and tests.
	NoFolderCache bool
	// NoFileCache turns off the keeping of small files open between reads
	// of them (Linux; see fileCache).
	NoFileCache bool
}

// LocalFS is an FS on a folder of the local file system. Every access goes
// through an os.Root, so no name and no symbolic link reaches outside the
// folder: such names fail with ErrPermission and List skips the links. Only
// directories and regular files are served; List skips anything else and
// the other methods refuse it with ErrPermission.
//
// ETags are built from the inode number, size and modification time in
// nanoseconds. Put writes a new file (new inode) and stamps it with the
// current time unless PutOptions.ModTime says otherwise, so every Put
// changes the ETag.
//
// A LocalFS is safe for concurrent use.
type LocalFS struct {
	root *os.Root
	top  *os.File // the root folder, open for the ...at system calls
	// dsyncs shares folder syncs among the renames and removals waiting
	// for them; syncDirTest, set by tests, replaces syncDir there.
	dsyncs      dirSyncs
	syncDirTest func(dir string) error
	noSync      bool
	hidden      map[string]bool
	hiddenNames []string    // the keys of hidden, for a quick look at names
	hiddenFirst [256]bool   // the first bytes of hidden names, for a listing's look at each entry
	hiddenAll   bool        // LocalOptions.HiddenAnywhere
	rootFi      fs.FileInfo // the root folder, to know it through a link
	stage       string      // StageDir relative to the root, "" to stage beside
	sdir        *os.File    // the stage folder, open; nil to stage beside
	dirs        *dirCache   // small folders' names kept between listings; nil for none
	files       *fileCache  // small files kept open between reads; nil for none
	dev         uint64      // the root's device, the only one whose files are kept
}

// NewLocal opens the existing folder dir as a LocalFS. Close releases it.
func NewLocal(dir string, opt LocalOptions) (*LocalFS, error) {
	hidden := make(map[string]bool, len(opt.Hidden))
	for _, h := range opt.Hidden {
		if h == "" || strings.Contains(h, "/") || !ValidName("/"+h) {
			return nil, fmt.Errorf("storage: hidden name %q is not a single path element", h)
		}
		hidden[h] = true
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	top, err := root.Open(".")
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	rootFi, err := top.Stat()
	if err != nil {
		top.Close()
		root.Close()
		return nil, fmt.Errorf("storage: %w", err)
	}
	l := &LocalFS{root: root, top: top, noSync: opt.NoSync, hidden: hidden, hiddenAll: opt.HiddenAnywhere, rootFi: rootFi}
	for h := range hidden {
		l.hiddenNames = append(l.hiddenNames, h)
		l.hiddenFirst[h[0]] = true
	}
	if !opt.NoFolderCache {
		l.dirs = folderCache(top)
	}
	if !opt.NoFileCache {
		l.files, l.dev = fileCacheFor(top)
	}
	if opt.StageDir != "" {
		if err := l.openStage(opt.StageDir); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// openStage creates the staging folder and empties it of what an earlier
// run left.
func (l *LocalFS) openStage(stage string) error {
	stage = path.Clean(stage)
	top, _, _ := strings.Cut(stage, "/")
	if !l.hidden[top] || !ValidName("/"+stage) {
		return fmt.Errorf("storage: stage folder %q is not inside a hidden name", stage)
	}
	if err := l.root.MkdirAll(stage, 0o700); err != nil {
		return fmt.Errorf("storage: create stage folder: %w", err)
	}
	d, err := l.root.OpenFile(stage, os.O_RDONLY|dirFlags, 0)
	if err != nil {
		return fmt.Errorf("storage: open stage folder: %w", err)
	}
	l.sdir = d // kept open: Put creates and renames its files relative to it
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("storage: read stage folder: %w", err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, tempPrefix) {
			l.root.Remove(path.Join(stage, n))
		}
	}
	l.stage = stage
	return nil
}

// KeepsFolders reports whether listings may keep small folders' names
// (LocalOptions.NoFolderCache, and Linux with a local file system at the
// root).
func (l *LocalFS) KeepsFolders() bool { return l.dirs != nil }

// KeepsFiles reports whether small files may be kept open between reads
// (LocalOptions.NoFileCache, and Linux with a local file system at the
// root).
func (l *LocalFS) KeepsFiles() bool { return l.files != nil }

// Close releases the folder. The LocalFS must not be used afterwards.
func (l *LocalFS) Close() error {
	l.files.forget(l, ".")
	if l.sdir != nil {
		l.sdir.Close()
	}
	l.top.Close()
	return l.root.Close()
}

// Stat implements FS.
func (l *LocalFS) Stat(ctx context.Context, name string) (Info, error) {
	rel, err := l.rel("stat", name, false)
	if err != nil {
		return Info{}, err
	}
	in, err := l.stat(name, rel)
	if err != nil {
		return Info{}, wrap("stat", name, true, err)
	}
	return in, nil
}

// stat describes rel, which the resource name is, following links that
// stay inside; anything but a file or folder is ErrPermission. The error
// is not wrapped.
func (l *LocalFS) stat(name, rel string) (Info, error) {
	if in, done, err := l.statBeneath(name, rel); done {
		return in, err
	}
	// Lstat first: a link is described by what it leads to, and said
	// to be one (Info.Link), at one call more for links only.
	fi, err := l.root.Lstat(rel)
	link := err == nil && fi.Mode()&fs.ModeSymlink != 0
	if link {
		fi, err = l.root.Stat(rel)
	}
	if err != nil {
		return Info{}, err
	}
	if !served(fi) {
		return Info{}, ErrPermission
	}
	m := metaOf(fi)
	m.link = link
	return m.info(name), nil
}

// List implements FS. It reads the directory a page at a time and
// describes each entry from its directory metadata, following symbolic
// links that stay inside the folder and skipping the others (see readDir).
func (l *LocalFS) List(ctx context.Context, name string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		rel, err := l.rel("list", name, false)
		if err != nil {
			yield(Info{}, err)
			return
		}
		prefix := name + "/"
		if name == "/" {
			prefix = name
		}
		if err := l.readDir(ctx, rel, prefix, yield); err != nil {
			yield(Info{}, wrap("list", name, true, err))
		}
	}
}

// followLink describes what the symbolic link base in the directory rel
// leads to, through the root; ok is false when it leads outside, nowhere,
// or to something List does not show.
func (l *LocalFS) followLink(rel, base string) (m meta, ok bool) {
	fi, err := l.root.Stat(path.Join(rel, base))
	if err != nil || !served(fi) {
		return meta{}, false
	}
	m = metaOf(fi)
	m.link = true
	return m, true
}

// Open implements FS. The File is an *os.File, so http.ServeContent can use
// sendfile.
func (l *LocalFS) Open(ctx context.Context, name string) (File, error) {
	rel, err := l.rel("open", name, false)
	if err != nil {
		return nil, err
	}
	f, err := l.openRead(rel)
	if err != nil {
		return nil, wrap("open", name, true, err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = wrap("open", name, true, err)
	case fi.IsDir():
		err = wrap("open", name, true, ErrIsDir)
	case !served(fi):
		err = wrap("open", name, true, ErrPermission)
	default:
		return f, nil
	}
	f.Close()
	return nil, err
}

// OpenInfo implements InfoOpener: one open and one fstat where Stat then
// Open would resolve the name twice. The Info describes the open file, so
// it cannot belong to another file than the content read. On Linux the
// file is opened as a bare descriptor (openInfoFd).
func (l *LocalFS) OpenInfo(ctx context.Context, name string, buf []byte) (File, []byte, Info, error) {
	rel, err := l.rel("open", name, false)
	if err != nil {
		return nil, nil, Info{}, err
	}
	if f, body, info, done, err := l.openInfoFd(name, rel, buf); done {
		return f, body, info, err
	}
	f, err := l.openRead(rel)
	if err != nil {
		return nil, nil, Info{}, wrap("open", name, true, err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		err = wrap("open", name, true, err)
	case !served(fi):
		err = wrap("open", name, true, ErrPermission)
	case fi.IsDir():
		f.Close()
		return nil, nil, newInfo(name, fi), nil
	default:
		info := newInfo(name, fi)
		rf, body := ReadWhole(f, info, buf)
		return rf, body, info, nil
	}
	f.Close()
	return nil, nil, Info{}, err
}

// Put implements FS: the body goes to a temporary file beside the target,
// which is synced, renamed over the target, and the directory synced
// (without the syncs when NoSync is set).
func (l *LocalFS) Put(ctx context.Context, name string, r io.Reader, opt PutOptions) (Info, bool, error) {
	rel, err := l.rel("put", name, true)
	if err != nil {
		return Info{}, false, err
	}
	m, created, err := l.write(ctx, name, rel, r, opt)
	l.files.forget(l, rel)
	if err != nil {
		return Info{}, false, wrap("put", name, false, err)
	}
	return m.info(name), created, nil
}

// replaceable checks that a file may be written at name (rel to the root)
// and tells whether it would be created. The error is not wrapped.
func (l *LocalFS) replaceable(name, rel string) (created bool, err error) {
	in, err := l.stat(name, rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil // the parent is checked when the file is made or published
	case err != nil:
		return false, err
	case in.IsDir:
		return false, ErrIsDir
	}
	return false, nil
}

// Mkdir implements FS.
func (l *LocalFS) Mkdir(ctx context.Context, name string) error {
	rel, err := l.rel("mkdir", name, true)
	if err != nil {
		return err
	}
	if rel == "." {
		return wrap("mkdir", name, false, ErrExist)
	}
	// The new folder is made in its parent open, and that very parent is
	// synced, whatever its path has become meanwhile (a MOVE of it does
	// not wait for a MKCOL).
	parent := l.root
	if dir := path.Dir(rel); dir != "." {
		if parent, err = l.root.OpenRoot(dir); err != nil {
			// Made by path, as before, which words the error as the
			// contract wants (OpenRoot's "not a directory" is text of
			// its own, not ENOTDIR).
			if err := l.root.Mkdir(rel, 0o777); err != nil {
				return wrap("mkdir", name, false, err)
			}
			return wrap("mkdir", name, false, l.syncDir(dir))
		}
		defer parent.Close()
	}
	if err := parent.Mkdir(path.Base(rel), 0o777); err != nil {
		return wrap("mkdir", name, false, err)
	}
	if l.noSync {
		return nil
	}
	d, err := parent.Open(".")
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	return wrap("mkdir", name, false, err)
}

// Remove implements FS. A symbolic link is removed itself, never its target.
func (l *LocalFS) Remove(ctx context.Context, name string) error {
	sync, err := l.RemoveSyncLater(ctx, name)
	if err != nil {
		return err
	}
	return sync()
}

// RemoveSyncLater implements SyncLater: the sync it returns syncs the
// folder that held name, shared with the other changes waiting for it.
func (l *LocalFS) RemoveSyncLater(ctx context.Context, name string) (func() error, error) {
	rel, err := l.rel("remove", name, true)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, wrap("remove", name, false, ErrPermission)
	}
	if err := l.root.Remove(rel); err != nil {
		return nil, wrap("remove", name, true, err)
	}
	l.files.forget(l, rel)
	sync := l.syncLater(path.Dir(rel))
	return func() error { return wrap("remove", name, false, sync()) }, nil
}

// CopyFile implements FS with a temporary file renamed over dst, as Put.
// dst gets the current time as its modification time.
func (l *LocalFS) CopyFile(ctx context.Context, src, dst string) error {
	drel, err := l.rel("copy", dst, true)
	if err != nil {
		return err
	}
	f, err := l.Open(ctx, src) // checks src as Open does
	if err != nil {
		return err
	}
	defer f.Close()
	_, _, err = l.write(ctx, dst, drel, f, PutOptions{ExpectedSize: -1})
	l.files.forget(l, drel)
	if err != nil {
		return wrap("copy", dst, false, err)
	}
	return nil
}

// Rename implements FS in one rename system call, for files and whole
// collections alike. On Linux the kernel refuses an existing dst in the
// same call (renameat2 with RENAME_NOREPLACE); elsewhere, and where the
// file system lacks that, the check that dst does not exist comes just
// before the rename, which would replace a file created in between.
func (l *LocalFS) Rename(ctx context.Context, src, dst string) error {
	sync, err := l.RenameSyncLater(ctx, src, dst)
	if err != nil {
		return err
	}
	return sync()
}

var _ SyncLater = (*LocalFS)(nil)

// RenameSyncLater implements SyncLater: the sync it returns syncs the
// destination's folder, and the source's when it is another.
func (l *LocalFS) RenameSyncLater(ctx context.Context, src, dst string) (func() error, error) {
	srel, err := l.rel("rename", src, true)
	if err != nil {
		return nil, err
	}
	drel, err := l.rel("rename", dst, true)
	if err != nil {
		return nil, err
	}
	switch {
	case srel == ".":
		return nil, wrap("rename", src, false, ErrPermission)
	case strings.HasPrefix(dst, src+"/"):
		return nil, wrap("rename", dst, false, ErrInvalidName)
	}
	if err := l.settle(srel); err != nil {
		return nil, wrap("rename", src, false, err)
	}
	if sync, done, err := l.renameBeneath(src, dst, srel, drel); done {
		if err == nil {
			l.files.forget(l, srel)
		}
		return sync, err
	}
	if _, err := l.root.Lstat(srel); err != nil {
		return nil, wrap("rename", src, true, err)
	}
	switch _, err := l.root.Lstat(drel); {
	case err == nil:
		return nil, wrap("rename", dst, false, ErrExist)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, wrap("rename", dst, false, err)
	}
	if err := l.root.Rename(srel, drel); err != nil {
		return nil, wrap("rename", dst, false, err)
	}
	l.files.forget(l, srel)
	return l.renameSyncs(src, dst, srel, drel), nil
}

// renameSyncs returns the wait for a rename to be durable: a sync of the
// destination's folder, and of the source's when it is another, each
// shared with the other changes waiting for it.
func (l *LocalFS) renameSyncs(src, dst, srel, drel string) func() error {
	if l.noSync {
		return nothingToSync
	}
	dsync := l.syncLater(path.Dir(drel))
	ssync := nothingToSync
	if path.Dir(srel) != path.Dir(drel) {
		ssync = l.syncLater(path.Dir(srel))
	}
	return func() error {
		derr, serr := dsync(), ssync()
		if derr != nil {
			return wrap("rename", dst, false, derr)
		}
		return wrap("rename", src, false, serr)
	}
}

// SetModTime implements FS.
func (l *LocalFS) SetModTime(ctx context.Context, name string, t time.Time) error {
	rel, err := l.rel("setmodtime", name, true)
	if err != nil {
		return err
	}
	return wrap("setmodtime", name, true, l.root.Chtimes(rel, time.Time{}, t))
}

// rel turns a contract name into a name relative to the root ("." for
// "/"). The reserved names (the hidden ones at the top level or in a
// folder that is the root, or anywhere with HiddenAnywhere; temporary
// files anywhere) do not exist for lookups and are invalid for writes.
func (l *LocalFS) rel(op, name string, write bool) (string, error) {
	if !ValidName(name) || os.PathSeparator != '/' && strings.ContainsRune(name, os.PathSeparator) {
		return "", wrap(op, name, false, ErrInvalidName)
	}
	if name == "/" {
		return ".", nil
	}
	top, rest, _ := strings.Cut(name[1:], "/")
	switch {
	case !l.hidden[top] && !strings.Contains(name, "/"+tempPrefix) && (rest == "" || !l.hiddenBelow(name[1:])):
		return name[1:], nil
	case write:
		return "", wrap(op, name, false, ErrInvalidName)
	default:
		return "", wrap(op, name, false, ErrNotFound)
	}
}

// hiddenBelow reports whether rel (relative to the root, two elements or
// more) holds, below its first element, a hidden name that is hidden
// there: with HiddenAnywhere always, otherwise when the folder holding it
// is the root, reached through a link. Only such a name costs a look.
func (l *LocalFS) hiddenBelow(rel string) bool {
	for i := strings.IndexByte(rel, '/'); i >= 0; {
		name, _, more := strings.Cut(rel[i+1:], "/")
		if name != "" && l.hiddenFirst[name[0]] && l.hidden[name] && (l.hiddenAll || l.isRoot(rel[:i])) {
			return true
		}
		if !more {
			break
		}
		i += 1 + len(name)
	}
	return false
}

// isRoot reports whether the folder rel (relative to the root) is the
// root itself, by device and inode, following links inside the root.
func (l *LocalFS) isRoot(rel string) bool {
	if rel == "." {
		return true
	}
	fi, err := l.root.Stat(rel)
	return err == nil && os.SameFile(fi, l.rootFi)
}

// syncDir makes the entries of the directory dir durable, unless NoSync.
func (l *LocalFS) syncDir(dir string) error {
	if l.noSync {
		return nil
	}
	d, err := l.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// served reports whether LocalFS shows the resource fi: only directories
// and regular files, never devices, pipes or sockets.
func served(fi fs.FileInfo) bool { return fi.IsDir() || fi.Mode().IsRegular() }

// meta is what LocalFS builds an Info from.
type meta struct {
	ino   uint64
	size  int64
	mtime time.Time
	isDir bool
	link  bool // a symbolic link to what the rest describes (Info.Link)
}

// metaOf returns the metadata of fi.
func metaOf(fi fs.FileInfo) meta {
	return meta{ino: inode(fi), size: fi.Size(), mtime: fi.ModTime(), isDir: fi.IsDir()}
}

// newInfo describes the resource name from its metadata.
func newInfo(name string, fi fs.FileInfo) Info { return metaOf(fi).info(name) }

// info describes the resource name (its Name is a substring of name). The
// ETag is "inode-size-mtime", each in hexadecimal, mtime in nanoseconds.
func (m meta) info(name string) Info {
	in := Info{Name: path.Base(name), Path: name, ModTime: m.mtime, IsDir: m.isDir, Link: m.link}
	if name == "/" {
		in.Name = ""
	}
	if !in.IsDir {
		in.Size = m.size
		var b [maxETag]byte
		in.ETag = string(m.appendETag(b[:0]))
	}
	return in
}

// maxETag is the longest ETag appendETag writes: three 64-bit numbers in
// hexadecimal, two dashes and the quotes.
const maxETag = 3*16 + 4

// appendETag appends the ETag of a file with this metadata to b.
func (m meta) appendETag(b []byte) []byte {
	b = append(b, '"')
	b = strconv.AppendUint(b, m.ino, 16)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64(m.size), 16)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64(m.mtime.UnixNano()), 16)
	return append(b, '"')
}

// wrap adds op and name to err (nil stays nil) and, when err is an OS
// error the contract names, the matching sentinel, keeping the OS error in
// the chain: `stat "/a/b": storage: not found (statat a/b: no such file or
// directory)`. lookup tells that op addresses an existing resource, so a
// file where a parent collection should be means ErrNotFound, not
// ErrNotDir.
func wrap(op, name string, lookup bool, err error) error {
	if err == nil {
		return nil
	}
	s := sentinel(err)
	if s == ErrNotDir && lookup {
		s = ErrNotFound
	}
	e := &opError{op: op, name: name, errs: [2]error{err}}
	if s != nil && !errors.Is(err, s) {
		e.errs = [2]error{s, err}
	}
	return e
}

// opError is what wrap returns: the operation, the name, and the
// contract's sentinel (when the cause does not match it already) before
// the cause. Its text, `op "name": cause` or `op "name": sentinel
// (cause)`, is made only when asked for (a log line), not for every name
// that is not found; Unwrap allocates nothing.
type opError struct {
	op, name string
	errs     [2]error // the cause alone, or the sentinel and the cause
}

func (e *opError) Error() string {
	msg := e.op + " " + strconv.Quote(e.name) + ": " + e.errs[0].Error()
	if e.errs[1] != nil {
		msg += " (" + e.errs[1].Error() + ")"
	}
	return msg
}

func (e *opError) Unwrap() []error {
	if e.errs[1] == nil {
		return e.errs[:1:1]
	}
	return e.errs[:]
}

// sentinel maps an OS error to the contract's sentinel, or nil.
func sentinel(err error) error {
	switch {
	case errors.Is(err, syscall.ENOTDIR):
		return ErrNotDir
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, syscall.ENOTEMPTY): // before ErrExist, which it matches
		return ErrNotEmpty
	case errors.Is(err, fs.ErrExist):
		return ErrExist
	case errors.Is(err, syscall.EISDIR):
		return ErrIsDir
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.ELOOP), escapes(err):
		return ErrPermission
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return ErrNoSpace
	case errors.Is(err, syscall.ENAMETOOLONG):
		return ErrInvalidName
	case errors.Is(err, syscall.EXDEV): // a mount point inside the folder
		return ErrNotSupported
	}
	return nil
}

// escapes reports whether err is os.Root refusing a name or symbolic link
// that leads outside. The os package does not export that error.
func escapes(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent"
}
