package server_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/server"
)

// TestRestartKeepsPropertiesAndLocks: dead properties and locks set over
// HTTP are there after the server closes and opens the folder again.
func TestRestartKeepsPropertiesAndLocks(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir, server.Options{})
	l.must(201, "MKCOL", "/docs", "")
	l.must(201, "PUT", "/docs/report.txt", "v1")
	l.must(207, "PROPPATCH", "/docs/report.txt", `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x"><D:set><D:prop>`+
		`<x:color xml:lang="en">blue <x:shade>dark</x:shade></x:color></D:prop></D:set></D:propertyupdate>`)
	l.must(207, "PROPPATCH", "/docs", `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x"><D:set><D:prop><x:kind>folder</x:kind></D:prop></D:set></D:propertyupdate>`)
	tok := l.lockToken("/docs/report.txt")
	ctok := l.lockToken("/docs/new-null.txt") // a lock on an unmapped URL
	l.stop()

	l = start(t, dir, server.Options{})
	_, b := l.must(207, "PROPFIND", "/docs", "", "Depth", "1")
	m := ms(t, b)
	found := 0
	for _, r := range m.Responses {
		switch strings.TrimSuffix(r.Hrefs[0], "/") {
		case "/docs":
			if p, ok := propOf(&r, "urn:x", "kind"); !ok || string(p.Inner) != "folder" {
				t.Errorf("/docs kind %q %v", p.Inner, ok)
			}
			found++
		case "/docs/report.txt":
			p, ok := propOf(&r, "urn:x", "color")
			if !ok || p.Lang != "en" || !strings.Contains(string(p.Inner), "dark") {
				t.Errorf("color after restart: %+v %v", p, ok)
			}
			ld, _ := propOf(&r, "DAV:", "lockdiscovery")
			locks := activeLocks(t, ld.Inner)
			if len(locks) != 1 || locks[0].Token != tok || !strings.Contains(string(locks[0].Owner.Inner), "mailto:ann@example.com") {
				t.Errorf("lockdiscovery after restart: %+v", locks)
			}
			found++
		case "/docs/new-null.txt":
			ld, _ := propOf(&r, "DAV:", "lockdiscovery")
			if locks := activeLocks(t, ld.Inner); len(locks) != 1 || locks[0].Token != ctok {
				t.Errorf("lock-null lock after restart: %+v", locks)
			}
			found++
		}
	}
	if found != 3 {
		t.Fatalf("PROPFIND after restart: %v", hrefsOf(m))
	}
	l.must(423, "PUT", "/docs/report.txt", "v2")
	l.must(204, "PUT", "/docs/report.txt", "v2", "If", "(<"+tok+">)")
	l.must(204, "UNLOCK", "/docs/report.txt", "", "Lock-Token", "<"+tok+">")
	l.must(204, "PUT", "/docs/report.txt", "v3")
	l.stop()

	// The unlock survives a restart too.
	l = start(t, dir, server.Options{})
	l.must(204, "PUT", "/docs/report.txt", "v4")
	l.must(423, "PUT", "/docs/new-null.txt", "x")
}

