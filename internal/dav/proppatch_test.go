package dav_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/multistatus"
)

const ppHead = `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x">`

func TestProppatch(t *testing.T) {
	x := func(local string) string { return multistatus.ClarkName("urn:x", local) }
	d := func(local string) string { return multistatus.ClarkName("DAV:", local) }
	for _, tc := range []struct {
		name   string
		target string
		body   string
		want   map[string]int    // property -> status in the 207
		after  map[string]string // {urn:x} local -> value afterwards ("-" absent)
		conds  map[int]string    // status -> condition its propstat must carry
		code   int               // when not 207
	}{
		{name: "set two", target: "/f", body: ppHead + `<D:set><D:prop><x:a>1</x:a><x:b>2</x:b></D:prop></D:set></D:propertyupdate>`,
			want: map[string]int{x("a"): 200, x("b"): 200}, after: map[string]string{"a": "1", "b": "2", "old": "kept"}},
		{name: "set on a collection", target: "/dir/", body: ppHead + `<D:set><D:prop><x:a>1</x:a></D:prop></D:set></D:propertyupdate>`,
			want: map[string]int{x("a"): 200}},
		{name: "remove", target: "/f", body: ppHead + `<D:remove><D:prop><x:old/></D:prop></D:remove></D:propertyupdate>`,
			want: map[string]int{x("old"): 200}, after: map[string]string{"old": "-"}},
		{name: "remove absent", target: "/f", body: ppHead + `<D:remove><D:prop><x:never/></D:prop></D:remove></D:propertyupdate>`,
			want: map[string]int{x("never"): 200}, after: map[string]string{"old": "kept"}},
		{name: "set then remove in order", target: "/f", body: ppHead + `<D:set><D:prop><x:a>1</x:a></D:prop></D:set><D:remove><D:prop><x:a/></D:prop></D:remove></D:propertyupdate>`,
			after: map[string]string{"a": "-"}},
		{name: "remove then set in order", target: "/f", body: ppHead + `<D:remove><D:prop><x:old/></D:prop></D:remove><D:set><D:prop><x:old>new</x:old></D:prop></D:set></D:propertyupdate>`,
			after: map[string]string{"old": "new"}},
		{name: "replace", target: "/f", body: ppHead + `<D:set><D:prop><x:old>replaced</x:old></D:prop></D:set></D:propertyupdate>`,
			want: map[string]int{x("old"): 200}, after: map[string]string{"old": "replaced"}},
		{name: "protected getetag", target: "/f", body: ppHead + `<D:set><D:prop><x:a>1</x:a><D:getetag>"forged"</D:getetag><x:b>2</x:b></D:prop></D:set><D:remove><D:prop><x:old/></D:prop></D:remove></D:propertyupdate>`,
			want:  map[string]int{x("a"): 424, d("getetag"): 403, x("b"): 424, x("old"): 424},
			after: map[string]string{"a": "-", "b": "-", "old": "kept"}, conds: map[int]string{403: "cannot-modify-protected-property"}},
		{name: "protected remove", target: "/f", body: ppHead + `<D:remove><D:prop><D:resourcetype/><D:getcontentlength/></D:prop></D:remove><D:set><D:prop><x:a>1</x:a></D:prop></D:set></D:propertyupdate>`,
			want:  map[string]int{d("resourcetype"): 403, d("getcontentlength"): 403, x("a"): 424},
			after: map[string]string{"a": "-"}, conds: map[int]string{403: "cannot-modify-protected-property"}},
		{name: "protected lockdiscovery on collection", target: "/dir", body: ppHead + `<D:set><D:prop><D:lockdiscovery/></D:prop></D:set></D:propertyupdate>`,
			want: map[string]int{d("lockdiscovery"): 403}},
		{name: "too large", target: "/f", body: ppHead + `<D:set><D:prop><x:a>1</x:a><x:big>` + strings.Repeat("v", 70<<10) + `</x:big></D:prop></D:set></D:propertyupdate>`,
			want: map[string]int{x("a"): -1, x("big"): 507}, after: map[string]string{"a": "-", "big": "-", "old": "kept"}},
		{name: "missing resource", target: "/none", body: ppHead + `<D:set><D:prop><x:a>1</x:a></D:prop></D:set></D:propertyupdate>`, code: 404},
		{name: "malformed", target: "/f", body: ppHead + `<D:set><D:prop><x:a>1</x:b></D:prop></D:set></D:propertyupdate>`, code: 400, after: map[string]string{"old": "kept"}},
		{name: "no body", target: "/f", body: "", code: 400},
		{name: "wrong root", target: "/f", body: `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, code: 400},
		{name: "no property", target: "/f", body: ppHead + `<D:set><D:prop/></D:set></D:propertyupdate>`, code: 400},
		{name: "if-match wrong", target: "/f", body: ppHead + `<D:set><D:prop><x:a>1</x:a></D:prop></D:set></D:propertyupdate>`, code: 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/f", "f")
			e.must(207, "PROPPATCH", "/f", proppatchSet("{urn:x}old", "kept"))
			var hdr []string
			if tc.name == "if-match wrong" {
				hdr = []string{"If-Match", `"nope"`}
			}
			w := e.do("PROPPATCH", tc.target, tc.body, hdr...)
			if tc.code != 0 {
				if w.Code != tc.code {
					t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
				}
			} else {
				m := ms(t, w)
				if len(m.Responses) != 1 {
					t.Fatalf("%d responses", len(m.Responses))
				}
				r := &m.Responses[0]
				if want := strings.TrimSuffix(tc.target, "/"); strings.TrimSuffix(r.Hrefs[0], "/") != want {
					t.Errorf("href %v", r.Hrefs)
				}
				seen := map[string]int{}
				for _, ps := range r.Propstats {
					for _, p := range ps.Props {
						seen[multistatus.ClarkName(p.Name.Space, p.Name.Local)]++
						if len(p.Inner) != 0 {
							t.Errorf("%s has a value in a PROPPATCH answer", p.Name.Local)
						}
					}
					if cond, ok := tc.conds[ps.Status.Code]; ok {
						if len(ps.Error) != 1 || ps.Error[0].Name != (multistatus.DAVCondition(cond).Name) {
							t.Errorf("propstat %d: error %v, want %s", ps.Status.Code, ps.Error, cond)
						}
					}
				}
				for n, c := range seen {
					if c != 1 {
						t.Errorf("%s appears %d times", n, c)
					}
				}
				got := propStatus(r)
				for n, code := range tc.want {
					if code == -1 { // any failure
						if got[n] < 400 {
							t.Errorf("%s: %d, want a failure", n, got[n])
						}
					} else if got[n] != code {
						t.Errorf("%s: %d, want %d (all %v)", n, got[n], code, got)
					}
				}
				if tc.want != nil && len(got) != len(tc.want) {
					t.Errorf("properties %v, want %v", got, tc.want)
				}
			}
			for local, want := range tc.after {
				got := "-"
				ps, _ := e.props.Get(context.Background(), "/f")
				for _, p := range ps {
					if p.Name.Space == "urn:x" && p.Name.Local == local {
						got = string(p.Inner)
					}
				}
				if got != want {
					t.Errorf("{urn:x}%s afterwards %q, want %q", local, got, want)
				}
			}
		})
	}
}

// TestProppatchRoundTrip: dead properties come back from PROPFIND as they
// were sent: namespaces, attributes, xml:lang (on the property or in scope
// from an ancestor) and mixed content, compared as parsed XML.
func TestProppatchRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string // inside D:set/D:prop unless whole is set
		prop [2]string
		lang string
		want string // the value as it would be written inside <p xmlns="urn:x">
	}{
		{"text", `<x:p>plain &amp; simple &lt;3</x:p>`, [2]string{"urn:x", "p"}, "", `plain &amp; simple &lt;3`},
		{"empty", `<x:p/>`, [2]string{"urn:x", "p"}, "", ``},
		{"lang on the property", `<x:p xml:lang="fr">bonjour</x:p>`, [2]string{"urn:x", "p"}, "fr", `bonjour`},
		{"mixed content", `<x:p xml:lang="en-GB">Hello <x:b>bold</x:b> and <y:i xmlns:y="urn:y" y:att="1" plain="2">italic</y:i> tail</x:p>`,
			[2]string{"urn:x", "p"}, "en-GB", `Hello <b>bold</b> and <y:i xmlns:y="urn:y" y:att="1" plain="2">italic</y:i> tail`},
		{"default namespace", `<p xmlns="urn:z"><q>1</q><r xmlns="">none</r></p>`, [2]string{"urn:z", "p"}, "", `<q xmlns="urn:z">1</q><r xmlns="">none</r>`},
		{"dav elements inside", `<x:p><D:href>/a</D:href></x:p>`, [2]string{"urn:x", "p"}, "", `<D:href>/a</D:href>`},
		{"no namespace property", `<p xmlns="">v</p>`, [2]string{"", "p"}, "", `v`},
		{"white space kept", `<x:p>  two  spaces  </x:p>`, [2]string{"urn:x", "p"}, "", `  two  spaces  `},
		{"unicode", `<x:p>日本語 ✓</x:p>`, [2]string{"urn:x", "p"}, "", `日本語 ✓`},
		{"cdata", `<x:p><![CDATA[<not> & markup]]></x:p>`, [2]string{"urn:x", "p"}, "", `&lt;not&gt; &amp; markup`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "f")
			e.must(207, "PROPPATCH", "/f", ppHead+`<D:set><D:prop>`+tc.body+`</D:prop></D:set></D:propertyupdate>`)
			checkDead(t, e, tc.prop, tc.lang, tc.want)
		})
	}
	t.Run("lang in scope from an ancestor", func(t *testing.T) {
		e := newEnv(t)
		e.put("/f", "f")
		e.must(207, "PROPPATCH", "/f", `<D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x" xml:lang="de"><D:set><D:prop><x:p>Hallo</x:p></D:prop></D:set>`+
			`<D:set><D:prop xml:lang="it"><x:q>Ciao</x:q><x:r xml:lang="es">Hola</x:r></D:prop></D:set></D:propertyupdate>`)
		checkDead(t, e, [2]string{"urn:x", "p"}, "de", "Hallo")
		checkDead(t, e, [2]string{"urn:x", "q"}, "it", "Ciao")
		checkDead(t, e, [2]string{"urn:x", "r"}, "es", "Hola")
	})
}

