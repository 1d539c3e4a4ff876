package client

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// Sentinel errors matched by errors.Is against a *StatusError with the
// status code, or a *MultiError in which any resource failed with it.
var (
	ErrUnauthorized       = errors.New("client: unauthorized")         // 401
	ErrForbidden          = errors.New("client: forbidden")            // 403
	ErrNotFound           = errors.New("client: not found")            // 404
	ErrMethodNotAllowed   = errors.New("client: method not allowed")   // 405
	ErrConflict           = errors.New("client: conflict")             // 409
	ErrPreconditionFailed = errors.New("client: precondition failed")  // 412
	ErrLocked             = errors.New("client: locked")               // 423
	ErrFailedDependency   = errors.New("client: failed dependency")    // 424
	ErrInsufficientSpace  = errors.New("client: insufficient storage") // 507
)

var sentinels = map[int]error{
	http.StatusUnauthorized:        ErrUnauthorized,
	http.StatusForbidden:           ErrForbidden,
	http.StatusNotFound:            ErrNotFound,
	http.StatusMethodNotAllowed:    ErrMethodNotAllowed,
	http.StatusConflict:            ErrConflict,
	http.StatusPreconditionFailed:  ErrPreconditionFailed,
	http.StatusLocked:              ErrLocked,
	http.StatusFailedDependency:    ErrFailedDependency,
	http.StatusInsufficientStorage: ErrInsufficientSpace,
}

// maxErrorBody bounds how much of an error answer's body is read.
const maxErrorBody = 64 << 10

// StatusError is an answer with a status outside 2xx (and not a
// Multi-Status), such as 404 Not Found or 423 Locked. When the body was an
// XML DAV:error (RFC 4918 §16), Conditions holds its pre- or
// postconditions, for example {DAV:}lock-token-submitted.
type StatusError struct {
	Method     string
	URL        string
	StatusCode int
	Status     string // the status line's text, "423 Locked"
	Conditions []multistatus.Condition
}

// Error formats e as "client: PUT URL: 423 Locked (DAV:lock-token-submitted)".
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("client: %s %s: %s", e.Method, e.URL, e.Status)
	if len(e.Conditions) > 0 {
		msg += " (" + conditionList(e.Conditions) + ")"
	}
	return msg
}

// Is reports whether target is the sentinel error of e's status code.
func (e *StatusError) Is(target error) bool {
	s, ok := sentinels[e.StatusCode]
	return ok && s == target
}

// Has reports whether the answer named the condition.
func (e *StatusError) Has(cond xml.Name) bool { return hasCondition(e.Conditions, cond) }

func hasCondition(cs []multistatus.Condition, name xml.Name) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// ConditionName formats a condition as D:name for the DAV: namespace and
// {namespace}name otherwise.
func ConditionName(n xml.Name) string {
	if n.Space == multistatus.NS {
		return "DAV:" + n.Local
	}
	return multistatus.ClarkName(n.Space, n.Local)
}

func conditionList(cs []multistatus.Condition) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = ConditionName(c.Name)
	}
	return strings.Join(names, ", ")
}

// Failure is one failed resource (or one failed property of a resource) of
// a Multi-Status answer: the typed per-resource result of Delete, Copy,
// Move, Lock and PropPatch.
type Failure struct {
	Href        string // absolute URL
	Path        string // as in Resource.Path
	Status      multistatus.Status
	Property    xml.Name // the property, for a PropPatch failure; zero otherwise
	Conditions  []multistatus.Condition
	Description string // DAV:responsedescription, if any
	Location    string // DAV:location, if any
}

// MultiError is a Multi-Status answer in which some resources failed, for
// example a Delete of a collection one of whose members is locked. Failures
// lists them in document order; resources that succeeded are not listed.
type MultiError struct {
	Method     string
	URL        string
	StatusCode int // 207, or the status of another answer carrying a multistatus body
	Failures   []Failure
}

// Error formats e with the number of failures and the first three of them.
func (e *MultiError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "client: %s %s: %d failed", e.Method, e.URL, len(e.Failures))
	for i, f := range e.Failures {
		if i == 3 {
			fmt.Fprintf(&sb, "; and %d more", len(e.Failures)-3)
			break
		}
		sb.WriteString("; ")
		sb.WriteString(f.String())
	}
	return sb.String()
}

// String formats f as "href: 423 Locked (DAV:lock-token-submitted)", with
// the property after the href when there is one.
func (f Failure) String() string {
	s := f.Href
	if f.Property.Local != "" {
		s += " " + ConditionName(f.Property)
	}
	s += ": " + statusText(f.Status)
	if len(f.Conditions) > 0 {
		s += " (" + conditionList(f.Conditions) + ")"
	}
	return s
}

