package batch

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/davit-dav/davit/internal/xmlbody"
)

// Document is a parsed, validated batch.
type Document struct {
	Items       []Item
	StopOnError bool
	DryRun      bool
}

// Item is one operation of a batch, resolved and ready to run.
type Item struct {
	ID     string
	Method string // DELETE, COPY, MOVE, MKCOL, PROPPATCH, PROPFIND, LOCK, UNLOCK
	Href   string // as given
	Path   string // the escaped URL path it names (base applied)
	// Destination is the escaped URL path of COPY and MOVE.
	Destination string
	// Headers of the sub-request: Depth, Overwrite, If, If-Match,
	// If-None-Match, Lock-Token, Timeout.
	Header  map[string]string
	Depends []string
	Body    []byte // XML body (PROPPATCH, PROPFIND, LOCK), nil when none
}

// errTooMany is returned (wrapped) when a batch holds more items than allowed.
var errTooMany = errors.New("too many items")

// docError is a malformed document: 400 with its text.
type docError struct{ msg string }

func (e *docError) Error() string { return e.msg }

func badDoc(format string, args ...any) error { return &docError{msg: fmt.Sprintf(format, args...)} }

// methods are the item methods, and the DAV: root element of their body
// ("" when they take none; PROPFIND's and LOCK's bodies are optional).
var methods = map[string]string{
	"DELETE": "", "COPY": "", "MOVE": "", "MKCOL": "", "UNLOCK": "",
	"PROPPATCH": "propertyupdate", "PROPFIND": "propfind", "LOCK": "lockinfo",
}

// resolve returns the escaped URL path that href names against base (an
// escaped collection path ending in "/"). href is a URI reference: a
// relative path, an absolute path, or an absolute URI whose path alone is
// used (like Destination).
func resolve(base, href string) (string, error) {
	if strings.TrimSpace(href) == "" {
		return "", errors.New("empty href")
	}
	ref, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return "", fmt.Errorf("malformed href %q", clip(href))
	}
	if ref.RawQuery != "" || ref.ForceQuery || ref.Fragment != "" {
		return "", fmt.Errorf("href %q has a query or fragment", clip(href))
	}
	if ref.Opaque != "" || (ref.Scheme != "" && !strings.HasPrefix(ref.Path, "/")) {
		return "", fmt.Errorf("href %q has no path", clip(href))
	}
	b := &url.URL{Path: "/"}
	if bp, err := url.PathUnescape(base); err == nil {
		b.Path, b.RawPath = bp, base
	}
	u := b.ResolveReference(&url.URL{Path: ref.Path, RawPath: ref.RawPath})
	return u.EscapedPath(), nil
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// lockToken returns a Coded-URL: the token in angle brackets.
func lockToken(t string) string {
	t = strings.TrimSpace(t)
	if t == "" || strings.HasPrefix(t, "<") {
		return t
	}
	return "<" + t + ">"
}

