package dav_test

import (
	"context"
	"fmt"
	"io"
	"iter"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// propfindTree builds /, /dir/, /dir/f.txt, /dir/sub/, /dir/sub/g, /top
// with a dead property {urn:x}color on /dir/f.txt.
func propfindTree(e *env) {
	e.t.Helper()
	e.mkcol("/dir")
	e.mkcol("/dir/sub")
	e.put("/dir/f.txt", "hello")
	e.put("/dir/sub/g", "g")
	e.put("/top", "top")
	e.must(207, "PROPPATCH", "/dir/f.txt", proppatchSet("{urn:x}color", "blue"))
}

var allLive = []string{"creationdate", "displayname", "getcontentlength", "getcontenttype", "getetag",
	"getlastmodified", "resourcetype", "supportedlock", "lockdiscovery"}

var dirLive = []string{"creationdate", "displayname", "getlastmodified", "resourcetype", "supportedlock", "lockdiscovery"}

func davNames(locals ...string) []string {
	out := make([]string, len(locals))
	for i, l := range locals {
		out[i] = multistatus.ClarkName("DAV:", l)
	}
	return out
}

func TestPropfindDepth(t *testing.T) {
	e := newEnv(t)
	propfindTree(e)
	all := []string{"/", "/dir/", "/dir/f.txt", "/dir/sub/", "/dir/sub/g", "/top"}
	for _, tc := range []struct {
		name, target, depth string
		want                []string
	}{
		{"depth 0 root", "/", "0", []string{"/"}},
		{"depth 0 collection", "/dir", "0", []string{"/dir/"}},
		{"depth 0 collection slash", "/dir/", "0", []string{"/dir/"}},
		{"depth 0 file", "/dir/f.txt", "0", []string{"/dir/f.txt"}},
		{"depth 1 root", "/", "1", []string{"/", "/dir/", "/top"}},
		{"depth 1 collection", "/dir", "1", []string{"/dir/", "/dir/f.txt", "/dir/sub/"}},
		{"depth 1 file", "/top", "1", []string{"/top"}},
		{"depth infinity", "/", "infinity", all},
		{"depth infinity uppercase", "/", "Infinity", all},
		{"no depth is infinity", "/", "", all},
		{"depth infinity collection", "/dir", "infinity", []string{"/dir/", "/dir/f.txt", "/dir/sub/", "/dir/sub/g"}},
		{"WindowsExplorer 1,noroot", "/dir", "1,noroot", []string{"/dir/f.txt", "/dir/sub/"}},
		{"WindowsExplorer infinity,noroot", "/dir", "infinity,noroot", []string{"/dir/f.txt", "/dir/sub/", "/dir/sub/g"}},
		{"WindowsExplorer 1,noroot on a file", "/top", "1,noroot", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{}
			if tc.depth != "" {
				hdr = []string{"Depth", tc.depth}
			}
			m := ms(t, e.do("PROPFIND", tc.target, "", hdr...))
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if got := hrefs(m); !slices.Equal(got, want) {
				t.Fatalf("hrefs %v, want %v", got, want)
			}
			for _, r := range m.Responses {
				rt, ok := prop(&r, "DAV:", "resourcetype")
				if !ok {
					t.Fatalf("%v: no resourcetype", r.Hrefs)
				}
				isCol := strings.Contains(string(rt.Inner), "collection")
				if isCol != strings.HasSuffix(r.Hrefs[0], "/") {
					t.Errorf("%s: resourcetype %q and href disagree", r.Hrefs[0], rt.Inner)
				}
			}
		})
	}
}

