package dav_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/storage"
)

// copyMoveTree builds:
//
//	/src/            prop {urn:x}p = "src"
//	/src/a           "a"
//	/src/sub/b       "b", prop {urn:x}p = "b"
//	/file            "file", prop {urn:x}p = "file"
//	/existing        "existing"
//	/dcol/m          "m", prop {urn:x}p = "m"
func copyMoveTree(e *env, prefix string) {
	e.t.Helper()
	e.mkcol(prefix + "/src")
	e.mkcol(prefix + "/src/sub")
	e.mkcol(prefix + "/dcol")
	e.put(prefix+"/src/a", "a")
	e.put(prefix+"/src/sub/b", "b")
	e.put(prefix+"/file", "file")
	e.put(prefix+"/existing", "existing")
	e.put(prefix+"/dcol/m", "m")
	for p, v := range map[string]string{"/src": "src", "/src/sub/b": "b", "/file": "file", "/dcol/m": "m"} {
		e.must(207, "PROPPATCH", prefix+p, proppatchSet("{urn:x}p", v))
	}
}

// deadProp returns the value of {urn:x}p on p, or "" and false.
func (e *env) deadProp(p string) (string, bool) {
	e.t.Helper()
	ps, err := e.props.Get(context.Background(), p)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, pr := range ps {
		if pr.Name.Space == "urn:x" && pr.Name.Local == "p" {
			return string(pr.Inner), true
		}
	}
	return "", false
}