// TestPutCutOff sends the headers of a 1 MiB PUT, half the body, and
// hangs up: the old content stays whole and no file is left behind.
func TestPutCutOff(t *testing.T) {
	dir := t.TempDir()
	var logs syncBuffer
	l := start(t, dir, server.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	old := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	l.must(201, "MKCOL", "/sub", "")
	l.must(201, "PUT", "/sub/big.bin", string(old))
	before, _ := os.ReadDir(filepath.Join(dir, "sub"))

	for _, tc := range []struct {
		name, target string
		headers      string
		body         []byte
	}{
		{"content-length over existing", "/sub/big.bin", "Content-Length: 1048576\r\n", bytes.Repeat([]byte("X"), 512<<10)},
		{"content-length new file", "/sub/new.bin", "Content-Length: 1048576\r\n", bytes.Repeat([]byte("Y"), 512<<10)},
		{"chunked over existing", "/sub/big.bin", "Transfer-Encoding: chunked\r\n", []byte(fmt.Sprintf("%x\r\n%s\r\n", 300<<10, bytes.Repeat([]byte("Z"), 300<<10)))},
		{"MacFinder chunked with expected length", "/sub/big.bin", "Transfer-Encoding: chunked\r\nX-Expected-Entity-Length: 1048576\r\n", []byte(fmt.Sprintf("%x\r\n%s\r\n", 300<<10, bytes.Repeat([]byte("W"), 300<<10)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served := l.served.Load()
			c, err := net.Dial("tcp", strings.TrimPrefix(l.url, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "PUT %s HTTP/1.1\r\nHost: test\r\n%s\r\n", tc.target, tc.headers)
			if _, err := c.Write(tc.body); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // let the server start writing
			c.Close()
			// Wait for the handler to see the end of the body.
			deadline := time.Now().Add(10 * time.Second)
			for l.served.Load() == served {
				if time.Now().After(deadline) {
					t.Fatalf("the cut request never ended")
				}
				time.Sleep(time.Millisecond)
			}
			_, got := l.must(200, "GET", "/sub/big.bin", "")
			if !bytes.Equal(got, old) {
				t.Fatalf("old content damaged: %d bytes, first %q", len(got), got[:min(len(got), 16)])
			}
			l.must(404, "GET", "/sub/new.bin", "")
			after, _ := os.ReadDir(filepath.Join(dir, "sub"))
			if names(after) != names(before) {
				t.Fatalf("folder holds %s, want %s", names(after), names(before))
			}
			if tf := tempFiles(t, dir); len(tf) != 0 {
				t.Fatalf("temporary files left: %v", tf)
			}
		})
	}
	// A client that hangs up is not a server error.
	if strings.Contains(logs.String(), "status=500") {
		t.Errorf("a cut upload was logged as a server error:\n%s", logs.String())
	}
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func names(es []os.DirEntry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// TestPathEscapes: no request reads or writes outside the folder, whatever
// the path spelling, and symbolic links that lead out are refused.
func TestPathEscapes(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("SENTINEL outside the root"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for link, target := range map[string]string{"linketc": "/etc", "linkout": outside, "linkfile": secret, "linkup": ".."} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(t, outside)
	etcBefore, _ := os.ReadFile("/etc/passwd")
	l := start(t, dir, server.Options{})
	l.must(201, "PUT", "/f", "inside")
	l.must(201, "MKCOL", "/d", "")

	leaks := func(b []byte) bool {
		return bytes.Contains(b, []byte("SENTINEL")) || bytes.Contains(b, []byte("root:")) || bytes.Contains(b, []byte("secret.txt"))
	}
	// Raw request lines: clients may clean these, so send them as is.
	for _, target := range []string{
		"/../etc/passwd",
		"/../../../../etc/passwd",
		"/%2e%2e/%2e%2e/etc/passwd",
		"/%2E%2E/%2E%2E/etc/passwd",
		"/d/../../etc/passwd",
		"/d/%2e%2e/%2e%2e/etc/passwd",
		"/a%2fb",
		"/..%2fetc%2fpasswd",
		"/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/linketc/passwd",
		"/linketc",
		"/linkout/secret.txt",
		"/linkout",
		"/linkfile",
		"/linkup/" + filepath.Base(outside) + "/secret.txt",
		"/d/%00/x",
		"/%00",
	} {
		for _, method := range []string{"GET", "PROPFIND", "PUT", "DELETE", "MKCOL", "LOCK", "PROPPATCH"} {
			req := method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
			switch method {
			case "PUT":
				req += "Content-Length: 7\r\n\r\nwritten"
			case "LOCK":
				req += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(lockBody), lockBody)
			case "PROPPATCH":
				pp := `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set></D:propertyupdate>`
				req += fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(pp), pp)
			default:
				req += "Depth: 1\r\n\r\n"
			}
			resp, b := l.raw(req)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d, want 4xx\n%s", method, target, resp.StatusCode, b)
			}
			if leaks(b) {
				t.Errorf("%s %s: the answer shows what lies outside:\n%s", method, target, b)
			}
		}
	}
	// A backslash is an ordinary character here: the name stays inside.
	l.must(201, "PUT", "/..%5c..%5cetc%5cpasswd", "inside")
	if b, err := os.ReadFile(filepath.Join(dir, `..\..\etc\passwd`)); err != nil || string(b) != "inside" {
		t.Errorf("backslash name: %q %v", b, err)
	}
	// COPY and MOVE through links, both ways.
	for _, tc := range []struct{ method, src, dst string }{
		{"COPY", "/linkfile", "/stolen"},
		{"COPY", "/linkout/secret.txt", "/stolen"},
		{"MOVE", "/linkfile", "/stolen"},
		{"MOVE", "/linkout", "/stolen"},
		{"COPY", "/f", "/linkfile"},
		{"COPY", "/f", "/linkout/secret.txt"},
		{"COPY", "/f", "/linkout/new.txt"},
		{"MOVE", "/f", "/linkout/new.txt"},
		{"MOVE", "/f", "/linkfile"},
		{"COPY", "/d", "/linkout/d"},
		{"COPY", "/f", "/../outside.txt"},
		{"COPY", "/f", "http://elsewhere/%2e%2e/x"},
	} {
		resp, b := l.do(tc.method, tc.src, "", "Destination", tc.dst)
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("%s %s -> %s: %d, want 4xx\n%s", tc.method, tc.src, tc.dst, resp.StatusCode, b)
		}
	}
	// A listing does not show the links that lead out.
	_, b := l.must(207, "PROPFIND", "/", "", "Depth", "infinity")
	for _, h := range hrefsOf(ms(t, b)) {
		if strings.Contains(h, "link") {
			t.Errorf("listing shows %s", h)
		}
	}
	if leaks(b) {
		t.Errorf("listing shows what lies outside")
	}
	if _, b := l.must(200, "GET", "/", ""); leaks(b) || bytes.Contains(b, []byte("link")) {
		t.Errorf("index shows the links:\n%s", b)
	}
	// Nothing outside changed; the inside file is intact.
	l.idle()
	if after := snapshot(t, outside); !maps(after, before) {
		t.Errorf("outside folder changed:\nbefore %v\nafter  %v", before, after)
	}
	if etc, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(etc, etcBefore) {
		t.Errorf("/etc/passwd changed")
	}
	if _, b := l.must(200, "GET", "/f", ""); string(b) != "inside" {
		t.Errorf("/f: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "linkfile")); err != nil {
		t.Errorf("the link itself was removed: %v", err)
	}
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestStateDirInvisible: the state folder is never a WebDAV resource.
func TestStateDirInvisible(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir, server.Options{})
	l.must(201, "PUT", "/f", "f")
	l.must(201, "MKCOL", "/d", "")
	l.must(207, "PROPPATCH", "/f", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">kept</x></D:prop></D:set></D:propertyupdate>`)
	state := filepath.Join(dir, server.StateDir)
	before := snapshotNames(t, state)

	for _, depth := range []string{"1", "infinity"} {
		_, b := l.must(207, "PROPFIND", "/", "", "Depth", depth)
		for _, h := range hrefsOf(ms(t, b)) {
			if strings.Contains(h, "davit-state") {
				t.Errorf("Depth %s lists %s", depth, h)
			}
		}
	}
	if _, b := l.must(200, "GET", "/", ""); bytes.Contains(b, []byte("davit-state")) {
		t.Errorf("the index lists the state folder")
	}
	for _, target := range []string{
		"/.davit-state", "/.davit-state/", "/.davit-state/props.db", "/.davit-state/locks.db",
		"/%2edavit-state/props.db", "/%2Edavit%2Dstate/props.db", "/d/../.davit-state/props.db", "/./.davit-state/new",
	} {
		for _, tc := range []struct {
			method, body string
			hdr          []string
		}{
			{"GET", "", nil},
			{"HEAD", "", nil},
			{"PROPFIND", "", []string{"Depth", "0"}},
			{"PUT", "overwritten", nil},
			{"DELETE", "", nil},
			{"MKCOL", "", nil},
			{"PROPPATCH", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set></D:propertyupdate>`, nil},
			{"LOCK", lockBody, nil},
			{"UNLOCK", "", []string{"Lock-Token", "<urn:uuid:00000000-0000-0000-0000-000000000000>"}},
			{"COPY", "", []string{"Destination", "/stolen"}},
			{"MOVE", "", []string{"Destination", "/stolen"}},
		} {
			resp, b := l.do(tc.method, target, tc.body, tc.hdr...)
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d, want 4xx\n%s", tc.method, target, resp.StatusCode, b)
			}
		}
		for _, method := range []string{"COPY", "MOVE"} {
			for _, src := range []string{"/f", "/d"} {
				resp, b := l.do(method, src, "", "Destination", target)
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Errorf("%s %s -> %s: %d, want 4xx\n%s", method, src, target, resp.StatusCode, b)
				}
			}
		}
	}
	l.must(404, "GET", "/stolen", "")
	if got := snapshotNames(t, state); got != before {
		t.Errorf("state folder changed: %s, was %s", got, before)
	}
	l.must(403, "DELETE", "/", "")
	l.stop()
	// The state is intact: the property is still there.
	l = start(t, dir, server.Options{})
	_, b := l.must(207, "PROPFIND", "/f", "", "Depth", "0")
	if p, ok := propOf(&ms(t, b).Responses[0], "urn:x", "x"); !ok || string(p.Inner) != "kept" {
		t.Errorf("property lost: %q %v", p.Inner, ok)
	}
}

func snapshotNames(t testing.TB, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return names(es)
}

var _ = io.Discard
var _ = http.StatusOK
