// Package batch runs many WebDAV operations in one request and answers with
// one 207 Multi-Status.
//
// Wrap puts a middleware in front of the whole server (above authentication
// and routing). It accepts two forms:
//
//   - the batch methods of Exchange (BDELETE, BCOPY, BMOVE, BPROPFIND,
//     BPROPPATCH) on a collection, whose body is the usual one plus a
//     DAV:target listing hrefs relative to that collection (and, for copy
//     and move, a DAV:dest after each href);
//   - a batch document sent with POST to a collection or to the configured
//     endpoint: XML in the namespace urn:davit:batch (schema in batch.xsd,
//     published at the endpoint with ?schema) or JSON, an ordered list of
//     items, each with an id, a method, an href and what the method needs.
//
// Every item is run as a sub-request handed to the wrapped handler: a clone
// of the batch request (same credentials, same Host) with the item's method,
// URL, headers and body. An item is therefore judged exactly as the same
// request sent on its own would be: rights, locks, If, preconditions. Its
// outcome becomes one or more responses of the 207, carrying the item's id
// (multistatus.Response.ID). Items run in order, and nothing is atomic: an
// item that succeeded stays done whatever happens to the later ones. The
// options stop-on-error and depends skip later items (424 Failed
// Dependency); dry-run runs read-only probes instead of the items.
//
// docs/batch.md is the user's documentation.
package batch

