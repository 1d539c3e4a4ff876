package header

import "fmt"

// ParseLockToken parses a Lock-Token request header (RFC 4918 §10.5), which
// must be a Coded-URL: "<" absolute-URI ">", such as
// "<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>". It returns the URI
// without the angle brackets. Surrounding white space is ignored; a token
// without its brackets (as some clients send) fails with ErrBadLockToken,
// which RFC 4918 answers with 400.
func ParseLockToken(s string) (string, error) {
	t := trimOWS(s)
	if len(t) < 2 || t[0] != '<' || t[len(t)-1] != '>' {
		return "", fmt.Errorf("%w: not a Coded-URL: %q", ErrBadLockToken, clip(s))
	}
	u := t[1 : len(t)-1]
	if !isCodedURL(u) {
		return "", fmt.Errorf("%w: not an absolute URI: %q", ErrBadLockToken, clip(s))
	}
	return u, nil
}

// isCodedURL reports whether u may stand between the brackets of a Coded-URL:
// a URI scheme, a colon, then no white space, controls or angle brackets
// (RFC 4918 §10.1; RFC 3986 §4.3 absolute-URI, checked loosely).
func isCodedURL(u string) bool {
	colon := -1
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c <= ' ' || c == 0x7f || c == '<' || c == '>' {
			return false
		}
		if c == ':' && colon < 0 {
			colon = i
		}
	}
	return colon > 0 && isScheme(u[:colon])
}

// isScheme reports whether s is a URI scheme (RFC 3986 §3.1).
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
