package client

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Capabilities is the answer to OPTIONS: the DAV compliance classes
// (RFC 4918 §10.1, §18) and the allowed methods.
type Capabilities struct {
	Classes []string // "1", "2", "3", "<http://apache.org/dav/propset/fs/1>", ...
	Methods []string // from Allow, upper case
	Header  http.Header
}

// HasClass reports whether the server announced the compliance class
// ("1", "2", "3", or an extension).
func (c *Capabilities) HasClass(class string) bool {
	for _, v := range c.Classes {
		if v == class {
			return true
		}
	}
	return false
}

// Allows reports whether Allow lists the method.
func (c *Capabilities) Allows(method string) bool {
	for _, m := range c.Methods {
		if strings.EqualFold(m, method) {
			return true
		}
	}
	return false
}

func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// Options asks what the server supports at p (OPTIONS).
func (c *Client) Options(ctx context.Context, p string, opts ...RequestOption) (*Capabilities, error) {
	resp, err := c.send(ctx, http.MethodOptions, c.Resolve(p), nil, buildConfig(opts))
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.errorFrom(resp)
	}
	caps := &Capabilities{Classes: splitList(resp.Header.Values("DAV")), Header: resp.Header}
	for _, m := range splitList(resp.Header.Values("Allow")) {
		caps.Methods = append(caps.Methods, strings.ToUpper(m))
	}
	return caps, nil
}

// Mkcol creates the collection p (MKCOL, RFC 4918 §9.3). Its parent must
// exist (else 409 Conflict); an existing resource gives 405 Method Not
// Allowed (ErrMethodNotAllowed).
func (c *Client) Mkcol(ctx context.Context, p string, opts ...RequestOption) error {
	resp, err := c.send(ctx, "MKCOL", c.Resolve(p), nil, buildConfig(opts))
	if err != nil {
		return err
	}
	return c.finish(resp)
}

// Delete removes the resource at p; a collection goes with all its members
// (RFC 4918 §9.6). When some members could not be removed the error is a
// *MultiError listing them.
func (c *Client) Delete(ctx context.Context, p string, opts ...RequestOption) error {
	resp, err := c.send(ctx, http.MethodDelete, c.Resolve(p), nil, buildConfig(opts))
	if err != nil {
		return err
	}
	return c.finish(resp)
}

// Copy copies the resource at src to dst, both paths of this server (RFC
// 4918 §9.8). created is true when dst did not exist before (201). Use
// WithOverwrite(false) to fail when dst exists, and WithDepth(Depth0) to
// copy a collection without its members. Failures on members give a
// *MultiError.
func (c *Client) Copy(ctx context.Context, src, dst string, opts ...RequestOption) (created bool, err error) {
	return c.copyMove(ctx, "COPY", src, dst, opts)
}

// Move moves the resource at src to dst, both paths of this server (RFC
// 4918 §9.9), with the same results and options as Copy (except Depth,
// which is always infinity).
func (c *Client) Move(ctx context.Context, src, dst string, opts ...RequestOption) (created bool, err error) {
	return c.copyMove(ctx, "MOVE", src, dst, opts)
}

func (c *Client) copyMove(ctx context.Context, method, src, dst string, opts []RequestOption) (bool, error) {
	cfg := buildConfig(opts)
	cfg.header.Set("Destination", c.URL(dst))
	if cfg.depth != nil && method == "COPY" {
		cfg.header.Set("Depth", cfg.depth.String())
	}
	resp, err := c.send(ctx, method, c.Resolve(src), nil, cfg)
	if err != nil {
		return false, err
	}
	created := resp.StatusCode == http.StatusCreated
	return created, c.finish(resp)
}

// Download is the answer to Get: the content, to be read and closed, with
// what the headers say about it.
type Download struct {
	io.ReadCloser
	StatusCode    int   // 200, or 206 for a range
	ContentLength int64 // -1 when unknown
	ContentType   string
	ETag          string
	LastModified  time.Time
	// Partial reports a 206 answer. When a range was asked and Partial is
	// false, the server sent the whole content.
	Partial bool
	// RangeStart is the offset of the first byte of a partial answer.
	RangeStart int64
	Header     http.Header
}

// Get streams the content of the resource at p. The caller must close the
// Download. WithRange asks for part of it.
func (c *Client) Get(ctx context.Context, p string, opts ...RequestOption) (*Download, error) {
	resp, err := c.send(ctx, http.MethodGet, c.Resolve(p), nil, buildConfig(opts))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		defer drain(resp.Body)
		return nil, c.errorFrom(resp)
	}
	d := &Download{
		ReadCloser:    resp.Body,
		StatusCode:    resp.StatusCode,
		ContentLength: resp.ContentLength,
		ContentType:   resp.Header.Get("Content-Type"),
		ETag:          resp.Header.Get("ETag"),
		Partial:       resp.StatusCode == http.StatusPartialContent,
		Header:        resp.Header,
	}
	d.LastModified, _ = http.ParseTime(resp.Header.Get("Last-Modified"))
	if d.Partial {
		// Content-Range: bytes 10-19/100
		cr := strings.TrimPrefix(resp.Header.Get("Content-Range"), "bytes ")
		if i := strings.IndexByte(cr, '-'); i > 0 {
			d.RangeStart, _ = strconv.ParseInt(strings.TrimSpace(cr[:i]), 10, 64)
		}
	}
	return d, nil
}

// PutResult is what a Put reports.
type PutResult struct {
	Created bool   // the resource did not exist before (201)
	ETag    string // the new ETag, when the server sent one
}

// Put stores the content read from body at p (PUT), streamed: nothing is
// held in memory. The length is sent when known (see WithContentLength),
// else the body goes chunked. A resource locked by someone else gives a
// *StatusError matching ErrLocked: pass the token with WithLockToken.
func (c *Client) Put(ctx context.Context, p string, body io.Reader, opts ...RequestOption) (*PutResult, error) {
	if body == nil {
		body = http.NoBody
	}
	u := c.Resolve(p)
	cfg := buildConfig(opts)
	resp, err := c.send(ctx, http.MethodPut, u, body, cfg)
	if err != nil {
		return nil, err
	}
	res := &PutResult{Created: resp.StatusCode == http.StatusCreated, ETag: resp.Header.Get("ETag")}
	if err := c.finish(resp); err != nil {
		return nil, err
	}
	return res, nil
}
