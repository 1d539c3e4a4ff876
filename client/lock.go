package client

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/davit-dav/davit/multistatus"
)

// InfiniteTimeout asks for, or reports, a lock that does not time out
// ("Timeout: Infinite").
const InfiniteTimeout time.Duration = -1

// LockRequest describes a new lock (RFC 4918 §9.10).
type LockRequest struct {
	// Shared asks for a shared lock; the default is exclusive.
	Shared bool
	// Depth is Depth0 (the zero value: the resource alone) or
	// DepthInfinity (a collection and all its members).
	Depth Depth
	// Timeout is the requested lifetime: 0 leaves it to the server,
	// InfiniteTimeout asks for no timeout. Servers may grant another.
	Timeout time.Duration
	// Owner is a text identifying the lock's owner, sent as DAV:owner.
	Owner string
	// OwnerXML, when set, is sent as the DAV:owner content instead of
	// Owner: raw XML in the form of multistatus.Property.Inner, such as
	// `<D:href>mailto:me@example.com</D:href>`.
	OwnerXML []byte
}

// ActiveLock is one lock on a resource, as DAV:lockdiscovery reports it
// (RFC 4918 §14.1).
type ActiveLock struct {
	Token   string // the lock token URI, without angle brackets
	Root    string // DAV:lockroot, resolved to an absolute URL; "" when absent
	Shared  bool
	Depth   Depth
	Timeout time.Duration // InfiniteTimeout, or 0 when the server sent none
	// Owner is the DAV:owner content: its text, or raw XML when it has
	// elements.
	Owner string
}

// Lock is the lock a Lock or RefreshLock call created or refreshed, with
// all the locks of the resource the server reported (DAV:lockdiscovery).
type Lock struct {
	ActiveLock
	Discovery []ActiveLock
}

func timeoutHeader(d time.Duration) string {
	if d < 0 {
		return "Infinite"
	}
	secs := int64((d + time.Second - 1) / time.Second)
	return "Second-" + strconv.FormatInt(secs, 10)
}

