package dav_test

// Replays of the request sequences real clients we cannot run here are
// documented to send (see docs/clients.md and ../shared/CLIENTS.md). Each
// test is named after its client; the headers and bodies are the clients'
// own, User-Agent included, so a failure reads like a bug report.

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

const (
	uaWindows = "Microsoft-WebDAV-MiniRedir/10.0.19045"
	uaFinder  = "WebDAVFS/3.0.0 (03008000) Darwin/22.6.0 (x86_64)"
	uaOffice  = "Microsoft Office Word 2014"
	uaKDE     = "Mozilla/5.0 (X11; Linux x86_64) KIO/5.115 dolphin/23.08.5"
	uaGNOME   = "gvfs/1.50.3"
	uaCyber   = "Cyberduck/8.7.1.40770 (Mac OS X/14.2) (x86_64)"
	ms32      = "urn:schemas-microsoft-com:"
)

// quirkBackends runs fn on MemFS and on a LocalFS in a temporary folder.
func quirkBackends(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("mem", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("local", func(t *testing.T) { fn(t, newEnv(t, quirkLocal(t))) })
}

func quirkLocal(t *testing.T) func(*dav.Config) {
	return func(c *dav.Config) {
		fs, err := storage.NewLocal(t.TempDir(), storage.LocalOptions{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fs.Close() })
		c.FS = fs
	}
}

func quirkModTime(t *testing.T, e *env, p string) time.Time {
	t.Helper()
	info, err := e.fs.Stat(context.Background(), p)
	if err != nil {
		t.Fatalf("stat %s: %v", p, err)
	}
	return info.ModTime.UTC()
}

// quirkWin32Patch is the PROPPATCH body Windows Explorer sends after it
// writes a file or creates a folder (attributes 0x20 archive, 0x10 folder).
func quirkWin32Patch(created, accessed, modified, attrs string) string {
	return `<?xml version="1.0" encoding="utf-8" ?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
		`<Z:Win32CreationTime>` + created + `</Z:Win32CreationTime>` +
		`<Z:Win32LastAccessTime>` + accessed + `</Z:Win32LastAccessTime>` +
		`<Z:Win32LastModifiedTime>` + modified + `</Z:Win32LastModifiedTime>` +
		`<Z:Win32FileAttributes>` + attrs + `</Z:Win32FileAttributes>` +
		`</D:prop></D:set></D:propertyupdate>`
}

// quirkAllOK fails unless every property of a PROPPATCH answer is 200.
func quirkAllOK(t *testing.T, w *httptest.ResponseRecorder, n int) {
	t.Helper()
	m := ms(t, w)
	if len(m.Responses) != 1 {
		t.Fatalf("%d responses, want 1\n%s", len(m.Responses), w.Body)
	}
	st := propStatus(&m.Responses[0])
	if len(st) != n {
		t.Fatalf("%d properties answered, want %d\n%s", len(st), n, w.Body)
	}
	for name, code := range st {
		if code != http.StatusOK {
			t.Fatalf("%s: %d, want 200\n%s", name, code, w.Body)
		}
	}
}

// TestWindowsExplorerWin32Properties: after writing a file or making a
// folder, Explorer PROPPATCHes its four Win32 properties. All are stored,
// none refused, and Win32LastModifiedTime becomes getlastmodified, on files
// and on folders alike.
func TestWindowsExplorerWin32Properties(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		e.mkcol("/docs/")
		e.put("/docs/report.txt", "quarterly numbers")
		for _, tc := range []struct{ target, attrs, mod string }{
			{"/docs/report.txt", "00000020", "Fri, 03 Feb 2023 04:05:06 GMT"},
			{"/docs", "00000010", "Sat, 04 Feb 2023 07:08:09 GMT"}, // folders come without the slash
			{"/docs/", "00000010", "Sun, 05 Feb 2023 10:11:12 GMT"},
		} {
			w := e.must(http.StatusMultiStatus, "PROPPATCH", tc.target,
				quirkWin32Patch("Wed, 01 Feb 2023 10:00:00 GMT", "Thu, 02 Feb 2023 10:00:00 GMT", tc.mod, tc.attrs),
				"User-Agent", uaWindows, "Content-Type", "text/xml; charset=\"utf-8\"")
			quirkAllOK(t, w, 4)
			want, _ := http.ParseTime(tc.mod)
			p := strings.TrimSuffix(tc.target, "/")
			if got := quirkModTime(t, e, p); !got.Equal(want) {
				t.Fatalf("%s: modification time %v, want %v", tc.target, got, want)
			}
			r := e.propfind1(tc.target, "getlastmodified", "{"+ms32+"}Win32FileAttributes", "{"+ms32+"}Win32CreationTime")
			if got := propText(r, "getlastmodified"); got != tc.mod {
				t.Fatalf("%s: getlastmodified %q, want %q", tc.target, got, tc.mod)
			}
			if p, ok := prop(r, ms32, "Win32FileAttributes"); !ok || string(p.Inner) != tc.attrs {
				t.Fatalf("%s: Win32FileAttributes %q (%v), want %s", tc.target, p.Inner, ok, tc.attrs)
			}
			if p, ok := prop(r, ms32, "Win32CreationTime"); !ok || string(p.Inner) != "Wed, 01 Feb 2023 10:00:00 GMT" {
				t.Fatalf("%s: Win32CreationTime %q", tc.target, p.Inner)
			}
		}
		// A value Windows never sends is still stored; the time is left alone.
		before := quirkModTime(t, e, "/docs/report.txt")
		quirkAllOK(t, e.must(http.StatusMultiStatus, "PROPPATCH", "/docs/report.txt",
			quirkWin32Patch("x", "y", "not a time", "00000021"), "User-Agent", uaWindows), 4)
		if got := quirkModTime(t, e, "/docs/report.txt"); !got.Equal(before) {
			t.Fatalf("a malformed Win32LastModifiedTime changed the time to %v", got)
		}
	})
}

// TestWindowsExplorerSaveSequence: how Explorer writes a new file: an empty
// PUT, LOCK, the content under the lock, the Win32 PROPPATCH under the
// lock, UNLOCK.
func TestWindowsExplorerSaveSequence(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		ua := []string{"User-Agent", uaWindows, "translate", "f"}
		hdr := func(kv ...string) []string { return append(append([]string{}, ua...), kv...) }
		e.must(http.StatusCreated, "PUT", "/New%20Text%20Document.txt", "", hdr("Content-Length", "0")...)
		w := e.must(http.StatusOK, "LOCK", "/New%20Text%20Document.txt",
			`<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>DESKTOP-1\alice</D:href></D:owner></D:lockinfo>`,
			hdr("Timeout", "Second-3600", "Content-Type", "text/xml; charset=\"utf-8\"")...)
		tok := w.Header().Get("Lock-Token")
		if tok == "" {
			t.Fatal("LOCK: no Lock-Token")
		}
		e.must(http.StatusLocked, "PUT", "/New%20Text%20Document.txt", "someone else", "User-Agent", "curl/8")
		e.must(http.StatusNoContent, "PUT", "/New%20Text%20Document.txt", "hello from Windows", hdr("If", "("+tok+")")...)
		quirkAllOK(t, e.must(http.StatusMultiStatus, "PROPPATCH", "/New%20Text%20Document.txt",
			quirkWin32Patch("Mon, 06 Feb 2023 09:00:00 GMT", "Mon, 06 Feb 2023 09:00:00 GMT", "Mon, 06 Feb 2023 09:00:01 GMT", "00000020"),
			hdr("If", "("+tok+")")...), 4)
		e.must(http.StatusNoContent, "UNLOCK", "/New%20Text%20Document.txt", "", hdr("Lock-Token", tok)...)
		if got, _ := e.content("/New%20Text%20Document.txt"); got != "hello from Windows" {
			t.Fatalf("content %q", got)
		}
		if got := quirkModTime(t, e, "/New Text Document.txt"); !got.Equal(time.Date(2023, 2, 6, 9, 0, 1, 0, time.UTC)) {
			t.Fatalf("modification time %v", got)
		}
	})
}

// TestWindowsExplorerOptions: the first request of the WebClient is an
// OPTIONS of the server root without credentials; it looks for class 2 and
// MS-Author-Via: DAV, without which it mounts read-only. (Answering that
// OPTIONS without authentication when users are configured is the server
// layer's job, tested with the auth configuration.)
func TestWindowsExplorerOptions(t *testing.T) {
	for _, prefix := range []string{"", "/dav"} {
		e := newEnv(t, func(c *dav.Config) { c.Prefix = prefix })
		w := e.must(http.StatusOK, "OPTIONS", prefix+"/", "", "User-Agent", uaWindows, "translate", "f", "Content-Length", "0")
		if got := w.Header().Get("MS-Author-Via"); got != "DAV" {
			t.Fatalf("MS-Author-Via %q, want DAV", got)
		}
		dv := w.Header().Get("DAV")
		if !strings.Contains(dv, "1") || !strings.Contains(dv, "2") {
			t.Fatalf("DAV %q: Explorer needs class 2", dv)
		}
		for _, m := range []string{"PROPFIND", "PROPPATCH", "LOCK", "UNLOCK", "COPY", "MOVE", "DELETE"} {
			if !strings.Contains(w.Header().Get("Allow"), m) {
				t.Fatalf("Allow %q lacks %s", w.Header().Get("Allow"), m)
			}
		}
		if w.Header().Get("WWW-Authenticate") != "" {
			t.Fatal("the protocol layer must not challenge")
		}
	}
}

// TestWindowsExplorerDepthNoroot: "Depth: 1,noroot" and "infinity,noroot"
// list the members without the collection's own response.
func TestWindowsExplorerDepthNoroot(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/f/")
	e.mkcol("/f/sub/")
	e.put("/f/a.txt", "a")
	e.put("/f/sub/b.txt", "b")
	for _, tc := range []struct {
		depth string
		want  []string
	}{
		{"1,noroot", []string{"/f/a.txt", "/f/sub/"}},
		{"1, noroot", []string{"/f/a.txt", "/f/sub/"}},
		{"infinity,noroot", []string{"/f/a.txt", "/f/sub/", "/f/sub/b.txt"}},
		{"1", []string{"/f/", "/f/a.txt", "/f/sub/"}},
	} {
		w := e.must(http.StatusMultiStatus, "PROPFIND", "/f", propfindBody("resourcetype", "getcontentlength"), "Depth", tc.depth, "User-Agent", uaWindows)
		if got := hrefs(ms(t, w)); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Fatalf("Depth %q: %v, want %v", tc.depth, got, tc.want)
		}
	}
}

// TestWindowsExplorerFolderWithoutSlash (also GNOME gvfs): folders are
// named without their trailing slash; every method works on that spelling
// with no redirect, and collection hrefs still end in "/".
func TestWindowsExplorerFolderWithoutSlash(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		e.must(http.StatusCreated, "MKCOL", "/New%20folder", "", "User-Agent", uaWindows)
		e.must(http.StatusMethodNotAllowed, "MKCOL", "/New%20folder/", "")
		e.put("/New%20folder/a.txt", "a")
		for _, target := range []string{"/New%20folder", "/New%20folder/"} {
			w := e.do("PROPFIND", target, "", "Depth", "1", "User-Agent", uaWindows)
			if w.Code != http.StatusMultiStatus {
				t.Fatalf("PROPFIND %s: %d (a redirect breaks the client)", target, w.Code)
			}
			got := hrefs(ms(t, w))
			if strings.Join(got, " ") != "/New%20folder/ /New%20folder/a.txt" {
				t.Fatalf("PROPFIND %s: hrefs %v", target, got)
			}
		}
		e.must(http.StatusCreated, "COPY", "/New%20folder", "", "Destination", "/Copy%20of%20folder", "User-Agent", uaWindows)
		w := e.must(http.StatusCreated, "MOVE", "/Copy%20of%20folder", "", "Destination", "http://example.com/Renamed", "User-Agent", uaWindows)
		if loc := w.Header().Get("Location"); !strings.HasSuffix(loc, "/Renamed/") {
			t.Fatalf("Location %q of a collection lacks the slash", loc)
		}
		if got, _ := e.content("/Renamed/a.txt"); got != "a" {
			t.Fatalf("moved content %q", got)
		}
		l := e.lock("/Renamed", "infinity", lockExclusive)
		e.must(http.StatusNoContent, "UNLOCK", "/Renamed", "", "Lock-Token", "<"+l+">")
		e.must(http.StatusNoContent, "DELETE", "/Renamed", "", "User-Agent", uaWindows)
		e.must(http.StatusNotFound, "PROPFIND", "/Renamed/", "", "Depth", "0")
	})
}

// quirkListing fills /big with n files, half of them carrying the Win32
// properties Explorer sets (written to the stores directly: the listing is
// what is under test, and thousands of requests would only slow it down).
func quirkListing(t *testing.T, e *env, n int) {
	t.Helper()
	ctx := context.Background()
	e.mkcol("/big/")
	when := time.Date(2023, 2, 1, 10, 0, 0, 0, time.UTC)
	var win32 []props.Patch
	for _, l := range []string{"Win32CreationTime", "Win32LastAccessTime", "Win32LastModifiedTime", "Win32FileAttributes"} {
		v := when.Format(http.TimeFormat)
		if l == "Win32FileAttributes" {
			v = "00000020"
		}
		win32 = append(win32, props.Patch{Prop: props.Property{Name: xml.Name{Space: ms32, Local: l}, Inner: []byte(v)}})
	}
	for i := range n {
		p := "/big/IMG_" + strconv.Itoa(10000+i) + ".jpg"
		if _, _, err := e.fs.Put(ctx, p, strings.NewReader("jpeg"), storage.PutOptions{ExpectedSize: 4, ModTime: when}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := e.cfg.Props.Apply(ctx, p, win32); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestWindowsExplorerCompactListing: Explorer refuses a PROPFIND answer
// over about 1 MB for one folder. Its Depth 1 request names nine
// properties; the answer declares DAV: once on the root as D:, has no
// indentation, holds only the asked properties, and stays small per entry.
func TestWindowsExplorerCompactListing(t *testing.T) {
	const n = 1000
	e := newEnv(t)
	// Served straight through the handler: e.do would decode each answer
	// once more.
	propfind := func(target, body string) []byte {
		t.Helper()
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, newRequest("PROPFIND", target, body, "Depth", "1", "User-Agent", uaWindows))
		if w.Code != http.StatusMultiStatus {
			t.Fatalf("PROPFIND %s: %d", target, w.Code)
		}
		return w.Body.Bytes()
	}
	quirkListing(t, e, n)
	body := `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">` +
		`<D:creationdate/><D:displayname/><D:getcontentlength/><D:getlastmodified/><D:resourcetype/>` +
		`<Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/><Z:Win32FileAttributes/></D:prop></D:propfind>`
	out := propfind("/big", body)
	m, err := multistatus.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Responses) != n+1 {
		t.Fatalf("%d responses, want %d", len(m.Responses), n+1)
	}
	if c := bytes.Count(out, []byte(`xmlns:D="DAV:"`)); c != 1 {
		t.Fatalf(`xmlns:D="DAV:" declared %d times, want once on the root`, c)
	}
	if !bytes.Contains(out[:200], []byte(`<D:multistatus xmlns:D="DAV:"`)) {
		t.Fatalf("the root is not D:multistatus declaring D:\n%.200s", out)
	}
	if bytes.Contains(out, []byte("\n ")) || bytes.Contains(out, []byte("\n\t")) || bytes.Contains(out, []byte("><\n")) {
		t.Fatal("the answer is indented")
	}
	asked := map[string]bool{}
	for _, l := range []string{"creationdate", "displayname", "getcontentlength", "getlastmodified", "resourcetype"} {
		asked[multistatus.ClarkName("DAV:", l)] = true
	}
	for _, l := range []string{"Win32CreationTime", "Win32LastAccessTime", "Win32LastModifiedTime", "Win32FileAttributes"} {
		asked[multistatus.ClarkName(ms32, l)] = true
	}
	for i := range m.Responses {
		for name := range propStatus(&m.Responses[i]) {
			if !asked[name] {
				t.Fatalf("%v: property %s was not asked for", m.Responses[i].Hrefs, name)
			}
		}
	}
	// Half the entries carry the four Win32 values (~770 bytes), half answer
	// them 404 (~675 bytes); Explorer's FileAttributesLimitInBytes (1 MB by
	// default) thus holds about 1,350 such entries (docs/clients.md).
	quirkPerEntry(t, out, n+1, 760)

	// The same folder asked for the DAV: properties alone, as Explorer does
	// for folders it has not written and rclone always does.
	body = `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop>` +
		`<D:getlastmodified/><D:getcontentlength/><D:resourcetype/><D:displayname/></D:prop></D:propfind>`
	quirkPerEntry(t, propfind("/big/", body), n+1, 330) // ~310: little more than the values themselves
}

