// Package storage defines the contract between the WebDAV protocol layer and
// the place resources live, with a local-folder backend (LocalFS, confined by
// os.Root) and an in-memory backend (MemFS) for tests. Every backend must pass
// the conformance suite in storagetest.
//
// Names are slash-separated, absolute and clean ("/", "/a", "/a/b.txt"); the
// protocol layer cleans them before calling, and backends refuse any other
// form (see ValidName) with ErrInvalidName. A backend never follows a name
// outside its root. The contract does not assume a POSIX rename of whole
// folders nor a local path, so object stores can implement it later.
package storage

import (
	"context"
	"errors"
	"io"
	"iter"
	"path"
	"strings"
	"time"
)

// Sentinel errors every backend returns (wrapped or not) so the protocol
// layer can map them to HTTP statuses with errors.Is.
var (
	ErrNotFound     = errors.New("storage: not found")            // 404, or 409 for a missing parent
	ErrExist        = errors.New("storage: already exists")       // 405 on MKCOL
	ErrNotDir       = errors.New("storage: not a collection")     // a parent is a file: 409
	ErrIsDir        = errors.New("storage: is a collection")      // PUT onto a collection: 405
	ErrNotEmpty     = errors.New("storage: collection not empty") // Remove of a non-empty collection
	ErrPermission   = errors.New("storage: permission denied")    // 403
	ErrInvalidName  = errors.New("storage: invalid name")         // escapes, NUL, reserved names: 403/400
	ErrSizeMismatch = errors.New("storage: size mismatch")        // body shorter/longer than announced: 400
	ErrNoSpace      = errors.New("storage: insufficient storage") // 507
	ErrNotSupported = errors.New("storage: not supported")        // the backend cannot do this natively
)

// Info describes one resource. It is built from directory metadata only: a
// backend never opens a file's content to fill it in.
type Info struct {
	Name    string    // base name ("" for the root)
	Path    string    // full clean path ("/a/b.txt")
	Size    int64     // bytes; 0 for collections
	ModTime time.Time // last modification
	IsDir   bool      // a collection
	// Link tells that name is a symbolic link (or the like) the backend
	// follows, and the other fields describe what it leads to. Remove
	// removes the link itself, never what it leads to, so a walk that
	// removes a tree must not descend into a Link collection. Stat and
	// List set it; backends without links leave it false.
	Link bool
	// ETag is a strong entity tag (with quotes) that changes on every write
	// of the content. Empty for collections is allowed.
	ETag string
}

// File is an open resource body for reading, as http.ServeContent needs it.
type File interface {
	io.ReadSeekCloser
}

// PutOptions tune Put.
type PutOptions struct {
	// ExpectedSize, when >= 0, is the size the body must have (from
	// Content-Length or X-Expected-Entity-Length); anything else fails with
	// ErrSizeMismatch and leaves the old content whole. Note that the zero
	// PutOptions expects an empty body: use -1 when the size is unknown.
	ExpectedSize int64
	// ModTime, when non-zero, is applied to the new content (X-OC-Mtime).
	ModTime time.Time
	// Commit, when set, wraps the one step that makes the new content
	// visible: once the body is complete (and synced), Put calls
	// Commit(publish), and publish replaces the target. The protocol layer
	// uses it to recheck locks atomically with the replacement. When Commit
	// returns an error without calling publish, the old content stays whole
	// and Put returns that error.
	Commit func(publish func() error) error
}

// FS is the storage contract.
//
// A file where a parent collection should be gives ErrNotFound to the
// methods that address an existing resource (Stat, List, Open, Remove,
// SetModTime, the source of CopyFile and Rename) and ErrNotDir to those
// that create one (Put, Mkdir, the destination of CopyFile and Rename).
type FS interface {
	// Stat describes one resource. ErrNotFound when missing (also when a
	// parent is a file).
	Stat(ctx context.Context, name string) (Info, error)

	// List streams the members of a collection, in no particular order,
	// without reading the whole listing into memory. The root's own entry is
	// not included. Errors are yielded as the second value and end the walk.
	List(ctx context.Context, name string) iter.Seq2[Info, error]

	// Open opens a file for reading. ErrIsDir for a collection.
	Open(ctx context.Context, name string) (File, error)

	// Put writes a file atomically: the body is written to a temporary place
	// that is never listed, then replaces the target in one step, so a
	// failed or aborted write (an error from r, ctx cancelled, a size
	// mismatch) leaves the old content whole; an error from r or ctx is
	// returned wrapped, so errors.Is finds it. created tells whether the
	// resource did not exist before. ErrNotFound when the parent is
	// missing, ErrIsDir when the target is a collection.
	Put(ctx context.Context, name string, r io.Reader, opt PutOptions) (info Info, created bool, err error)

	// Mkdir creates one collection. ErrExist when something is there,
	// ErrNotFound when the parent is missing.
	Mkdir(ctx context.Context, name string) error

	// Remove removes a file or an empty collection (ErrNotEmpty otherwise).
	// The root cannot be removed (ErrPermission).
	Remove(ctx context.Context, name string) error

	// CopyFile copies one file's content to dst, atomically replacing what
	// is at dst (which must not be a collection).
	CopyFile(ctx context.Context, src, dst string) error

	// Rename moves one file, or a whole collection where the backend can do
	// that in one step, to dst, which must not exist. A backend that cannot
	// move collections returns ErrNotSupported and the caller copies then
	// removes. ErrExist when dst exists, ErrInvalidName when dst lies inside
	// src, ErrPermission for the root.
	Rename(ctx context.Context, src, dst string) error

	// SetModTime sets the modification time (Win32LastModifiedTime, X-OC-Mtime).
	SetModTime(ctx context.Context, name string, t time.Time) error
}

