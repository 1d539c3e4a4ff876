package multistatus

import (
	"bufio"
	"bytes"
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
	flusher interface{ Flush() }
	buf     bytes.Buffer // one response, so an invalid one writes nothing
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
	bw := bufPool.Get().(*bufio.Writer)
	bw.Reset(w)
	mw := &Writer{bw: bw}
	if f, ok := w.(interface{ Flush() }); ok {
		mw.flusher = f
	}
	return mw
}

// bufPool holds the writers' 32 KiB buffers between documents: a server
// answering many small PROPFINDs would otherwise allocate one per answer.
var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

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
	w.buf.Reset()
	encodeResponse(&w.buf, r)
	w.start()
	if _, err := w.bw.Write(w.buf.Bytes()); err != nil {
		w.err = err
	}
	if w.buf.Cap() > 1<<20 {
		w.buf = bytes.Buffer{} // do not keep one huge response's buffer
	}
	return w.err
}

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
		w.buf.Reset()
		element(&w.buf, "responsedescription", w.ResponseDescription)
		w.bw.Write(w.buf.Bytes())
	}
	w.bw.WriteString("</D:multistatus>\n")
	// The buffer goes to the destination but the destination itself is not
	// flushed: an http.ResponseWriter sends a short answer in one write
	// when the handler returns, where a flush here would cost a second.
	w.err = w.bw.Flush()
	w.bw.Reset(nil)
	bufPool.Put(w.bw)
	w.bw = nil
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

func encodeResponse(b *bytes.Buffer, r *Response) {
	b.WriteString("<D:response>")
	for _, h := range r.Hrefs {
		element(b, "href", EncodeHref(h))
	}
	if r.Status.Code != 0 {
		statusElement(b, r.Status)
	}
	for i := range r.Propstats {
		ps := &r.Propstats[i]
		b.WriteString("<D:propstat><D:prop>")
		for j := range ps.Props {
			encodeProperty(b, &ps.Props[j])
		}
		b.WriteString("</D:prop>")
		statusElement(b, ps.Status)
		encodeError(b, ps.Error)
		if ps.ResponseDescription != "" {
			element(b, "responsedescription", ps.ResponseDescription)
		}
		b.WriteString("</D:propstat>")
	}
	encodeError(b, r.Error)
	if r.ResponseDescription != "" {
		element(b, "responsedescription", r.ResponseDescription)
	}
	if r.Location != "" {
		b.WriteString("<D:location>")
		element(b, "href", EncodeHref(r.Location))
		b.WriteString("</D:location>")
	}
	if r.ID != "" {
		b.WriteString(`<id xmlns="` + BatchNS + `">`)
		escapeText(b, []byte(r.ID))
		b.WriteString("</id>")
	}
	b.WriteString("</D:response>")
}

func encodeError(b *bytes.Buffer, conds []Condition) {
	if conds == nil {
		return
	}
	b.WriteString("<D:error>")
	for _, c := range conds {
		encodeElement(b, c.Name.Space, c.Name.Local, "", c.Inner)
	}
	b.WriteString("</D:error>")
}

func encodeProperty(b *bytes.Buffer, p *Property) {
	encodeElement(b, p.Name.Space, p.Name.Local, p.Lang, p.Inner)
}

// encodeElement writes one element with raw content. DAV: elements take
// the D: prefix; other namespaces are declared on the element as its default
// namespace, which the canonical Inner form expects. An invalid local name
// is replaced so the document stays well-formed.
func encodeElement(b *bytes.Buffer, space, local, lang string, inner []byte) {
	if !validName(local) {
		local = "invalid-name"
	}
	b.WriteByte('<')
	if space == NS {
		b.WriteString("D:")
	}
	b.WriteString(local)
	if space != NS && space != "" {
		b.WriteString(` xmlns="`)
		escapeAttr(b, space)
		b.WriteByte('"')
	}
	if lang != "" {
		b.WriteString(` xml:lang="`)
		escapeAttr(b, lang)
		b.WriteByte('"')
	}
	if len(inner) == 0 {
		b.WriteString("/>")
		return
	}
	b.WriteByte('>')
	b.Write(inner)
	b.WriteString("</")
	if space == NS {
		b.WriteString("D:")
	}
	b.WriteString(local)
	b.WriteByte('>')
}

// statusElement writes <D:status>line</D:status> without allocating.
func statusElement(b *bytes.Buffer, s Status) {
	b.WriteString("<D:status>")
	var a [64]byte
	escapeText(b, s.appendTo(a[:0]))
	b.WriteString("</D:status>")
}

// element writes <D:name>text</D:name>.
func element(b *bytes.Buffer, name, text string) {
	b.WriteString("<D:")
	b.WriteString(name)
	b.WriteByte('>')
	escapeText(b, []byte(text))
	b.WriteString("</D:")
	b.WriteString(name)
	b.WriteByte('>')
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
