package header

import "errors"

// Sentinel errors. Every error returned by this package matches exactly one of
// them with errors.Is; the wrapped message says what was wrong.
var (
	// ErrBadDepth: a Depth header other than 0, 1, infinity or the
	// Windows ",noroot" forms (RFC 4918 §10.2). 400.
	ErrBadDepth = errors.New("header: bad Depth")
	// ErrBadOverwrite: an Overwrite header other than T or F (RFC 4918 §10.6). 400.
	ErrBadOverwrite = errors.New("header: bad Overwrite")
	// ErrBadTimeout: a Timeout header with no usable entry (RFC 4918 §10.7). 400.
	ErrBadTimeout = errors.New("header: bad Timeout")
	// ErrBadDestination: a malformed Destination (RFC 4918 §10.3): not an
	// absolute URI or absolute path, a bad percent escape, an encoded slash,
	// NUL, a query or fragment, or dot-segments that climb above the prefix. 400.
	ErrBadDestination = errors.New("header: bad Destination")
	// ErrBadPath: a Request-URI path that breaks the same rules as
	// ErrBadDestination (returned by CleanPath). 400.
	ErrBadPath = errors.New("header: bad request path")
	// ErrOutsidePrefix: a well-formed path that does not lie under the mount
	// prefix. For a Destination the server answers 502 Bad Gateway
	// (RFC 4918 §9.8.5, §9.9.4); for a Request-URI, 404.
	ErrOutsidePrefix = errors.New("header: path outside the mount prefix")
	// ErrBadIf: an If header that does not follow the grammar of RFC 4918
	// §10.4.2, including a mix of tagged and untagged lists. 400.
	ErrBadIf = errors.New("header: bad If")
	// ErrTooComplex: an If header over MaxIfLength bytes, MaxIfLists lists or
	// MaxIfConditions conditions in one list. 400.
	ErrTooComplex = errors.New("header: If header too complex")
	// ErrBadLockToken: a Lock-Token header that is not a Coded-URL
	// (RFC 4918 §10.5), such as a token without its angle brackets. 400.
	ErrBadLockToken = errors.New("header: bad Lock-Token")
	// ErrBadMtime: an X-OC-Mtime header that is not a Unix time in seconds. 400.
	ErrBadMtime = errors.New("header: bad X-OC-Mtime")
)
