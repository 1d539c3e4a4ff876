package dav

import (
	"bufio"
	"html"
	"mime"
	"net/http"
	"path"

	"github.com/davit-dav/davit/internal/storage"
)

// contentType returns the media type of a file from its name alone: the
// server never opens a file to guess it.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// get serves GET and HEAD through http.ServeContent: ranges and
// conditional requests in RFC 9110 order. A collection gets a small HTML
// index, streamed.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	info, err := h.fs.Stat(ctx, p)
	if err != nil {
		return err
	}
	if info.IsDir {
		return h.index(w, r, p)
	}
	f, err := h.fs.Open(ctx, p)
	if err != nil {
		return err
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("ETag", info.ETag)
	hd.Set("Content-Type", contentType(info.Name))
	if lang := h.contentLanguage(r, p); lang != "" {
		hd.Set("Content-Language", lang)
	}
	http.ServeContent(w, r, info.Name, info.ModTime, f)
	return nil
}

// index writes an HTML listing of a collection without holding it whole.
func (h *Handler) index(w http.ResponseWriter, r *http.Request, p string) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}
	bw := bufio.NewWriter(w)
	title := html.EscapeString(h.prefix + p)
	bw.WriteString("<!doctype html>\n<meta charset=\"utf-8\"><title>" + title + "</title>\n<h1>" + title + "</h1>\n<ul>\n")
	for info, err := range h.fs.List(r.Context(), p) {
		if err != nil {
			break // the listing is cut short; the page says nothing false
		}
		href := h.href(path.Join(p, info.Name), info.IsDir)
		name := info.Name
		if info.IsDir {
			name += "/"
		}
		bw.WriteString(`<li><a href="` + html.EscapeString(href) + `">` + html.EscapeString(name) + "</a></li>\n")
	}
	bw.WriteString("</ul>\n")
	return bw.Flush()
}

// contentLanguage returns the getcontentlanguage property of p, if set.
func (h *Handler) contentLanguage(r *http.Request, p string) string {
	ps, err := h.props.Get(r.Context(), p)
	if err != nil {
		return ""
	}
	for _, pr := range ps {
		if pr.Name == davName("getcontentlanguage") {
			return string(pr.Inner)
		}
	}
	return ""
}

var _ = storage.ErrNotFound
