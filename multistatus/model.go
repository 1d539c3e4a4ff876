// Package multistatus implements the WebDAV 207 Multi-Status model of
// RFC 4918 §13: its types, a streaming XML writer, a streaming XML reader
// with bounded memory, and a JSON form of the same model.
//
// A Multistatus holds Responses. Each Response names one or more resources
// (Hrefs) and carries either one Status for them all (the form of DELETE,
// COPY, MOVE and LOCK answers, §9.6.2) or one or more Propstats with a status
// per group of properties (PROPFIND §9.1, PROPPATCH §9.2).
//
// Property values are carried as raw XML (Property.Inner) in a
// self-contained form, so dead properties round-trip exactly: namespaces,
// xml:lang and mixed content survive a read and a write.
package multistatus

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// NS is the DAV: namespace URI.
const NS = "DAV:"

// BatchNS is the namespace of Davit's batch extension elements, such as
// the id of a Response.
const BatchNS = "urn:davit:batch"

// ErrInvalid is returned (wrapped) by the writer for a Response that RFC 4918
// does not allow: no href, both or neither of status and propstat, several
// hrefs with propstat, or a 1xx or out-of-range status.
var ErrInvalid = errors.New("multistatus: invalid response")

// Status is an HTTP status line as carried in DAV:status (RFC 4918 §14.28),
// for example "HTTP/1.1 424 Failed Dependency". Any three-digit code is
// accepted by ParseStatus, including codes this package does not know.
type Status struct {
	Proto  string // "HTTP/1.1"; "" when the line had none
	Code   int    // 0 means no status
	Reason string // reason phrase, possibly empty
}

// NewStatus returns the HTTP/1.1 status line for code with its standard
// reason phrase.
func NewStatus(code int) Status {
	return Status{Proto: "HTTP/1.1", Code: code, Reason: http.StatusText(code)}
}

// IsZero reports whether s holds no status.
func (s Status) IsZero() bool { return s.Code == 0 }

// String formats s as a status line, with protocol HTTP/1.1 when s has
// none.
func (s Status) String() string {
	var a [64]byte
	return string(s.appendTo(a[:0]))
}

func (s Status) appendTo(b []byte) []byte {
	if s.Proto == "" {
		b = append(b, "HTTP/1.1"...)
	} else {
		b = append(b, s.Proto...)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(s.Code), 10)
	if s.Reason != "" {
		b = append(b, ' ')
		b = append(b, s.Reason...)
	}
	return b
}

