package batch

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"

	"github.com/davit-dav/davit/multistatus"
)

// servePost runs a batch document POSTed with base as the collection its
// relative hrefs resolve against.
func (h *handler) servePost(w http.ResponseWriter, r *http.Request, base string) {
	if r.ContentLength > h.opt.MaxBodyBytes {
		h.tooLarge(w, r, "the batch document is %d bytes; the limit is %d bytes (%s)", r.ContentLength, h.opt.MaxBodyBytes, HeaderMaxBytes)
		return
	}
	body := bufio.NewReader(http.MaxBytesReader(w, r.Body, h.opt.MaxBodyBytes))
	var (
		doc *Document
		err error
	)
	switch format(r.Header.Get("Content-Type"), body) {
	case "json":
		doc, err = parseJSON(body)
	case "xml":
		doc, err = parseXML(body)
	default:
		refuse(w, r, http.StatusUnsupportedMediaType, "a batch document is XML (application/xml) or JSON (application/json)")
		return
	}
	if err == nil {
		err = doc.finish(base, h.opt.MaxItems)
	}
	if !h.docOK(w, r, err) {
		return
	}
	h.run(w, r, doc)
}

// format tells a document's format from its Content-Type, or, when that is
// neither XML nor JSON (curl -d sends a form type), from its first byte.
func format(ct string, body *bufio.Reader) string {
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return "json"
	case mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml"):
		return "xml"
	}
	for i := 1; i <= 512; i++ {
		b, err := body.Peek(i)
		if err != nil && len(b) < i {
			return ""
		}
		switch c := b[i-1]; c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF: // white space, UTF-8 BOM
			continue
		case '{':
			return "json"
		case '<':
			return "xml"
		}
		return ""
	}
	return ""
}

// docOK answers a document that cannot run (400 or 413) and reports
// whether it can.
func (h *handler) docOK(w http.ResponseWriter, r *http.Request, err error) bool {
	var (
		mbe *http.MaxBytesError
		de  *docError
	)
	switch {
	case err == nil:
		return true
	case errors.As(err, &mbe):
		h.tooLarge(w, r, "the batch document is larger than %d bytes (%s)", h.opt.MaxBodyBytes, HeaderMaxBytes)
	case errors.Is(err, errTooMany):
		h.tooLarge(w, r, "the batch holds too many items (%v); at most %d are allowed (%s)", strings.TrimPrefix(err.Error(), errTooMany.Error()+": "), h.opt.MaxItems, HeaderMaxItems)
	case errors.As(err, &de):
		refuse(w, r, http.StatusBadRequest, "malformed batch document: %s; nothing was run", de.msg)
	default:
		refuse(w, r, http.StatusBadRequest, "malformed batch document: %v; nothing was run", err)
	}
	return false
}

// serveBMethod runs BDELETE, BCOPY, BMOVE, BPROPFIND or BPROPPATCH.
func (h *handler) serveBMethod(w http.ResponseWriter, r *http.Request) {
	method := batchMethods[r.Method]
	if r.ContentLength > h.opt.MaxBodyBytes {
		h.tooLarge(w, r, "the body is %d bytes; the limit is %d bytes (%s)", r.ContentLength, h.opt.MaxBodyBytes, HeaderMaxBytes)
		return
	}
	wantRoot := map[string]string{"PROPFIND": "propfind", "PROPPATCH": "propertyupdate"}[method]
	targets, body, err := parseTargets(http.MaxBytesReader(w, r.Body, h.opt.MaxBodyBytes), wantRoot)
	if !h.docOK(w, r, err) {
		return
	}
	if method == "PROPFIND" && bytes.HasSuffix(body, []byte(`<D:propfind xmlns:D="DAV:"></D:propfind>`)) {
		body = nil // nothing but the target: allprop
	}
	base := collectionPath(r.URL.EscapedPath())
	doc := &Document{Items: make([]Item, len(targets))}
	for i, t := range targets {
		it := Item{Method: method, Href: t.href, Body: body, Header: map[string]string{}}
		for _, k := range []string{"Depth", "Overwrite", "If", "If-Match", "If-None-Match"} {
			if v := r.Header.Get(k); v != "" {
				it.Header[k] = v
			}
		}
		if method == "COPY" || method == "MOVE" {
			it.Destination = t.dest
			if it.Destination == "" {
				it.Destination, err = destInto(base, r.Header.Get("Destination"), t.href)
				if err != nil {
					refuse(w, r, http.StatusBadRequest, "malformed batch: target %d: %v; nothing was run", i+1, err)
					return
				}
			}
		} else if t.dest != "" {
			refuse(w, r, http.StatusBadRequest, "malformed batch: DAV:dest is for BCOPY and BMOVE; nothing was run")
			return
		}
		doc.Items[i] = it
	}
	if !h.docOK(w, r, doc.finish(base, h.opt.MaxItems)) {
		return
	}
	h.run(w, r, doc)
}

