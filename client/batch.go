package client

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"

	"github.com/davit-dav/davit/multistatus"
)

// Batches (Davit's extension, docs/batch.md): many operations in one
// request, answered with one 207 Multi-Status whose responses carry the id
// of the item they report on. Nothing is atomic: items run in order, and
// an item that succeeded stays done whatever happens to the later ones.

// BatchOptionsHeader carries batch options ("stop-on-error", "dry-run")
// on a batch request; WithBatchOptions sets it.
const BatchOptionsHeader = "X-Davit-Batch-Options"

// BatchItem is one operation of a Batch.
type BatchItem struct {
	// ID names the item in the answer; unique in the batch. "" takes the
	// item's 1-based position.
	ID string
	// Method is DELETE, COPY, MOVE, MKCOL, PROPPATCH, PROPFIND, LOCK or
	// UNLOCK.
	Method string
	// Path names the resource as the paths of the other calls do
	// (relative to the base URL, plain and unescaped); Destination names
	// the target of COPY and MOVE the same way.
	Path        string
	Destination string
	Overwrite   *bool  // nil: the server's default (T)
	Depth       string // "0", "1", "infinity", or "" for the method's default
	// If, IfMatch and IfNoneMatch are the headers of those names, such as
	// "(<urn:uuid:...>)" to submit a lock token.
	If, IfMatch, IfNoneMatch string
	LockToken                string // UNLOCK
	Timeout                  string // LOCK, such as "Second-600"
	// Depends lists ids of earlier items: if any of them failed, this one
	// is not run and gets 424 Failed Dependency.
	Depends []string
	// Body is the method's XML body: a DAV:propertyupdate for PROPPATCH
	// (required), a DAV:propfind for PROPFIND (nil: allprop), a
	// DAV:lockinfo for LOCK (nil: refresh the lock named in If).
	Body []byte
}

// Batch is a batch document.
type Batch struct {
	Items []BatchItem
	// StopOnError skips every item after the first that fails (they get
	// 424 Failed Dependency).
	StopOnError bool
	// DryRun reports what each item would do and changes nothing.
	DryRun bool
}

// BatchResult is one response of a batch answer. An item gives one
// result, or several (a PROPFIND with Depth 1, a DELETE of a collection
// that failed on some members).
type BatchResult struct {
	ID       string // the item's id
	Href     string // absolute URL
	Path     string // as in Resource.Path
	Response *multistatus.Response
}

// Failed reports whether the result records a failure: a status outside
// 2xx, or a propstat outside 2xx other than 404 (which, for a PROPFIND,
// only says the resource has no such property).
func (r *BatchResult) Failed() bool {
	resp := r.Response
	if resp.Status.Code != 0 {
		return resp.Status.Code < 200 || resp.Status.Code > 299
	}
	for _, ps := range resp.Propstats {
		if c := ps.Status.Code; (c < 200 || c > 299) && c != http.StatusNotFound {
			return true
		}
	}
	return false
}

// WithBatchOptions sends batch options ("stop-on-error", "dry-run") in
// the X-Davit-Batch-Options header: the only way to give them to
// BatchDelete, and an addition to a document's own.
func WithBatchOptions(options ...string) RequestOption {
	return WithHeader(BatchOptionsHeader, strings.Join(options, ", "))
}

// WithMinimal asks for Prefer: return=minimal: the answer leaves out the
// items that succeeded (and the 404 propstats of PROPFIND items).
func WithMinimal() RequestOption { return WithHeader("Prefer", "return=minimal") }

type jsonBatchItem struct {
	ID          string   `json:"id,omitempty"`
	Method      string   `json:"method"`
	Href        string   `json:"href"`
	Destination string   `json:"destination,omitempty"`
	Overwrite   *bool    `json:"overwrite,omitempty"`
	Depth       string   `json:"depth,omitempty"`
	If          string   `json:"if,omitempty"`
	IfMatch     string   `json:"if-match,omitempty"`
	IfNoneMatch string   `json:"if-none-match,omitempty"`
	LockToken   string   `json:"lock-token,omitempty"`
	Timeout     string   `json:"timeout,omitempty"`
	Depends     []string `json:"depends,omitempty"`
	Body        string   `json:"body,omitempty"`
}

