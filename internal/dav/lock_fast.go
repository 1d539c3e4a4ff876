package dav

import "bytes"

// LOCK bodies, like PROPFIND's, are short and the same few: Windows,
// Office, Finder, davfs2 and the libraries send a DAV:lockinfo with one
// scope, the write type and an owner that is text or a DAV:href holding
// text. fastLockInfo parses such a body without encoding/xml (about 8 µs
// and 70 allocations a LOCK there); any other body (other elements or
// attributes, comments, references, markup in the owner, an error) goes to
// the full decoder, which gives it the same answer as before.

// fastLockInfo parses the common LOCK bodies; ok is false for any body it
// does not recognise (which may well be valid). The owner is in the
// canonical form of multistatus.ReadInner, as the full decoder gives it.
func fastLockInfo(body []byte) (li lockInfo, ok bool) {
	s := fastScanner{b: body}
	if !s.decl() || !s.root("lockinfo") {
		return li, false
	}
	var scope, typ, owner bool
	for {
		n, more, ok := s.child()
		if !ok {
			return li, false
		}
		if !more {
			break
		}
		switch string(n) {
		case "lockscope":
			c, ok := s.only(n)
			if !ok || scope {
				return li, false
			}
			switch string(c) {
			case "exclusive":
				li.exclusive = true
			case "shared":
			default:
				return li, false
			}
			scope = true
		case "locktype":
			c, ok := s.only(n)
			if !ok || typ || string(c) != "write" {
				return li, false
			}
			typ = true
		case "owner":
			if owner {
				return li, false
			}
			if li.owner, ok = s.owner(); !ok {
				return li, false
			}
			owner = true
		default:
			return li, false
		}
	}
	if !s.end([]byte("lockinfo")) {
		return li, false
	}
	s.space()
	if len(s.b) != 0 || !scope || !typ {
		return lockInfo{}, false
	}
	return li, true
}

// only reads the rest of the DAV: element parent (its name just read),
// holding exactly one empty DAV: element, whose name it returns.
func (s *fastScanner) only(parent []byte) ([]byte, bool) {
	if !s.lit(">") {
		return nil, false
	}
	s.space()
	if !s.lit("<") {
		return nil, false
	}
	c, ok := s.qname()
	if !ok || !s.empty(c) {
		return nil, false
	}
	s.space()
	return c, s.end(parent)
}

// owner reads the rest of DAV:owner (its name just read): empty, text, or
// a DAV:href holding text with only white space around it. The result is
// ReadInner's form: DAV:href written D:href, the text as it is (it holds
// nothing that form escapes), nil when empty.
func (s *fastScanner) owner() ([]byte, bool) {
	local := []byte("owner")
	s.space()
	if s.lit("/>") {
		return nil, true
	}
	if !s.lit(">") {
		return nil, false
	}
	lead, ok := s.text()
	if !ok {
		return nil, false
	}
	if bytes.HasPrefix(s.b, []byte("</")) {
		if !s.end(local) {
			return nil, false
		}
		if len(lead) == 0 {
			return nil, true
		}
		return bytes.Clone(lead), true
	}
	if !s.lit("<") || len(bytes.Trim(lead, " \t\n")) != 0 {
		return nil, false
	}
	n, ok := s.qname()
	if !ok || string(n) != "href" || !s.lit(">") {
		return nil, false
	}
	href, ok := s.text()
	if !ok || !s.end(n) {
		return nil, false
	}
	trail, ok := s.text()
	if !ok || len(bytes.Trim(trail, " \t\n")) != 0 || !s.end(local) {
		return nil, false
	}
	out := make([]byte, 0, len(lead)+len(href)+len(trail)+len("<D:href></D:href>"))
	out = append(out, lead...)
	out = append(out, "<D:href>"...)
	out = append(out, href...)
	out = append(out, "</D:href>"...)
	return append(out, trail...), true
}

// text reads character data up to the next '<': printable ASCII, tabs and
// line feeds, which ReadInner's form writes as they are, without the
// references the decoder would resolve, the '>' that form escapes, or
// carriage returns, which the decoder turns into line feeds.
func (s *fastScanner) text() ([]byte, bool) {
	for i := 0; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '<':
			t := s.b[:i]
			s.b = s.b[i:]
			return t, true
		case c == '\t' || c == '\n':
		case c < ' ' || c > '~' || c == '&' || c == '>':
			return nil, false
		}
	}
	return nil, false
}
