package multistatus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Encoder is what the XML Writer and the JSONWriter have in common: a
// stream of responses followed by Close.
type Encoder interface {
	Write(r *Response) error
	Close() error
	// Started reports whether any byte has been produced.
	Started() bool
}

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("multistatus: writer closed")

const header = `<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:">`

// Writer streams a Multi-Status document. Nothing is written until the first
// Write (or Close), so a caller can still send another status before that.
// Each response goes through a buffer that is flushed to the destination as
// it fills; memory does not grow with the number of responses.
//
// DAV: is declared once on the root as D:, custom namespaces on the elements
// that use them. Hrefs are percent-encoded where they hold characters a URI
// cannot (EncodeHref). A Writer is not safe for concurrent use.
type Writer struct {
	bw      *bufio.Writer
	pb      *pooledBufs // where bw and buf go back on Close
	flusher interface{ Flush() }
	buf     []byte // one response, so an invalid one writes nothing
	started bool
	closed  bool
	err     error

	// ResponseDescription, when set before Close, is written as the
	// document's DAV:responsedescription.
	ResponseDescription string
}

// NewWriter returns a Writer on w. If w has a Flush() method (an
// http.ResponseWriter does), Flush calls it too.
func NewWriter(w io.Writer) *Writer {
	mw := new(Writer)
	mw.Reset(w)
	return mw
}

// Reset makes w a Writer on dst as NewWriter would, reusing w itself, for
// a server that keeps its Writers between documents. It is meant for a
// Writer that was closed; one left open is abandoned as it stands.
func (w *Writer) Reset(dst io.Writer) {
	pb := bufPool.Get().(*pooledBufs)
	pb.bw.Reset(dst)
	*w = Writer{bw: pb.bw, buf: pb.buf, pb: pb}
	if f, ok := dst.(interface{ Flush() }); ok {
		w.flusher = f
	}
}

// outBuf is the size of a Writer's output buffer: each flush is a chunk
// of the HTTP answer and two socket writes, and 64 KiB made listings 4 to
// 6% faster than 32 KiB on the peer benchmark (128 KiB, no better).
const outBuf = 64 << 10

// bufPool holds the writers' buffers between documents: a server
// answering many small PROPFINDs would otherwise allocate them per answer.
var bufPool = sync.Pool{New: func() any {
	return &pooledBufs{bw: bufio.NewWriterSize(nil, outBuf), buf: make([]byte, 0, 2<<10)}
}}

// pooledBufs are the buffers of a Writer: the 64 KiB output buffer and the
// buffer one response is encoded in.
type pooledBufs struct {
	bw  *bufio.Writer
	buf []byte
}

// Started reports whether the document has begun.
func (w *Writer) Started() bool { return w.started }

// Write writes one response, beginning the document first if needed. An
// invalid response (see ErrInvalid) is refused and nothing is written.
func (w *Writer) Write(r *Response) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	if err := validate(r); err != nil {
		return err
	}
	w.buf = appendResponse(w.buf[:0], r)
	w.start()
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = err
	}
	if cap(w.buf) > 1<<20 {
		w.buf = nil // do not keep one huge response's buffer
	}
	return w.err
}

// WriteEncoded writes one response that the caller encoded itself, for a
// server that renders many similar responses faster than through Response
// values. resp must be exactly what Write would write for some valid
// Response: one DAV:response element, with DAV: elements under the prefix
// D: (bound on the root), other namespaces declared where they are used,
// hrefs as EncodeHref leaves them, text escaped as the Writer escapes it
// (AppendText), properties as AppendProperty writes them. The Writer does
// not check it: the caller's tests must show the two agree.
func (w *Writer) WriteEncoded(resp []byte) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrClosed
	}
	w.start()
	if _, err := w.bw.Write(resp); err != nil {
		w.err = err
	}
	return w.err
}

// AppendText appends s escaped as the Writer escapes character data: &, <
// and > as entities, \r as a character reference, and what XML cannot hold
// (other control characters, invalid UTF-8) replaced by U+FFFD.
func AppendText(b []byte, s string) []byte { return appendText(b, s) }

