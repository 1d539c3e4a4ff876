package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// DefaultUserAgent is the User-Agent sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "davit-client/1"

// Client talks WebDAV to one server, below one base URL. It is safe for
// concurrent use.
type Client struct {
	base    *url.URL // scheme, host and path, no user info, query or fragment
	dir     string   // escaped path of base, ending in "/"
	dirPath string   // unescaped path of base, ending in "/"
	hc      *http.Client
	user    string
	pass    string
	auth    bool
	ua      string
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc (for
// timeouts, TLS settings, proxies or a test transport). The default is a
// plain http.Client without a timeout, so long transfers are limited only by
// the contexts given to each call.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithBasicAuth sends HTTP Basic credentials with every request. It takes
// precedence over credentials written in the base URL.
func WithBasicAuth(user, pass string) Option {
	return func(c *Client) { c.user, c.pass, c.auth = user, pass, true }
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.ua = ua }
}

// New returns a Client for the WebDAV server at baseURL, an http or https
// URL. Credentials in the URL ("http://user:pass@host/dav/") are used for
// Basic authentication and removed from it, so they never appear in errors.
// The base URL's path is a collection: relative paths given to the calls are
// resolved below it, whether or not it ends in "/".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("client: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("client: base URL %q: scheme must be http or https", u.Redacted())
	}
	if u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q has no host", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("client: base URL %q: a query or fragment is not allowed", u.Redacted())
	}
	c := &Client{hc: &http.Client{}, ua: DefaultUserAgent}
	if u.User != nil {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
		c.auth = true
		u.User = nil
	}
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	c.base = u
	c.dir = u.EscapedPath()
	c.dirPath = u.Path
	if !strings.HasSuffix(c.dir, "/") {
		c.dir += "/"
		c.dirPath += "/"
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL returns a copy of the base URL (without credentials).
func (c *Client) BaseURL() *url.URL {
	u := *c.base
	return &u
}

// URL returns the absolute URL of path p (see Resolve).
func (c *Client) URL(p string) string { return c.Resolve(p).String() }

// Resolve returns the URL that path p names. p is a plain, unescaped path:
// the client percent-encodes it (spaces, '#', '?', '%' and non-ASCII
// characters included). An empty p is the base URL itself, a relative p
// ("docs/a b.txt") is resolved below the base URL's path, and a p starting
// with "/" is a path on the server, independent of the base. A trailing "/"
// is kept.
func (c *Client) Resolve(p string) *url.URL {
	u := *c.base
	switch {
	case p == "":
		return &u
	case strings.HasPrefix(p, "/"):
		u.RawPath = multistatus.PathHref(p, false)
	default:
		u.RawPath = c.dir + multistatus.PathHref(p, false)
	}
	// RawPath holds only unreserved characters, sub-delimiters, ':', '@',
	// '/' and escapes, so it always unescapes.
	u.Path, _ = url.PathUnescape(u.RawPath)
	return &u
}

// resolveHref turns an href from an answer into an absolute URL and the
// path that names it for this client (see Resource.Path).
func (c *Client) resolveHref(href string) (abs, p string) {
	u, err := c.base.Parse(multistatus.EncodeHref(href))
	if err != nil {
		return href, href
	}
	u.User = nil
	abs = u.String()
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) {
		return abs, u.Path
	}
	switch {
	case u.Path == c.dirPath || u.Path == c.base.Path:
		return abs, ""
	case strings.HasPrefix(u.Path, c.dirPath):
		return abs, u.Path[len(c.dirPath):]
	}
	return abs, u.Path
}

// NewRequest returns a request for method on path p (see Resolve) with the
// client's headers and the request options applied. Use it with Do for
// methods the Client has no call for.
func (c *Client) NewRequest(ctx context.Context, method, p string, body io.Reader, opts ...RequestOption) (*http.Request, error) {
	return c.newRequest(ctx, method, c.Resolve(p), body, buildConfig(opts))
}

func (c *Client) newRequest(ctx context.Context, method string, u *url.URL, body io.Reader, cfg *reqConfig) (*http.Request, error) {
	if ctx == nil {
		return nil, errors.New("client: nil context")
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, u, err)
	}
	setBody(req, body, cfg.contentLength)
	cfg.apply(req)
	return req, nil
}

// setBody attaches body to req without letting the transport close the
// caller's reader, with its length when it is known.
func setBody(req *http.Request, body io.Reader, n int64) {
	if body == nil {
		return
	}
	if body == http.NoBody {
		n = 0
	} else if n < 0 {
		n = knownLength(body)
	}
	if n == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
		return
	}
	req.Body = io.NopCloser(body)
	req.ContentLength = n // -1: unknown, sent chunked
}

// knownLength returns the number of bytes left in r, or -1 when that cannot
// be known without reading.
func knownLength(r io.Reader) int64 {
	switch v := r.(type) {
	case *bytes.Buffer:
		return int64(v.Len())
	case *bytes.Reader:
		return int64(v.Len())
	case *strings.Reader:
		return int64(v.Len())
	}
	if f, ok := r.(statSeeker); ok {
		fi, err := f.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil || off > fi.Size() {
			return -1
		}
		return fi.Size() - off
	}
	return -1
}

// statSeeker is what an *os.File offers to know its remaining length.
type statSeeker interface {
	Stat() (fs.FileInfo, error)
	Seek(offset int64, whence int) (int64, error)
}

// Do sends req with the client's credentials and User-Agent. The caller
// must close the response body. Unlike the other calls, Do does not turn
// error statuses into errors.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if c.auth && req.Header.Get("Authorization") == "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	if req.Header.Get("User-Agent") == "" && c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// net/http's error holds the URL, which never has credentials:
		// they travel in the header.
		return nil, fmt.Errorf("client: %w", err)
	}
	return resp, nil
}

// send builds and sends a request, the common path of every call.
func (c *Client) send(ctx context.Context, method string, u *url.URL, body io.Reader, cfg *reqConfig) (*http.Response, error) {
	req, err := c.newRequest(ctx, method, u, body, cfg)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

// drain reads a little of what is left of a body so the connection can be
// reused, then closes it.
func drain(rc io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
	rc.Close()
}

// finish handles the answer of a call that has no result body: 2xx other
// than 207 is success, 207 is checked for failed resources (MultiError),
// anything else is an error. It always closes the body.
func (c *Client) finish(resp *http.Response) error {
	defer drain(resp.Body)
	if resp.StatusCode == http.StatusMultiStatus {
		return c.multiStatusError(resp)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return c.errorFrom(resp)
}