func checkDead(t *testing.T, e *env, name [2]string, lang, want string) {
	t.Helper()
	for _, body := range []string{propfindBody("{" + name[0] + "}" + name[1]), ""} {
		w := e.do("PROPFIND", "/f", body, "Depth", "0")
		r := &ms(t, w).Responses[0]
		p, ok := prop(r, name[0], name[1])
		if !ok {
			t.Fatalf("{%s}%s not found\n%s", name[0], name[1], w.Body)
		}
		if p.Lang != lang {
			t.Errorf("{%s}%s: xml:lang %q, want %q", name[0], name[1], p.Lang, lang)
		}
		if got, wantC := canon(t, p.Inner), canonIn(t, name[0], want); got != wantC {
			t.Errorf("{%s}%s value\n got  %s\n want %s\n(raw %q)", name[0], name[1], got, wantC, p.Inner)
		}
	}
}

// canonIn canonicalises a value written inside an element whose default
// namespace is space, as the writer puts it.
func canonIn(t *testing.T, space, inner string) string {
	t.Helper()
	c := canon(t, []byte(`<wrap xmlns="`+space+`">`+inner+`</wrap>`))
	c = strings.TrimPrefix(c, "S({"+space+"}wrap )")
	return strings.TrimSuffix(c, "E")
}

