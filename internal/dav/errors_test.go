package dav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// TestStatusOf: the one mapping of errors to statuses, through wrapping
// (as storage, the lock manager and net/http return them), and an *Error
// passed through as it is.
func TestStatusOf(t *testing.T) {
	wrapped := func(err error) error {
		return fmt.Errorf("op %q: %w", "/a", &fs.PathError{Op: "x", Path: "/a", Err: err})
	}
	cond := &Error{Status: http.StatusPreconditionFailed, Cond: "lock-token-submitted", Reason: "locked", Hrefs: []string{"/a"}}
	cases := []struct {
		name   string
		err    error
		status int
		cond   string
		reason string
	}{
		{"not found", wrapped(storage.ErrNotFound), 404, "", "not found"},
		{"not a directory", wrapped(storage.ErrNotDir), 409, "", "a parent is not a collection"},
		{"is a directory", storage.ErrIsDir, 405, "", "is a collection"},
		{"exists", storage.ErrExist, 405, "", "already exists"},
		{"not empty", storage.ErrNotEmpty, 409, "", "collection not empty"},
		{"permission", wrapped(storage.ErrPermission), 403, "", "forbidden"},
		{"invalid name", storage.ErrInvalidName, 403, "", "forbidden"},
		{"size mismatch", storage.ErrSizeMismatch, 400, "", "body size does not match the announced length"},
		{"no space", wrapped(storage.ErrNoSpace), 507, "", "insufficient storage"},
		{"locked", fmt.Errorf("%w: /a by /", lock.ErrLocked), 423, "no-conflicting-lock", "locked"},
		{"no such lock", lock.ErrNoSuchLock, 409, "lock-token-matches-request-uri", "no such lock on this resource"},
		{"not covered", lock.ErrNotCovered, 409, "lock-token-matches-request-uri", "no such lock on this resource"},
		{"property too large", props.ErrTooLarge, 507, "", "property too large"},
		{"cancelled", fmt.Errorf("reading: %w", context.Canceled), 499, "", "request cancelled"},
		{"deadline", context.DeadlineExceeded, 499, "", "request cancelled"},
		{"body too large", fmt.Errorf("body: %w", &http.MaxBytesError{Limit: 10}), 413, "", "request body too large"},
		{"body cut short", io.ErrUnexpectedEOF, 400, "", "request body cut short"},
		{"body unreadable", wrapped(&bodyError{errors.New("invalid byte in chunk length")}), 400, "", "unreadable request body"},
		{"body connection reset", wrapped(&bodyError{&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}}), 400, "", "unreadable request body"},
		{"marked body cut short", wrapped(&bodyError{io.ErrUnexpectedEOF}), 400, "", "request body cut short"},
		{"marked body too large", wrapped(&bodyError{&http.MaxBytesError{Limit: 10}}), 413, "", "request body too large"},
		{"anything else", errors.New("disk on fire"), 500, "", "internal error"},
		{"an Error", fmt.Errorf("outer: %w", cond), 412, "lock-token-submitted", "locked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := statusOf(tc.err)
			if e.Status != tc.status || e.Cond != tc.cond || e.Reason != tc.reason {
				t.Errorf("statusOf = %d %q %q, want %d %q %q", e.Status, e.Cond, e.Reason, tc.status, tc.cond, tc.reason)
			}
			if tc.name != "an Error" && e.Err != tc.err {
				t.Errorf("the cause is not kept for the log: %v", e.Err)
			}
		})
	}
	if e := statusOf(nil); e.Status != 0 {
		t.Errorf("statusOf(nil) = %d", e.Status)
	}
	if e := statusOf(fmt.Errorf("outer: %w", cond)); len(e.Hrefs) != 1 || e.Hrefs[0] != "/a" {
		t.Errorf("an Error's hrefs: %v", e.Hrefs)
	}
}

// TestFailAnswers: what a client gets for an error, in plain text or as a
// DAV:error body, one answer after another (the plain answers share their
// header values: none may leak into the next).
func TestFailAnswers(t *testing.T) {
	h := &Handler{log: slog.New(slog.DiscardHandler)}
	cases := []struct {
		err   error
		code  int
		ctype string
		body  string
	}{
		{storage.ErrNotFound, 404, "text/plain; charset=utf-8", "not found\n"},
		{lock.ErrLocked, 423, "application/xml; charset=utf-8", `<D:no-conflicting-lock/>`},
		{errors.New("secret path /srv/x: disk on fire"), 500, "text/plain; charset=utf-8", "internal error\n"},
		{&Error{Status: http.StatusNoContent}, 204, "text/plain; charset=utf-8", ""},
		{storage.ErrNotFound, 404, "text/plain; charset=utf-8", "not found\n"},
	}
	for _, tc := range cases {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("PROPFIND", "/x", nil)
		h.fail(w, r, tc.err)
		if w.Code != tc.code || w.Header().Get("Content-Type") != tc.ctype {
			t.Errorf("%v: %d %q, want %d %q", tc.err, w.Code, w.Header().Get("Content-Type"), tc.code, tc.ctype)
		}
		if tc.ctype == "text/plain; charset=utf-8" {
			if w.Body.String() != tc.body {
				t.Errorf("%v: body %q, want %q", tc.err, w.Body, tc.body)
			}
			if got := w.Header().Values("X-Content-Type-Options"); len(got) != 1 || got[0] != "nosniff" {
				t.Errorf("%v: X-Content-Type-Options %q", tc.err, got)
			}
			// A later Add on this answer must not reach the next one.
			w.Header().Add("Content-Type", "text/html")
			w.Header().Add("X-Content-Type-Options", "other")
		} else if !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%v: body %q, want it to hold %q", tc.err, w.Body, tc.body)
		}
	}
	if len(textPlainUTF8) != 1 || textPlainUTF8[0] != "text/plain; charset=utf-8" || len(noSniff) != 1 || noSniff[0] != "nosniff" {
		t.Errorf("the shared header values changed: %q %q", textPlainUTF8, noSniff)
	}
}