// quirkPerEntry fails when a listing of n entries averages more than bound
// bytes per entry.
func quirkPerEntry(t *testing.T, out []byte, n, bound int) {
	t.Helper()
	per := len(out) / n
	t.Logf("%d entries, %d bytes, %d bytes per entry", n, len(out), per)
	if per > bound {
		t.Fatalf("%d bytes per entry, want at most %d (Explorer refuses a listing over 1 MB)", per, bound)
	}
}

// TestMacOSFinderChunkedPut: Finder uploads with Transfer-Encoding: chunked
// and announces the size in X-Expected-Entity-Length. A body of that size
// is stored; one of another size is refused with 400 and the old content
// stays whole. Sent through a real connection, so the chunked coding is
// the wire's.
func TestMacOSFinderChunkedPut(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		var chunkedIn atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			chunkedIn.Store(r.ContentLength == -1 && len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked")
			e.h.ServeHTTP(w, r)
		}))
		defer srv.Close()
		put := func(p, body, expected string) *http.Response {
			t.Helper()
			pr, pw := io.Pipe()
			go func() {
				for chunk := range strings.SplitSeq(body, "|") {
					pw.Write([]byte(chunk))
				}
				pw.Close()
			}()
			req, _ := http.NewRequest("PUT", srv.URL+p, pr)
			req.Header.Set("User-Agent", uaFinder)
			req.Header.Set("X-Expected-Entity-Length", expected)
			req.Header.Set("Content-Type", "application/octet-stream")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !chunkedIn.Load() {
				t.Fatal("the request did not arrive chunked")
			}
			return resp
		}
		if r := put("/Photo%201.jpg", "first|part|of the|photo", "20"); r.StatusCode != http.StatusCreated {
			t.Fatalf("chunked PUT: %d, want 201", r.StatusCode)
		}
		if got, _ := e.content("/Photo%201.jpg"); got != "firstpartof thephoto" {
			t.Fatalf("content %q", got)
		}
		for _, expected := range []string{"15", "17", "0"} {
			if r := put("/Photo%201.jpg", "another|photo|body", expected); r.StatusCode != http.StatusBadRequest {
				t.Fatalf("X-Expected-Entity-Length %s for 16 bytes: %d, want 400", expected, r.StatusCode)
			}
			if got, _ := e.content("/Photo%201.jpg"); got != "firstpartof thephoto" {
				t.Fatalf("after a refused PUT the content is %q", got)
			}
		}
		if r := put("/Photo%201.jpg", "another|photo|body", "16"); r.StatusCode != http.StatusNoContent {
			t.Fatalf("chunked overwrite: %d, want 204", r.StatusCode)
		}
		if r := put("/Photo%202.jpg", "", "0"); r.StatusCode != http.StatusCreated {
			t.Fatalf("empty chunked PUT: %d, want 201", r.StatusCode)
		}
		if r := put("/Photo%203.jpg", "x", "many"); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("malformed X-Expected-Entity-Length: %d, want 400", r.StatusCode)
		}
		if e.exists("/Photo 3.jpg") {
			t.Fatal("a refused PUT created the file")
		}
	})
}

