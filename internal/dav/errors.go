package dav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// Error is a protocol outcome: an HTTP status, the RFC 4918 precondition or
// postcondition element for the DAV:error body where one applies (§16), and
// a short reason for people. The wrapped error is logged, never sent.
type Error struct {
	Status int
	Cond   string // local name of a DAV: condition, "" when none
	Reason string
	Hrefs  []string // hrefs inside the condition (lock-token-submitted)
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, cond, reason string) *Error {
	return &Error{Status: status, Cond: cond, Reason: reason}
}

// bodyError is a failure to read the request body: malformed chunked
// encoding, a connection cut short or reset. The client's doing, a 400
// (RFC 9112 §7.1, RFC 9110 §15.5.1), whatever net/http's text for it.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading the request body: " + e.err.Error() }

func (e *bodyError) Unwrap() error { return e.err }

// bodyReader marks the errors of a request body as bodyErrors, so that
// they reach statusOf as what they are through any layer that wraps them.
type bodyReader struct{ r io.Reader }

func (b bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// statusOf maps any error to a protocol Error. It is the one place where
// storage, lock and property errors become HTTP statuses. The Error comes
// back as a value: a 404 for one of the many names Finder probes costs no
// allocation here.
func statusOf(err error) Error {
	if err == nil {
		return Error{}
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return *e
	}
	if _, ok := errors.AsType[*bodyError](err); ok {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return Error{Status: http.StatusRequestEntityTooLarge, Reason: "request body too large", Err: err}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Error{Status: http.StatusBadRequest, Reason: "request body cut short", Err: err}
		}
		return Error{Status: http.StatusBadRequest, Reason: "unreadable request body", Err: err}
	}
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return Error{Status: http.StatusNotFound, Reason: "not found", Err: err}
	case errors.Is(err, storage.ErrNotDir):
		return Error{Status: http.StatusConflict, Reason: "a parent is not a collection", Err: err}
	case errors.Is(err, storage.ErrIsDir):
		return Error{Status: http.StatusMethodNotAllowed, Reason: "is a collection", Err: err}
	case errors.Is(err, storage.ErrExist):
		return Error{Status: http.StatusMethodNotAllowed, Reason: "already exists", Err: err}
	case errors.Is(err, storage.ErrNotEmpty):
		return Error{Status: http.StatusConflict, Reason: "collection not empty", Err: err}
	case errors.Is(err, storage.ErrPermission), errors.Is(err, storage.ErrInvalidName):
		return Error{Status: http.StatusForbidden, Reason: "forbidden", Err: err}
	case errors.Is(err, storage.ErrSizeMismatch):
		return Error{Status: http.StatusBadRequest, Reason: "body size does not match the announced length", Err: err}
	case errors.Is(err, storage.ErrNoSpace):
		return Error{Status: http.StatusInsufficientStorage, Reason: "insufficient storage", Err: err}
	case errors.Is(err, lock.ErrLocked):
		return Error{Status: http.StatusLocked, Cond: "no-conflicting-lock", Reason: "locked", Err: err}
	case errors.Is(err, lock.ErrNoSuchLock), errors.Is(err, lock.ErrNotCovered):
		return Error{Status: http.StatusConflict, Cond: "lock-token-matches-request-uri", Reason: "no such lock on this resource", Err: err}
	case errors.Is(err, props.ErrTooLarge):
		return Error{Status: http.StatusInsufficientStorage, Reason: "property too large", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Error{Status: 499, Reason: "request cancelled", Err: err}
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return Error{Status: http.StatusRequestEntityTooLarge, Reason: "request body too large", Err: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// net/http's body reader: the connection ended before the
		// announced Content-Length. The client's doing, not a 500.
		return Error{Status: http.StatusBadRequest, Reason: "request body cut short", Err: err}
	}
	return Error{Status: http.StatusInternalServerError, Reason: "internal error", Err: err}
}

// Header values of the plain-text error answers, shared by all of them
// (net/http only reads them; a Set replaces a value, never writes into it).
var (
	textPlainUTF8 = []string{"text/plain; charset=utf-8"}
	noSniff       = []string{"nosniff"}
)

// fail writes err as a response: the status, and for RFC 4918 conditions a
// DAV:error body; otherwise a short plain-text reason. Server errors are
// logged with the request's details; their text never reaches the client.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := statusOf(err)
	if e.Status >= 500 || e.Status == 499 {
		h.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", e.Status), slog.Any("err", e.Err))
	} else if _, ok := errors.AsType[*bodyError](e.Err); ok {
		// The client's mistake or its network's: worth a line for an
		// operator chasing a failing upload, not an error of the server.
		h.log.LogAttrs(r.Context(), slog.LevelInfo, "request body unreadable",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", e.Status), slog.Any("err", e.Err))
	}
	if e.Status == 499 {
		return // the client is gone
	}
	if e.Status == http.StatusMethodNotAllowed {
		// The resource's own path: r.URL.Path still holds the mount
		// prefix and a collection's trailing slash.
		if p, err := h.requestPath(r); err == nil {
			w.Header().Set("Allow", h.allow(r.Context(), p))
		}
	}
	if e.Cond != "" {
		writeCondition(w, e.Status, e.Cond, e.Hrefs)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = textPlainUTF8
	hdr["X-Content-Type-Options"] = noSniff
	w.WriteHeader(e.Status)
	if e.Reason != "" && e.Status != http.StatusNoContent {
		io.WriteString(w, e.Reason)
		io.WriteString(w, "\n")
	}
}

// writeCondition sends a DAV:error body naming one condition (§8.7, §16).
func writeCondition(w http.ResponseWriter, status int, cond string, hrefs []string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	b := []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:error xmlns:D="DAV:"><D:` + cond)
	if len(hrefs) == 0 {
		b = append(b, "/>"...)
	} else {
		b = append(b, '>')
		for _, hr := range hrefs {
			b = append(b, "<D:href>"...)
			b = multistatus.AppendText(b, multistatus.EncodeHref(hr))
			b = append(b, "</D:href>"...)
		}
		b = append(b, "</D:"+cond+">"...)
	}
	b = append(b, "</D:error>\n"...)
	w.Write(b)
}
