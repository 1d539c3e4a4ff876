package dav

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// parsePropertyUpdate reads a DAV:propertyupdate body (RFC 4918 §14.19):
// set and remove instructions, in document order.
// The common bodies take the fast path (proppatch_fast.go).
func (h *Handler) parsePropertyUpdate(w http.ResponseWriter, r *http.Request) ([]props.Patch, error) {
	return parseXMLBody(h, w, r, fastPropertyUpdate, parsePropertyUpdateXML)
}

// parsePropertyUpdateXML parses a PROPPATCH body with the full decoder.
func parsePropertyUpdateXML(d bodyDecoder) ([]props.Patch, error) {
	root, err := d.Root()
	if err != nil {
		return nil, badXML(err)
	}
	if !isDAV(root.Name, "propertyupdate") {
		return nil, errorf(http.StatusBadRequest, "", "the body is not a DAV:propertyupdate")
	}
	rootLang := langOf(root, "")
	var patches []props.Patch
	for {
		t, ok, err := d.Child()
		if err != nil {
			return nil, badXML(err)
		}
		if !ok {
			break
		}
		remove := isDAV(t.Name, "remove")
		if !remove && !isDAV(t.Name, "set") {
			if err := d.Skip(); err != nil {
				return nil, badXML(err)
			}
			continue
		}
		setLang := langOf(t, rootLang)
		for {
			pt, ok, err := d.Child()
			if err != nil {
				return nil, badXML(err)
			}
			if !ok {
				break
			}
			if !isDAV(pt.Name, "prop") {
				if err := d.Skip(); err != nil {
					return nil, badXML(err)
				}
				continue
			}
			propLang := langOf(pt, setLang)
			for {
				vt, ok, err := d.Child()
				if err != nil {
					return nil, badXML(err)
				}
				if !ok {
					break
				}
				lang := langOf(vt, propLang)
				p, err := d.Inner(vt)
				if err != nil {
					return nil, badXML(err)
				}
				p.Lang = lang
				if remove {
					p.Inner, p.Lang = nil, ""
				}
				patches = append(patches, props.Patch{Remove: remove, Prop: props.Property(p)})
			}
		}
	}
	if err := d.End(); err != nil {
		return nil, badXML(err)
	}
	if len(patches) == 0 {
		return nil, errorf(http.StatusBadRequest, "", "propertyupdate holds no property")
	}
	return patches, nil
}

// proppatch sets and removes dead properties, all or nothing (RFC 4918
// §9.2): if any instruction fails, none is applied, the failing ones get
// their status and the others 424 Failed Dependency.
func (h *Handler) proppatch(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	info, err := h.fs.Stat(ctx, p)
	if err != nil {
		return err
	}
	if err := h.checkConditions(r, p, info, true); err != nil {
		return err
	}
	if err := h.checkLocks(r, writeTarget{path: p}); err != nil {
		return err
	}
	patches, err := h.parsePropertyUpdate(w, r)
	if err != nil {
		return err
	}
	h.lockMu.RLock() // see Handler.lockMu: check again, then change
	defer h.lockMu.RUnlock()
	if err := h.checkLocks(r, writeTarget{path: p}); err != nil {
		return err
	}
	// Each property appears once in the answer, with its outcome.
	status := make([]int, len(patches))
	failed := false
	for i, pt := range patches {
		if lp := findLive(pt.Prop.Name); lp != nil && lp.protected {
			status[i], failed = http.StatusForbidden, true
		}
	}
	if !failed {
		err := h.applyExisting(ctx, p, patches)
		if err != nil {
			code := statusOf(err).Status
			if (code >= 500 && code != http.StatusInsufficientStorage) || errors.Is(err, storage.ErrNotFound) {
				return err // the resource went meanwhile: a 404 of its own
			}
			for i := range status {
				status[i] = code
			}
		}
		if err == nil {
			h.applyWin32(ctx, p, patches)
		}
	} else {
		for i := range status {
			if status[i] == 0 {
				status[i] = http.StatusFailedDependency
			}
		}
	}
	resp := multistatus.Response{Hrefs: []string{h.href(p, info.IsDir)}}
	listed := make(map[xml.Name]bool, len(patches))
	for _, code := range []int{http.StatusOK, http.StatusForbidden, http.StatusInsufficientStorage, http.StatusFailedDependency} {
		ps := multistatus.Propstat{Status: multistatus.NewStatus(code)}
		for i, pt := range patches {
			if listed[pt.Prop.Name] {
				continue // set then removed (or twice): one outcome
			}
			if status[i] == code || (code == http.StatusOK && status[i] == 0) {
				listed[pt.Prop.Name] = true
				ps.Props = append(ps.Props, multistatus.Property{Name: pt.Prop.Name})
			}
		}
		if len(ps.Props) == 0 {
			continue
		}
		if code == http.StatusForbidden {
			ps.Error = []multistatus.Condition{multistatus.DAVCondition("cannot-modify-protected-property")}
		}
		resp.Propstats = append(resp.Propstats, ps)
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	mw := multistatus.NewWriter(w)
	mw.Write(&resp)
	return mw.Close()
}

// applyExisting applies the patches to p if p still exists (see
// Handler.nsMu): a DELETE or MOVE may have taken it since it was found.
func (h *Handler) applyExisting(ctx context.Context, p string, patches []props.Patch) error {
	h.nsMu.RLock()
	defer h.nsMu.RUnlock()
	if _, err := h.fs.Stat(ctx, p); err != nil {
		return err
	}
	return h.props.Apply(ctx, p, patches)
}

// langOf returns the xml:lang in scope on t: its own attribute (even an
// empty one, which undoes an inherited value), else inherited. RFC 4918
// §4.3 has a server keep the xml:lang in scope on a property, which may
// come from an ancestor such as DAV:prop or DAV:set.
func langOf(t xml.StartElement, inherited string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "http://www.w3.org/XML/1998/namespace" && a.Name.Local == "lang" {
			return a.Value
		}
	}
	return inherited
}
