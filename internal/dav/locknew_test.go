package dav_test

import (
	"context"
	"io"
	"sync"
	"testing"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/storage"
)

// beforePutFS runs before once, at the start of the first Put of name:
// what another client does while a LOCK on an unmapped URL makes its
// empty resource (which it does without the handler's lock mutex).
type beforePutFS struct {
	storage.FS
	name   string
	before func()
	mu     sync.Mutex
	done   bool
}

func (f *beforePutFS) Put(ctx context.Context, name string, r io.Reader, opt storage.PutOptions) (storage.Info, bool, error) {
	f.mu.Lock()
	first := name == f.name && !f.done
	f.done = f.done || first
	f.mu.Unlock()
	if first {
		f.before() // its own Put of name goes straight through
	}
	return f.FS.Put(ctx, name, r, opt)
}

// TestLockNewRaced makes the unmapped URL a LOCK is making a resource for
// mapped meanwhile: by a PUT, whose content the LOCK must not replace
// (it locks the resource as it now is, 200), and by another client's
// LOCK, which the first must then meet (423).
func TestLockNewRaced(t *testing.T) {
	for _, tc := range []struct {
		name     string
		meantime func(e *env)
		code     int
	}{
		{"a PUT", func(e *env) { e.must(201, "PUT", "/new", "content") }, 200},
		{"a LOCK", func(e *env) { e.must(201, "LOCK", "/new", lockBody("exclusive", "b")) }, 423},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			f := &beforePutFS{name: "/new"}
			f.before = func() { tc.meantime(e) }
			e = newEnv(t, func(c *dav.Config) { f.FS = c.FS; c.FS = f })
			w := e.do("LOCK", "/new", lockBody("exclusive", "a"), "Depth", "0")
			if w.Code != tc.code {
				t.Fatalf("LOCK: status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			want := ""
			if tc.code == 200 {
				want = "content"
			}
			if got, ok := e.content("/new"); !ok || got != want {
				t.Errorf("content %q (exists %v), want %q", got, ok, want)
			}
			if n := len(e.discovery("/new")); n != 1 {
				t.Errorf("%d locks on /new, want 1", n)
			}
		})
	}
}
