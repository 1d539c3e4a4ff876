package dav

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const lockHead = `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:">`

// fastLockCases are LOCK bodies: the fast path must take the first
// fastLockTaken of them, and leave the rest to the full decoder. Either
// way the two must agree (agrees).
var fastLockCases = []string{
	// Taken: what clients send.
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>davit-bench</D:owner></D:lockinfo>`,
	// Windows Explorer and Office (quirks_test.go), Finder.
	`<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>DESKTOP-1\alice</D:href></D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://www.apple.com/webdav_fs/</D:href></D:owner></D:lockinfo>`,
	// davfs2 and neon: the default namespace, line breaks and indents.
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<lockinfo xmlns=\"DAV:\">\n <lockscope><exclusive/></lockscope>\n <locktype><write/></locktype>\n <owner>\n  <href>mailto:ann@example.org</href>\n </owner>\n</lockinfo>\n",
	`<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype><D:lockscope><D:shared/></D:lockscope></D:lockinfo>`,
	`<a:lockinfo xmlns:a="DAV:"><a:lockscope><a:shared></a:shared></a:lockscope><a:locktype><a:write /></a:locktype><a:owner/></a:lockinfo>`,
	lockHead + `<D:lockscope> <D:exclusive/> </D:lockscope><D:locktype><D:write/></D:locktype><D:owner></D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>  </D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>Ann	Smith, room 4 (\ /) [x] {y} ~!@#$%^*()</D:owner></D:lockinfo>`,
	lockHead + `<D:owner> <D:href></D:href> </D:owner><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype ></D:lockinfo >  `,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>say "hi", it's me</D:owner></D:lockinfo>`,

	// Left to the decoder, valid or not.
	``,
	`   `,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope></D:lockinfo>`,
	lockHead + `<D:locktype><D:write/></D:locktype></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:lockscope><D:shared/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:read/></D:locktype></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner xml:lang="en">Ann</D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>Ann &amp; Bob</D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>Ann <b xmlns="urn:b">B</b></D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>x<D:href>y</D:href></D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>a</D:href><D:href>b</D:href></D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>caf` + "\u00e9" + `</D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>a` + "\r\n" + `b</D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>a > b</D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>a</D:owner><D:owner>b</D:owner></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:other/></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><!-- c --></D:lockinfo>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo><x/>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>trailing`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>`,
	lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:propfind>`,
	`<D:lockinfo xmlns:D="urn:not-dav"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	`<D:lockinfo xmlns:D="DAV:" xmlns:Z="urn:z"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><Z:me/></D:owner></D:lockinfo>`,
	`<lockinfo xmlns="DAV:"><lockscope><exclusive/></lockscope><locktype><write/></locktype><owner><D:href xmlns:D="DAV:">x</D:href></owner></lockinfo>`,
	`<D:lockinfo xmlns:D="DAV:"><lockscope><exclusive/></lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	"\ufeff" + lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`,
	`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`,
}

const fastLockTaken = 12

func TestFastLockInfoAgrees(t *testing.T) {
	agreesOnCases(t, fastLockCases, fastLockTaken, fastLockInfo, parseLockInfoXML)
}

// TestParseLockInfo checks what the handler's parser makes of bodies on
// either path, and that a body larger than the fast path's buffer still
// parses.
func TestParseLockInfo(t *testing.T) {
	long := strings.Repeat(" ", xmlBodyBufSize)
	for _, tc := range []struct {
		name, body string
		exclusive  bool
		owner      string
		refresh    bool
		status     int
	}{
		{"fast, text owner", fastLockCases[0], true, "davit-bench", false, 0},
		{"fast, href owner", fastLockCases[3], true, "\n  <D:href>mailto:ann@example.org</D:href>\n ", false, 0},
		{"fast, shared, no owner", fastLockCases[4], false, "", false, 0},
		{"full, owner with markup", fastLockCases[21], true, `Ann <b xmlns="urn:b">B</b>`, false, 0},
		{"full, longer than the buffer", lockHead + `<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>x</D:owner></D:lockinfo>` + long, true, "x", false, 0},
		{"white space only", "  \n", false, "", true, 0},
		{"no lockscope", fastLockCases[14], false, "", false, http.StatusBadRequest},
		{"not XML", "<D:lockinfo", false, "", false, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{cfg: Config{MaxXMLBytes: 1 << 20}}
			r := httptest.NewRequest("LOCK", "/f", strings.NewReader(tc.body))
			li, err := h.parseLockInfo(httptest.NewRecorder(), r)
			if tc.status != 0 {
				if err == nil || statusOf(err).Status != tc.status {
					t.Fatalf("error %v, want status %d", err, tc.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if li.exclusive != tc.exclusive || string(li.owner) != tc.owner || li.refresh != tc.refresh {
				t.Errorf("got exclusive %v owner %q refresh %v, want %v %q %v", li.exclusive, li.owner, li.refresh, tc.exclusive, tc.owner, tc.refresh)
			}
		})
	}
}

func FuzzFastLockInfo(f *testing.F) {
	for _, s := range fastLockCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) { agrees(t, body, fastLockInfo, parseLockInfoXML) })
}

func BenchmarkParseLockInfo(b *testing.B) {
	h := &Handler{cfg: Config{MaxXMLBytes: 1 << 20}}
	benchBodyParse(b, "LOCK", fastLockCases[1], fastLockCases[21], fastLockInfo, h.parseLockInfo)
}

// benchBodyParse times a handler's body parser on a body the fast path
// takes and on one it leaves to encoding/xml, after checking that each
// goes the way it is meant to.
func benchBodyParse[T any](b *testing.B, method, fastBody, fullBody string, fast func([]byte) (T, bool), parse func(http.ResponseWriter, *http.Request) (T, error)) {
	w := httptest.NewRecorder()
	for _, c := range []struct{ name, body string }{{"fast", fastBody}, {"full", fullBody}} {
		b.Run(c.name, func(b *testing.B) {
			if _, ok := fast([]byte(c.body)); ok != (c.name == "fast") {
				b.Fatalf("fast path takes %q: %v", c.body, ok)
			}
			b.ReportAllocs()
			var rd strings.Reader
			r := httptest.NewRequest(method, "/f", &rd)
			for b.Loop() {
				rd.Reset(c.body)
				r.Body, r.ContentLength = nopBody{&rd}, int64(len(c.body))
				if _, err := parse(w, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type nopBody struct{ *strings.Reader }

func (nopBody) Close() error { return nil }