import (
	_ "embed"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// NS is the namespace of batch documents and of the batch extension
// elements and properties.
const NS = multistatus.BatchNS

// Defaults of Options.
const (
	DefaultMaxItems        = 1000
	DefaultMaxBodyBytes    = 8 << 20
	DefaultMaxCaptureBytes = 1 << 20
)

// Headers the middleware reads or sends.
const (
	// HeaderOptions carries batch options on a request: a comma-separated
	// list of "stop-on-error" and "dry-run". It is the only way to give them
	// to the B-methods; on a POST it adds to the document's own.
	HeaderOptions = "X-Davit-Batch-Options"
	// HeaderMaxItems and HeaderMaxBytes advertise the limits on OPTIONS
	// answers and on 413s.
	HeaderMaxItems = "X-Davit-Batch-Max-Items"
	HeaderMaxBytes = "X-Davit-Batch-Max-Bytes"
)

// Schema is the XML Schema of batch documents (also docs/batch.xsd).
//
//go:embed batch.xsd
var Schema []byte

// Options configure the middleware. Zero values take the defaults.
type Options struct {
	// Prefix is the URL path the WebDAV handler is mounted at, as in
	// dav.Config.Prefix ("" for the root, or "/dav"). Batches are taken
	// only on paths below it (and at Endpoint).
	Prefix string
	// Endpoint is a URL path, prefix included (such as "/dav/.batch"),
	// that takes POSTed batches whose relative hrefs resolve against the
	// Prefix root. A GET of it with ?schema returns the XML Schema, a GET
	// without returns the limits as JSON, and PROPFIND shows the limits as
	// properties ({urn:davit:batch}max-items, max-bytes). It shadows any
	// resource of that name. "": no endpoint; batches are then POSTed to
	// collections.
	Endpoint string
	// MaxItems is the most items (or DAV:target hrefs) one batch may hold;
	// more get 413. Default 1,000.
	MaxItems int
	// MaxBodyBytes bounds the batch document; larger gets 413. Default
	// 8 MiB.
	MaxBodyBytes int64
	// MaxCaptureBytes bounds how much of one sub-response's body is kept
	// to read its DAV:error condition. Multi-Status sub-responses
	// (PROPFIND, partial failures of DELETE, COPY, MOVE) are streamed
	// instead, whatever their size. Default 1 MiB.
	MaxCaptureBytes int64
	// Logger receives the sub-requests that panicked. nil: slog.Default().
	Logger *slog.Logger
}

// handler is the middleware.
type handler struct {
	next   http.Handler
	opt    Options
	prefix string // without trailing slash
	log    *slog.Logger
}

// Wrap returns next with batches handled in front of it. Everything that is
// not a batch (nor the endpoint) goes to next untouched, except that OPTIONS
// answers gain the batch headers (see HeaderMaxItems).
func Wrap(next http.Handler, opt Options) http.Handler {
	if opt.MaxItems <= 0 {
		opt.MaxItems = DefaultMaxItems
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.MaxCaptureBytes <= 0 {
		opt.MaxCaptureBytes = DefaultMaxCaptureBytes
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &handler{next: next, opt: opt, prefix: strings.TrimSuffix(opt.Prefix, "/"), log: opt.Logger}
}

// batchMethods maps each batch method to the method of its items.
var batchMethods = map[string]string{
	"BDELETE":    "DELETE",
	"BCOPY":      "COPY",
	"BMOVE":      "MOVE",
	"BPROPFIND":  "PROPFIND",
	"BPROPPATCH": "PROPPATCH",
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint := h.opt.Endpoint != "" && strings.TrimSuffix(r.URL.Path, "/") == strings.TrimSuffix(h.opt.Endpoint, "/")
	switch {
	case endpoint && r.Method == http.MethodPost:
		h.servePost(w, r, h.prefix+"/")
	case endpoint:
		h.serveEndpoint(w, r)
	case !h.below(r.URL.Path):
		h.next.ServeHTTP(w, r)
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/"):
		// A batch is POSTed to a collection's URL, which ends in "/"; a
		// POST to anything else goes on unchanged (405 from WebDAV).
		h.servePost(w, r, r.URL.EscapedPath())
	case batchMethods[r.Method] != "":
		h.serveBMethod(w, r)
	case r.Method == http.MethodOptions:
		h.next.ServeHTTP(&optionsWriter{ResponseWriter: w, h: h}, r)
	default:
		h.next.ServeHTTP(w, r)
	}
}

// below reports whether the URL path is the prefix or below it.
func (h *handler) below(p string) bool {
	return h.prefix == "" || p == h.prefix || strings.HasPrefix(p, h.prefix+"/")
}

// collectionPath returns an escaped path ending in "/".
func collectionPath(p string) string {
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// advertise adds the batch headers to an OPTIONS answer.
func (h *handler) advertise(hd http.Header) {
	hd.Set(HeaderMaxItems, strconv.Itoa(h.opt.MaxItems))
	hd.Set(HeaderMaxBytes, strconv.FormatInt(h.opt.MaxBodyBytes, 10))
	if dav := hd.Get("DAV"); dav != "" && !strings.Contains(dav, "<"+NS+">") {
		hd.Set("DAV", dav+", <"+NS+">")
	}
	if allow := hd.Get("Allow"); strings.Contains(allow, "PROPFIND") && !strings.Contains(allow, "BDELETE") {
		hd.Set("Allow", allow+", POST, BDELETE, BCOPY, BMOVE, BPROPFIND, BPROPPATCH")
	}
}

// optionsWriter adds the batch headers to a successful OPTIONS answer.
type optionsWriter struct {
	http.ResponseWriter
	h    *handler
	done bool
}

func (o *optionsWriter) WriteHeader(code int) {
	if !o.done && code >= 200 {
		o.done = true
		if code < 300 {
			o.h.advertise(o.Header())
		}
	}
	o.ResponseWriter.WriteHeader(code)
}

func (o *optionsWriter) Write(p []byte) (int, error) {
	if !o.done {
		o.WriteHeader(http.StatusOK)
	}
	return o.ResponseWriter.Write(p)
}

func (o *optionsWriter) Unwrap() http.ResponseWriter { return o.ResponseWriter }

// serveEndpoint answers the methods other than POST at the endpoint.
func (h *handler) serveEndpoint(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("DAV", "1, <"+NS+">")
		w.Header().Set("Allow", "OPTIONS, GET, HEAD, POST, PROPFIND")
		h.advertise(w.Header())
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	case http.MethodGet, http.MethodHead:
		if _, ok := r.URL.Query()["schema"]; ok {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(len(Schema)))
			w.WriteHeader(http.StatusOK)
			if r.Method == http.MethodGet {
				w.Write(Schema)
			}
			return
		}
		b, _ := json.Marshal(map[string]any{
			"max-items": h.opt.MaxItems, "max-bytes": h.opt.MaxBodyBytes,
			"namespace": NS, "schema": r.URL.Path + "?schema",
			"methods": []string{"DELETE", "COPY", "MOVE", "MKCOL", "PROPPATCH", "PROPFIND", "LOCK", "UNLOCK"},
		})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			w.Write(append(b, '\n'))
		}
	case "PROPFIND":
		// The limits as properties of the endpoint (Depth is irrelevant:
		// the endpoint has no members).
		href := multistatus.PathHref(strings.TrimSuffix(h.opt.Endpoint, "/"), false)
		text := func(local, v string) multistatus.Property {
			return multistatus.Property{Name: xmlName(NS, local), Inner: []byte(v)}
		}
		resp := multistatus.Response{Hrefs: []string{href}, Propstats: []multistatus.Propstat{{
			Status: multistatus.NewStatus(http.StatusOK),
			Props: []multistatus.Property{
				{Name: xmlName("DAV:", "resourcetype")},
				text("max-items", strconv.Itoa(h.opt.MaxItems)),
				text("max-bytes", strconv.FormatInt(h.opt.MaxBodyBytes, 10)),
			},
		}}}
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		multistatus.Encode(w, &multistatus.Multistatus{Responses: []multistatus.Response{resp}})
	default:
		w.Header().Set("Allow", "OPTIONS, GET, HEAD, POST, PROPFIND")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// wantsJSON reports whether the Accept header asks for JSON.
func wantsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			mt = strings.ToLower(strings.TrimSpace(mt))
			if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
				continue
			}
			if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// refuse answers a batch that cannot run at all (400, 413, 415): a short
// reason, as JSON when asked for.
func refuse(w http.ResponseWriter, r *http.Request, code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	w.Header().Del("Content-Length")
	if wantsJSON(r) {
		b, _ := json.Marshal(map[string]any{"status": code, "error": msg})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write(append(b, '\n'))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	fmt.Fprintf(w, "%s\n", msg)
}

// tooLarge answers 413 with the limits.
func (h *handler) tooLarge(w http.ResponseWriter, r *http.Request, format string, args ...any) {
	w.Header().Set(HeaderMaxItems, strconv.Itoa(h.opt.MaxItems))
	w.Header().Set(HeaderMaxBytes, strconv.FormatInt(h.opt.MaxBodyBytes, 10))
	if r.ContentLength != 0 {
		w.Header().Set("Connection", "close") // the rest of the body is not read
	}
	refuse(w, r, http.StatusRequestEntityTooLarge, format, args...)
}

func xmlName(space, local string) xml.Name { return xml.Name{Space: space, Local: local} }