// countFS counts the storage calls a request makes.
type countFS struct {
	storage.FS
	stat, list, open atomic.Int64
}

func (c *countFS) Stat(ctx context.Context, name string) (storage.Info, error) {
	c.stat.Add(1)
	return c.FS.Stat(ctx, name)
}

func (c *countFS) List(ctx context.Context, name string) iter.Seq2[storage.Info, error] {
	c.list.Add(1)
	return c.FS.List(ctx, name)
}

func (c *countFS) Open(ctx context.Context, name string) (storage.File, error) {
	c.open.Add(1)
	return c.FS.Open(ctx, name)
}

// TestMacOSFinderProbes: Finder probes many names that do not exist
// (._ AppleDouble files, .DS_Store, .Spotlight-V100, .ql_disablethumbnails,
// Backups.backupdb...). Each is a plain 404 costing one or two Stat calls:
// no listing, no file opened, a tiny body.
func TestMacOSFinderProbes(t *testing.T) {
	var cfs *countFS
	e := newEnv(t, func(c *dav.Config) { cfs = &countFS{FS: c.FS}; c.FS = cfs })
	e.mkcol("/Photos/")
	e.put("/Photos/IMG_1.jpg", "jpeg")
	probes := []string{
		"/._.", "/.hidden", "/.Spotlight-V100", "/.metadata_never_index", "/.metadata_never_index_unless_rootfs",
		"/.ql_disablethumbnails", "/.ql_disablecache", "/Backups.backupdb", "/mach_kernel", "/.DS_Store",
		"/Photos/._IMG_1.jpg", "/Photos/.DS_Store", "/._Photos", "/Photos/.localized", "/Photos/._.",
	}
	for _, p := range probes {
		for _, method := range []string{"PROPFIND", "GET", "HEAD"} {
			cfs.stat.Store(0)
			cfs.list.Store(0)
			cfs.open.Store(0)
			var w *httptest.ResponseRecorder
			if method == "PROPFIND" {
				w = e.do(method, p, `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/><D:getcontentlength/><D:creationdate/><D:resourcetype/></D:prop></D:propfind>`,
					"Depth", "0", "User-Agent", uaFinder)
			} else {
				w = e.do(method, p, "", "User-Agent", uaFinder)
			}
			if w.Code != http.StatusNotFound {
				t.Fatalf("%s %s: %d, want 404", method, p, w.Code)
			}
			if s, l, o := cfs.stat.Load(), cfs.list.Load(), cfs.open.Load(); s > 2 || l != 0 || o != 0 {
				t.Fatalf("%s %s: %d stats, %d lists, %d opens for a 404", method, p, s, l, o)
			}
			if w.Body.Len() > 100 {
				t.Fatalf("%s %s: %d-byte body for a 404", method, p, w.Body.Len())
			}
		}
	}
}

