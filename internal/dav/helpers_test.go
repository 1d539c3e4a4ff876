package dav_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// env is one handler on a MemFS with memory locks and properties.
type env struct {
	t     testing.TB
	fs    storage.FS
	mem   *storage.MemFS
	locks *lock.Memory
	props *props.Memory
	cfg   dav.Config
	h     *dav.Handler
}

// newEnv builds a handler; the options may change the config (and its FS)
// before the handler is made.
func newEnv(t testing.TB, opts ...func(*dav.Config)) *env {
	t.Helper()
	mem := storage.NewMem()
	e := &env{t: t, mem: mem, locks: lock.NewMemory(lock.Options{}), props: props.NewMemory()}
	e.cfg = dav.Config{
		FS: mem, Locks: e.locks, Props: e.props,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, o := range opts {
		o(&e.cfg)
	}
	e.fs = e.cfg.FS
	if l, ok := e.cfg.Locks.(*lock.Memory); ok {
		e.locks = l
	}
	e.h = dav.New(e.cfg)
	return e
}

// newRequest builds a request; hdr holds header names and values in turn.
func newRequest(method, target, body string, hdr ...string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// do serves one request.
func (e *env) do(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.serve(newRequest(method, target, body, hdr...))
}

// serveAsync serves r in the background; the channel gets its status.
func (e *env) serveAsync(r *http.Request) <-chan int {
	done := make(chan int, 1)
	go func() {
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		done <- w.Code
	}()
	return done
}

// pipedRequest builds a request whose body is written, as it goes, to
// the returned writer (no Content-Length).
func pipedRequest(method, target string, hdr ...string) (*http.Request, *io.PipeWriter) {
	pr, pw := io.Pipe()
	r := newRequest(method, target, "", hdr...)
	r.Body, r.ContentLength = pr, -1
	return r, pw
}

func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if w.Code == http.StatusMultiStatus {
		if _, err := multistatus.Decode(bytes.NewReader(w.Body.Bytes())); err != nil {
			e.t.Fatalf("%s %s: 207 body does not decode: %v\n%s", r.Method, r.URL, err, w.Body)
		}
	}
	if strings.Contains(w.Header().Get("Content-Type"), "xml") && r.Method != "GET" && r.Method != "HEAD" {
		if err := strictXML(w.Body.Bytes()); err != nil {
			e.t.Fatalf("%s %s: %d answer is not namespace-well-formed: %v\n%s", r.Method, r.URL, w.Code, err, w.Body)
		}
	}
	return w
}

// must serves a request and fails the test unless the status is want.
func (e *env) must(want int, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.do(method, target, body, hdr...)
	if w.Code != want {
		e.t.Fatalf("%s %s: status %d, want %d\n%s", method, target, w.Code, want, w.Body)
	}
	return w
}

func (e *env) put(p, content string) {
	e.t.Helper()
	w := e.do("PUT", p, content)
	if w.Code != http.StatusCreated && w.Code != http.StatusNoContent {
		e.t.Fatalf("PUT %s: %d\n%s", p, w.Code, w.Body)
	}
}

func (e *env) mkcol(p string) {
	e.t.Helper()
	e.must(http.StatusCreated, "MKCOL", p, "")
}

// content returns the body of p as GET sees it, or "" and false.
func (e *env) content(p string) (string, bool) {
	e.t.Helper()
	w := e.do("GET", p, "")
	if w.Code != http.StatusOK {
		return "", false
	}
	return w.Body.String(), true
}

func (e *env) exists(p string) bool {
	e.t.Helper()
	_, err := e.fs.Stat(context.Background(), p)
	return err == nil
}

const lockExclusive = `<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>`

const lockShared = `<?xml version="1.0" encoding="utf-8"?>
<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>`

// lock takes a lock and returns its token (without angle brackets).
func (e *env) lock(p, depth, body string) string {
	e.t.Helper()
	w := e.do("LOCK", p, body, "Depth", depth, "Timeout", "Second-600")
	if w.Code != http.StatusOK && w.Code != http.StatusCreated {
		e.t.Fatalf("LOCK %s: %d\n%s", p, w.Code, w.Body)
	}
	tok := w.Header().Get("Lock-Token")
	if !strings.HasPrefix(tok, "<") || !strings.HasSuffix(tok, ">") {
		e.t.Fatalf("LOCK %s: Lock-Token %q", p, tok)
	}
	return tok[1 : len(tok)-1]
}

// ms decodes a 207 answer.
func ms(t testing.TB, w *httptest.ResponseRecorder) *multistatus.Multistatus {
	t.Helper()
	if w.Code != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207\n%s", w.Code, w.Body)
	}
	m, err := multistatus.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatalf("decode 207: %v\n%s", err, w.Body)
	}
	return m
}

