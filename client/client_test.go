package client_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/multistatus"
)

// recorded is a request as the test server saw it.
type recorded struct {
	Method        string
	URI           string // RequestURI: the path exactly as sent
	Header        http.Header
	Body          []byte
	ContentLength int64
	Chunked       bool
}

// canned is an answer the test server replays.
type canned struct {
	status int
	header map[string]string
	body   string
}

func xmlAnswer(status int, body string) canned {
	return canned{status: status, header: map[string]string{"Content-Type": `text/xml; charset="utf-8"`}, body: body}
}

func corpus(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// replay starts a server that records each request and answers with the
// canned answers in turn (the last one again once they run out), and
// returns a client whose base URL is the server's URL plus basePath.
func replay(t *testing.T, basePath string, answers ...canned) (*client.Client, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var reqs []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(reqs)
		reqs = append(reqs, recorded{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body,
			ContentLength: r.ContentLength, Chunked: slices.Contains(r.TransferEncoding, "chunked")})
		mu.Unlock()
		a := canned{status: http.StatusNoContent}
		if len(answers) > 0 {
			a = answers[min(n, len(answers)-1)]
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL + basePath)
	if err != nil {
		t.Fatal(err)
	}
	return c, func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reqs)
	}
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "ftp://h/", "http:///x", "http://h/?q=1", "http://h/#f", "::"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q): no error", bad)
		}
	}
	c, err := client.New("http://ann:s3cret@example.com/dav")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL().String(); got != "http://example.com/dav" {
		t.Errorf("BaseURL %q: credentials not removed", got)
	}
}

func TestAuthAndUserAgent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "ann" || p != "pa:ss wörd" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-UA", r.UserAgent())
		w.Header().Set("DAV", "1, 2")
	}))
	defer srv.Close()

	c, _ := client.New(srv.URL + "/")
	_, err := c.Options(t.Context(), "")
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("without credentials: %v, want 401", err)
	}
	c, _ = client.New(srv.URL+"/", client.WithBasicAuth("ann", "pa:ss wörd"), client.WithUserAgent("test-agent/2"))
	caps, err := c.Options(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if ua := caps.Header.Get("X-UA"); ua != "test-agent/2" {
		t.Errorf("User-Agent %q", ua)
	}
	// Credentials in the URL work too, and never show in errors.
	u := strings.Replace(srv.URL, "http://", "http://ann:pa%3Ass%20w%C3%B6rd@", 1)
	c, err = client.New(u + "/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Options(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	err = c.Mkcol(t.Context(), "x") // answered 204 by this server: no error
	if err != nil {
		t.Fatal(err)
	}
	c, _ = client.New(strings.Replace(srv.URL, "http://", "http://ann:wrong@", 1) + "/")
	_, err = c.Options(t.Context(), "")
	if err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %v: want a 401 without the password", err)
	}
}

func TestPathEncoding(t *testing.T) {
	tests := []struct{ base, path, want string }{
		{"/dav/", "", "/dav/"},
		{"/dav/", "a b.txt", "/dav/a%20b.txt"},
		{"/dav/", "x#1", "/dav/x%231"},
		{"/dav/", "100%", "/dav/100%25"},
		{"/dav/", "q?x=1", "/dav/q%3Fx=1"},
		{"/dav/", "café/日本.txt", "/dav/caf%C3%A9/%E6%97%A5%E6%9C%AC.txt"},
		{"/dav/", "sub/", "/dav/sub/"},
		{"/dav/", "/other/a b", "/other/a%20b"},
		{"/dav", "a", "/dav/a"},
		{"/dav", "", "/dav"},
		{"/my%20dav/", "f", "/my%20dav/f"},
		{"", "plus+semi;eq=.txt", "/plus+semi;eq=.txt"},
	}
	for _, tt := range tests {
		c, reqs := replay(t, tt.base)
		if err := c.Delete(t.Context(), tt.path); err != nil {
			t.Fatal(err)
		}
		if got := reqs()[0].URI; got != tt.want {
			t.Errorf("base %q path %q: sent %q, want %q", tt.base, tt.path, got, tt.want)
		}
	}
}

