package server

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/header"
)

// reqInfo is what the outer layer learns about a request, shared with the
// router through the context: the request id, the client address (from
// X-Forwarded-For when the peer is a trusted proxy), the public scheme,
// host and path prefix, and, once authenticated, the user.
type reqInfo struct {
	id     string
	client netip.Addr
	scheme string
	host   string
	prefix string // X-Forwarded-Prefix, clean, "" for none
	user   string
}

type reqInfoKey struct{}

// infoCtx is the context the outer layer gives a request: it carries the
// request's reqInfo, and tells the WebDAV handler the user that reqInfo
// names once the router has authenticated one (dav.UserKey), so that no
// further context or request copy is made per request.
type infoCtx struct {
	context.Context
	info *reqInfo
}

func (c *infoCtx) Value(key any) any {
	switch key.(type) {
	case reqInfoKey:
		return c.info
	case dav.UserKey:
		return c.info.user
	}
	return c.Context.Value(key)
}

// infoOf returns the request's reqInfo, and whether it came from the
// outer layer (a fresh one when that did not run, as in unit tests of the
// router).
func infoOf(r *http.Request) (*reqInfo, bool) {
	if i, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		return i, true
	}
	i := &reqInfo{scheme: "http", host: r.Host}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		i.client = ap.Addr().Unmap()
	}
	return i, false
}

// Forwarded headers, honoured from trusted proxies only.
const (
	hXFF       = "X-Forwarded-For"
	hXFProto   = "X-Forwarded-Proto"
	hXFHost    = "X-Forwarded-Host"
	hXFPrefix  = "X-Forwarded-Prefix"
	hRequestID = "X-Request-Id"
)

// trusted reports whether a is a trusted proxy.
func (rt *router) trusted(a netip.Addr) bool {
	for _, p := range rt.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// prepare fills in the request's reqInfo. Forwarded headers from a peer
// that is not a trusted proxy are removed, so nothing downstream can use
// them.
func (rt *router) prepare(r *http.Request, info *reqInfo) {
	*info = reqInfo{scheme: "http", host: r.Host}
	if r.TLS != nil {
		info.scheme = "https"
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		info.client = ap.Addr().Unmap()
	}
	if !info.client.IsValid() || !rt.trusted(info.client) {
		// The names are in canonical form, as net/http keys the map.
		for _, h := range [...]string{hXFF, hXFProto, hXFHost, hXFPrefix, hRequestID} {
			delete(r.Header, h)
		}
	} else {
		info.client = rt.clientFromXFF(r.Header.Values(hXFF), info.client)
		switch p := strings.ToLower(strings.TrimSpace(firstValue(r.Header.Get(hXFProto)))); p {
		case "http", "https":
			info.scheme = p
		}
		if h := strings.TrimSpace(firstValue(r.Header.Get(hXFHost))); h != "" && validHost(h) {
			info.host = h
			r.Host = h
		}
		if v := strings.TrimSpace(r.Header.Get(hXFPrefix)); v != "" {
			if p, err := header.CleanPath(v, ""); err == nil && !strings.ContainsAny(p, "?#") {
				if p != "/" {
					info.prefix = p
				}
			} else {
				rt.log.Debug("ignoring malformed X-Forwarded-Prefix", "value", v)
			}
		}
		if id := r.Header.Get(hRequestID); validRequestID(id) {
			info.id = id
		}
	}
	if info.id == "" {
		info.id = newRequestID()
	}
}

// clientFromXFF returns the client address from X-Forwarded-For: the
// rightmost address that is not a trusted proxy (the leftmost when all
// are), or peer when the header is missing or malformed.
func (rt *router) clientFromXFF(values []string, peer netip.Addr) netip.Addr {
	var addrs []netip.Addr
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			a, err := netip.ParseAddr(strings.TrimSpace(f))
			if err != nil {
				return peer
			}
			addrs = append(addrs, a.Unmap())
		}
	}
	for i := len(addrs) - 1; i >= 0; i-- {
		if !rt.trusted(addrs[i]) {
			return addrs[i]
		}
	}
	if len(addrs) > 0 {
		return addrs[0]
	}
	return peer
}