// destInto returns the destination of a BCOPY or BMOVE target without
// DAV:dest: the member of the Destination collection named as the target.
func destInto(base, dest, href string) (string, error) {
	if dest == "" {
		return "", errors.New("no DAV:dest and no Destination header")
	}
	dir, err := resolve(base, dest)
	if err != nil {
		//lint:ignore ST1005 the message starts with the header's name
		return "", fmt.Errorf("Destination: %v", err)
	}
	src, err := resolve(base, href)
	if err != nil {
		return "", err
	}
	name := path.Base(strings.TrimSuffix(src, "/"))
	if strings.HasSuffix(src, "/") {
		name += "/"
	}
	return collectionPath(dir) + name, nil
}

// session is one batch being answered.
type session struct {
	h       *handler
	w       http.ResponseWriter
	r       *http.Request
	enc     multistatus.Encoder
	json    bool
	minimal bool
	started bool
	replied bool // the whole batch was answered otherwise (401)
	ran     int  // sub-requests made
	broken  bool // the answer can no longer be written
	dry     *dryRun
}

func (h *handler) run(w http.ResponseWriter, r *http.Request, doc *Document) {
	for _, v := range r.Header.Values(HeaderOptions) {
		for _, o := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(o)) {
			case "stop-on-error":
				doc.StopOnError = true
			case "dry-run":
				doc.DryRun = true
			case "":
			default:
				refuse(w, r, http.StatusBadRequest, "unknown batch option %q in %s; nothing was run", strings.TrimSpace(o), HeaderOptions)
				return
			}
		}
	}
	s := &session{h: h, w: w, r: r, json: wantsJSON(r), minimal: preferMinimal(r)}
	if s.json {
		s.enc = multistatus.NewJSONWriter(w)
	} else {
		s.enc = multistatus.NewWriter(w)
	}
	if doc.DryRun {
		s.dry = newDryRun(s)
	}
	failed := make(map[string]bool, len(doc.Items))
	stopAt := ""
	for i := range doc.Items {
		if r.Context().Err() != nil || s.broken {
			return // the client is gone
		}
		it := &doc.Items[i]
		if stopAt != "" {
			s.skip(it, fmt.Sprintf("not run: item %q failed and stop-on-error is set", stopAt))
			failed[it.ID] = true
			continue
		}
		if dep := firstFailed(it.Depends, failed); dep != "" {
			s.skip(it, fmt.Sprintf("not run: item %q, which it depends on, failed", dep))
			failed[it.ID] = true
			if doc.StopOnError {
				stopAt = it.ID
			}
			continue
		}
		var ok bool
		if s.dry != nil {
			ok = s.dry.item(it)
		} else {
			ok = s.runItem(it)
		}
		if s.replied {
			return
		}
		failed[it.ID] = !ok
		if !ok && doc.StopOnError {
			stopAt = it.ID
		}
	}
	s.close(doc)
}

func firstFailed(deps []string, failed map[string]bool) string {
	for _, d := range deps {
		if failed[d] {
			return d
		}
	}
	return ""
}

// preferMinimal reports whether the request carries Prefer: return=minimal
// (RFC 7240 §4.2, RFC 8144).
func preferMinimal(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "return") && strings.EqualFold(strings.Trim(strings.TrimSpace(val), `"`), "minimal") {
				return true
			}
		}
	}
	return false
}

// begin sends the 207's header.
func (s *session) begin() {
	if s.started {
		return
	}
	s.started = true
	hd := s.w.Header()
	hd.Del("Content-Length")
	if s.json {
		hd.Set("Content-Type", "application/json")
	} else {
		hd.Set("Content-Type", "application/xml; charset=utf-8")
	}
	if s.minimal {
		hd.Set("Preference-Applied", "return=minimal")
	}
	hd.Add("Vary", "Accept, Prefer")
	s.w.WriteHeader(http.StatusMultiStatus)
}

// emit writes one response, unless Prefer: return=minimal leaves it out:
// successes are left out, and of PROPFIND answers the 404 propstats (RFC
// 8144 §2.1).
func (s *session) emit(resp *multistatus.Response, propfind bool) {
	if s.minimal {
		if propfind && resp.Status.Code == 0 {
			kept := resp.Propstats[:0]
			for _, ps := range resp.Propstats {
				if ps.Status.Code != http.StatusNotFound {
					kept = append(kept, ps)
				}
			}
			if resp.Propstats = kept; len(kept) == 0 {
				return
			}
		} else if !propfind && !resp.Failed() {
			return
		}
	}
	s.begin()
	if err := s.enc.Write(resp); err != nil {
		if errors.Is(err, multistatus.ErrInvalid) {
			s.h.log.WarnContext(s.r.Context(), "batch: response left out", "href", resp.Hrefs, "err", err)
			return
		}
		s.broken = true
	}
}