// finish validates the items of a document: ids unique (an item without
// one gets its 1-based position), methods known, what each method needs
// present, dependencies on earlier items only, hrefs resolved.
func (d *Document) finish(base string, max int) error {
	if len(d.Items) == 0 {
		return badDoc("the batch holds no item")
	}
	if len(d.Items) > max {
		return fmt.Errorf("%w: %d items, the limit is %d", errTooMany, len(d.Items), max)
	}
	seen := make(map[string]int, len(d.Items))
	for i := range d.Items {
		it := &d.Items[i]
		n := i + 1
		if it.ID == "" {
			it.ID = strconv.Itoa(n)
		}
		if j, dup := seen[it.ID]; dup {
			return badDoc("item %d: id %q is already the id of item %d", n, it.ID, j)
		}
		for _, dep := range it.Depends {
			if _, ok := seen[dep]; !ok {
				return badDoc("item %d (id %q): depends on %q, which is not an earlier item", n, it.ID, dep)
			}
		}
		seen[it.ID] = n
		it.Method = strings.ToUpper(strings.TrimSpace(it.Method))
		root, ok := methods[it.Method]
		if !ok {
			return badDoc("item %d (id %q): method %q is not one of DELETE, COPY, MOVE, MKCOL, PROPPATCH, PROPFIND, LOCK, UNLOCK", n, it.ID, it.Method)
		}
		p, err := resolve(base, it.Href)
		if err != nil {
			return badDoc("item %d (id %q): %v", n, it.ID, err)
		}
		it.Path = p
		if it.Header == nil {
			it.Header = map[string]string{}
		}
		for k, v := range it.Header {
			if v = strings.TrimSpace(v); v == "" {
				delete(it.Header, k)
			} else if strings.ContainsAny(v, "\r\n\x00") {
				return badDoc("item %d (id %q): %s holds a line break", n, it.ID, k)
			} else {
				it.Header[k] = v
			}
		}
		switch it.Method {
		case "COPY", "MOVE":
			if it.Destination == "" {
				return badDoc("item %d (id %q): %s needs a destination", n, it.ID, it.Method)
			}
			if it.Destination, err = resolve(base, it.Destination); err != nil {
				return badDoc("item %d (id %q): destination: %v", n, it.ID, err)
			}
		case "UNLOCK":
			if it.Header["Lock-Token"] == "" {
				return badDoc("item %d (id %q): UNLOCK needs a lock-token", n, it.ID)
			}
		case "PROPPATCH":
			if len(it.Body) == 0 {
				return badDoc("item %d (id %q): PROPPATCH needs properties to set or remove", n, it.ID)
			}
		case "LOCK":
			if len(it.Body) == 0 && it.Header["If"] == "" {
				return badDoc("item %d (id %q): LOCK needs lock information, or an if condition naming the lock to refresh", n, it.ID)
			}
		}
		if it.Method != "COPY" && it.Method != "MOVE" && it.Destination != "" {
			return badDoc("item %d (id %q): %s takes no destination", n, it.ID, it.Method)
		}
		if len(it.Body) > 0 && root == "" {
			return badDoc("item %d (id %q): %s takes no body", n, it.ID, it.Method)
		}
		if v := it.Header["Lock-Token"]; v != "" {
			it.Header["Lock-Token"] = lockToken(v)
		}
		if v, ok := it.Header["Overwrite"]; ok && v != "T" && v != "F" {
			return badDoc("item %d (id %q): overwrite must be T or F (or true or false)", n, it.ID)
		}
		if v, ok := it.Header["Depth"]; ok && v != "0" && v != "1" && !strings.EqualFold(v, "infinity") {
			return badDoc("item %d (id %q): depth must be 0, 1 or infinity", n, it.ID)
		}
	}
	return nil
}

// ---- XML documents ----

// maxXMLDepth bounds element nesting in a batch document; its size is
// bounded by Options.MaxBodyBytes, its items by Options.MaxItems.
const maxXMLDepth = 40

// xmlDecoder reads a batch document: internal/xmlbody with text refused
// where elements belong.
type xmlDecoder struct{ *xmlbody.Decoder }

func newXMLDecoder(r io.Reader) xmlDecoder {
	return xmlDecoder{xmlbody.NewDecoder(r, xmlbody.Limits{MaxDepth: maxXMLDepth, MaxElements: 1 << 22, StrictText: true})}
}

// element reads the element just started and returns it as a standalone
// XML document whose root declares D: for DAV: (the canonical form of
// multistatus.ReadInner inside it).
func (d xmlDecoder) element(t xml.StartElement) ([]byte, error) {
	p, err := d.Inner(t)
	if err != nil {
		return nil, err
	}
	inner, lang := p.Inner, p.Lang
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	writeStartTag(&b, t.Name, lang)
	b.Write(inner)
	writeEndTag(&b, t.Name)
	return b.Bytes(), nil
}

