package server_test

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/server"
	"github.com/davit-dav/davit/multistatus"
)

// live is a server opened on a folder and listening on 127.0.0.1.
type live struct {
	t        testing.TB
	dir      string
	srv      *server.Server
	ts       *httptest.Server
	url      string
	inflight atomic.Int64
	served   atomic.Int64 // requests finished
	client   *http.Client
}

// start opens dir with server.Open and serves it on 127.0.0.1.
func start(t testing.TB, dir string, opt server.Options) *live {
	t.Helper()
	opt.Root = dir
	opt.NoSync = true
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := server.Open(opt)
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	l := &live{t: t, dir: dir, srv: s}
	l.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.inflight.Add(1)
		defer l.served.Add(1)
		defer l.inflight.Add(-1)
		s.Handler.ServeHTTP(w, r)
	}))
	l.url = l.ts.URL
	l.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200, MaxConnsPerHost: 200}}
	t.Cleanup(l.stop)
	return l
}

// stop closes the listener and the server (again: no effect).
func (l *live) stop() {
	if l.ts == nil {
		return
	}
	l.client.CloseIdleConnections()
	l.ts.Close()
	l.ts = nil
	if err := l.srv.Close(); err != nil {
		l.t.Errorf("close: %v", err)
	}
}

// idle waits until no request is being served.
func (l *live) idle() {
	l.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.inflight.Load() != 0 {
		if time.Now().After(deadline) {
			l.t.Fatalf("%d requests still running", l.inflight.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// do sends one request; hdr holds header names and values in turn.
func (l *live) do(method, path, body string, hdr ...string) (*http.Response, []byte) {
	l.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.url+path, rd)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := l.client.Do(req)
	if err != nil {
		l.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.t.Fatalf("%s %s: read answer: %v", method, path, err)
	}
	if resp.StatusCode == http.StatusMultiStatus {
		if _, err := multistatus.Decode(bytes.NewReader(b)); err != nil {
			l.t.Fatalf("%s %s: 207 does not decode: %v\n%s", method, path, err, b)
		}
	}
	return resp, b
}

// must sends a request and fails unless the status is want.
func (l *live) must(want int, method, path, body string, hdr ...string) (*http.Response, []byte) {
	l.t.Helper()
	resp, b := l.do(method, path, body, hdr...)
	if resp.StatusCode != want {
		l.t.Fatalf("%s %s: %d, want %d\n%s", method, path, resp.StatusCode, want, b)
	}
	return resp, b
}

// raw sends bytes as they are on a new connection and reads one answer.
func (l *live) raw(request string) (*http.Response, []byte) {
	l.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(l.url, "http://"))
	if err != nil {
		l.t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		l.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		l.t.Fatalf("%q: %v", request, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// ms decodes a 207.
func ms(t testing.TB, b []byte) *multistatus.Multistatus {
	t.Helper()
	m, err := multistatus.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	return m
}

// hrefsOf lists the hrefs of a 207.
func hrefsOf(m *multistatus.Multistatus) []string {
	var out []string
	for _, r := range m.Responses {
		out = append(out, r.Hrefs...)
	}
	return out
}

// propOf returns a property with status 200 of r.
func propOf(r *multistatus.Response, space, local string) (multistatus.Property, bool) {
	for _, ps := range r.Propstats {
		if ps.Status.Code != 200 {
			continue
		}
		for _, p := range ps.Props {
			if p.Name.Space == space && p.Name.Local == local {
				return p, true
			}
		}
	}
	return multistatus.Property{}, false
}

const lockBody = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:ann@example.com</D:href></D:owner></D:lockinfo>`

// lockToken takes an exclusive lock and returns its token.
func (l *live) lockToken(path string, hdr ...string) string {
	l.t.Helper()
	resp, b := l.do("LOCK", path, lockBody, append([]string{"Timeout", "Second-3600"}, hdr...)...)
	if resp.StatusCode != 200 && resp.StatusCode != 201 {
		l.t.Fatalf("LOCK %s: %d\n%s", path, resp.StatusCode, b)
	}
	tok := resp.Header.Get("Lock-Token")
	return strings.TrimSuffix(strings.TrimPrefix(tok, "<"), ">")
}

// snapshot records every file and folder under dir with its content and
// modification time, to prove nothing changed.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += " " + string(b)
		}
		out[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tempFiles lists the Put temporary files left anywhere under dir.
func tempFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".davit-tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// propfindBody asks for named DAV: properties.
func propfindBody(names ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>`)
	for _, n := range names {
		b.WriteString("<D:" + n + "/>")
	}
	b.WriteString(`</D:prop></D:propfind>`)
	return b.String()
}

// activeLocks parses the DAV:activelock elements in a lockdiscovery value.
func activeLocks(t testing.TB, inner []byte) []struct {
	Token string `xml:"locktoken>href"`
	Root  string `xml:"lockroot>href"`
	Owner struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"owner"`
} {
	t.Helper()
	var doc struct {
		Locks []struct {
			Token string `xml:"locktoken>href"`
			Root  string `xml:"lockroot>href"`
			Owner struct {
				Inner []byte `xml:",innerxml"`
			} `xml:"owner"`
		} `xml:"activelock"`
	}
	if err := xml.Unmarshal([]byte(`<D:lockdiscovery xmlns:D="DAV:">`+string(inner)+`</D:lockdiscovery>`), &doc); err != nil {
		t.Fatalf("lockdiscovery %q: %v", inner, err)
	}
	return doc.Locks
}

// slogTo is a text logger writing to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// quietLogger drops every record.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
