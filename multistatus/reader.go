package multistatus

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// SyntaxError reports malformed or over-limit input with its position: the
// place where reading stopped, just past the offending token (the bad tag,
// entity or text, or the end tag of an element whose content is wrong).
type SyntaxError struct {
	Line, Column int   // 1-based; Column counts bytes
	Offset       int64 // byte offset from the start of the input
	Err          error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("multistatus: line %d, column %d (byte %d): %v", e.Line, e.Column, e.Offset, e.Err)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

// Reader streams the responses of a Multi-Status document from an
// io.Reader of any size, one at a time. Element prefixes do not matter
// (namespaces are resolved), unknown elements are skipped, and white space
// is tolerated. Memory is bounded by Limits, not by the document's size.
//
// Property and condition values (Inner) of the responses it returns may
// share backing arrays; each is capped at its length, so appending to one
// copies it.
type Reader struct {
	dec    *xml.Decoder
	guard  *guardReader
	lim    Limits
	depth  int // current element depth
	inRoot bool
	done   bool
	err    error
	desc   string
	// respEnd is the input offset the current response may not pass
	// (Limits.MaxResponseBytes), -1 outside a response; respSize is the
	// memory its decoded form takes so far, which may not pass the limit
	// either.
	respEnd  int64
	respSize int64

	// Scratch space reused from one response to the next, so that a
	// response's slices are allocated once, at their final size.
	values      innerReader
	slab        slab
	textBuf     []byte
	propBuf     []Property
	propstatBuf []Propstat
	statuses    map[string]Status // recent status lines, parsed
}

// guardReader is the decoder's byte source. It bounds the size of any one
// token: it fails once the decoder has read more than max bytes past mark,
// the input offset where the current token began (the Reader moves mark
// after every token). Being an io.ByteReader, it also stands in for the
// bufio.Reader the decoder would otherwise add, and so knows where lines
// start, for error positions.
type guardReader struct {
	r     io.Reader
	buf   []byte
	pos   int
	end   int
	err   error // from r, returned once buf is drained
	limit error // set when the token limit was hit
	max   int64
	mark  int64

	read          int64 // bytes handed to the decoder
	line          int   // line of the next byte, 1-based
	lineStart     int64 // offset of the first byte of that line
	prevLineStart int64 // offset of the first byte of the line before
}

func newGuardReader(r io.Reader, max int64) *guardReader {
	return &guardReader{r: r, buf: make([]byte, 8<<10), max: max, line: 1}
}

func (g *guardReader) fill() error {
	if g.read-g.mark > g.max {
		g.limit = fmt.Errorf("%w: token larger than %d bytes", ErrLimit, g.max)
		g.err = g.limit
	}
	if g.err != nil {
		return g.err
	}
	for range 100 {
		n, err := g.r.Read(g.buf)
		g.pos, g.end, g.err = 0, n, err
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
	g.err = io.ErrNoProgress
	return g.err
}

func (g *guardReader) ReadByte() (byte, error) {
	if g.pos >= g.end {
		if err := g.fill(); err != nil {
			return 0, err
		}
	}
	c := g.buf[g.pos]
	g.pos++
	g.read++
	if c == '\n' {
		g.line++
		g.prevLineStart, g.lineStart = g.lineStart, g.read
	}
	return c, nil
}

// Read is there for the decoder's CharsetReader hook, which wants an
// io.Reader; the decoder itself reads with ReadByte.
func (g *guardReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := g.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		p[n] = c
		n++
		if g.pos >= g.end {
			break
		}
	}
	return n, nil
}

// position returns the 1-based line and byte column of input offset off,
// which is at most one byte behind what was read (the decoder puts back at
// most one byte).
func (g *guardReader) position(off int64) (line, col int) {
	if off >= g.lineStart || g.line == 1 {
		return g.line, int(off-g.lineStart) + 1
	}
	return g.line - 1, int(off-g.prevLineStart) + 1
}

// NewReader returns a Reader with the default Limits.
func NewReader(r io.Reader) *Reader { return NewReaderLimits(r, Limits{}) }

// NewReaderLimits returns a Reader with the given limits.
func NewReaderLimits(r io.Reader, lim Limits) *Reader {
	lim = lim.withDefaults()
	g := newGuardReader(r, lim.MaxTokenBytes)
	dec := xml.NewDecoder(g)
	dec.CharsetReader = charsetReader
	return &Reader{dec: dec, guard: g, lim: lim, respEnd: -1}
}

// charsetReader accepts the labels of UTF-8 (and its ASCII subset) only.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return in, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// ResponseDescription returns the document's own DAV:responsedescription,
// known once Next has returned io.EOF.
func (r *Reader) ResponseDescription() string { return r.desc }

// Responses yields the responses in document order. After an error it
// yields that error once and stops.
func (r *Reader) Responses() iter.Seq2[*Response, error] {
	return func(yield func(*Response, error) bool) {
		for {
			resp, err := r.Next()
			if err == io.EOF {
				return
			}
			if !yield(resp, err) || err != nil {
				return
			}
		}
	}
}

// Decode reads a whole document. For large answers use Reader.
func Decode(in io.Reader) (*Multistatus, error) {
	r := NewReader(in)
	ms := &Multistatus{}
	for resp, err := range r.Responses() {
		if err != nil {
			return nil, err
		}
		ms.Responses = append(ms.Responses, *resp)
	}
	ms.ResponseDescription = r.desc
	return ms, nil
}

// Next returns the next response, or io.EOF after the last one once the
// document has ended properly. Any other error is a *SyntaxError and is
// returned again by every later call.
func (r *Reader) Next() (*Response, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	resp, err := r.next()
	if err != nil {
		r.err = r.wrap(err)
		return nil, r.err
	}
	if resp == nil {
		r.done = true
		return nil, io.EOF
	}
	return resp, nil
}

func (r *Reader) wrap(err error) error {
	if r.guard.limit != nil {
		err = r.guard.limit
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	off := r.dec.InputOffset()
	line, col := r.guard.position(off)
	return &SyntaxError{Line: line, Column: col, Offset: off, Err: err}
}

// rawToken returns the decoder's next token and starts the token size
// limit afresh.
func (r *Reader) rawToken() (xml.Token, error) {
	tok, err := r.dec.Token()
	r.guard.mark = r.dec.InputOffset()
	return tok, err
}

// token returns the next token, tracking depth and enforcing the depth and
// response size limits.
func (r *Reader) token() (xml.Token, error) {
	tok, err := r.rawToken()
	if err != nil {
		return nil, err
	}
	if r.respEnd >= 0 && r.dec.InputOffset() > r.respEnd {
		return nil, errResponseSize
	}
	switch tok.(type) {
	case xml.StartElement:
		r.depth++
		if r.depth > r.lim.MaxDepth {
			return nil, fmt.Errorf("%w: nesting deeper than %d", ErrLimit, r.lim.MaxDepth)
		}
	case xml.EndElement:
		r.depth--
	}
	return tok, nil
}

func isDAV(n xml.Name, local string) bool { return n.Space == NS && n.Local == local }

func (r *Reader) next() (*Response, error) {
	if !r.inRoot {
		if err := r.findRoot(); err != nil {
			return nil, err
		}
	}
	for {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case isDAV(t.Name, "response"):
				return r.response()
			case isDAV(t.Name, "responsedescription"):
				if r.desc, err = r.text(); err != nil {
					return nil, err
				}
			default:
				if err := r.skip(); err != nil {
					return nil, err
				}
			}
		case xml.EndElement: // of multistatus
			return nil, r.trailer()
		}
	}
}

