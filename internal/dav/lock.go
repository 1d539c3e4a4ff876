package dav

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/storage"
)

// lockInfo is a parsed DAV:lockinfo body (RFC 4918 §14.11).
type lockInfo struct {
	refresh   bool // no lockinfo (no body, or only white space): a refresh
	exclusive bool
	owner     []byte
}

// parseLockInfo reads a LOCK's body. The common bodies take the fast path
// (lock_fast.go).
func (h *Handler) parseLockInfo(w http.ResponseWriter, r *http.Request) (lockInfo, error) {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return lockInfo{refresh: true}, nil
	}
	return parseXMLBody(h, w, r, fastLockInfo, parseLockInfoXML)
}

// parseLockInfoXML parses a LOCK body with the full decoder.
func parseLockInfoXML(d bodyDecoder) (li lockInfo, err error) {
	root, err := d.Root()
	if errors.Is(err, errEmptyBody) {
		li.refresh = true
		return li, nil
	}
	if err != nil {
		return li, badXML(err)
	}
	if !isDAV(root.Name, "lockinfo") {
		return li, errorf(http.StatusBadRequest, "", "the body is not a DAV:lockinfo")
	}
	var scope, write bool
	for {
		t, ok, err := d.Child()
		if err != nil {
			return li, badXML(err)
		}
		if !ok {
			break
		}
		switch {
		case isDAV(t.Name, "lockscope"), isDAV(t.Name, "locktype"):
			for {
				c, ok, err := d.Child()
				if err != nil {
					return li, badXML(err)
				}
				if !ok {
					break
				}
				switch {
				case isDAV(c.Name, "exclusive"):
					li.exclusive, scope = true, true
				case isDAV(c.Name, "shared"):
					scope = true
				case isDAV(c.Name, "write"):
					write = true
				}
				if err := d.Skip(); err != nil {
					return li, badXML(err)
				}
			}
		case isDAV(t.Name, "owner"):
			p, err := d.Inner(t)
			if err != nil {
				return li, badXML(err)
			}
			li.owner = p.Inner
		default:
			if err := d.Skip(); err != nil {
				return li, badXML(err)
			}
		}
	}
	if err := d.End(); err != nil {
		return li, badXML(err)
	}
	if !scope || !write {
		return li, errorf(http.StatusBadRequest, "", "lockinfo needs a lockscope and a write locktype")
	}
	return li, nil
}

// lock serves LOCK (RFC 4918 §9.10): a new lock, or with no body the
// refresh of the lock named in the If header. Locking an unmapped URL
// creates an empty resource (§7.3).
func (h *Handler) lock(w http.ResponseWriter, r *http.Request, p string) error {
	depth, _, err := header.ParseDepth(r.Header.Get("Depth"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "malformed Depth header", Err: err}
	}
	depth = depth.Or(header.DepthInfinity)
	if depth == header.Depth1 {
		return errorf(http.StatusBadRequest, "", "Depth must be 0 or infinity for LOCK")
	}
	var timeout time.Duration // 0 asks for infinite; the manager caps it
	if v := r.Header.Get("Timeout"); v != "" {
		d, infinite, err := header.ParseTimeout(v)
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Reason: "malformed Timeout header", Err: err}
		}
		if !infinite {
			timeout = d
		}
	}
	li, err := h.parseLockInfo(w, r)
	if err != nil {
		return err
	}
	if li.refresh {
		return h.refresh(w, r, p, timeout)
	}
	l := lock.Lock{Root: p, Depth: 0, Exclusive: li.exclusive, Owner: li.owner, Timeout: timeout, Principal: userOf(r)}
	if depth == header.DepthInfinity {
		l.Depth = lock.Infinity
	}
	err = h.lockOnce(w, r, p, l, true)
	if errors.Is(err, errRaced) {
		// Another client made the resource while this one's empty file
		// was being made: look again, all under lockMu.
		err = h.lockOnce(w, r, p, l, false)
	}
	return err
}

// errRaced tells lock that the unmapped URL it was making a resource for
// was mapped meanwhile.
var errRaced = errors.New("dav: the resource was made meanwhile")

