// Package xmlbody reads XML request bodies (PROPFIND, PROPPATCH, LOCK,
// batch documents) with bounds on nesting and element count, UTF-8 only,
// and the namespace rules of Namespaces in XML 1.0 that encoding/xml does
// not check. The size of a body is bounded by the caller
// (http.MaxBytesReader).
package xmlbody

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// ErrEmpty is returned by Root when the body holds no element at all.
var ErrEmpty = errors.New("empty body")

// Limits bound a body. Zero fields take the defaults.
type Limits struct {
	MaxDepth    int // element nesting, default 32
	MaxElements int // elements in the whole body, default 20,000
	// StrictText refuses text where elements belong (between child
	// elements); without it such text is ignored, as RFC 4918 §17 asks
	// of unknown content.
	StrictText bool
}

// Decoder reads one body.
type Decoder struct {
	dec      *xml.Decoder
	lim      Limits
	depth    int
	elements int
}

// NewDecoder returns a Decoder on r.
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = 32
	}
	if lim.MaxElements <= 0 {
		lim.MaxElements = 20_000
	}
	raw := xml.NewDecoder(r)
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
	return &Decoder{dec: xml.NewTokenDecoder(&nsChecker{raw: raw}), lim: lim}
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

// Token returns the next token with the bounds applied.
func (d *Decoder) Token() (xml.Token, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok.(type) {
	case xml.StartElement:
		d.depth++
		d.elements++
		if d.depth > d.lim.MaxDepth {
			return nil, fmt.Errorf("nesting deeper than %d", d.lim.MaxDepth)
		}
		if d.elements > d.lim.MaxElements {
			return nil, fmt.Errorf("more than %d elements", d.lim.MaxElements)
		}
	case xml.EndElement:
		d.depth--
	}
	return tok, nil
}

// Root returns the root element, or ErrEmpty when the body holds none.
// Only white space (and a byte-order mark) may precede it: a body of bare
// text is not XML, not an empty body.
func (d *Decoder) Root() (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return xml.StartElement{}, ErrEmpty
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(bytes.TrimPrefix(t, []byte("\uFEFF")))) > 0 {
				return xml.StartElement{}, errors.New("text before the root element")
			}
		}
	}
}

// Child returns the next child element of the current element, or ok false
// at its end.
func (d *Decoder) Child() (t xml.StartElement, ok bool, err error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return t, false, err
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			return tt, true, nil
		case xml.EndElement:
			return t, false, nil
		case xml.CharData:
			if d.lim.StrictText && len(bytes.TrimSpace(tt)) > 0 {
				return t, false, fmt.Errorf("unexpected text %q", clip(strings.TrimSpace(string(tt))))
			}
		}
	}
}

// Skip consumes the rest of the element just returned.
func (d *Decoder) Skip() error {
	base := d.depth - 1
	for d.depth > base {
		if _, err := d.Token(); err != nil {
			return err
		}
	}
	return nil
}

// Text returns the character data of the element just returned; child
// elements are refused.
func (d *Decoder) Text() (string, error) {
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.StartElement:
			return "", fmt.Errorf("element %s inside a text element", t.Name.Local)
		case xml.EndElement:
			return sb.String(), nil
		}
	}
}

// Inner reads the element just returned as a raw value in the canonical
// form of multistatus.ReadInner, with the xml:lang in scope.
func (d *Decoder) Inner(t xml.StartElement) (multistatus.Property, error) {
	inner, lang, err := multistatus.ReadInner(d.dec, t, d.lim.MaxDepth-d.depth)
	if err != nil {
		return multistatus.Property{}, err
	}
	d.depth--
	return multistatus.Property{Name: t.Name, Lang: lang, Inner: inner}, nil
}

// End checks that nothing but white space and comments follows the root.
func (d *Decoder) End() error {
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
			if len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text after the root element")
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