// writeStartTag writes the root tag of a body: D:x for DAV:, else with its
// namespace as the default; D is always declared for the canonical content.
func writeStartTag(b *bytes.Buffer, n xml.Name, lang string) {
	if n.Space == "DAV:" {
		b.WriteString("<D:" + n.Local)
	} else {
		b.WriteString("<" + n.Local + ` xmlns="`)
		xml.EscapeText(b, []byte(n.Space))
		b.WriteString(`"`)
	}
	b.WriteString(` xmlns:D="DAV:"`)
	if lang != "" {
		b.WriteString(` xml:lang="`)
		xml.EscapeText(b, []byte(lang))
		b.WriteString(`"`)
	}
	b.WriteString(">")
}

func writeEndTag(b *bytes.Buffer, n xml.Name) {
	if n.Space == "DAV:" {
		b.WriteString("</D:" + n.Local + ">")
	} else {
		b.WriteString("</" + n.Local + ">")
	}
}

// parseBool reads an xs:boolean.
func parseBool(v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", clip(v))
}

// itemAttrs maps the item attributes that become sub-request headers.
var itemAttrs = map[string]string{
	"depth": "Depth", "if": "If", "if-match": "If-Match", "if-none-match": "If-None-Match",
	"lock-token": "Lock-Token", "timeout": "Timeout",
}

// parseXML reads a batch document in the urn:davit:batch namespace (see
// batch.xsd).
func parseXML(r io.Reader) (*Document, error) {
	d := newXMLDecoder(r)
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	if root.Name.Space != NS || root.Name.Local != "batch" {
		return nil, badDoc("the root element is {%s}%s, not {%s}batch", root.Name.Space, root.Name.Local, NS)
	}
	doc := &Document{}
	for _, a := range root.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		var err error
		switch {
		case a.Name.Space == "" && a.Name.Local == "stop-on-error":
			doc.StopOnError, err = parseBool(a.Value)
		case a.Name.Space == "" && a.Name.Local == "dry-run":
			doc.DryRun, err = parseBool(a.Value)
		default:
			return nil, badDoc("unknown attribute %s on batch", a.Name.Local)
		}
		if err != nil {
			return nil, badDoc("batch %s: %v", a.Name.Local, err)
		}
	}
	for {
		t, ok, err := d.Child()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if t.Name.Space != NS || t.Name.Local != "item" {
			return nil, badDoc("unexpected element {%s}%s in batch (only item)", t.Name.Space, t.Name.Local)
		}
		n := len(doc.Items) + 1
		if n > maxParsedItems {
			return nil, fmt.Errorf("%w: more than %d", errTooMany, maxParsedItems)
		}
		it, err := d.item(t, n)
		if err != nil {
			return nil, err
		}
		doc.Items = append(doc.Items, it)
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return doc, nil
}

// maxParsedItems stops parsing a document that is far over any limit.
const maxParsedItems = 1 << 20

func (d xmlDecoder) item(t xml.StartElement, n int) (Item, error) {
	it := Item{Header: map[string]string{}}
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		if a.Name.Space != "" {
			return it, badDoc("item %d: unknown attribute {%s}%s", n, a.Name.Space, a.Name.Local)
		}
		switch a.Name.Local {
		case "id":
			it.ID = a.Value
		case "method":
			it.Method = a.Value
		case "href":
			it.Href = a.Value
		case "destination":
			it.Destination = a.Value
		case "overwrite":
			b, err := parseBool(a.Value)
			if v := strings.TrimSpace(a.Value); v == "T" || v == "F" {
				b, err = v == "T", nil
			}
			if err != nil {
				return it, badDoc("item %d: overwrite: %v", n, err)
			}
			it.Header["Overwrite"] = map[bool]string{true: "T", false: "F"}[b]
		case "depends":
			it.Depends = strings.Fields(a.Value)
		default:
			h, ok := itemAttrs[a.Name.Local]
			if !ok {
				return it, badDoc("item %d: unknown attribute %s", n, a.Name.Local)
			}
			it.Header[h] = a.Value
		}
	}
	if it.Href == "" {
		return it, badDoc("item %d: href missing", n)
	}
	for {
		c, ok, err := d.Child()
		if err != nil {
			return it, err
		}
		if !ok {
			return it, nil
		}
		if it.Body != nil {
			return it, badDoc("item %d: more than one body element", n)
		}
		want := methods[strings.ToUpper(strings.TrimSpace(it.Method))]
		if c.Name.Space != "DAV:" || c.Name.Local != want || want == "" {
			return it, badDoc("item %d: body element {%s}%s does not fit method %s", n, c.Name.Space, c.Name.Local, it.Method)
		}
		if it.Body, err = d.element(c); err != nil {
			return it, err
		}
	}
}