func lockInfo(req LockRequest) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:lockinfo xmlns:D="DAV:"><D:lockscope>`)
	if req.Shared {
		b.WriteString("<D:shared/>")
	} else {
		b.WriteString("<D:exclusive/>")
	}
	b.WriteString("</D:lockscope><D:locktype><D:write/></D:locktype>")
	switch {
	case req.OwnerXML != nil:
		if err := checkValue(req.OwnerXML); err != nil {
			return nil, fmt.Errorf("owner: %w", err)
		}
		b.WriteString("<D:owner>")
		b.Write(req.OwnerXML)
		b.WriteString("</D:owner>")
	case req.Owner != "":
		b.WriteString("<D:owner>")
		xml.EscapeText(&b, []byte(req.Owner))
		b.WriteString("</D:owner>")
	}
	b.WriteString("</D:lockinfo>\n")
	return b.Bytes(), nil
}

// Lock takes a write lock on the resource at p (RFC 4918 §9.10). Locking a
// path that does not exist creates an empty resource there. The lock token
// must then be given (WithLockToken) to change the resource, and to Unlock
// it. A lock that conflicts with another gives a *StatusError matching
// ErrLocked, or, for a collection whose member is locked, a *MultiError
// naming the locked member.
func (c *Client) Lock(ctx context.Context, p string, req LockRequest, opts ...RequestOption) (*Lock, error) {
	u := c.Resolve(p)
	body, err := lockInfo(req)
	if err != nil {
		return nil, fmt.Errorf("client: LOCK %s: %w", u, err)
	}
	cfg := buildConfig(opts)
	cfg.header.Set("Content-Type", `application/xml; charset="utf-8"`)
	if req.Depth == Depth0 {
		cfg.header.Set("Depth", "0")
	} else {
		cfg.header.Set("Depth", "infinity")
	}
	if req.Timeout != 0 {
		cfg.header.Set("Timeout", timeoutHeader(req.Timeout))
	}
	resp, err := c.send(ctx, "LOCK", u, bytes.NewReader(body), cfg)
	if err != nil {
		return nil, err
	}
	return c.lockAnswer(resp, "")
}

// RefreshLock renews the lock token on the resource at p with a new
// timeout (0 leaves it to the server), as a LOCK without a body (RFC 4918
// §9.10.2).
func (c *Client) RefreshLock(ctx context.Context, p, token string, timeout time.Duration, opts ...RequestOption) (*Lock, error) {
	cfg := buildConfig(append(opts[:len(opts):len(opts)], WithLockToken(token)))
	if timeout != 0 {
		cfg.header.Set("Timeout", timeoutHeader(timeout))
	}
	resp, err := c.send(ctx, "LOCK", c.Resolve(p), nil, cfg)
	if err != nil {
		return nil, err
	}
	return c.lockAnswer(resp, trimToken(token))
}

// Unlock removes the lock token from the resource at p (RFC 4918 §9.11).
func (c *Client) Unlock(ctx context.Context, p, token string, opts ...RequestOption) error {
	cfg := buildConfig(opts)
	cfg.header.Set("Lock-Token", "<"+trimToken(token)+">")
	resp, err := c.send(ctx, "UNLOCK", c.Resolve(p), nil, cfg)
	if err != nil {
		return err
	}
	return c.finish(resp)
}

// lockAnswer reads the answer to a LOCK. token is the refreshed token, ""
// for a new lock (whose token is in the Lock-Token header).
func (c *Client) lockAnswer(resp *http.Response, token string) (*Lock, error) {
	defer drain(resp.Body)
	req := resp.Request
	if resp.StatusCode == http.StatusMultiStatus {
		if err := c.multiStatusError(resp); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("client: LOCK %s: Multi-Status answer without a failure", req.URL)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, c.errorFrom(resp)
	}
	if token == "" {
		token = trimToken(resp.Header.Get("Lock-Token"))
	}
	var prop struct {
		Active []xmlActiveLock `xml:"DAV: lockdiscovery>activelock"`
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("client: LOCK %s: %w", req.URL, err)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := xml.Unmarshal(body, &prop); err != nil {
			return nil, fmt.Errorf("client: LOCK %s: reading the answer: %w", req.URL, err)
		}
	}
	l := &Lock{}
	for _, a := range prop.Active {
		al := c.activeLock(a)
		l.Discovery = append(l.Discovery, al)
		if al.Token == token || (token == "" && len(prop.Active) == 1) {
			l.ActiveLock = al
		}
	}
	if token != "" {
		l.Token = token
	}
	if l.Token == "" {
		return nil, fmt.Errorf("client: LOCK %s: no lock token in the answer", req.URL)
	}
	return l, nil
}

type xmlActiveLock struct {
	Exclusive *struct{} `xml:"DAV: lockscope>exclusive"`
	Shared    *struct{} `xml:"DAV: lockscope>shared"`
	Depth     string    `xml:"DAV: depth"`
	Owner     *xmlInner `xml:"DAV: owner"`
	Timeout   string    `xml:"DAV: timeout"`
	Token     []string  `xml:"DAV: locktoken>href"`
	Root      string    `xml:"DAV: lockroot>href"`
}

// xmlInner captures an element's content in the form of Property.Inner.
type xmlInner struct{ multistatus.Property }

// UnmarshalXML reads the element with multistatus.ReadInner.
func (x *xmlInner) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	inner, lang, err := multistatus.ReadInner(d, start, 32)
	x.Name, x.Inner, x.Lang = start.Name, inner, lang
	return err
}

func (c *Client) activeLock(a xmlActiveLock) ActiveLock {
	al := ActiveLock{Shared: a.Shared != nil && a.Exclusive == nil}
	if len(a.Token) > 0 {
		al.Token = strings.TrimSpace(a.Token[0])
	}
	if r := strings.TrimSpace(a.Root); r != "" {
		al.Root, _ = c.resolveHref(r)
	}
	al.Depth, _ = ParseDepth(a.Depth)
	al.Timeout = parseTimeout(a.Timeout)
	if a.Owner != nil {
		al.Owner = strings.TrimSpace(a.Owner.JSONValue())
	}
	return al
}

// parseTimeout reads a DAV:timeout value: "Second-N" or "Infinite".
func parseTimeout(s string) time.Duration {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "Infinite") {
		return InfiniteTimeout
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "Second-") {
		if n, err := strconv.ParseInt(s[7:], 10, 64); err == nil && n >= 0 && n < 1<<33 {
			return time.Duration(n) * time.Second
		}
	}
	return 0
}
