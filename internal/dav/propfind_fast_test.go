package dav

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fastPropfindCases are bodies for the fast path: those it takes and
// those it must leave to the full decoder.
var fastPropfindCases = []string{
	``,
	`   `,
	`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<?xml version="1.0" encoding="utf-8"?>` + "\r\n" + `<D:propfind xmlns:D="DAV:">` + "\n  <D:allprop />\n" + `</D:propfind>` + "\n",
	`<?xml version='1.0' encoding='UTF-8'?><propfind xmlns='DAV:'><allprop></allprop></propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>`,
	`<a:propfind xmlns:a="DAV:"><a:prop><a:getetag/><a:displayname/><a:x-y.z_1/></a:prop></a:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop ><D:getetag ></D:getetag ></D:prop ></D:propfind >`,
	`<propfind xmlns="DAV:"><prop><resourcetype/><getcontentlength/></prop></propfind>`,
	// Windows Explorer's and Office's: a declaration with a space before
	// "?>", their namespace declared on DAV:prop.
	`<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">` +
		`<D:creationdate/><D:displayname/><D:getcontentlength/><D:getlastmodified/><D:resourcetype/>` +
		`<Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/><Z:Win32FileAttributes/></D:prop></D:propfind>`,
	// Nextcloud's and ownCloud's: namespaces declared on the root.
	`<?xml version="1.0"?>` + "\n" + `<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns" xmlns:nc="http://nextcloud.org/ns">` +
		`<d:prop><d:getlastmodified /><oc:fileid /><nc:has-preview></nc:has-preview><oc:size/></d:prop></d:propfind>`,
	`<?xml version='1.0' encoding='UTF-8' standalone='yes'?><propfind xmlns:z="urn:z" xmlns="DAV:"><prop><z:a/><getetag/></prop></propfind>`,
	`<D:propfind xmlns:Z="urn:z" xmlns:D="DAV:" xmlns:E="DAV:"><D:prop><E:getetag/><Z:getetag/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:z"/></D:propfind>`,
	// Davit's own client's and many libraries': each property declares
	// its own namespace, prefixed or as its default.
	`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><P:color xmlns:P="urn:x"/>` +
		`<size xmlns="http://example.com/ns"></size><D:a xmlns:D="urn:d"/><P:b xmlns:P="DAV:"/></D:prop></D:propfind>`,
	// Left to the full decoder: a property declaring another prefix than
	// its own, or more than one; a default namespace beside a prefixed
	// root, DAV:'s prefix bound again, a prefix declared twice, an empty
	// or escaped value, a reserved prefix, an odd declaration.
	`<D:propfind xmlns:D="DAV:"><D:prop><Z:a xmlns:Y="urn:z"/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><Z:a xmlns:Z="urn:z" xmlns:Y="urn:y"/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns="urn:z"><D:prop><a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop xmlns:D="urn:z"><D:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:D="urn:z"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop xmlns:Z="urn:y"><Z:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:Z=""><D:prop><Z:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:Z="urn:&amp;"><D:prop><Z:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:xmlZ="urn:z"><D:prop><xmlZ:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:Z="urn:z"><D:prop><Z:a></Y:a></D:prop></D:propfind>`,
	`<D:propfind xmlns:D = "DAV:"><D:allprop/></D:propfind>`,
	`<?xml version = "1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<?xml version="1.1"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<?xml version="1.0" encoding="ISO-8859-1"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<?xml encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<?xml-stylesheet href="x"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/><D:prop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><x/>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>junk`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfin>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/></E:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a/>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a></D:b></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><E:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><Dx:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="urn:x"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:E="DAV:"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns="DAV:"><D:allprop/></D:propfind>`,
	`<propfind xmlns:D="DAV:"><allprop/></propfind>`,
	`<xml:propfind xmlns:xml="DAV:"><xml:allprop/></xml:propfind>`,
	`<xmlns:propfind xmlns:xmlns="DAV:"><xmlns:allprop/></xmlns:propfind>`,
	`<XmLa:propfind xmlns:XmLa="DAV:"><XmLa:allprop/></XmLa:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:propname/><!-- c --></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:include><D:getetag/></D:include><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:other/><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:">text<D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a>t</D:a></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" ><D:allprop/></D:propfind>`,
	`<D:propfind  xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<D:propfindxmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:'><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"/>`,
	"\uFEFF" + `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	` <?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<?xml version="1.0" encoding="UTF-16"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:1a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a:b/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:é/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a/><D:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a/ ></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a x="1"/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a></D:a ></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a></ D:a></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><D:a></D:prop></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat(`<D:a/>`, maxXMLElements) + `</D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop>` + strings.Repeat(`<D:a/>`, maxXMLElements-3) + `</D:prop></D:propfind>`,
	// The reserved namespaces, which the full decoder refuses.
	`<D:propfind xmlns:D="DAV:"><D:prop><a xmlns="http://www.w3.org/XML/1998/namespace"/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop><x:a xmlns:x="http://www.w3.org/2000/xmlns/"/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:" xmlns:x="http://www.w3.org/XML/1998/namespace"><D:prop><x:a/></D:prop></D:propfind>`,
	`<D:propfind xmlns:D="DAV:"><D:prop xmlns:x="http://www.w3.org/2000/xmlns/"><x:a/></D:prop></D:propfind>`,
}

