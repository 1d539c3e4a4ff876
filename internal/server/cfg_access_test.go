package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const ctProtected = `
listen: 127.0.0.1:0
users:
  - {name: alice, password_hash: {{HASH:alice-pw}}, groups: [staff]}
  - {name: bob, password_hash: {{HASH:bob-pw}}}
login_throttle: {disabled: true}
locations:
  - path: /dav
    folder: {{DIR}}/dav
    anonymous_options: false
`

// TestProtectedEveryMethod sends every WebDAV method to a protected
// location with no, wrong and right credentials.
func TestProtectedEveryMethod(t *testing.T) {
	e := ctNew(t, ctProtected)
	type step struct {
		method, path, body string
		hdr                map[string]string
		want               int
	}
	steps := []step{
		{"OPTIONS", "/dav/", "", nil, 200},
		{"MKCOL", "/dav/c", "", nil, 201},
		{"PUT", "/dav/c/f.txt", "hello", nil, 201},
		{"GET", "/dav/c/f.txt", "", nil, 200},
		{"HEAD", "/dav/c/f.txt", "", nil, 200},
		{"PROPFIND", "/dav/c/", ctPropfindBody, map[string]string{"Depth": "1"}, 207},
		{"PROPPATCH", "/dav/c/f.txt", ctProppatchBody, nil, 207},
		{"LOCK", "/dav/c/f.txt", ctLockBody, nil, 200},
		{"UNLOCK", "/dav/c/f.txt", "", nil, 204}, // token filled in below
		{"COPY", "/dav/c/f.txt", "", map[string]string{"Destination": "/dav/c/g.txt"}, 201},
		{"MOVE", "/dav/c/g.txt", "", map[string]string{"Destination": "http://elsewhere.example/dav/c/h.txt"}, 201},
		{"DELETE", "/dav/c/h.txt", "", nil, 204},
	}
	var token string
	for _, s := range steps {
		for _, cred := range []struct {
			name, user, pw string
		}{{"none", "", ""}, {"wrong password", "alice", "nope"}, {"unknown user", "mallory", "alice-pw"}} {
			rec := e.do(ctReq{method: s.method, path: s.path, body: s.body, hdr: s.hdr, user: cred.user, pw: cred.pw})
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("%s %s with %s credentials: %d, want 401", s.method, s.path, cred.name, rec.Code)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != `Basic realm="Davit", charset="UTF-8"` {
				t.Errorf("%s with %s credentials: WWW-Authenticate %q", s.method, cred.name, got)
			}
		}
		hdr := map[string]string{}
		for k, v := range s.hdr {
			hdr[k] = v
		}
		if s.method == "UNLOCK" {
			hdr["Lock-Token"] = token
		}
		rec := e.status(ctReq{method: s.method, path: s.path, body: s.body, hdr: hdr, user: "alice", pw: "alice-pw"}, s.want)
		if s.method == "LOCK" {
			token = rec.Header().Get("Lock-Token")
		}
	}
	// Another scheme than Basic is a 401 too.
	e.status(ctReq{method: "GET", path: "/dav/c/f.txt", hdr: map[string]string{"Authorization": "Bearer abc"}}, 401)
	// Outside every location: 404, and OPTIONS answers without DAV.
	e.status(ctReq{method: "GET", path: "/elsewhere"}, 404)
	rec := e.status(ctReq{method: "OPTIONS", path: "/"}, 200)
	if rec.Header().Get("DAV") != "" || rec.Header().Get("Allow") != "OPTIONS" {
		t.Errorf("OPTIONS outside the locations: %v", rec.Header())
	}
}