// TestMacOSFinderAppleDoubleFiles: what Finder writes next to a copied
// file: ._name (the resource fork and extended attributes) and .DS_Store.
// At the protocol level they are ordinary files (refusing or hiding them is
// a per-location option of the server layer).
func TestMacOSFinderAppleDoubleFiles(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		e.must(http.StatusCreated, "MKCOL", "/Photos", "", "User-Agent", uaFinder)
		appleDouble := "\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02"
		for _, p := range []string{"/Photos/IMG_1.jpg", "/Photos/._IMG_1.jpg", "/Photos/.DS_Store", "/._Photos", "/.DS_Store"} {
			e.must(http.StatusCreated, "PUT", p, appleDouble, "User-Agent", uaFinder)
		}
		w := e.must(http.StatusMultiStatus, "PROPFIND", "/Photos/", "", "Depth", "1", "User-Agent", uaFinder)
		if got := strings.Join(hrefs(ms(t, w)), " "); got != "/Photos/ /Photos/.DS_Store /Photos/._IMG_1.jpg /Photos/IMG_1.jpg" {
			t.Fatalf("listing %s", got)
		}
		if got, _ := e.content("/Photos/._IMG_1.jpg"); got != appleDouble {
			t.Fatalf("._IMG_1.jpg content %q", got)
		}
		for _, p := range []string{"/Photos/._IMG_1.jpg", "/Photos/.DS_Store", "/._Photos"} {
			e.must(http.StatusNoContent, "DELETE", p, "", "User-Agent", uaFinder)
			e.must(http.StatusNotFound, "GET", p, "")
		}
		e.must(http.StatusCreated, "MOVE", "/Photos/IMG_1.jpg", "", "Destination", "/Photos/._renamed", "User-Agent", uaFinder)
	})
}