// ---- JSON documents ----

type jsonDoc struct {
	StopOnError bool       `json:"stop-on-error"`
	DryRun      bool       `json:"dry-run"`
	Items       []jsonItem `json:"items"`
}

type jsonItem struct {
	ID          string          `json:"id"`
	Method      string          `json:"method"`
	Href        string          `json:"href"`
	Destination string          `json:"destination"`
	Overwrite   *bool           `json:"overwrite"`
	Depth       json.RawMessage `json:"depth"`
	If          string          `json:"if"`
	IfMatch     string          `json:"if-match"`
	IfNoneMatch string          `json:"if-none-match"`
	LockToken   string          `json:"lock-token"`
	Timeout     string          `json:"timeout"`
	Depends     []string        `json:"depends"`
	// Body is the method's XML body as a string.
	Body string `json:"body"`
	// PROPPATCH: text values to set, names to remove (Clark notation).
	Set    map[string]string `json:"set"`
	Remove []string          `json:"remove"`
	// PROPFIND: property names; absent: allprop.
	Props []string `json:"props"`
	// LOCK: a new lock.
	Lock *struct {
		Scope string `json:"scope"` // exclusive (default) or shared
		Owner string `json:"owner"` // text
	} `json:"lock"`
}

// parseJSON reads a JSON batch document.
func parseJSON(r io.Reader) (*Document, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var jd jsonDoc
	if err := dec.Decode(&jd); err != nil {
		return nil, badDoc("malformed JSON batch: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badDoc("malformed JSON batch: content after the document")
	}
	doc := &Document{StopOnError: jd.StopOnError, DryRun: jd.DryRun, Items: make([]Item, 0, len(jd.Items))}
	for i, ji := range jd.Items {
		n := i + 1
		it := Item{ID: ji.ID, Method: ji.Method, Href: ji.Href, Destination: ji.Destination, Depends: ji.Depends,
			Header: map[string]string{"If": ji.If, "If-Match": ji.IfMatch, "If-None-Match": ji.IfNoneMatch,
				"Lock-Token": ji.LockToken, "Timeout": ji.Timeout}}
		if ji.Href == "" {
			return nil, badDoc("item %d: href missing", n)
		}
		if ji.Overwrite != nil {
			it.Header["Overwrite"] = map[bool]string{true: "T", false: "F"}[*ji.Overwrite]
		}
		if len(ji.Depth) > 0 {
			var s string
			var num int
			switch {
			case json.Unmarshal(ji.Depth, &s) == nil:
			case json.Unmarshal(ji.Depth, &num) == nil:
				s = strconv.Itoa(num)
			default:
				return nil, badDoc("item %d: depth must be 0, 1 or \"infinity\"", n)
			}
			it.Header["Depth"] = s
		}
		method := strings.ToUpper(strings.TrimSpace(ji.Method))
		structured := len(ji.Set) > 0 || len(ji.Remove) > 0 || ji.Props != nil || ji.Lock != nil
		if ji.Body != "" && structured {
			return nil, badDoc("item %d: body and set, remove, props or lock exclude each other", n)
		}
		var err error
		switch {
		case ji.Body != "":
			it.Body, err = checkBody([]byte(ji.Body), methods[method])
		case len(ji.Set) > 0 || len(ji.Remove) > 0:
			if method != "PROPPATCH" {
				return nil, badDoc("item %d: set and remove are for PROPPATCH", n)
			}
			it.Body, err = propertyUpdate(ji.Set, ji.Remove)
		case ji.Props != nil:
			if method != "PROPFIND" {
				return nil, badDoc("item %d: props are for PROPFIND", n)
			}
			it.Body, err = propfindBody(ji.Props)
		case ji.Lock != nil:
			if method != "LOCK" {
				return nil, badDoc("item %d: lock is for LOCK", n)
			}
			it.Body, err = lockInfo(ji.Lock.Scope, ji.Lock.Owner)
		}
		if err != nil {
			return nil, badDoc("item %d: %v", n, err)
		}
		doc.Items = append(doc.Items, it)
	}
	return doc, nil
}

// checkBody checks that an XML body given as a string is well-formed and
// has the method's root element.
func checkBody(b []byte, want string) ([]byte, error) {
	if want == "" {
		return nil, errors.New("this method takes no body")
	}
	d := newXMLDecoder(bytes.NewReader(b))
	root, err := d.Root()
	if err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	if root.Name.Space != "DAV:" || root.Name.Local != want {
		return nil, fmt.Errorf("body: the root element must be DAV:%s", want)
	}
	body, err := d.element(root)
	if err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("body: %v", err)
	}
	return body, nil
}