// TestCyberduckUnauthorizedBeforeBody checks that a protected PUT with Expect:
// 100-continue is answered 401 at once, without a 100 Continue, so the
// client never sends the body (Cyberduck); and that with credentials the
// server does send 100 Continue.
func TestCyberduckUnauthorizedBeforeBody(t *testing.T) {
	e := ctNew(t, ctProtected)
	e.serve()
	addr := strings.TrimPrefix(e.url, "http://")
	send := func(auth string) (*bufio.Reader, net.Conn) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "PUT /dav/big.bin HTTP/1.1\r\nHost: %s\r\n%sContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", addr, auth)
		return bufio.NewReader(c), c
	}
	br, c := send("")
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 401") {
		t.Errorf("first line %q, want a 401 (and no 100 Continue)", line)
	}
	c.Close()

	br, c = send("Authorization: Basic YWxpY2U6YWxpY2UtcHc=\r\n") // alice:alice-pw
	defer c.Close()
	line, _ = br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("with credentials, first line %q, want 100 Continue", line)
	}
	br.ReadString('\n') // blank line after the 100
	io.WriteString(c, "hello")
	line, _ = br.ReadString('\n')
	if !strings.HasPrefix(line, "HTTP/1.1 201") {
		t.Errorf("after the body: %q, want 201", line)
	}
}

const ctHomes = `
listen: 127.0.0.1:0
users_file: {{DIR}}/htpasswd
groups: {staff: [alice]}
login_throttle: {disabled: true}
locations:
  - path: /home/{user}
    folder: {{DIR}}/home/{user}
  - path: /me
    folder: {{DIR}}/me/{user}
  - path: /shared
    folder: {{DIR}}/shared
    read: [alice, bob]
    write: ['@staff']
`

func ctHomesEnv(t *testing.T) *ctEnv {
	dir := t.TempDir()
	lines := []string{
		"alice:" + ctHash(t, "alice-pw"),
		"bob:" + ctHash(t, "bob-pw"),
		"a/b:" + ctHash(t, "slash-pw"), // a name that cannot be a folder
	}
	os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	e := ctNew(t, strings.ReplaceAll(ctHomes, "{{DIR}}/htpasswd", dir+"/htpasswd"))
	return e
}

