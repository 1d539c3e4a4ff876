package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/davit-dav/davit/multistatus"
)

// answer is a canned answer of the test server.
type answer struct {
	status int
	header map[string]string
	body   string
}

func xml207(body string) answer {
	return answer{status: 207, header: map[string]string{"Content-Type": `text/xml; charset="utf-8"`}, body: body}
}

// seen is a request as the test server saw it.
type seen struct {
	Method, URI string
	Header      http.Header
	Body        string
}

// server replays answers by "METHOD /escaped/path"; anything else gets 404.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, answers map[string]answer) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: string(b)})
		s.mu.Unlock()
		a, ok := answers[r.Method+" "+r.RequestURI]
		if !ok {
			a = answer{status: 404, header: map[string]string{"Content-Type": "text/html"}, body: "<html>Not Found</html>"}
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// result is what one run of a command gave.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the command in-process with the given standard input and
// environment.
func runCLI(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &cli{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return env[k] },
	}
	code := e.run(context.Background(), args)
	return result{stdout.String(), stderr.String(), code}
}

func corpusFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "multistatus", "testdata", "corpus", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const lockBody = `<?xml version="1.0" encoding="utf-8"?>
<D:prop xmlns:D="DAV:"><D:lockdiscovery><D:activelock>
<D:locktype><D:write/></D:locktype><D:lockscope><D:exclusive/></D:lockscope>
<D:depth>infinity</D:depth><D:owner>me</D:owner><D:timeout>Second-60</D:timeout>
<D:locktoken><D:href>opaquelocktoken:1234</D:href></D:locktoken>
</D:activelock></D:lockdiscovery></D:prop>`