// lockOnce is lock's step for the lock l on p. lockMu is held exclusively
// until the new lock is in force (see Handler.lockMu), not while it is
// stored. For an unmapped URL, when fresh, the empty resource is made
// and synced with lockMu released (Finder and davfs2 lock each new name
// before they upload it), and its publication and its lock, after the
// look and the checks again, are one step under lockMu; errRaced when the
// URL was mapped meanwhile.
func (h *Handler) lockOnce(w http.ResponseWriter, r *http.Request, p string, l lock.Lock, fresh bool) error {
	ctx := r.Context()
	depth := l.Depth
	h.lockMu.Lock()
	held := true
	defer func() {
		if held {
			h.lockMu.Unlock()
		}
	}()
	info, err := h.fs.Stat(ctx, p)
	exists := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := h.checkConditions(r, p, info, exists); err != nil {
		return err
	}
	if !exists {
		if err := h.checkLocks(r, writeTarget{path: p, membership: true}); err != nil {
			return err
		}
	}
	if !exists && fresh {
		h.lockMu.Unlock()
		held = false
		return h.lockNew(w, r, p, l)
	}
	created := false
	if !exists {
		if _, created, err = h.fs.Put(ctx, p, http.NoBody, storage.PutOptions{ExpectedSize: 0}); err != nil {
			return h.lockFailed(r, p, depth, err)
		}
	}
	l, wait, err := h.stageLock(ctx, l)
	if err != nil {
		if created {
			h.fs.Remove(ctx, p)
		}
		return h.lockFailed(r, p, depth, err)
	}
	h.lockMu.Unlock()
	held = false
	if err := wait(); err != nil {
		// The lock was taken back. An empty resource made for it stays:
		// with the lock gone, a write may have given it content already.
		return err
	}
	w.Header().Set("Lock-Token", "<"+l.Token+">")
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	// The lock's root is the resource looked at above (a new one is a
	// file), so its href needs no second look.
	h.writeLockDiscovery(w, r, status, l, p, exists && info.IsDir)
	return nil
}

// lockNew is lockOnce for an unmapped URL: the empty resource is staged
// and synced by Put with lockMu released; Put's commit step takes lockMu,
// looks again (errRaced when p is mapped now), checks the conditions and
// the locks again, puts the lock in force and publishes the resource. The
// folder's sync and the lock's storing are waited for after lockMu is
// released.
func (h *Handler) lockNew(w http.ResponseWriter, r *http.Request, p string, l lock.Lock) error {
	ctx := r.Context()
	depth := l.Depth
	staged := false
	var wait func() error
	_, _, err := h.fs.Put(ctx, p, http.NoBody, storage.PutOptions{ExpectedSize: 0, Commit: func(publish func() error) error {
		h.lockMu.Lock()
		defer h.lockMu.Unlock()
		switch _, err := h.fs.Stat(ctx, p); {
		case err == nil:
			return errRaced
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
		if err := h.checkConditions(r, p, storage.Info{}, false); err != nil {
			return err
		}
		if err := h.checkLocks(r, writeTarget{path: p, membership: true}); err != nil {
			return err
		}
		got, gotWait, err := h.stageLock(ctx, l)
		if err != nil {
			return err
		}
		l, wait, staged = got, gotWait, true
		return publish()
	}})
	if staged {
		if werr := wait(); err == nil {
			err = werr
		} else if werr == nil {
			// The LOCK fails (the file not published, or its folder
			// not synced): its lock goes too. A file published stays,
			// as when the lock cannot be stored.
			h.locks.Unlock(ctx, l.Token)
		}
	}
	if err != nil {
		return h.lockFailed(r, p, depth, err)
	}
	w.Header().Set("Lock-Token", "<"+l.Token+">")
	h.writeLockDiscovery(w, r, http.StatusCreated, l, p, false)
	return nil
}

// lockFailed is the answer to a LOCK of p (at depth) that err stopped: a
// conflicting lock is a 423 naming it, a missing parent a 409; errRaced
// and any other error go up as they are.
func (h *Handler) lockFailed(r *http.Request, p string, depth int, err error) error {
	switch {
	case errors.Is(err, lock.ErrLocked):
		return h.conflict(r, p, depth == lock.Infinity, err)
	case errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrNotDir):
		return errorf(http.StatusConflict, "", "the parent collection does not exist")
	}
	return err
}