// TestCrossUser: nobody reaches another user's folder, by path tricks,
// Destination, or a location they may not write.
func TestCrossUser(t *testing.T) {
	e := ctHomesEnv(t)
	alice := func(r ctReq) ctReq { r.user, r.pw = "alice", "alice-pw"; return r }
	bob := func(r ctReq) ctReq { r.user, r.pw = "bob", "bob-pw"; return r }

	e.status(alice(ctReq{method: "PUT", path: "/home/alice/secret.txt", body: "alice's"}), 201)
	if !e.exists("home/alice/secret.txt") {
		t.Fatal("alice's file is not in her folder")
	}
	e.status(bob(ctReq{method: "PUT", path: "/home/bob/mine.txt", body: "bob's"}), 201)

	paths := []struct {
		path string
		want int
	}{
		{"/home/alice/secret.txt", 403},
		{"/home/bob/../alice/secret.txt", 403},
		{"/home/bob/%2e%2e/alice/secret.txt", 403},
		{"/home/bob/%2E%2E/alice/secret.txt", 403},
		{"/home/bob/./../alice/secret.txt", 403},
		{"/home//alice/secret.txt", 403},
		{"/home/bob/..%2falice/secret.txt", 400},
		{"/home/alice%2fsecret.txt", 400},
		{"/home/bob/../../home/alice/secret.txt", 403},
		{"/home/bob/../../../etc/passwd", 400},
		{"/home/ALICE/secret.txt", 403},
		{"/home/", 404},
		{"/home", 404},
	}
	for _, p := range paths {
		for _, m := range []string{"GET", "PROPFIND", "DELETE", "PUT"} {
			rec := e.do(bob(ctReq{method: m, path: p.path, body: "x"}))
			if rec.Code != p.want {
				t.Errorf("bob %s %s: %d, want %d", m, p.path, rec.Code, p.want)
			}
		}
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "home/alice/secret.txt")); string(b) != "alice's" {
		t.Errorf("alice's file changed: %q", b)
	}

	dests := []struct {
		method, src, dst string
		user             func(ctReq) ctReq
		want             int
	}{
		{"COPY", "/home/bob/mine.txt", "/home/alice/stolen.txt", bob, 403},
		{"MOVE", "/home/bob/mine.txt", "http://example.test/home/alice/x.txt", bob, 403},
		{"COPY", "/home/bob/mine.txt", "/home/bob/../alice/x.txt", bob, 403},
		{"COPY", "/home/bob/mine.txt", "/home/bob/%2e%2e/alice/x.txt", bob, 403},
		{"COPY", "/home/bob/mine.txt", "/shared/x.txt", bob, 403},       // may not write there
		{"COPY", "/home/alice/secret.txt", "/shared/x.txt", alice, 502}, // may, but another location
		{"COPY", "/home/bob/mine.txt", "/nowhere/x.txt", bob, 502},
		{"COPY", "/home/bob/mine.txt", "/home/bob/copy.txt", bob, 201},
		{"COPY", "/home/bob/mine.txt", "/home/bob/..%2fx", bob, 400},
	}
	for _, d := range dests {
		e.status(d.user(ctReq{method: d.method, path: d.src, hdr: map[string]string{"Destination": d.dst}}), d.want)
	}
	if e.exists("home/alice/stolen.txt") || e.exists("home/alice/x.txt") || e.exists("shared/x.txt") {
		t.Error("a cross-user COPY or MOVE got through")
	}

	// A per-user folder without the name in the URL: each sees their own.
	e.status(alice(ctReq{method: "PUT", path: "/me/a.txt", body: "a"}), 201)
	e.status(bob(ctReq{method: "GET", path: "/me/a.txt"}), 404)
	e.status(bob(ctReq{method: "PUT", path: "/me/a.txt", body: "b"}), 201)
	for u, want := range map[string]string{"alice": "a", "bob": "b"} {
		if b, _ := os.ReadFile(filepath.Join(e.dir, "me", u, "a.txt")); string(b) != want {
			t.Errorf("%s's /me/a.txt = %q", u, b)
		}
	}
	// A user name that cannot be a folder name gets no folder.
	e.status(ctReq{method: "GET", path: "/me/", user: "a/b", pw: "slash-pw"}, 403)
	// Anonymous gets a challenge.
	e.status(ctReq{method: "GET", path: "/home/alice/secret.txt"}, 401)
	// OPTIONS (anonymous, or about someone else's folder) opens no folder.
	for _, r := range []ctReq{{method: "OPTIONS", path: "/home/"}, {method: "OPTIONS", path: "/me/"}, bob(ctReq{method: "OPTIONS", path: "/home/alice/"})} {
		rec := e.status(r, 200)
		if rec.Header().Get("DAV") != "1, 2, 3" {
			t.Errorf("OPTIONS %s: DAV %q", r.path, rec.Header().Get("DAV"))
		}
	}
	if e.exists("home/.davit-state") || e.exists("me/.davit-state") {
		t.Error("OPTIONS opened the parent of the per-user folders")
	}

	// Groups: alice (@staff) may write /shared, bob may only read.
	e.status(alice(ctReq{method: "PUT", path: "/shared/s.txt", body: "s"}), 201)
	e.status(bob(ctReq{method: "GET", path: "/shared/s.txt"}), 200)
	e.status(bob(ctReq{method: "PUT", path: "/shared/s.txt", body: "b"}), 403)
	e.status(bob(ctReq{method: "LOCK", path: "/shared/s.txt", body: ctLockBody}), 403)

	// The exported hook for batch items decides the same way.
	for _, c := range []struct {
		user, method, path string
		want               int
	}{
		{"bob", "GET", "/home/alice/secret.txt", 403},
		{"bob", "DELETE", "/home/bob/../alice/secret.txt", 403},
		{"bob", "PUT", "/shared/x", 403},
		{"alice", "PUT", "/shared/x", 0},
		{"", "GET", "/shared/x", 401},
		{"bob", "GET", "/nowhere", 404},
		{"bob", "PATCH", "/home/bob/x", 405},
		{"bob", "GET", "/home/bob/%2fx", 400},
	} {
		err := e.app.Authorize(c.user, c.method, c.path)
		var ae *AccessError
		switch {
		case c.want == 0 && err != nil:
			t.Errorf("Authorize(%q, %s, %s) = %v, want nil", c.user, c.method, c.path, err)
		case c.want != 0 && (!errors.As(err, &ae) || ae.Status != c.want):
			t.Errorf("Authorize(%q, %s, %s) = %v, want %d", c.user, c.method, c.path, err, c.want)
		}
	}
}

