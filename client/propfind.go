package client

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/davit-dav/davit/multistatus"
)

// DAVName returns the name of the DAV: property (or element) local.
func DAVName(local string) xml.Name { return xml.Name{Space: multistatus.NS, Local: local} }

// ParseName parses a property name in Clark notation, "{namespace}local"
// ("{}local" for no namespace). A bare "local" names a DAV: property, so
// "getetag" is {DAV:}getetag.
func ParseName(s string) (xml.Name, error) {
	s = strings.TrimSpace(s)
	space, local := multistatus.NS, s
	if strings.HasPrefix(s, "{") {
		i := strings.IndexByte(s, '}')
		if i < 0 {
			return xml.Name{}, fmt.Errorf("client: property name %q: missing '}'", s)
		}
		space, local = s[1:i], s[i+1:]
	}
	if !validLocal(local) {
		return xml.Name{}, fmt.Errorf("client: property name %q: %q is not an XML name", s, local)
	}
	return xml.Name{Space: space, Local: local}, nil
}

// validLocal reports whether s can be an element's local name.
func validLocal(s string) bool {
	if s == "" || strings.ContainsAny(s, ":") {
		return false
	}
	dec := xml.NewDecoder(strings.NewReader("<" + s + "/>"))
	tok, err := dec.Token()
	if err != nil {
		return false
	}
	se, ok := tok.(xml.StartElement)
	return ok && se.Name.Local == s && len(se.Attr) == 0
}

// The live properties Stat and ReadDir ask for, from which Resource's typed
// fields are filled.
var standardProps = []xml.Name{
	DAVName("resourcetype"), DAVName("getcontentlength"), DAVName("getlastmodified"),
	DAVName("getetag"), DAVName("getcontenttype"), DAVName("displayname"),
}

// PropQuery is what a PropFind asks for (RFC 4918 §9.1): all properties
// (the zero value), only their names, or named properties.
type PropQuery struct {
	kind  int // 0 allprop, 1 propname, 2 prop
	names []xml.Name
}

// AllProp asks for all properties the server returns without being named
// (DAV:allprop), plus the properties in include (DAV:include), which
// servers leave out of allprop when they are costly.
func AllProp(include ...xml.Name) PropQuery { return PropQuery{names: include} }

// PropNames asks for the names of all properties (DAV:propname), without
// values.
func PropNames() PropQuery { return PropQuery{kind: 1} }

// Props asks for the named properties. Those the resource lacks come back
// with status 404 in Resource.Props.
func Props(names ...xml.Name) PropQuery { return PropQuery{kind: 2, names: names} }

// StandardProps asks for the live properties behind Resource's typed
// fields: resourcetype, getcontentlength, getlastmodified, getetag,
// getcontenttype and displayname.
func StandardProps() PropQuery { return Props(standardProps...) }

// body returns the PROPFIND request body.
func (q PropQuery) body() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:propfind xmlns:D="DAV:">`)
	switch q.kind {
	case 0:
		b.WriteString("<D:allprop/>")
		if len(q.names) > 0 {
			b.WriteString("<D:include>")
			writeEmptyProps(&b, q.names)
			b.WriteString("</D:include>")
		}
	case 1:
		b.WriteString("<D:propname/>")
	default:
		b.WriteString("<D:prop>")
		writeEmptyProps(&b, q.names)
		b.WriteString("</D:prop>")
	}
	b.WriteString("</D:propfind>\n")
	return b.Bytes()
}

func writeEmptyProps(b *bytes.Buffer, names []xml.Name) {
	for _, n := range names {
		writeStartTag(b, n, "")
		b.Truncate(b.Len() - 1)
		b.WriteString("/>")
	}
}

// writeStartTag writes the start tag of a property element in a document
// whose root binds D: to DAV: and declares no default namespace.
func writeStartTag(b *bytes.Buffer, n xml.Name, lang string) {
	switch n.Space {
	case multistatus.NS:
		b.WriteString("<D:" + n.Local)
	case "":
		b.WriteString("<" + n.Local)
	default:
		b.WriteString("<P:" + n.Local + ` xmlns:P="`)
		xml.EscapeText(b, []byte(n.Space))
		b.WriteString(`"`)
	}
	if lang != "" {
		b.WriteString(` xml:lang="`)
		xml.EscapeText(b, []byte(lang))
		b.WriteString(`"`)
	}
	b.WriteString(">")
}

