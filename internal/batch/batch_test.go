package batch_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/multistatus"
)

const xmlType = "application/xml"

// putDirect creates a file past the authentication (for /readonly/).
func (e *env) putDirect(p, content string) {
	e.t.Helper()
	for _, r := range []*http.Request{req("MKCOL", p[:strings.LastIndex(p, "/")+1], ""), req("PUT", p, content)} {
		w := httptest.NewRecorder()
		e.dav.ServeHTTP(w, dav.WithUser(r, "ann"))
	}
}

// fixture: /dir/ with a.txt, b.txt, c.txt and locked.txt (locked by ann),
// /readonly/r.txt. It returns the lock token.
func fixture(e *env) string {
	e.mkcol("/dir/")
	for _, n := range []string{"a", "b", "c", "locked"} {
		e.put("/dir/"+n+".txt", n)
	}
	e.putDirect("/readonly/r.txt", "r")
	return e.lock("/dir/locked.txt", "0")
}

// TestMixedOutcomes runs one batch whose items get 200, 201, 204, 403,
// 404, 409, 412, 423 and 424, each judged as the same request alone.
func TestMixedOutcomes(t *testing.T) {
	e := newEnv(t, batch.Options{})
	tok := fixture(e)
	doc := `<?xml version="1.0" encoding="utf-8"?>
<batch xmlns="urn:davit:batch" xmlns:D="DAV:">
  <item id="get" method="PROPFIND" href="a.txt" depth="0">
    <D:propfind><D:prop><D:getcontentlength/></D:prop></D:propfind>
  </item>
  <item id="mk" method="MKCOL" href="sub/"/>
  <item id="cp" method="COPY" href="a.txt" destination="sub/a.txt" depends="mk"/>
  <item id="del" method="DELETE" href="b.txt"/>
  <item id="ro" method="DELETE" href="/readonly/r.txt"/>
  <item id="missing" method="DELETE" href="nothere.txt"/>
  <item id="orphan" method="MKCOL" href="nope/deeper/"/>
  <item id="nooverwrite" method="COPY" href="c.txt" destination="a.txt" overwrite="F"/>
  <item id="locked" method="DELETE" href="locked.txt"/>
  <item id="after" method="MOVE" href="c.txt" destination="moved.txt" depends="locked"/>
  <item id="pp" method="PROPPATCH" href="a.txt">
    <D:propertyupdate><D:set><D:prop><color xmlns="urn:x">blue</color></D:prop></D:set></D:propertyupdate>
  </item>
  <item id="unlock" method="UNLOCK" href="locked.txt" lock-token="` + tok + `"/>
  <item id="del2" method="DELETE" href="locked.txt" depends="unlock"/>
</batch>`
	w := e.do("POST", "/dir/", doc, "Content-Type", xmlType)
	rs := decode(t, w)
	got := byID(rs)
	want := map[string][]int{
		"get": {200}, "mk": {201}, "cp": {201}, "del": {204}, "ro": {403}, "missing": {404},
		"orphan": {409}, "nooverwrite": {412}, "locked": {423}, "after": {424}, "pp": {200},
		"unlock": {204}, "del2": {204},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes\n got %v\nwant %v\n%s", got, want, w.Body.String())
	}
	// Order, hrefs, conditions.
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	if want := []string{"get", "mk", "cp", "del", "ro", "missing", "orphan", "nooverwrite", "locked", "after", "pp", "unlock", "del2"}; !slices.Equal(ids, want) {
		t.Errorf("order %v", ids)
	}
	for _, r := range rs {
		switch r.ID {
		case "locked":
			if len(r.Error) != 1 || r.Error[0].Name.Local != "lock-token-submitted" || !strings.Contains(string(r.Error[0].Inner), "/dir/locked.txt") {
				t.Errorf("423 condition: %+v", r.Error)
			}
			if r.Hrefs[0] != "/dir/locked.txt" {
				t.Errorf("href %v", r.Hrefs)
			}
		case "cp":
			if r.Location != "/dir/sub/a.txt" {
				t.Errorf("COPY location %q", r.Location)
			}
		case "get":
			if v, _ := r.Propstats[0].Props[0].Text(); v != "1" {
				t.Errorf("PROPFIND value %q", v)
			}
		case "after":
			if !strings.Contains(r.ResponseDescription, `"locked"`) {
				t.Errorf("424 description %q", r.ResponseDescription)
			}
		case "nooverwrite":
			if !strings.Contains(r.ResponseDescription, "Overwrite") {
				t.Errorf("412 description %q", r.ResponseDescription)
			}
		}
	}
	// The effects are those of the requests alone.
	e.must(http.StatusOK, "GET", "/dir/sub/a.txt", "")
	e.must(http.StatusNotFound, "GET", "/dir/b.txt", "")
	e.must(http.StatusOK, "GET", "/dir/c.txt", "")
	e.must(http.StatusNotFound, "GET", "/dir/locked.txt", "")
	e.must(http.StatusOK, "GET", "/readonly/r.txt", "")
}

