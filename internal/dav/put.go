package dav

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/internal/storage"
)

// put writes a file atomically (RFC 4918 §9.7, RFC 9110 §9.3.4): the body
// streams to a temporary file that replaces the target only when complete.
func (h *Handler) put(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	if p == "/" {
		return errorf(http.StatusMethodNotAllowed, "", "cannot PUT the root collection")
	}
	if r.Header.Get("Content-Range") != "" {
		return errorf(http.StatusBadRequest, "", "Content-Range is not allowed on PUT")
	}
	info, err := h.fs.Stat(ctx, p)
	exists := err == nil
	switch {
	case exists && info.IsDir:
		return errorf(http.StatusMethodNotAllowed, "", "cannot PUT onto a collection")
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return err
	}
	if err := h.checkConditions(r, p, info, exists); err != nil {
		return err
	}
	if err := h.checkLocks(r, writeTarget{path: p, membership: !exists}); err != nil {
		return err
	}
	if !exists {
		// Refused before the body is read, so a client that sent Expect:
		// 100-continue (Cyberduck, curl) never has to send it.
		pi, err := h.fs.Stat(ctx, parent(p))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err != nil || !pi.IsDir {
			return errorf(http.StatusConflict, "", "the parent collection does not exist")
		}
	}
	target := writeTarget{path: p, membership: !exists}
	recheck, exclusive := conditionKinds(r)
	opt := storage.PutOptions{ExpectedSize: r.ContentLength, Commit: func(publish func() error) error {
		// A lock taken while the body was arriving wins.
		if !exclusive {
			h.lockMu.RLock()
			defer h.lockMu.RUnlock()
			return h.commitPut(r, p, target, recheck, publish)
		}
		// A condition on the content must still hold when the new
		// content goes in (RFC 9110 §13.1.1, §13.1.2): of two PUTs with
		// If-None-Match: * or the same If-Match, one wins and the other
		// gets 412. The look and the replacement are one step with no
		// other write between them: lockMu is held exclusively, for a
		// rename.
		h.lockMu.Lock()
		defer h.lockMu.Unlock()
		return h.commitPut(r, p, target, true, publish)
	}}
	if v := r.Header.Get("X-Expected-Entity-Length"); v != "" && opt.ExpectedSize < 0 {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "", "malformed X-Expected-Entity-Length")
		}
		opt.ExpectedSize = n
	}
	if h.cfg.MaxUploadBytes > 0 && opt.ExpectedSize > h.cfg.MaxUploadBytes {
		return errorf(http.StatusRequestEntityTooLarge, "", "upload larger than the limit")
	}
	var mtime time.Time
	if v := r.Header.Get("X-OC-Mtime"); v != "" {
		if mtime, err = header.ParseXOCMtime(v); err != nil {
			return errorf(http.StatusBadRequest, "", "malformed X-OC-Mtime")
		}
		opt.ModTime = mtime
	}
	var body io.Reader = r.Body
	if h.cfg.MaxUploadBytes > 0 {
		body = http.MaxBytesReader(w, r.Body, h.cfg.MaxUploadBytes)
	}
	newInfo, created, err := h.fs.Put(ctx, p, bodyReader{body}, opt)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrNotDir) {
			return errorf(http.StatusConflict, "", "the parent collection does not exist")
		}
		return err
	}
	if newInfo.ETag != "" {
		w.Header().Set("ETag", newInfo.ETag)
	}
	if !mtime.IsZero() {
		w.Header().Set("X-OC-MTime", "accepted")
	}
	if created {
		w.Header().Set("Location", h.href(p, false))
		w.WriteHeader(http.StatusCreated)
	} else {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// commitPut is the last step of a PUT of p, run with lockMu held: the
// preconditions again (when recheck) on the resource as it is now, then
// the lock check again; then publish puts the new content in place. A
// failure leaves the old content whole.
func (h *Handler) commitPut(r *http.Request, p string, target writeTarget, recheck bool, publish func() error) error {
	if recheck {
		info, err := h.fs.Stat(r.Context(), p)
		exists := err == nil
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := h.checkConditions(r, p, info, exists); err != nil {
			return err
		}
		target.membership = !exists
	}
	if err := h.checkLocks(r, target); err != nil {
		return err
	}
	return publish()
}

// mkcol creates a collection (RFC 4918 §9.3).
func (h *Handler) mkcol(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	if r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody) {
		return errorf(http.StatusUnsupportedMediaType, "", "MKCOL with a body is not supported")
	}
	info, err := h.fs.Stat(ctx, p)
	if err == nil {
		_ = info
		return errorf(http.StatusMethodNotAllowed, "", "the resource already exists")
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := h.checkConditions(r, p, storage.Info{}, false); err != nil {
		return err
	}
	if err := h.checkLocks(r, writeTarget{path: p, membership: true}); err != nil {
		return err
	}
	if err := h.fs.Mkdir(ctx, p); err != nil {
		if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrNotDir) {
			return errorf(http.StatusConflict, "", "the parent collection does not exist")
		}
		return err
	}
	w.Header().Set("Location", h.href(p, true))
	w.WriteHeader(http.StatusCreated)
	return nil
}
