// Package clienttest holds a WebDAV conformance sequence run by the client
// package's tests against Apache httpd (mod_dav_fs), and meant to run the
// same way against any server, Davit's own included:
//
//	func TestSequence(t *testing.T) {
//		srv := httptest.NewServer(handler)
//		defer srv.Close()
//		c, err := client.New(srv.URL + "/")
//		if err != nil {
//			t.Fatal(err)
//		}
//		clienttest.Sequence(t, c)
//	}
//
// The sequence works in a scratch collection it creates below the client's
// base URL and removes at the end, so the base URL must be a writable
// collection that supports locking (DAV class 2).
package clienttest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/client"
)

// Names used by the sequence: they exercise the client's path encoding and
// the server's decoding (space, '#', '%', '?', non-ASCII).
const (
	fileName = "dé f #1 %?.txt"
	content  = "hello, world\n"
	testNS   = "urn:davit:clienttest"
)

// Sequence runs the steps below in order against the server behind c, as
// subtests; it stops at the first step that fails, since later steps build
// on earlier ones:
//
// OPTIONS (classes 1 and 2), MKCOL (and 405 on an existing collection), PUT
// (create, overwrite), GET (whole, and a byte range), PROPFIND Depth 0 and 1
// with named properties, allprop and propname, PROPPATCH set (text and XML
// values in a custom namespace) read back, remove read back, a protected
// property refused, COPY (Overwrite F gives 412, Depth 0 of a collection),
// MOVE, LOCK exclusive with a timeout and an owner, PUT without the token
// (423, a *client.StatusError), PUT with it, LOCK refresh, a conflicting
// LOCK (423), UNLOCK, a shared depth-infinity LOCK on a collection and a PUT
// into it with and without the token, DELETE of a collection with a locked
// member refused, DELETE, and PROPFIND on what was deleted (404).
func Sequence(t *testing.T, c *client.Client) {
	t.Helper()
	ctx := t.Context()
	root := fmt.Sprintf("davit-seq-%d/", time.Now().UnixNano())
	file := root + fileName
	var token string
	t.Cleanup(func() {
		// Best effort, whatever step failed: the context of t is over.
		ctx := context.Background()
		if token != "" {
			c.Unlock(ctx, root+"moved.txt", token)
		}
		c.Delete(ctx, root)
	})

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"OPTIONS", func(t *testing.T) {
			caps, err := c.Options(ctx, "")
			must(t, err)
			if !caps.HasClass("1") || !caps.HasClass("2") {
				t.Fatalf("DAV classes %q: want 1 and 2", caps.Classes)
			}
		}},
		{"MKCOL", func(t *testing.T) {
			must(t, c.Mkcol(ctx, root))
			err := c.Mkcol(ctx, root)
			if !errors.Is(err, client.ErrMethodNotAllowed) {
				t.Fatalf("MKCOL on an existing collection: %v, want 405", err)
			}
		}},
		{"PUT", func(t *testing.T) {
			res, err := c.Put(ctx, file, strings.NewReader("first"), client.WithContentType("text/plain"))
			must(t, err)
			if !res.Created {
				t.Errorf("first PUT: Created false")
			}
			res, err = c.Put(ctx, file, strings.NewReader(content))
			must(t, err)
			if res.Created {
				t.Errorf("second PUT: Created true")
			}
		}},
		{"GET", func(t *testing.T) {
			if got := get(t, c, file); got != content {
				t.Fatalf("GET: %q, want %q", got, content)
			}
			d, err := c.Get(ctx, file, client.WithRange(7, 5))
			must(t, err)
			defer d.Close()
			b, err := io.ReadAll(d)
			must(t, err)
			if !d.Partial || string(b) != "world" || d.RangeStart != 7 {
				t.Fatalf("GET range: partial %v start %d %q, want the 5 bytes at 7: world", d.Partial, d.RangeStart, b)
			}
		}},
		{"PROPFIND depth 0", func(t *testing.T) {
			res, err := c.Stat(ctx, file)
			must(t, err)
			if res.Path != file || res.IsCollection || res.Size != int64(len(content)) ||
				res.ETag == "" || res.ModTime.IsZero() || res.Name() != fileName {
				t.Fatalf("Stat: %+v", res)
			}
			dir, err := c.Stat(ctx, root)
			must(t, err)
			if !dir.IsCollection {
				t.Fatalf("Stat %s: not a collection", root)
			}
			n := 0
			for res, err := range c.PropFind(ctx, file, client.Depth0, client.AllProp()) {
				must(t, err)
				n++
				if p, ok := res.Prop(client.DAVName("getetag")); !ok || !p.OK() {
					t.Errorf("allprop: no getetag in %+v", res.Props)
				}
			}
			if n != 1 {
				t.Fatalf("allprop depth 0: %d resources", n)
			}
			for res, err := range c.PropFind(ctx, file, client.Depth0, client.PropNames()) {
				must(t, err)
				if _, ok := res.Prop(client.DAVName("getcontentlength")); !ok {
					t.Errorf("propname: no getcontentlength in %+v", res.Props)
				}
			}
		}},
		{"PROPFIND depth 1", func(t *testing.T) {
			must(t, c.Mkcol(ctx, root+"sub/"))
			_, err := c.Put(ctx, root+"sub/b.txt", strings.NewReader("b"))
			must(t, err)
			missing := xml.Name{Space: testNS, Local: "missing"}
			seen := map[string]bool{}
			for res, err := range c.PropFind(ctx, root, client.Depth1,
				client.Props(client.DAVName("resourcetype"), client.DAVName("getcontentlength"), missing)) {
				must(t, err)
				seen[res.Path] = res.IsCollection
				if p, ok := res.Prop(missing); !ok || p.Status.Code != 404 {
					t.Errorf("%s: missing property: %+v, want status 404", res.Path, p)
				}
			}
			want := map[string]bool{root: true, file: false, root + "sub/": true}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Fatalf("depth 1 listing: %v, want %v", seen, want)
			}
			var names []string
			for res, err := range c.ReadDir(ctx, root) {
				must(t, err)
				names = append(names, res.Name())
			}
			if len(names) != 2 {
				t.Fatalf("ReadDir: %q, want the file and sub", names)
			}
		}},
		{"PROPPATCH", func(t *testing.T) {
			color := xml.Name{Space: testNS, Local: "color"}
			shape := xml.Name{Space: testNS, Local: "shape"}
			res, err := c.PropPatch(ctx, file, []client.PropUpdate{
				client.SetText(color, "red & blue"),
				client.SetXML(shape, []byte(`<round xmlns="`+testNS+`">yes</round>`)),
			})
			must(t, err)
			if len(res) != 2 || !res[0].OK() || !res[1].OK() {
				t.Fatalf("PROPPATCH set: %+v", res)
			}
			props := readProps(t, c, file, color, shape)
			if v, ok := props[color].Text(); !ok || v != "red & blue" {
				t.Errorf("color: %q", props[color].Inner)
			}
			if s := string(props[shape].Inner); !props[shape].HasElements() || !strings.Contains(s, "round") || !strings.Contains(s, "yes") {
				t.Errorf("shape: %q", s)
			}
			res, err = c.PropPatch(ctx, file, []client.PropUpdate{client.RemoveProp(color)})
			must(t, err)
			if len(res) != 1 || !res[0].OK() {
				t.Fatalf("PROPPATCH remove: %+v", res)
			}
			if p := readProps(t, c, file, color)[color]; p.Status.Code != 404 {
				t.Errorf("removed color: status %d, want 404", p.Status.Code)
			}
			// A protected property cannot be set: the whole PROPPATCH fails.
			res, err = c.PropPatch(ctx, file, []client.PropUpdate{
				client.SetText(client.DAVName("getcontentlength"), "99"),
				client.SetText(color, "green"),
			})
			var me *client.MultiError
			if !errors.As(err, &me) || len(me.Failures) == 0 {
				t.Fatalf("PROPPATCH of a protected property: %v, want a *MultiError", err)
			}
			if len(res) != 2 {
				t.Errorf("PROPPATCH of a protected property: %d results, want 2", len(res))
			}
			if p := readProps(t, c, file, color)[color]; p.Status.Code != 404 {
				t.Errorf("color after the failed PROPPATCH: status %d, want 404", p.Status.Code)
			}
		}},
		{"COPY", func(t *testing.T) {
			created, err := c.Copy(ctx, file, root+"copy.txt")
			must(t, err)
			if !created {
				t.Errorf("COPY to a new path: created false")
			}
			_, err = c.Copy(ctx, file, root+"copy.txt", client.WithOverwrite(false))
			if !errors.Is(err, client.ErrPreconditionFailed) {
				t.Fatalf("COPY with Overwrite F onto an existing resource: %v, want 412", err)
			}
			created, err = c.Copy(ctx, file, root+"copy.txt")
			must(t, err)
			if created {
				t.Errorf("COPY onto an existing resource: created true")
			}
			_, err = c.Copy(ctx, root+"sub/", root+"empty/", client.WithDepth(client.Depth0))
			must(t, err)
			for res, err := range c.ReadDir(ctx, root+"empty/") {
				must(t, err)
				t.Errorf("COPY Depth 0 copied a member: %s", res.Path)
			}
			if got := get(t, c, root+"copy.txt"); got != content {
				t.Fatalf("copy: %q", got)
			}
		}},
		{"MOVE", func(t *testing.T) {
			_, err := c.Move(ctx, root+"copy.txt", root+"moved.txt")
			must(t, err)
			if _, err := c.Stat(ctx, root+"copy.txt"); !errors.Is(err, client.ErrNotFound) {
				t.Fatalf("Stat of the moved source: %v, want 404", err)
			}
			if got := get(t, c, root+"moved.txt"); got != content {
				t.Fatalf("moved: %q", got)
			}
		}},
		{"LOCK", func(t *testing.T) {
			l, err := c.Lock(ctx, root+"moved.txt", client.LockRequest{Timeout: 100 * time.Second, Owner: "davit-clienttest"})
			must(t, err)
			token = l.Token
			if token == "" || l.Shared || len(l.Discovery) == 0 || !strings.Contains(l.Owner, "davit-clienttest") {
				t.Fatalf("LOCK: %+v", l)
			}
			if l.Timeout <= 0 && l.Timeout != client.InfiniteTimeout {
				t.Errorf("LOCK: timeout %v", l.Timeout)
			}
			_, err = c.Put(ctx, root+"moved.txt", strings.NewReader("x"))
			var se *client.StatusError
			if !errors.As(err, &se) || se.StatusCode != 423 || !errors.Is(err, client.ErrLocked) {
				t.Fatalf("PUT without the lock token: %v, want a 423 *StatusError", err)
			}
			_, err = c.Put(ctx, root+"moved.txt", strings.NewReader("locked write"), client.WithLockToken(token))
			must(t, err)
			l, err = c.RefreshLock(ctx, root+"moved.txt", token, 200*time.Second)
			must(t, err)
			if l.Token != token {
				t.Errorf("refresh: token %q, want %q", l.Token, token)
			}
			_, err = c.Lock(ctx, root+"moved.txt", client.LockRequest{})
			if !errors.Is(err, client.ErrLocked) {
				t.Errorf("conflicting LOCK: %v, want 423", err)
			}
			must(t, c.Unlock(ctx, root+"moved.txt", token))
			token = ""
			_, err = c.Put(ctx, root+"moved.txt", strings.NewReader("unlocked"))
			must(t, err)
		}},
		{"LOCK shared collection", func(t *testing.T) {
			l, err := c.Lock(ctx, root+"sub/", client.LockRequest{Shared: true, Depth: client.DepthInfinity})
			must(t, err)
			if !l.Shared || l.Depth != client.DepthInfinity {
				t.Errorf("shared lock: %+v", l.ActiveLock)
			}
			_, err = c.Put(ctx, root+"sub/c.txt", strings.NewReader("c"))
			if !errors.Is(err, client.ErrLocked) {
				t.Errorf("PUT into a locked collection without the token: %v, want 423", err)
			}
			// A new member is not locked yet: the token is submitted for
			// the locked collection, in a tagged If list.
			_, err = c.Put(ctx, root+"sub/c.txt", strings.NewReader("c"), client.WithLockTokenFor(c.URL(root+"sub/"), l.Token))
			must(t, err)
			// An existing member is locked through the collection's lock.
			_, err = c.Put(ctx, root+"sub/c.txt", strings.NewReader("c2"), client.WithLockToken(l.Token))
			must(t, err)
			must(t, c.Unlock(ctx, root+"sub/", l.Token))
		}},
		{"DELETE", func(t *testing.T) {
			l, err := c.Lock(ctx, root+"sub/b.txt", client.LockRequest{})
			must(t, err)
			err = c.Delete(ctx, root+"sub/")
			if !errors.Is(err, client.ErrLocked) && !errors.Is(err, client.ErrFailedDependency) {
				t.Errorf("DELETE of a collection with a locked member: %v, want 423 or 424", err)
			}
			must(t, c.Unlock(ctx, root+"sub/b.txt", l.Token))
			must(t, c.Delete(ctx, root+"sub/"))
			if _, err := c.Stat(ctx, root+"sub/"); !errors.Is(err, client.ErrNotFound) {
				t.Fatalf("Stat after DELETE: %v, want 404", err)
			}
			must(t, c.Delete(ctx, root))
			if _, err := c.Stat(ctx, root); !errors.Is(err, client.ErrNotFound) {
				t.Fatalf("Stat after DELETE: %v, want 404", err)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.fn) {
			return
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c *client.Client, p string) string {
	t.Helper()
	d, err := c.Get(t.Context(), p)
	must(t, err)
	defer d.Close()
	var b bytes.Buffer
	_, err = io.Copy(&b, d)
	must(t, err)
	return b.String()
}

// readProps returns the named properties of p, by name, with their status.
func readProps(t *testing.T, c *client.Client, p string, names ...xml.Name) map[xml.Name]client.Prop {
	t.Helper()
	out := map[xml.Name]client.Prop{}
	for res, err := range c.PropFind(t.Context(), p, client.Depth0, client.Props(names...)) {
		must(t, err)
		for _, pr := range res.Props {
			out[pr.Name] = pr
		}
	}
	return out
}