// parseClark parses "{namespace}local" (or a bare local name, in DAV:).
func parseClark(s string) (xml.Name, error) {
	s = strings.TrimSpace(s)
	n := xml.Name{Space: "DAV:", Local: s}
	if strings.HasPrefix(s, "{") {
		i := strings.IndexByte(s, '}')
		if i < 0 {
			return n, fmt.Errorf("malformed property name %q", clip(s))
		}
		n = xml.Name{Space: s[1:i], Local: s[i+1:]}
	}
	if !validLocal(n.Local) {
		return n, fmt.Errorf("malformed property name %q", clip(s))
	}
	return n, nil
}

// validLocal reports whether s can be an element's local name.
func validLocal(s string) bool {
	if s == "" || strings.ContainsAny(s, ": <>&\"'/=") {
		return false
	}
	d := xml.NewDecoder(strings.NewReader("<" + s + "/>"))
	tok, err := d.Token()
	st, ok := tok.(xml.StartElement)
	return err == nil && ok && st.Name.Local == s
}

func propTag(b *bytes.Buffer, n xml.Name, value *string) {
	if n.Space == "DAV:" {
		b.WriteString("<D:" + n.Local)
	} else {
		b.WriteString("<" + n.Local + ` xmlns="`)
		xml.EscapeText(b, []byte(n.Space))
		b.WriteString(`"`)
	}
	if value == nil || *value == "" {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	xml.EscapeText(b, []byte(*value))
	writeEndTag(b, n)
}

const xmlHead = `<?xml version="1.0" encoding="utf-8"?>` + "\n"

func propertyUpdate(set map[string]string, remove []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xmlHead + `<D:propertyupdate xmlns:D="DAV:">`)
	if len(set) > 0 {
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("<D:set><D:prop>")
		for _, k := range keys {
			n, err := parseClark(k)
			if err != nil {
				return nil, err
			}
			v := set[k]
			propTag(&b, n, &v)
		}
		b.WriteString("</D:prop></D:set>")
	}
	if len(remove) > 0 {
		b.WriteString("<D:remove><D:prop>")
		for _, k := range remove {
			n, err := parseClark(k)
			if err != nil {
				return nil, err
			}
			propTag(&b, n, nil)
		}
		b.WriteString("</D:prop></D:remove>")
	}
	b.WriteString("</D:propertyupdate>")
	return b.Bytes(), nil
}

func propfindBody(names []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xmlHead + `<D:propfind xmlns:D="DAV:">`)
	if len(names) == 0 {
		b.WriteString("<D:allprop/></D:propfind>")
		return b.Bytes(), nil
	}
	b.WriteString("<D:prop>")
	for _, k := range names {
		n, err := parseClark(k)
		if err != nil {
			return nil, err
		}
		propTag(&b, n, nil)
	}
	b.WriteString("</D:prop></D:propfind>")
	return b.Bytes(), nil
}

