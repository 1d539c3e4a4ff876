package multistatus

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// SyntaxError reports malformed or over-limit input with its position.
type SyntaxError struct {
	Line, Column int   // 1-based position of the error in the input
	Offset       int64 // byte offset
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
type Reader struct {
	dec    *xml.Decoder
	guard  *guardReader
	lim    Limits
	depth  int // current element depth
	inRoot bool
	done   bool
	err    error
	desc   string
}

// guardReader fails when the decoder has pulled more than max bytes past
// the position of the last token, which bounds the size of any one token.
type guardReader struct {
	r     io.Reader
	dec   *xml.Decoder
	read  int64
	max   int64
	limit error
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.read-g.dec.InputOffset() > g.max {
		g.limit = fmt.Errorf("%w: token larger than %d bytes", ErrLimit, g.max)
		return 0, g.limit
	}
	if int64(len(p)) > 32<<10 {
		p = p[:32<<10]
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// NewReader returns a Reader with the default Limits.
func NewReader(r io.Reader) *Reader { return NewReaderLimits(r, Limits{}) }

// NewReaderLimits returns a Reader with the given limits.
func NewReaderLimits(r io.Reader, lim Limits) *Reader {
	lim = lim.withDefaults()
	g := &guardReader{r: r, max: lim.MaxTokenBytes}
	dec := xml.NewDecoder(g)
	dec.CharsetReader = charsetReader
	g.dec = dec
	return &Reader{dec: dec, guard: g, lim: lim}
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
	line, col := r.dec.InputPos()
	return &SyntaxError{Line: line, Column: col, Offset: r.dec.InputOffset(), Err: err}
}

// token returns the next token, tracking depth and enforcing its limit.
func (r *Reader) token() (xml.Token, error) {
	tok, err := r.dec.Token()
	if err != nil {
		return nil, err
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

func (r *Reader) findRoot() error {
	for {
		tok, err := r.token()
		if err == io.EOF {
			return errors.New("no multistatus element")
		}
		if err != nil {
			return err
		}
		if t, ok := tok.(xml.StartElement); ok {
			if !isDAV(t.Name, "multistatus") {
				return fmt.Errorf("root element is {%s}%s, not {DAV:}multistatus", t.Name.Space, t.Name.Local)
			}
			r.inRoot = true
			return nil
		}
	}
}

// trailer checks that only white space, comments and processing
// instructions follow the root element.
func (r *Reader) trailer() error {
	for {
		tok, err := r.dec.Token()
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
	var sb strings.Builder
	base := r.depth - 1
	for {
		tok, err := r.token()
		if err != nil {
			return "", err
		}
		if r.depth == base {
			return sb.String(), nil
		}
		if cd, ok := tok.(xml.CharData); ok && r.depth == base+1 {
			if int64(sb.Len()+len(cd)) > r.lim.MaxTokenBytes {
				return "", fmt.Errorf("%w: text longer than %d bytes", ErrLimit, r.lim.MaxTokenBytes)
			}
			sb.Write(cd)
		}
	}
}

func (r *Reader) checkSize(start int64) error {
	if r.dec.InputOffset()-start > r.lim.MaxResponseBytes {
		return fmt.Errorf("%w: response larger than %d bytes", ErrLimit, r.lim.MaxResponseBytes)
	}
	return nil
}

func (r *Reader) response() (*Response, error) {
	start := r.dec.InputOffset()
	resp := &Response{}
	for {
		if err := r.checkSize(start); err != nil {
			return nil, err
		}
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if len(resp.Hrefs) == 0 {
				return nil, errors.New("response without href")
			}
			return resp, nil
		case xml.StartElement:
			switch {
			case isDAV(t.Name, "href"):
				h, err := r.text()
				if err != nil {
					return nil, err
				}
				resp.Hrefs = append(resp.Hrefs, strings.TrimSpace(h))
			case isDAV(t.Name, "status"):
				if resp.Status, err = r.status(); err != nil {
					return nil, err
				}
			case isDAV(t.Name, "propstat"):
				ps, err := r.propstat(start)
				if err != nil {
					return nil, err
				}
				resp.Propstats = append(resp.Propstats, ps)
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

func (r *Reader) status() (Status, error) {
	line, err := r.text()
	if err != nil {
		return Status{}, err
	}
	return ParseStatus(line)
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
				href = strings.TrimSpace(h)
			} else if err := r.skip(); err != nil {
				return "", err
			}
		}
	}
}

func (r *Reader) propstat(start int64) (Propstat, error) {
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
				if ps.Props, err = r.props(ps.Props, start); err != nil {
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

// inner reads the element just started as a Property-style raw value.
func (r *Reader) inner(t xml.StartElement) ([]byte, string, error) {
	inner, lang, err := ReadInner(r.dec, t, r.lim.MaxDepth-r.depth)
	if err != nil {
		return nil, "", err
	}
	r.depth-- // ReadInner consumed the end element
	return inner, lang, nil
}

func (r *Reader) props(dst []Property, start int64) ([]Property, error) {
	for {
		if err := r.checkSize(start); err != nil {
			return nil, err
		}
		tok, err := r.token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return dst, nil
		case xml.StartElement:
			inner, lang, err := r.inner(t)
			if err != nil {
				return nil, err
			}
			dst = append(dst, Property{Name: t.Name, Lang: lang, Inner: inner})
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
			inner, _, err := r.inner(t)
			if err != nil {
				return nil, err
			}
			conds = append(conds, Condition{Name: t.Name, Inner: inner})
		}
	}
}
