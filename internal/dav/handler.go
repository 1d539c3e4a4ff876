// Package dav implements the WebDAV protocol (RFC 4918 classes 1, 2 and 3)
// on top of the storage, lock and props contracts: one file per method, the
// If header and lock checks in ifcheck.go, and the error-to-status mapping
// in errors.go.
package dav

import (
	"context"
	"encoding/xml"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// Config is what a Handler serves and its limits. Zero limits take the
// defaults documented on each field.
type Config struct {
	FS     storage.FS
	Locks  lock.Manager
	Props  props.Store
	Prefix string       // URL prefix the handler is mounted at ("" or "/dav")
	Logger *slog.Logger // nil: slog.Default()

	// MaxInfinityEntries bounds PROPFIND Depth: infinity; a larger tree is
	// refused with 403 and DAV:propfind-finite-depth. Default 100,000;
	// negative refuses Depth: infinity always.
	MaxInfinityEntries int
	// MaxXMLBytes bounds XML request bodies (PROPFIND, PROPPATCH, LOCK).
	// Default 1 MiB.
	MaxXMLBytes int64
	// MaxUploadBytes bounds PUT bodies (413 beyond). 0: no limit.
	MaxUploadBytes int64
	// MaxCopyEntries bounds the resources (the source collection and its
	// members) one COPY Depth: infinity copies: a larger tree is refused
	// with 403 before anything is copied or overwritten. MOVE (a rename)
	// and DELETE are not bounded. Default 1,000,000.
	MaxCopyEntries int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnPropfindEntries, when set, is called once per PROPFIND that sent a
	// 207 with the number of responses streamed (for metrics).
	OnPropfindEntries func(n int)
}

// Handler serves WebDAV.
type Handler struct {
	// lockMu makes each lock check atomic with the change it allows:
	// LOCK takes it exclusively to create a lock; every write holds it
	// shared from its final lock check to its change (PUT only around the
	// replacement, after the body has arrived), so no write can land on a
	// resource that was locked after it was checked.
	lockMu sync.RWMutex

	// nsMu makes a dead-property write atomic with the existence of its
	// resource. PROPPATCH checks that the resource exists and writes
	// holding it shared; taking a resource away with its properties (each
	// removal of DELETE, the rename of MOVE, the property copy of COPY)
	// holds it exclusively. Without it a PROPPATCH that found its resource
	// could write after a DELETE or MOVE took resource and properties
	// away, leaving properties on a missing path, to reappear on whatever
	// is created there later. Taken after lockMu, never before.
	nsMu sync.RWMutex

	cfg    Config
	fs     storage.FS
	locks  lock.Manager
	props  props.Store
	prefix string
	log    *slog.Logger
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	if cfg.MaxInfinityEntries == 0 {
		cfg.MaxInfinityEntries = 100_000
	}
	if cfg.MaxXMLBytes <= 0 {
		cfg.MaxXMLBytes = 1 << 20
	}
	if cfg.MaxCopyEntries <= 0 {
		cfg.MaxCopyEntries = 1_000_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Handler{
		cfg: cfg, fs: cfg.FS, locks: cfg.Locks, props: cfg.Props,
		prefix: strings.TrimSuffix(cfg.Prefix, "/"), log: cfg.Logger,
	}
}

// ServeHTTP dispatches one request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := h.requestPath(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var fn func(http.ResponseWriter, *http.Request, string) error
	switch r.Method {
	case http.MethodOptions:
		fn = h.options
	case http.MethodGet, http.MethodHead:
		fn = h.get
	case http.MethodPut:
		fn = h.put
	case http.MethodDelete:
		fn = h.serialized(h.delete)
	case "MKCOL":
		fn = h.serialized(h.mkcol)
	case "COPY", "MOVE":
		fn = h.serialized(h.copyMove)
	case "PROPFIND":
		fn = h.propfind
	case "PROPPATCH":
		fn = h.proppatch
	case "LOCK":
		fn = h.lock
	case "UNLOCK":
		fn = h.unlock
	default:
		w.Header().Set("Allow", h.allow(r.Context(), p))
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := fn(w, r, p); err != nil {
		h.fail(w, r, err)
	}
}

// serialized runs fn holding lockMu shared (see Handler.lockMu).
func (h *Handler) serialized(fn func(http.ResponseWriter, *http.Request, string) error) func(http.ResponseWriter, *http.Request, string) error {
	return func(w http.ResponseWriter, r *http.Request, p string) error {
		h.lockMu.RLock()
		defer h.lockMu.RUnlock()
		return fn(w, r, p)
	}
}

// requestPath returns the clean resource path of the request below the
// mount prefix.
func (h *Handler) requestPath(r *http.Request) (string, error) {
	return cleanPath(r.URL, h.prefix)
}

// href returns the href of a resource path, with the mount prefix.
func (h *Handler) href(p string, collection bool) string {
	if p == "/" {
		return hrefOf(h.prefix+"/", true)
	}
	return hrefOf(h.prefix+p, collection)
}

// options answers OPTIONS (RFC 4918 §10.1, §18).
func (h *Handler) options(w http.ResponseWriter, r *http.Request, p string) error {
	hd := w.Header()
	hd.Set("DAV", "1, 2, 3")
	hd.Set("MS-Author-Via", "DAV")
	hd.Set("Allow", h.allow(r.Context(), p))
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

// allow lists the methods the resource at p supports.
func (h *Handler) allow(ctx context.Context, p string) string {
	info, err := h.fs.Stat(ctx, p)
	switch {
	case err != nil:
		return "OPTIONS, PUT, MKCOL, LOCK"
	case info.IsDir:
		return "OPTIONS, GET, HEAD, DELETE, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"
	}
	return "OPTIONS, GET, HEAD, PUT, DELETE, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"
}

// parent returns the parent path of a clean path ("/" for "/").
func parent(p string) string { return path.Dir(p) }

// davName is a name in the DAV: namespace.
func davName(local string) xml.Name { return xml.Name{Space: "DAV:", Local: local} }

// within reports whether p is root or below it.
func within(root, p string) bool {
	if root == "/" || p == root {
		return true
	}
	return strings.HasPrefix(p, root) && p[len(root)] == '/'
}

func contextWithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, UserKey{}, user)
}