// TestLockItems takes a lock in a batch, uses its token in later items and
// releases it; a lock answer carries the lockdiscovery and the token.
func TestLockItems(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/f.txt", "x")
	w := e.do("POST", "/d/", `{"items":[
		{"id":"l","method":"LOCK","href":"f.txt","lock":{"scope":"exclusive","owner":"ann"},"timeout":"Second-600"},
		{"id":"new","method":"LOCK","href":"new.txt","lock":{"scope":"shared"}, "depth":0}
	]}`, "Content-Type", "application/json")
	rs := decode(t, w)
	if got := byID(rs); !reflect.DeepEqual(got, map[string][]int{"l": {200}, "new": {201}}) {
		t.Fatalf("%v\n%s", got, w.Body.String())
	}
	desc := rs[0].ResponseDescription
	tok, ok := strings.CutPrefix(desc, "Lock-Token: ")
	if !ok || !strings.Contains(string(rs[0].Propstats[0].Props[0].Inner), strings.Trim(tok, "<>")) {
		t.Fatalf("lock answer: %q %+v", desc, rs[0].Propstats)
	}
	// Without the token: 423; with it: 204; refresh; unlock.
	w = e.do("POST", "/d/", fmt.Sprintf(`{"items":[
		{"id":"no","method":"DELETE","href":"f.txt"},
		{"id":"refresh","method":"LOCK","href":"f.txt","if":"(%s)"},
		{"id":"pp","method":"PROPPATCH","href":"f.txt","set":{"{urn:x}k":"v"},"if":"(%s)"},
		{"id":"unlock","method":"UNLOCK","href":"f.txt","lock-token":%q},
		{"id":"again","method":"UNLOCK","href":"f.txt","lock-token":%q}
	]}`, tok, tok, tok, tok), "Content-Type", "application/json")
	got := byID(decode(t, w))
	if want := map[string][]int{"no": {423}, "refresh": {200}, "pp": {200}, "unlock": {204}, "again": {409}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v\n%s", got, want, w.Body.String())
	}
}

// TestRightsPerItem: each item is judged with the batch's credentials by
// the authentication in front of dav, and a lock belongs to its owner.
func TestRightsPerItem(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/a.txt", "a")
	e.put("/d/b.txt", "b")
	tok := e.lock("/d/b.txt", "0")
	r := req("POST", "/d/", fmt.Sprintf(`<batch xmlns="urn:davit:batch">
		<item id="read" method="PROPFIND" href="a.txt" depth="0"/>
		<item id="write" method="DELETE" href="a.txt"/>
		<item id="steal" method="UNLOCK" href="b.txt" lock-token="%s"/>
	</batch>`, tok), "Content-Type", xmlType)
	r.SetBasicAuth("bob", "pw")
	got := byID(decode(t, e.serve(r)))
	if got["read"][0] != 200 || !slices.Equal(got["write"], []int{403}) || !slices.Equal(got["steal"], []int{403}) {
		t.Fatalf("bob: %v", got)
	}
	e.must(http.StatusOK, "GET", "/d/a.txt", "")
}

// TestChallenge: a batch without credentials is answered with the 401 of
// its first item, challenge included, so clients can authenticate.
func TestChallenge(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	w := e.do("POST", "/d/", `<batch xmlns="urn:davit:batch"><item method="MKCOL" href="x/"/></batch>`,
		"Content-Type", xmlType, "Authorization", "")
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	e.must(http.StatusNotFound, "PROPFIND", "/d/x/", "", "Depth", "0")
}