func firstValue(v string) string {
	f, _, _ := strings.Cut(v, ",")
	return f
}

func validHost(h string) bool {
	return len(h) <= 255 && !strings.ContainsAny(h, "/\\ @?#") && !strings.ContainsFunc(h, func(r rune) bool { return r < ' ' || r >= 0x7f })
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// newRequestID returns 16 hex digits from the runtime's per-thread ChaCha8
// generator: unique enough to tell requests apart in logs, and no system
// call per request (crypto/rand made one here). An id guards nothing.
func newRequestID() string {
	var b [16]byte
	v := rand.Uint64()
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = hexDigits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// outerState is what the outer layer keeps per request, in one
// allocation.
type outerState struct {
	info reqInfo
	ctx  infoCtx
	rw   respWriter
	body countingBody // counts the bytes read, 0 with no body
	id   [1]string
}

// serveOuter is the outermost layer: request id, forwarded headers,
// access log and metrics around next.
func (rt *router) serveOuter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		method, path, depth := r.Method, r.URL.EscapedPath(), r.Header.Get("Depth")
		st := &outerState{}
		info, in := &st.info, &st.body.n
		rt.prepare(r, info)
		st.id[0] = info.id
		w.Header()[hRequestID] = st.id[:]
		st.rw = respWriter{ResponseWriter: w, ctx: r.Context()}
		rw := &st.rw
		st.ctx = infoCtx{Context: r.Context(), info: info}
		// A shallow copy: the server's own Request must keep its Body, or
		// net/http no longer sees an unread Expect: 100-continue body
		// and would wait for it before sending our early 401.
		r = r.WithContext(&st.ctx)
		if r.Body != nil && r.Body != http.NoBody {
			st.body.ReadCloser = r.Body
			r.Body = &st.body
		}
		aborted := true
		defer func() {
			status := rw.status
			if status == 0 {
				status = http.StatusOK
				if aborted {
					status = 499 // no answer: client gone or handler aborted
				}
			}
			d := time.Since(start)
			rt.metrics.observe(method, status, d.Seconds(), in.Load(), rw.bytes)
			if rt.accessLog {
				attrs := []slog.Attr{
					slog.String("method", method), slog.String("path", path), slog.Int("status", status),
					slog.Int64("bytes", rw.bytes), slog.Int64("bytes_in", in.Load()),
					slog.Duration("duration", d), slog.String("user", info.user),
					slog.String("request_id", info.id), slog.String("remote", info.client.String()),
					slog.String("proto", r.Proto), slog.String("scheme", info.scheme), slog.String("host", info.host),
				}
				if depth != "" {
					attrs = append(attrs, slog.String("depth", depth))
				}
				if info.prefix != "" {
					attrs = append(attrs, slog.String("forwarded_prefix", info.prefix))
				}
				if aborted {
					attrs = append(attrs, slog.Bool("aborted", true))
				}
				rt.log.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
			}
		}()
		next.ServeHTTP(rw, r)
		aborted = false
	})
}

// countingBody counts the bytes read from a request body.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// respWriter records the status and the bytes written, and, when loc is
// set, lets the location adjust the headers just before they are sent. It passes Flush,
// ReadFrom (sendfile) and WriteString through, and Unwrap for http.ResponseController.
type respWriter struct {
	http.ResponseWriter
	loc    *location       // nil: headers go out as they are
	method string          // the request's, for loc
	ctx    context.Context // the connection's (releaseConn); nil in a batch item's writer
	status int
	bytes  int64
}

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
		if w.loc != nil {
			w.loc.fixHeaders(w.Header(), w.method)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// WriteString passes io.WriteString through: net/http's writer takes a
// string without a copy (a short error text costs no allocation).
func (w *respWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := io.WriteString(w.ResponseWriter, s)
	w.bytes += int64(n)
	return n, err
}

func (w *respWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

func (w *respWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
	if w.ctx != nil {
		releaseConn(w.ctx)
	}
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type writerOnly struct{ io.Writer }