func writeEndTag(b *bytes.Buffer, n xml.Name) {
	switch n.Space {
	case multistatus.NS:
		b.WriteString("</D:" + n.Local + ">")
	case "":
		b.WriteString("</" + n.Local + ">")
	default:
		b.WriteString("</P:" + n.Local + ">")
	}
}

// Prop is one property of a Resource, with the status the server gave it
// (200 found, 404 not found, 403 forbidden, ...).
type Prop struct {
	multistatus.Property
	Status multistatus.Status
	Error  []multistatus.Condition // the propstat's DAV:error, if any
}

// OK reports whether the property was returned (a 2xx status).
func (p *Prop) OK() bool { return p.Status.Code >= 200 && p.Status.Code <= 299 }

// Resource is one resource of a PropFind answer. The typed fields are
// filled from the live properties when the answer has them; Props holds
// every property as the server sent it.
type Resource struct {
	// Href is the resource's absolute URL, resolved against the base URL.
	Href string
	// Path is the resource's unescaped path relative to the base URL ("" for
	// the base itself, "docs/a b.txt", a collection's ending in "/" as its
	// href does), or the absolute path ("/other/x") of a resource outside
	// it. It can be given back to the Client's calls.
	Path string
	// Status is the resource's own status when the server answered for the
	// resource as a whole (the status form of a response, used for errors);
	// zero when it answered per property.
	Status       multistatus.Status
	IsCollection bool      // DAV:resourcetype has DAV:collection
	Size         int64     // DAV:getcontentlength, 0 when absent
	ModTime      time.Time // DAV:getlastmodified, zero when absent or malformed
	ETag         string    // DAV:getetag, quotes included
	ContentType  string    // DAV:getcontenttype
	DisplayName  string    // DAV:displayname
	Props        []Prop
	Error        []multistatus.Condition // the response's DAV:error, if any
	Description  string                  // the response's DAV:responsedescription
}

// Name returns the last segment of the resource's path, without the
// trailing "/" of a collection.
func (r *Resource) Name() string {
	p := strings.TrimSuffix(r.Path, "/")
	if p == "" {
		p = strings.TrimSuffix(r.Href, "/")
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[i+1:]
		}
		return p
	}
	return path.Base(p)
}

// Failed reports whether the server reported the resource as a whole as
// failed (a non-2xx status in the status form).
func (r *Resource) Failed() bool {
	return r.Status.Code != 0 && (r.Status.Code < 200 || r.Status.Code > 299)
}

// Prop returns the property named name, if the answer has it (whatever its
// status).
func (r *Resource) Prop(name xml.Name) (*Prop, bool) {
	for i := range r.Props {
		if r.Props[i].Name == name {
			return &r.Props[i], true
		}
	}
	return nil, false
}

// resources turns one response into Resources: one per href.
func (c *Client) resources(r *multistatus.Response) []*Resource {
	out := make([]*Resource, 0, len(r.Hrefs))
	for _, h := range r.Hrefs {
		res := &Resource{Status: r.Status, Error: r.Error, Description: strings.TrimSpace(r.ResponseDescription)}
		res.Href, res.Path = c.resolveHref(h)
		for _, ps := range r.Propstats {
			for _, p := range ps.Props {
				res.Props = append(res.Props, Prop{Property: p, Status: ps.Status, Error: ps.Error})
			}
		}
		res.fill()
		if !res.IsCollection && strings.HasSuffix(res.Path, "/") {
			if _, ok := res.Prop(DAVName("resourcetype")); !ok {
				res.IsCollection = true // no resourcetype asked: trust the href
			}
		}
		out = append(out, res)
	}
	return out
}

// fill sets the typed fields from the found properties.
func (r *Resource) fill() {
	for i := range r.Props {
		p := &r.Props[i]
		if !p.OK() || p.Name.Space != multistatus.NS {
			continue
		}
		text, _ := p.Text()
		text = strings.TrimSpace(text)
		switch p.Name.Local {
		case "resourcetype":
			r.IsCollection = hasChild(p.Inner, DAVName("collection"))
		case "getcontentlength":
			r.Size, _ = strconv.ParseInt(text, 10, 64)
		case "getlastmodified":
			if t, err := http.ParseTime(text); err == nil {
				r.ModTime = t
			} else if t, err := time.Parse(time.RFC3339, text); err == nil {
				r.ModTime = t
			}
		case "getetag":
			r.ETag = text
		case "getcontenttype":
			r.ContentType = text
		case "displayname":
			r.DisplayName, _ = p.Text()
		}
	}
}

