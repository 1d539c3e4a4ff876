package dav

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// maxXMLDepth bounds element nesting in request bodies.
const maxXMLDepth = 32

// maxXMLElements bounds the number of elements in one request body.
const maxXMLElements = 20_000

var errEmptyBody = errors.New("empty body")

// bodyDecoder reads a request's XML body with the server's bounds: size
// (through http.MaxBytesReader), nesting depth, element count, and the
// namespace rules encoding/xml does not check.
type bodyDecoder struct {
	dec      *xml.Decoder
	depth    int
	elements int
}

func (h *Handler) newBodyDecoder(w http.ResponseWriter, r *http.Request) *bodyDecoder {
	body := http.MaxBytesReader(w, r.Body, h.cfg.MaxXMLBytes)
	raw := xml.NewDecoder(body)
	raw.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	// The namespace checks sit between the raw tokens and the decoder that
	// resolves names, so they cover property values too, which
	// multistatus.ReadInner reads straight from the decoder.
	return &bodyDecoder{dec: xml.NewTokenDecoder(&nsChecker{raw: raw})}
}

const (
	xmlNamespace   = "http://www.w3.org/XML/1998/namespace"
	xmlnsNamespace = "http://www.w3.org/2000/xmlns/"
)

// nsChecker passes on the raw tokens of an XML body and refuses what
// Namespaces in XML 1.0 forbids and encoding/xml lets through: undeclared
// prefixes (encoding/xml takes the prefix for the namespace), the xmlns
// prefix on an element, prefixes bound to the empty name, the reserved
// namespaces bound to other prefixes or as the default, elements in the
// xml namespace, and an attribute given twice. Stored as dead properties
// or lock owners, such names would be written back in forms that strict
// clients (expat, libxml2) reject, breaking every later PROPFIND.
type nsChecker struct {
	raw   *xml.Decoder
	decls []nsDecl
	depth int
}

// nsDecl is one prefix declaration in scope, made at element depth depth.
type nsDecl struct {
	prefix, uri string
	depth       int
}

func (c *nsChecker) Token() (xml.Token, error) {
	tok, err := c.raw.RawToken()
	if err != nil {
		return tok, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		c.depth++
		if err := c.start(t); err != nil {
			return nil, err
		}
	case xml.EndElement:
		for len(c.decls) > 0 && c.decls[len(c.decls)-1].depth == c.depth {
			c.decls = c.decls[:len(c.decls)-1]
		}
		c.depth--
	}
	return tok, nil
}

func (c *nsChecker) start(t xml.StartElement) error {
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns":
			switch p, v := a.Name.Local, a.Value; {
			case p == "xmlns":
				return errors.New("the xmlns prefix cannot be declared")
			case v == "":
				return fmt.Errorf("prefix %q bound to an empty namespace", p)
			case v == xmlnsNamespace, p != "xml" && v == xmlNamespace, p == "xml" && v != xmlNamespace:
				return fmt.Errorf("prefix %q bound to a reserved namespace", p)
			}
			c.decls = append(c.decls, nsDecl{a.Name.Local, a.Value, c.depth})
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			if a.Value == xmlNamespace || a.Value == xmlnsNamespace {
				return errors.New("default namespace bound to a reserved namespace")
			}
		}
	}
	switch p := t.Name.Space; {
	case p == "xmlns", p == "xml":
		return fmt.Errorf("element <%s:%s> uses a reserved prefix", p, t.Name.Local)
	case p != "" && !c.declared(p):
		return fmt.Errorf("element <%s:%s>: undeclared prefix", p, t.Name.Local)
	}
	for i, a := range t.Attr {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		if p := a.Name.Space; p != "" && p != "xml" && !c.declared(p) {
			return fmt.Errorf("attribute %s:%s: undeclared prefix", p, a.Name.Local)
		}
		for _, b := range t.Attr[:i] {
			if b.Name.Local == a.Name.Local && c.uri(b.Name.Space) == c.uri(a.Name.Space) {
				return fmt.Errorf("attribute %q given twice", a.Name.Local)
			}
		}
	}
	return nil
}