func TestCopyMove(t *testing.T) {
	type check struct {
		path    string
		content string // "" for a collection, "-" for absent
		prop    string // expected {urn:x}p, "" none
	}
	for _, tc := range []struct {
		name, method, src string
		hdr               []string // Destination is among them
		code              int
		checks            []check
	}{
		{"copy file", "COPY", "/file", []string{"Destination", "/new"}, 201,
			[]check{{"/new", "file", "file"}, {"/file", "file", "file"}}},
		{"copy file absolute other host", "COPY", "/file", []string{"Destination", "https://proxy.example:8443/new"}, 201,
			[]check{{"/new", "file", "file"}}},
		{"copy file dot-segments", "COPY", "/file", []string{"Destination", "/dcol/../new"}, 201,
			[]check{{"/new", "file", "file"}}},
		{"copy onto file overwrite default", "COPY", "/file", []string{"Destination", "/existing"}, 204,
			[]check{{"/existing", "file", "file"}}},
		{"copy onto file overwrite T", "COPY", "/file", []string{"Destination", "/existing", "Overwrite", "T"}, 204,
			[]check{{"/existing", "file", "file"}}},
		{"copy onto file overwrite F", "COPY", "/file", []string{"Destination", "/existing", "Overwrite", "F"}, 412,
			[]check{{"/existing", "existing", ""}}},
		{"copy onto collection overwrite F", "COPY", "/src", []string{"Destination", "/dcol", "Overwrite", "F"}, 412,
			[]check{{"/dcol/m", "m", "m"}}},
		{"copy collection infinity", "COPY", "/src", []string{"Destination", "/copy"}, 201,
			[]check{{"/copy", "", "src"}, {"/copy/a", "a", ""}, {"/copy/sub/b", "b", "b"}, {"/src/sub/b", "b", "b"}}},
		{"copy collection infinity slash", "COPY", "/src/", []string{"Destination", "/copy/", "Depth", "infinity"}, 201,
			[]check{{"/copy/sub/b", "b", "b"}}},
		{"copy collection depth 0", "COPY", "/src", []string{"Destination", "/copy", "Depth", "0"}, 201,
			[]check{{"/copy", "", "src"}, {"/copy/a", "-", ""}, {"/copy/sub", "-", ""}}},
		{"copy collection onto collection", "COPY", "/src", []string{"Destination", "/dcol"}, 204,
			[]check{{"/dcol/m", "-", ""}, {"/dcol/sub/b", "b", "b"}, {"/dcol", "", "src"}}},
		{"copy collection onto file", "COPY", "/src", []string{"Destination", "/existing"}, 204,
			[]check{{"/existing/a", "a", ""}}},
		{"copy depth 1", "COPY", "/src", []string{"Destination", "/copy", "Depth", "1"}, 400,
			[]check{{"/copy", "-", ""}}},
		{"copy onto itself", "COPY", "/file", []string{"Destination", "/file"}, 403, nil},
		{"copy collection into itself", "COPY", "/src", []string{"Destination", "/src/sub/in"}, 403,
			[]check{{"/src/sub/in", "-", ""}}},
		{"copy root", "COPY", "/", []string{"Destination", "/rootcopy"}, 403, nil},
		{"copy missing parent", "COPY", "/file", []string{"Destination", "/none/new"}, 409,
			[]check{{"/none", "-", ""}}},
		{"copy parent is a file", "COPY", "/file", []string{"Destination", "/existing/new"}, 409, nil},
		{"copy missing source", "COPY", "/none", []string{"Destination", "/new"}, 404, nil},
		{"copy no destination", "COPY", "/file", nil, 400, nil},
		{"copy bad destination", "COPY", "/file", []string{"Destination", "not a uri"}, 400, nil},
		{"copy destination climbs", "COPY", "/file", []string{"Destination", "/../x"}, 400, nil},
		{"copy bad overwrite", "COPY", "/file", []string{"Destination", "/new", "Overwrite", "maybe"}, 400, nil},
		{"copy if-match wrong", "COPY", "/file", []string{"Destination", "/new", "If-Match", `"nope"`}, 412,
			[]check{{"/new", "-", ""}}},

		{"move file", "MOVE", "/file", []string{"Destination", "/new"}, 201,
			[]check{{"/new", "file", "file"}, {"/file", "-", ""}}},
		{"move file absolute other host", "MOVE", "/file", []string{"Destination", "http://elsewhere/new"}, 201,
			[]check{{"/new", "file", "file"}, {"/file", "-", ""}}},
		{"move onto file", "MOVE", "/file", []string{"Destination", "/existing"}, 204,
			[]check{{"/existing", "file", "file"}, {"/file", "-", ""}}},
		{"move onto file overwrite F", "MOVE", "/file", []string{"Destination", "/existing", "Overwrite", "F"}, 412,
			[]check{{"/existing", "existing", ""}, {"/file", "file", "file"}}},
		{"move collection", "MOVE", "/src", []string{"Destination", "/moved"}, 201,
			[]check{{"/moved", "", "src"}, {"/moved/sub/b", "b", "b"}, {"/src", "-", ""}}},
		{"move collection depth infinity", "MOVE", "/src", []string{"Destination", "/moved", "Depth", "infinity"}, 201,
			[]check{{"/moved/a", "a", ""}}},
		{"move collection onto collection", "MOVE", "/src", []string{"Destination", "/dcol"}, 204,
			[]check{{"/dcol/m", "-", ""}, {"/dcol/sub/b", "b", "b"}, {"/src", "-", ""}}},
		{"move depth 0", "MOVE", "/src", []string{"Destination", "/moved", "Depth", "0"}, 400,
			[]check{{"/src/a", "a", ""}}},
		{"move onto itself", "MOVE", "/src", []string{"Destination", "/src/"}, 403, nil},
		{"move into itself", "MOVE", "/src", []string{"Destination", "/src/sub/x"}, 403,
			[]check{{"/src/sub/b", "b", "b"}}},
		{"move missing parent", "MOVE", "/file", []string{"Destination", "/none/x"}, 409,
			[]check{{"/file", "file", "file"}}},
		{"move root", "MOVE", "/", []string{"Destination", "/x"}, 403, nil},
		{"move onto root", "MOVE", "/file", []string{"Destination", "/"}, 403, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			copyMoveTree(e, "")
			w := e.do(tc.method, tc.src, "", tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if tc.code == 201 {
				if loc := w.Header().Get("Location"); loc == "" {
					t.Errorf("201 without Location")
				}
			}
			for _, c := range tc.checks {
				info, err := e.fs.Stat(context.Background(), c.path)
				switch {
				case c.content == "-":
					if err == nil {
						t.Errorf("%s exists", c.path)
					}
					continue
				case err != nil:
					t.Errorf("%s: %v", c.path, err)
					continue
				case c.content == "" && !info.IsDir:
					t.Errorf("%s is not a collection", c.path)
				case c.content != "":
					if got, _ := e.content(c.path); got != c.content {
						t.Errorf("%s: content %q, want %q", c.path, got, c.content)
					}
				}
				got, _ := e.deadProp(c.path)
				if got != c.prop {
					t.Errorf("%s: property %q, want %q", c.path, got, c.prop)
				}
			}
		})
	}
}