func lockInfo(scope, owner string) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(scope)) {
	case "", "exclusive":
		scope = "exclusive"
	case "shared":
		scope = "shared"
	default:
		return nil, fmt.Errorf("lock scope %q is not exclusive or shared", clip(scope))
	}
	var b bytes.Buffer
	b.WriteString(xmlHead + `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:` + scope + `/></D:lockscope><D:locktype><D:write/></D:locktype>`)
	if owner != "" {
		b.WriteString("<D:owner>")
		xml.EscapeText(&b, []byte(owner))
		b.WriteString("</D:owner>")
	}
	b.WriteString("</D:lockinfo>")
	return b.Bytes(), nil
}

// ---- B-methods ----

// parseTargets reads the body of a batch method: its usual body with a
// DAV:target child of the root listing hrefs (each optionally followed by a
// DAV:dest). It returns the targets and the body without DAV:target (nil
// when nothing else was in it).
func parseTargets(r io.Reader, wantRoot string) (targets []target, body []byte, err error) {
	d := newXMLDecoder(r)
	root, err := d.Root()
	if err != nil {
		return nil, nil, err
	}
	if root.Name.Space != "DAV:" || (wantRoot != "" && root.Name.Local != wantRoot) {
		want := wantRoot
		if want == "" {
			want = "delete, copy or move"
		}
		return nil, nil, badDoc("the root element is {%s}%s, not DAV:%s", root.Name.Space, root.Name.Local, want)
	}
	var rest bytes.Buffer
	sawTarget := false
	for {
		t, ok, err := d.Child()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		if t.Name.Space == "DAV:" && t.Name.Local == "target" {
			sawTarget = true
			if targets, err = d.targets(targets); err != nil {
				return nil, nil, err
			}
			continue
		}
		p, err := d.Inner(t)
		if err != nil {
			return nil, nil, err
		}
		inner, lang := p.Inner, p.Lang
		if t.Name.Space == "DAV:" {
			rest.WriteString("<D:" + t.Name.Local)
		} else {
			rest.WriteString("<" + t.Name.Local + ` xmlns="`)
			xml.EscapeText(&rest, []byte(t.Name.Space))
			rest.WriteString(`"`)
		}
		if lang != "" {
			rest.WriteString(` xml:lang="`)
			xml.EscapeText(&rest, []byte(lang))
			rest.WriteString(`"`)
		}
		rest.WriteString(">")
		rest.Write(inner)
		writeEndTag(&rest, t.Name)
	}
	if err := d.End(); err != nil {
		return nil, nil, err
	}
	if !sawTarget || len(targets) == 0 {
		return nil, nil, badDoc("no DAV:target with at least one DAV:href")
	}
	if wantRoot == "" {
		return targets, nil, nil
	}
	var b bytes.Buffer
	b.WriteString(xmlHead)
	writeStartTag(&b, root.Name, "")
	b.Write(rest.Bytes())
	writeEndTag(&b, root.Name)
	return targets, b.Bytes(), nil
}

// target is one href of a DAV:target, with its DAV:dest if any.
type target struct{ href, dest string }

func (d xmlDecoder) targets(dst []target) ([]target, error) {
	for {
		t, ok, err := d.Child()
		if err != nil {
			return nil, err
		}
		if !ok {
			return dst, nil
		}
		if t.Name.Space != "DAV:" || (t.Name.Local != "href" && t.Name.Local != "dest") {
			return nil, badDoc("unexpected element {%s}%s in DAV:target", t.Name.Space, t.Name.Local)
		}
		v, err := d.Text()
		if err != nil {
			return nil, err
		}
		v = strings.TrimSpace(v)
		if t.Name.Local == "href" {
			if len(dst) >= maxParsedItems {
				return nil, fmt.Errorf("%w: more than %d", errTooMany, maxParsedItems)
			}
			dst = append(dst, target{href: v})
			continue
		}
		if len(dst) == 0 || dst[len(dst)-1].dest != "" {
			return nil, badDoc("DAV:dest must follow a DAV:href")
		}
		dst[len(dst)-1].dest = v
	}
}