// hrefs returns the sorted hrefs of the responses.
func hrefs(m *multistatus.Multistatus) []string {
	var out []string
	for _, r := range m.Responses {
		out = append(out, r.Hrefs...)
	}
	sort.Strings(out)
	return out
}

// response returns the response for href.
func response(t testing.TB, m *multistatus.Multistatus, href string) *multistatus.Response {
	t.Helper()
	for i := range m.Responses {
		if slices.Contains(m.Responses[i].Hrefs, href) {
			return &m.Responses[i]
		}
	}
	t.Fatalf("no response for %s in %v", href, hrefs(m))
	return nil
}

// propStatus maps "{space}local" to the status of that property in r.
func propStatus(r *multistatus.Response) map[string]int {
	out := map[string]int{}
	for _, ps := range r.Propstats {
		for _, p := range ps.Props {
			out[multistatus.ClarkName(p.Name.Space, p.Name.Local)] = ps.Status.Code
		}
	}
	return out
}

// prop returns the property name of r with status 200, and whether it is there.
func prop(r *multistatus.Response, space, local string) (multistatus.Property, bool) {
	for _, ps := range r.Propstats {
		if ps.Status.Code != http.StatusOK {
			continue
		}
		for _, p := range ps.Props {
			if p.Name.Space == space && p.Name.Local == local {
				return p, true
			}
		}
	}
	return multistatus.Property{}, false
}

// propText is the text of a DAV: property with status 200 ("" when absent).
func propText(r *multistatus.Response, local string) string {
	p, ok := prop(r, "DAV:", local)
	if !ok {
		return ""
	}
	s, _ := p.Text()
	return s
}

// canon turns a property value (self-contained XML, DAV: as the D prefix)
// into a canonical token list: resolved names, sorted attributes without
// namespace declarations, merged text. Two values with the same meaning get
// the same string, whatever prefixes they use.
func canon(t testing.TB, inner []byte) string {
	t.Helper()
	doc := `<canon-root xmlns:D="DAV:">` + string(inner) + `</canon-root>`
	d := xml.NewDecoder(strings.NewReader(doc))
	var b strings.Builder
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			b.WriteString("T(" + text.String() + ")")
			text.Reset()
		}
	}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("canon %q: %v", inner, err)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			flush()
			var attrs []string
			for _, a := range x.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				attrs = append(attrs, "{"+a.Name.Space+"}"+a.Name.Local+"="+a.Value)
			}
			sort.Strings(attrs)
			b.WriteString("S({" + x.Name.Space + "}" + x.Name.Local + " " + strings.Join(attrs, " ") + ")")
		case xml.EndElement:
			flush()
			b.WriteString("E")
		case xml.CharData:
			text.Write(x)
		}
	}
	flush()
	out := b.String()
	// Drop the wrapper's own start and end.
	out = strings.TrimPrefix(out, "S({}canon-root )")
	return strings.TrimSuffix(out, "E")
}

// errorCondition parses a DAV:error body and returns the local names of
// its DAV: conditions and the hrefs inside them.
func errorCondition(t testing.TB, body []byte) (conds []string, hrefList []string) {
	t.Helper()
	var doc struct {
		XMLName xml.Name `xml:"DAV: error"`
		Any     []struct {
			XMLName xml.Name
			Hrefs   []string `xml:"DAV: href"`
		} `xml:",any"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("DAV:error body: %v\n%s", err, body)
	}
	for _, a := range doc.Any {
		if a.XMLName.Space == "DAV:" {
			conds = append(conds, a.XMLName.Local)
		}
		hrefList = append(hrefList, a.Hrefs...)
	}
	return conds, hrefList
}

// wantCondition fails unless w has status and a DAV:error body naming cond.
func wantCondition(t testing.TB, w *httptest.ResponseRecorder, status int, cond string) []string {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d\n%s", w.Code, status, w.Body)
	}
	conds, hs := errorCondition(t, w.Body.Bytes())
	if !slices.Contains(conds, cond) {
		t.Fatalf("conditions %v, want %s\n%s", conds, cond, w.Body)
	}
	return hs
}

// propfindBody builds a PROPFIND body asking for the named properties;
// names are "local" for DAV: or "{space}local".
func propfindBody(names ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>`)
	for _, n := range names {
		if strings.HasPrefix(n, "{}") {
			b.WriteString(`<` + n[2:] + ` xmlns=""/>`)
		} else if strings.HasPrefix(n, "{") {
			i := strings.IndexByte(n, '}')
			b.WriteString(`<x:` + n[i+1:] + ` xmlns:x="` + n[1:i] + `"/>`)
		} else {
			b.WriteString(`<D:` + n + `/>`)
		}
	}
	b.WriteString(`</D:prop></D:propfind>`)
	return b.String()
}

