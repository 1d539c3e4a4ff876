package dav

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/storage"
)

// parseIf parses the request's If header (RFC 4918 §10.4); the zero If
// when there is none.
func parseIf(r *http.Request) (header.If, error) {
	v := r.Header.Get("If")
	if v == "" {
		return header.If{}, nil
	}
	ih, err := header.ParseIf(v)
	if err != nil {
		return header.If{}, &Error{Status: http.StatusBadRequest, Reason: "malformed If header", Err: err}
	}
	return ih, nil
}

// state returns what the If header can observe of the resource at p.
func (h *Handler) state(r *http.Request, p string) (header.State, error) {
	var st header.State
	info, err := h.fs.Stat(r.Context(), p)
	switch {
	case err == nil:
		st.ETag = info.ETag
	case !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, storage.ErrInvalidName):
		return st, err
	}
	locks, err := h.locks.Covering(r.Context(), p)
	if err != nil {
		return st, err
	}
	for _, l := range locks {
		st.LockTokens = append(st.LockTokens, l.Token)
	}
	return st, nil
}

// checkConditions evaluates the request's preconditions on the resource at
// p: If-Match and If-None-Match (RFC 9110 §13.1) for methods that change
// state, then the If header (RFC 4918 §10.4). A failure is 412.
func (h *Handler) checkConditions(r *http.Request, p string, info storage.Info, exists bool) error {
	if v := r.Header.Get("If-Match"); v != "" {
		if !exists || (strings.TrimSpace(v) != "*" && !etagListHas(v, info.ETag)) {
			return errorf(http.StatusPreconditionFailed, "", "If-Match failed")
		}
	}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if exists && (strings.TrimSpace(v) == "*" || etagListHas(v, info.ETag)) {
			return errorf(http.StatusPreconditionFailed, "", "If-None-Match failed")
		}
	}
	return h.checkIf(r, p)
}

// checkIf evaluates the request's If header (RFC 4918 §10.4) on the
// resource at p; a request whose state lists all fail is 412. Every method
// that addresses a resource is held to it, reads included (§10.4.1 makes
// no exception): a GET or PROPFIND that names a lock token or entity tag
// the resource no longer has is refused rather than answered. A request
// without the header costs one map lookup.
func (h *Handler) checkIf(r *http.Request, p string) error {
	if len(r.Header["If"]) == 0 {
		return nil
	}
	ih, err := parseIf(r)
	if err != nil {
		return err
	}
	res, err := ih.Eval(p, h.prefix, func(q string) (header.State, error) { return h.state(r, q) })
	if err != nil {
		return err
	}
	if !res.OK {
		return errorf(http.StatusPreconditionFailed, "", "If header failed")
	}
	return nil
}

// etagListHas reports whether the comma-separated entity tags of an
// If-Match / If-None-Match header include etag (strong comparison).
func etagListHas(list, etag string) bool {
	if etag == "" || strings.HasPrefix(etag, "W/") {
		return false
	}
	for _, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == etag {
			return true
		}
	}
	return false
}

// writeTarget is a resource a request changes, for the lock check.
type writeTarget struct {
	path       string
	membership bool // the request adds or removes path in its parent collection
	tree       bool // the request changes everything below path too
}

// checkLocks applies RFC 4918 §7: every lock whose scope includes a
// changed resource must have its token submitted in the If header;
// creating or removing a member also needs the token of a lock on the
// parent collection; changing a whole tree needs the tokens of the locks
// below it. Of several shared locks on one resource, one token is enough.
// A failure is 423 with DAV:lock-token-submitted naming the lock roots.
func (h *Handler) checkLocks(r *http.Request, targets ...writeTarget) error {
	ih, err := parseIf(r)
	if err != nil {
		return err
	}
	submitted := ih.SubmittedTokens()
	ctx := r.Context()
	var missing []string
	for _, t := range targets {
		var ls []lock.Lock
		cov, err := h.locks.Covering(ctx, t.path)
		if err != nil {
			return err
		}
		ls = append(ls, cov...)
		if t.membership && t.path != "/" {
			pc, err := h.locks.Covering(ctx, parent(t.path))
			if err != nil {
				return err
			}
			for _, l := range pc {
				if l.Root == parent(t.path) && l.Depth == 0 {
					ls = append(ls, l)
				}
			}
		}
		missing = appendMissing(missing, ls, submitted)
		if t.tree {
			below, err := h.locks.Below(ctx, t.path)
			if err != nil {
				return err
			}
			for _, l := range below {
				missing = appendMissing(missing, []lock.Lock{l}, submitted)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	hrefs := make([]string, len(missing))
	for i, root := range missing {
		hrefs[i] = h.href(root, false)
	}
	return &Error{Status: http.StatusLocked, Cond: "lock-token-submitted", Reason: "locked", Hrefs: hrefs}
}

// appendMissing adds the roots of the locks in ls whose tokens were not
// submitted: any exclusive one, or the shared ones when none of them was.
func appendMissing(missing []string, ls []lock.Lock, submitted []string) []string {
	sharedOK := false
	for _, l := range ls {
		if !l.Exclusive && slices.Contains(submitted, l.Token) {
			sharedOK = true
		}
	}
	for _, l := range ls {
		if slices.Contains(submitted, l.Token) || (!l.Exclusive && sharedOK) {
			continue
		}
		if !slices.Contains(missing, l.Root) {
			missing = append(missing, l.Root)
		}
	}
	return missing
}
