// Package server wires a Davit server together: the local-folder storage,
// the embedded state store (bbolt) for dead properties and locks, the
// protocol handler and the http.Server with its timeouts and limits.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// StateDir is the name of the state directory inside the served folder. It
// is never visible as a WebDAV resource.
const StateDir = ".davit-state"

// Options configure a Server.
type Options struct {
	Root   string // folder to serve; created when missing
	Prefix string // URL prefix ("" for the root)
	// NoSync turns off the fsync of uploaded files and their folders
	// (faster, but a machine crash may lose the last writes).
	NoSync bool
	// NoFolderCache reads every folder on every listing instead of keeping
	// small folders' names (storage.LocalOptions).
	NoFolderCache bool
	// NoFileCache opens every small file on every read instead of keeping
	// it open (storage.LocalOptions).
	NoFileCache        bool
	MaxInfinityEntries int   // PROPFIND Depth: infinity limit (dav.Config)
	MaxUploadBytes     int64 // PUT limit, 0 for none
	LockMaxTimeout     time.Duration
	Logger             *slog.Logger
}

// Server is an opened Davit server: storage and state are open until Close.
type Server struct {
	Handler http.Handler
	st      *store
}

// Open opens the folder and its state store.
func Open(opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	st, err := openStore(opt.Root, false, storeOptions{noSync: opt.NoSync, noFolderCache: opt.NoFolderCache, noFileCache: opt.NoFileCache, lockMax: opt.LockMaxTimeout}, opt.Logger)
	if err != nil {
		return nil, err
	}
	return &Server{
		st: st,
		Handler: dav.New(dav.Config{
			FS: st.fs, Locks: st.locks, Props: st.props, Prefix: opt.Prefix, Logger: opt.Logger,
			MaxInfinityEntries: opt.MaxInfinityEntries, MaxUploadBytes: opt.MaxUploadBytes,
		}),
	}, nil
}

// Close closes the storage and the state store.
func (s *Server) Close() error { return s.st.close() }

// store is one served folder with its state: the storage, the property
// and lock stores in StateDir. A folder is opened once per process (bbolt
// files take an exclusive lock), and shared by the handlers that serve it.
type store struct {
	dir     string
	fs      *storage.LocalFS
	locks   lock.Manager
	props   props.Store
	propsDB *bbolt.DB
	locksDB *bbolt.DB
	plain   bool
	refs    int // held by storePool.mu
	closed  atomic.Bool
}

// storeOptions are the settings a folder is opened with.
type storeOptions struct {
	noSync        bool          // no fsync of uploads and of the properties
	noFolderCache bool          // read every folder on every listing (storage.LocalOptions)
	noFileCache   bool          // open every small file on every read (storage.LocalOptions)
	lockMax       time.Duration // longest lock timeout granted
}

// openStore opens the folder dir (created when missing) and its state.
// A plain store (for a location without WebDAV) keeps no state on disk:
// nothing can lock or set properties there; a name StateDir is hidden at
// every depth in it.
func openStore(dir string, plain bool, opt storeOptions, log *slog.Logger) (*store, error) {
	noSync, lockMax := opt.noSync, opt.lockMax
	s := &store{dir: dir, plain: plain}
	if plain {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create folder: %w", err)
		}
		// It may hold WebDAV locations' folders: their state folders,
		// at any depth, are not served (lock tokens, properties).
		fs, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: noSync, Hidden: []string{StateDir}, HiddenAnywhere: true, NoFolderCache: opt.noFolderCache, NoFileCache: opt.noFileCache})
		if err != nil {
			return nil, err
		}
		s.fs, s.props, s.locks = fs, props.NewMemory(), lock.NewMemory(lock.Options{MaxTimeout: lockMax})
		return s, nil
	}
	if err := os.MkdirAll(filepath.Join(dir, StateDir), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	var err error
	// Properties are synced on every change, unless syncing is off for the
	// whole server (--no-sync). Locks live in their own file without fsync:
	// litmus's lockbomb and Office take and drop locks by the thousand, and a
	// machine crash can at worst lose recent locks.
	if s.propsDB, err = bbolt.Open(filepath.Join(dir, StateDir, "props.db"), 0o600, &bbolt.Options{Timeout: time.Second, NoSync: noSync}); err != nil {
		return nil, fmt.Errorf("open property store: %w", err)
	}
	if s.locksDB, err = openLocks(filepath.Join(dir, StateDir, "locks.db"), log); err != nil {
		return nil, err
	}
	if s.props, err = props.NewBolt(s.propsDB); err != nil {
		return nil, err
	}
	if s.locks, err = lock.NewBolt(s.locksDB, lock.Options{MaxTimeout: lockMax}); err != nil {
		return nil, err
	}
	// Uploads are staged in the state folder, so a collection moved or
	// deleted while an upload into it arrives never holds a stray file.
	if s.fs, err = storage.NewLocal(dir, storage.LocalOptions{NoSync: noSync, Hidden: []string{StateDir}, StageDir: StateDir + "/upload", NoFolderCache: opt.noFolderCache, NoFileCache: opt.noFileCache}); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// close closes the storage and the state store.
func (s *store) close() error {
	s.closed.Store(true)
	var errs []error
	if s.fs != nil {
		errs = append(errs, s.fs.Close())
	}
	for _, db := range []*bbolt.DB{s.propsDB, s.locksDB} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}

// openLocks opens the lock store; a file a crash left unreadable is set
// aside and replaced by an empty one (locks are the only loss).
func openLocks(path string, log *slog.Logger) (*bbolt.DB, error) {
	opts := &bbolt.Options{Timeout: time.Second, NoSync: true, NoFreelistSync: true}
	db, err := bbolt.Open(path, 0o600, opts)
	if err == nil {
		return db, nil
	}
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open lock store: %w (is another server running on this folder?)", err)
	}
	log.Warn("lock store unreadable; starting with no locks", "path", path, "err", err)
	if err := os.Rename(path, path+".broken"); err != nil {
		return nil, fmt.Errorf("open lock store: %w", err)
	}
	return bbolt.Open(path, 0o600, opts)
}

// NewHTTPServer returns an http.Server for h with explicit timeouts and
// header limits.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnState:         connState,
		ConnContext:       connContext,
	}
}

// Serve serves on ln until ctx is done, then shuts down gracefully, giving
// in-flight requests up to grace to finish.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		srv.Close()
	}
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}