func TestReadOnlyAnonymousAndMethods(t *testing.T) {
	e := ctNew(t, `
listen: 127.0.0.1:0
users: [{name: alice, password_hash: {{HASH:alice-pw}}}, {name: bob, password_hash: {{HASH:bob-pw}}}]
login_throttle: {disabled: true}
locations:
  - path: /ro
    folder: {{DIR}}/ro
    read_only: true
  - path: /pub
    folder: {{DIR}}/pub
    read: [anonymous]
    write: [alice]
  - path: /nginx
    folder: {{DIR}}/nginx
    methods: [GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE]
  - path: /plain
    folder: {{DIR}}/plain
    dav: false
    read: [anonymous]
`)
	e.seed("ro/r.txt", "r")
	e.seed("pub/p.txt", "p")
	e.seed("plain/index.txt", "plain")
	al := func(r ctReq) ctReq { r.user, r.pw = "alice", "alice-pw"; return r }

	// Read-only: reads work, every write is 403, OPTIONS offers no writes.
	e.status(al(ctReq{method: "GET", path: "/ro/r.txt"}), 200)
	e.status(al(ctReq{method: "PROPFIND", path: "/ro/", hdr: map[string]string{"Depth": "1"}}), 207)
	for _, m := range []string{"PUT", "DELETE", "MKCOL", "PROPPATCH", "LOCK", "UNLOCK", "MOVE"} {
		e.status(al(ctReq{method: m, path: "/ro/r.txt", body: "x", hdr: map[string]string{"Destination": "/ro/s.txt"}}), 403)
	}
	rec := e.status(al(ctReq{method: "OPTIONS", path: "/ro/r.txt"}), 200)
	if a := rec.Header().Get("Allow"); strings.Contains(a, "PUT") || !strings.Contains(a, "PROPFIND") {
		t.Errorf("read-only Allow = %q", a)
	}
	if d := rec.Header().Get("DAV"); d != "1, 3" {
		t.Errorf("read-only DAV = %q, want 1, 3 (no locks)", d)
	}

	// Anonymous read, named writer.
	e.status(ctReq{method: "GET", path: "/pub/p.txt"}, 200)
	e.status(ctReq{method: "PROPFIND", path: "/pub/", hdr: map[string]string{"Depth": "1"}}, 207)
	e.status(ctReq{method: "PUT", path: "/pub/new.txt", body: "x"}, 401)
	e.status(ctReq{method: "PUT", path: "/pub/new.txt", body: "x", user: "bob", pw: "bob-pw"}, 403)
	e.status(al(ctReq{method: "PUT", path: "/pub/new.txt", body: "x"}), 201)
	// Wrong credentials are refused even where anonymous may read.
	e.status(ctReq{method: "GET", path: "/pub/p.txt", user: "alice", pw: "bad"}, 401)

	// Methods like nginx dav_methods: the rest is 405 with the right Allow.
	want := "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE"
	for _, m := range []string{"PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "PATCH", "POST"} {
		rec := e.status(al(ctReq{method: m, path: "/nginx/"}), 405)
		if got := rec.Header().Get("Allow"); got != want {
			t.Errorf("%s: Allow = %q, want %q", m, got, want)
		}
	}
	e.status(al(ctReq{method: "PUT", path: "/nginx/a.txt", body: "a"}), 201)
	rec = e.status(al(ctReq{method: "OPTIONS", path: "/nginx/a.txt"}), 200)
	if got := rec.Header().Get("Allow"); strings.Contains(got, "PROPFIND") || strings.Contains(got, "LOCK") {
		t.Errorf("OPTIONS Allow = %q lists disabled methods", got)
	}
	if d := rec.Header().Get("DAV"); d != "1, 3" {
		t.Errorf("DAV = %q without LOCK", d)
	}
	// A 405 from the handler itself is limited too (PUT on a collection).
	e.status(al(ctReq{method: "MKCOL", path: "/nginx/d"}), 201)
	rec = e.status(al(ctReq{method: "PUT", path: "/nginx/d", body: "x"}), 405)
	if got := rec.Header().Get("Allow"); strings.Contains(got, "PROPFIND") {
		t.Errorf("handler 405 Allow = %q", got)
	}

	// DAV off: plain GET and HEAD.
	e.status(ctReq{method: "GET", path: "/plain/index.txt"}, 200)
	e.status(ctReq{method: "HEAD", path: "/plain/index.txt"}, 200)
	rec = e.status(ctReq{method: "PROPFIND", path: "/plain/"}, 405)
	if got := rec.Header().Get("Allow"); got != "OPTIONS, GET, HEAD" {
		t.Errorf("plain Allow = %q", got)
	}
	rec = e.status(ctReq{method: "OPTIONS", path: "/plain/"}, 200)
	if rec.Header().Get("DAV") != "" {
		t.Error("a location without DAV advertises DAV")
	}
	if e.exists("plain/.davit-state") {
		t.Error("a location without DAV got a state directory")
	}
}