// TestMacOSFinderOwnProperties: Finder PROPPATCHes properties in Apple
// namespaces while copying; a 403 aborts the copy with error -36. They are
// stored like any dead property and come back as sent.
func TestMacOSFinderOwnProperties(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		e.put("/IMG_1.jpg", "jpeg")
		e.mkcol("/Album/")
		body := `<?xml version="1.0" encoding="utf-8"?>` +
			`<D:propertyupdate xmlns:D="DAV:" xmlns:A="http://www.apple.com/webdav_fs/props/"><D:set><D:prop>` +
			`<A:appledoubleheader>AAUWBwACAAAAAAAAAAAAAAAAAAAAAAAAAAIAAAAJAAAAMgAAACAAAAACAAAAUgAAAAA=</A:appledoubleheader>` +
			`<A:com.apple.FinderInfo>VEVYVHR0eHQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</A:com.apple.FinderInfo>` +
			`<M:kMDItemWhereFroms xmlns:M="com.apple.metadata:">https://example.org/a.jpg</M:kMDItemWhereFroms>` +
			`<Q:com.apple.quarantine xmlns:Q="urn:x-apple:xattr">0083;65bb8f2c;Safari;</Q:com.apple.quarantine>` +
			`</D:prop></D:set></D:propertyupdate>`
		for _, p := range []string{"/IMG_1.jpg", "/Album", "/Album/"} {
			quirkAllOK(t, e.must(http.StatusMultiStatus, "PROPPATCH", p, body, "User-Agent", uaFinder, "Content-Type", "text/xml"), 4)
			r := e.propfind1(p, "{http://www.apple.com/webdav_fs/props/}appledoubleheader", "{com.apple.metadata:}kMDItemWhereFroms",
				"{urn:x-apple:xattr}com.apple.quarantine", "{http://www.apple.com/webdav_fs/props/}com.apple.FinderInfo")
			for name, code := range propStatus(r) {
				if code != http.StatusOK {
					t.Fatalf("%s: %s %d after PROPPATCH", p, name, code)
				}
			}
			if v, _ := prop(r, "com.apple.metadata:", "kMDItemWhereFroms"); string(v.Inner) != "https://example.org/a.jpg" {
				t.Fatalf("%s: kMDItemWhereFroms %q", p, v.Inner)
			}
		}
		// The properties follow the file when Finder renames it.
		e.must(http.StatusCreated, "MOVE", "/IMG_1.jpg", "", "Destination", "/Album/IMG_1.jpg", "User-Agent", uaFinder)
		r := e.propfind1("/Album/IMG_1.jpg", "{http://www.apple.com/webdav_fs/props/}appledoubleheader")
		if _, ok := prop(r, "http://www.apple.com/webdav_fs/props/", "appledoubleheader"); !ok {
			t.Fatal("appledoubleheader lost in MOVE")
		}
	})
}