func TestPropFindAllprop(t *testing.T) {
	for _, f := range []string{"apache-propfind-allprop-d1-coll.xml", "xnet-propfind-allprop-d1-coll.xml"} {
		t.Run(f, func(t *testing.T) {
			c, reqs := replay(t, "/c/", xmlAnswer(207, corpus(t, f)))
			got := map[string]*client.Resource{}
			for res, err := range c.PropFind(t.Context(), "", client.Depth1, client.AllProp()) {
				if err != nil {
					t.Fatal(err)
				}
				got[res.Path] = res
			}
			r := reqs()[0]
			if r.Method != "PROPFIND" || r.Header.Get("Depth") != "1" || !bytes.Contains(r.Body, []byte("<D:allprop/>")) {
				t.Errorf("request %s Depth %q body %s", r.Method, r.Header.Get("Depth"), r.Body)
			}
			self, a, sub := got[""], got["a.txt"], got["sub/"]
			if self == nil || a == nil || sub == nil {
				t.Fatalf("paths %v", keys(got))
			}
			if !self.IsCollection || !sub.IsCollection || a.IsCollection {
				t.Errorf("collections: self %v sub %v a %v", self.IsCollection, sub.IsCollection, a.IsCollection)
			}
			if a.Size != 12 || a.ETag == "" || a.ModTime.IsZero() || !strings.HasPrefix(a.ContentType, "text/plain") {
				t.Errorf("a.txt: %+v", a)
			}
			if !strings.HasSuffix(a.Href, "/c/a.txt") || !strings.HasPrefix(a.Href, "http://") || a.Name() != "a.txt" || sub.Name() != "sub" {
				t.Errorf("href %q name %q %q", a.Href, a.Name(), sub.Name())
			}
			if p, ok := a.Prop(client.DAVName("supportedlock")); !ok || !p.OK() || !p.HasElements() {
				t.Errorf("supportedlock: %+v", p)
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestPropFindNamesAndStatus(t *testing.T) {
	c, _ := replay(t, "/names/", xmlAnswer(207, corpus(t, "apache-propfind-names-d1.xml")))
	var paths []string
	for res, err := range c.PropFind(t.Context(), "", client.Depth1, client.Props(client.DAVName("resourcetype"),
		client.DAVName("getcontentlength"), client.DAVName("displayname"))) {
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, res.Path)
		p, ok := res.Prop(client.DAVName("displayname"))
		if !ok || p.Status.Code != 404 || p.OK() {
			t.Errorf("%s: displayname %+v, want 404", res.Path, p)
		}
	}
	for _, want := range []string{"", "日本.txt", "café.txt", "plus+semi;eq=.txt"} {
		if !slices.Contains(paths, want) {
			t.Errorf("path %q missing from %q", want, paths)
		}
	}
}

// TestPropFindBodies checks the three kinds of PROPFIND body by decoding
// them as a server would.
func TestPropFindBodies(t *testing.T) {
	custom := xml.Name{Space: "urn:x&y", Local: "color"}
	bare := xml.Name{Local: "plain"}
	tests := []struct {
		q    client.PropQuery
		want []string // elements in document order, as {ns}local
	}{
		{client.AllProp(), []string{"{DAV:}propfind", "{DAV:}allprop"}},
		{client.AllProp(custom), []string{"{DAV:}propfind", "{DAV:}allprop", "{DAV:}include", "{urn:x&y}color"}},
		{client.PropNames(), []string{"{DAV:}propfind", "{DAV:}propname"}},
		{client.Props(client.DAVName("getetag"), custom, bare), []string{"{DAV:}propfind", "{DAV:}prop", "{DAV:}getetag", "{urn:x&y}color", "{}plain"}},
	}
	for _, tt := range tests {
		c, reqs := replay(t, "/", xmlAnswer(207, `<D:multistatus xmlns:D="DAV:"/>`))
		for _, err := range c.PropFind(t.Context(), "", client.Depth0, tt.q) {
			t.Fatal(err)
		}
		if got := elements(t, reqs()[0].Body); !slices.Equal(got, tt.want) {
			t.Errorf("body elements %q, want %q", got, tt.want)
		}
	}
}

func elements(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	dec := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("malformed body %s: %v", body, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			out = append(out, multistatus.ClarkName(se.Name.Space, se.Name.Local))
		}
	}
}

func TestPropFindErrors(t *testing.T) {
	c, _ := replay(t, "/", canned{status: 404, body: "<html>no</html>", header: map[string]string{"Content-Type": "text/html"}})
	for res, err := range c.PropFind(t.Context(), "x", client.Depth0, client.AllProp()) {
		var se *client.StatusError
		if res != nil || !errors.As(err, &se) || se.StatusCode != 404 || !errors.Is(err, client.ErrNotFound) {
			t.Fatalf("got %v, %v", res, err)
		}
	}
	_, err := c.Stat(t.Context(), "x")
	if !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Stat: %v", err)
	}

	c, _ = replay(t, "/", xmlAnswer(207, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href>
<D:status>HTTP/1.1 200 OK</D:status></D:response><D:response><D:href>/b</oops></D:response></D:multistatus>`))
	n := 0
	var last error
	for res, err := range c.PropFind(t.Context(), "", client.Depth1, client.AllProp()) {
		if err == nil && res.Path != "a" {
			t.Errorf("path %q", res.Path)
		}
		n++
		last = err
	}
	var se *multistatus.SyntaxError
	if n != 2 || !errors.As(last, &se) || se.Line != 2 {
		t.Fatalf("malformed answer: %d items, last error %v", n, last)
	}

	// A status-form response in a listing is a failed resource, not an error.
	c, _ = replay(t, "/", xmlAnswer(207, `<D:multistatus xmlns:D="DAV:"><D:response><D:href>/a</D:href><D:href>/b</D:href>
<D:status>HTTP/1.1 403 Forbidden</D:status></D:response></D:multistatus>`))
	var failed []string
	for res, err := range c.PropFind(t.Context(), "", client.Depth1, client.AllProp()) {
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed() && res.Status.Code == 403 {
			failed = append(failed, res.Path)
		}
	}
	if !slices.Equal(failed, []string{"a", "b"}) {
		t.Errorf("failed resources %q", failed)
	}
}

func TestPropPatch(t *testing.T) {
	ok := `<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:ns1="urn:example:corpus"><D:response><D:href>/c/a.txt</D:href>
<D:propstat><D:prop><ns1:color/><ns1:size/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
</D:response></D:multistatus>`
	c, reqs := replay(t, "/c/", xmlAnswer(207, ok), xmlAnswer(207, corpus(t, "apache-proppatch-mixed.xml")))
	color := xml.Name{Space: "urn:example:corpus", Local: "color"}
	size := xml.Name{Space: "urn:example:corpus", Local: "size"}
	res, err := c.PropPatch(t.Context(), "a.txt", []client.PropUpdate{
		client.SetText(color, "red <&> blue"),
		client.SetXML(size, []byte(`<w xmlns="urn:u">3</w><D:href>/x</D:href>`)),
		client.RemoveProp(xml.Name{Space: "urn:example:corpus", Local: "old"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || !res[0].OK() || res[0].Name != color {
		t.Errorf("results %+v", res)
	}
	// Decode the body as a server would.
	var pu struct {
		Set []struct {
			Prop struct {
				Inner []byte `xml:",innerxml"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: set"`
		Remove []struct {
			Prop struct {
				Any []struct{ XMLName xml.Name } `xml:",any"`
			} `xml:"DAV: prop"`
		} `xml:"DAV: remove"`
	}
	body := reqs()[0].Body
	if err := xml.Unmarshal(body, &pu); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if len(pu.Set) != 1 || len(pu.Remove) != 1 || pu.Remove[0].Prop.Any[0].XMLName.Local != "old" {
		t.Fatalf("body %s", body)
	}
	props, err := multistatus.Decode(strings.NewReader(`<D:multistatus xmlns:D="DAV:"><D:response><D:href>/</D:href><D:propstat><D:prop>` +
		string(pu.Set[0].Prop.Inner) + `</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`))
	if err != nil {
		t.Fatalf("set body %s: %v", body, err)
	}
	got := props.Responses[0].Propstats[0].Props
	if v, _ := got[0].Text(); got[0].Name != color || v != "red <&> blue" {
		t.Errorf("color sent as %+v", got[0])
	}
	if got[1].Name != size || !strings.Contains(string(got[1].Inner), `<w xmlns="urn:u">3</w><D:href>/x</D:href>`) {
		t.Errorf("size sent as %s", got[1].Inner)
	}

	// Apache refusing a protected property: every property failed.
	res, err = c.PropPatch(t.Context(), "a.txt", []client.PropUpdate{client.SetText(client.DAVName("getetag"), "x")})
	var me *client.MultiError
	if !errors.As(err, &me) || len(me.Failures) != 3 || len(res) != 3 {
		t.Fatalf("got %+v, %v", res, err)
	}
	f := me.Failures[1]
	if f.Property != client.DAVName("getetag") || f.Status.Code != 409 || f.Path != "a.txt" || f.Description != "Property is read-only." {
		t.Errorf("failure %+v", f)
	}
	if !errors.Is(err, client.ErrConflict) || !errors.Is(err, client.ErrFailedDependency) || errors.Is(err, client.ErrLocked) {
		t.Errorf("errors.Is on %v", err)
	}

	// Bad input fails before anything is sent.
	n := len(reqs())
	if _, err := c.PropPatch(t.Context(), "a.txt", []client.PropUpdate{client.SetXML(color, []byte("<unclosed>"))}); err == nil {
		t.Error("malformed value: no error")
	}
	if _, err := c.PropPatch(t.Context(), "a.txt", nil); err == nil {
		t.Error("no updates: no error")
	}
	if len(reqs()) != n {
		t.Error("a request was sent for bad input")
	}
}

func TestDeleteMultiStatus(t *testing.T) {
	c, _ := replay(t, "/", xmlAnswer(207, corpus(t, "apache-delete-partial-permission.xml")))
	err := c.Delete(t.Context(), "perm")
	var me *client.MultiError
	if !errors.As(err, &me) || me.StatusCode != 207 || len(me.Failures) != 3 || !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("got %v", err)
	}
	if f := me.Failures[2]; f.Path != "perm/sub/f.txt" || f.Status.Code != 403 {
		t.Errorf("failure %+v", f)
	}
	if !strings.Contains(err.Error(), "403 Forbidden") {
		t.Errorf("message %q", err)
	}

	// Apache answers 424 with a multistatus body naming the locked member.
	c, _ = replay(t, "/", xmlAnswer(424, corpus(t, "apache-delete-locked-member-http424.xml")))
	err = c.Delete(t.Context(), "d/")
	if !errors.As(err, &me) || me.StatusCode != 424 || len(me.Failures) != 1 || me.Failures[0].Path != "d/m.txt" || !errors.Is(err, client.ErrLocked) {
		t.Fatalf("got %v", err)
	}
}

const lockAnswer = `<?xml version="1.0" encoding="utf-8"?>
<D:prop xmlns:D="DAV:">
<D:lockdiscovery>
<D:activelock>
<D:locktype><D:write/></D:locktype>
<D:lockscope><D:exclusive/></D:lockscope>
<D:depth>0</D:depth>
<ns0:owner xmlns:ns0="DAV:"><ns0:href>me</ns0:href></ns0:owner><D:timeout>Second-100</D:timeout>
<D:locktoken>
<D:href>opaquelocktoken:b5ed2742-6c14-4954-aefc-0509220fd323</D:href>
</D:locktoken>
<D:lockroot><D:href>/f.txt</D:href></D:lockroot>
</D:activelock>
</D:lockdiscovery>
</D:prop>`

func TestLock(t *testing.T) {
	const token = "opaquelocktoken:b5ed2742-6c14-4954-aefc-0509220fd323"
	lockOK := xmlAnswer(200, lockAnswer)
	lockOK.header["Lock-Token"] = "<" + token + ">"
	c, reqs := replay(t, "/", lockOK)
	l, err := c.Lock(t.Context(), "f.txt", client.LockRequest{Timeout: 100 * time.Second, OwnerXML: []byte(`<D:href>me</D:href>`)})
	if err != nil {
		t.Fatal(err)
	}
	if l.Token != token || l.Shared || l.Depth != client.Depth0 || l.Timeout != 100*time.Second ||
		l.Owner != "<D:href>me</D:href>" || !strings.HasSuffix(l.Root, "/f.txt") || len(l.Discovery) != 1 {
		t.Errorf("lock %+v", l)
	}
	r := reqs()[0]
	if r.Header.Get("Depth") != "0" || r.Header.Get("Timeout") != "Second-100" {
		t.Errorf("headers %v", r.Header)
	}
	if got := elements(t, r.Body); !slices.Equal(got, []string{"{DAV:}lockinfo", "{DAV:}lockscope", "{DAV:}exclusive",
		"{DAV:}locktype", "{DAV:}write", "{DAV:}owner", "{DAV:}href"}) {
		t.Errorf("body %q", got)
	}

	_, err = c.Lock(t.Context(), "d/", client.LockRequest{Shared: true, Depth: client.DepthInfinity, Timeout: client.InfiniteTimeout, Owner: "a & b"})
	if err != nil {
		t.Fatal(err)
	}
	r = reqs()[1]
	if r.Header.Get("Depth") != "infinity" || r.Header.Get("Timeout") != "Infinite" ||
		!bytes.Contains(r.Body, []byte("<D:shared/>")) || !bytes.Contains(r.Body, []byte("<D:owner>a &amp; b</D:owner>")) {
		t.Errorf("shared lock request %v %s", r.Header, r.Body)
	}

	l, err = c.RefreshLock(t.Context(), "f.txt", "<"+token+">", 90*time.Second+time.Millisecond)
	if err != nil || l.Token != token {
		t.Fatalf("refresh: %+v %v", l, err)
	}
	r = reqs()[2]
	if r.Header.Get("If") != "(<"+token+">)" || r.Header.Get("Timeout") != "Second-91" || len(r.Body) != 0 {
		t.Errorf("refresh request %v %q", r.Header, r.Body)
	}

	c, reqs = replay(t, "/")
	if err := c.Unlock(t.Context(), "f.txt", token); err != nil {
		t.Fatal(err)
	}
	if h := reqs()[0].Header.Get("Lock-Token"); h != "<"+token+">" {
		t.Errorf("Lock-Token %q", h)
	}
}

func TestLockErrors(t *testing.T) {
	c, _ := replay(t, "/", xmlAnswer(207, corpus(t, "apache-lock-depthinf-locked-member.xml")))
	_, err := c.Lock(t.Context(), "l", client.LockRequest{Depth: client.DepthInfinity})
	var me *client.MultiError
	if !errors.As(err, &me) || len(me.Failures) != 2 || !errors.Is(err, client.ErrLocked) {
		t.Fatalf("got %v", err)
	}
	if f := me.Failures[0]; f.Property != client.DAVName("lockdiscovery") || f.Status.Code != 424 || !strings.Contains(f.Description, "another resource") {
		t.Errorf("failure %+v", f)
	}
	if f := me.Failures[1]; f.Path != "l/m.txt" || f.Status.Code != 423 {
		t.Errorf("failure %+v", f)
	}

	body := `<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:lock-token-submitted><D:href>/f.txt</D:href></D:lock-token-submitted><x:other xmlns:x="urn:x"/></D:error>`
	c, _ = replay(t, "/", canned{status: 423, header: map[string]string{"Content-Type": "application/xml; charset=utf-8"}, body: body})
	_, err = c.Lock(t.Context(), "f.txt", client.LockRequest{})
	var se *client.StatusError
	if !errors.As(err, &se) || se.StatusCode != 423 || len(se.Conditions) != 2 || !se.Has(client.DAVName("lock-token-submitted")) ||
		!errors.Is(err, client.ErrLocked) || !strings.Contains(string(se.Conditions[0].Inner), "/f.txt") {
		t.Fatalf("got %#v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "423 Locked") || !strings.Contains(msg, "DAV:lock-token-submitted") || !strings.Contains(msg, "{urn:x}other") {
		t.Errorf("message %q", msg)
	}

	// An answer without a token is an error.
	c, _ = replay(t, "/", xmlAnswer(200, `<D:prop xmlns:D="DAV:"/>`))
	if _, err := c.Lock(t.Context(), "f.txt", client.LockRequest{}); err == nil {
		t.Error("no token: no error")
	}
}

func TestStatusErrorBodies(t *testing.T) {
	tests := []struct {
		name  string
		a     canned
		conds int
	}{
		{"html", canned{status: 409, header: map[string]string{"Content-Type": "text/html"}, body: "<html><body>conflict</body></html>"}, 0},
		{"no type", canned{status: 409, body: `<D:error xmlns:D="DAV:"><D:x/></D:error>`}, 0},
		{"malformed", canned{status: 409, header: map[string]string{"Content-Type": "text/xml"}, body: `<D:error xmlns:D="DAV:"><D:a/><D:b>`}, 1},
		{"huge", canned{status: 409, header: map[string]string{"Content-Type": "text/xml"}, body: `<D:error xmlns:D="DAV:"><D:a/>` + strings.Repeat("<D:b/>", 100000) + `</D:error>`}, -1},
		{"error", canned{status: 409, header: map[string]string{"Content-Type": "application/xml"}, body: `<error xmlns="DAV:"><cannot-modify-protected-property/></error>`}, 1},
	}
	for _, tt := range tests {
		c, _ := replay(t, "/", tt.a)
		err := c.Mkcol(t.Context(), "x")
		var se *client.StatusError
		if !errors.As(err, &se) || se.StatusCode != 409 || !errors.Is(err, client.ErrConflict) {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tt.conds >= 0 && len(se.Conditions) != tt.conds {
			t.Errorf("%s: conditions %v", tt.name, se.Conditions)
		}
		if tt.conds < 0 && len(se.Conditions) > 64<<10/6 {
			t.Errorf("%s: %d conditions read from a bounded body", tt.name, len(se.Conditions))
		}
	}
}

func TestOptions(t *testing.T) {
	c, _ := replay(t, "/", canned{status: 200, header: map[string]string{
		"DAV":   "1,2, <http://apache.org/dav/propset/fs/1>",
		"Allow": "OPTIONS,GET,propfind, LOCK",
	}})
	caps, err := c.Options(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !caps.HasClass("1") || !caps.HasClass("2") || caps.HasClass("3") || !caps.HasClass("<http://apache.org/dav/propset/fs/1>") {
		t.Errorf("classes %q", caps.Classes)
	}
	if !caps.Allows("PROPFIND") || !caps.Allows("lock") || caps.Allows("MKCOL") {
		t.Errorf("methods %q", caps.Methods)
	}
}

func TestGet(t *testing.T) {
	content := strings.Repeat("0123456789", 10)
	mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/a b.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "text/plain")
		http.ServeContent(w, r, "", mod, strings.NewReader(content))
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)

	d, err := c.Get(t.Context(), "a b.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(d)
	d.Close()
	if string(b) != content || d.Partial || d.ContentLength != 100 || d.ETag != `"v1"` || d.ContentType != "text/plain" || !d.LastModified.Equal(mod) {
		t.Errorf("whole: %q %+v", b, d)
	}

	for _, tt := range []struct {
		off, n int64
		want   string
	}{{10, 5, "01234"}, {95, 0, "56789"}, {0, 1, "0"}} {
		d, err = c.Get(t.Context(), "a b.txt", client.WithRange(tt.off, tt.n))
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(d)
		d.Close()
		if string(b) != tt.want || !d.Partial || d.RangeStart != tt.off || d.StatusCode != 206 {
			t.Errorf("range %d+%d: %q %+v", tt.off, tt.n, b, d)
		}
	}
	if _, err = c.Get(t.Context(), "a b.txt", client.WithRange(200, 1)); !errors.As(err, new(*client.StatusError)) {
		t.Errorf("unsatisfiable range: %v", err)
	}
	if _, err = c.Get(t.Context(), "missing"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

func TestPut(t *testing.T) {
	created := canned{status: 201, header: map[string]string{"ETag": `"e1"`}}
	c, reqs := replay(t, "/dav/", created, canned{status: 204}, created, created, created)

	res, err := c.Put(t.Context(), "a.txt", strings.NewReader("hello"), client.WithContentType("text/plain"), client.WithLockToken("<opaquelocktoken:1>"))
	if err != nil || !res.Created || res.ETag != `"e1"` {
		t.Fatalf("%+v %v", res, err)
	}
	r := reqs()[0]
	if r.Method != "PUT" || string(r.Body) != "hello" || r.ContentLength != 5 || r.Header.Get("Content-Type") != "text/plain" ||
		r.Header.Get("If") != "(<opaquelocktoken:1>)" {
		t.Errorf("request %+v", r)
	}

	// Unknown length: chunked, streamed.
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 100; i++ {
			io.WriteString(pw, strings.Repeat("x", 1000))
		}
		pw.Close()
	}()
	res, err = c.Put(t.Context(), "big", pr)
	if err != nil || res.Created {
		t.Fatalf("%+v %v", res, err)
	}
	if r := reqs()[1]; !r.Chunked || len(r.Body) != 100000 {
		t.Errorf("chunked %v, %d bytes", r.Chunked, len(r.Body))
	}

	// A file: its length is known, and the caller's file stays open.
	f, err := os.CreateTemp(t.TempDir(), "put")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("file content")
	f.Seek(5, io.SeekStart)
	if _, err := c.Put(t.Context(), "f", f); err != nil {
		t.Fatal(err)
	}
	if r := reqs()[2]; r.ContentLength != 7 || string(r.Body) != "content" {
		t.Errorf("file: length %d body %q", r.ContentLength, r.Body)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Errorf("the file was closed: %v", err)
	}

	// Empty body, explicit length.
	if _, err := c.Put(t.Context(), "empty", nil); err != nil {
		t.Fatal(err)
	}
	if r := reqs()[3]; r.ContentLength != 0 || len(r.Body) != 0 {
		t.Errorf("empty: %+v", r)
	}
	if _, err := c.Put(t.Context(), "n", io.MultiReader(strings.NewReader("abc")), client.WithContentLength(3)); err != nil {
		t.Fatal(err)
	}
	if r := reqs()[4]; r.ContentLength != 3 || r.Chunked {
		t.Errorf("explicit length: %+v", r)
	}

	c, _ = replay(t, "/", canned{status: 423})
	_, err = c.Put(t.Context(), "a.txt", strings.NewReader("x"))
	var se *client.StatusError
	if !errors.As(err, &se) || se.StatusCode != 423 || !errors.Is(err, client.ErrLocked) || se.Method != "PUT" {
		t.Fatalf("locked: %v", err)
	}
}

func TestCopyMove(t *testing.T) {
	c, reqs := replay(t, "/dav/", canned{status: 201}, canned{status: 204}, canned{status: 412})
	created, err := c.Copy(t.Context(), "a b.txt", "dir/c#d.txt", client.WithDepth(client.Depth0), client.WithOverwrite(true))
	if err != nil || !created {
		t.Fatalf("copy: %v %v", created, err)
	}
	r := reqs()[0]
	if r.Method != "COPY" || r.URI != "/dav/a%20b.txt" || !strings.HasSuffix(r.Header.Get("Destination"), "/dav/dir/c%23d.txt") ||
		!strings.HasPrefix(r.Header.Get("Destination"), "http://127.0.0.1:") || r.Header.Get("Depth") != "0" || r.Header.Get("Overwrite") != "T" {
		t.Errorf("copy request %s %s %v", r.Method, r.URI, r.Header)
	}
	created, err = c.Move(t.Context(), "x/", "/elsewhere/y/", client.WithDepth(client.Depth0),
		client.WithLockToken("t1"), client.WithLockTokenFor(c.URL("/elsewhere/"), "t2"))
	if err != nil || created {
		t.Fatalf("move: %v %v", created, err)
	}
	r = reqs()[1]
	if r.Method != "MOVE" || r.Header.Get("Depth") != "" || r.Header.Get("Overwrite") != "" ||
		!strings.HasSuffix(r.Header.Get("Destination"), "/elsewhere/y/") {
		t.Errorf("move request %v", r.Header)
	}
	wantIf := "<" + c.URL("x/") + "> (<t1>) <" + c.URL("/elsewhere/") + "> (<t2>)"
	if got := r.Header.Get("If"); got != wantIf {
		t.Errorf("If %q, want %q", got, wantIf)
	}
	_, err = c.Move(t.Context(), "a", "b", client.WithOverwrite(false))
	if !errors.Is(err, client.ErrPreconditionFailed) || reqs()[2].Header.Get("Overwrite") != "F" {
		t.Errorf("no overwrite: %v", err)
	}
}

func TestReadDir(t *testing.T) {
	c, _ := replay(t, "/c", xmlAnswer(207, corpus(t, "apache-propfind-allprop-d1-coll.xml")))
	var names []string
	for res, err := range c.ReadDir(t.Context(), "") {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, res.Name())
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a.txt", "b.txt", "sub"}) {
		t.Errorf("names %q", names)
	}
}

func TestContextCancel(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw := multistatus.NewWriter(w)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(207)
		for i := 0; i < 10; i++ {
			mw.Write(&multistatus.Response{Hrefs: []string{"/f" + string(rune('a'+i))}, Status: multistatus.NewStatus(200)})
		}
		mw.Flush()
		select { // a server that stalls
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL)
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	var last error
	done := make(chan struct{})
	go func() {
		defer close(done)
		for res, err := range c.PropFind(ctx, "", client.Depth1, client.AllProp()) {
			if err != nil {
				last = err
				continue
			}
			if n++; n == 10 && res != nil {
				cancel()
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("iteration did not stop after the context was canceled")
	}
	if n != 10 || !errors.Is(last, context.Canceled) {
		t.Errorf("%d resources, last error %v", n, last)
	}

	// A canceled context fails a call at once.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	if err := c.Mkcol(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Mkcol: %v", err)
	}
}

func TestEarlyBreak(t *testing.T) {
	c, _ := replay(t, "/c/", xmlAnswer(207, corpus(t, "apache-propfind-allprop-d1-coll.xml")))
	for i := 0; i < 3; i++ { // each iteration sends the request again
		n := 0
		for _, err := range c.PropFind(t.Context(), "", client.Depth1, client.AllProp()) {
			if err != nil {
				t.Fatal(err)
			}
			n++
			break
		}
		if n != 1 {
			t.Fatal(n)
		}
	}
}
