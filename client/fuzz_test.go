package client_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/davit-dav/davit/client"
)

// answer is a RoundTripper that gives every request the same answer,
// built from fuzzed parts, without any connection.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: a.status, Status: strconv.Itoa(a.status) + " " + http.StatusText(a.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: a.header.Clone(), Body: io.NopCloser(bytes.NewReader(a.body)), ContentLength: -1, Request: r,
	}, nil
}

var fuzzContentTypes = []string{"application/xml; charset=utf-8", "text/xml", "application/json", "", "text/plain", "application/problem+xml"}

// FuzzAnswers gives every method of the client the same answer (any status,
// any body, a Lock-Token and a Content-Type) and checks that it copes: no
// panic, and a result or an error, never neither.
func FuzzAnswers(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.xml")
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint16(207), uint8(0), "", b)
	}
	for _, s := range []struct {
		status    uint16
		lockToken string
		body      string
	}{
		{200, "<opaquelocktoken:a>", `<?xml version="1.0"?><D:prop xmlns:D="DAV:"><D:lockdiscovery><D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:exclusive/></D:lockscope><D:depth>infinity</D:depth><D:owner><a xmlns="urn:o">me</a></D:owner><D:timeout>Second-99999999999999</D:timeout><D:locktoken><D:href>opaquelocktoken:a</D:href></D:locktoken><D:lockroot><D:href>http://[::1/x</D:href></D:lockroot></D:activelock></D:lockdiscovery></D:prop>`},
		{423, "", `<D:error xmlns:D="DAV:"><D:lock-token-submitted><D:href>/a</D:href></D:lock-token-submitted><x xmlns="urn:x"/></D:error>`},
		{207, "", `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:status>HTTP/1.1 102 Processing</D:status></D:response><D:response><D:href>%zz</D:href><D:propstat><D:prop><D:getcontentlength>-5</D:getcontentlength><D:getlastmodified>never</D:getlastmodified><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 999 Odd</D:status></D:propstat></D:response></D:multistatus>`},
		{100, "", ``},
		{204, "", ``},
		{599, "", `<D:multistatus xmlns:D="DAV:"><D:response>`},
		{201, "<>", `not xml`},
	} {
		f.Add(s.status, uint8(0), s.lockToken, []byte(s.body))
		f.Add(s.status, uint8(2), s.lockToken, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status uint16, ctype uint8, lockToken string, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + status%900
		}
		h := http.Header{}
		if ct := fuzzContentTypes[int(ctype)%len(fuzzContentTypes)]; ct != "" {
			h.Set("Content-Type", ct)
		}
		if lockToken != "" && !strings.ContainsAny(lockToken, "\r\n") {
			h.Set("Lock-Token", lockToken)
		}
		h.Set("DAV", "1, 2")
		h.Set("ETag", `"e"`)
		c, err := client.New("http://dav.invalid/base/", client.WithHTTPClient(&http.Client{Transport: answer{int(status), h, body}}))
		if err != nil {
			t.Fatal(err)
		}
		exercise(t, c)
	})
}

// exercise calls each method once and checks that it ends with a result
// or an error.
func exercise(t *testing.T, c *client.Client) {
	ctx := context.Background()
	one := func(name string, ok bool, err error) {
		t.Helper()
		if !ok && err == nil {
			t.Fatalf("%s: no result and no error", name)
		}
	}
	l, err := c.Lock(ctx, "a", client.LockRequest{Owner: "me"})
	one("Lock", l != nil, err)
	l, err = c.RefreshLock(ctx, "a", "opaquelocktoken:a", 0)
	one("RefreshLock", l != nil, err)
	_ = c.Unlock(ctx, "a", "opaquelocktoken:a")
	caps, err := c.Options(ctx, "")
	one("Options", caps != nil, err)
	_ = c.Mkcol(ctx, "d/")
	_ = c.Delete(ctx, "a")
	_, _ = c.Copy(ctx, "a", "b")
	_, _ = c.Move(ctx, "a", "b")
	d, err := c.Get(ctx, "a")
	one("Get", d != nil, err)
	if d != nil {
		io.Copy(io.Discard, d)
		d.Close()
	}
	p, err := c.Put(ctx, "a", strings.NewReader("x"))
	one("Put", p != nil, err)
	r, err := c.Stat(ctx, "a")
	one("Stat", r != nil, err)
	for res, err := range c.ReadDir(ctx, "d/") {
		one("ReadDir", res != nil, err)
	}
	for res, err := range c.PropFind(ctx, "d/", client.DepthInfinity, client.AllProp(client.DAVName("lockdiscovery"))) {
		one("PropFind", res != nil, err)
	}
	_, _ = c.PropPatch(ctx, "a", []client.PropUpdate{{Name: xml.Name{Space: "urn:x", Local: "a"}, Value: []byte("v")}, {Name: client.DAVName("displayname"), Remove: true}})
	for res, err := range c.BatchDelete(ctx, "d/", []string{"a", "b"}) {
		one("BatchDelete", res != nil, err)
	}
}
