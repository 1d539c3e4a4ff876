package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// TestAnswers checks that the reference answers what the benchmark's
// workloads expect of it, with the file's real bytes and validators, and
// refuses what it does not parse.
func TestAnswers(t *testing.T) {
	root := t.TempDir()
	content := bytes.Repeat([]byte("0123456789abcdef"), 256)
	if err := os.WriteFile(filepath.Join(root, name), content, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := open(root)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.serve(addr) }()
	var eng gnet.Engine
	select {
	case eng = <-s.booted:
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := eng.Stop(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
		s.close()
	})
	base := "http://" + addr + "/" + name
	do := func(method, url, body string, h map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, b := do("GET", base, "", nil)
	if resp.StatusCode != 200 || !bytes.Equal(b, content) || resp.Header.Get("Etag") == "" || resp.Header.Get("Last-Modified") == "" {
		t.Fatalf("GET: %d, %d bytes, %v", resp.StatusCode, len(b), resp.Header)
	}
	etag := resp.Header.Get("Etag")
	if resp, _ := do("GET", base, "", map[string]string{"If-None-Match": etag}); resp.StatusCode != 304 {
		t.Errorf("GET with its ETag: %d, want 304", resp.StatusCode)
	}
	if resp, b := do("GET", base, "", map[string]string{"If-None-Match": `"other"`}); resp.StatusCode != 200 || len(b) != len(content) {
		t.Errorf("GET with another ETag: %d, %d bytes", resp.StatusCode, len(b))
	}
	if resp, b := do("HEAD", base, "", nil); resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != int64(len(content)) {
		t.Errorf("HEAD: %d, %d bytes, length %d", resp.StatusCode, len(b), resp.ContentLength)
	}
	resp, b = do("PROPFIND", base, `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, map[string]string{"Depth": "0"})
	if resp.StatusCode != 207 || bytes.Count(b, []byte("<D:response>")) != 1 || !bytes.Contains(b, []byte(etag)) || !bytes.Contains(b, []byte("<D:getcontentlength>4096<")) {
		t.Errorf("PROPFIND: %d %s", resp.StatusCode, b)
	}
	if resp, _ := do("GET", "http://"+addr+"/other", "", nil); resp.StatusCode != 404 {
		t.Errorf("GET of another name: %d, want 404", resp.StatusCode)
	}
	if resp, _ := do("DELETE", base, "", nil); resp.StatusCode != 405 {
		t.Errorf("DELETE: %d, want 405", resp.StatusCode)
	}

	// A file replaced under its name is sent as it now is, never the
	// bytes of the one kept open.
	replaced := []byte("a new small.bin")
	if err := os.WriteFile(filepath.Join(root, "new"), replaced, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "new"), filepath.Join(root, name)); err != nil {
		t.Fatal(err)
	}
	if resp, b := do("GET", base, "", nil); resp.StatusCode != 200 || !bytes.Equal(b, replaced) || resp.Header.Get("Etag") == etag {
		t.Errorf("GET after a replace: %d, %q, ETag %s", resp.StatusCode, b, resp.Header.Get("Etag"))
	}

	// Raw: requests sent together are answered in order; what it does not
	// parse is refused and the connection closed.
	for _, tc := range []struct {
		name, in string
		want     []int
	}{
		{"pipelined", "GET /" + name + " HTTP/1.1\r\nHost: x\r\n\r\nHEAD /" + name + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []int{200, 200}},
		{"HTTP/1.0 closes", "GET /" + name + " HTTP/1.0\r\n\r\n", []int{200}},
		{"chunked", "PUT /" + name + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", []int{501}},
		{"bad length", "GET /" + name + " HTTP/1.1\r\nContent-Length: -1\r\n\r\n", []int{400}},
		{"not HTTP", "hello there\r\n\r\n", []int{400}},
		{"headers too long", "GET /" + name + " HTTP/1.1\r\nX: " + strings.Repeat("x", maxHeader) + "\r\n\r\n", []int{431}},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, tc.in)
		r := bufio.NewReader(c)
		var got []int
		for range tc.want {
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				break
			}
			io.Copy(io.Discard, resp.Body)
			got = append(got, resp.StatusCode)
		}
		if _, err := r.ReadByte(); err != io.EOF {
			t.Errorf("%s: connection left open (%v)", tc.name, err)
		}
		c.Close()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: statuses %v, want %v", tc.name, got, tc.want)
		}
	}
}
