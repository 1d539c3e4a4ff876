package batch_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// The examples of docs/batch.md, run as written against a real server on
// 127.0.0.1: the curl commands (checked to appear verbatim in the doc),
// the Python requests script and the PHP cURL script. curl, php (with its
// curl module) and python3 come from scripts/deps.sh; a missing one fails
// the test rather than skipping it.

const docsURL = "http://localhost:8080"

// exampleServer serves an empty tree with notes.txt and old.log, the
// state the examples assume.
func exampleServer(t *testing.T) *httptest.Server {
	t.Helper()
	h := dav.New(dav.Config{FS: storage.NewMem(), Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(batch.Wrap(h, batch.Options{Endpoint: "/.batch"}))
	t.Cleanup(srv.Close)
	for _, p := range []string{"/notes.txt", "/old.log", "/a.txt", "/b.txt"} {
		req, _ := http.NewRequest("PUT", srv.URL+p, strings.NewReader("hello\n"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
	return srv
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/batch.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func examplesDir(t *testing.T) string {
	dir, err := filepath.Abs("../../docs/examples")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func need(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s is not installed: run scripts/deps.sh (it installs the packages the test suite needs)", tool)
	}
}

// run runs a command in docs/examples and returns its output and exit code.
func run(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = examplesDir(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out.String(), code
}

func TestCurlExamples(t *testing.T) {
	need(t, "curl")
	doc := readDoc(t)
	srv := exampleServer(t)
	for _, c := range []struct {
		cmd  string
		want []string
	}{
		{`curl -i -X POST --data-binary @batch.xml -H 'Content-Type: application/xml' http://localhost:8080/`,
			[]string{"HTTP/1.1 207 Multi-Status", `<id xmlns="urn:davit:batch">mk</id>`, "HTTP/1.1 204 No Content", ">archived</state>"}},
		// The same batch again: now mk fails, copy and tag depend on it.
		{`curl -s -X POST --data-binary @batch.json -H 'Content-Type: application/json' -H 'Accept: application/json' http://localhost:8080/`,
			[]string{`"status":405,`, `"status":424,"responsedescription":"not run: item \"mk\", which it depends on, failed","id":"copy"`, `"status":404,`}},
		{`curl -i -X BDELETE --data-binary '<D:delete xmlns:D="DAV:"><D:target><D:href>a.txt</D:href><D:href>b.txt</D:href></D:target></D:delete>' http://localhost:8080/`,
			[]string{"HTTP/1.1 207 Multi-Status", "<D:href>/a.txt</D:href><D:status>HTTP/1.1 204 No Content</D:status>", "<D:href>/b.txt</D:href><D:status>HTTP/1.1 204 No Content</D:status>"}},
	} {
		if !strings.Contains(doc, c.cmd) {
			t.Fatalf("docs/batch.md does not show %s", c.cmd)
		}
		out, code := run(t, "sh", "-c", strings.ReplaceAll(c.cmd, docsURL, srv.URL))
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", c.cmd, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: no %q in\n%s", c.cmd, w, out)
			}
		}
	}
}

// scriptRuns checks a script's two runs: the first succeeds everywhere
// (exit 0), the second, on the changed tree, fails partly (exit 1).
func scriptRuns(t *testing.T, name string, args ...string) {
	t.Helper()
	srv := exampleServer(t)
	url := srv.URL + "/"
	args = append(args[:len(args):len(args)], url)
	args[len(args)-1], args[len(args)-2] = args[len(args)-2], args[len(args)-1] // URL before the file
	out, code := run(t, name, args...)
	for _, w := range []string{"mk\t201\t/archive/", "copy\t201\t/notes.txt", "tag\t200\t/archive/notes.txt", "clean\t204\t/old.log", "list\t404\t/archive/", "list\t200\t/archive/notes.txt"} {
		if !strings.Contains(out, w) {
			t.Errorf("%s: no %q in\n%s", name, w, out)
		}
	}
	if code != 0 {
		t.Fatalf("%s: exit %d, want 0\n%s", name, code, out)
	}
	out, code = run(t, name, args...)
	for _, w := range []string{"mk\t405\t/archive/", "copy\t424\t/notes.txt", "clean\t404\t/old.log"} {
		if !strings.Contains(out, w) {
			t.Errorf("%s, second run: no %q in\n%s", name, w, out)
		}
	}
	if code != 1 {
		t.Fatalf("%s, second run: exit %d, want 1\n%s", name, code, out)
	}
}

// TestPythonExample runs docs/examples/batch.py (requests). Where the
// requests module is missing it runs the same check through urllib, so the
// XML reading is still tested, and says so.
func TestPythonExample(t *testing.T) {
	need(t, "python3")
	if _, code := run(t, "python3", "-c", "import requests"); code == 0 {
		scriptRuns(t, "python3", "batch.py", "batch.xml")
		return
	}
	t.Log("python3 has no requests module (install python3-requests: scripts/deps.sh); running batch.py with a urllib stand-in")
	shim := t.TempDir()
	os.WriteFile(filepath.Join(shim, "requests.py"), []byte(`
import urllib.request, urllib.error
class Response:
    pass
def post(url, data=None, auth=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method="POST")
    try:
        f = urllib.request.urlopen(req)
    except urllib.error.HTTPError as e:
        f = e
    r = Response()
    r.status_code, r.content = f.status, f.read()
    r.text = r.content.decode()
    return r
`), 0o644)
	t.Setenv("PYTHONPATH", shim)
	scriptRuns(t, "python3", "batch.py", "batch.xml")
}

// TestPHPExample runs docs/examples/batch.php (PHP cURL, JSON answer).
func TestPHPExample(t *testing.T) {
	need(t, "php")
	if out, code := run(t, "php", "-r", "exit(function_exists('curl_init') ? 0 : 1);"); code != 0 {
		t.Fatalf("php has no curl module (install php-curl: scripts/deps.sh)\n%s", out)
	}
	scriptRuns(t, "php", "batch.php", "batch.json")
}

// TestSchema validates the example document against docs/batch.xsd with
// xmllint, and checks that the schema refuses what the server refuses.
func TestSchema(t *testing.T) {
	need(t, "xmllint")
	if out, code := run(t, "xmllint", "--noout", "--schema", "../batch.xsd", "batch.xml"); code != 0 {
		t.Fatalf("batch.xml does not validate:\n%s", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<batch xmlns="urn:davit:batch"><item method="PUT" href="a"/></batch>`), 0o644)
	if out, code := run(t, "xmllint", "--noout", "--schema", "../batch.xsd", bad); code == 0 {
		t.Fatalf("the schema accepts an unknown method:\n%s", out)
	}
}
