package header

import (
	"errors"
	"fmt"
	"strings"
)

// Reasons a path is refused; wrapped in ErrBadDestination, ErrBadPath or ErrBadIf.
var (
	errNotAbsolute  = errors.New("not an absolute URI or absolute path")
	errBadEscape    = errors.New("invalid percent escape")
	errEncodedSlash = errors.New("encoded slash")
	errNUL          = errors.New("NUL byte")
	errControl      = errors.New("control character")
	errQuery        = errors.New("query or fragment")
	errClimbs       = errors.New("dot-segments climb above the root")
)

// ParseDestination parses a Destination header (RFC 4918 §10.3) and returns
// the path it names relative to the mount prefix, as a clean absolute path
// ("/" for the prefix itself, "/a/b" below it, never a trailing slash; see
// TrailingSlash for that).
//
// raw is an absolute URI of any scheme and host (only its path is used:
// clients behind a reverse proxy send the public host, and the server compares
// paths only) or an absolute path. The path is percent-decoded one segment at
// a time; an encoded slash ("%2F"), a NUL byte, a control character, a bad
// escape, a query or a fragment is refused, as is a dot-segment ("..", also
// "%2E%2E") that climbs above the prefix: these fail with ErrBadDestination.
// Empty and "." segments are dropped and ".." below the prefix is resolved.
// A path not under prefix fails with ErrOutsidePrefix (502 Bad Gateway).
//
// prefix is the decoded path the server is mounted at, such as "/dav"; "" and
// "/" mean the root. Segments are compared exactly (case-sensitively), so
// "/davx" is not under "/dav".
func ParseDestination(raw, prefix string) (string, error) {
	p, err := refPath(trimOWS(raw))
	if err == nil {
		var segs []string
		if segs, err = decodeSegments(p); err == nil {
			var out string
			if out, err = underPrefix(segs, prefix); err == nil {
				return out, nil
			}
		}
	}
	if errors.Is(err, ErrOutsidePrefix) {
		return "", fmt.Errorf("%w: %q", err, clip(raw))
	}
	return "", fmt.Errorf("%w: %v: %q", ErrBadDestination, err, clip(raw))
}

// CleanPath applies the rules of ParseDestination to the path of a
// Request-URI and returns the resource's path relative to prefix ("/",
// "/a/b"). urlPath must be the escaped path, r.URL.EscapedPath(), not the
// already-decoded r.URL.Path: only the escaped form shows an encoded slash,
// and decoding twice would corrupt names containing "%". Malformed paths fail
// with ErrBadPath; paths not under prefix with ErrOutsidePrefix (404).
func CleanPath(urlPath, prefix string) (string, error) {
	if p, ok := cleanFast(urlPath, prefix); ok {
		return p, nil
	}
	return cleanSlow(urlPath, prefix)
}

// cleanFast is CleanPath for the common case, without allocating: a path
// with no escapes, control characters, empty or dot segments (a trailing
// slash aside), under a prefix of the same kind. ok is false for anything
// else, which cleanSlow then handles.
func cleanFast(urlPath, prefix string) (string, bool) {
	p, ok := alreadyClean(urlPath)
	if !ok {
		return "", false
	}
	if prefix == "" || prefix == "/" {
		return p, true
	}
	pre, ok := alreadyClean(prefix)
	switch {
	case !ok:
		return "", false
	case p == pre:
		return "/", true
	case len(p) > len(pre) && p[len(pre)] == '/' && p[:len(pre)] == pre:
		return p[len(pre):], true
	}
	return "", false
}

// alreadyClean returns p without its trailing slash when p is an absolute
// path whose segments are all non-empty, not "." or "..", and free of
// "%" and control characters.
func alreadyClean(p string) (string, bool) {
	n := len(p)
	if n == 0 || p[0] != '/' {
		return "", false
	}
	if n == 1 {
		return p, true
	}
	if p[n-1] == '/' {
		p, n = p[:n-1], n-1
	}
	start := 1
	for i := 1; i <= n; i++ {
		if i == n || p[i] == '/' {
			switch p[start:i] {
			case "", ".", "..":
				return "", false
			}
			start = i + 1
			continue
		}
		if c := p[i]; c < ' ' || c == 0x7f || c == '%' {
			return "", false
		}
	}
	return p, true
}

