package dav

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

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
// p, in the order of RFC 9110 §13.2.2, for methods that change state:
// If-Match, or when it is absent If-Unmodified-Since, then If-None-Match
// (§13.1), then the If header (RFC 4918 §10.4). A failure is 412.
func (h *Handler) checkConditions(r *http.Request, p string, info storage.Info, exists bool) error {
	if status := httpConditions(r, info, exists); status != 0 {
		return errorf(status, "", "precondition failed")
	}
	return h.checkIf(r, p)
}

// httpConditions evaluates If-Match, If-Unmodified-Since, If-None-Match
// and, for GET and HEAD, If-Modified-Since (RFC 9110 §13.1) in the order
// of §13.2.2 on a resource described by info (exists false: unmapped).
// It returns 0 when the request may go on, else the status to answer:
// 412, or 304 for a GET or HEAD whose If-None-Match or If-Modified-Since
// says the client's copy is current. A resource with no entity tag (a
// collection) matches only "*"; one with no modification date ignores the
// date conditions, as §13.1.3 and §13.1.4 require.
func httpConditions(r *http.Request, info storage.Info, exists bool) int {
	hd := r.Header
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	if im := hd.Values("If-Match"); hasValue(im) {
		if !exists || !etagListMatches(im, info.ETag, false) {
			return http.StatusPreconditionFailed
		}
	} else if t, ok := singleDate(hd.Values("If-Unmodified-Since")); ok && exists && hasModTime(info) {
		if info.ModTime.Truncate(time.Second).After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if inm := hd.Values("If-None-Match"); hasValue(inm) {
		if exists && etagListMatches(inm, info.ETag, true) {
			if read {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if read && exists && hasModTime(info) {
		if t, ok := singleDate(hd.Values("If-Modified-Since")); ok && !info.ModTime.Truncate(time.Second).After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// conditionKinds reports whether r carries preconditions (If-Match,
// If-None-Match, If-Unmodified-Since or an If header), and whether any of
// them depends on the resource's content (all but an If header of lock
// tokens alone), which another write can change.
func conditionKinds(r *http.Request) (conditional, onContent bool) {
	for _, k := range [...]string{"If-Match", "If-None-Match", "If-Unmodified-Since"} {
		if len(r.Header[k]) > 0 {
			return true, true
		}
	}
	if len(r.Header["If"]) == 0 {
		return false, false
	}
	ih, err := parseIf(r)
	if err != nil {
		return true, true
	}
	for _, l := range ih.Lists {
		for _, c := range l.Conditions {
			if c.ETag != "" {
				return true, true
			}
		}
	}
	return true, false
}

// hasValue reports whether a header's lines hold anything but white space:
// an empty If-Match or If-None-Match is treated as absent.
func hasValue(lines []string) bool {
	for _, v := range lines {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// hasModTime reports whether info carries a modification date (storage
// gives the zero time, or the Unix epoch, when it has none).
func hasModTime(info storage.Info) bool {
	return !info.ModTime.IsZero() && info.ModTime.Unix() != 0
}

// singleDate parses a date condition: one line holding one HTTP-date. A
// value that is not one (a list of dates, garbage) is ignored (RFC 9110
// §13.1.3, §13.1.4).
func singleDate(lines []string) (time.Time, bool) {
	if len(lines) != 1 {
		return time.Time{}, false
	}
	t, err := http.ParseTime(strings.TrimSpace(lines[0]))
	return t, err == nil
}

// etagListMatches reports whether the entity tags of an If-Match or
// If-None-Match header, whose list may be split over several lines
// (RFC 9110 §5.3), include "*" or etag, the resource's current tag ("" for
// none: then only "*" matches). The weak comparison (§8.8.3.2), for
// If-None-Match, ignores the W/ prefixes; the strong one, for If-Match,
// matches only two strong tags. A malformed member ends the list: what it
// held so far decides.
func etagListMatches(lines []string, etag string, weak bool) bool {
	for _, s := range lines {
		for {
			s = strings.TrimLeft(s, " \t,")
			if s == "" {
				break
			}
			if s[0] == '*' {
				return true
			}
			tag, rest, ok := scanETag(s)
			if !ok {
				break
			}
			if etag != "" && etagEqual(tag, etag, weak) {
				return true
			}
			s = rest
		}
	}
	return false
}

// scanETag reads one entity tag (RFC 9110 §8.8.3) at the start of s.
func scanETag(s string) (tag, rest string, ok bool) {
	start := s
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	n := len(start) - len(s) + end + 2
	return start[:n], start[n:], true
}

// etagEqual compares two entity tags, weakly or strongly.
func etagEqual(a, b string, weak bool) bool {
	if weak {
		return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
	}
	return a == b && !strings.HasPrefix(a, "W/")
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
// A token counts only for the user who created its lock (§6.4): another
// user's token is as good as none (a lock made anonymously is anyone's).
// A failure is 423 with DAV:lock-token-submitted naming the lock roots.
func (h *Handler) checkLocks(r *http.Request, targets ...writeTarget) error {
	ih, err := parseIf(r)
	if err != nil {
		return err
	}
	submitted := ih.SubmittedTokens()
	user := userOf(r)
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
		missing = appendMissing(missing, ls, submitted, user)
		if t.tree {
			below, err := h.locks.Below(ctx, t.path)
			if err != nil {
				return err
			}
			for _, l := range below {
				missing = appendMissing(missing, []lock.Lock{l}, submitted, user)
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
// submitted by their owner (user): any exclusive one, or the shared ones
// when none of them was.
func appendMissing(missing []string, ls []lock.Lock, submitted []string, user string) []string {
	sharedOK := false
	for _, l := range ls {
		if !l.Exclusive && heldBy(l, submitted, user) {
			sharedOK = true
		}
	}
	for _, l := range ls {
		if heldBy(l, submitted, user) || (!l.Exclusive && sharedOK) {
			continue
		}
		if !slices.Contains(missing, l.Root) {
			missing = append(missing, l.Root)
		}
	}
	return missing
}

// heldBy reports whether user submitted the token of l and may use it.
func heldBy(l lock.Lock, submitted []string, user string) bool {
	return ownedBy(l, user) && slices.Contains(submitted, l.Token)
}

// ownedBy reports whether user may use the lock l (RFC 4918 §6.4): it is
// theirs, or was made anonymously. Writes, refreshes and UNLOCK all go by
// it.
func ownedBy(l lock.Lock, user string) bool {
	return l.Principal == "" || l.Principal == user
}