func TestPropfindBodies(t *testing.T) {
	e := newEnv(t)
	propfindTree(e)
	color := multistatus.ClarkName("urn:x", "color")
	missing := multistatus.ClarkName("urn:x", "missing")
	for _, tc := range []struct {
		name, target, body string
		want               map[string]int // property -> status; others must be absent
		empty              bool           // every value must be empty (propname)
	}{
		{"no body file", "/dir/f.txt", "", with(statuses(200, davNames(allLive...)...), color, 200), false},
		{"no body collection", "/dir", "", statuses(200, davNames(dirLive...)...), false},
		{"allprop", "/dir/f.txt", `<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>`,
			with(statuses(200, davNames(allLive...)...), color, 200), false},
		{"allprop include", "/dir/f.txt", `<D:propfind xmlns:D="DAV:" xmlns:x="urn:x"><D:allprop/><D:include><x:missing/><x:color/><D:getetag/></D:include></D:propfind>`,
			with(with(statuses(200, davNames(allLive...)...), color, 200), missing, 404), false},
		{"propname", "/dir/f.txt", `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`,
			with(statuses(200, davNames(allLive...)...), color, 200), true},
		{"propname collection", "/dir", `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`,
			statuses(200, davNames(dirLive...)...), true},
		{"named", "/dir/f.txt", propfindBody("getetag", "getcontentlength", "{urn:x}color", "{urn:x}missing", "nosuchdavprop"),
			map[string]int{davNames("getetag")[0]: 200, davNames("getcontentlength")[0]: 200, color: 200, missing: 404, davNames("nosuchdavprop")[0]: 404}, false},
		{"named file-only on a collection", "/dir", propfindBody("getcontentlength", "getetag", "getcontenttype", "resourcetype"),
			map[string]int{davNames("getcontentlength")[0]: 404, davNames("getetag")[0]: 404, davNames("getcontenttype")[0]: 404, davNames("resourcetype")[0]: 200}, false},
		{"named only missing", "/top", propfindBody("{urn:x}missing"), map[string]int{missing: 404}, false},
		{"named other prefix", "/dir/f.txt", `<a:propfind xmlns:a="DAV:"><a:prop><b:color xmlns:b="urn:x"/></a:prop></a:propfind>`,
			map[string]int{color: 200}, false},
		{"unknown elements ignored", "/dir/f.txt", `<D:propfind xmlns:D="DAV:"><x:extra xmlns:x="urn:y"/><D:prop><D:getetag/></D:prop></D:propfind>`,
			map[string]int{davNames("getetag")[0]: 200}, false},
		{"white space and comments", "/top", "\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi -->\n<D:propfind xmlns:D=\"DAV:\">\n <D:prop> <D:getcontentlength/> </D:prop>\n</D:propfind>\n\n",
			map[string]int{davNames("getcontentlength")[0]: 200}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := ms(t, e.do("PROPFIND", tc.target, tc.body, "Depth", "0"))
			if len(m.Responses) != 1 {
				t.Fatalf("%d responses", len(m.Responses))
			}
			r := &m.Responses[0]
			got := propStatus(r)
			if len(got) != len(tc.want) {
				t.Errorf("properties %v, want %v", got, tc.want)
			}
			for n, code := range tc.want {
				if got[n] != code {
					t.Errorf("%s: %d, want %d", n, got[n], code)
				}
			}
			for _, ps := range r.Propstats {
				for _, p := range ps.Props {
					if (tc.empty || ps.Status.Code != 200) && len(p.Inner) != 0 {
						t.Errorf("%s has a value %q", p.Name.Local, p.Inner)
					}
				}
			}
		})
	}
}

func with(m map[string]int, name string, code int) map[string]int {
	m[name] = code
	return m
}

func statuses(code int, names ...string) map[string]int {
	m := map[string]int{}
	for _, n := range names {
		m[n] = code
	}
	return m
}

func TestPropfindLiveValues(t *testing.T) {
	at := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	e := newEnv(t)
	e.mem.Now = func() time.Time { return at }
	propfindTree(e)
	r := e.propfind1("/dir/f.txt", allLive...)
	for local, want := range map[string]string{
		"getcontentlength": "5",
		"getcontenttype":   "text/plain; charset=utf-8",
		"getlastmodified":  "Mon, 07 Jun 2021 08:09:10 GMT",
		"creationdate":     "2021-06-07T08:09:10Z",
		"displayname":      "f.txt",
		"resourcetype":     "",
	} {
		if got := propText(r, local); got != want {
			t.Errorf("%s: %q, want %q", local, got, want)
		}
	}
	if got, want := propText(r, "getetag"), e.do("HEAD", "/dir/f.txt", "").Header().Get("ETag"); got != want {
		t.Errorf("getetag %q, ETag %q", got, want)
	}
	sl, _ := prop(r, "DAV:", "supportedlock")
	if c := canon(t, sl.Inner); !strings.Contains(c, "{DAV:}exclusive") || !strings.Contains(c, "{DAV:}shared") || !strings.Contains(c, "{DAV:}write") {
		t.Errorf("supportedlock %s", c)
	}
	rt, _ := prop(e.propfind1("/dir", "resourcetype"), "DAV:", "resourcetype")
	if c := canon(t, rt.Inner); c != "S({DAV:}collection )E" {
		t.Errorf("collection resourcetype %s", c)
	}
}