func statusText(s multistatus.Status) string {
	r := s.Reason
	if r == "" {
		r = http.StatusText(s.Code)
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", s.Code, r))
}

// Is reports whether target is the sentinel error of any failure's status.
func (e *MultiError) Is(target error) bool {
	for _, f := range e.Failures {
		if s, ok := sentinels[f.Status.Code]; ok && s == target {
			return true
		}
	}
	return false
}

// failures turns one response of an answer into Failures (none when it
// succeeded).
func (c *Client) failures(r *multistatus.Response, dst []Failure) []Failure {
	if r.Status.Code != 0 {
		if r.Status.Code >= 200 && r.Status.Code <= 299 {
			return dst
		}
		for _, h := range r.Hrefs {
			abs, p := c.resolveHref(h)
			dst = append(dst, Failure{Href: abs, Path: p, Status: r.Status, Conditions: r.Error,
				Description: strings.TrimSpace(r.ResponseDescription), Location: r.Location})
		}
		return dst
	}
	abs, p := c.resolveHref(r.Hrefs[0])
	for _, ps := range r.Propstats {
		if ps.Status.Code >= 200 && ps.Status.Code <= 299 {
			continue
		}
		desc := strings.TrimSpace(ps.ResponseDescription)
		if desc == "" {
			desc = strings.TrimSpace(r.ResponseDescription)
		}
		conds := ps.Error
		if conds == nil {
			conds = r.Error
		}
		for _, prop := range ps.Props {
			dst = append(dst, Failure{Href: abs, Path: p, Status: ps.Status, Property: prop.Name,
				Conditions: conds, Description: desc, Location: r.Location})
		}
	}
	return dst
}

// multiStatusError reads a 207 answer and returns a *MultiError for its
// failed resources, or nil when none failed.
func (c *Client) multiStatusError(resp *http.Response) error {
	e := &MultiError{Method: resp.Request.Method, URL: resp.Request.URL.String(), StatusCode: resp.StatusCode}
	rd := multistatus.NewReader(resp.Body)
	for r, err := range rd.Responses() {
		if err != nil {
			return fmt.Errorf("client: %s %s: reading the Multi-Status answer: %w", e.Method, e.URL, err)
		}
		e.Failures = c.failures(r, e.Failures)
	}
	if len(e.Failures) == 0 {
		return nil
	}
	return e
}

// errorFrom builds the error for an answer outside 2xx: a *MultiError when
// the body is a multistatus (Apache answers a DELETE blocked by a lock on a
// member with 424 and one), else a *StatusError with the DAV:error
// conditions of an XML body. It reads at most maxErrorBody bytes and does
// not close the body.
func (c *Client) errorFrom(resp *http.Response) error {
	e := &StatusError{
		Method:     resp.Request.Method,
		URL:        resp.Request.URL.String(),
		StatusCode: resp.StatusCode,
		Status:     strings.TrimSpace(resp.Status),
	}
	if e.Status == "" {
		e.Status = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if !isXML(resp.Header.Get("Content-Type")) {
		return e
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return e
	}
	switch root := rootName(body); {
	case root == xml.Name{Space: multistatus.NS, Local: "error"}:
		e.Conditions = parseConditions(body)
	case root == xml.Name{Space: multistatus.NS, Local: "multistatus"}:
		ms, err := multistatus.Decode(bytes.NewReader(body))
		if err != nil {
			return e
		}
		me := &MultiError{Method: e.Method, URL: e.URL, StatusCode: e.StatusCode}
		for i := range ms.Responses {
			me.Failures = c.failures(&ms.Responses[i], me.Failures)
		}
		if len(me.Failures) > 0 {
			return me
		}
	}
	return e
}

// isXML reports whether a Content-Type names XML (application/xml,
// text/xml or a +xml type).
func isXML(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/xml" || mt == "text/xml" || strings.HasSuffix(mt, "+xml")
}

// rootName returns the name of the document's root element, or a zero name.
func rootName(body []byte) xml.Name {
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return xml.Name{}
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name
		}
	}
}

// parseConditions returns the children of a DAV:error document (RFC 4918
// §16), with their content. A malformed body gives what was read before
// the fault.
func parseConditions(body []byte) []multistatus.Condition {
	dec := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	conds := []multistatus.Condition{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return conds
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				depth++
				continue
			}
			inner, _, err := multistatus.ReadInner(dec, t, 16)
			if err != nil {
				return conds
			}
			conds = append(conds, multistatus.Condition{Name: t.Name, Inner: inner})
		case xml.EndElement:
			return conds
		}
	}
}