// agrees fails when the fast path takes body and the full decoder does
// not agree with it; took says whether the fast path took it.
func agrees[T any](t *testing.T, body string, fast func([]byte) (T, bool), full func(bodyDecoder) (T, error)) (took bool) {
	t.Helper()
	got, ok := fast([]byte(body))
	if !ok {
		return false
	}
	want, err := full(newDecoder(bytes.NewReader([]byte(body))))
	if err != nil {
		t.Fatalf("fast path took %q, the decoder refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("body %q:\nfast %+v\nfull %+v", body, got, want)
	}
	return true
}

// agreesOnCases checks every case with agrees, and that the fast path
// takes the first taken of them and none of the rest.
func agreesOnCases[T any](t *testing.T, cases []string, taken int, fast func([]byte) (T, bool), full func(bodyDecoder) (T, error)) {
	t.Helper()
	for i, body := range cases {
		if took, want := agrees(t, body, fast, full), i < taken; took != want {
			t.Errorf("fast path takes %q: %v, want %v", body, took, want)
		}
	}
}

func checkFast(t *testing.T, body string) bool {
	t.Helper()
	return agrees(t, body, fastPropfind, parsePropfindXML)
}

func TestFastPropfindAgrees(t *testing.T) {
	took := 0
	for _, body := range fastPropfindCases {
		if checkFast(t, body) {
			took++
		}
	}
	if took < 10 {
		t.Errorf("fast path took only %d bodies", took)
	}
	for _, body := range fastPropfindCases[2:18] {
		if _, ok := fastPropfind([]byte(body)); !ok {
			t.Errorf("fast path does not take %q", body)
		}
	}
	for _, body := range fastPropfindCases[18:35] {
		if _, ok := fastPropfind([]byte(body)); ok {
			t.Errorf("fast path takes %q", body)
		}
	}
}

func FuzzFastPropfind(f *testing.F) {
	for _, s := range fastPropfindCases {
		if len(s) < 1000 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, body string) { checkFast(t, body) })
}

func TestAppendDates(t *testing.T) {
	times := []time.Time{
		time.Unix(0, 0), time.Unix(1700000000, 123456789), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.FixedZone("x", 3600)), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 12, 30, 5, 0, time.Local),
	}
	for i := range 2000 {
		times = append(times, time.Unix(int64(i)*987654321-int64(1)<<40, 0))
	}
	for _, tm := range times {
		if got, want := string(appendRFC3339(nil, tm)), tm.UTC().Format(time.RFC3339); got != want {
			t.Errorf("appendRFC3339(%v) = %q, want %q", tm, got, want)
		}
		if got, want := string(appendHTTPDate(nil, tm)), tm.UTC().Format(http.TimeFormat); got != want {
			t.Errorf("appendHTTPDate(%v) = %q, want %q", tm, got, want)
		}
	}
}