// skip records an item that was not run.
func (s *session) skip(it *Item, why string) {
	s.emit(&multistatus.Response{Hrefs: []string{it.Path}, Status: multistatus.NewStatus(http.StatusFailedDependency),
		ResponseDescription: why, ID: it.ID}, false)
}

func (s *session) close(doc *Document) {
	s.begin()
	if doc.DryRun {
		desc := "dry run: nothing was changed; each status is the one the item would get as far as read-only checks can tell"
		switch e := s.enc.(type) {
		case *multistatus.Writer:
			e.ResponseDescription = desc
		case *multistatus.JSONWriter:
			e.ResponseDescription = desc
		}
	}
	s.enc.Close()
}

// subHeaders are the request headers a sub-request never inherits from the
// batch request: the item sets its own.
var subHeaders = []string{
	"Content-Type", "Content-Length", "Content-Encoding", "Content-Md5", "Content-Range", "Content-Language",
	"Transfer-Encoding", "Expect", "Prefer", "Accept", "Accept-Encoding", "Range", "If-Range",
	"Depth", "Destination", "Overwrite", "If", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since",
	"Lock-Token", "Timeout", HeaderOptions,
}

// subRequest builds the request of one item: a clone of the batch request
// (credentials, Host, cookies and other headers kept) with the item's
// method, URL, headers and body.
func (s *session) subRequest(method, escPath string, hdr map[string]string, dest string, body []byte) *http.Request {
	sub := s.r.Clone(s.r.Context())
	sub.Method = method
	u := *s.r.URL
	u.RawQuery, u.Fragment, u.ForceQuery = "", "", false
	u.Path, u.RawPath = escPath, escPath
	if p, err := url.PathUnescape(escPath); err == nil {
		u.Path = p
	}
	sub.URL = &u
	sub.RequestURI = escPath
	for _, k := range subHeaders {
		sub.Header.Del(k)
	}
	for k, v := range hdr {
		sub.Header.Set(k, v)
	}
	if dest != "" {
		sub.Header.Set("Destination", dest)
	}
	sub.TransferEncoding = nil
	sub.Trailer = nil
	sub.Close = false
	sub.GetBody = nil
	if len(body) > 0 {
		sub.Header.Set("Content-Type", "application/xml; charset=utf-8")
		sub.Body = io.NopCloser(bytes.NewReader(body))
		sub.ContentLength = int64(len(body))
	} else {
		sub.Body = http.NoBody
		sub.ContentLength = 0
	}
	return sub
}

// recorder is the ResponseWriter of a sub-request. A 207 answer is handed
// over through a pipe as it is written (it can be of any size); any other
// answer is kept, its body up to a bound.
type recorder struct {
	hdr       http.Header
	code      int
	max       int64
	body      bytes.Buffer
	truncated bool
	pw        *io.PipeWriter
	pr        *io.PipeReader
	ready     chan struct{} // closed once code is known
	once      sync.Once
	panicked  any
}

func (rec *recorder) Header() http.Header { return rec.hdr }

func (rec *recorder) WriteHeader(code int) {
	if rec.code != 0 || code < 200 {
		return // a second call, or an informational status
	}
	rec.code = code
	rec.once.Do(func() { close(rec.ready) })
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.code == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.code == http.StatusMultiStatus {
		return rec.pw.Write(p)
	}
	if room := rec.max - int64(rec.body.Len()); int64(len(p)) > room {
		rec.body.Write(p[:max(room, 0)])
		rec.truncated = true
		return len(p), nil
	}
	return rec.body.Write(p)
}

// Flush is a no-op: a 207 goes through the pipe unbuffered.
func (rec *recorder) Flush() {}

// errAborted ends the reading of a 207 whose handler panicked.
var errAborted = errors.New("batch: sub-request aborted")