// TestBMethods covers BDELETE, BCOPY, BMOVE, BPROPFIND and BPROPPATCH.
func TestBMethods(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.mkcol("/d/to/")
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		e.put("/d/"+n+".txt", n)
	}

	w := e.do("BCOPY", "/d/", `<?xml version="1.0"?><D:copy xmlns:D="DAV:"><D:target>
		<D:href>a.txt</D:href><D:dest>a-copy.txt</D:dest>
		<D:href>b.txt</D:href>
		<D:href>missing.txt</D:href>
	</D:target></D:copy>`, "Destination", "http://example.com/d/to/")
	if got := byID(decode(t, w)); !reflect.DeepEqual(got, map[string][]int{"1": {201}, "2": {201}, "3": {404}}) {
		t.Fatalf("BCOPY %v\n%s", got, w.Body.String())
	}
	e.must(http.StatusOK, "GET", "/d/a-copy.txt", "")
	e.must(http.StatusOK, "GET", "/d/to/b.txt", "")

	w = e.do("BMOVE", "/d/", `<D:move xmlns:D="DAV:"><D:target>
		<D:href>c.txt</D:href><D:dest>/d/to/c2.txt</D:dest>
		<D:href>b.txt</D:href>
	</D:target></D:move>`, "Destination", "/d/to/", "Overwrite", "F")
	if got := byID(decode(t, w)); !reflect.DeepEqual(got, map[string][]int{"1": {201}, "2": {412}}) {
		t.Fatalf("BMOVE %v\n%s", got, w.Body.String())
	}

	w = e.do("BPROPPATCH", "/d/", `<D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">
		<D:target><D:href>a.txt</D:href><D:href>d.txt</D:href><D:href>zz.txt</D:href></D:target>
		<D:set><D:prop><Z:tag>x</Z:tag></D:prop></D:set></D:propertyupdate>`)
	if got := byID(decode(t, w)); !reflect.DeepEqual(got, map[string][]int{"1": {200}, "2": {200}, "3": {404}}) {
		t.Fatalf("BPROPPATCH %v\n%s", got, w.Body.String())
	}

	w = e.do("BPROPFIND", "/d/", `<D:propfind xmlns:D="DAV:"><D:target><D:href>a.txt</D:href><D:href>d.txt</D:href><D:href>to/</D:href></D:target>
		<D:prop><Z:tag xmlns:Z="urn:z"/></D:prop></D:propfind>`, "Depth", "0")
	rs := decode(t, w)
	if got := byID(rs); !reflect.DeepEqual(got, map[string][]int{"1": {200}, "2": {200}, "3": {404}}) {
		t.Fatalf("BPROPFIND %v\n%s", got, w.Body.String())
	}
	if v, _ := rs[0].Propstats[0].Props[0].Text(); v != "x" || rs[2].Hrefs[0] != "/d/to/" {
		t.Fatalf("BPROPFIND values: %+v", rs)
	}
	// Depth 1 of a collection: one response per member, all with the id.
	w = e.do("BPROPFIND", "/", `<D:propfind xmlns:D="DAV:"><D:target><D:href>d/to/</D:href></D:target></D:propfind>`, "Depth", "1")
	if got := byID(decode(t, w)); len(got["1"]) != 3 {
		t.Fatalf("BPROPFIND depth 1: %v\n%s", got, w.Body.String())
	}

	w = e.do("BDELETE", "/d/", `<D:delete xmlns:D="DAV:"><D:target><D:href>a.txt</D:href><D:href>d.txt</D:href><D:href>d.txt</D:href></D:target></D:delete>`)
	if got := byID(decode(t, w)); !reflect.DeepEqual(got, map[string][]int{"1": {204}, "2": {204}, "3": {404}}) {
		t.Fatalf("BDELETE %v\n%s", got, w.Body.String())
	}

	// Prefer: return=minimal keeps the failures only.
	w = e.do("BDELETE", "/d/", `<D:delete xmlns:D="DAV:"><D:target><D:href>e.txt</D:href><D:href>gone.txt</D:href></D:target></D:delete>`,
		"Prefer", "return=minimal")
	rs = decode(t, w)
	if len(rs) != 1 || rs[0].ID != "2" || rs[0].Status.Code != 404 || w.Header().Get("Preference-Applied") != "return=minimal" {
		t.Fatalf("minimal: %+v %v", rs, w.Header())
	}

	// Batch options through the header.
	e.put("/d/x.txt", "x")
	w = e.do("BDELETE", "/d/", `<D:delete xmlns:D="DAV:"><D:target><D:href>nope</D:href><D:href>x.txt</D:href></D:target></D:delete>`,
		batch.HeaderOptions, "stop-on-error")
	if got := byID(decode(t, w)); !reflect.DeepEqual(got, map[string][]int{"1": {404}, "2": {424}}) {
		t.Fatalf("stop-on-error %v", got)
	}
	e.must(http.StatusOK, "GET", "/d/x.txt", "")
}

