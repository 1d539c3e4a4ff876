package dav

import (
	"strings"
	"testing"
)

const patchHead = `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:">`

// fastPatchCases are PROPPATCH bodies: the fast path must take the first
// fastPatchTaken of them, and leave the rest to the full decoder. Either
// way the two must agree (agrees).
var fastPatchCases = []string{
	// Taken: what clients send.
	// Windows Explorer's, after every upload (quirkWin32Patch).
	`<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
		`<Z:Win32CreationTime>Mon, 07 Dec 2026 18:00:00 GMT</Z:Win32CreationTime>` +
		`<Z:Win32LastAccessTime>Mon, 07 Dec 2026 18:00:01 GMT</Z:Win32LastAccessTime>` +
		`<Z:Win32LastModifiedTime>Mon, 07 Dec 2026 18:00:02 GMT</Z:Win32LastModifiedTime>` +
		`<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>` +
		`</D:prop></D:set></D:propertyupdate>`,
	// Finder (quirks_test.go): Apple's namespaces, one declared on the root,
	// two on their property.
	`<?xml version="1.0" encoding="utf-8"?>` +
		`<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://www.apple.com/webdav_fs/props/"><D:set><D:prop>` +
		`<A:appledoubleheader>AAUWBwACAAAAAAAAAAAAAAAAAAAAAAAAAAIAAAAJAAAAMgAAACAAAAACAAAAUgAAAAA=</A:appledoubleheader>` +
		`<A:com.apple.FinderInfo>VEVYVHR0eHQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</A:com.apple.FinderInfo>` +
		`<M:kMDItemWhereFroms xmlns:M="com.apple.metadata:">https://example.org/a.jpg</M:kMDItemWhereFroms>` +
		`<Q:com.apple.quarantine xmlns:Q="urn:x-apple:xattr">0083;65bb8f2c;Safari;</Q:com.apple.quarantine>` +
		`</D:prop></D:set></D:propertyupdate>`,
	// A set and a remove, a namespace declared on DAV:prop, the default
	// namespace on a property, empty values, line breaks.
	patchHead + "\n <D:set>\n  <D:prop xmlns:Z=\"urn:z\">\n   <Z:a>one</Z:a>\n   <b xmlns=\"urn:b\">two  words</b>\n   <Z:c/>\n   <Z:d></Z:d>\n  </D:prop>\n </D:set>\n <D:remove><D:prop xmlns:Z=\"urn:z\"><Z:e/></D:prop></D:remove>\n</D:propertyupdate>\n",
	// The same prefix declared again on a later DAV:prop, for another
	// namespace; DAV: properties; a remove with a value (ignored).
	patchHead + `<D:set><D:prop xmlns:P="urn:one"><P:x>1</P:x></D:prop><D:prop xmlns:P="urn:two"><P:x>2</P:x></D:prop></D:set>` +
		`<D:set><D:prop><D:displayname>Report</D:displayname><D:getcontentlanguage>en</D:getcontentlanguage></D:prop></D:set>` +
		`<D:remove><D:prop><P:y xmlns:P="urn:one">gone</P:y></D:prop></D:remove></D:propertyupdate>`,
	`<propertyupdate xmlns="DAV:"><set><prop><displayname>x</displayname></prop></set></propertyupdate>`,
	`<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:a>	tab	</Z:a></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>"Q4" report's draft</D:displayname></D:prop></D:set></D:propertyupdate>`,

	// Left to the decoder, valid or not.
	``,
	patchHead + `</D:propertyupdate>`,
	patchHead + `<D:set><D:prop></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set xml:lang="en"><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname xml:lang="en">x</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>a &amp; b</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>a <b xmlns="urn:b">b</b></D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname><![CDATA[x]]></D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>caf` + "\u00e9" + `</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>a` + "\r\n" + `b</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>x</D:other></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><Z:a>x</Z:a></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><a>x</a></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:other/><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:other/><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate><x/>`,
	patchHead + `<D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>`,
	patchHead + `<D:set><D:prop xmlns:Z="urn:z"><Z:a>x</Z:a></D:prop><D:prop><Z:b>y</Z:b></D:prop></D:set></D:propertyupdate>`,
	`<D:propertyupdate xmlns:D="urn:not-dav"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	// The reserved namespaces (xmlns_test.go), which the full decoder
	// refuses.
	patchHead + `<D:set><D:prop><foo xmlns="http://www.w3.org/XML/1998/namespace">1</foo></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><x:a xmlns:x="http://www.w3.org/XML/1998/namespace"/></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop><x:a xmlns:x="http://www.w3.org/2000/xmlns/"/></D:prop></D:set></D:propertyupdate>`,
	patchHead + `<D:set><D:prop xmlns:x="http://www.w3.org/2000/xmlns/"><x:a/></D:prop></D:set></D:propertyupdate>`,
}

const fastPatchTaken = 7

func TestFastPropertyUpdateAgrees(t *testing.T) {
	agreesOnCases(t, fastPatchCases, fastPatchTaken, fastPropertyUpdate, parsePropertyUpdateXML)
	// What the taken bodies hold, read independently of either parser.
	p, _ := fastPropertyUpdate([]byte(fastPatchCases[3]))
	var got []string
	for _, pt := range p {
		got = append(got, pt.Prop.Name.Space+" "+pt.Prop.Name.Local+"="+string(pt.Prop.Inner)+" "+map[bool]string{true: "remove", false: "set"}[pt.Remove])
	}
	want := []string{"urn:one x=1 set", "urn:two x=2 set", "DAV: displayname=Report set", "DAV: getcontentlanguage=en set", "urn:one y= remove"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func FuzzFastPropertyUpdate(f *testing.F) {
	for _, s := range fastPatchCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { agrees(t, body, fastPropertyUpdate, parsePropertyUpdateXML) })
}

func BenchmarkParsePropertyUpdate(b *testing.B) {
	h := &Handler{cfg: Config{MaxXMLBytes: 1 << 20}}
	// Windows Explorer's body, and the same with its values as entity
	// references, which the fast path leaves to the full decoder.
	slow := strings.ReplaceAll(fastPatchCases[0], "GMT", "&#71;MT")
	benchBodyParse(b, "PROPPATCH", fastPatchCases[0], slow, fastPropertyUpdate, h.parsePropertyUpdate)
}