// TestPropfindHrefs: names that need escaping come back percent-encoded,
// collections end in "/", and the mount prefix is kept.
func TestPropfindHrefs(t *testing.T) {
	e := newEnv(t, func(c *dav.Config) { c.Prefix = "/dav/" })
	e.mkcol("/dav/a%20dir")
	e.put("/dav/a%20dir/100%25%20%23%3F%C3%A9.txt", "x")
	e.mkcol("/dav/a%20dir/sub")
	m := ms(t, e.do("PROPFIND", "/dav/a%20dir/", "", "Depth", "1"))
	want := []string{"/dav/a%20dir/", "/dav/a%20dir/100%25%20%23%3F%C3%A9.txt", "/dav/a%20dir/sub/"}
	if got := hrefs(m); !slices.Equal(got, want) {
		t.Fatalf("hrefs %v, want %v", got, want)
	}
	r := response(t, m, "/dav/a%20dir/100%25%20%23%3F%C3%A9.txt")
	if got := propText(r, "displayname"); got != "100% #?é.txt" {
		t.Errorf("displayname %q", got)
	}
	m = ms(t, e.do("PROPFIND", "/dav", "", "Depth", "0"))
	if got := hrefs(m); !slices.Equal(got, []string{"/dav/"}) {
		t.Fatalf("prefix root hrefs %v", got)
	}
	if w := e.do("PROPFIND", "/elsewhere", "", "Depth", "0"); w.Code != 404 {
		t.Fatalf("outside the prefix: %d", w.Code)
	}
}

func TestPropfindInfinityLimit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int
		target string
		depth  string
		code   int
	}{
		{"under the limit", 10, "/", "infinity", 207},
		{"at the limit", 5, "/", "infinity", 207},
		{"over the limit", 4, "/", "infinity", 403},
		{"over the limit no depth", 4, "/", "", 403},
		{"over the limit noroot", 4, "/", "infinity,noroot", 403},
		{"subtree under the limit", 4, "/dir", "infinity", 207},
		{"depth 1 unaffected", 1, "/", "1", 207},
		{"refused always", -1, "/dir/sub", "infinity", 403},
		{"refused always, file", -1, "/top", "infinity", 207},
		{"refused always, depth 1", -1, "/", "1", 207},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *dav.Config) { c.MaxInfinityEntries = tc.limit })
			propfindTree(e) // 5 entries below the root
			var hdr []string
			if tc.depth != "" {
				hdr = []string{"Depth", tc.depth}
			}
			w := e.do("PROPFIND", tc.target, "", hdr...)
			if tc.code == 403 {
				wantCondition(t, w, 403, "propfind-finite-depth")
				return
			}
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d", w.Code, tc.code)
			}
		})
	}
}