// cleanSlow is CleanPath for any input.
func cleanSlow(urlPath, prefix string) (string, error) {
	var err error
	if urlPath == "" || urlPath[0] != '/' {
		err = errNotAbsolute
	} else if err = checkControls(urlPath); err == nil {
		var segs []string
		if segs, err = decodeSegments(urlPath); err == nil {
			var out string
			if out, err = underPrefix(segs, prefix); err == nil {
				return out, nil
			}
		}
	}
	if errors.Is(err, ErrOutsidePrefix) {
		return "", fmt.Errorf("%w: %q", err, clip(urlPath))
	}
	return "", fmt.Errorf("%w: %v: %q", ErrBadPath, err, clip(urlPath))
}

// TrailingSlash reports whether the path of ref, an absolute URI or an
// absolute path such as a Destination header or a Request-URI path, ends in
// "/". WebDAV clients mark collections that way; the paths returned by
// ParseDestination and CleanPath never keep the slash.
func TrailingSlash(ref string) bool {
	p, err := refPath(trimOWS(ref))
	if err != nil {
		if i := strings.IndexAny(ref, "?#"); i >= 0 {
			ref = ref[:i]
		}
		return strings.HasSuffix(trimOWS(ref), "/")
	}
	return strings.HasSuffix(p, "/")
}

// refPath returns the still-escaped path of a URI reference that is either an
// absolute URI with a hierarchical path ("http://h/p", "http:/p"), a
// network-path reference ("//h/p") or an absolute path ("/p"). A missing path
// after an authority is "/". Queries and fragments are refused: a file server
// cannot honour them, and they usually mean an unescaped "?" or "#" in a name.
func refPath(s string) (string, error) {
	if err := checkControls(s); err != nil {
		return "", err
	}
	if strings.ContainsAny(s, "?#") {
		return "", errQuery
	}
	rest := s
	if !strings.HasPrefix(rest, "/") {
		i := strings.IndexByte(rest, ':')
		if i <= 0 || !isScheme(rest[:i]) {
			return "", errNotAbsolute
		}
		rest = rest[i+1:]
		if !strings.HasPrefix(rest, "/") {
			return "", errNotAbsolute // opaque, such as "urn:x" or "mailto:x"
		}
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			return "/", nil
		}
		rest = rest[i:]
	}
	return rest, nil
}

// checkControls refuses raw control characters (NUL among them).
func checkControls(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			if c == 0 {
				return errNUL
			}
			return errControl
		}
	}
	return nil
}

// decodeSegments splits an escaped absolute path at "/" and percent-decodes
// each segment, dropping empty and "." segments. It refuses bad escapes and
// segments that decode to contain "/" or NUL.
func decodeSegments(p string) ([]string, error) {
	segs := make([]string, 0, strings.Count(p, "/"))
	for seg := range strings.SplitSeq(p, "/") {
		d, err := unescape(seg)
		if err != nil {
			return nil, err
		}
		if d == "" || d == "." {
			continue
		}
		segs = append(segs, d)
	}
	return segs, nil
}

// unescape decodes the %XX escapes of one path segment. Unlike
// url.PathUnescape it refuses escapes that decode to "/" or NUL.
func unescape(s string) (string, error) {
	n := strings.IndexByte(s, '%')
	if n < 0 {
		if strings.IndexByte(s, 0) >= 0 {
			return "", errNUL
		}
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", errBadEscape
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
			if c == '/' {
				return "", errEncodedSlash
			}
		}
		if c == 0 {
			return "", errNUL
		}
		b = append(b, c)
	}
	return string(b), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// prefixSegments splits a mount prefix into its segments; "" and "/" give none.
func prefixSegments(prefix string) []string {
	var out []string
	for s := range strings.SplitSeq(prefix, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

// underPrefix checks that decoded segments start with the prefix's segments,
// then resolves the dot-segments of the rest and returns it as a clean
// absolute path. A ".." in the prefix's place is no match (ErrOutsidePrefix);
// a ".." that climbs above the prefix is errClimbs.
func underPrefix(segs []string, prefix string) (string, error) {
	pre := prefixSegments(prefix)
	if len(segs) < len(pre) {
		return "", ErrOutsidePrefix
	}
	for i, p := range pre {
		if segs[i] != p {
			return "", ErrOutsidePrefix
		}
	}
	return resolve(segs[len(pre):])
}

// resolve applies ".." segments and joins the result into a clean absolute
// path; "." and empty segments are already gone.
func resolve(segs []string) (string, error) {
	out := segs[:0:0]
	for _, s := range segs {
		if s == ".." {
			if len(out) == 0 {
				return "", errClimbs
			}
			out = out[:len(out)-1]
			continue
		}
		out = append(out, s)
	}
	return "/" + strings.Join(out, "/"), nil
}
