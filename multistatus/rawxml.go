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
	MaxDepth         int   // element nesting, default 64
	MaxTokenBytes    int64 // one token (text run, start tag), default 1 MiB
	MaxResponseBytes int64 // one response element, default 16 MiB
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

// ReadInner reads the content of the element start (already returned by dec)
// up to its end element, and returns it as self-contained XML: the form of
// Property.Inner. It also returns the element's xml:lang. Comments and
// processing instructions are dropped; text and child elements are kept in
// order. maxDepth bounds nesting below start (<= 0 means 64).
//
// The server uses it for PROPPATCH values and LOCK owners, the reader for
// every property.
func ReadInner(dec *xml.Decoder, start xml.StartElement, maxDepth int) (inner []byte, lang string, err error) {
	if maxDepth <= 0 {
		maxDepth = 64
	}
	for _, a := range start.Attr {
		if a.Name.Space == xmlNS && a.Name.Local == "lang" {
			lang = a.Value
		}
	}
	var buf bytes.Buffer
	// defaults[i] is the default namespace in scope at depth i of the
	// written XML; the content of start sits in the writer's context, where
	// no default namespace is declared.
	defaults := []string{""}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(defaults) > maxDepth {
				return nil, "", fmt.Errorf("%w: nesting deeper than %d", ErrLimit, maxDepth)
			}
			def := defaults[len(defaults)-1]
			writeStart(&buf, t, def)
			if t.Name.Space != NS {
				def = t.Name.Space
			}
			defaults = append(defaults, def)
		case xml.EndElement:
			if len(defaults) == 1 {
				return buf.Bytes(), lang, nil
			}
			defaults = defaults[:len(defaults)-1]
			buf.WriteString("</")
			writeQName(&buf, t.Name)
			buf.WriteByte('>')
		case xml.CharData:
			escapeText(&buf, t)
		}
	}
}

// writeStart writes a start tag in the canonical form: DAV: elements as D:x,
// others unprefixed with xmlns declared when it differs from def.
func writeStart(buf *bytes.Buffer, t xml.StartElement, def string) {
	buf.WriteByte('<')
	writeQName(buf, t.Name)
	if t.Name.Space != NS && t.Name.Space != def {
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
// (only \r is escaped so it survives end-of-line normalisation).
func escapeText(buf *bytes.Buffer, s []byte) {
	last := 0
	for i, c := range s {
		var esc string
		switch c {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		buf.Write(s[last:i])
		buf.WriteString(esc)
		last = i + 1
	}
	buf.Write(s[last:])
}

func escapeAttr(buf *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\r':
			esc = "&#xD;"
		case '\n':
			esc = "&#xA;"
		case '\t':
			esc = "&#x9;"
		default:
			continue
		}
		buf.WriteString(s[last:i])
		buf.WriteString(esc)
		last = i + 1
	}
	buf.WriteString(s[last:])
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

// validName reports whether s is an XML name without a colon, as element and
// property local names must be.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || r >= 0xC0 && r != utf8.RuneError:
		case i > 0 && (r == '-' || r == '.' || (r >= '0' && r <= '9') || r == 0xB7):
		default:
			return false
		}
	}
	return true
}