// TestCopyMoveDestinationPrefix: under a mount prefix, Destination must
// name a path under it; elsewhere is another server (502).
func TestCopyMoveDestinationPrefix(t *testing.T) {
	for _, tc := range []struct {
		dest string
		code int
	}{
		{"/dav/new", 201},
		{"http://public.example/dav/new", 201},
		{"https://other-host:9999/dav/new", 201},
		{"/other/new", 502},
		{"http://public.example/other/new", 502},
		{"/davx/new", 502},
		{"/new", 502},
		{"/dav/../new", 400},
	} {
		for _, method := range []string{"COPY", "MOVE"} {
			t.Run(method+" "+tc.dest, func(t *testing.T) {
				e := newEnv(t, func(c *dav.Config) { c.Prefix = "/dav" })
				copyMoveTree(e, "/dav")
				w := e.do(method, "/dav/file", "", "Destination", tc.dest)
				if w.Code != tc.code {
					t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
				}
				if tc.code == 201 {
					if got, _ := e.content("/dav/new"); got != "file" {
						t.Fatalf("/dav/new: %q", got)
					}
					if loc := w.Header().Get("Location"); loc != "/dav/new" {
						t.Errorf("Location %q", loc)
					}
				}
			})
		}
	}
}

// TestMoveFallback: a backend that cannot rename collections gets a copy
// then a remove, with the same outcome.
func TestMoveFallback(t *testing.T) {
	mem := storage.NewMem()
	mem.NoDirRename = true
	e := newEnv(t, func(c *dav.Config) { c.FS = mem })
	copyMoveTree(e, "")
	e.must(http.StatusCreated, "MOVE", "/src", "", "Destination", "/moved")
	for p, want := range map[string]string{"/moved/a": "a", "/moved/sub/b": "b"} {
		if got, _ := e.content(p); got != want {
			t.Errorf("%s: %q", p, got)
		}
	}
	if v, _ := e.deadProp("/moved"); v != "src" {
		t.Errorf("/moved property %q", v)
	}
	if v, _ := e.deadProp("/moved/sub/b"); v != "b" {
		t.Errorf("/moved/sub/b property %q", v)
	}
	for _, p := range []string{"/src", "/src/a", "/src/sub/b"} {
		if e.exists(p) {
			t.Errorf("%s still exists", p)
		}
		if _, ok := e.deadProp(p); ok {
			t.Errorf("%s keeps a property", p)
		}
	}
	// Onto an existing collection too.
	e.must(http.StatusNoContent, "MOVE", "/moved", "", "Destination", "/dcol")
	if e.exists("/dcol/m") || !e.exists("/dcol/sub/b") || e.exists("/moved") {
		t.Fatalf("MOVE onto a collection with the fallback")
	}
}

// TestCopyMoveLocksDoNotFollow: dead properties follow a COPY or MOVE,
// locks never do (RFC 4918 §7.5); a moved lock's token is gone.
func TestCopyMoveLocksDoNotFollow(t *testing.T) {
	e := newEnv(t)
	copyMoveTree(e, "")
	ftok := e.lock("/file", "0", lockExclusive)
	ctok := e.lock("/src", "infinity", lockExclusive)

	e.must(http.StatusCreated, "COPY", "/file", "", "Destination", "/copied")
	e.must(http.StatusCreated, "COPY", "/src", "", "Destination", "/copiedcol")
	for _, p := range []string{"/copied", "/copiedcol", "/copiedcol/sub/b"} {
		if ls, _ := e.locks.Covering(context.Background(), p); len(ls) != 0 {
			t.Errorf("%s is locked after COPY: %v", p, ls)
		}
		r := e.propfind1(p, "lockdiscovery")
		if v, ok := prop(r, "DAV:", "lockdiscovery"); !ok || len(v.Inner) != 0 {
			t.Errorf("%s lockdiscovery %q", p, v.Inner)
		}
	}
	if _, err := e.locks.Get(context.Background(), ftok); err != nil {
		t.Fatalf("the source's lock went away with COPY: %v", err)
	}

	e.must(http.StatusCreated, "MOVE", "/file", "", "Destination", "/moved", "If", "(<"+ftok+">)")
	e.must(http.StatusCreated, "MOVE", "/src", "", "Destination", "/movedcol", "If", "(<"+ctok+">)")
	for _, p := range []string{"/moved", "/movedcol", "/movedcol/a"} {
		if ls, _ := e.locks.Covering(context.Background(), p); len(ls) != 0 {
			t.Errorf("%s is locked after MOVE: %v", p, ls)
		}
	}
	for _, tok := range []string{ftok, ctok} {
		if _, err := e.locks.Get(context.Background(), tok); err == nil {
			t.Errorf("lock %s survived the MOVE of its resource", tok)
		}
	}
	if v, _ := e.deadProp("/moved"); v != "file" {
		t.Errorf("property did not follow MOVE: %q", v)
	}
	// A new resource where the lock was is not locked.
	e.must(http.StatusCreated, "PUT", "/file", "again")
	e.must(http.StatusCreated, "MKCOL", "/src", "")
	e.must(http.StatusCreated, "PUT", "/src/a", "again")
}

