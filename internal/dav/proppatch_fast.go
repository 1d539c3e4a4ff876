package dav

import (
	"bytes"

	"github.com/davit-dav/davit/internal/props"
)

// PROPPATCH bodies are short too, and those clients send after every
// upload are flat: Windows Explorer's four Win32 times and attributes,
// Finder's Apple properties, each a text value. fastPropertyUpdate parses
// such a body without encoding/xml; any other (values with markup or
// references, xml:lang, other attributes or elements, an error) goes to
// the full decoder, which gives it the same answer as before.

// fastPropertyUpdate parses the common PROPPATCH bodies: DAV:set and
// DAV:remove in any number and order, each holding DAV:prop elements of
// properties named as in a PROPFIND (propName), empty or holding text
// that ReadInner's form writes as it is. ok is false for any body it does
// not recognise (which may well be valid).
func fastPropertyUpdate(body []byte) (patches []props.Patch, ok bool) {
	s := fastScanner{b: body}
	if !s.decl() || !s.root("propertyupdate") {
		return nil, false
	}
	for {
		n, more, ok := s.child()
		if !ok {
			return nil, false
		}
		if !more {
			break
		}
		if string(n) != "set" && string(n) != "remove" || !s.lit(">") {
			return nil, false
		}
		remove := string(n) == "remove"
		for {
			p, more, ok := s.child()
			if !ok {
				return nil, false
			}
			if !more {
				break
			}
			if string(p) != "prop" {
				return nil, false
			}
			if patches, ok = s.patches(remove, patches); !ok {
				return nil, false
			}
		}
		if !s.end(n) {
			return nil, false
		}
	}
	if !s.end([]byte("propertyupdate")) {
		return nil, false
	}
	s.space()
	if len(s.b) != 0 || len(patches) == 0 {
		return nil, false
	}
	return patches, true
}

// patches reads the rest of a DAV:prop (its name just read) of a set, or a
// remove, appending its properties to out. Namespaces declared on it end
// with it.
func (s *fastScanner) patches(remove bool, out []props.Patch) ([]props.Patch, bool) {
	outer := s.ndecls
	defer func() { s.ndecls = outer }()
	closed, ok := s.attrs(false, true)
	if !ok {
		return nil, false
	}
	if closed {
		return out, true
	}
	for {
		if more, ok := s.open(); !ok || !more {
			return out, ok && s.end([]byte("prop"))
		}
		qname, space, local, ok := s.propName()
		if !ok {
			return nil, false
		}
		s.space()
		var value []byte
		if !s.lit("/>") {
			if !s.lit(">") {
				return nil, false
			}
			text, ok := s.text()
			if !ok || !s.lit("</") || !s.litBytes(qname) || !s.endTag() {
				return nil, false
			}
			if len(text) > 0 && !remove {
				value = bytes.Clone(text)
			}
		}
		if out == nil {
			out = make([]props.Patch, 0, 4)
		}
		name := davName(liveName(local))
		if space != "DAV:" {
			name.Space, name.Local = space, string(local)
		}
		out = append(out, props.Patch{Remove: remove, Prop: props.Property{Name: name, Inner: value}})
	}
}
