package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/davit-dav/davit/client"
)

// A listing, streamed: each resource is printed as soon as it is read.
func ExampleClient_PropFind() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:">
 <D:response><D:href>/files/</D:href><D:propstat>
  <D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop>
  <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>/files/notes%20%231.txt</D:href><D:propstat>
  <D:prop><D:resourcetype/><D:getcontentlength>12</D:getcontentlength></D:prop>
  <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
 <D:response><D:href>/files/photos/</D:href><D:propstat>
  <D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop>
  <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>`)
	}))
	defer srv.Close()

	c, err := client.New(srv.URL+"/files/", client.WithBasicAuth("ann", "secret"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for res, err := range c.PropFind(context.Background(), "", client.Depth1, client.StandardProps()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q collection=%v size=%d\n", res.Path, res.IsCollection, res.Size)
	}
	// Output:
	// "" collection=true size=0
	// "notes #1.txt" collection=false size=12
	// "photos/" collection=true size=0
}

// Errors carry the status, and match sentinel errors.
func ExampleStatusError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusLocked)
		io.WriteString(w, `<D:error xmlns:D="DAV:"><D:lock-token-submitted><D:href>/a.txt</D:href></D:lock-token-submitted></D:error>`)
	}))
	defer srv.Close()

	c, _ := client.New(srv.URL)
	_, err := c.Put(context.Background(), "a.txt", nil)
	var se *client.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, errors.Is(err, client.ErrLocked), se.Has(client.DAVName("lock-token-submitted")))
	}
	// Output: 423 true true
}
