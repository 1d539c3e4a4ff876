package dav

import (
	"bytes"
	"encoding/xml"
	"io"
	"sync"
)

// PROPFIND bodies are short and clients send the same few over and over:
// allprop, propname, or a flat list of DAV: properties under one prefix.
// parsePropfind reads a body of up to propfindBufSize bytes into a pooled
// buffer and parses such a body here without encoding/xml; any other body
// (another namespace, attributes, comments, text, include, a BOM, an error)
// goes to the full decoder, which gives it the same answer as before.

const propfindBufSize = 4096

var propfindBufs = sync.Pool{New: func() any { b := make([]byte, propfindBufSize); return &b }}

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

// xmlDecls are the XML declarations the fast path accepts before the root.
var xmlDecls = []string{
	`<?xml version="1.0" encoding="utf-8"?>`,
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<?xml version="1.0"?>`,
	`<?xml version='1.0' encoding='utf-8'?>`,
	`<?xml version='1.0' encoding='UTF-8'?>`,
}

// fastScanner is a cursor over a body for fastPropfind.
type fastScanner struct {
	b      []byte
	prefix []byte // the prefix bound to DAV: on the root, empty for the default namespace
	elems  int
	out    []xml.Name // the names in DAV:prop
}

func (s *fastScanner) space() {
	for len(s.b) > 0 && (s.b[0] == ' ' || s.b[0] == '\t' || s.b[0] == '\r' || s.b[0] == '\n') {
		s.b = s.b[1:]
	}
}

func (s *fastScanner) lit(l string) bool {
	if len(s.b) >= len(l) && string(s.b[:len(l)]) == l {
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

// fastPropfind parses the common PROPFIND bodies; ok is false for any
// body it does not recognise (which may well be valid).
func fastPropfind(body []byte) (req propfindRequest, ok bool) {
	s := fastScanner{b: body}
	for _, d := range xmlDecls {
		if s.lit(d) {
			break
		}
	}
	s.space()
	if !s.lit("<") {
		return req, false
	}
	first, ok := s.name()
	if !ok {
		return req, false
	}
	if s.lit(":") {
		if len(first) >= 3 && string(bytes.ToLower(first[:3])) == "xml" {
			return req, false // reserved prefixes: the full decoder says what is wrong
		}
		s.prefix = first
		if first, ok = s.name(); !ok {
			return req, false
		}
	}
	if string(first) != "propfind" {
		return req, false
	}
	// One attribute: the declaration of DAV: for the prefix used.
	if len(s.b) == 0 || (s.b[0] != ' ' && s.b[0] != '\t' && s.b[0] != '\r' && s.b[0] != '\n') {
		return req, false
	}
	s.space()
	if !s.lit("xmlns") {
		return req, false
	}
	if len(s.prefix) > 0 {
		if !s.lit(":") {
			return req, false
		}
		p, ok := s.name()
		if !ok || !bytes.Equal(p, s.prefix) {
			return req, false
		}
	}
	if !s.lit(`="DAV:"`) && !s.lit(`='DAV:'`) {
		return req, false
	}
	s.space()
	if !s.lit(">") {
		return req, false
	}
	s.elems = 1
	seen := 0
	for {
		s.space()
		if bytes.HasPrefix(s.b, []byte("</")) {
			break
		}
		if !s.lit("<") {
			return req, false
		}
		n, ok := s.qname()
		if !ok {
			return req, false
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

// props reads the content of DAV:prop (its start tag's name just read)
// up to its end tag, collecting the names of the properties in s.out.
func (s *fastScanner) props() bool {
	if s.lit("/>") {
		return true
	}
	s.space()
	if !s.lit(">") {
		return false
	}
	for {
		s.space()
		if bytes.HasPrefix(s.b, []byte("</")) {
			return s.end([]byte("prop"))
		}
		if !s.lit("<") {
			return false
		}
		n, ok := s.qname()
		if !ok || !s.empty(n) {
			return false
		}
		s.elems++
		if s.out == nil {
			// Room for what clients ask: 4 to 8 names (Finder, Explorer,
			// davfs2), and not one growth per name to get there.
			s.out = make([]xml.Name, 0, 8)
		}
		s.out = append(s.out, davName(liveName(n)))
	}
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