// TestProppatchWin32 is Windows Explorer's PROPPATCH after a copy: the
// times and attributes are stored, and Win32LastModifiedTime becomes the
// modification time, on files and on folders.
func TestProppatchWin32(t *testing.T) {
	for _, target := range []string{"/f", "/dir"} {
		t.Run("WindowsExplorer"+target, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/f", "f")
			body := `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
				`<Z:Win32CreationTime>Wed, 01 Feb 2023 10:00:00 GMT</Z:Win32CreationTime>` +
				`<Z:Win32LastAccessTime>Thu, 02 Feb 2023 10:00:00 GMT</Z:Win32LastAccessTime>` +
				`<Z:Win32LastModifiedTime>Fri, 03 Feb 2023 04:05:06 GMT</Z:Win32LastModifiedTime>` +
				`<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>` +
				`</D:prop></D:set></D:propertyupdate>`
			r := &ms(t, e.do("PROPPATCH", target, body)).Responses[0]
			for n, code := range propStatus(r) {
				if code != 200 {
					t.Errorf("%s: %d", n, code)
				}
			}
			info, err := e.fs.Stat(context.Background(), target)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2023, 2, 3, 4, 5, 6, 0, time.UTC); !info.ModTime.Equal(want) {
				t.Errorf("mtime %v, want %v", info.ModTime, want)
			}
			if lm := propText(e.propfind1(target, "getlastmodified"), "getlastmodified"); lm != "Fri, 03 Feb 2023 04:05:06 GMT" {
				t.Errorf("getlastmodified %q", lm)
			}
			got := propStatus(e.propfind1(target, "{urn:schemas-microsoft-com:}Win32FileAttributes", "{urn:schemas-microsoft-com:}Win32CreationTime"))
			for n, code := range got {
				if code != 200 {
					t.Errorf("%s: %d after PROPPATCH", n, code)
				}
			}
		})
	}
	t.Run("WindowsExplorer bad time is stored, mtime kept", func(t *testing.T) {
		e := newEnv(t)
		e.put("/f", "f")
		before, _ := e.fs.Stat(context.Background(), "/f")
		e.must(207, "PROPPATCH", "/f", proppatchSet("{urn:schemas-microsoft-com:}Win32LastModifiedTime", "not a time"))
		after, _ := e.fs.Stat(context.Background(), "/f")
		if !after.ModTime.Equal(before.ModTime) {
			t.Errorf("mtime changed to %v", after.ModTime)
		}
	})
}

// TestProppatchDisplayname: displayname is live but may be set; the set
// value is served.
func TestProppatchDisplayname(t *testing.T) {
	e := newEnv(t)
	e.put("/f", "f")
	r := &ms(t, e.do("PROPPATCH", "/f", proppatchSet("{DAV:}displayname", "My File"))).Responses[0]
	if got := propStatus(r); got[multistatus.ClarkName("DAV:", "displayname")] != 200 {
		t.Fatalf("statuses %v", got)
	}
	if got := propText(e.propfind1("/f", "displayname"), "displayname"); got != "My File" {
		t.Fatalf("displayname %q", got)
	}
	w := e.do("PROPFIND", "/f", "", "Depth", "0")
	m := ms(t, w)
	n := 0
	for _, ps := range m.Responses[0].Propstats {
		for _, p := range ps.Props {
			if p.Name.Space == "DAV:" && p.Name.Local == "displayname" {
				n++
			}
		}
	}
	if n != 1 {
		t.Fatalf("allprop lists displayname %d times", n)
	}
	_ = slices.Contains[[]string]
	_ = http.StatusOK
}
