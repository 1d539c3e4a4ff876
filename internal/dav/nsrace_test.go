package dav_test

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
)

// gatedProps holds every Apply until released, after telling that one
// has begun.
type gatedProps struct {
	props.Store
	begun, release chan struct{}
}

func (g gatedProps) Apply(ctx context.Context, p string, patches []props.Patch) error {
	g.begun <- struct{}{}
	<-g.release
	return g.Store.Apply(ctx, p, patches)
}

// TestPropPatchRacesRemoval runs a DELETE, MOVE or COPY while a PROPPATCH
// that found its resource is writing. The removal must wait for the write
// and then take the properties with the resource: no property may stay on
// a missing path (nor on a resource that replaced the patched one).
func TestPropPatchRacesRemoval(t *testing.T) {
	const patch = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><t:owner xmlns:t="urn:t">me</t:owner></D:prop></D:set></D:propertyupdate>`
	for _, tc := range []struct {
		name   string
		method string
		target string
		hdr    []string
		want   int
		// after the two requests: paths that must have no properties,
		// and the one that must have the patched one (if any)
		bare []string
		kept string
	}{
		{"delete the file", "DELETE", "/d/f", nil, 204, []string{"/d/f"}, ""},
		{"delete its folder", "DELETE", "/d", nil, 204, []string{"/d", "/d/f"}, ""},
		{"move the file", "MOVE", "/d/f", []string{"Destination", "/d/g"}, 201, []string{"/d/f"}, "/d/g"},
		{"move its folder", "MOVE", "/d", []string{"Destination", "/e"}, 201, []string{"/d/f"}, "/e/f"},
		{"copy over it", "COPY", "/x", []string{"Destination", "/d/f"}, 204, []string{"/d/f"}, ""},
		{"copy it away", "COPY", "/d/f", []string{"Destination", "/d/g"}, 201, nil, "/d/f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gate := gatedProps{begun: make(chan struct{}), release: make(chan struct{})}
			e := newEnv(t, func(c *dav.Config) {
				gate.Store = c.Props
				c.Props = gate
			})
			e.mkcol("/d")
			e.put("/d/f", "f")
			e.put("/x", "x")
			patched := e.serveAsync(newRequest("PROPPATCH", "/d/f", patch))
			<-gate.begun // the PROPPATCH found /d/f and is writing
			other := e.serveAsync(newRequest(tc.method, tc.target, "", tc.hdr...))
			// Long enough for the other request to finish, had it not
			// waited for the write.
			time.Sleep(50 * time.Millisecond)
			close(gate.release)
			if code := <-patched; code != http.StatusMultiStatus {
				t.Errorf("PROPPATCH: %d, want 207", code)
			}
			if code := <-other; code != tc.want {
				t.Errorf("%s: %d, want %d", tc.method, code, tc.want)
			}
			for _, p := range tc.bare {
				if ps, err := e.props.Get(context.Background(), p); err != nil || len(ps) != 0 {
					t.Errorf("%s keeps %d properties (%v) after the race", p, len(ps), err)
				}
			}
			if tc.kept != "" {
				if ps, err := e.props.Get(context.Background(), tc.kept); err != nil || len(ps) != 1 {
					t.Errorf("%s has %d properties (%v), want the patched one", tc.kept, len(ps), err)
				}
			}
		})
	}
}

// TestPropPatchAfterRemoval removes the resource while a PROPPATCH that
// found it is still reading its body: the PROPPATCH must then answer 404
// and write nothing, not set properties on a missing path.
func TestPropPatchAfterRemoval(t *testing.T) {
	for _, method := range []string{"DELETE", "MOVE"} {
		t.Run(method, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/d")
			e.put("/d/f", "f")
			req, pw := pipedRequest("PROPPATCH", "/d/f")
			done := e.serveAsync(req)
			pw.Write([]byte(`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>`))
			// The PROPPATCH has found /d/f and is reading its body.
			switch method {
			case "DELETE":
				e.must(http.StatusNoContent, "DELETE", "/d/f", "")
			case "MOVE":
				e.must(http.StatusCreated, "MOVE", "/d/f", "", "Destination", "/d/g")
			}
			pw.Write([]byte(`<t:owner xmlns:t="urn:t">me</t:owner></D:prop></D:set></D:propertyupdate>`))
			pw.Close()
			if code := <-done; code != http.StatusNotFound {
				t.Errorf("PROPPATCH on a resource removed meanwhile: %d, want 404", code)
			}
			for _, p := range []string{"/d/f", "/d/g"} {
				if ps, err := e.props.Get(context.Background(), p); err != nil || len(ps) != 0 {
					t.Errorf("%s has %d properties (%v), want none", p, len(ps), err)
				}
			}
		})
	}
}

// gatedFS holds the second CopyFile until released, after telling the
// destination of the first.
type gatedFS struct {
	storage.FS
	n       *atomic.Int32
	first   chan string
	release chan struct{}
}

func (g gatedFS) CopyFile(ctx context.Context, src, dst string) error {
	switch g.n.Add(1) {
	case 1:
		err := g.FS.CopyFile(ctx, src, dst)
		g.first <- dst
		return err
	case 2:
		<-g.release
	}
	return g.FS.CopyFile(ctx, src, dst)
}

// TestCopyRacesRemoval deletes a member a COPY has just made, while the
// COPY goes on: the properties the COPY then gives its members must not
// land on the missing one.
func TestCopyRacesRemoval(t *testing.T) {
	const patch = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><t:owner xmlns:t="urn:t">me</t:owner></D:prop></D:set></D:propertyupdate>`
	gate := gatedFS{n: new(atomic.Int32), first: make(chan string, 1), release: make(chan struct{})}
	e := newEnv(t, func(c *dav.Config) {
		gate.FS = c.FS
		c.FS = gate
	})
	e.mkcol("/src")
	for _, p := range []string{"/src/a", "/src/b", "/src/c"} {
		e.put(p, "x")
		e.must(http.StatusMultiStatus, "PROPPATCH", p, patch)
	}
	copied := e.serveAsync(newRequest("COPY", "/src", "", "Destination", "/dst"))
	gone := <-gate.first
	e.must(http.StatusNoContent, "DELETE", gone, "")
	close(gate.release)
	if code := <-copied; code != http.StatusCreated {
		t.Fatalf("COPY: %d, want 201", code)
	}
	paths, err := e.props.Paths(context.Background(), "/dst")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 || slices.Contains(paths, gone) {
		t.Errorf("properties under /dst on %q; want the two members left, not %s", paths, gone)
	}
}