// stageLock puts l in force and returns the wait for it to be stored
// (nothing to wait for when the manager stores it at once).
func (h *Handler) stageLock(ctx context.Context, l lock.Lock) (lock.Lock, func() error, error) {
	if s, ok := h.locks.(lock.Stager); ok {
		return s.Stage(ctx, l)
	}
	l, err := h.locks.Create(ctx, l)
	return l, func() error { return nil }, err
}

// conflict builds the 423 for a LOCK that meets another lock, naming the
// roots of the conflicting locks (§9.10.7 DAV:no-conflicting-lock).
func (h *Handler) conflict(r *http.Request, p string, deep bool, cause error) error {
	e := &Error{Status: http.StatusLocked, Cond: "no-conflicting-lock", Reason: "locked", Err: cause}
	cov, _ := h.locks.Covering(r.Context(), p)
	var below []lock.Lock
	if deep {
		below, _ = h.locks.Below(r.Context(), p)
	}
	for _, l := range append(cov, below...) {
		e.Hrefs = append(e.Hrefs, h.href(l.Root, false))
	}
	return e
}

// refresh resets the timeout of the lock whose token the If header names
// (§9.10.2).
func (h *Handler) refresh(w http.ResponseWriter, r *http.Request, p string, timeout time.Duration) error {
	ih, err := parseIf(r)
	if err != nil {
		return err
	}
	tokens := ih.SubmittedTokens()
	if len(tokens) == 0 {
		return errorf(http.StatusBadRequest, "", "a lock refresh needs the lock token in an If header")
	}
	for _, tok := range tokens {
		l, err := h.locks.Get(r.Context(), tok)
		if err != nil || !l.Covers(p) {
			continue
		}
		if !ownedBy(l, userOf(r)) {
			return errorf(http.StatusForbidden, "", "the lock belongs to another user")
		}
		if l, err = h.locks.Refresh(r.Context(), tok, timeout); err != nil {
			return err
		}
		h.writeLockDiscovery(w, r, http.StatusOK, l, "", false)
		return nil
	}
	return &Error{Status: http.StatusPreconditionFailed, Cond: "lock-token-matches-request-uri", Reason: "no lock with that token covers this resource"}
}

// writeLockDiscovery answers a LOCK with the lock in a DAV:prop body. at
// and atIsDir say what is known of a resource the lock covers, as for
// appendActiveLock ("" when nothing is).
func (h *Handler) writeLockDiscovery(w http.ResponseWriter, r *http.Request, status int, l lock.Lock, at string, atIsDir bool) {
	b := []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:prop xmlns:D="DAV:"><D:lockdiscovery>`)
	b = h.appendActiveLock(r.Context(), b, l, at, atIsDir, h.cfg.Now())
	b = append(b, "</D:lockdiscovery></D:prop>\n"...)
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// unlock serves UNLOCK (RFC 4918 §9.11).
func (h *Handler) unlock(w http.ResponseWriter, r *http.Request, p string) error {
	tok, err := header.ParseLockToken(r.Header.Get("Lock-Token"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "missing or malformed Lock-Token header", Err: err}
	}
	l, err := h.locks.Get(r.Context(), tok)
	if err != nil || !l.Covers(p) {
		return &Error{Status: http.StatusConflict, Cond: "lock-token-matches-request-uri", Reason: "no lock with that token covers this resource", Err: err}
	}
	if !ownedBy(l, userOf(r)) {
		return errorf(http.StatusForbidden, "", "the lock belongs to another user")
	}
	if err := h.locks.Unlock(r.Context(), tok); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userOf returns the authenticated user of the request ("" when anonymous).
func userOf(r *http.Request) string {
	if u, ok := r.Context().Value(UserKey{}).(string); ok {
		return u
	}
	return ""
}

// UserKey is the context key under which authentication stores the user:
// its value is the user's name, a string ("" for anonymous). WithUser sets
// it; a server's own context type may answer it too.
type UserKey struct{}

// WithUser returns a request context carrying the authenticated user, for
// the lock ownership checks.
func WithUser(r *http.Request, user string) *http.Request {
	return r.WithContext(contextWithUser(r.Context(), user))
}