// TestMacOSFinderLockAndCopy: Finder mounts read-only unless LOCK works,
// and copies a file as LOCK of the unmapped name (creating it empty),
// chunked PUT under the lock, UNLOCK; MKCOL comes without the slash.
func TestMacOSFinderLockAndCopy(t *testing.T) {
	e := newEnv(t)
	w := e.must(http.StatusOK, "OPTIONS", "/", "", "User-Agent", uaFinder)
	if !strings.Contains(w.Header().Get("DAV"), "2") {
		t.Fatalf("DAV %q: Finder mounts read-only without class 2", w.Header().Get("DAV"))
	}
	e.must(http.StatusCreated, "MKCOL", "/untitled%20folder", "", "User-Agent", uaFinder)
	w = e.must(http.StatusCreated, "LOCK", "/untitled%20folder/notes.txt",
		`<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>http://www.apple.com/webdav_fs/</D:href></D:owner></D:lockinfo>`,
		"User-Agent", uaFinder, "Depth", "0", "Timeout", "Second-600")
	tok := w.Header().Get("Lock-Token")
	r := newRequest("PUT", "/untitled%20folder/notes.txt", "", "User-Agent", uaFinder, "If", "("+tok+")", "X-Expected-Entity-Length", "5")
	r.Body = io.NopCloser(strings.NewReader("notes"))
	r.ContentLength = -1
	r.TransferEncoding = []string{"chunked"}
	if w := e.serve(r); w.Code != http.StatusNoContent {
		t.Fatalf("chunked PUT under the lock: %d\n%s", w.Code, w.Body)
	}
	e.must(http.StatusNoContent, "UNLOCK", "/untitled%20folder/notes.txt", "", "Lock-Token", tok, "User-Agent", uaFinder)
	if got, _ := e.content("/untitled%20folder/notes.txt"); got != "notes" {
		t.Fatalf("content %q", got)
	}
}

// TestOfficeLockRoundTrip: Office has its own DAV stack. It locks with its
// user in DAV:owner as an href, keeps the Lock-Token, saves with an untagged
// If, refreshes, and unlocks. The owner must come back exactly as sent, in
// the LOCK answer and in lockdiscovery, or Office says the document is
// locked by another user.
func TestOfficeLockRoundTrip(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		e.put("/Budget.xlsx", "PK old")
		for _, owner := range []string{
			`<D:href>mailto:alice@example.com</D:href>`,
			`<D:href>CONTOSO\alice</D:href>`,
		} {
			lockinfo := `<?xml version="1.0" encoding="utf-8" ?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>` + owner + `</D:owner></D:lockinfo>`
			w := e.must(http.StatusOK, "LOCK", "/Budget.xlsx", lockinfo, "User-Agent", uaOffice, "Timeout", "Second-3600", "Depth", "0")
			tok := w.Header().Get("Lock-Token")
			if !strings.HasPrefix(tok, "<") || !strings.HasSuffix(tok, ">") {
				t.Fatalf("Lock-Token %q", tok)
			}
			var ans struct {
				Locks []struct {
					Owner struct {
						Inner []byte `xml:",innerxml"`
					} `xml:"DAV: owner"`
					Token string `xml:"DAV: locktoken>href"`
				} `xml:"DAV: lockdiscovery>activelock"`
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &ans); err != nil || len(ans.Locks) != 1 {
				t.Fatalf("LOCK answer (%v):\n%s", err, w.Body)
			}
			wantOwner := canon(t, []byte(owner))
			if got := canon(t, ans.Locks[0].Owner.Inner); got != wantOwner {
				t.Fatalf("LOCK answer owner %s, want %s\n%s", got, wantOwner, w.Body)
			}
			if got := strings.TrimSpace(ans.Locks[0].Token); "<"+got+">" != tok {
				t.Fatalf("lockdiscovery token %q, Lock-Token %q", got, tok)
			}
			// Another user (or another Office instance) is told it is locked.
			e.must(http.StatusLocked, "LOCK", "/Budget.xlsx", lockinfo, "User-Agent", uaOffice)
			e.must(http.StatusLocked, "PUT", "/Budget.xlsx", "PK theirs", "User-Agent", uaOffice)
			// lockdiscovery as Office reads it before opening.
			r := e.propfind1("/Budget.xlsx", "lockdiscovery")
			p, ok := prop(r, "DAV:", "lockdiscovery")
			if !ok || !strings.Contains(canon(t, p.Inner), wantOwner) {
				t.Fatalf("lockdiscovery does not echo the owner %s: %s", wantOwner, p.Inner)
			}
			e.must(http.StatusNoContent, "PUT", "/Budget.xlsx", "PK new", "User-Agent", uaOffice, "If", "("+tok+")")
			e.must(http.StatusOK, "LOCK", "/Budget.xlsx", "", "User-Agent", uaOffice, "If", "("+tok+")", "Timeout", "Second-3600")
			e.must(http.StatusNoContent, "UNLOCK", "/Budget.xlsx", "", "User-Agent", uaOffice, "Lock-Token", tok)
			r = e.propfind1("/Budget.xlsx", "lockdiscovery")
			if p, _ := prop(r, "DAV:", "lockdiscovery"); len(bytes.TrimSpace(p.Inner)) != 0 {
				t.Fatalf("lockdiscovery after UNLOCK: %s", p.Inner)
			}
		}
		if got, _ := e.content("/Budget.xlsx"); got != "PK new" {
			t.Fatalf("content %q", got)
		}
	})
}

