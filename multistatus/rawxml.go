package multistatus

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// xmlNS is the namespace bound to the reserved prefix xml (xml:lang).
const xmlNS = "http://www.w3.org/XML/1998/namespace"

// Limits bound what a reader accepts, so hostile input cannot exhaust memory.
// Zero fields take the defaults.
type Limits struct {
	MaxDepth      int   // element nesting, default 64
	MaxTokenBytes int64 // one token (text run, start tag), default 1 MiB
	// MaxResponseBytes bounds one response element twice over: its size
	// in the input, and the memory its decoded form takes (hrefs, texts,
	// property values, and the bookkeeping of each). Default 16 MiB.
	MaxResponseBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = 64
	}
	if l.MaxTokenBytes <= 0 {
		l.MaxTokenBytes = 1 << 20
	}
	if l.MaxResponseBytes <= 0 {
		l.MaxResponseBytes = 16 << 20
	}
	return l
}

// ErrLimit is returned (wrapped) when input exceeds a Limits bound.
var ErrLimit = errors.New("multistatus: input exceeds limit")

var errResponseSize = fmt.Errorf("%w: response larger than MaxResponseBytes", ErrLimit)

// ReadInner reads the content of the element start (already returned by dec)
// up to its end element, and returns it as self-contained XML: the form of
// Property.Inner. It also returns the element's xml:lang. Comments and
// processing instructions are dropped; text and child elements are kept in
// order. maxDepth bounds nesting below start (<= 0 means 64).
//
// The canonical form does not depend on where it is later placed (the
// writer puts it inside the property element, which declares its own
// namespace as the default): elements in DAV: are written as D:x, every
// other element declares its namespace with xmlns wherever it differs from
// the one in scope, and an element in no namespace at the top, or under an
// element with a default namespace, declares xmlns="".
//
// The server uses it for PROPPATCH values and LOCK owners, the reader for
// every property.
func ReadInner(dec *xml.Decoder, start xml.StartElement, maxDepth int) (inner []byte, lang string, err error) {
	if maxDepth <= 0 {
		maxDepth = 64
	}
	var ir innerReader
	inner, lang, err = ir.read(dec, dec.Token, start, 0, maxDepth, -1, -1)
	if len(inner) == 0 {
		return nil, lang, err
	}
	return bytes.Clone(inner), lang, err
}

// nsScope is the default namespace in scope at one depth of the canonical
// XML; known is false at the top, where the context is the caller's.
type nsScope struct {
	def   string
	known bool
}

// innerReader holds the buffers of ReadInner so a Reader can reuse them
// from one property to the next.
type innerReader struct {
	buf    bytes.Buffer
	scopes []nsScope
}

// read is ReadInner with a reusable buffer, taking tokens from next (dec's
// Token, or a wrapper of it). start is at depth base of the document (for
// error messages); maxDepth 0 allows no child element; maxEnd >= 0 fails
// with ErrLimit once dec has passed that input offset, maxLen >= 0 once
// the value is longer. The result aliases the reader's buffer: it is valid
// until the next read.
func (ir *innerReader) read(dec *xml.Decoder, next func() (xml.Token, error), start xml.StartElement, base, maxDepth int, maxEnd, maxLen int64) (inner []byte, lang string, err error) {
	if err := checkNames(start); err != nil {
		return nil, "", err
	}
	for _, a := range start.Attr {
		if a.Name.Space == xmlNS && a.Name.Local == "lang" {
			lang = a.Value
		}
	}
	buf := &ir.buf
	if buf.Cap() > 1<<20 {
		*buf = bytes.Buffer{} // do not keep one huge value's buffer
	}
	buf.Reset()
	ir.scopes = append(ir.scopes[:0], nsScope{})
	for {
		tok, err := next()
		if err != nil {
			return nil, "", err
		}
		if (maxEnd >= 0 && dec.InputOffset() > maxEnd) || (maxLen >= 0 && int64(buf.Len()) > maxLen) {
			return nil, "", errResponseSize
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(ir.scopes) > maxDepth {
				return nil, "", fmt.Errorf("%w: nesting deeper than %d", ErrLimit, base+maxDepth)
			}
			if err := checkNames(t); err != nil {
				return nil, "", err
			}
			sc := ir.scopes[len(ir.scopes)-1]
			writeStart(buf, t, sc)
			if t.Name.Space != NS {
				sc = nsScope{def: t.Name.Space, known: true}
			}
			ir.scopes = append(ir.scopes, sc)
		case xml.EndElement:
			if len(ir.scopes) == 1 {
				return buf.Bytes(), lang, nil
			}
			ir.scopes = ir.scopes[:len(ir.scopes)-1]
			buf.WriteString("</")
			writeQName(buf, t.Name)
			buf.WriteByte('>')
		case xml.CharData:
			escapeText(buf, t)
		}
	}
}

