package header

import "fmt"

// ParseOverwrite parses an Overwrite header value (RFC 4918 §10.6): "T"
// returns true, "F" false (case-insensitive, as ABNF literals are, and
// surrounding white space ignored). An empty value means the header is
// absent, which RFC 4918 says must be treated as "T". Anything else fails
// with ErrBadOverwrite.
func ParseOverwrite(s string) (bool, error) {
	switch trimOWS(s) {
	case "", "T", "t":
		return true, nil
	case "F", "f":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q", ErrBadOverwrite, clip(s))
}