func (c *nsChecker) declared(prefix string) bool {
	for i := len(c.decls) - 1; i >= 0; i-- {
		if c.decls[i].prefix == prefix {
			return true
		}
	}
	return false
}

// uri resolves an attribute's prefix ("" stays "": no namespace).
func (c *nsChecker) uri(prefix string) string {
	if prefix == "" || prefix == "xml" {
		return prefix
	}
	for i := len(c.decls) - 1; i >= 0; i-- {
		if c.decls[i].prefix == prefix {
			return c.decls[i].uri
		}
	}
	return prefix
}

// badXML wraps a parse error as a 400, keeping a body-size error a 413.
func badXML(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return &Error{Status: http.StatusBadRequest, Reason: "malformed XML body", Err: err}
}

// token returns the next token with the bounds applied.
func (d *bodyDecoder) token() (xml.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		d.depth++
		d.elements++
		if d.depth > maxXMLDepth {
			return nil, fmt.Errorf("nesting deeper than %d", maxXMLDepth)
		}
		if d.elements > maxXMLElements {
			return nil, fmt.Errorf("more than %d elements", maxXMLElements)
		}
		if err := checkNamespaces(t); err != nil {
			return nil, err
		}
	case xml.EndElement:
		d.depth--
	}
	return tok, nil
}

// checkNamespaces refuses what Namespaces in XML 1.0 forbids and
// encoding/xml lets through: binding a prefix to the empty name.
func checkNamespaces(t xml.StartElement) error {
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" && a.Value == "" {
			return fmt.Errorf("prefix %q bound to an empty namespace", a.Name.Local)
		}
	}
	return nil
}

// root returns the root element, or errEmptyBody when the body holds none.
func (d *bodyDecoder) root() (xml.StartElement, error) {
	for {
		tok, err := d.token()
		if err == io.EOF {
			return xml.StartElement{}, errEmptyBody
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			// Only white space may precede the root: a body of bare
			// text is not XML, not an empty body.
			if strings.TrimSpace(string(t)) != "" {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

// child returns the next child element of the current element, or ok false
// at its end.
func (d *bodyDecoder) child() (t xml.StartElement, ok bool, err error) {
	for {
		tok, err := d.token()
		if err != nil {
			return t, false, err
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			return tt, true, nil
		case xml.EndElement:
			return t, false, nil
		case xml.CharData:
			// white space between elements; text where elements belong
			// is ignored, as RFC 4918 §17 allows unknown content.
		}
	}
}

// skip consumes the rest of the element just returned.
func (d *bodyDecoder) skip() error {
	base := d.depth - 1
	for d.depth > base {
		if _, err := d.token(); err != nil {
			return err
		}
	}
	return nil
}

// inner reads the element just returned as a raw property value.
func (d *bodyDecoder) inner(t xml.StartElement) (multistatus.Property, error) {
	// ReadInner reads through d.dec directly; the element count is bounded
	// by the body size, and depth by its own limit.
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" && a.Value == "" {
			return multistatus.Property{}, fmt.Errorf("prefix %q bound to an empty namespace", a.Name.Local)
		}
	}
	inner, lang, err := multistatus.ReadInner(d.dec, t, maxXMLDepth-d.depth)
	if err != nil {
		return multistatus.Property{}, err
	}
	d.depth--
	return multistatus.Property{Name: t.Name, Lang: lang, Inner: inner}, nil
}

// end checks that nothing but white space and comments follows the root.
func (d *bodyDecoder) end() error {
	for {
		tok, err := d.dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return errors.New("content after the root element")
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return errors.New("text after the root element")
			}
		}
	}
}

func isDAV(n xml.Name, local string) bool { return n.Space == "DAV:" && n.Local == local }

// appendEscaped appends s escaped as XML character data.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}