// findRoot reads up to the root element, which must be DAV:multistatus.
// Before it only white space (and a byte order mark), the XML declaration,
// comments, processing instructions and a DOCTYPE may stand.
func (r *Reader) findRoot() error {
	for first := true; ; first = false {
		tok, err := r.token()
		if err == io.EOF {
			return errors.New("no multistatus element")
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !isDAV(t.Name, "multistatus") {
				return fmt.Errorf("root element is {%s}%s, not {DAV:}multistatus", t.Name.Space, t.Name.Local)
			}
			r.inRoot = true
			return nil
		case xml.CharData:
			if first {
				t = bytes.TrimPrefix(t, []byte("\uFEFF"))
			}
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text before the multistatus element")
			}
		}
	}
}

// trailer checks that only white space, comments and processing
// instructions follow the root element.
func (r *Reader) trailer() error {
	for {
		tok, err := r.rawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return errors.New("content after the multistatus element")
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) > 0 {
				return errors.New("text after the multistatus element")
			}
		}
	}
}

// skip consumes the rest of the element just started, under the depth limit.
func (r *Reader) skip() error {
	base := r.depth - 1
	for r.depth > base {
		if _, err := r.token(); err != nil {
			return err
		}
	}
	return nil
}

// text returns the character data of the element just started, skipping
// any child elements.
func (r *Reader) text() (string, error) {
	b, err := r.textBytes()
	return string(b), err
}

