package dav

import (
	"context"
	"errors"
	"net/http"
	"path"

	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// failures streams the 207 of a method that failed on some members only
// (RFC 4918 §9.6.2, §9.8.8). The 207 begins with the first failure, so a
// request that fails nowhere can still answer 201 or 204.
type failures struct {
	h   *Handler
	w   http.ResponseWriter
	r   *http.Request
	ms  *multistatus.Writer
	n   int
	set map[string]bool // failed paths, to skip and to tidy properties
	// syncs are the waits for the removals made (see removeOne), run
	// once the tree is removed, out of the namespace lock: one sync of
	// each folder covers all its members.
	syncs []func() error
}

// sync waits for every removal made so far to be durable, and returns
// the first failure.
func (f *failures) sync() error {
	var first error
	for _, s := range f.syncs {
		if err := s(); err != nil && first == nil {
			first = err
		}
	}
	f.syncs = f.syncs[:0]
	return first
}

const maxFailuresKept = 10_000

func (f *failures) add(p string, collection bool, err error) {
	e := statusOf(err)
	if e.Status >= 500 {
		f.h.log.ErrorContext(f.r.Context(), "member failed", "method", f.r.Method, "path", p, "err", e.Err)
	}
	if f.ms == nil {
		f.w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		f.w.WriteHeader(http.StatusMultiStatus)
		f.ms = multistatus.NewWriter(f.w)
	}
	f.n++
	if f.set == nil {
		f.set = map[string]bool{}
	}
	if len(f.set) < maxFailuresKept {
		f.set[p] = true
	}
	resp := multistatus.Response{Hrefs: []string{f.h.href(p, collection)}, Status: multistatus.NewStatus(e.Status)}
	if e.Cond != "" {
		resp.Error = []multistatus.Condition{multistatus.DAVCondition(e.Cond)}
	}
	f.ms.Write(&resp)
}

// finish ends the 207 if one was begun, and reports whether it was.
func (f *failures) finish() bool {
	if f.ms == nil {
		return false
	}
	f.ms.Close()
	return true
}

// delete removes a resource; for a collection, every member it can (RFC
// 4918 §9.6). Members that cannot be removed are listed in a 207, and only
// they: their ancestors are implied.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	if p == "/" {
		return errorf(http.StatusForbidden, "", "cannot delete the root collection")
	}
	info, err := h.fs.Stat(ctx, p)
	if err != nil {
		return err
	}
	if err := h.checkConditions(r, p, info, true); err != nil {
		return err
	}
	if err := h.checkLocks(r, writeTarget{path: p, membership: true, tree: info.IsDir}); err != nil {
		return err
	}
	f := &failures{h: h, w: w, r: r}
	if err := h.removeTree(ctx, p, info, f); err != nil {
		return err
	}
	if !f.finish() {
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// removeTree removes p and everything below it. Failures of members are
// recorded in f; the error returned is for p itself when no member failed.
// Properties and locks of removed resources go with them.
func (h *Handler) removeTree(ctx context.Context, p string, info storage.Info, f *failures) error {
	below, err := h.locks.Below(ctx, p)
	if err != nil {
		return err
	}
	nested, err := h.removeRec(ctx, p, info, f, p)
	if serr := f.sync(); serr != nil {
		if nested {
			f.add(p, info.IsDir, serr) // removals the 207 implies may not last
		} else if err == nil {
			err = serr
		}
	}
	if !nested {
		if err != nil {
			return err
		}
		return h.locks.RemoveTree(ctx, p)
	}
	// Partial failure: drop the locks whose resources are gone.
	for _, l := range below {
		if _, err := h.fs.Stat(ctx, l.Root); errors.Is(err, storage.ErrNotFound) {
			h.locks.Unlock(ctx, l.Token)
		}
	}
	return nil
}

// removeRec removes p. err is the failure of p itself; nested reports that
// a member below p failed (and was recorded in f), in which case p is kept
// and gets no response of its own (§9.6.1). A link to a collection
// (Info.Link) is removed itself: its members are those of what it leads
// to, which the removal must leave whole.
func (h *Handler) removeRec(ctx context.Context, p string, info storage.Info, f *failures, top string) (nested bool, err error) {
	if info.IsDir && !info.Link {
		for child, err := range h.fs.List(ctx, p) {
			if err != nil {
				return nested, err
			}
			cp := path.Join(p, child.Name)
			cnested, cerr := h.removeRec(ctx, cp, child, f, top)
			if cerr != nil {
				f.add(cp, child.IsDir, cerr)
			}
			nested = nested || cnested || cerr != nil
		}
		if nested {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
	err = h.removeOne(ctx, p, p == top, f)
	if err == nil && len(f.syncs) >= maxPendingSyncs {
		err = f.sync() // bounded: a large tree waits every so many members
	}
	return false, err
}

// maxPendingSyncs bounds the waits for durability a removal keeps before
// it runs them (one folder sync covers all of a folder's).
const maxPendingSyncs = 256

// removeOne removes the resource p (a file, or a folder now empty) and
// its properties, as one step for PROPPATCH (see Handler.nsMu). The top
// of a removal drops every property under it; a member's are dropped at
// once, since should another member fail they would outlive it, and a
// cheap read decides whether a write is needed. The wait for the removal
// to be durable goes to f.syncs, for removeTree to run out of nsMu.
func (h *Handler) removeOne(ctx context.Context, p string, top bool, f *failures) error {
	h.nsMu.Lock()
	defer h.nsMu.Unlock()
	sync, err := storage.RemoveSyncLater(ctx, h.fs, p)
	if err != nil {
		return err
	}
	f.syncs = append(f.syncs, sync)
	if top {
		return h.props.Delete(ctx, p)
	}
	if ps, err := h.props.Get(ctx, p); err == nil && len(ps) > 0 {
		h.props.Delete(ctx, p)
	}
	return nil
}
