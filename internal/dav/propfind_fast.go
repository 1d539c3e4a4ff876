package dav

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"sync"
)

// PROPFIND bodies are short and clients send the same few over and over:
// allprop, propname, or a flat list of properties, DAV:'s under one prefix
// and others under prefixes declared on the root, on DAV:prop or on the
// property itself.
// parsePropfind reads a body of up to xmlBodyBufSize bytes into a pooled
// buffer and parses such a body here without encoding/xml; any other body
// (other attributes, comments, text, include, a BOM, an error) goes to
// the full decoder, which gives it the same answer as before.

// xmlBodyBufSize bounds the bodies the fast paths (PROPFIND's and LOCK's,
// lock_fast.go) take; xmlBodyBufs holds their buffers.
const xmlBodyBufSize = 4096

var xmlBodyBufs = sync.Pool{New: func() any { b := make([]byte, xmlBodyBufSize); return &b }}

// parseXMLBody parses the body of r, bounded by MaxXMLBytes: with fast
// when the whole body fits in a pooled buffer and fast recognises it,
// else with full, which reads the body from the start (or meets the error
// the read met).
func parseXMLBody[T any](h *Handler, w http.ResponseWriter, r *http.Request, fast func([]byte) (T, bool), full func(bodyDecoder) (T, error)) (T, error) {
	bp := xmlBodyBufs.Get().(*[]byte)
	defer xmlBodyBufs.Put(bp)
	body := http.MaxBytesReader(w, r.Body, h.cfg.MaxXMLBytes)
	n, err := readUpTo(body, *bp)
	read := (*bp)[:n]
	var rest io.Reader
	switch {
	case err == io.EOF:
		if v, ok := fast(read); ok {
			return v, nil
		}
		rest = bytes.NewReader(read)
	case err != nil:
		rest = io.MultiReader(bytes.NewReader(read), errReader{err})
	default:
		rest = io.MultiReader(bytes.NewReader(read), body)
	}
	return full(newDecoder(rest))
}

