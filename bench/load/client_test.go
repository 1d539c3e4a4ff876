package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestEntryCounter(t *testing.T) {
	body := `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">` +
		`<D:response><D:href>/a</D:href><D:responsedescription>x</D:responsedescription></D:response>` +
		`<response xmlns="DAV:"><href>/b</href></response >` +
		`<lp1:response xmlns:lp1="DAV:"><lp1:href>/c</lp1:href></lp1:response>` +
		`</D:multistatus>`
	// Fed whole and one byte at a time: a tag split across reads counts once.
	for _, step := range []int{len(body), 1, 7} {
		var ec entryCounter
		for i := 0; i < len(body); i += step {
			ec.feed([]byte(body[i:min(i+step, len(body))]))
		}
		if ec.n != 3 {
			t.Errorf("step %d: counted %d responses, want 3", step, ec.n)
		}
	}
	// With a mark: its closing tags, whatever their prefix; an empty
	// element has none.
	marked := `<D:multistatus xmlns:D="DAV:"><D:response><Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:">20</Z:Win32FileAttributes></D:response>` +
		`<D:response><Win32FileAttributes xmlns="urn:schemas-microsoft-com:">20</Win32FileAttributes ><Win32FileAttributesX>1</Win32FileAttributesX></D:response>` +
		`<D:response><Z:Win32FileAttributes/></D:response></D:multistatus>`
	for _, step := range []int{len(marked), 1, 5} {
		ec := entryCounter{mark: "Win32FileAttributes"}
		for i := 0; i < len(marked); i += step {
			ec.feed([]byte(marked[i:min(i+step, len(marked))]))
		}
		if ec.n != 3 || ec.marks != 2 {
			t.Errorf("step %d: counted %d responses and %d marks, want 3 and 2", step, ec.n, ec.marks)
		}
	}
	var plain entryCounter // no mark: closing tags without a name count nothing
	plain.feed([]byte(`<a></></a>`))
	if plain.marks != 0 {
		t.Errorf("no mark: counted %d", plain.marks)
	}
}

// TestConn drives the client against net/http: fixed length, chunked and
// empty bodies, a lock token, and a server that closes idle connections.
func TestConn(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/fixed":
			w.Header().Set("Content-Length", "5")
			w.Header().Set("ETag", `"v1"`)
			io.WriteString(w, "hello")
		case "/chunked":
			w.WriteHeader(207)
			for i := range 3 {
				fmt.Fprintf(w, "<D:response><D:href>/%d</D:href></D:response>", i)
				w.(http.Flusher).Flush()
			}
		case "/lock":
			w.Header().Set("Lock-Token", "<urn:uuid:1>")
			w.WriteHeader(200)
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			w.WriteHeader(204)
		}
	}))
	defer srv.Close()
	c := newConn(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
	defer c.close()
	var resp response
	check := func(req *request, status int, bytes int64, entries int) {
		t.Helper()
		if err := c.do(req, &resp); err != nil {
			t.Fatalf("%s %s: %v", req.method, req.path, err)
		}
		if resp.status != status || resp.bytes != bytes || resp.entries != entries {
			t.Errorf("%s %s: got status %d, %d bytes, %d entries; want %d, %d, %d",
				req.method, req.path, resp.status, resp.bytes, resp.entries, status, bytes, entries)
		}
	}
	check(&request{method: "GET", path: "/fixed"}, 200, 5, 0)
	if resp.etag != `"v1"` {
		t.Errorf("ETag %q", resp.etag)
	}
	check(&request{method: "PROPFIND", path: "/chunked", body: []byte("<x/>"), countEntries: true}, 207, int64(3*len("<D:response><D:href>/0</D:href></D:response>")), 3)
	check(&request{method: "PUT", path: "/put", body: make([]byte, 1<<20)}, 204, 0, 0)
	check(&request{method: "LOCK", path: "/lock"}, 200, 0, 0)
	if resp.lockToken != "urn:uuid:1" {
		t.Errorf("lock token %q", resp.lockToken)
	}
	check(&request{method: "GET", path: "/close"}, 200, 3, 0)
	if c.nc != nil {
		t.Error("connection kept after Connection: close")
	}
	check(&request{method: "GET", path: "/fixed"}, 200, 5, 0)
	// The server drops the idle connection: the next request reconnects.
	srv.CloseClientConnections()
	check(&request{method: "GET", path: "/fixed"}, 200, 5, 0)
}

// FuzzEntryCounter feeds the counter any body, whole and in two pieces
// split anywhere and byte by byte: the counts never differ, and never
// exceed the closing tags there are.
func FuzzEntryCounter(f *testing.F) {
	f.Add([]byte(`<D:multistatus xmlns:D="DAV:"><D:response><Z:Win32FileAttributes>20</Z:Win32FileAttributes></D:response></D:multistatus>`), 17)
	f.Add([]byte(`</response ></lp1:response></ response></response`), 3)
	f.Fuzz(func(t *testing.T, body []byte, split int) {
		count := func(pieces ...[]byte) (int, int) {
			ec := entryCounter{mark: "Win32FileAttributes"}
			for _, p := range pieces {
				ec.feed(p)
			}
			return ec.n, ec.marks
		}
		n, m := count(body)
		if split < 0 {
			split = -split
		}
		if len(body) > 0 {
			split %= len(body) + 1
		} else {
			split = 0
		}
		if n2, m2 := count(body[:split], body[split:]); n2 != n || m2 != m {
			t.Fatalf("split at %d: %d and %d, whole: %d and %d", split, n2, m2, n, m)
		}
		var bytewise [][]byte
		for i := range body {
			bytewise = append(bytewise, body[i:i+1])
		}
		if n3, m3 := count(bytewise...); n3 != n || m3 != m {
			t.Fatalf("byte by byte: %d and %d, whole: %d and %d", n3, m3, n, m)
		}
		if closing := strings.Count(string(body), "</"); n+m > closing {
			t.Fatalf("%d responses and %d marks from %d closing tags", n, m, closing)
		}
	})
}

// FuzzReadResponse hands the client's response reader any bytes from a
// server: it must never panic or hang, and what it counts as a body
// must have come in.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 207 Multi-Status\r\nContent-Length: 26\r\n\r\n<D:response></D:response>\n"), true)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nLock-Token: <urn:x>\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.0 200 OK\r\n\r\nto the end"), false)
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, count bool) {
		c := &conn{scratch: make([]byte, 64), br: bufio.NewReaderSize(bytes.NewReader(data), 16)}
		var resp response
		_, err := c.readResponse(&request{method: "PROPFIND", countEntries: count, keepBody: !count}, &resp)
		if err == nil && resp.bytes > int64(len(data)) {
			t.Fatalf("%d body bytes from %d bytes", resp.bytes, len(data))
		}
		// A kept body is as long as what was read of it, up to the bound
		// (TestProppatchOp checks its bytes, chunked too).
		if err == nil && !count && int64(len(resp.body)) != min(resp.bytes, maxKeptBody) {
			t.Fatalf("kept %d bytes of a body of %d", len(resp.body), resp.bytes)
		}
	})
}
