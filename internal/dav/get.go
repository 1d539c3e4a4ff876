package dav

import (
	"bufio"
	"bytes"
	"html"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/davit-dav/davit/internal/storage"
)

// contentType returns the media type of a file from its name alone: the
// server never opens a file to guess it.
func contentType(name string) string {
	ext := path.Ext(name)
	if t, ok := typeCache.Load(ext); ok {
		return t.(string)
	}
	t := mime.TypeByExtension(ext)
	if t == "" {
		t = "application/octet-stream"
	}
	if len(ext) <= 16 {
		// Bounded: one entry per extension seen, and extensions are
		// short; long made-up ones are looked up each time.
		typeCache.Store(ext, t)
	}
	return t
}

var typeCache sync.Map // extension → media type

// smallFile is the largest body GET reads into memory and writes with the
// headers, instead of going through sendfile: for small files the
// extra system calls of sendfile cost more than the copy.
const smallFile = 16 << 10

// smallBufs hold a small body and one byte more, which tells a file that
// grew since it was described (storage.ReadWhole).
var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallFile+1); return &b }}

// get serves GET and HEAD. A small file is read whole into memory with
// its description (storage.OpenInfo with a buffer); a larger one is kept
// open. A plain request for the whole body (no Range, no conditional
// header) is answered directly: the headers ServeContent would send, then
// the body, from memory or through sendfile. Everything else goes through
// http.ServeContent, over the bytes read or the open file: ranges and
// conditional requests in RFC 9110 order. A plain HEAD needs only the
// description and opens nothing. A collection gets a
// small HTML index, streamed.
func (h *Handler) get(w http.ResponseWriter, r *http.Request, p string) error {
	ctx := r.Context()
	if err := h.checkIf(r, p); err != nil {
		return err
	}
	plain := plainGet(r.Header)
	var (
		f    storage.File
		body []byte
		info storage.Info
		buf  []byte
		err  error
	)
	if plain && r.Method == http.MethodHead {
		// The headers need the description alone: nothing to open.
		info, err = h.fs.Stat(ctx, p)
	} else {
		// A small file is read whole, for a Range or a condition too:
		// ServeContent then answers from memory, and a kept file
		// (storage's small-file cache) costs one read, not an open.
		bp := smallBufs.Get().(*[]byte)
		defer smallBufs.Put(bp)
		buf = *bp
		f, body, info, err = storage.OpenInfo(ctx, h.fs, p, buf)
	}
	if err != nil {
		return err
	}
	if f != nil {
		defer f.Close()
	}
	if info.IsDir {
		if info.ETag != "" {
			w.Header().Set("Etag", info.ETag)
		}
		if !plain {
			// The preconditions a file gets from ServeContent (RFC 9110
			// §13.2.2), on the collection's own validators.
			switch httpConditions(r, info, true) {
			case http.StatusNotModified:
				w.WriteHeader(http.StatusNotModified)
				return nil
			case http.StatusPreconditionFailed:
				return errorf(http.StatusPreconditionFailed, "", "precondition failed")
			}
		}
		return h.index(w, r, p)
	}
	hd := w.Header()
	// One array holds the values of the headers set here, each header a
	// slice of one of its elements (capacity 1: an Add appends elsewhere):
	// one allocation instead of one a header.
	vals := new([5]string)
	setHeader(hd, "Etag", vals, 0, info.ETag)
	setHeader(hd, "Content-Type", vals, 1, contentType(info.Name))
	if lang := h.contentLanguage(r, p); lang != "" {
		hd.Set("Content-Language", lang)
	}
	// A small file not read whole did not hold what was described: it
	// changed in between, and ServeContent sends what it holds now.
	if !plain || body == nil && info.Size < int64(len(buf)) {
		var content io.ReadSeeker = f
		if body != nil {
			content = bytes.NewReader(body)
		}
		r, err := ranges(w, r, info, content)
		if err != nil {
			return err
		}
		http.ServeContent(w, r, info.Name, info.ModTime, content)
		return nil
	}
	setHeader(hd, "Accept-Ranges", vals, 2, "bytes")
	// Last-Modified and Content-Length are cut from one string.
	var b [len(http.TimeFormat) + 20]byte
	hv := b[:0]
	if !info.ModTime.IsZero() && info.ModTime.Unix() != 0 {
		hv = appendHTTPDate(hv, info.ModTime)
	}
	date := len(hv)
	size := info.Size
	if body != nil {
		size = int64(len(body))
	}
	both := string(strconv.AppendInt(hv, size, 10))
	if date > 0 {
		setHeader(hd, "Last-Modified", vals, 3, both[:date])
	}
	setHeader(hd, "Content-Length", vals, 4, both[date:])
	w.WriteHeader(http.StatusOK)
	if body != nil {
		w.Write(body)
		return nil
	}
	if f != nil {
		// Through ReadFrom: sendfile. (Slices of 256 KiB, as lighttpd
		// sends, measured no faster here.) A failure is the client's:
		// the answer has begun.
		io.CopyN(w, f, info.Size)
	}
	return nil
}