// writeStart writes a start tag in the canonical form: DAV: elements as D:x,
// others unprefixed with xmlns declared when it differs from the default in
// scope (or when that default is not known, as at the top of a value).
func writeStart(buf *bytes.Buffer, t xml.StartElement, sc nsScope) {
	buf.WriteByte('<')
	writeQName(buf, t.Name)
	if t.Name.Space != NS && (!sc.known || t.Name.Space != sc.def) {
		buf.WriteString(` xmlns="`)
		escapeAttr(buf, t.Name.Space)
		buf.WriteByte('"')
	}
	n := 0
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns"):
			continue // declarations are regenerated
		case a.Name.Space == "":
			buf.WriteByte(' ')
			buf.WriteString(a.Name.Local)
		case a.Name.Space == xmlNS:
			buf.WriteString(" xml:")
			buf.WriteString(a.Name.Local)
		default:
			p := "a" + strconv.Itoa(n)
			n++
			buf.WriteString(" xmlns:" + p + `="`)
			escapeAttr(buf, a.Name.Space)
			buf.WriteString(`" ` + p + ":" + a.Name.Local)
		}
		buf.WriteString(`="`)
		escapeAttr(buf, a.Value)
		buf.WriteByte('"')
	}
	buf.WriteByte('>')
}

func writeQName(buf *bytes.Buffer, n xml.Name) {
	if n.Space == NS {
		buf.WriteString("D:")
	}
	buf.WriteString(n.Local)
}

// escapeText escapes character data, keeping line breaks and tabs literal
// (only \r is escaped so it survives end-of-line normalisation). Bytes that
// cannot stand in XML (other control characters, invalid UTF-8, U+FFFE and
// U+FFFF) are replaced by U+FFFD, as encoding/xml does, so the document
// stays well-formed whatever the caller passes. A double quote is legal in
// character data and is written as it is.
func escapeText(buf *bytes.Buffer, s []byte) {
	buf.Write(appendText(buf.AvailableBuffer(), s))
}

// appendText appends s escaped as escapeText does.
func appendText[T string | []byte](b []byte, s T) []byte { return appendEscaped(b, s, &textSafe) }

// appendEscaped appends s with every byte that safe does not mark written
// as a reference (&, <, >, ", and \r, \n, \t, which reach here only from
// attribute values) or, where XML cannot hold it (other control
// characters, invalid UTF-8, U+FFFE and U+FFFF), replaced by U+FFFD.
func appendEscaped[T string | []byte](b []byte, s T, safe *[256]bool) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if safe[c] {
			i++
			continue
		}
		var esc string
		size := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&quot;"
		case c == '\r':
			esc = "&#xD;"
		case c == '\n':
			esc = "&#xA;"
		case c == '\t':
			esc = "&#x9;"
		case c < 0x20:
			esc = "\uFFFD"
		default:
			var r rune
			r, size = decodeRune(s[i:])
			if xmlChar(r, size) {
				i += size
				continue
			}
			esc = "\uFFFD"
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		i += size
		last = i
	}
	return append(b, s[last:]...)
}

