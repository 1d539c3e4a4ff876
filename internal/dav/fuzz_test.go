package dav_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/davit-dav/davit/multistatus"
)

// fuzzEnv is a small tree with dead properties and a lock, so bodies have
// something to act on.
func fuzzEnv(t *testing.T) (*env, string) {
	e := newEnv(t)
	e.mkcol("/dir")
	e.put("/dir/f", "f")
	e.put("/g", "g")
	e.must(207, "PROPPATCH", "/dir/f", proppatchSet("{urn:x}a", "<b xmlns='urn:y'>x</b> y", "{DAV:}displayname", "F"))
	tok := e.lock("/g", "0", lockShared)
	return e, tok
}

// fuzzServe sends body with method to target and checks the invariants
// every answer must keep: no panic, no 500, and a 207 that decodes.
func fuzzServe(t *testing.T, e *env, method, target string, body []byte, hdr ...string) *multistatus.Multistatus {
	r := newRequest(method, target, "", hdr...)
	r.Body = nopCloser{bytes.NewReader(body)}
	r.ContentLength = int64(len(body))
	w := e.serve(r) // fails the test on a 207 that does not decode
	if w.Code >= 500 {
		t.Fatalf("%s %s: status %d\nbody sent: %q\nanswer: %s", method, target, w.Code, body, w.Body)
	}
	if w.Code == http.StatusMultiStatus {
		m, _ := multistatus.Decode(bytes.NewReader(w.Body.Bytes()))
		return m
	}
	return nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

var propfindSeeds = []string{
	``,
	`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:x="urn:x"><D:prop><D:getetag/><x:a/><x:none/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:lockdiscovery/><z xmlns="urn:z"/></D:include></D:propfind>`,
	`<propfind xmlns="DAV:"><prop><resourcetype/><getcontentlength/><displayname xml:lang="en"/></prop></propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><a xmlns=""/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop>`,
	`<?xml version="1.0" encoding="UTF-16"?><D:propfind xmlns:D="DAV:"/>`,
	`<!DOCTYPE x [<!ENTITY e "e">]><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
}

func FuzzPropfindBody(f *testing.F) {
	for _, s := range propfindSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		e, _ := fuzzEnv(t)
		targets := []string{"/", "/dir", "/dir/f", "/g", "/missing"}
		depths := []string{"0", "1", "infinity", "1,noroot"}
		fuzzServe(t, e, "PROPFIND", targets[int(sel)%len(targets)], body, "Depth", depths[int(sel>>4)%len(depths)])
	})
}

var proppatchSeeds = []string{
	`<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x"><D:set><D:prop><x:a>1</x:a></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:" xmlns:x="urn:x"><D:remove><D:prop><x:a/></D:prop></D:remove></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getetag>"x"</D:getetag><q xmlns="urn:q" xml:lang="fr">mixed <r/> text</q></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:" xml:lang="de"><D:set><D:prop xml:lang=""><p xmlns="">v</p></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop><Z:Win32LastModifiedTime>Fri, 03 Feb 2023 04:05:06 GMT</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x:a xmlns:x="urn:x" x:att="&lt;&amp;&quot;"><![CDATA[<>]]></x:a></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>n</D:displayname></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><a:b xmlns:a="urn:a"><c xmlns="urn:c"><a:d/></c></a:b></D:prop></D:set></D:propertyupdate>`,
}

// FuzzProppatchBody sends a PROPPATCH and then reads every property back:
// whatever was stored must be served as well-formed XML.
func FuzzProppatchBody(f *testing.F) {
	for _, s := range proppatchSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		e, tok := fuzzEnv(t)
		targets := []string{"/dir/f", "/dir", "/g", "/", "/missing"}
		target := targets[int(sel)%len(targets)]
		m := fuzzServe(t, e, "PROPPATCH", target, body, "If", "(<"+tok+">) (Not <DAV:no-lock>)")
		if m == nil {
			return
		}
		if len(m.Responses) != 1 {
			t.Fatalf("PROPPATCH answered %d responses", len(m.Responses))
		}
		// Every property named in the answer has exactly one outcome.
		seen := map[string]bool{}
		for _, ps := range m.Responses[0].Propstats {
			for _, p := range ps.Props {
				n := multistatus.ClarkName(p.Name.Space, p.Name.Local)
				if seen[n] {
					t.Fatalf("%s listed twice", n)
				}
				seen[n] = true
			}
		}
		for _, depth := range []string{"0"} {
			fuzzServe(t, e, "PROPFIND", target, nil, "Depth", depth)
			fuzzServe(t, e, "PROPFIND", target, []byte(`<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`), "Depth", depth)
		}
		e.must(http.StatusOK, "GET", strings.Replace(target, "/missing", "/g", 1), "")
	})
}

var lockSeeds = []string{
	lockExclusive,
	lockShared,
	``,
	`<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://example.org/~ann</D:href></D:owner></D:lockinfo>`,
	`<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype><D:lockscope><D:shared/></D:lockscope><D:owner xml:lang="en">Ann <b xmlns="urn:b">B</b></D:owner></D:lockinfo>`,
	`<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	`<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner/></lockinfo>`,
}

// FuzzLockBody sends a LOCK and, when it is granted, reads lockdiscovery
// back and unlocks.
func FuzzLockBody(f *testing.F) {
	for _, s := range lockSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, sel uint8) {
		e, tok := fuzzEnv(t)
		targets := []string{"/dir/f", "/dir", "/g", "/new", "/dir/new", "/none/x"}
		depths := []string{"0", "infinity", "", "1"}
		target := targets[int(sel)%len(targets)]
		hdr := []string{"If", "(<" + tok + ">)", "Timeout", "Second-60"}
		if d := depths[int(sel>>4)%len(depths)]; d != "" {
			hdr = append(hdr, "Depth", d)
		}
		r := newRequest("LOCK", target, "", hdr...)
		r.Body = nopCloser{bytes.NewReader(body)}
		r.ContentLength = int64(len(body))
		w := e.serve(r)
		if w.Code >= 500 {
			t.Fatalf("LOCK %s: status %d\nbody sent: %q\nanswer: %s", target, w.Code, body, w.Body)
		}
		if w.Code != http.StatusOK && w.Code != http.StatusCreated {
			return
		}
		locks := lockAnswer(t, w.Body.Bytes())
		if len(locks) != 1 {
			t.Fatalf("LOCK answered %d active locks", len(locks))
		}
		fuzzServe(t, e, "PROPFIND", target, []byte(propfindBody("lockdiscovery")), "Depth", "0")
		if lt := w.Header().Get("Lock-Token"); lt != "" {
			e.must(http.StatusNoContent, "UNLOCK", target, "", "Lock-Token", lt)
		}
	})
}