// readUpTo reads from r until buf is full, EOF or an error.
func readUpTo(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// errReader returns err for ever: a read error met while filling the
// buffer is replayed to the full decoder after the bytes read before it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// nsDecl is a namespace prefix other than DAV:'s, declared on the root or
// on DAV:prop.
type nsDecl struct {
	prefix []byte
	space  string
}

// fastScanner is a cursor over a body for fastPropfind.
type fastScanner struct {
	b      []byte
	prefix []byte // the prefix bound to DAV: on the root, empty for the default namespace
	// The other prefixes in scope, decls[:ndecls]: counted in an array
	// rather than sliced from it, so that the scanner stays on the stack.
	decls  [4]nsDecl
	ndecls int
	elems  int
	out    []xml.Name // the names in DAV:prop
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// space skips white space and reports whether there was any.
func (s *fastScanner) space() bool {
	n := len(s.b)
	for len(s.b) > 0 && isSpace(s.b[0]) {
		s.b = s.b[1:]
	}
	return len(s.b) < n
}

func (s *fastScanner) lit(l string) bool {
	if len(s.b) >= len(l) && string(s.b[:len(l)]) == l {
		s.b = s.b[len(l):]
		return true
	}
	return false
}

func (s *fastScanner) litBytes(l []byte) bool {
	if bytes.HasPrefix(s.b, l) {
		s.b = s.b[len(l):]
		return true
	}
	return false
}

func nameStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func nameChar(c byte) bool { return nameStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.' }

// name reads an ASCII name without a colon.
func (s *fastScanner) name() ([]byte, bool) {
	if len(s.b) == 0 || !nameStart(s.b[0]) {
		return nil, false
	}
	i := 1
	for i < len(s.b) && nameChar(s.b[i]) {
		i++
	}
	n := s.b[:i]
	s.b = s.b[i:]
	return n, true
}

// reserved reports whether a prefix starts with "xml" in any case, which
// XML keeps for itself: the full decoder says what is wrong.
func reserved(prefix []byte) bool {
	return len(prefix) >= 3 && string(bytes.ToLower(prefix[:3])) == "xml"
}

// reservedNS reports whether a namespace declared is one of the two that
// XML keeps for itself, which no prefix of a body may be bound to (but xml
// to its own) nor the default namespace: the full decoder refuses them
// (internal/xmlbody), and a property stored in one would be written back
// in a form strict clients reject.
func reservedNS(v []byte) bool {
	return string(v) == "http://www.w3.org/XML/1998/namespace" || string(v) == "http://www.w3.org/2000/xmlns/"
}

// quoted reads a quoted value of printable ASCII without references or
// markup (which the full decoder would have to resolve or check): the
// fast path leaves any other to it.
func (s *fastScanner) quoted() ([]byte, bool) {
	if len(s.b) == 0 || (s.b[0] != '"' && s.b[0] != '\'') {
		return nil, false
	}
	q := s.b[0]
	for i := 1; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == q:
			v := s.b[1:i]
			s.b = s.b[i+1:]
			return v, true
		case c < ' ' || c > '~' || c == '<' || c == '&':
			return nil, false
		}
	}
	return nil, false
}

// decl reads the XML declaration, if there is one: version 1.0, then an
// encoding of UTF-8 in any case and a standalone, each optional, every
// pseudo-attribute written name="value" (the full decoder finds them so).
func (s *fastScanner) decl() bool {
	if !s.lit("<?xml") {
		return true
	}
	for i, name := range []string{"version", "encoding", "standalone"} {
		rest := s.b
		if !s.space() || !s.lit(name) {
			if i == 0 {
				return false
			}
			s.b = rest
			continue
		}
		if !s.lit("=") {
			return false
		}
		v, ok := s.quoted()
		if !ok {
			return false
		}
		switch name {
		case "version":
			ok = string(v) == "1.0"
		case "encoding":
			ok = bytes.EqualFold(v, []byte("utf-8"))
		case "standalone":
			ok = string(v) == "yes" || string(v) == "no"
		}
		if !ok {
			return false
		}
	}
	s.space()
	return s.lit("?>")
}

// attrs reads the rest of a start tag whose name was just read: namespace
// declarations only, up to ">" (or "/>" when empty is set, which it then
// reports as closed). On the root (root set) one of them must bind the
// root's prefix to DAV:; any other prefix is declared for the names
// below, each once. Anything else goes to the full decoder.
func (s *fastScanner) attrs(root, empty bool) (closed, ok bool) {
	davBound := false
	for {
		spaced := s.space()
		if empty && s.lit("/>") {
			closed = true
			break
		}
		if s.lit(">") {
			break
		}
		if !spaced || !s.lit("xmlns") {
			return false, false
		}
		var prefix []byte
		if s.lit(":") {
			if prefix, ok = s.name(); !ok || reserved(prefix) {
				return false, false
			}
		}
		if !s.lit("=") {
			return false, false
		}
		v, ok := s.quoted()
		if !ok || len(v) == 0 || reservedNS(v) {
			return false, false
		}
		switch {
		case root && bytes.Equal(prefix, s.prefix):
			if davBound || string(v) != "DAV:" {
				return false, false
			}
			davBound = true
		case len(prefix) == 0 || bytes.Equal(prefix, s.prefix) || s.lookup(prefix) != "" || s.ndecls == len(s.decls):
			// A default namespace beside a prefixed root, DAV:'s prefix
			// bound again, a prefix declared twice, or many.
			return false, false
		default:
			s.decls[s.ndecls] = nsDecl{prefix: prefix, space: string(v)}
			s.ndecls++
		}
	}
	return closed, !root || davBound
}

// lookup returns the namespace of a declared prefix other than DAV:'s,
// "" for none.
func (s *fastScanner) lookup(prefix []byte) string {
	for i := range s.ndecls {
		if bytes.Equal(s.decls[i].prefix, prefix) {
			return s.decls[i].space
		}
	}
	return ""
}

// qname reads a name in DAV: (with the root's prefix, if any).
func (s *fastScanner) qname() ([]byte, bool) {
	if len(s.prefix) > 0 {
		if !bytes.HasPrefix(s.b, s.prefix) || len(s.b) == len(s.prefix) || s.b[len(s.prefix)] != ':' {
			return nil, false
		}
		s.b = s.b[len(s.prefix)+1:]
	}
	return s.name()
}

// end reads the end tag of the DAV: element local.
func (s *fastScanner) end(local []byte) bool {
	if !s.lit("</") {
		return false
	}
	n, ok := s.qname()
	if !ok || !bytes.Equal(n, local) {
		return false
	}
	s.space()
	return s.lit(">")
}

// empty reads the rest of an element with no content, its name just read:
// "/>", " />" or "></name>".
func (s *fastScanner) empty(local []byte) bool {
	s.space()
	if s.lit("/>") {
		return true
	}
	return s.lit(">") && s.end(local)
}

// open skips white space and reads the "<" of the next child element:
// more is false, with ok, at the parent's end tag (left unread), and ok
// false at anything else.
func (s *fastScanner) open() (more, ok bool) {
	s.space()
	if bytes.HasPrefix(s.b, []byte("</")) {
		return false, true
	}
	return true, s.lit("<")
}

// child reads the start of the next child element, a DAV: element whose
// name it returns, as open does (more false at the parent's end tag).
func (s *fastScanner) child() (name []byte, more, ok bool) {
	if more, ok = s.open(); !more || !ok {
		return nil, more, ok
	}
	name, ok = s.qname()
	return name, true, ok
}

// root reads the root's start tag, after the declaration: the DAV:
// element local, its prefix (if any) bound to DAV: among namespace
// declarations only.
func (s *fastScanner) root(local string) bool {
	s.space()
	if !s.lit("<") {
		return false
	}
	first, ok := s.name()
	if !ok {
		return false
	}
	if s.lit(":") {
		if reserved(first) {
			return false
		}
		s.prefix = first
		if first, ok = s.name(); !ok {
			return false
		}
	}
	if string(first) != local {
		return false
	}
	_, ok = s.attrs(true, false)
	return ok
}

// fastPropfind parses the common PROPFIND bodies; ok is false for any
// body it does not recognise (which may well be valid).
func fastPropfind(body []byte) (req propfindRequest, ok bool) {
	s := fastScanner{b: body}
	if !s.decl() {
		return req, false
	}
	if !s.root("propfind") {
		return req, false
	}
	s.elems = 1
	seen := 0
	for {
		n, more, ok := s.child()
		if !ok {
			return req, false
		}
		if !more {
			break
		}
		s.elems++
		seen++
		switch string(n) {
		case "allprop":
			req.kind = allProp
			if !s.empty(n) {
				return req, false
			}
		case "propname":
			req.kind = propName
			if !s.empty(n) {
				return req, false
			}
		case "prop":
			req.kind = namedProps
			if !s.props() {
				return req, false
			}
		default:
			return req, false
		}
	}
	if !s.end([]byte("propfind")) {
		return req, false
	}
	s.space()
	if len(s.b) != 0 || seen != 1 || s.elems > maxXMLElements {
		return propfindRequest{}, false
	}
	req.names = s.out
	return req, true
}

// props reads the rest of DAV:prop (its start tag's name just read) up to
// its end tag, collecting the names of the properties in s.out: DAV:
// properties with the root's prefix (or none, when DAV: is the default
// namespace), others with a prefix declared on the root, on DAV:prop
// itself (as Windows Explorer and Office declare theirs) or on the
// property, for its own prefix or as its default namespace.
func (s *fastScanner) props() bool {
	closed, ok := s.attrs(false, true)
	if !ok {
		return false
	}
	if closed {
		return true
	}
	for {
		if more, ok := s.open(); !ok || !more {
			return ok && s.end([]byte("prop"))
		}
		qname, space, local, ok := s.propName()
		if !ok {
			return false
		}
		s.space()
		if !s.lit("/>") && !(s.lit(">") && s.lit("</") && s.litBytes(qname) && s.endTag()) {
			return false
		}
		s.elems++
		if s.out == nil {
			// Room for what clients ask: 4 to 8 names (Finder, Explorer,
			// davfs2), and not one growth per name to get there.
			s.out = make([]xml.Name, 0, 8)
		}
		if space == "DAV:" {
			s.out = append(s.out, davName(liveName(local)))
		} else {
			s.out = append(s.out, xml.Name{Space: space, Local: string(local)})
		}
	}
}

// propName reads the name of a property element, its "<" just read, and
// the declaration of its namespace if it has one: qname as written,
// space and local as resolved. The property's namespace is declared on
// the element itself for its own prefix (or as its default, unprefixed),
// as Davit's own client, Finder and many libraries write some; else it is
// DAV: for the root's prefix (or none, when DAV: is the default
// namespace); else a prefix declared above.
func (s *fastScanner) propName() (qname []byte, space string, local []byte, ok bool) {
	raw := s.b
	prefix, ok := s.name()
	if !ok {
		return nil, "", nil, false
	}
	local = prefix
	if s.lit(":") {
		if local, ok = s.name(); !ok {
			return nil, "", nil, false
		}
	} else {
		prefix = nil
	}
	qname = raw[:len(raw)-len(s.b)]
	rest := s.b
	if s.space() && s.lit("xmlns") {
		var p []byte
		if s.lit(":") {
			if p, ok = s.name(); !ok {
				return nil, "", nil, false
			}
		}
		if !bytes.Equal(p, prefix) || reserved(p) || !s.lit("=") {
			return nil, "", nil, false
		}
		v, ok := s.quoted()
		if !ok || len(v) == 0 || reservedNS(v) {
			return nil, "", nil, false
		}
		space = "DAV:"
		if string(v) != space {
			space = string(v)
		}
		return qname, space, local, true
	}
	s.b = rest
	switch {
	case bytes.Equal(prefix, s.prefix):
		space = "DAV:"
	case len(prefix) == 0:
		return nil, "", nil, false // no default namespace in scope
	default:
		if space = s.lookup(prefix); space == "" {
			return nil, "", nil, false
		}
	}
	return qname, space, local, true
}

// endTag reads the rest of an end tag whose name was just read.
func (s *fastScanner) endTag() bool {
	s.space()
	return s.lit(">")
}

// liveName returns n as a string, without allocating for the names of
// live properties.
func liveName(n []byte) string {
	for i := range liveProps {
		if liveProps[i].name == string(n) {
			return liveProps[i].name
		}
	}
	return string(n)
}