// ParseStatus parses a status line: an optional "HTTP/x.y" protocol, a
// three-digit code and an optional reason phrase, with surrounding white
// space ignored. Unknown codes (599) and old protocols (HTTP/1.0) are fine.
func ParseStatus(line string) (Status, error) {
	f := strings.TrimSpace(line)
	var s Status
	if strings.HasPrefix(f, "HTTP/") {
		i := strings.IndexAny(f, " \t")
		if i < 0 {
			return Status{}, fmt.Errorf("multistatus: malformed status line %q", clip(line))
		}
		s.Proto, f = f[:i], strings.TrimLeft(f[i:], " \t")
	}
	if len(f) < 3 || (len(f) > 3 && f[3] != ' ' && f[3] != '\t') {
		return Status{}, fmt.Errorf("multistatus: malformed status line %q", clip(line))
	}
	for i := 0; i < 3; i++ {
		if f[i] < '0' || f[i] > '9' {
			return Status{}, fmt.Errorf("multistatus: malformed status code in %q", clip(line))
		}
	}
	s.Code = int(f[0]-'0')*100 + int(f[1]-'0')*10 + int(f[2]-'0')
	if s.Code < 100 {
		return Status{}, fmt.Errorf("multistatus: malformed status code in %q", clip(line))
	}
	s.Reason = strings.TrimSpace(f[3:])
	return s, nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Property is one property element (RFC 4918 §14.18 prop) with its value.
type Property struct {
	Name xml.Name // namespace URI and local name; Space "" is no namespace
	Lang string   // xml:lang on the property element, "" when none
	// Inner is the element's content as self-contained XML (see
	// package doc): elements in DAV: use the prefix D (which every
	// Multi-Status document binds to DAV:), other elements declare their
	// namespace with xmlns. Empty for an empty element.
	Inner []byte
}

// HasElements reports whether the value holds child elements (as opposed to
// text only or nothing).
func (p Property) HasElements() bool { return bytes.IndexByte(p.Inner, '<') >= 0 }

// Text returns the value's character data with entities resolved, and
// whether the value was text only (no child elements).
func (p Property) Text() (string, bool) {
	if p.HasElements() {
		return "", false
	}
	if bytes.IndexByte(p.Inner, '&') < 0 {
		return string(p.Inner), true
	}
	return unescape(p.Inner), true
}

// Condition is one precondition or postcondition element inside DAV:error
// (RFC 4918 §14.5, §16), such as {DAV:}lock-token-submitted with its hrefs.
type Condition struct {
	Name  xml.Name
	Inner []byte // optional content, self-contained XML as in Property
}

// DAVCondition returns the DAV: condition with this local name and no content.
func DAVCondition(local string) Condition {
	return Condition{Name: xml.Name{Space: NS, Local: local}}
}

// Propstat groups properties that share one status (RFC 4918 §14.22).
type Propstat struct {
	Props               []Property
	Status              Status
	Error               []Condition // DAV:error children, nil when absent
	ResponseDescription string
}

// Response is one DAV:response (RFC 4918 §14.24). Exactly one of Status and
// Propstats is set; several Hrefs are allowed only with Status.
type Response struct {
	// Hrefs are URI references as they stand in the document (percent
	// encoding kept), except that the Reader escapes what a URI cannot
	// hold (a raw space, a stray %) as EncodeHref does, as the Writer
	// would. Use PathHref to build one from a path.
	Hrefs               []string
	Status              Status
	Propstats           []Propstat
	Error               []Condition // DAV:error children, nil when absent
	ResponseDescription string
	Location            string // DAV:location/DAV:href, "" when absent
	// ID names the item of a Davit batch this response answers. It is
	// written as <id xmlns="urn:davit:batch"> inside the response (an
	// extension element, RFC 4918 §17) and as "id" in the JSON form, and
	// left out when empty.
	ID string
}

// Failed reports whether the response records a failure: a status outside
// 2xx, or any propstat outside 2xx.
func (r *Response) Failed() bool {
	if r.Status.Code != 0 {
		return r.Status.Code < 200 || r.Status.Code > 299
	}
	for i := range r.Propstats {
		if c := r.Propstats[i].Status.Code; c < 200 || c > 299 {
			return true
		}
	}
	return false
}

// Multistatus is a whole 207 document (RFC 4918 §14.16). Programs handling
// large answers should use Reader and Writer, which stream.
type Multistatus struct {
	Responses           []Response
	ResponseDescription string
}

func validate(r *Response) error {
	if len(r.Hrefs) == 0 {
		return fmt.Errorf("%w: no href", ErrInvalid)
	}
	hasStatus, hasProps := r.Status.Code != 0, len(r.Propstats) > 0
	switch {
	case hasStatus == hasProps:
		return fmt.Errorf("%w: exactly one of status and propstat is needed", ErrInvalid)
	case hasProps && len(r.Hrefs) > 1:
		return fmt.Errorf("%w: several hrefs need the status form", ErrInvalid)
	case hasStatus:
		return checkCode(r.Status.Code)
	}
	for i := range r.Propstats {
		if err := checkCode(r.Propstats[i].Status.Code); err != nil {
			return err
		}
	}
	return nil
}

func checkCode(c int) error {
	if c < 200 || c > 999 {
		return fmt.Errorf("%w: status %d cannot be recorded", ErrInvalid, c)
	}
	return nil
}