// setHeader sets header k to the one value v, held in vals[i].
func setHeader(hd http.Header, k string, vals *[5]string, i int, v string) {
	vals[i] = v
	hd[k] = vals[i : i+1 : i+1]
}

// ranges prepares r for ServeContent, which reads a multi-line If-Match
// or If-None-Match as its first line only and mishandles some Range
// headers (RFC 9110 §14.1.1, §14.2). A Range whose unit is not bytes is
// ignored. A suffix range of zero bytes (bytes=-0) is unsatisfiable, and
// so is every int-range of an empty representation; a suffix range of an
// empty one is satisfiable but has no 206 to express it, so the Range is
// ignored then. When the Range applies (the preconditions hold, and
// If-Range if any) and none of its members can be satisfied, the answer
// is 416 with Content-Range: bytes */size; otherwise the unsatisfiable
// members are dropped. The size is content's, as ServeContent finds it.
func ranges(w http.ResponseWriter, r *http.Request, info storage.Info, content io.Seeker) (*http.Request, error) {
	r = joinETagLists(r)
	rv := r.Header["Range"]
	if len(rv) == 0 {
		return r, nil
	}
	spec, ok := cutPrefixFold(rv[0], "bytes=")
	if len(rv) > 1 || !ok {
		return withHeader(r, "Range", ""), nil
	}
	size, err := content.Seek(0, io.SeekEnd)
	if err != nil {
		return r, err
	}
	if _, err := content.Seek(0, io.SeekStart); err != nil {
		return r, err
	}
	var keep []string
	dropped := false
	for _, m := range strings.Split(spec, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		suffix := len(m) > 1 && m[0] == '-'
		switch {
		case suffix && strings.Trim(m[1:], "0") == "", size == 0 && !suffix:
			dropped = true
		case size == 0:
			return withHeader(r, "Range", ""), nil
		default:
			keep = append(keep, m)
		}
	}
	switch {
	case !dropped && strings.HasPrefix(rv[0], "bytes="):
		return r, nil
	case !dropped:
		// The unit is case-insensitive (§14.1); ServeContent knows
		// "bytes=" only.
		return withHeader(r, "Range", "bytes="+spec), nil
	case len(keep) > 0:
		return withHeader(r, "Range", "bytes="+strings.Join(keep, ",")), nil
	case httpConditions(r, info, true) != 0 || !ifRangeHolds(r, info):
		return r, nil // ServeContent answers 304 or 412, or ignores the Range
	}
	w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
	return r, errorf(http.StatusRequestedRangeNotSatisfiable, "", "range not satisfiable")
}

// ifRangeHolds reports whether r's If-Range, if any, lets its Range apply
// (RFC 9110 §13.1.5): a strong entity tag equal to the resource's, or the
// date of its last modification.
func ifRangeHolds(r *http.Request, info storage.Info) bool {
	v := strings.TrimSpace(r.Header.Get("If-Range"))
	switch {
	case v == "":
		return true
	case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, "W/"):
		return info.ETag != "" && etagEqual(v, info.ETag, false)
	}
	t, err := http.ParseTime(v)
	return err == nil && hasModTime(info) && t.Unix() == info.ModTime.Unix()
}

// cutPrefixFold is strings.CutPrefix, ignoring the case of ASCII letters.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// withHeader returns a copy of r (its Header a copy too) with the header k
// set to v, or without it when v is "".
func withHeader(r *http.Request, k, v string) *http.Request {
	r2 := r.WithContext(r.Context())
	r2.Header = r.Header.Clone()
	if v == "" {
		r2.Header.Del(k)
	} else {
		r2.Header.Set(k, v)
	}
	return r2
}

// joinETagLists returns r, or when its If-Match or If-None-Match list is
// split over several header lines (RFC 9110 §5.3), a copy with each list
// on one line: ServeContent reads the first line only.
func joinETagLists(r *http.Request) *http.Request {
	for _, k := range [...]string{"If-Match", "If-None-Match"} {
		if v := r.Header[k]; len(v) > 1 {
			r = withHeader(r, k, strings.Join(v, ", "))
		}
	}
	return r
}

// plainGet reports whether a GET or HEAD asks for the whole current body
// with no condition that ServeContent would have to weigh.
func plainGet(hd http.Header) bool {
	for _, k := range [...]string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := hd[k]; ok {
			return false
		}
	}
	return true
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
