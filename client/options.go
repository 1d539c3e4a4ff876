package client

import (
	"net/http"
	"strconv"
	"strings"
)

// Depth is the value of a Depth header (RFC 4918 §10.2).
type Depth int

// The Depth values.
const (
	// Depth0 is the resource alone.
	Depth0 Depth = 0
	// Depth1 is the resource and its immediate members (PROPFIND only).
	Depth1 Depth = 1
	// DepthInfinity is the resource and all its members, at any depth.
	DepthInfinity Depth = -1
)

// String returns the header form of d: "0", "1" or "infinity".
func (d Depth) String() string {
	switch d {
	case Depth0:
		return "0"
	case Depth1:
		return "1"
	}
	return "infinity"
}

// ParseDepth parses "0", "1" or "infinity" (case-insensitive).
func ParseDepth(s string) (Depth, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "0":
		return Depth0, true
	case "1":
		return Depth1, true
	case "infinity", "inf":
		return DepthInfinity, true
	}
	return 0, false
}

// RequestOption adds something to one request: a header, a lock token, a
// condition. Options that do not apply to a call are ignored by it.
type RequestOption func(*reqConfig)

type ifCondition struct {
	tag   string // resource URL, "" for the request URL
	token string
}

type reqConfig struct {
	header        http.Header
	conds         []ifCondition
	overwrite     *bool
	depth         *Depth
	rangeSet      bool
	rangeOff      int64
	rangeLen      int64
	contentLength int64
}

func buildConfig(opts []RequestOption) *reqConfig {
	cfg := &reqConfig{header: http.Header{}, contentLength: -1}
	for _, o := range opts {
		if o != nil {
			o(cfg)
		}
	}
	return cfg
}

// apply sets the headers the options asked for.
func (cfg *reqConfig) apply(req *http.Request) {
	for k, vs := range cfg.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if len(cfg.conds) > 0 {
		req.Header.Set("If", ifHeader(cfg.conds, req.URL.String()))
	}
	if cfg.overwrite != nil {
		if *cfg.overwrite {
			req.Header.Set("Overwrite", "T")
		} else {
			req.Header.Set("Overwrite", "F")
		}
	}
	if cfg.rangeSet {
		r := "bytes=" + strconv.FormatInt(cfg.rangeOff, 10) + "-"
		if cfg.rangeLen > 0 {
			r += strconv.FormatInt(cfg.rangeOff+cfg.rangeLen-1, 10)
		}
		req.Header.Set("Range", r)
	}
}

// ifHeader writes an If header (RFC 4918 §10.4) submitting the lock tokens:
// an untagged list when every token is for the request URL, otherwise a
// tagged list, with the request URL as the tag of untagged tokens. Each token
// is its own list, so the condition holds when any of them matches.
func ifHeader(conds []ifCondition, reqURL string) string {
	tagged := false
	for _, c := range conds {
		if c.tag != "" {
			tagged = true
		}
	}
	var sb strings.Builder
	for i, c := range conds {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if tagged {
			tag := c.tag
			if tag == "" {
				tag = reqURL
			}
			sb.WriteString("<" + tag + "> ")
		}
		sb.WriteString("(<" + c.token + ">)")
	}
	return sb.String()
}

// WithHeader adds a header to the request.
func WithHeader(name, value string) RequestOption {
	return func(cfg *reqConfig) { cfg.header.Add(name, value) }
}

// WithLockToken submits lock tokens in an If header (RFC 4918 §10.4), as a
// write to a locked resource requires: Put, Delete, PropPatch, Mkcol, Move,
// Copy onto a locked destination, and Lock refreshes. The tokens apply to
// the request URL (an untagged list), which also covers an existing
// resource locked through a depth-infinity lock on one of its parents. To
// create a new member in a locked collection, submit the token for the
// collection with WithLockTokenFor instead: the new resource itself is not
// locked, so servers (Apache among them) find no lock on it that the token
// matches and answer 412.
func WithLockToken(tokens ...string) RequestOption {
	return func(cfg *reqConfig) {
		for _, t := range tokens {
			if t = trimToken(t); t != "" {
				cfg.conds = append(cfg.conds, ifCondition{token: t})
			}
		}
	}
}

// WithLockTokenFor submits a lock token for another resource than the
// request URL, as a tagged list: the destination of a Move or Copy, for
// example. absURL is an absolute URL; Client.URL makes one from a path.
func WithLockTokenFor(absURL, token string) RequestOption {
	return func(cfg *reqConfig) {
		if t := trimToken(token); t != "" {
			cfg.conds = append(cfg.conds, ifCondition{tag: absURL, token: t})
		}
	}
}

// trimToken removes the angle brackets of a Lock-Token header value.
func trimToken(t string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(t), "<"), ">")
}

// WithIfMatch makes the request conditional on the resource's ETag
// (If-Match); etag is the value as the server sent it, quotes included.
func WithIfMatch(etag string) RequestOption { return WithHeader("If-Match", etag) }

// WithIfNoneMatch sets If-None-Match; "*" makes a Put fail when the
// resource exists.
func WithIfNoneMatch(etag string) RequestOption { return WithHeader("If-None-Match", etag) }

// WithOverwrite sets the Overwrite header of Copy and Move (RFC 4918
// §10.6). Without it the server overwrites (the default "T"); false makes
// the call fail with 412 Precondition Failed when the destination exists.
func WithOverwrite(overwrite bool) RequestOption {
	return func(cfg *reqConfig) { cfg.overwrite = &overwrite }
}

// WithDepth sets the Depth of a Copy (Depth0 copies a collection without
// its members). Move and Delete always act at infinite depth.
func WithDepth(d Depth) RequestOption {
	return func(cfg *reqConfig) { cfg.depth = &d }
}

// WithRange asks Get for length bytes from offset (length <= 0: to the end).
func WithRange(offset, length int64) RequestOption {
	return func(cfg *reqConfig) { cfg.rangeSet, cfg.rangeOff, cfg.rangeLen = true, offset, length }
}

// WithContentType sets the Content-Type of a Put.
func WithContentType(ct string) RequestOption { return WithHeader("Content-Type", ct) }

// WithContentLength gives the length of a Put's body when the reader does
// not tell it (bytes.Reader, strings.Reader, bytes.Buffer and regular files
// do). Without a known length the body is sent chunked.
func WithContentLength(n int64) RequestOption {
	return func(cfg *reqConfig) { cfg.contentLength = n }
}