func TestPropfindErrors(t *testing.T) {
	e := newEnv(t, func(c *dav.Config) { c.MaxXMLBytes = 4096 })
	propfindTree(e)
	for _, tc := range []struct {
		name, target, body string
		hdr                []string
		code               int
	}{
		{"malformed xml", "/top", `<D:propfind xmlns:D="DAV:"><D:prop>`, nil, 400},
		{"not xml", "/top", `hello`, nil, 400},
		{"unclosed", "/top", `<D:propfind xmlns:D="DAV:"><D:allprop/>`, nil, 400},
		{"mismatched", "/top", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:prop>`, nil, 400},
		{"wrong root", "/top", `<D:propertyupdate xmlns:D="DAV:"/>`, nil, 400},
		{"root without namespace", "/top", `<propfind><allprop/></propfind>`, nil, 400},
		{"empty propfind", "/top", `<D:propfind xmlns:D="DAV:"/>`, nil, 400},
		{"allprop and prop", "/top", `<D:propfind xmlns:D="DAV:"><D:allprop/><D:prop><D:getetag/></D:prop></D:propfind>`, nil, 400},
		{"two roots", "/top", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><D:propfind xmlns:D="DAV:"/>`, nil, 400},
		{"text after root", "/top", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>junk`, nil, 400},
		{"undeclared prefix", "/top", `<D:propfind><D:allprop/></D:propfind>`, nil, 400},
		{"empty namespace binding", "/top", `<D:propfind xmlns:D="DAV:"><D:prop><x:a xmlns:x=""/></D:prop></D:propfind>`, nil, 400},
		{"latin-1", "/top", `<?xml version="1.0" encoding="ISO-8859-1"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, nil, 400},
		{"too deep", "/top", `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40) + `</D:prop></D:propfind>`, nil, 400},
		{"too large", "/top", `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat("<D:getetag/>", 1000) + `</D:prop></D:propfind>`, nil, 413},
		{"bad depth", "/top", "", []string{"Depth", "2"}, 400},
		{"bad depth noroot 0", "/top", "", []string{"Depth", "0,noroot"}, 400},
		{"missing resource", "/none", "", []string{"Depth", "0"}, 404},
		{"below a file", "/top/x", "", []string{"Depth", "0"}, 404},
		// The resource is looked up before the body is read: a missing
		// one is a 404 whatever the body holds.
		{"missing resource, malformed body", "/none", `<D:propfind xmlns:D="DAV:"><D:prop>`, []string{"Depth", "0"}, 404},
		{"missing resource, body too large", "/none", `<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat("<D:getetag/>", 1000) + `</D:prop></D:propfind>`, nil, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do("PROPFIND", tc.target, tc.body, tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
		})
	}
	t.Run("empty chunked body is allprop", func(t *testing.T) {
		r := newRequest("PROPFIND", "/top", "", "Depth", "0")
		r.Body = io.NopCloser(strings.NewReader(""))
		r.ContentLength = -1
		m := ms(t, e.serve(r))
		if got := propStatus(&m.Responses[0]); got[davNames("getetag")[0]] != 200 {
			t.Fatalf("props %v", got)
		}
	})
	t.Run("white space body is allprop", func(t *testing.T) {
		m := ms(t, e.do("PROPFIND", "/top", "  \n", "Depth", "0"))
		if got := propStatus(&m.Responses[0]); got[davNames("getetag")[0]] != 200 {
			t.Fatalf("props %v", got)
		}
	})
	_ = http.StatusOK
}

// vanishFS makes collections disappear between the listing of their
// parent and their own listing, as a concurrent DELETE does.
type vanishFS struct {
	storage.FS
	gone map[string]bool
}

func (f vanishFS) List(ctx context.Context, name string) iter.Seq2[storage.Info, error] {
	if f.gone[name] {
		return func(yield func(storage.Info, error) bool) {
			yield(storage.Info{}, fmt.Errorf("list %q: %w", name, storage.ErrNotFound))
		}
	}
	return f.FS.List(ctx, name)
}

// TestPropfindCollectionVanishes: a collection deleted while a PROPFIND
// walks the tree is left out; the answer is still whole.
func TestPropfindCollectionVanishes(t *testing.T) {
	mem := storage.NewMem()
	e := newEnv(t, func(c *dav.Config) { c.FS = vanishFS{mem, map[string]bool{"/dir/sub": true}} })
	propfindTree(e)
	m := ms(t, e.do("PROPFIND", "/", "", "Depth", "infinity"))
	want := []string{"/", "/dir/", "/dir/f.txt", "/dir/sub/", "/top"}
	if got := hrefs(m); !slices.Equal(got, want) {
		t.Fatalf("hrefs %v, want %v", got, want)
	}
	e2 := newEnv(t, func(c *dav.Config) { c.FS = vanishFS{storage.NewMem(), map[string]bool{"/dir": true}} })
	e2.mkcol("/dir")
	m = ms(t, e2.do("PROPFIND", "/dir", "", "Depth", "1"))
	if got := hrefs(m); !slices.Equal(got, []string{"/dir/"}) {
		t.Fatalf("Depth 1 on a vanished collection: %v", got)
	}
}

// TestPropfindContentLength: an answer that fits the Multi-Status
// writer's buffer goes out whole with a Content-Length equal to its body;
// a longer one streams without one (chunked on the wire), and both are
// complete documents.
func TestPropfindContentLength(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/small")
	e.put("/small/a.txt", "x")
	e.mkcol("/big")
	for i := range 400 { // about 300 KiB of allprop answer
		e.put(fmt.Sprintf("/big/file-%04d.txt", i), "x")
	}
	for _, tc := range []struct {
		path    string
		depth   string
		n       int
		hasSize bool
	}{
		{"/small/a.txt", "0", 1, true},
		{"/small/", "1", 2, true},
		{"/big/", "1", 401, false},
	} {
		w := e.must(http.StatusMultiStatus, "PROPFIND", tc.path, "", "Depth", tc.depth)
		cl := w.Header().Get("Content-Length")
		if tc.hasSize && cl != strconv.Itoa(w.Body.Len()) {
			t.Errorf("%s: Content-Length %q for a body of %d bytes", tc.path, cl, w.Body.Len())
		}
		if !tc.hasSize && cl != "" {
			t.Errorf("%s: Content-Length %q on a streamed answer", tc.path, cl)
		}
		if got := len(ms(t, w).Responses); got != tc.n {
			t.Errorf("%s: %d responses, want %d", tc.path, got, tc.n)
		}
	}
}