func TestWindowsAnonymousOptions(t *testing.T) {
	e := ctNew(t, `
users: [{name: alice, password_hash: {{HASH:alice-pw}}}]
locations:
  - {path: /open, folder: '{{DIR}}/open'}
  - {path: /closed, folder: '{{DIR}}/closed', anonymous_options: false}
`)
	rec := e.status(ctReq{method: "OPTIONS", path: "/open/"}, 200)
	if rec.Header().Get("DAV") == "" {
		t.Error("OPTIONS without credentials: no DAV header")
	}
	e.status(ctReq{method: "GET", path: "/open/"}, 401)
	e.status(ctReq{method: "OPTIONS", path: "/closed/"}, 401)
	e.status(ctReq{method: "OPTIONS", path: "/closed/", user: "alice", pw: "alice-pw"}, 200)

	// Asked by someone who may not read there, OPTIONS tells nothing of
	// what exists: the same Allow for a file, a folder and a missing name.
	e.seed("open/f.txt", "x")
	e.seed("open/d/g.txt", "x")
	allow := map[string]string{}
	for _, p := range []string{"/open/f.txt", "/open/d/", "/open/missing"} {
		allow[p] = e.status(ctReq{method: "OPTIONS", path: p}, 200).Header().Get("Allow")
	}
	if allow["/open/f.txt"] != allow["/open/d/"] || allow["/open/f.txt"] != allow["/open/missing"] {
		t.Errorf("anonymous OPTIONS tells what exists: Allow %q", allow)
	}
	// Logged in, the answer describes the resource.
	file := e.status(ctReq{method: "OPTIONS", path: "/open/f.txt", user: "alice", pw: "alice-pw"}, 200).Header().Get("Allow")
	missing := e.status(ctReq{method: "OPTIONS", path: "/open/missing", user: "alice", pw: "alice-pw"}, 200).Header().Get("Allow")
	if file == missing {
		t.Errorf("OPTIONS by a reader: the same Allow %q for a file and a missing name", file)
	}
}