// hasChild reports whether a property value (Property.Inner form) has a
// top-level child element named name.
func hasChild(inner []byte, name xml.Name) bool {
	if !bytes.Contains(inner, []byte(name.Local)) {
		return false
	}
	dec := xml.NewDecoder(io.MultiReader(strings.NewReader(`<v xmlns:D="DAV:">`), bytes.NewReader(inner), strings.NewReader(`</v>`)))
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name == name {
				return true
			}
		case xml.EndElement:
			depth--
		}
	}
}

// PropFind asks for properties of the resource at p and, with Depth1 or
// DepthInfinity, of its members (RFC 4918 §9.1). The answer is read as it
// arrives: the returned sequence yields one Resource at a time, so a
// listing of any size takes constant memory. The request is sent when the
// iteration starts, and again for every new iteration.
//
// A failed request yields one error (a *StatusError for a non-207 answer)
// and stops; so does a malformed answer, with a *multistatus.SyntaxError
// inside. Stopping the loop early closes the connection.
func (c *Client) PropFind(ctx context.Context, p string, depth Depth, q PropQuery, opts ...RequestOption) iter.Seq2[*Resource, error] {
	return func(yield func(*Resource, error) bool) {
		cfg := buildConfig(opts)
		cfg.header.Set("Depth", depth.String())
		cfg.header.Set("Content-Type", `application/xml; charset="utf-8"`)
		u := c.Resolve(p)
		resp, err := c.send(ctx, "PROPFIND", u, bytes.NewReader(q.body()), cfg)
		if err != nil {
			yield(nil, err)
			return
		}
		defer resp.Body.Close()
		for r, err := range c.multiStatus(resp, "PROPFIND", u, "") {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, res := range c.resources(r) {
				if !yield(res, nil) {
					return
				}
			}
		}
	}
}

// Stat returns the resource at p with its standard properties (see
// StandardProps). A resource that does not exist gives a *StatusError
// matching ErrNotFound.
func (c *Client) Stat(ctx context.Context, p string, opts ...RequestOption) (*Resource, error) {
	for res, err := range c.PropFind(ctx, p, Depth0, StandardProps(), opts...) {
		if err != nil {
			return nil, err
		}
		if res.Failed() {
			return nil, &StatusError{Method: "PROPFIND", URL: res.Href, StatusCode: res.Status.Code,
				Status: statusText(res.Status), Conditions: res.Error}
		}
		return res, nil
	}
	return nil, fmt.Errorf("client: PROPFIND %s: empty Multi-Status answer", c.URL(p))
}

// ReadDir yields the members of the collection at p with their standard
// properties (a Depth 1 PropFind that leaves out the collection itself),
// streamed as PropFind does.
func (c *Client) ReadDir(ctx context.Context, p string, opts ...RequestOption) iter.Seq2[*Resource, error] {
	self := c.Resolve(p).Path
	self = strings.TrimSuffix(self, "/")
	return func(yield func(*Resource, error) bool) {
		skipped := false
		for res, err := range c.PropFind(ctx, p, Depth1, StandardProps(), opts...) {
			if err == nil && !skipped && c.samePath(res.Href, self) {
				skipped = true
				continue
			}
			if !yield(res, err) {
				return
			}
		}
	}
}

// samePath reports whether the absolute URL href has the unescaped path p,
// ignoring a trailing "/".
func (c *Client) samePath(href, p string) bool {
	u, err := c.base.Parse(href)
	if err != nil {
		return false
	}
	return strings.TrimSuffix(u.Path, "/") == p
}

// multiStatus reads resp as a 207 answer to method on u and yields its
// responses one at a time; any other answer, or a malformed one, yields one
// error. hint is added to the error for a 2xx answer that is not a 207.
func (c *Client) multiStatus(resp *http.Response, method string, u *url.URL, hint string) iter.Seq2[*multistatus.Response, error] {
	return func(yield func(*multistatus.Response, error) bool) {
		if resp.StatusCode != http.StatusMultiStatus {
			err := c.errorFrom(resp)
			if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
				err = fmt.Errorf("client: %s %s: answer %s is not a Multi-Status%s", method, u, resp.Status, hint)
			}
			yield(nil, err)
			return
		}
		for r, err := range multistatus.NewReader(resp.Body).Responses() {
			if err != nil {
				yield(nil, fmt.Errorf("client: %s %s: %w", method, u, err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
}