// propfind1 asks for named properties of one resource (Depth 0) and
// returns its response.
func (e *env) propfind1(p string, names ...string) *multistatus.Response {
	e.t.Helper()
	w := e.do("PROPFIND", p, propfindBody(names...), "Depth", "0")
	m := ms(e.t, w)
	if len(m.Responses) != 1 {
		e.t.Fatalf("PROPFIND %s: %d responses", p, len(m.Responses))
	}
	return &m.Responses[0]
}

// proppatchSet builds a PROPPATCH body setting each "{space}local" to its
// (raw XML) value.
func proppatchSet(kv ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>`)
	for i := 0; i+1 < len(kv); i += 2 {
		n := kv[i]
		j := strings.IndexByte(n, '}')
		space, local := n[1:j], n[j+1:]
		b.WriteString(`<p:` + local + ` xmlns:p="` + space + `">` + kv[i+1] + `</p:` + local + `>`)
	}
	b.WriteString(`</D:prop></D:set></D:propertyupdate>`)
	return b.String()
}

const (
	nsXML   = "http://www.w3.org/XML/1998/namespace"
	nsXMLNS = "http://www.w3.org/2000/xmlns/"
)

// strictXML checks what a namespace-aware parser such as expat or libxml2
// (which litmus, davfs2 and cadaver use) refuses and encoding/xml lets
// through: undeclared prefixes, the xmlns prefix on an element, reserved
// namespaces bound to other prefixes or as the default, and prefixes
// bound to the empty name.
func strictXML(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	scopes := []map[string]string{{"xml": nsXML}}
	lookup := func(prefix string) (string, bool) {
		for i := len(scopes) - 1; i >= 0; i-- {
			if v, ok := scopes[i][prefix]; ok {
				return v, true
			}
		}
		return "", false
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			sc := map[string]string{}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					switch {
					case a.Name.Local == "xmlns":
						return fmt.Errorf("the xmlns prefix declared")
					case a.Value == "":
						return fmt.Errorf("prefix %s bound to the empty name", a.Name.Local)
					case a.Name.Local == "xml" && a.Value != nsXML, a.Name.Local != "xml" && a.Value == nsXML:
						return fmt.Errorf("prefix %s bound to %s", a.Name.Local, a.Value)
					case a.Value == nsXMLNS:
						return fmt.Errorf("prefix %s bound to the xmlns namespace", a.Name.Local)
					}
					sc[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					if a.Value == nsXML || a.Value == nsXMLNS {
						return fmt.Errorf("default namespace bound to %s", a.Value)
					}
					sc[""] = a.Value
				}
			}
			scopes = append(scopes, sc)
			if t.Name.Space == "xmlns" {
				return fmt.Errorf("element <%s:%s> has the xmlns prefix", t.Name.Space, t.Name.Local)
			}
			if t.Name.Space != "" {
				if _, ok := lookup(t.Name.Space); !ok {
					return fmt.Errorf("element <%s:%s>: undeclared prefix", t.Name.Space, t.Name.Local)
				}
			}
			seen := map[xml.Name]bool{}
			for _, a := range t.Attr {
				n := a.Name
				if a.Name.Space != "" && a.Name.Space != "xmlns" {
					uri, ok := lookup(a.Name.Space)
					if !ok {
						return fmt.Errorf("attribute %s:%s: undeclared prefix", a.Name.Space, a.Name.Local)
					}
					n.Space = uri
				}
				if seen[n] {
					return fmt.Errorf("attribute {%s}%s twice", n.Space, n.Local)
				}
				seen[n] = true
			}
		case xml.EndElement:
			scopes = scopes[:len(scopes)-1]
		}
	}
}