// InfoOpener is an optional FS method for reading a file: a backend that
// can open a resource and describe it in one step (LocalFS: one open and
// one fstat, where Stat then Open resolve the name twice) implements it,
// and the protocol layer uses it for GET and HEAD when present. Other
// backends need not: Stat then Open does the same.
type InfoOpener interface {
	// OpenInfo opens the file name for reading, as Open does, and returns
	// it with its Info, which describes the very file opened. For a
	// collection it returns a nil File, the collection's Info and no error.
	// The errors are those of Open (ErrNotFound, ErrPermission...); the
	// caller closes the File.
	//
	// When buf is not nil and the file holds fewer than len(buf) bytes,
	// OpenInfo may read it whole instead, as ReadWhole does: it then
	// returns the content in body (a prefix of buf, non-nil even when
	// empty) and a nil File. body is nil whenever a File is returned.
	OpenInfo(ctx context.Context, name string, buf []byte) (f File, body []byte, info Info, err error)
}

// OpenInfo opens the file name of fsys for reading and describes it, in
// one step when fsys is an InfoOpener and with Stat then Open otherwise;
// the results are those of InfoOpener.OpenInfo.
func OpenInfo(ctx context.Context, fsys FS, name string, buf []byte) (File, []byte, Info, error) {
	if o, ok := fsys.(InfoOpener); ok {
		return o.OpenInfo(ctx, name, buf)
	}
	info, err := fsys.Stat(ctx, name)
	if err != nil || info.IsDir {
		return nil, nil, info, err
	}
	f, err := fsys.Open(ctx, name)
	if err != nil {
		return nil, nil, Info{}, err
	}
	f, body := ReadWhole(f, info, buf)
	return f, body, info, nil
}

// SyncLater is an optional FS interface for changes that must not hold a
// lock while they wait for the disk: a backend that makes a rename or a
// removal durable with a sync of its folder (LocalFS) implements it, and
// the protocol layer changes the namespace under its lock and waits for
// durability after releasing it, so that changes do not wait for each
// other's syncs, and a removed tree waits for one sync a folder.
//
// The calls themselves (not their syncs) must not run at the same time as
// another rename or removal of the same FS: LocalFS syncs a folder by its
// path, and syncs the folders with changes waiting before it renames one,
// which a change made in that folder between that sync and the rename
// would miss (the WebDAV handler makes them under its namespace lock).
type SyncLater interface {
	// RenameSyncLater is Rename without the wait for durability: the
	// rename is done (and seen by every reader) when it returns, and sync,
	// called once afterwards, makes it durable, with Rename's errors.
	RenameSyncLater(ctx context.Context, src, dst string) (sync func() error, err error)
	// RemoveSyncLater is Remove in the same way.
	RemoveSyncLater(ctx context.Context, name string) (sync func() error, err error)
}

// RenameSyncLater renames src to dst in fsys, leaving the wait for
// durability to the sync it returns (nil on error) when fsys is a
// SyncLater; otherwise it is Rename, and sync does nothing.
func RenameSyncLater(ctx context.Context, fsys FS, src, dst string) (sync func() error, err error) {
	if s, ok := fsys.(SyncLater); ok {
		return s.RenameSyncLater(ctx, src, dst)
	}
	if err := fsys.Rename(ctx, src, dst); err != nil {
		return nil, err
	}
	return nothingToSync, nil
}

// RemoveSyncLater is RenameSyncLater for Remove.
func RemoveSyncLater(ctx context.Context, fsys FS, name string) (sync func() error, err error) {
	if s, ok := fsys.(SyncLater); ok {
		return s.RemoveSyncLater(ctx, name)
	}
	if err := fsys.Remove(ctx, name); err != nil {
		return nil, err
	}
	return nothingToSync, nil
}

// nothingToSync is the wait of a change that is durable already (or that
// NoSync leaves to the system).
func nothingToSync() error { return nil }

// ReadWhole reads f, a file just opened and described by info, whole into
// buf when info.Size is less than len(buf), closes it and returns the
// content (buf[:info.Size]) with a nil File. Otherwise it returns f, with
// a nil body: when buf is nil or too small, or when the file does not
// hold the info.Size bytes described (it grew or shrank in between, or a
// read failed), f is then back at its start for the caller to send what
// it holds, never a content cut or padded to the described size.
//
// A read that returns info.Size bytes, short of the info.Size+1 asked
// for, has met the end of the file: there is no second read to be told so.
func ReadWhole(f File, info Info, buf []byte) (File, []byte) {
	if buf == nil || info.IsDir || info.Size < 0 || info.Size >= int64(len(buf)) {
		return f, nil
	}
	b := buf[:info.Size+1]
	n, err := io.ReadAtLeast(f, b, int(max(info.Size, 1)))
	if int64(n) == info.Size && (err == nil || err == io.ErrUnexpectedEOF || err == io.EOF) {
		f.Close()
		return nil, b[:n]
	}
	// Should the seek fail, the caller's reads fail as this one did.
	f.Seek(0, io.SeekStart)
	return f, nil
}

// ValidName reports whether name has the form every FS method expects:
// absolute, slash-separated and clean (no empty, "." or ".." elements, no
// trailing slash except for the root "/" itself), without NUL bytes.
func ValidName(name string) bool {
	return strings.HasPrefix(name, "/") && path.Clean(name) == name && !strings.ContainsRune(name, 0)
}