func (w *Writer) start() {
	if !w.started {
		w.started = true
		w.bw.WriteString(header)
	}
}

// Flush sends what is buffered to the destination and flushes it.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return nil // Close flushed everything
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	if w.flusher != nil {
		w.flusher.Flush()
	}
	return nil
}

// Close ends the document (writing an empty one if nothing was written)
// and writes what is buffered to the destination. It neither flushes nor
// closes the destination; call Flush before Close to push a destination
// that buffers (an http.ResponseWriter sends the rest when the handler
// returns).
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.start()
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.ResponseDescription != "" {
		w.buf = appendElement(w.buf[:0], "responsedescription", w.ResponseDescription)
		w.bw.Write(w.buf)
	}
	w.bw.WriteString("</D:multistatus>\n")
	// The buffer goes to the destination but the destination itself is not
	// flushed: an http.ResponseWriter sends a short answer in one write
	// when the handler returns, where a flush here would cost a second.
	w.err = w.bw.Flush()
	w.bw.Reset(nil)
	w.pb.buf = w.buf[:0]
	bufPool.Put(w.pb)
	w.bw, w.buf, w.pb = nil, nil, nil
	return w.err
}

// Encode writes a whole Multistatus to w.
func Encode(w io.Writer, ms *Multistatus) error {
	mw := NewWriter(w)
	mw.ResponseDescription = ms.ResponseDescription
	for i := range ms.Responses {
		if err := mw.Write(&ms.Responses[i]); err != nil {
			return fmt.Errorf("response %d: %w", i, err)
		}
	}
	return mw.Close()
}

// appendResponse appends r as the Writer writes it.
func appendResponse(b []byte, r *Response) []byte {
	b = append(b, "<D:response>"...)
	for _, h := range r.Hrefs {
		b = append(b, "<D:href>"...)
		b = appendText(b, EncodeHref(h))
		b = append(b, "</D:href>"...)
	}
	if r.Status.Code != 0 {
		b = appendStatus(b, r.Status)
	}
	for i := range r.Propstats {
		ps := &r.Propstats[i]
		b = append(b, "<D:propstat><D:prop>"...)
		for j := range ps.Props {
			b = AppendProperty(b, &ps.Props[j])
		}
		b = append(b, "</D:prop>"...)
		b = appendStatus(b, ps.Status)
		b = appendError(b, ps.Error)
		if ps.ResponseDescription != "" {
			b = appendElement(b, "responsedescription", ps.ResponseDescription)
		}
		b = append(b, "</D:propstat>"...)
	}
	b = appendError(b, r.Error)
	if r.ResponseDescription != "" {
		b = appendElement(b, "responsedescription", r.ResponseDescription)
	}
	if r.Location != "" {
		b = append(b, "<D:location><D:href>"...)
		b = appendText(b, EncodeHref(r.Location))
		b = append(b, "</D:href></D:location>"...)
	}
	if r.ID != "" {
		b = append(b, `<id xmlns="`+BatchNS+`">`...)
		b = appendText(b, r.ID)
		b = append(b, "</id>"...)
	}
	return append(b, "</D:response>"...)
}

func appendError(b []byte, conds []Condition) []byte {
	if conds == nil {
		return b
	}
	b = append(b, "<D:error>"...)
	for _, c := range conds {
		b = appendElementInner(b, c.Name.Space, c.Name.Local, "", c.Inner)
	}
	return append(b, "</D:error>"...)
}

// AppendProperty appends the property element p as the Writer writes it
// inside DAV:prop, for a caller that encodes responses itself (see
// WriteEncoded).
func AppendProperty(b []byte, p *Property) []byte {
	return appendElementInner(b, p.Name.Space, p.Name.Local, p.Lang, p.Inner)
}