// Batch sends b to the collection at p as a JSON batch document and
// streams the answer's responses, in item order. The request is sent when
// the iteration starts. A batch the server refuses as a whole (400 for a
// malformed document, 413 over the limits, 401) yields one *StatusError;
// the items' own failures are results (see BatchResult.Failed), not
// errors.
func (c *Client) Batch(ctx context.Context, p string, b *Batch, opts ...RequestOption) iter.Seq2[*BatchResult, error] {
	doc := struct {
		StopOnError bool            `json:"stop-on-error,omitempty"`
		DryRun      bool            `json:"dry-run,omitempty"`
		Items       []jsonBatchItem `json:"items"`
	}{StopOnError: b.StopOnError, DryRun: b.DryRun, Items: make([]jsonBatchItem, len(b.Items))}
	for i, it := range b.Items {
		j := jsonBatchItem{
			ID: it.ID, Method: it.Method, Href: c.Resolve(it.Path).EscapedPath(), Overwrite: it.Overwrite,
			Depth: it.Depth, If: it.If, IfMatch: it.IfMatch, IfNoneMatch: it.IfNoneMatch,
			LockToken: it.LockToken, Timeout: it.Timeout, Depends: it.Depends, Body: string(it.Body),
		}
		if it.Destination != "" {
			j.Destination = c.Resolve(it.Destination).EscapedPath()
		}
		doc.Items[i] = j
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return func(yield func(*BatchResult, error) bool) { yield(nil, fmt.Errorf("client: batch: %w", err)) }
	}
	return c.SendBatch(ctx, p, bytes.NewReader(body), "application/json", opts...)
}

// SendBatch sends a batch document as it is (XML in urn:davit:batch, or
// JSON; contentType says which) with POST to the collection (or batch
// endpoint) at p, and streams the answer like Batch.
func (c *Client) SendBatch(ctx context.Context, p string, doc io.Reader, contentType string, opts ...RequestOption) iter.Seq2[*BatchResult, error] {
	return func(yield func(*BatchResult, error) bool) {
		cfg := buildConfig(opts)
		cfg.header.Set("Content-Type", contentType)
		c.batchAnswer(ctx, http.MethodPost, p, doc, cfg, yield)
	}
}

// BatchDelete deletes the resources at paths with one BDELETE on the
// collection at p (paths are resolved like any path of the client, not
// against p) and streams one result per path, with the ids "1", "2", ...
// in order.
func (c *Client) BatchDelete(ctx context.Context, p string, paths []string, opts ...RequestOption) iter.Seq2[*BatchResult, error] {
	return func(yield func(*BatchResult, error) bool) {
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:delete xmlns:D="DAV:"><D:target>`)
		for _, q := range paths {
			b.WriteString("<D:href>")
			xml.EscapeText(&b, []byte(c.Resolve(q).EscapedPath()))
			b.WriteString("</D:href>")
		}
		b.WriteString("</D:target></D:delete>")
		cfg := buildConfig(opts)
		cfg.header.Set("Content-Type", `application/xml; charset="utf-8"`)
		c.batchAnswer(ctx, "BDELETE", p, &b, cfg, yield)
	}
}

func (c *Client) batchAnswer(ctx context.Context, method, p string, body io.Reader, cfg *reqConfig, yield func(*BatchResult, error) bool) {
	u := c.Resolve(p)
	cfg.header.Del("Accept") // the XML answer
	resp, err := c.send(ctx, method, u, body, cfg)
	if err != nil {
		yield(nil, err)
		return
	}
	defer resp.Body.Close()
	for r, err := range c.multiStatus(resp, method, u, " (does the server take batches?)") {
		if err != nil {
			yield(nil, err)
			return
		}
		abs, path := c.resolveHref(r.Hrefs[0])
		if !yield(&BatchResult{ID: r.ID, Href: abs, Path: path, Response: r}, nil) {
			return
		}
	}
}