// textBytes is text in the Reader's scratch buffer, valid until the next
// call.
func (r *Reader) textBytes() ([]byte, error) {
	b := r.textBuf[:0]
	base := r.depth - 1
	for {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		if r.depth == base {
			r.textBuf = b
			if cap(b) > 64<<10 {
				r.textBuf = nil // do not keep a huge text's buffer
			}
			if r.respEnd >= 0 {
				if err := r.charge(len(b)); err != nil {
					return nil, err
				}
			}
			return b, nil
		}
		if cd, ok := tok.(xml.CharData); ok && r.depth == base+1 {
			if int64(len(b)+len(cd)) > r.lim.MaxTokenBytes {
				return nil, fmt.Errorf("%w: text longer than %d bytes", ErrLimit, r.lim.MaxTokenBytes)
			}
			b = append(b, cd...)
		}
	}
}

func (r *Reader) response() (*Response, error) {
	r.respEnd = r.dec.InputOffset() + r.lim.MaxResponseBytes
	r.respSize = 0
	pss := r.propstatBuf[:0]
	defer func() {
		r.respEnd = -1
		clear(pss)
		r.propstatBuf = pss[:0]
	}()
	resp := &Response{}
	if err := r.charge(sizeResponse); err != nil {
		return nil, err
	}
	for {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if len(resp.Hrefs) == 0 {
				return nil, errors.New("response without href")
			}
			if len(pss) > 0 {
				resp.Propstats = slices.Clip(append([]Propstat(nil), pss...))
			}
			return resp, nil
		case xml.StartElement:
			switch {
			case isDAV(t.Name, "href"):
				h, err := r.text()
				if err != nil {
					return nil, err
				}
				h = EncodeHref(strings.TrimSpace(h))
				if err := r.charge(sizeString + len(h)); err != nil {
					return nil, err
				}
				resp.Hrefs = append(resp.Hrefs, h)
			case isDAV(t.Name, "status"):
				if resp.Status, err = r.status(); err != nil {
					return nil, err
				}
			case isDAV(t.Name, "propstat"):
				if err := r.charge(sizePropstat); err != nil {
					return nil, err
				}
				ps, err := r.propstat()
				if err != nil {
					return nil, err
				}
				pss = append(pss, ps)
			case isDAV(t.Name, "error"):
				if resp.Error, err = r.conditions(); err != nil {
					return nil, err
				}
			case isDAV(t.Name, "responsedescription"):
				if resp.ResponseDescription, err = r.text(); err != nil {
					return nil, err
				}
			case isDAV(t.Name, "location"):
				if resp.Location, err = r.location(); err != nil {
					return nil, err
				}
			case t.Name.Space == BatchNS && t.Name.Local == "id":
				if resp.ID, err = r.text(); err != nil {
					return nil, err
				}
			default:
				if err := r.skip(); err != nil {
					return nil, err
				}
			}
		}
	}
}

// status reads a DAV:status. A listing repeats a few status lines, so the
// parsed ones are kept.
func (r *Reader) status() (Status, error) {
	line, err := r.textBytes()
	if err != nil {
		return Status{}, err
	}
	if s, ok := r.statuses[string(line)]; ok {
		return s, nil
	}
	s, err := ParseStatus(string(line))
	if err != nil {
		return Status{}, err
	}
	if r.statuses == nil || len(r.statuses) >= 32 {
		r.statuses = make(map[string]Status)
	}
	r.statuses[string(line)] = s
	return s, nil
}