// appendElementInner appends one element with raw content. DAV: elements
// take the D: prefix; other namespaces are declared on the element as its
// default namespace, which the canonical Inner form expects. An invalid
// local name is replaced so the document stays well-formed.
func appendElementInner(b []byte, space, local, lang string, inner []byte) []byte {
	if !validName(local) {
		local = "invalid-name"
	}
	b = append(b, '<')
	if space == NS {
		b = append(b, "D:"...)
	}
	b = append(b, local...)
	if space != NS && space != "" {
		b = append(b, ` xmlns="`...)
		b = appendAttr(b, space)
		b = append(b, '"')
	}
	if lang != "" {
		b = append(b, ` xml:lang="`...)
		b = appendAttr(b, lang)
		b = append(b, '"')
	}
	if len(inner) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = append(b, inner...)
	b = append(b, "</"...)
	if space == NS {
		b = append(b, "D:"...)
	}
	b = append(b, local...)
	return append(b, '>')
}

// appendStatus appends <D:status>line</D:status>.
func appendStatus(b []byte, s Status) []byte {
	b = append(b, "<D:status>"...)
	var a [64]byte
	b = appendText(b, s.appendTo(a[:0]))
	return append(b, "</D:status>"...)
}

// appendElement appends <D:name>text</D:name>.
func appendElement(b []byte, name, text string) []byte {
	b = append(b, "<D:"...)
	b = append(b, name...)
	b = append(b, '>')
	b = appendText(b, text)
	b = append(b, "</D:"...)
	b = append(b, name...)
	return append(b, '>')
}

const hexDigits = "0123456789ABCDEF"

// EncodeHref percent-encodes the characters of href that may not stand in a
// URI (spaces, non-ASCII bytes, controls, a % not starting an escape, and
// the delimiters "<>\"{}|\\^`"), leaving valid escapes and the URI's
// structure alone. It is idempotent: an encoded href comes back unchanged.
func EncodeHref(href string) string {
	for i := 0; i < len(href); i++ {
		if needsEscape(href, i) {
			return encodeFrom(href, i, false)
		}
	}
	return href
}

// PathHref returns the href for a resource path: every byte that is not an
// unreserved character, a sub-delimiter, ':', '@' or '/' is percent-encoded
// (so '%', '#', '?' and spaces in names are always escaped), and a
// collection's href ends in '/'.
func PathHref(p string, collection bool) string {
	if collection && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	for i := 0; i < len(p); i++ {
		if !pathChar(p[i]) {
			return encodeFrom(p, i, true)
		}
	}
	return p
}

// AppendPathHref appends the href PathHref(prefix+p, collection) as the
// Writer writes it inside DAV:href (EncodeHref leaves such an href alone;
// its & is escaped as text), without building the string, for a caller
// that encodes responses itself (see WriteEncoded).
func AppendPathHref(b []byte, prefix, p string, collection bool) []byte {
	b = appendPathText(b, prefix)
	b = appendPathText(b, p)
	last := p
	if last == "" {
		last = prefix
	}
	if collection && (last == "" || last[len(last)-1] != '/') {
		b = append(b, '/')
	}
	return b
}

// appendPathText appends the bytes of s as PathHref encodes them, with &
// escaped as XML text.
func appendPathText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if pathSafe[c] {
			continue
		}
		b = append(b, s[last:i]...)
		if c == '&' {
			b = append(b, "&amp;"...)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
		last = i + 1
	}
	return append(b, s[last:]...)
}

// pathSafe marks the bytes PathHref leaves alone and XML text holds as
// they are: pathChar but for &.
var pathSafe = func() (t [256]bool) {
	for c := range 256 {
		t[c] = pathChar(byte(c)) && c != '&'
	}
	return t
}()

func encodeFrom(s string, i int, path bool) string {
	var sb strings.Builder
	sb.Grow(len(s) + 16)
	sb.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if (path && !pathChar(c)) || (!path && needsEscape(s, i)) {
			sb.WriteByte('%')
			sb.WriteByte(hexDigits[c>>4])
			sb.WriteByte(hexDigits[c&15])
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}

func needsEscape(s string, i int) bool {
	c := s[i]
	if c <= ' ' || c >= 0x7f {
		return true
	}
	if c == '%' {
		return i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2])
	}
	return strings.IndexByte("<>\"{}|\\^`", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
