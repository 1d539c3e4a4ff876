package dav

import (
	"context"
	"errors"
	"net/http"
	"path"

	"github.com/davit-dav/davit/internal/header"
	"github.com/davit-dav/davit/internal/storage"
)

// copyMove serves COPY and MOVE (RFC 4918 §9.8, §9.9). Only the path of
// Destination is compared, under the mount prefix, so clients behind a
// reverse proxy that send the public host work. Dead properties follow the
// resource; locks do not.
func (h *Handler) copyMove(w http.ResponseWriter, r *http.Request, src string) error {
	ctx := r.Context()
	move := r.Method == "MOVE"
	raw := r.Header.Get("Destination")
	if raw == "" {
		return errorf(http.StatusBadRequest, "", "Destination header missing")
	}
	dst, err := header.ParseDestination(raw, h.prefix)
	switch {
	case errors.Is(err, header.ErrOutsidePrefix):
		return &Error{Status: http.StatusBadGateway, Reason: "Destination is on another server", Err: err}
	case err != nil:
		return &Error{Status: http.StatusBadRequest, Reason: "malformed Destination", Err: err}
	}
	overwrite, err := header.ParseOverwrite(r.Header.Get("Overwrite"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "malformed Overwrite header", Err: err}
	}
	depth, _, err := header.ParseDepth(r.Header.Get("Depth"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Reason: "malformed Depth header", Err: err}
	}
	depth = depth.Or(header.DepthInfinity)
	if depth == header.Depth1 || (move && depth != header.DepthInfinity) {
		return errorf(http.StatusBadRequest, "", "Depth must be infinity for MOVE, 0 or infinity for COPY")
	}
	info, err := h.fs.Stat(ctx, src)
	if err != nil {
		return err
	}
	if src == dst {
		return errorf(http.StatusForbidden, "", "source and destination are the same")
	}
	if src == "/" || dst == "/" || (info.IsDir && within(src, dst)) {
		return errorf(http.StatusForbidden, "", "cannot copy or move a collection into itself")
	}
	dstInfo, err := h.fs.Stat(ctx, dst)
	dstExists := err == nil
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	// The destination's parent must be a collection (409 otherwise). It
	// is when the destination exists, or when it shares its parent with
	// the source, which exists: a rename in place (the common MOVE) needs
	// no look at it.
	if !dstExists && parent(dst) != parent(src) {
		if pinfo, err := h.fs.Stat(ctx, parent(dst)); err != nil || !pinfo.IsDir {
			return errorf(http.StatusConflict, "", "the destination's parent collection does not exist")
		}
	}
	if dstExists && !overwrite {
		return errorf(http.StatusPreconditionFailed, "", "destination exists and Overwrite is F")
	}
	if dstExists && within(dst, src) {
		// Overwriting deletes the destination first (RFC 4918 §9.8.4,
		// §9.9.3), and with it the source inside it.
		return errorf(http.StatusForbidden, "", "the destination collection contains the source")
	}
	if err := h.checkConditions(r, src, info, true); err != nil {
		return err
	}
	targets := []writeTarget{{path: dst, membership: true, tree: dstExists && dstInfo.IsDir}}
	if move {
		targets = append(targets, writeTarget{path: src, membership: true, tree: info.IsDir})
	}
	if err := h.checkLocks(r, targets...); err != nil {
		return err
	}
	// A tree larger than MaxCopyEntries is refused before anything is
	// removed or copied, as PROPFIND's Depth: infinity bound is: counted
	// by names, through links as the copy goes (a link loop, l -> .,
	// multiplies entries until the count stops it).
	if !move && info.IsDir && depth == header.DepthInfinity && !h.countBelow(ctx, src, h.cfg.MaxCopyEntries-1) {
		return errorf(http.StatusForbidden, "", "the collection has more members than one COPY copies on this server")
	}
	f := &failures{h: h, w: w, r: r}
	if dstExists {
		if err := h.removeTree(ctx, dst, dstInfo, f); err != nil {
			return err
		}
		if f.finish() {
			return nil // could not clear the destination; the 207 says where
		}
	}
	if move {
		err = h.move(ctx, src, dst, info, f)
	} else {
		err = h.copyTree(ctx, src, dst, info, depth == header.DepthInfinity, f)
	}
	if err != nil {
		if f.finish() {
			return nil
		}
		if errors.Is(err, storage.ErrExist) {
			// Another request created the destination after it was
			// checked. Not a 405 (that would say MOVE is not allowed on
			// the source): with Overwrite F it is the 412 of §9.9.4,
			// with Overwrite T a conflict a retry can resolve.
			if !overwrite {
				return &Error{Status: http.StatusPreconditionFailed, Reason: "destination exists and Overwrite is F", Err: err}
			}
			return &Error{Status: http.StatusConflict, Reason: "the destination was created meanwhile", Err: err}
		}
		return err
	}
	if f.finish() {
		return nil
	}
	if dstExists {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	w.Header().Set("Location", h.href(dst, info.IsDir))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// move renames src to dst in one step where the backend can, and copies
// then removes where it cannot.
func (h *Handler) move(ctx context.Context, src, dst string, info storage.Info, f *failures) error {
	err := h.rename(ctx, src, dst)
	if errors.Is(err, storage.ErrNotSupported) {
		if err := h.copyTree(ctx, src, dst, info, true, f); err != nil || f.n > 0 {
			return err
		}
		return h.removeTree(ctx, src, info, f)
	}
	if err != nil {
		return err
	}
	return h.locks.RemoveTree(ctx, src)
}

// rename renames src to dst with their properties, as one step for
// PROPPATCH (see Handler.nsMu). It waits for the rename to be durable
// after releasing nsMu, so that renames wait for each other's syncs only
// as the disk makes them.
func (h *Handler) rename(ctx context.Context, src, dst string) error {
	sync, err := h.renameLocked(ctx, src, dst)
	if sync == nil {
		return err
	}
	if serr := sync(); err == nil {
		err = serr
	}
	return err
}

// renameLocked is rename's step under nsMu: the rename, with the sync
// left to the caller (nil when the rename failed), and the properties'
// move.
func (h *Handler) renameLocked(ctx context.Context, src, dst string) (func() error, error) {
	h.nsMu.Lock()
	defer h.nsMu.Unlock()
	sync, err := storage.RenameSyncLater(ctx, h.fs, src, dst)
	if err != nil {
		return nil, err
	}
	return sync, h.props.Move(ctx, src, dst)
}

// copyTree copies src to dst (members too when deep), with their dead
// properties. A member that fails is recorded in f and the copy goes on.
func (h *Handler) copyTree(ctx context.Context, src, dst string, info storage.Info, deep bool, f *failures) error {
	if err := h.copyRec(ctx, src, dst, info, deep, f); err != nil {
		return err
	}
	// Not while a PROPPATCH checks a resource and writes, nor while a
	// resource goes with its properties (see Handler.nsMu).
	h.nsMu.Lock()
	defer h.nsMu.Unlock()
	if err := h.props.Copy(ctx, src, dst, deep); err != nil {
		return err
	}
	// Properties copied for members that failed would outlive nothing.
	for p := range f.set {
		h.props.Delete(ctx, p)
	}
	// Nor for members a DELETE or MOVE took away while the copy ran:
	// only paths that hold properties are looked at (none, usually).
	paths, err := h.props.Paths(ctx, dst)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if _, err := h.fs.Stat(ctx, p); errors.Is(err, storage.ErrNotFound) {
			if err := h.props.Delete(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h *Handler) copyRec(ctx context.Context, src, dst string, info storage.Info, deep bool, f *failures) error {
	if !info.IsDir {
		return h.fs.CopyFile(ctx, src, dst)
	}
	if err := h.fs.Mkdir(ctx, dst); err != nil {
		return err
	}
	if !deep {
		return nil
	}
	for child, err := range h.fs.List(ctx, src) {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cs, cd := path.Join(src, child.Name), path.Join(dst, child.Name)
		if err := h.copyRec(ctx, cs, cd, child, true, f); err != nil {
			f.add(cd, child.IsDir, err)
		}
	}
	return nil
}