// TestReverseProxyDestination: behind a reverse proxy mounted at /dav the
// client sees https://public.example/dav/ while Davit listens on plain
// HTTP; COPY and MOVE carry the public scheme, host and prefix (or a
// relative path) in Destination, and tagged If headers carry the public
// URL. Only the path under the prefix counts.
func TestReverseProxyDestination(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e0 *env) {
		e := newEnv(t, func(c *dav.Config) { c.FS, c.Prefix = e0.fs, "/dav" })
		e.must(http.StatusCreated, "MKCOL", "/dav/team", "")
		e.put("/dav/team/plan%20a.txt", "plan")
		e.must(http.StatusCreated, "COPY", "/dav/team/plan%20a.txt", "", "Destination", "https://public.example/dav/team/plan%20b.txt", "User-Agent", uaCyber)
		e.must(http.StatusCreated, "MOVE", "/dav/team/plan%20b.txt", "", "Destination", "https://public.example:8443/dav/team/plan%20c.txt", "User-Agent", uaWindows)
		e.must(http.StatusCreated, "COPY", "/dav/team/", "", "Destination", "/dav/team2/", "User-Agent", uaGNOME)
		e.must(http.StatusCreated, "MOVE", "/dav/team2", "", "Destination", "http://127.0.0.1:8080/dav/team3", "User-Agent", uaKDE)
		e.must(http.StatusPreconditionFailed, "COPY", "/dav/team/plan%20a.txt", "", "Destination", "https://public.example/dav/team/plan%20c.txt", "Overwrite", "F")
		e.must(http.StatusBadGateway, "COPY", "/dav/team/plan%20a.txt", "", "Destination", "https://public.example/elsewhere/x.txt")
		for p, want := range map[string]string{"/dav/team/plan%20c.txt": "plan", "/dav/team3/plan%20a.txt": "plan"} {
			if got, ok := e.content(p); !ok || got != want {
				t.Fatalf("%s: %q, %v", p, got, ok)
			}
		}
		if e.exists("/team/plan b.txt") || e.exists("/team2") {
			t.Fatal("MOVE left its source")
		}
		// hrefs carry the prefix.
		w := e.must(http.StatusMultiStatus, "PROPFIND", "/dav/team", "", "Depth", "1")
		if got := strings.Join(hrefs(ms(t, w)), " "); got != "/dav/team/ /dav/team/plan%20a.txt /dav/team/plan%20c.txt" {
			t.Fatalf("hrefs %s", got)
		}
		// A tagged If with the public URL names the locked resource.
		tok := e.lock("/dav/team/plan%20a.txt", "0", lockExclusive)
		e.must(http.StatusNoContent, "PUT", "/dav/team/plan%20a.txt", "new plan", "If", "<https://public.example/dav/team/plan%20a.txt> (<"+tok+">)")
		e.must(http.StatusCreated, "MOVE", "/dav/team/plan%20a.txt", "", "Destination", "https://public.example/dav/team/final.txt",
			"If", "<https://public.example/dav/team/plan%20a.txt> (<"+tok+">)")
		if got, _ := e.content("/dav/team/final.txt"); got != "new plan" {
			t.Fatalf("final content %q", got)
		}
	})
}

// TestKDEDolphinWithoutCredentials: kio sends its first requests without
// credentials and only adds them after a 401. At the protocol level those
// requests are served like any other (the 401 challenge on every method is
// the server layer's, tested with the auth configuration); kio's PROPFIND
// asks for DAV:source and other properties Davit does not have, which get
// a 404 propstat, never a failed request.
func TestKDEDolphinWithoutCredentials(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/Music/")
	e.put("/Music/song.ogg", "ogg")
	w := e.must(http.StatusOK, "OPTIONS", "/Music/", "", "User-Agent", uaKDE)
	if !strings.Contains(w.Header().Get("DAV"), "1") {
		t.Fatalf("DAV %q", w.Header().Get("DAV"))
	}
	body := `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop>` +
		`<D:creationdate/><D:getcontentlength/><D:displayname/><D:source/><D:getcontentlanguage/><D:getcontenttype/>` +
		`<D:getlastmodified/><D:getetag/><D:supportedlock/><D:lockdiscovery/><D:resourcetype/><D:quota-available-bytes/><D:quota-used-bytes/>` +
		`</D:prop></D:propfind>`
	w = e.must(http.StatusMultiStatus, "PROPFIND", "/Music/", body, "User-Agent", uaKDE, "Depth", "1")
	m := ms(t, w)
	if len(m.Responses) != 2 {
		t.Fatalf("%d responses", len(m.Responses))
	}
	st := propStatus(response(t, m, "/Music/song.ogg"))
	if st["{DAV:}source"] != http.StatusNotFound || st["{DAV:}getcontentlength"] != http.StatusOK || st["{DAV:}getcontenttype"] != http.StatusOK {
		t.Fatalf("statuses %v", st)
	}
	e.must(http.StatusCreated, "PUT", "/Music/new.ogg", "ogg", "User-Agent", uaKDE, "Expect", "100-continue")
	e.must(http.StatusCreated, "MOVE", "/Music/new.ogg", "", "User-Agent", uaKDE, "Destination", "http://localhost/Music/renamed.ogg", "Overwrite", "F")
}