func TestLoginThrottle(t *testing.T) {
	e := ctNew(t, `
users: [{name: alice, password_hash: {{HASH:alice-pw}}}]
login_throttle: {burst: 2, interval: 1h}
locations: [{path: /, folder: '{{DIR}}/d'}]
`)
	from := func(ip, pw string) ctReq {
		return ctReq{method: "GET", path: "/", user: "alice", pw: pw, remote: ip + ":5000"}
	}
	e.status(from("192.0.2.7", "x1"), 401)
	e.status(from("192.0.2.7", "x2"), 401)
	rec := e.status(from("192.0.2.7", "x3"), 429)
	if rec.Header().Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Even the right password waits: the throttle answers before checking.
	e.status(from("192.0.2.7", "alice-pw"), 429)
	// Other addresses are not affected, nor requests without credentials.
	e.status(from("192.0.2.8", "alice-pw"), 200)
	e.status(ctReq{method: "GET", path: "/", remote: "192.0.2.7:1"}, 401)
	if got := e.app.metrics.loginFailures; got == nil {
		t.Fatal("no metric")
	}
}

func TestFinderJunkNamesAndLimits(t *testing.T) {
	e := ctNew(t, `
locations:
  - path: /
    folder: {{DIR}}/d
    refuse: ['._*']
    hide: [.DS_Store, Thumbs.db]
    max_upload: 10
    max_infinity_entries: 3
  - path: /never
    folder: {{DIR}}/never
    max_infinity_entries: -1
`)
	e.seed("d/._old", "resource fork")
	e.seed("d/.DS_Store", "finder")
	e.seed("d/sub/Thumbs.db", "thumbs")
	e.seed("d/sub/.DS_Store/inside", "x")

	e.status(ctReq{method: "PUT", path: "/._new", body: "x"}, 403)
	e.status(ctReq{method: "MKCOL", path: "/._dir"}, 403)
	e.status(ctReq{method: "PUT", path: "/.DS_Store", body: "x"}, 403)
	e.status(ctReq{method: "GET", path: "/._old"}, 200) // refused, not hidden
	e.status(ctReq{method: "GET", path: "/.DS_Store"}, 404)
	e.status(ctReq{method: "GET", path: "/sub/.DS_Store/inside"}, 404)
	e.status(ctReq{method: "PROPFIND", path: "/sub/Thumbs.db", hdr: map[string]string{"Depth": "0"}}, 404)
	e.status(ctReq{method: "PUT", path: "/ok.txt", body: "x"}, 201)
	e.status(ctReq{method: "COPY", path: "/ok.txt", hdr: map[string]string{"Destination": "/._copy"}}, 403)
	e.status(ctReq{method: "MOVE", path: "/ok.txt", hdr: map[string]string{"Destination": "/Thumbs.db"}}, 403)
	rec := e.status(ctReq{method: "PROPFIND", path: "/", hdr: map[string]string{"Depth": "1"}, body: ctPropfindBody}, 207)
	body := rec.Body.String()
	if strings.Contains(body, "DS_Store") || !strings.Contains(body, "._old") {
		t.Errorf("listing shows hidden names or hides refused ones:\n%s", body)
	}
	// Deleting a collection that holds only hidden names works.
	e.status(ctReq{method: "DELETE", path: "/sub/"}, 204)
	if e.exists("d/sub") {
		t.Error("sub still on disk")
	}

	// Upload limit: 413, also before the body when the length is known.
	e.status(ctReq{method: "PUT", path: "/small.txt", body: "0123456789"}, 201)
	e.status(ctReq{method: "PUT", path: "/big.txt", body: "0123456789X"}, 413)

	// Depth: infinity limit.
	e.status(ctReq{method: "MKCOL", path: "/t"}, 201)
	e.status(ctReq{method: "PROPFIND", path: "/t/", hdr: map[string]string{"Depth": "infinity"}}, 207)
	for i := range 4 {
		e.status(ctReq{method: "PUT", path: fmt.Sprintf("/t/%d", i), body: "x"}, 201)
	}
	rec = e.status(ctReq{method: "PROPFIND", path: "/t/", hdr: map[string]string{"Depth": "infinity"}}, 403)
	if !strings.Contains(rec.Body.String(), "propfind-finite-depth") {
		t.Errorf("403 without the precondition: %s", rec.Body.String())
	}
	e.status(ctReq{method: "PROPFIND", path: "/never/", hdr: map[string]string{"Depth": "infinity"}}, 403)
	e.status(ctReq{method: "PROPFIND", path: "/never/", hdr: map[string]string{"Depth": "1"}}, 207)
}

