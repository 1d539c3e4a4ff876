package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// batchCLI runs `davit ARGS` in-process against a Davit server with
// batches, holding /d/a.txt and /d/b.txt.
func batchCLI(t *testing.T, stdin string, env map[string]string, args ...string) (stdout, stderr string, code int, url string) {
	t.Helper()
	h := dav.New(dav.Config{FS: storage.NewMem(), Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(batch.Wrap(h, batch.Options{}))
	t.Cleanup(srv.Close)
	for _, r := range []struct{ method, path string }{{"MKCOL", "/d/"}, {"PUT", "/d/a.txt"}, {"PUT", "/d/b.txt"}} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader("x"))
		if r.method == "MKCOL" {
			req.Body, req.ContentLength = http.NoBody, 0
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s %s: %v %v", r.method, r.path, err, resp)
		}
		resp.Body.Close()
	}
	var out, errb bytes.Buffer
	e := &cli{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return strings.ReplaceAll(env[k], "URL", srv.URL) }}
	for i := range args {
		args[i] = strings.ReplaceAll(args[i], "URL", srv.URL)
	}
	code = e.run(context.Background(), args)
	return out.String(), errb.String(), code, srv.URL
}

func TestBatchCommand(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "b.xml")
	os.WriteFile(doc, []byte(`<batch xmlns="urn:davit:batch">
		<item id="cp" method="COPY" href="a.txt" destination="c.txt"/>
		<item id="rm" method="DELETE" href="b.txt"/>
		<item id="ls" method="PROPFIND" href="c.txt" depth="0"><propfind xmlns="DAV:"><prop><getcontentlength/></prop></propfind></item>
	</batch>`), 0o644)
	out, errs, code, _ := batchCLI(t, "", nil, "batch", doc, "URL/d/")
	want := "cp\t201 Created\t/d/a.txt\nrm\t204 No Content\t/d/b.txt\nls\t200 OK\t/d/c.txt\n"
	if code != 0 || out != want {
		t.Fatalf("exit %d\n%s\nwant\n%s\nstderr %s", code, out, want, errs)
	}

	// JSON on stdin, URL from $DAVIT_URL; a failure exits 1.
	out, _, code, _ = batchCLI(t, `{"items":[{"id":"x","method":"DELETE","href":"nope"},{"id":"y","method":"MKCOL","href":"n/","depends":["x"]}]}`,
		map[string]string{"DAVIT_URL": "URL/d/"}, "batch", "-")
	if code != 1 || !strings.Contains(out, "x\t404 Not Found\t/d/nope: not found\n") || !strings.Contains(out, `y	424 Failed Dependency	/d/n/: not run: item "x", which it depends on, failed`) {
		t.Fatalf("exit %d\n%s", code, out)
	}

	// Options: a dry run, minimal.
	out, _, code, _ = batchCLI(t, `<batch xmlns="urn:davit:batch"><item id="rm" method="DELETE" href="a.txt"/><item id="bad" method="DELETE" href="zz"/></batch>`,
		nil, "batch", "--dry-run", "--minimal", "-", "URL/d/")
	if code != 1 || out != "bad\t404 Not Found\t/d/zz: dry run: not found\n" {
		t.Fatalf("exit %d\n%q", code, out)
	}

	// A refused batch: the status on stderr, exit 1; usage: exit 2.
	_, errs, code, _ = batchCLI(t, `<batch xmlns="urn:davit:batch"><item method="GET" href="a"/></batch>`, nil, "batch", "-", "URL/d/")
	if code != 1 || !strings.Contains(errs, "400 Bad Request") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if _, _, code, _ = batchCLI(t, "", nil, "batch", "-"); code != 2 {
		t.Fatalf("usage: exit %d", code)
	}
}