// TestJSON sends a JSON document and asks for the JSON answer.
func TestJSON(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/a.txt", "hello")
	w := e.do("POST", "/d/", `{"items":[
		{"id":"p","method":"PROPFIND","href":"a.txt","depth":"0","props":["{DAV:}getcontentlength","{urn:x}none"]},
		{"id":"s","method":"PROPPATCH","href":"a.txt","set":{"{urn:x}k":"v & w"}},
		{"id":"q","method":"PROPFIND","href":"a.txt","depth":0,"body":"<propfind xmlns='DAV:'><prop><k xmlns='urn:x'/></prop></propfind>"},
		{"id":"m","method":"MOVE","href":"a.txt","destination":"/d/b.txt","overwrite":false},
		{"id":"x","method":"DELETE","href":"a.txt"}
	]}`, "Content-Type", "application/json", "Accept", "application/json")
	if w.Code != http.StatusMultiStatus || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	var out struct {
		Responses []struct {
			ID       string   `json:"id"`
			Href     []string `json:"href"`
			Status   int      `json:"status"`
			Propstat []struct {
				Status int               `json:"status"`
				Props  map[string]string `json:"props"`
			} `json:"propstat"`
		} `json:"responses"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%v\n%s", err, w.Body.String())
	}
	got := map[string]string{}
	for _, r := range out.Responses {
		s := strconv.Itoa(r.Status)
		for _, ps := range r.Propstat {
			s += fmt.Sprintf("[%d %v]", ps.Status, ps.Props)
		}
		got[r.ID] = s
	}
	want := map[string]string{
		"p": "0[200 map[{DAV:}getcontentlength:5]][404 map[{urn:x}none:]]",
		"s": "0[200 map[{urn:x}k:]]",
		"q": "0[200 map[{urn:x}k:v & w]]",
		"m": "201",
		"x": "404",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v\n%s", got, want, w.Body.String())
	}
}

// TestStopOnError: after the first failure nothing runs; later items get
// 424.
func TestStopOnError(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/a.txt", "a")
	w := e.do("POST", "/d/", `<batch xmlns="urn:davit:batch" stop-on-error="true">
		<item id="1" method="MKCOL" href="n/"/>
		<item id="2" method="MKCOL" href="n/"/>
		<item id="3" method="DELETE" href="a.txt"/>
		<item id="4" method="MKCOL" href="m/"/>
	</batch>`, "Content-Type", xmlType)
	rs := decode(t, w)
	if got := byID(rs); !reflect.DeepEqual(got, map[string][]int{"1": {201}, "2": {405}, "3": {424}, "4": {424}}) {
		t.Fatalf("%v", got)
	}
	if !strings.Contains(rs[2].ResponseDescription, "stop-on-error") {
		t.Errorf("description %q", rs[2].ResponseDescription)
	}
	e.must(http.StatusOK, "GET", "/d/a.txt", "")
	e.must(http.StatusNotFound, "PROPFIND", "/d/m/", "", "Depth", "0")
}

// TestDepends: an item depending on a failed (or skipped) item is not
// run; one depending on successes is.
func TestDepends(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/a.txt", "a")
	w := e.do("POST", "/d/", `{"items":[
		{"id":"bad","method":"DELETE","href":"missing"},
		{"id":"good","method":"COPY","href":"a.txt","destination":"b.txt"},
		{"id":"needs-bad","method":"DELETE","href":"a.txt","depends":["good","bad"]},
		{"id":"needs-skipped","method":"DELETE","href":"b.txt","depends":["needs-bad"]},
		{"id":"needs-good","method":"MOVE","href":"b.txt","destination":"c.txt","depends":["good"]}
	]}`, "Content-Type", "application/json")
	got := byID(decode(t, w))
	if want := map[string][]int{"bad": {404}, "good": {201}, "needs-bad": {424}, "needs-skipped": {424}, "needs-good": {201}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	e.must(http.StatusOK, "GET", "/d/a.txt", "")
	e.must(http.StatusOK, "GET", "/d/c.txt", "")
}

// TestPreferMinimal leaves out the successes of a POSTed batch, and the
// 404 propstats of PROPFIND items (RFC 8144 §2.1).
func TestPreferMinimal(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/a.txt", "a")
	w := e.do("POST", "/d/", `{"items":[
		{"id":"ok","method":"MKCOL","href":"n/"},
		{"id":"p","method":"PROPFIND","href":"a.txt","depth":"0","props":["{DAV:}getetag","{urn:x}none"]},
		{"id":"bad","method":"DELETE","href":"missing"}
	]}`, "Content-Type", "application/json", "Prefer", "return=minimal")
	rs := decode(t, w)
	if len(rs) != 2 || rs[0].ID != "p" || len(rs[0].Propstats) != 1 || rs[0].Propstats[0].Status.Code != 200 || rs[1].ID != "bad" {
		t.Fatalf("%+v", rs)
	}
}

// TestSubMultiStatus: a 207 from a DELETE (members that failed) becomes
// the item's responses, and the item counts as failed.
func TestSubMultiStatus(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "DELETE" {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		mw := multistatus.NewWriter(w)
		mw.Write(&multistatus.Response{Hrefs: []string{r.URL.Path + "m1"}, Status: multistatus.NewStatus(423),
			Error: []multistatus.Condition{multistatus.DAVCondition("lock-token-submitted")}})
		mw.Write(&multistatus.Response{Hrefs: []string{r.URL.Path + "m2"}, Status: multistatus.NewStatus(403)})
		mw.Close()
	})
	h := batch.Wrap(next, batch.Options{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req("POST", "/", `<batch xmlns="urn:davit:batch"><item id="d" method="DELETE" href="c/"/><item id="after" method="MKCOL" href="x/" depends="d"/></batch>`, "Content-Type", xmlType))
	rs := decode(t, w)
	if got := byID(rs); !reflect.DeepEqual(got, map[string][]int{"d": {423, 403}, "after": {424}}) {
		t.Fatalf("%v\n%s", got, w.Body.String())
	}
	if rs[0].Hrefs[0] != "/c/m1" || rs[0].Error[0].Name.Local != "lock-token-submitted" {
		t.Fatalf("%+v", rs[0])
	}
}

// TestAbortedSubMultiStatus: when a sub-request's 207 is cut off, the
// batch's answer is cut off too, never passed off as complete.
func TestAbortedSubMultiStatus(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusMultiStatus)
		mw := multistatus.NewWriter(w)
		for i := range 2000 { // enough for the batch's answer to have begun
			mw.Write(&multistatus.Response{Hrefs: []string{fmt.Sprintf("/a/%04d", i)}, Propstats: []multistatus.Propstat{{Status: multistatus.NewStatus(200)}}})
		}
		mw.Flush()
		panic(http.ErrAbortHandler)
	})
	srv := httptest.NewServer(batch.Wrap(next, batch.Options{}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/", xmlType, strings.NewReader(`<batch xmlns="urn:davit:batch"><item method="PROPFIND" href="a"/><item method="PROPFIND" href="b"/></batch>`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := multistatus.Decode(resp.Body); err == nil {
		t.Fatal("a cut-off answer decoded as complete")
	}
}

// TestPropfindStreamed: a PROPFIND item of a large collection is streamed
// through, every response tagged with the item's id.
func TestPropfindStreamed(t *testing.T) {
	e := newEnv(t, batch.Options{MaxCaptureBytes: 1024})
	e.mkcol("/big/")
	for i := range 3000 {
		e.put(fmt.Sprintf("/big/file-%04d.txt", i), "x")
	}
	w := e.do("POST", "/", `<batch xmlns="urn:davit:batch"><item id="ls" method="PROPFIND" href="big/" depth="1"/><item id="n" method="MKCOL" href="big/z/"/></batch>`,
		"Content-Type", xmlType)
	got := byID(decode(t, w))
	if len(got["ls"]) != 3001 || !slices.Equal(got["n"], []int{201}) {
		t.Fatalf("%d responses for ls, n %v", len(got["ls"]), got["n"])
	}
}

// TestHrefs resolves relative, absolute-path and absolute-URI hrefs, and
// names with escapes, under a prefix.
func TestHrefs(t *testing.T) {
	e := newEnv(t, batch.Options{Prefix: "/dav"})
	e.mkcol("/dav/d/")
	e.put("/dav/d/a%20b.txt", "x")
	e.put("/dav/d/c.txt", "x")
	e.put("/dav/top.txt", "x")
	w := e.do("POST", "/dav/d/", `<batch xmlns="urn:davit:batch">
		<item id="rel" method="COPY" href="a%20b.txt" destination="sub%23.txt"/>
		<item id="abs" method="DELETE" href="/dav/d/c.txt"/>
		<item id="uri" method="DELETE" href="http://elsewhere.example/dav/top.txt"/>
		<item id="up" method="PROPFIND" href="../d/sub%23.txt" depth="0"/>
		<item id="out" method="DELETE" href="/other/x"/>
	</batch>`, "Content-Type", xmlType)
	rs := decode(t, w)
	got := byID(rs)
	if want := map[string][]int{"rel": {201}, "abs": {204}, "uri": {204}, "up": {200}, "out": {404}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%v\n%s", got, w.Body.String())
	}
	if rs[3].Hrefs[0] != "/dav/d/sub%23.txt" {
		t.Errorf("href %q", rs[3].Hrefs[0])
	}
}

// TestPostElsewhere: a POST to a URL without the collection slash is not a
// batch; it goes on to the WebDAV handler unchanged (which refuses POST).
func TestPostElsewhere(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.put("/d/a.txt", "x")
	for _, target := range []string{"/d/a.txt", "/d"} {
		w := e.do("POST", target, `<batch xmlns="urn:davit:batch"><item id="x" method="DELETE" href="/d/a.txt"/></batch>`, "Content-Type", xmlType)
		if w.Code != 405 {
			t.Errorf("POST %s: status %d, want 405 from WebDAV", target, w.Code)
		}
	}
	if w := e.do("GET", "/d/a.txt", ""); w.Code != 200 || w.Body.String() != "x" {
		t.Errorf("GET a.txt after POSTs that are not batches: %d %q", w.Code, w.Body)
	}
}

// TestOptionsAndEndpoint: the limits in OPTIONS, the endpoint's schema,
// limits and properties, and a batch POSTed to it.
func TestOptionsAndEndpoint(t *testing.T) {
	e := newEnv(t, batch.Options{Prefix: "/dav", Endpoint: "/dav/.batch", MaxItems: 50, MaxBodyBytes: 4096})
	w := e.must(http.StatusOK, "OPTIONS", "/dav/", "")
	if w.Header().Get(batch.HeaderMaxItems) != "50" || w.Header().Get(batch.HeaderMaxBytes) != "4096" ||
		!strings.Contains(w.Header().Get("DAV"), "<urn:davit:batch>") || !strings.Contains(w.Header().Get("DAV"), "2") ||
		!strings.Contains(w.Header().Get("Allow"), "BDELETE") {
		t.Fatalf("OPTIONS headers %v", w.Header())
	}
	w = e.must(http.StatusOK, "GET", "/dav/.batch?schema", "")
	docXSD, err := os.ReadFile("../../docs/batch.xsd")
	if err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != string(docXSD) || string(batch.Schema) != string(docXSD) {
		t.Fatal("the served schema differs from docs/batch.xsd")
	}
	w = e.must(http.StatusOK, "GET", "/dav/.batch", "")
	if !strings.Contains(w.Body.String(), `"max-items":50`) {
		t.Fatalf("endpoint GET: %s", w.Body.String())
	}
	rs := decode(t, e.do("PROPFIND", "/dav/.batch", "", "Depth", "0"))
	props := map[string]string{}
	for _, p := range rs[0].Propstats[0].Props {
		props[p.Name.Space+p.Name.Local], _ = p.Text()
	}
	if props["urn:davit:batchmax-items"] != "50" || props["urn:davit:batchmax-bytes"] != "4096" {
		t.Fatalf("endpoint properties %v", props)
	}
	e.mkcol("/dav/d/")
	rs = decode(t, e.do("POST", "/dav/.batch", `<batch xmlns="urn:davit:batch"><item method="MKCOL" href="d/e/"/></batch>`))
	if rs[0].Status.Code != 201 || rs[0].Hrefs[0] != "/dav/d/e/" {
		t.Fatalf("%+v", rs)
	}
}

// TestLimits: over the item limit or the body limit, 413 with a clear
// body, and nothing runs.
func TestLimits(t *testing.T) {
	e := newEnv(t, batch.Options{MaxItems: 3, MaxBodyBytes: 2000})
	e.mkcol("/d/")
	e.resetSeen()
	items := strings.Repeat(`<item method="MKCOL" href="x/"/>`, 4)
	targets := strings.Repeat(`<D:href>x</D:href>`, 4)
	huge := `<batch xmlns="urn:davit:batch">` + strings.Repeat(" ", 3000) + `<item method="MKCOL" href="x/"/></batch>`
	for _, c := range []struct {
		name, method, body, want string
		chunked                  bool
	}{
		{"items", "POST", `<batch xmlns="urn:davit:batch">` + items + `</batch>`, "at most 3", false},
		{"json items", "POST", `{"items":[` + strings.TrimSuffix(strings.Repeat(`{"method":"MKCOL","href":"x/"},`, 4), ",") + `]}`, "at most 3", false},
		{"targets", "BDELETE", `<D:delete xmlns:D="DAV:"><D:target>` + targets + `</D:target></D:delete>`, "at most 3", false},
		{"bytes", "POST", huge, "larger than 2000 bytes", true},
		{"content-length", "POST", huge, "limit is 2000 bytes", false},
	} {
		ct := xmlType
		if strings.HasPrefix(c.body, "{") {
			ct = "application/json"
		}
		r := req(c.method, "/d/", c.body, "Content-Type", ct)
		if c.chunked {
			r.ContentLength = -1
		}
		w := e.serve(r)
		if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), c.want) || w.Header().Get(batch.HeaderMaxItems) != "3" {
			t.Errorf("%s: %d %q", c.name, w.Code, w.Body.String())
		}
	}
	if seen := e.seenMethods(); len(seen) != 0 {
		t.Fatalf("requests ran: %v", seen)
	}
	// JSON error body when asked.
	w := e.do("POST", "/d/", `{"items":[`+strings.TrimSuffix(strings.Repeat(`{"method":"MKCOL","href":"x/"},`, 4), ",")+`]}`, "Accept", "application/json")
	var je struct {
		Status int    `json:"status"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(w.Body.Bytes(), &je); je.Status != 413 || je.Error == "" {
		t.Fatalf("JSON 413: %s", w.Body.String())
	}
}

// TestMalformed: a malformed document gets 400 before anything runs.
func TestMalformed(t *testing.T) {
	e := newEnv(t, batch.Options{})
	e.mkcol("/d/")
	e.resetSeen()
	ok := `<item id="ok" method="MKCOL" href="new/"/>`
	for name, c := range map[string]struct{ method, ct, body string }{
		"not xml":          {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item`},
		"wrong root":       {"POST", xmlType, `<batch xmlns="urn:other">` + ok + `</batch>`},
		"empty":            {"POST", xmlType, ``},
		"no item":          {"POST", xmlType, `<batch xmlns="urn:davit:batch"/>`},
		"unknown method":   {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="PUT" href="a"/></batch>`},
		"no href":          {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="DELETE"/></batch>`},
		"bad href":         {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="DELETE" href="a%zz"/></batch>`},
		"query":            {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="DELETE" href="a?x=1"/></batch>`},
		"no destination":   {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="COPY" href="a"/></batch>`},
		"duplicate id":     {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + ok + `</batch>`},
		"forward depends":  {"POST", xmlType, `<batch xmlns="urn:davit:batch"><item method="MKCOL" href="a/" depends="2"/>` + `<item id="2" method="MKCOL" href="b/"/></batch>`},
		"unknown attr":     {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="MKCOL" href="a/" destiantion="x"/></batch>`},
		"bad overwrite":    {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="COPY" href="a" destination="b" overwrite="maybe"/></batch>`},
		"bad depth":        {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="PROPFIND" href="a" depth="2"/></batch>`},
		"wrong body":       {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="PROPPATCH" href="a"><D:propfind xmlns:D="DAV:"/></item></batch>`},
		"body on delete":   {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="DELETE" href="a"><D:propfind xmlns:D="DAV:"/></item></batch>`},
		"proppatch empty":  {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="PROPPATCH" href="a"/></batch>`},
		"unlock no token":  {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `<item method="UNLOCK" href="a"/></batch>`},
		"trailing":         {"POST", xmlType, `<batch xmlns="urn:davit:batch">` + ok + `</batch><x/>`},
		"json syntax":      {"POST", "application/json", `{"items":[{"method":"MKCOL","href":"new/"},]}`},
		"json unknown key": {"POST", "application/json", `{"items":[{"method":"MKCOL","href":"new/","destiantion":"x"}]}`},
		"json bad body":    {"POST", "application/json", `{"items":[{"method":"MKCOL","href":"new/"},{"method":"PROPFIND","href":"a","body":"<propfind"}]}`},
		"json set on move": {"POST", "application/json", `{"items":[{"method":"MOVE","href":"a","destination":"b","set":{"x":"y"}}]}`},
		"json bad name":    {"POST", "application/json", `{"items":[{"method":"PROPPATCH","href":"a","set":{"{urn:x}a b":"y"}}]}`},
		"json two docs":    {"POST", "application/json", `{"items":[{"method":"MKCOL","href":"new/"}]} {}`},
		"not a batch":      {"POST", "text/plain", `hello`},
		"no target":        {"BDELETE", xmlType, `<D:delete xmlns:D="DAV:"/>`},
		"bpropfind root":   {"BPROPFIND", xmlType, `<D:delete xmlns:D="DAV:"><D:target><D:href>a</D:href></D:target></D:delete>`},
		"dest on delete":   {"BDELETE", xmlType, `<D:delete xmlns:D="DAV:"><D:target><D:href>a</D:href><D:dest>b</D:dest></D:target></D:delete>`},
		"bcopy no dest":    {"BCOPY", xmlType, `<D:copy xmlns:D="DAV:"><D:target><D:href>a</D:href></D:target></D:copy>`},
		"bad option":       {"POST", xmlType, `<batch xmlns="urn:davit:batch" dry-run="perhaps">` + ok + `</batch>`},
	} {
		w := e.do(c.method, "/d/", c.body, "Content-Type", c.ct)
		if w.Code != http.StatusBadRequest && !(name == "not a batch" && w.Code == http.StatusUnsupportedMediaType) {
			t.Errorf("%s: %d %s", name, w.Code, w.Body.String())
		}
		if !strings.Contains(w.Body.String(), "nothing was run") && w.Code == http.StatusBadRequest {
			t.Errorf("%s: body %q", name, w.Body.String())
		}
	}
	if seen := e.seenMethods(); len(seen) != 0 {
		t.Fatalf("requests ran: %v", seen)
	}
	e.must(http.StatusNotFound, "PROPFIND", "/d/new/", "", "Depth", "0")
	// An unknown value in the options header too.
	w := e.do("POST", "/d/", `<batch xmlns="urn:davit:batch">`+ok+`</batch>`, batch.HeaderOptions, "atomic")
	if w.Code != http.StatusBadRequest {
		t.Fatalf("unknown option: %d", w.Code)
	}
}

// TestSniff: curl -d sends a form Content-Type; the first byte decides.
func TestSniff(t *testing.T) {
	e := newEnv(t, batch.Options{})
	for i, body := range []string{
		"\n  <batch xmlns=\"urn:davit:batch\"><item method=\"MKCOL\" href=\"a/\"/></batch>",
		`{"items":[{"method":"MKCOL","href":"b/"}]}`,
	} {
		rs := decode(t, e.do("POST", "/", body, "Content-Type", "application/x-www-form-urlencoded"))
		if rs[0].Status.Code != 201 {
			t.Fatalf("%d: %+v", i, rs)
		}
	}
}

// TestPassThrough: what is not a batch reaches the wrapped handler as is.
func TestPassThrough(t *testing.T) {
	e := newEnv(t, batch.Options{Prefix: "/dav"})
	e.mkcol("/dav/d/")
	e.must(http.StatusMultiStatus, "PROPFIND", "/dav/d/", "", "Depth", "0")
	e.resetSeen()
	w := e.do("POST", "/elsewhere/", `<batch xmlns="urn:davit:batch"><item method="MKCOL" href="a/"/></batch>`, "Content-Type", xmlType)
	if w.Code == http.StatusMultiStatus || len(e.seenMethods()) != 1 {
		t.Fatalf("POST outside the prefix was taken: %d %v", w.Code, e.seenMethods())
	}
}