// TestGNOMEFilesFolders: gvfs names folders without the trailing slash,
// compares the first response's href with the URL it asked for, and must
// not be redirected.
func TestGNOMEFilesFolders(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "MKCOL", "/Documents", "", "User-Agent", uaGNOME)
	e.must(http.StatusCreated, "MKCOL", "/Documents/Sub%20folder", "", "User-Agent", uaGNOME)
	e.must(http.StatusCreated, "PUT", "/Documents/Sub%20folder/n%C3%B6te.txt", "n", "User-Agent", uaGNOME)
	body := `<?xml version="1.0" encoding="utf-8" ?><D:propfind xmlns:D="DAV:"><D:prop><D:creationdate/><D:displayname/><D:getcontentlength/><D:getcontenttype/><D:getetag/><D:getlastmodified/><D:resourcetype/></D:prop></D:propfind>`
	w := e.must(http.StatusMultiStatus, "PROPFIND", "/Documents/Sub%20folder", body, "User-Agent", uaGNOME, "Depth", "1")
	m := ms(t, w)
	if got := m.Responses[0].Hrefs; len(got) != 1 || got[0] != "/Documents/Sub%20folder/" {
		t.Fatalf("first href %v, want the folder itself with its slash", got)
	}
	if r := response(t, m, "/Documents/Sub%20folder/n%C3%B6te.txt"); propText(r, "displayname") != "nöte.txt" {
		t.Fatalf("displayname %q", propText(r, "displayname"))
	}
	e.must(http.StatusNoContent, "DELETE", "/Documents", "", "User-Agent", uaGNOME)
}

// TestCyberduckExpectContinue: Cyberduck sends PUT with Expect:
// 100-continue and a Content-Length so that any refusal (a credentials
// challenge, a lock, a missing parent) comes before the body is sent. Over
// a real connection: the refusals arrive without the body being read, and
// a good upload goes through.
func TestCyberduckExpectContinue(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/up/")
	e.lock("/up/locked.bin", "0", lockExclusive)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	tr := &http.Transport{ExpectContinueTimeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for _, tc := range []struct {
		path string
		want int
		read bool // the body was sent
	}{
		{"/up/file.bin", http.StatusCreated, true},
		{"/up/locked.bin", http.StatusLocked, false},
		{"/nowhere/file.bin", http.StatusConflict, false},
	} {
		var sent atomic.Bool
		body := &quirkReader{r: strings.NewReader(strings.Repeat("x", 1<<16)), read: &sent}
		req, _ := http.NewRequest("PUT", srv.URL+tc.path, body)
		req.ContentLength = 1 << 16
		req.Header.Set("Expect", "100-continue")
		req.Header.Set("User-Agent", uaCyber)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("PUT %s: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
		if sent.Load() != tc.read {
			t.Fatalf("PUT %s: body sent %v, want %v", tc.path, sent.Load(), tc.read)
		}
	}
}

type quirkReader struct {
	r    io.Reader
	read *atomic.Bool
}

func (q *quirkReader) Read(p []byte) (int, error) {
	q.read.Store(true)
	return q.r.Read(p)
}

// TestOwnCloudXOCMtime: rclone (vendors owncloud, nextcloud) and the
// ownCloud clients send the file's modification time as X-OC-Mtime (Unix
// seconds) on PUT and expect "X-OC-MTime: accepted" back; without that
// answer rclone sets the time again with a second request.
func TestOwnCloudXOCMtime(t *testing.T) {
	quirkBackends(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			mtime string
			want  time.Time
		}{
			{"981173106", time.Unix(981173106, 0)},
			{"1700000000.5", time.Unix(1700000000, 5e8)},
			{"946684799", time.Unix(946684799, 0)},
		} {
			w := e.do("PUT", "/a%20%23%25.txt", "content", "X-OC-Mtime", tc.mtime, "User-Agent", "rclone/v1.60.1")
			if w.Code != http.StatusCreated && w.Code != http.StatusNoContent {
				t.Fatalf("PUT: %d", w.Code)
			}
			if got := w.Header().Get("X-OC-MTime"); got != "accepted" {
				t.Fatalf("X-OC-MTime %q, want accepted", got)
			}
			if got := quirkModTime(t, e, "/a #%.txt"); got.Unix() != tc.want.Unix() {
				t.Fatalf("X-OC-Mtime %s: modification time %v, want %v", tc.mtime, got, tc.want.UTC())
			}
			r := e.propfind1("/a%20%23%25.txt", "getlastmodified")
			if got := propText(r, "getlastmodified"); got != tc.want.UTC().Format(http.TimeFormat) {
				t.Fatalf("getlastmodified %q, want %q", got, tc.want.UTC().Format(http.TimeFormat))
			}
		}
		w := e.must(http.StatusNoContent, "PUT", "/a%20%23%25.txt", "plain")
		if w.Header().Get("X-OC-MTime") != "" {
			t.Fatal("X-OC-MTime answered to a PUT without X-OC-Mtime")
		}
	})
}