// TestCommands runs each command against a server replaying canned
// answers and checks its output, exit code and requests.
func TestCommands(t *testing.T) {
	allprop := corpusFile(t, "apache-propfind-allprop-d1-coll.xml")
	subListing := `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">
<D:response><D:href>/c/sub/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
<D:response><D:href>/c/sub/d%20e.txt</D:href><D:propstat><D:prop><D:resourcetype/><D:getcontentlength>3</D:getcontentlength></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>`
	propsAnswer := `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:x="urn:x"><D:response><D:href>/c/a.txt</D:href>
<D:propstat><D:prop><x:color>red</x:color><D:getetag>"e1"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
<D:propstat><D:prop><x:nope/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat>
</D:response></D:multistatus>`
	patchOK := `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:x="urn:x"><D:response><D:href>/c/a.txt</D:href>
<D:propstat><D:prop><x:color/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`
	lockOK := answer{status: 200, header: map[string]string{"Content-Type": "application/xml", "Lock-Token": "<opaquelocktoken:1234>"}, body: lockBody}
	locked := answer{status: 423, header: map[string]string{"Content-Type": "application/xml"},
		body: `<D:error xmlns:D="DAV:"><D:lock-token-submitted><D:href>/c/a.txt</D:href></D:lock-token-submitted></D:error>`}

	answers := map[string]answer{
		"PROPFIND /c/":                xml207(allprop),
		"PROPFIND /c/sub/":            xml207(subListing),
		"PROPFIND /c":                 xml207(allprop),
		"PROPFIND /c/a.txt":           xml207(propsAnswer),
		"PROPFIND /c/bad/":            xml207(`<D:multistatus xmlns:D="DAV:"><D:response><D:href>/c/bad/x</D:href><D:status>HTTP/1.1 403 Forbidden</D:status></D:response></D:multistatus>`),
		"PROPFIND /c/broken/":         xml207("<D:multistatus xmlns:D=\"DAV:\">\n<D:response>\n<D:href>/c/broken/</oops>"),
		"GET /c/a.txt":                {status: 200, header: map[string]string{"Content-Type": "text/plain"}, body: "hello a\n"},
		"PUT /c/new.txt":              {status: 201},
		"PUT /c/up/":                  {status: 405},
		"PUT /c/locked.txt":           locked,
		"MKCOL /c/dir/":               {status: 201},
		"MKCOL /c/up/":                {status: 201},
		"MKCOL /c/up/sub/":            {status: 201},
		"MKCOL /c/folder":             {status: 201},
		"MKCOL /c/folder/sub/":        {status: 201},
		"PUT /c/folder/f1.txt":        {status: 201},
		"PUT /c/folder/sub/f%232.txt": {status: 201},
		"PUT /c/up/f1.txt":            {status: 201},
		"PUT /c/up/sub/f%232.txt":     {status: 201},
		"MKCOL /c/exists/":            {status: 405},
		"DELETE /c/a.txt":             {status: 204},
		"DELETE /perm":                xml207(corpusFile(t, "apache-delete-partial-permission.xml")),
		"COPY /c/a.txt":               {status: 201},
		"COPY /c/sub/":                {status: 412},
		"MOVE /c/a.txt":               {status: 204},
		"PROPPATCH /c/a.txt":          xml207(patchOK),
		"PROPPATCH /c/ro.txt":         xml207(corpusFile(t, "apache-proppatch-protected.xml")),
		"LOCK /c/a.txt":               lockOK,
		"LOCK /c/locked.txt":          locked,
		"UNLOCK /c/a.txt":             {status: 204},
		"OPTIONS /c/":                 {status: 200, header: map[string]string{"DAV": "1,2"}},
		"PROPFIND /c/ms.txt":          xml207(corpusFile(t, "apache-propfind-named-d1.xml")),
		"DELETE /c/d/":                {status: 424, header: map[string]string{"Content-Type": "text/xml"}, body: corpusFile(t, "apache-delete-locked-member-http424.xml")},
	}
	srv := newServer(t, answers)
	u := srv.URL

	upload := t.TempDir()
	os.WriteFile(filepath.Join(upload, "f1.txt"), []byte("one"), 0o644)
	os.Mkdir(filepath.Join(upload, "sub"), 0o755)
	os.WriteFile(filepath.Join(upload, "sub", "f#2.txt"), []byte("two"), 0o644)
	upDir := filepath.Join(t.TempDir(), "up")
	os.Mkdir(upDir, 0o755)
	os.WriteFile(filepath.Join(upDir, "f1.txt"), []byte("one"), 0o644)
	os.Mkdir(filepath.Join(upDir, "sub"), 0o755)
	os.WriteFile(filepath.Join(upDir, "sub", "f#2.txt"), []byte("two"), 0o644)
	getDir := t.TempDir()
	local := filepath.Join(t.TempDir(), "local.txt")
	os.WriteFile(local, []byte("local content"), 0o644)

	tests := []struct {
		name   string
		args   []string
		stdin  string
		env    map[string]string
		code   int
		stdout string   // exact, when not empty
		outHas []string // substrings of stdout
		errHas []string // substrings of stderr
		check  func(t *testing.T, reqs []seen)
	}{
		{name: "ls", args: []string{"ls", u + "/c/"}, stdout: "b.txt\nsub/\na.txt\n",
			check: func(t *testing.T, reqs []seen) {
				if r := reqs[0]; r.Method != "PROPFIND" || r.Header.Get("Depth") != "1" || !strings.Contains(r.Body, "getcontentlength") {
					t.Errorf("request %+v", r)
				}
			}},
		{name: "ls -l", args: []string{"ls", "-l", u + "/c/"}, outHas: []string{
			"-           12 2026-11-21 20:13  b.txt\n", "d            0 2026-11-21 20:13  sub/\n"}},
		{name: "ls without the collection's slash", args: []string{"ls", u + "/c"}, stdout: "b.txt\nsub/\na.txt\n"},
		{name: "ls flags after the URL", args: []string{"ls", u + "/c/", "-l"}, outHas: []string{"  b.txt\n"}},
		{name: "ls -R", args: []string{"ls", "-R", u + "/c/"}, stdout: "b.txt\nsub/\na.txt\nsub/d e.txt\n"},
		{name: "ls --json", args: []string{"ls", "--json", u + "/c/"}, outHas: []string{
			`{"href":"` + u + `/c/b.txt","path":"b.txt","name":"b.txt","type":"file","size":12,"modified":"2026-11-21T20:13:59Z","etag":"W/\"c-660cf004d55e0\"","contenttype":"text/plain"}`,
			`"path":"sub/","name":"sub","type":"collection"`}},
		{name: "ls of a file", args: []string{"ls", u + "/c/a.txt"}, stdout: "a.txt\n"},
		{name: "ls of a missing file", args: []string{"ls", u + "/c/sub/d%20e.txt"}, code: 1, errHas: []string{"404 Not Found"}},
		{name: "ls failed member", args: []string{"ls", u + "/c/bad/"}, code: 1, errHas: []string{"/c/bad/x: 403 Forbidden"}},
		{name: "ls malformed answer", args: []string{"ls", u + "/c/broken/"}, code: 2, errHas: []string{"line 3"}},
		{name: "ls missing", args: []string{"ls", u + "/nothere/"}, code: 1, errHas: []string{"PROPFIND " + u + "/nothere/: 404 Not Found"}},
		{name: "ls two URLs", args: []string{"ls", u + "/c/", u + "/d/"}, code: 2},
		{name: "ls bad URL", args: []string{"ls", "ftp://x/"}, code: 2, errHas: []string{"bad URL"}},

		{name: "get to stdout", args: []string{"get", u + "/c/a.txt", "-"}, stdout: "hello a\n"},
		{name: "get to a folder", args: []string{"get", u + "/c/a.txt", getDir}, check: func(t *testing.T, _ []seen) {
			if b, err := os.ReadFile(filepath.Join(getDir, "a.txt")); err != nil || string(b) != "hello a\n" {
				t.Errorf("file: %q %v", b, err)
			}
		}},
		{name: "get missing", args: []string{"get", u + "/c/none.txt", "-"}, code: 1, errHas: []string{"404"}},

		{name: "put file", args: []string{"put", local, u + "/c/new.txt"}, check: func(t *testing.T, reqs []seen) {
			if r := reqs[0]; r.Method != "PUT" || r.Body != "local content" || r.Header.Get("Content-Length") != "" && r.Header.Get("Content-Length") != "13" {
				t.Errorf("request %+v", r)
			}
		}},
		{name: "put stdin", args: []string{"put", "-", u + "/c/new.txt"}, stdin: "from stdin", check: func(t *testing.T, reqs []seen) {
			if reqs[0].Body != "from stdin" {
				t.Errorf("body %q", reqs[0].Body)
			}
		}},
		{name: "put locked", args: []string{"put", local, u + "/c/locked.txt"}, code: 1, errHas: []string{"423 Locked (DAV:lock-token-submitted)"}},
		{name: "put with token", args: []string{"put", "--lock-token", "opaquelocktoken:1234", local, u + "/c/new.txt"}, check: func(t *testing.T, reqs []seen) {
			if h := reqs[0].Header.Get("If"); h != "(<opaquelocktoken:1234>)" {
				t.Errorf("If %q", h)
			}
		}},
		{name: "put folder as URL", args: []string{"put", upload, u + "/c/folder"}, check: func(t *testing.T, reqs []seen) {
			var got []string
			for _, r := range reqs {
				got = append(got, r.Method+" "+r.URI+" "+r.Body)
			}
			want := []string{"MKCOL /c/folder ", "PUT /c/folder/f1.txt one", "MKCOL /c/folder/sub/ ", "PUT /c/folder/sub/f%232.txt two"}
			if !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q", got, want)
			}
		}},
		{name: "put folder into a collection", args: []string{"put", upDir, u + "/c/"}, check: func(t *testing.T, reqs []seen) {
			if len(reqs) != 4 || reqs[0].URI != "/c/up/" || reqs[3].URI != "/c/up/sub/f%232.txt" {
				t.Errorf("requests %+v", reqs)
			}
		}},
		{name: "put missing file", args: []string{"put", "/nonexistent/x", u + "/c/new.txt"}, code: 2},

		{name: "mkdir", args: []string{"mkdir", u + "/c/dir/"}, check: func(t *testing.T, reqs []seen) {
			if reqs[0].Method != "MKCOL" || reqs[0].URI != "/c/dir/" {
				t.Errorf("request %+v", reqs[0])
			}
		}},
		{name: "mkdir exists", args: []string{"mkdir", u + "/c/exists/"}, code: 1, errHas: []string{"405 Method Not Allowed"}},
		{name: "rm", args: []string{"rm", "-r", u + "/c/a.txt"}},
		{name: "rm partial", args: []string{"rm", u + "/perm"}, code: 1, errHas: []string{
			"davit: " + u + "/perm: 403 Forbidden\n", u + "/perm/sub/f.txt: 403 Forbidden"}},
		{name: "rm locked member (424)", args: []string{"rm", u + "/c/d/"}, code: 1, errHas: []string{u + "/d/m.txt: 423 Locked"}},

		{name: "cp", args: []string{"cp", "--no-overwrite", "--depth", "0", u + "/c/a.txt", u + "/c/b%20c.txt"}, check: func(t *testing.T, reqs []seen) {
			h := reqs[0].Header
			if reqs[0].Method != "COPY" || h.Get("Destination") != u+"/c/b%20c.txt" || h.Get("Overwrite") != "F" || h.Get("Depth") != "0" {
				t.Errorf("request %+v", reqs[0])
			}
		}},
		{name: "cp exists", args: []string{"cp", u + "/c/sub/", u + "/c/x/"}, code: 1, errHas: []string{"412 Precondition Failed"}},
		{name: "cp other server", args: []string{"cp", u + "/c/a.txt", "http://other.example/x"}, code: 2, errHas: []string{"not on the server"}},
		{name: "cp bad depth", args: []string{"cp", "--depth", "1", u + "/c/a.txt", u + "/c/x"}, code: 2},
		{name: "mv", args: []string{"mv", u + "/c/a.txt", u + "/c/é.txt"}, check: func(t *testing.T, reqs []seen) {
			h := reqs[0].Header
			if reqs[0].Method != "MOVE" || h.Get("Destination") != u+"/c/%C3%A9.txt" || h.Get("Overwrite") != "" {
				t.Errorf("request %+v", reqs[0])
			}
		}},

		{name: "props get", args: []string{"props", "get", u + "/c/a.txt", "{urn:x}color", "getetag", "{urn:x}nope"}, code: 1,
			stdout: "{urn:x}color\tred\n{DAV:}getetag\t\"e1\"\n", errHas: []string{u + "/c/a.txt {urn:x}nope: 404 Not Found"},
			check: func(t *testing.T, reqs []seen) {
				if !strings.Contains(reqs[0].Body, "color") || !strings.Contains(reqs[0].Body, "<D:getetag/>") || reqs[0].Header.Get("Depth") != "0" {
					t.Errorf("request %+v", reqs[0])
				}
			}},
		{name: "props get bad name", args: []string{"props", "get", u + "/c/a.txt", "{urn:x"}, code: 2},
		{name: "props set", args: []string{"props", "set", u + "/c/a.txt", "{urn:x}color", "red & green"}, check: func(t *testing.T, reqs []seen) {
			if !strings.Contains(reqs[0].Body, `<P:color xmlns:P="urn:x">red &amp; green</P:color>`) {
				t.Errorf("body %s", reqs[0].Body)
			}
		}},
		{name: "props set xml", args: []string{"props", "set", "--xml", u + "/c/a.txt", "{urn:x}color", `<r xmlns="urn:x">1</r>`}, check: func(t *testing.T, reqs []seen) {
			if !strings.Contains(reqs[0].Body, `<P:color xmlns:P="urn:x"><r xmlns="urn:x">1</r></P:color>`) {
				t.Errorf("body %s", reqs[0].Body)
			}
		}},
		{name: "props set malformed xml", args: []string{"props", "set", "--xml", u + "/c/a.txt", "{urn:x}color", "<r>"}, code: 2},
		{name: "props set protected", args: []string{"props", "set", u + "/c/ro.txt", "getcontentlength", "1"}, code: 1,
			errHas: []string{"{DAV:}getcontentlength: 409 Conflict: Property is read-only."}},
		{name: "props rm", args: []string{"props", "rm", u + "/c/a.txt", "{urn:x}color"}, check: func(t *testing.T, reqs []seen) {
			if !strings.Contains(reqs[0].Body, `<D:remove><D:prop><P:color xmlns:P="urn:x"/></D:prop></D:remove>`) {
				t.Errorf("body %s", reqs[0].Body)
			}
		}},
		{name: "props unknown", args: []string{"props", "list", u}, code: 2},

		{name: "lock", args: []string{"lock", u + "/c/a.txt", "--shared", "--depth", "0", "--timeout", "60", "--owner", "me"},
			stdout: "opaquelocktoken:1234\n", check: func(t *testing.T, reqs []seen) {
				r := reqs[0]
				if r.Header.Get("Depth") != "0" || r.Header.Get("Timeout") != "Second-60" || !strings.Contains(r.Body, "<D:shared/>") || !strings.Contains(r.Body, "<D:owner>me</D:owner>") {
					t.Errorf("request %+v", r)
				}
			}},
		{name: "lock default", args: []string{"lock", u + "/c/a.txt"}, stdout: "opaquelocktoken:1234\n", check: func(t *testing.T, reqs []seen) {
			if r := reqs[0]; r.Header.Get("Depth") != "infinity" || r.Header.Get("Timeout") != "" || !strings.Contains(r.Body, "<D:exclusive/>") {
				t.Errorf("request %+v", r)
			}
		}},
		{name: "lock infinite", args: []string{"lock", "--timeout", "infinite", u + "/c/a.txt"}, check: func(t *testing.T, reqs []seen) {
			if reqs[0].Header.Get("Timeout") != "Infinite" {
				t.Errorf("Timeout %q", reqs[0].Header.Get("Timeout"))
			}
		}, stdout: "opaquelocktoken:1234\n"},
		{name: "lock conflict", args: []string{"lock", u + "/c/locked.txt"}, code: 1, errHas: []string{"423 Locked"}},
		{name: "lock bad depth", args: []string{"lock", "--depth", "1", u + "/c/a.txt"}, code: 2},
		{name: "lock bad timeout", args: []string{"lock", "--timeout", "soon", u + "/c/a.txt"}, code: 2},
		{name: "unlock", args: []string{"unlock", u + "/c/a.txt", "opaquelocktoken:1234"}, check: func(t *testing.T, reqs []seen) {
			if h := reqs[0].Header.Get("Lock-Token"); h != "<opaquelocktoken:1234>" {
				t.Errorf("Lock-Token %q", h)
			}
		}},
		{name: "unlock no token", args: []string{"unlock", u + "/c/a.txt"}, code: 2},

		{name: "request table", args: []string{"request", "PROPFIND", u + "/c/ms.txt", "-H", "Depth: 1", "<D:propfind xmlns:D='DAV:'><D:allprop/></D:propfind>"},
			outHas: []string{
				"HREF                      STATUS         PROPERTY                  VALUE\n",
				"/c/                       200 OK         {DAV:}resourcetype        <D:collection></D:collection>\n",
				"/c/                       404 Not Found  {urn:example:corpus}color\n",
			},
			check: func(t *testing.T, reqs []seen) {
				r := reqs[0]
				if r.Method != "PROPFIND" || r.Header.Get("Depth") != "1" || !strings.Contains(r.Header.Get("Content-Type"), "xml") || !strings.Contains(r.Body, "allprop") {
					t.Errorf("request %+v", r)
				}
			}},
		{name: "request failures", args: []string{"request", "DELETE", u + "/perm"}, code: 1,
			outHas: []string{"/perm/sub/f.txt           403 Forbidden\n"}, errHas: []string{"davit: /perm/sub: 403 Forbidden"}},
		{name: "request non-207", args: []string{"request", "OPTIONS", u + "/c/"}, stdout: "HTTP/1.1 200 OK\n"},
		{name: "request 404", args: []string{"request", "GET", u + "/zz"}, code: 1, stdout: "HTTP/1.1 404 Not Found\n<html>Not Found</html>",
			errHas: []string{"404 Not Found"}},
		{name: "request body from stdin", args: []string{"request", "-H", "Content-Type: text/plain", "PUT", u + "/c/new.txt", "-"}, stdin: "in",
			stdout: "HTTP/1.1 201 Created\n", check: func(t *testing.T, reqs []seen) {
				if reqs[0].Body != "in" || reqs[0].Header.Get("Content-Type") != "text/plain" {
					t.Errorf("request %+v", reqs[0])
				}
			}},
		{name: "request body from a file", args: []string{"request", "PUT", u + "/c/new.txt", "@" + local}, stdout: "HTTP/1.1 201 Created\n",
			check: func(t *testing.T, reqs []seen) {
				if reqs[0].Body != "local content" {
					t.Errorf("body %q", reqs[0].Body)
				}
			}},
		{name: "request bad header", args: []string{"request", "-H", "nocolon", "GET", u}, code: 2},
		{name: "request bad method", args: []string{"request", "GE T", u}, code: 2},
		{name: "request malformed 207", args: []string{"request", "PROPFIND", u + "/c/broken/"}, code: 2, errHas: []string{"line 3"}},

		{name: "credentials flag", args: []string{"--user", "ann:s3cr3t", "ls", u + "/c/"}, check: checkAuth("ann", "s3cr3t")},
		{name: "credentials flag after the command", args: []string{"ls", "--user", "ann:s3cr3t", u + "/c/"}, check: checkAuth("ann", "s3cr3t")},
		{name: "credentials env", args: []string{"ls", u + "/c/"}, env: map[string]string{"DAVIT_USER": "bob", "DAVIT_PASSWORD": "pw"}, check: checkAuth("bob", "pw")},
		{name: "credentials env password", args: []string{"ls", "--user", "bob", u + "/c/"}, env: map[string]string{"DAVIT_PASSWORD": "pw2"}, check: checkAuth("bob", "pw2")},
		{name: "credentials not printed", args: []string{"ls", "--user", "ann:s3cr3t", u + "/nothere/"}, code: 1, errHas: []string{"404"}},

		{name: "no command", args: nil, code: 2, errHas: []string{"usage"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, errHas: []string{"unknown command"}},
		{name: "unknown flag", args: []string{"ls", "--nope", u}, code: 2},
		{name: "help", args: []string{"help"}, outHas: []string{"multistatus decode"}},
		{name: "multistatus without decode", args: []string{"multistatus"}, code: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.mu.Lock()
			srv.reqs = nil
			srv.mu.Unlock()
			res := runCLI(t, tt.stdin, tt.env, tt.args...)
			if res.code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", res.code, tt.code, res.stdout, res.stderr)
			}
			if tt.stdout != "" && res.stdout != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", res.stdout, tt.stdout)
			}
			for _, s := range tt.outHas {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, res.stdout)
				}
			}
			for _, s := range tt.errHas {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, res.stderr)
				}
			}
			if strings.Contains(res.stdout+res.stderr, "s3cr3t") {
				t.Errorf("the password was printed")
			}
			if tt.code == 0 && res.stderr != "" {
				t.Errorf("stderr: %s", res.stderr)
			}
			if tt.check != nil {
				reqs := srv.requests()
				if len(reqs) == 0 {
					t.Fatal("no request sent")
				}
				tt.check(t, reqs)
			}
		})
	}
}