// textSafe marks the bytes character data holds as they are: printable
// ASCII but for &, < and >, and the line break and tab.
var textSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '&' && c != '<' && c != '>'
	}
	t['\n'], t['\t'] = true, true
	return t
}()

// attrSafe marks the bytes an attribute value holds as they are.
var attrSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '&' && c != '<' && c != '>' && c != '"'
	}
	return t
}()

// decodeRune decodes the first rune of s, a string or a byte slice,
// without allocating.
func decodeRune[T string | []byte](s T) (rune, int) {
	var a [utf8.UTFMax]byte
	return utf8.DecodeRune(a[:copy(a[:], s)])
}

// xmlChar reports whether the rune decoded from size bytes (at least 2) is
// a character XML allows.
func xmlChar(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	return r <= 0xD7FF || (0xE000 <= r && r <= 0xFFFD) || r >= 0x10000
}

// escapeAttr escapes an attribute value; white space is written as
// character references so attribute normalisation keeps it, and bytes that
// cannot stand in XML are replaced by U+FFFD as in escapeText.
func escapeAttr(buf *bytes.Buffer, s string) {
	buf.Write(appendAttr(buf.AvailableBuffer(), s))
}

// appendAttr appends s escaped as escapeAttr does.
func appendAttr(b []byte, s string) []byte { return appendEscaped(b, s, &attrSafe) }

// slab hands out copies of byte slices carved from shared chunks, so that
// the many small values of a listing cost one allocation per chunk rather
// than one each. A chunk is never written again where it was handed out,
// and each copy is capped, so appending to one reallocates it.
type slab struct{ chunk []byte }

const slabChunk = 2 << 10

// copy returns a copy of b (nil when b is empty).
func (s *slab) copy(b []byte) []byte {
	switch {
	case len(b) == 0:
		return nil
	case len(b) > slabChunk/8:
		return bytes.Clone(b)
	case cap(s.chunk)-len(s.chunk) < len(b):
		s.chunk = make([]byte, 0, slabChunk)
	}
	start := len(s.chunk)
	s.chunk = append(s.chunk, b...)
	return s.chunk[start:len(s.chunk):len(s.chunk)]
}

// unescape resolves the entities of a text-only value.
func unescape(b []byte) string {
	d := xml.NewDecoder(strings.NewReader("<v>" + string(b) + "</v>"))
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return sb.String()
		}
		if cd, ok := tok.(xml.CharData); ok {
			sb.Write(cd)
		}
	}
}

// checkNames refuses an element whose local name, or an attribute's, is not
// an XML name: encoding/xml checks only the first character of a prefixed
// name ("a:0"), and the canonical form, which drops prefixes, would not be
// well-formed.
func checkNames(t xml.StartElement) error {
	if !validName(t.Name.Local) {
		return fmt.Errorf("invalid element name %q", t.Name.Local)
	}
	for _, a := range t.Attr {
		if a.Name.Space != "xmlns" && !(a.Name.Space == "" && a.Name.Local == "xmlns") && !validName(a.Name.Local) {
			return fmt.Errorf("invalid attribute name %q", a.Name.Local)
		}
	}
	return nil
}

// validName reports whether s is an XML name without a colon, as element and
// property local names must be: exactly the names encoding/xml (and so the
// Reader) accepts, so whatever the Writer writes reads back.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z'):
		case i > 0 && (c == '-' || c == '.' || ('0' <= c && c <= '9')):
		case c >= utf8.RuneSelf:
			return validNonASCIIName(s)
		default:
			return false
		}
	}
	return true
}

// validNonASCIIName asks encoding/xml, whose name tables (XML 1.0 fourth
// edition) are stricter than the fifth edition's.
func validNonASCIIName(s string) bool {
	if strings.IndexByte(s, ':') >= 0 || !utf8.ValidString(s) {
		return false
	}
	d := xml.NewDecoder(strings.NewReader("<" + s + "/>"))
	tok, err := d.Token()
	if err != nil {
		return false
	}
	st, ok := tok.(xml.StartElement)
	return ok && st.Name.Space == "" && st.Name.Local == s
}
