package dav_test

import (
	"net/http"
	"testing"
)

// TestLockDuringUpload takes a lock on a file while a PUT to it, checked
// before the lock existed, is still receiving its body: the PUT must then
// fail with 423 and leave the content the lock holder saw.
func TestLockDuringUpload(t *testing.T) {
	for _, tc := range []struct {
		name   string
		exists bool
	}{{"replace", true}, {"create", false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/d")
			if tc.exists {
				e.put("/d/f", "before")
			}
			req, pw := pipedRequest("PUT", "/d/f")
			done := e.serveAsync(req)
			pw.Write([]byte("half of the "))
			// The PUT has passed its checks and is reading the body.
			e.lock("/d/f", "0", lockExclusive)
			pw.Write([]byte("new content"))
			pw.Close()
			if code := <-done; code != http.StatusLocked {
				t.Fatalf("PUT that raced a LOCK: status %d, want 423", code)
			}
			got, ok := e.content("/d/f")
			if want := map[bool]string{true: "before", false: ""}[tc.exists]; !ok || got != want {
				t.Fatalf("content after the refused PUT = %q (exists %v), want %q", got, ok, want)
			}
		})
	}
}