func checkAuth(user, pass string) func(t *testing.T, reqs []seen) {
	return func(t *testing.T, reqs []seen) {
		r := &http.Request{Header: reqs[0].Header}
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			t.Errorf("credentials %q %q %v, want %q %q", u, p, ok, user, pass)
		}
	}
}

// TestRequestJSON checks that request --json prints the JSON form of the
// whole answer: what Multistatus.MarshalJSON gives for it.
func TestRequestJSON(t *testing.T) {
	for _, name := range []string{"apache-propfind-named-d1.xml", "apache-delete-partial-permission.xml"} {
		body := corpusFile(t, name)
		srv := newServer(t, map[string]answer{"REPORT /x": xml207(body)})
		res := runCLI(t, "", nil, "request", "--json", "REPORT", srv.URL+"/x")
		ms, err := multistatus.Decode(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(ms)
		if !jsonEqual(t, res.stdout, string(want)) {
			t.Errorf("%s: got %s\nwant %s", name, res.stdout, want)
		}
		if wantCode := map[bool]int{true: 1, false: 0}[strings.Contains(name, "delete")]; res.code != wantCode {
			t.Errorf("%s: exit code %d, want %d; stderr %s", name, res.code, wantCode, res.stderr)
		}
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("invalid JSON %q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}
