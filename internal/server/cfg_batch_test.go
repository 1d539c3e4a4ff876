package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
)

// TestCrossUserBatch: with the batch middleware in front (AppOptions.Wrap),
// every item is judged like a request of its own, so a batch cannot reach
// another user's folder either.
func TestCrossUserBatch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("alice:"+ctHash(t, "alice-pw")+"\nbob:"+ctHash(t, "bob-pw")+"\n"), 0o600)
	e := ctNewWith(t, dir, strings.ReplaceAll(ctHomes, "{{DIR}}/htpasswd", dir+"/htpasswd"), AppOptions{
		Wrap: func(h http.Handler) http.Handler { return batch.Wrap(h, batch.Options{}) },
	})
	e.status(ctReq{method: "PUT", path: "/home/alice/secret.txt", body: "alice's", user: "alice", pw: "alice-pw"}, 201)
	e.status(ctReq{method: "PUT", path: "/home/bob/mine.txt", body: "bob's", user: "bob", pw: "bob-pw"}, 201)

	doc := `{"items": [
	  {"id": "read", "method": "PROPFIND", "href": "../alice/", "depth": "1"},
	  {"id": "abs", "method": "DELETE", "href": "/home/alice/secret.txt"},
	  {"id": "enc", "method": "DELETE", "href": "%2e%2e/alice/secret.txt"},
	  {"id": "copy", "method": "COPY", "href": "mine.txt", "destination": "../alice/stolen.txt"},
	  {"id": "move", "method": "MOVE", "href": "mine.txt", "destination": "/home/alice/moved.txt"},
	  {"id": "own", "method": "COPY", "href": "mine.txt", "destination": "copy.txt"}
	]}`
	rec := e.do(ctReq{method: "POST", path: "/home/bob/", body: doc, user: "bob", pw: "bob-pw",
		hdr: map[string]string{"Content-Type": "application/json", "Accept": "application/json"}})
	if rec.Code != http.StatusMultiStatus {
		t.Fatalf("batch: %d %s", rec.Code, rec.Body.String())
	}
	body := rec.Body.String()
	if b, _ := os.ReadFile(filepath.Join(e.dir, "home/alice/secret.txt")); string(b) != "alice's" {
		t.Errorf("alice's file after bob's batch: %q\n%s", b, body)
	}
	for _, f := range []string{"home/alice/stolen.txt", "home/alice/moved.txt"} {
		if e.exists(f) {
			t.Errorf("%s exists after bob's batch", f)
		}
	}
	if !e.exists("home/bob/copy.txt") {
		t.Errorf("bob's own item did not run:\n%s", body)
	}
	if n := strings.Count(body, `"status":403`); n != 5 {
		t.Errorf("%d items refused with 403, want 5:\n%s", n, body)
	}
	// Without credentials the items get nothing either.
	e.do(ctReq{method: "POST", path: "/home/bob/", body: doc, hdr: map[string]string{"Content-Type": "application/json"}})
	if !e.exists("home/alice/secret.txt") || !e.exists("home/bob/mine.txt") {
		t.Error("an anonymous batch changed something")
	}
}