// TestRunDefaultsAndBadConfig: `davit serve` with flags and no config
// serves; a bad config exits 2 before anything starts.
func TestRunDefaultsAndBadConfig(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, then stop at once
	var out ctBuffer
	if code := Run(ctx, []string{"--root", filepath.Join(dir, "data"), "--listen", "127.0.0.1:0"}, &out); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data", StateDir)); err != nil {
		t.Errorf("the folder was not opened: %v", err)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listen: 127.0.0.1:0\nlocations:\n  - path: /a\n    folder: "+dir+"/a\n    methods: [GET, FROB]\n"), 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--config", bad}, "locations[0].methods: unknown method \"FROB\""},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
		{[]string{"--listen", "nope"}, "listen (from --listen)"},
		{[]string{"--max-upload", "lots"}, "max_upload (from --max-upload)"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, c := range cases {
		var out ctBuffer
		code := Run(context.Background(), c.args, &out)
		if code != ExitUsage || !strings.Contains(out.String(), c.want) {
			t.Errorf("Run %v: exit %d, output %q; want 2 and %q", c.args, code, out.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("a bad config still opened a folder")
	}
	// DAVIT_CONFIG names the file when --config is not given; DAVIT_*
	// variables are checked like the file.
	t.Setenv(ConfigEnv, bad)
	if code := Run(context.Background(), nil, &out); code != ExitUsage || !strings.Contains(out.String(), "FROB") {
		t.Errorf("DAVIT_CONFIG: exit %d, %q", code, out.String())
	}
	t.Setenv(ConfigEnv, "")
	t.Setenv("DAVIT_LOG_FORMAT", "xml")
	out = ctBuffer{}
	if code := Run(context.Background(), []string{"--root", dir}, &out); code != ExitUsage || !strings.Contains(out.String(), "log.format (from DAVIT_LOG_FORMAT)") {
		t.Errorf("bad DAVIT_LOG_FORMAT: exit %d, %q", code, out.String())
	}
}

// TestLocationAllowed: an Allow value is cut to the location's methods, the
// same the first time as when remembered, and a location remembers at
// most maxAllowSeen values while still cutting every other one.
func TestLocationAllowed(t *testing.T) {
	l := &location{allow: []string{"OPTIONS", "GET", "HEAD", "PROPFIND"}}
	for range 2 {
		for v, want := range map[string]string{
			"OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, LOCK": "OPTIONS, GET, HEAD, PROPFIND",
			"PUT,MKCOL":     "",
			" GET ,  HEAD ": "GET, HEAD",
			"OPTIONS":       "OPTIONS",
		} {
			if got := l.allowed(v); got != want {
				t.Errorf("allowed(%q) = %q, want %q", v, got, want)
			}
		}
	}
	for i := range 3 * maxAllowSeen {
		v := fmt.Sprintf("GET, X-%d, PROPFIND", i)
		if got := l.allowed(v); got != "GET, PROPFIND" {
			t.Fatalf("allowed(%q) = %q", v, got)
		}
	}
	n := 0
	l.allowSeen.Range(func(_, _ any) bool { n++; return true })
	if n > maxAllowSeen {
		t.Errorf("%d values remembered, at most %d", n, maxAllowSeen)
	}
}

// TestLockBelongsToItsUser checks, through the whole App, that the user
// the router authenticates reaches the WebDAV handler (through the outer
// layer's context, infoCtx): a lock is its taker's, and another user may
// not remove it with its token; its taker may. It fails when that context
// names no user.
func TestLockBelongsToItsUser(t *testing.T) {
	e := ctNew(t, ctProtected)
	e.seed("dav/o.txt", "o")
	rec := e.status(ctReq{method: "LOCK", path: "/dav/o.txt", body: ctLockBody, user: "alice", pw: "alice-pw"}, 200)
	token := rec.Header().Get("Lock-Token")
	if token == "" {
		t.Fatal("no Lock-Token")
	}
	e.status(ctReq{method: "UNLOCK", path: "/dav/o.txt", hdr: map[string]string{"Lock-Token": token}, user: "bob", pw: "bob-pw"}, 403)
	e.status(ctReq{method: "UNLOCK", path: "/dav/o.txt", hdr: map[string]string{"Lock-Token": token}, user: "alice", pw: "alice-pw"}, 204)
}

// TestStateStoreNeverServed: a location's state folder (.davit-state:
// props.db, locks.db with lock tokens) is no resource, neither through a
// link inside its root that leads back to the root, nor in a location
// without WebDAV over a folder holding the location's folder, at any
// depth.
func TestStateStoreNeverServed(t *testing.T) {
	const cfg = `
listen: 127.0.0.1:0
login_throttle: {disabled: true}
locations:
  - path: /dav
    folder: {{DIR}}/top/dav
  - path: /pub
    folder: {{DIR}}
    dav: false
`
	e := ctNew(t, cfg)
	e.seed("top/dav/sub/f.txt", "x")
	for link, target := range map[string]string{"top/dav/self": ".", "top/dav/sub/up": ".."} {
		if err := os.Symlink(target, filepath.Join(e.dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	e.status(ctReq{method: "PROPPATCH", path: "/dav/sub/f.txt", body: ctProppatchBody}, 207)
	e.status(ctReq{method: "LOCK", path: "/dav/sub/f.txt", body: ctLockBody}, 200)
	for _, tt := range []struct {
		method, path string
		hdr          map[string]string
		body         string
		want         int
	}{
		{"GET", "/dav/self/.davit-state/props.db", nil, "", 404},
		{"GET", "/dav/sub/up/.davit-state/locks.db", nil, "", 404},
		{"PROPFIND", "/dav/self/.davit-state/", map[string]string{"Depth": "0"}, ctPropfindBody, 404},
		{"PUT", "/dav/self/.davit-state/evil", nil, "x", 409}, // as under a missing folder
		{"DELETE", "/dav/self/.davit-state/locks.db", nil, "", 404},
		{"DELETE", "/dav/sub/up/.davit-state", nil, "", 404},
		{"GET", "/pub/top/dav/.davit-state/locks.db", nil, "", 404},
		{"GET", "/pub/top/dav/.davit-state/props.db", nil, "", 404},
		{"GET", "/pub/top/dav/.davit-state/", nil, "", 404},
		{"GET", "/pub/top/dav/self/.davit-state/props.db", nil, "", 404},
	} {
		rec := e.do(ctReq{method: tt.method, path: tt.path, hdr: tt.hdr, body: tt.body})
		if rec.Code != tt.want {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.want)
		}
	}
	for _, p := range []string{"/dav/self/", "/dav/sub/up/"} {
		rec := e.status(ctReq{method: "PROPFIND", path: p, body: ctPropfindBody, hdr: map[string]string{"Depth": "1"}}, 207)
		if strings.Contains(rec.Body.String(), ".davit-state") {
			t.Errorf("PROPFIND %s lists the state folder", p)
		}
	}
	for _, p := range []string{"/pub/top/dav/", "/pub/top/dav/self/"} {
		if rec := e.do(ctReq{method: "GET", path: p}); strings.Contains(rec.Body.String(), ".davit-state") {
			t.Errorf("GET %s: %d lists the state folder", p, rec.Code)
		}
	}
	for _, f := range []string{"top/dav/.davit-state/props.db", "top/dav/.davit-state/locks.db"} {
		if !e.exists(f) {
			t.Errorf("%s removed", f)
		}
	}
	if e.exists("top/dav/.davit-state/evil") {
		t.Errorf("PUT wrote into the state folder")
	}
}