// call runs sub through next. A 207 answer is read as it is written and
// each of its responses passed to each; the recorder is returned once the
// handler has returned. aborted reports that a 207 could not be read to
// its end (the handler panicked or wrote a malformed document): the batch's
// own answer must then be cut off too.
func (s *session) call(sub *http.Request, each func(*multistatus.Response)) (rec *recorder, aborted bool) {
	s.ran++
	pr, pw := io.Pipe()
	rec = &recorder{hdr: http.Header{}, max: s.h.opt.MaxCaptureBytes, pr: pr, pw: pw, ready: make(chan struct{})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				rec.panicked = v
				pw.CloseWithError(errAborted)
			} else {
				pw.Close()
			}
			if rec.code == 0 {
				rec.code = http.StatusOK
				if rec.panicked != nil {
					rec.code = http.StatusInternalServerError
				}
			}
			rec.once.Do(func() { close(rec.ready) })
		}()
		s.h.next.ServeHTTP(rec, sub)
	}()
	<-rec.ready
	if rec.code == http.StatusMultiStatus {
		rd := multistatus.NewReader(pr)
		for resp, err := range rd.Responses() {
			if err != nil {
				aborted = true
				break
			}
			each(resp)
		}
		if aborted {
			pr.CloseWithError(errAborted)
		} else {
			io.Copy(io.Discard, pr)
		}
	}
	<-done
	if rec.panicked != nil {
		if rec.panicked != http.ErrAbortHandler {
			s.h.log.ErrorContext(s.r.Context(), "batch: sub-request panicked", "method", sub.Method, "path", sub.URL.Path, "panic", rec.panicked)
		}
		if rec.code == http.StatusMultiStatus {
			aborted = true
		}
	}
	return rec, aborted
}

// abort cuts the batch's answer off: a truncated 207 must never pass for a
// complete one.
func (s *session) abort() {
	if !s.started {
		s.begin()
	}
	panic(http.ErrAbortHandler)
}

// runItem runs one item and reports whether it succeeded.
func (s *session) runItem(it *Item) bool {
	sub := s.subRequest(it.Method, it.Path, it.Header, it.Destination, it.Body)
	first := s.ran == 0
	failed := false
	propfind := it.Method == "PROPFIND"
	rec, aborted := s.call(sub, func(resp *multistatus.Response) {
		resp.ID = it.ID
		if !propfind && resp.Failed() {
			failed = true
		}
		s.emit(resp, propfind)
	})
	if aborted {
		s.abort()
	}
	if rec.code == http.StatusMultiStatus {
		return !failed
	}
	if rec.code == http.StatusUnauthorized && first && !s.started {
		// Authentication refused the first item before it did anything:
		// answer the batch with that challenge, so clients that send
		// credentials only when asked can retry.
		s.replay(rec)
		return false
	}
	resp := s.outcome(it, rec)
	s.emit(resp, false)
	return !resp.Failed()
}

// replay sends a recorded answer as the batch's answer.
func (s *session) replay(rec *recorder) {
	s.replied = true
	for k, v := range rec.hdr {
		s.w.Header()[k] = v
	}
	s.w.Header().Del("Content-Length")
	s.w.WriteHeader(rec.code)
	s.w.Write(rec.body.Bytes())
}

// outcome turns a recorded (non-207) answer into the item's response: its
// status, the DAV:error condition of the body, the reason of a plain-text
// body, the Location; for a LOCK, the lock in the propstat form.
func (s *session) outcome(it *Item, rec *recorder) *multistatus.Response {
	resp := &multistatus.Response{Hrefs: []string{it.Path}, Status: multistatus.NewStatus(rec.code), ID: it.ID}
	if loc := rec.hdr.Get("Location"); loc != "" && rec.code >= 200 && rec.code < 400 {
		resp.Location = loc
	}
	mt, _, _ := mime.ParseMediaType(rec.hdr.Get("Content-Type"))
	body := rec.body.Bytes()
	switch {
	case rec.truncated:
	case mt == "application/xml" || mt == "text/xml":
		name, inner := rootChildren(body)
		switch {
		case name == xml.Name{Space: "DAV:", Local: "error"}:
			resp.Error = make([]multistatus.Condition, len(inner))
			for i, c := range inner {
				resp.Error[i] = multistatus.Condition{Name: c.Name, Inner: c.Inner}
			}
		case name == xml.Name{Space: "DAV:", Local: "prop"} && it.Method == "LOCK" && rec.code < 300:
			resp.Status = multistatus.Status{}
			resp.Propstats = []multistatus.Propstat{{Props: inner, Status: multistatus.NewStatus(rec.code)}}
			if tok := rec.hdr.Get("Lock-Token"); tok != "" {
				resp.ResponseDescription = "Lock-Token: " + tok
			}
		}
	case mt == "text/plain" && rec.code >= 300:
		line, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
		resp.ResponseDescription = clip(strings.TrimSpace(line))
	}
	return resp
}

// rootChildren parses an XML document and returns its root's name and its
// children as properties (raw XML values). A malformed document gives a
// zero name.
func rootChildren(body []byte) (xml.Name, []multistatus.Property) {
	d := newXMLDecoder(bytes.NewReader(body))
	root, err := d.Root()
	if err != nil {
		return xml.Name{}, nil
	}
	var out []multistatus.Property
	for {
		t, ok, err := d.Child()
		if err != nil {
			return xml.Name{}, nil
		}
		if !ok {
			return root.Name, out
		}
		p, err := d.Inner(t)
		if err != nil {
			return xml.Name{}, nil
		}
		out = append(out, p)
	}
}
