package header

import (
	"fmt"
	"strings"
	"time"
)

// MaxTimeout is the largest finite timeout: RFC 4918 §10.7 says a
// "Second-" value must not exceed 2^32-1. Larger values are clamped to it.
const MaxTimeout = (1<<32 - 1) * time.Second

// ParseTimeout parses a Timeout request header (RFC 4918 §10.7), a list of
// "Infinite" and "Second-N" entries in the client's order of preference, and
// returns the first one: infinite is true for "Infinite", otherwise d is N
// seconds, clamped to MaxTimeout (numbers of any length never overflow).
// Keywords are case-insensitive. Unknown entries made of token characters
// (RFC 2518 allowed extensions) and empty list elements are skipped.
//
// An empty value returns (0, false, nil): no preference. "Second-0" also
// returns a zero d; a caller treats a zero finite result as "use the default".
// A malformed "Second-" entry, a non-token entry, or a list with no usable
// entry fails with ErrBadTimeout.
func ParseTimeout(s string) (d time.Duration, infinite bool, err error) {
	if trimOWS(s) == "" {
		return 0, false, nil
	}
	for _, e := range strings.Split(s, ",") {
		e = trimOWS(e)
		switch {
		case e == "":
			continue
		case strings.EqualFold(e, "Infinite"):
			return 0, true, nil
		case len(e) >= 7 && strings.EqualFold(e[:7], "Second-"):
			n, ok := parseSeconds(e[7:])
			if !ok {
				return 0, false, fmt.Errorf("%w: %q", ErrBadTimeout, clip(e))
			}
			return n, false, nil
		case isToken(e):
			continue // an extension we do not know
		default:
			return 0, false, fmt.Errorf("%w: %q", ErrBadTimeout, clip(e))
		}
	}
	return 0, false, fmt.Errorf("%w: no usable entry in %q", ErrBadTimeout, clip(s))
}

// parseSeconds parses 1*DIGIT as a duration in seconds clamped to MaxTimeout.
func parseSeconds(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	const max = uint64(MaxTimeout / time.Second)
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n <= max {
			n = n*10 + uint64(c-'0')
		}
	}
	if n > max {
		n = max
	}
	return time.Duration(n) * time.Second, true
}

// isToken reports whether s is a non-empty HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