// TestCopyPartialFailure: members that cannot be copied are listed in a
// 207 and the rest is copied; their properties are not left behind.
func TestCopyPartialFailure(t *testing.T) {
	ff := &copyFailFS{FS: storage.NewMem(), fail: "/copy/sub/b"}
	e := newEnv(t, func(c *dav.Config) { c.FS = ff })
	copyMoveTree(e, "")
	m := ms(t, e.do("COPY", "/src", "", "Destination", "/copy"))
	if got := hrefs(m); !slices.Equal(got, []string{"/copy/sub/b"}) {
		t.Fatalf("207 hrefs %v", got)
	}
	if m.Responses[0].Status.Code != 403 {
		t.Fatalf("status %v", m.Responses[0].Status)
	}
	if got, _ := e.content("/copy/a"); got != "a" {
		t.Errorf("/copy/a: %q", got)
	}
	if _, ok := e.deadProp("/copy/sub/b"); ok {
		t.Errorf("the failed member's copied property remains")
	}
	if v, _ := e.deadProp("/copy"); v != "src" {
		t.Errorf("/copy property %q", v)
	}
}

type copyFailFS struct {
	storage.FS
	fail string
}

func (f *copyFailFS) CopyFile(ctx context.Context, src, dst string) error {
	if dst == f.fail {
		return storage.ErrPermission
	}
	return f.FS.CopyFile(ctx, src, dst)
}

var _ = lock.Infinity
var _ = strings.Contains

// appearFS creates the destination just before Rename and Mkdir, as a
// concurrent request would between the handler's checks and the move.
type appearFS struct {
	storage.FS
}

func (f appearFS) Rename(ctx context.Context, src, dst string) error {
	f.FS.Put(ctx, dst, strings.NewReader("intruder"), storage.PutOptions{ExpectedSize: -1})
	return f.FS.Rename(ctx, src, dst)
}

func (f appearFS) Mkdir(ctx context.Context, name string) error {
	if strings.HasPrefix(name, "/dst") {
		f.FS.Mkdir(ctx, name)
	}
	return f.FS.Mkdir(ctx, name)
}

// TestCopyMoveDestinationAppears: a destination created by another
// request after the checks is a 412 (Overwrite F) or 409, never a 405,
// and the intruder is left alone.
func TestCopyMoveDestinationAppears(t *testing.T) {
	for _, tc := range []struct {
		method, src, overwrite string
		code                   int
	}{
		{"MOVE", "/file", "F", 412},
		{"MOVE", "/file", "T", 409},
		{"MOVE", "/src", "F", 412},
		{"COPY", "/src", "F", 412},
		{"COPY", "/src", "T", 409},
	} {
		t.Run(tc.method+tc.src+tc.overwrite, func(t *testing.T) {
			mem := storage.NewMem()
			e := newEnv(t, func(c *dav.Config) { c.FS = appearFS{mem} })
			copyMoveTree(e, "")
			w := e.do(tc.method, tc.src, "", "Destination", "/dst", "Overwrite", tc.overwrite)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if !e.exists(tc.src) {
				t.Fatalf("the source is gone")
			}
		})
	}
}