func (r *Reader) location() (string, error) {
	var href string
	for {
		tok, err := r.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return href, nil
		case xml.StartElement:
			if isDAV(t.Name, "href") {
				h, err := r.text()
				if err != nil {
					return "", err
				}
				href = EncodeHref(strings.TrimSpace(h))
			} else if err := r.skip(); err != nil {
				return "", err
			}
		}
	}
}

func (r *Reader) propstat() (Propstat, error) {
	var ps Propstat
	for {
		tok, err := r.token()
		if err != nil {
			return ps, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return ps, nil
		case xml.StartElement:
			switch {
			case isDAV(t.Name, "prop"):
				if ps.Props, err = r.props(ps.Props); err != nil {
					return ps, err
				}
			case isDAV(t.Name, "status"):
				if ps.Status, err = r.status(); err != nil {
					return ps, err
				}
			case isDAV(t.Name, "error"):
				if ps.Error, err = r.conditions(); err != nil {
					return ps, err
				}
			case isDAV(t.Name, "responsedescription"):
				if ps.ResponseDescription, err = r.text(); err != nil {
					return ps, err
				}
			default:
				if err := r.skip(); err != nil {
					return ps, err
				}
			}
		}
	}
}

// inner reads the element just started as a Property-style raw value,
// charging size plus what it holds to the response. Its name must be one
// the Writer can write back.
func (r *Reader) inner(t xml.StartElement, size int) ([]byte, string, error) {
	if !validName(t.Name.Local) {
		return nil, "", fmt.Errorf("invalid element name %q", clip(t.Name.Local))
	}
	if err := r.charge(size + len(t.Name.Local)); err != nil {
		return nil, "", err
	}
	maxLen := r.lim.MaxResponseBytes - r.respSize
	inner, lang, err := r.values.read(r.dec, r.rawToken, t, r.depth, r.lim.MaxDepth-r.depth, r.respEnd, maxLen)
	if err != nil {
		return nil, "", err
	}
	inner = r.slab.copy(inner)
	r.depth-- // read consumed the end element
	if err := r.charge(len(inner) + len(lang)); err != nil {
		return nil, "", err
	}
	return inner, lang, nil
}

// Sizes charged to a response for what the Reader allocates besides the
// bytes of strings and values.
const (
	sizeString    = int(unsafe.Sizeof(""))
	sizeResponse  = int(unsafe.Sizeof(Response{}))
	sizePropstat  = int(unsafe.Sizeof(Propstat{}))
	sizeProperty  = int(unsafe.Sizeof(Property{}))
	sizeCondition = int(unsafe.Sizeof(Condition{}))
)

// charge adds n bytes to the memory the current response takes, failing
// with ErrLimit past Limits.MaxResponseBytes.
func (r *Reader) charge(n int) error {
	r.respSize += int64(n)
	if r.respSize > r.lim.MaxResponseBytes {
		return errResponseSize
	}
	return nil
}

// props reads the properties of a DAV:prop and appends them to dst.
func (r *Reader) props(dst []Property) ([]Property, error) {
	ps := r.propBuf[:0]
	defer func() {
		clear(ps) // let go of the values
		r.propBuf = ps[:0]
	}()
	for {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if len(ps) == 0 {
				return dst, nil
			}
			if dst == nil {
				return slices.Clip(append([]Property(nil), ps...)), nil
			}
			return append(dst, ps...), nil
		case xml.StartElement:
			inner, lang, err := r.inner(t, sizeProperty)
			if err != nil {
				return nil, err
			}
			ps = append(ps, Property{Name: t.Name, Lang: lang, Inner: inner})
		}
	}
}

func (r *Reader) conditions() ([]Condition, error) {
	conds := []Condition{}
	for {
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return conds, nil
		case xml.StartElement:
			inner, _, err := r.inner(t, sizeCondition)
			if err != nil {
				return nil, err
			}
			conds = append(conds, Condition{Name: t.Name, Inner: inner})
		}
	}
}
