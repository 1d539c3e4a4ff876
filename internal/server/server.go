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
	"time"

	"go.etcd.io/bbolt"

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
	NoSync             bool
	MaxInfinityEntries int   // PROPFIND Depth: infinity limit (dav.Config)
	MaxUploadBytes     int64 // PUT limit, 0 for none
	LockMaxTimeout     time.Duration
	Logger             *slog.Logger
}

// Server is an opened Davit server: storage and state are open until Close.
type Server struct {
	Handler http.Handler
	fs      *storage.LocalFS
	propsDB *bbolt.DB
	locksDB *bbolt.DB
	log     *slog.Logger
}

// Open opens the folder and its state store.
func Open(opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if err := os.MkdirAll(filepath.Join(opt.Root, StateDir), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	s := &Server{log: opt.Logger}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	var err error
	// Properties are synced on every change. Locks live in their own file
	// without fsync: litmus's lockbomb and Office take and drop locks by the
	// thousand, and a machine crash can at worst lose recent locks.
	if s.propsDB, err = bbolt.Open(filepath.Join(opt.Root, StateDir, "props.db"), 0o600, &bbolt.Options{Timeout: time.Second}); err != nil {
		return nil, fmt.Errorf("open property store: %w", err)
	}
	if s.locksDB, err = openLocks(filepath.Join(opt.Root, StateDir, "locks.db"), opt.Logger); err != nil {
		return nil, err
	}
	ps, err := props.NewBolt(s.propsDB)
	if err != nil {
		return nil, err
	}
	lm, err := lock.NewBolt(s.locksDB, lock.Options{MaxTimeout: opt.LockMaxTimeout})
	if err != nil {
		return nil, err
	}
	if s.fs, err = storage.NewLocal(opt.Root, storage.LocalOptions{NoSync: opt.NoSync, Hidden: []string{StateDir}}); err != nil {
		return nil, err
	}
	s.Handler = dav.New(dav.Config{
		FS: s.fs, Locks: lm, Props: ps, Prefix: opt.Prefix, Logger: opt.Logger,
		MaxInfinityEntries: opt.MaxInfinityEntries, MaxUploadBytes: opt.MaxUploadBytes,
	})
	ok = true
	return s, nil
}

// openLocks opens the lock store; a file a crash left unreadable is set
// aside and replaced by an empty one (locks are the only loss).
func openLocks(path string, log *slog.Logger) (*bbolt.DB, error) {
	opts := &bbolt.Options{Timeout: time.Second, NoSync: true, NoFreelistSync: true}
	db, err := bbolt.Open(path, 0o600, opts)
	if err == nil {
		return db, nil
	}
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("open lock store: %w (is another server running on this folder?)", err)
	}
	log.Warn("lock store unreadable; starting with no locks", "path", path, "err", err)
	if err := os.Rename(path, path+".broken"); err != nil {
		return nil, fmt.Errorf("open lock store: %w", err)
	}
	return bbolt.Open(path, 0o600, opts)
}

// Close closes the storage and the state store.
func (s *Server) Close() error {
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

// NewHTTPServer returns an http.Server for h with explicit timeouts and
// header limits.
func NewHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
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