// TestCopyMoveOntoAncestor: a COPY or MOVE whose destination is a
// collection holding the source, with Overwrite: T, would delete the
// source with the destination (RFC 4918 §9.8.4, §9.9.3) before copying
// it. It is refused, and nothing is deleted; with Overwrite: F it is the
// usual 412.
func TestCopyMoveOntoAncestor(t *testing.T) {
	for _, tc := range []struct{ method, src, dst, overwrite string }{
		{"MOVE", "/a/b", "/a", "T"},
		{"COPY", "/a/b", "/a", "T"},
		{"MOVE", "/a/b/precious", "/a", "T"},
		{"COPY", "/a/b/precious", "/a/", "T"},
		{"MOVE", "/a/b/precious", "/a/b", ""},
		{"COPY", "/a/other", "/a", "T"},
		{"MOVE", "/a/b", "/a", "F"},
	} {
		t.Run(tc.method+" "+tc.src+" to "+tc.dst+" "+tc.overwrite, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/a")
			e.mkcol("/a/b")
			e.put("/a/b/precious", "data")
			e.put("/a/other", "other")
			hdr := []string{"Destination", tc.dst}
			if tc.overwrite != "" {
				hdr = append(hdr, "Overwrite", tc.overwrite)
			}
			want := http.StatusForbidden
			if tc.overwrite == "F" {
				want = http.StatusPreconditionFailed
			}
			e.must(want, tc.method, tc.src, "", hdr...)
			for p, c := range map[string]string{"/a/b/precious": "data", "/a/other": "other"} {
				if got, ok := e.content(p); !ok || got != c {
					t.Errorf("%s after the refusal: %q, %v; want %q", p, got, ok, c)
				}
			}
		})
	}
}

// TestCopyMaxEntries: a COPY Depth: infinity of more resources than
// MaxCopyEntries (the source and its members) is refused with 403 before
// anything is copied or the destination overwritten; Depth 0 is not
// bounded, nor MOVE.
func TestCopyMaxEntries(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		method string
		depth  string
		dstOld bool // a destination exists, overwritten
		want   int
	}{
		{"at the bound", 5, "COPY", "infinity", false, http.StatusCreated},
		{"one over", 4, "COPY", "infinity", false, http.StatusForbidden},
		{"one over, overwriting", 4, "COPY", "infinity", true, http.StatusForbidden},
		{"depth 0", 1, "COPY", "0", false, http.StatusCreated},
		{"move", 1, "MOVE", "", false, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *dav.Config) { c.MaxCopyEntries = tt.max })
			e.mkcol("/src") // 5 resources: /src, a, d, d/b, d/c
			e.put("/src/a", "a")
			e.mkcol("/src/d")
			e.put("/src/d/b", "b")
			e.put("/src/d/c", "c")
			if tt.dstOld {
				e.put("/dst", "old")
			}
			hdr := []string{"Destination", "/dst", "Overwrite", "T"}
			if tt.depth != "" {
				hdr = append(hdr, "Depth", tt.depth)
			}
			w := e.do(tt.method, "/src", "", hdr...)
			if tt.dstOld && tt.want == http.StatusCreated {
				tt.want = http.StatusNoContent
			}
			if w.Code != tt.want {
				t.Fatalf("%s /src: %d, want %d: %s", tt.method, w.Code, tt.want, w.Body)
			}
			if tt.want != http.StatusForbidden {
				return
			}
			if got, ok := e.content("/dst"); tt.dstOld && (!ok || got != "old") {
				t.Errorf("the destination was overwritten: %q %v", got, ok)
			}
			if !tt.dstOld && e.exists("/dst") {
				t.Errorf("the refused COPY made /dst")
			}
		})
	}
}

// TestCopyMaxEntriesLinkLoop: a folder holding links to itself on a
// LocalFS counts the entries the copy would make through them, so the
// bound refuses it where the copy would multiply them.
func TestCopyMaxEntriesLinkLoop(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "a"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "a", "f.txt"), []byte("x"), 0o644))
	must(t, os.Symlink(".", filepath.Join(dir, "a", "l1")))
	must(t, os.Symlink(".", filepath.Join(dir, "a", "l2")))
	e := newLocalEnv(t, dir, func(c *dav.Config) { c.MaxCopyEntries = 100 })
	if w := e.do("COPY", "/a", "", "Destination", "/b"); w.Code != http.StatusForbidden {
		t.Errorf("COPY /a: %d, want 403", w.Code)
	}
	if _, err := os.Lstat(filepath.Join(dir, "b")); err == nil {
		t.Errorf("the refused COPY made /b")
	}
}
