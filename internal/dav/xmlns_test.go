package dav_test

import (
	"testing"
)

// TestPropertyNamespaces: property names and values that encoding/xml
// accepts but Namespaces in XML forbids must not be stored, or every
// later PROPFIND of the resource (and of its collection) would break
// strict clients.
func TestPropertyNamespaces(t *testing.T) {
	for _, tc := range []struct {
		name, prop string
	}{
		{"undeclared prefix", `<u:foo>1</u:foo>`},
		{"xmlns prefix", `<xmlns:foo>1</xmlns:foo>`},
		{"xml prefix", `<xml:foo>1</xml:foo>`},
		{"default bound to xml", `<foo xmlns="http://www.w3.org/XML/1998/namespace">1</foo>`},
		{"undeclared prefix inside", `<x:a xmlns:x="urn:x"><u:b/></x:a>`},
		{"xml prefix inside", `<x:a xmlns:x="urn:x"><xml:b/></x:a>`},
		{"xmlns prefix inside", `<x:a xmlns:x="urn:x"><xmlns:b/></x:a>`},
		{"undeclared attribute prefix inside", `<x:a xmlns:x="urn:x"><x:b u:c="1"/></x:a>`},
		{"undeclared attribute prefix", `<x:a xmlns:x="urn:x" u:c="1">v</x:a>`},
		{"duplicate attribute inside", `<x:a xmlns:x="urn:x"><x:b c="1" c="2"/></x:a>`},
		{"duplicate expanded attribute inside", `<x:a xmlns:x="urn:x" xmlns:y="urn:x"><x:b x:c="1" y:c="2"/></x:a>`},
		{"duplicate attribute on the property", `<x:a xmlns:x="urn:x" c="1" c="2"/>`},
		{"xml namespace rebound", `<x:a xmlns:x="urn:x" xmlns:xml="urn:other"/>`},
		{"prefix bound to the xml namespace", `<x:a xmlns:x="http://www.w3.org/XML/1998/namespace"/>`},
		{"prefix bound to the xmlns namespace", `<x:a xmlns:x="http://www.w3.org/2000/xmlns/"/>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "f")
			w := e.do("PROPPATCH", "/f", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop>`+tc.prop+`</D:prop></D:set></D:propertyupdate>`)
			if w.Code != 400 && w.Code != 207 {
				t.Fatalf("status %d", w.Code)
			}
			// Whatever was accepted is served as namespace-well-formed
			// XML (e.serve checks every XML answer).
			e.do("PROPFIND", "/f", "", "Depth", "0")
			e.do("PROPFIND", "/", "", "Depth", "1")
			e.do("PROPFIND", "/f", `<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`, "Depth", "0")
		})
	}
	for _, tc := range []struct {
		name, owner string
	}{
		{"undeclared prefix", `<u:foo>1</u:foo>`},
		{"xml prefix", `<xml:foo>1</xml:foo>`},
		{"xmlns prefix", `<xmlns:foo>1</xmlns:foo>`},
	} {
		t.Run("lock owner "+tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "f")
			w := e.do("LOCK", "/f", `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>`+tc.owner+`</D:owner></D:lockinfo>`)
			if w.Code != 400 && w.Code != 200 {
				t.Fatalf("status %d", w.Code)
			}
			e.do("PROPFIND", "/f", "", "Depth", "0")
		})
	}
}
