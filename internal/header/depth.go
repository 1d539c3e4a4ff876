package header

import (
	"fmt"
	"strings"
)

// Depth is the value of a Depth header (RFC 4918 §10.2).
type Depth int

// Depth values. DepthInfinity equals lock.Infinity.
const (
	// DepthUnset means the request carried no Depth header; the method's
	// default applies (see Depth.Or).
	DepthUnset Depth = -2
	// DepthInfinity is "Depth: infinity".
	DepthInfinity Depth = -1
	// Depth0 is "Depth: 0".
	Depth0 Depth = 0
	// Depth1 is "Depth: 1".
	Depth1 Depth = 1
)

// String returns the header form of d ("0", "1", "infinity"), or "" for
// DepthUnset and any other value.
func (d Depth) String() string {
	switch d {
	case Depth0:
		return "0"
	case Depth1:
		return "1"
	case DepthInfinity:
		return "infinity"
	}
	return ""
}

// Or returns d, or def when d is DepthUnset. It applies a method's default:
// ParseDepth(h).Or(DepthInfinity) for PROPFIND, COPY and LOCK.
func (d Depth) Or(def Depth) Depth {
	if d == DepthUnset {
		return def
	}
	return d
}

// ParseDepth parses a Depth header value: "0", "1" or "infinity" (RFC 4918
// §10.2; case-insensitive, surrounding white space ignored), or the forms
// "1,noroot" and "infinity,noroot" that the Windows WebDAV client sends, for
// which noroot is true: the answer leaves out the resource itself. An empty
// value returns DepthUnset. Anything else fails with ErrBadDepth.
func ParseDepth(s string) (d Depth, noroot bool, err error) {
	s = trimOWS(s)
	if s == "" {
		return DepthUnset, false, nil
	}
	v := s
	if i := strings.IndexByte(s, ','); i >= 0 {
		if !strings.EqualFold(trimOWS(s[i+1:]), "noroot") {
			return DepthUnset, false, fmt.Errorf("%w: %q", ErrBadDepth, clip(s))
		}
		v, noroot = trimOWS(s[:i]), true
	}
	switch {
	case v == "0" && !noroot:
		return Depth0, false, nil
	case v == "1":
		return Depth1, noroot, nil
	case strings.EqualFold(v, "infinity"):
		return DepthInfinity, noroot, nil
	}
	return DepthUnset, false, fmt.Errorf("%w: %q", ErrBadDepth, clip(s))
}

// trimOWS removes optional white space (SP, HTAB, and the CR LF of folded
// lines) from both ends of s.
func trimOWS(s string) string {
	return strings.Trim(s, " \t\r\n")
}

// isWS reports whether c is white space inside a header value.
func isWS(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
