package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func ms207(inner string) string {
	return `<?xml version="1.0" encoding="utf-8"?><D:multistatus xmlns:D="DAV:">` + inner + `</D:multistatus>`
}

func propstat(status string) string {
	return `<D:propstat><D:prop><Z:Win32FileAttributes xmlns:Z="urn:schemas-microsoft-com:"/></D:prop><D:status>HTTP/1.1 ` + status + `</D:status></D:propstat>`
}

// TestProppatchResult checks how the setup of the dead-property workload
// reads a PROPPATCH answer: set, not supported, or failed.
func TestProppatchResult(t *testing.T) {
	const ok, unsupported, failed = "set", "not supported", "failed"
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"207, every property 200", 207, ms207(`<D:response><D:href>/f</D:href>` + propstat("200 OK") + propstat("200 OK") + `</D:response>`), ok},
		{"204 (lighttpd)", 204, "", ok},
		{"207, 403 and 424 (x/net, rclone)", 207, ms207(`<D:response><D:href>/f</D:href>` + propstat("403 Forbidden") + propstat("424 Failed Dependency") + `</D:response>`), unsupported},
		{"405 (nginx)", 405, "", unsupported},
		{"501", 501, "", unsupported},
		{"207, the resource locked", 207, ms207(`<D:response><D:href>/f</D:href><D:status>HTTP/1.1 423 Locked</D:status></D:response>`), failed},
		{"207, a property 507", 207, ms207(`<D:response><D:href>/f</D:href>` + propstat("507 Insufficient Storage") + `</D:response>`), failed},
		{"207 without a status", 207, ms207(`<D:response><D:href>/f</D:href></D:response>`), failed},
		{"207, not XML", 207, "<D:multistatus", failed},
		{"500", 500, "", failed},
	} {
		resp := &http.Response{StatusCode: tc.status, Body: io.NopCloser(strings.NewReader(tc.body))}
		err := proppatchResult(resp)
		got := ok
		switch {
		case errors.Is(err, errUnsupported):
			got = unsupported
		case err != nil:
			got = failed
		}
		if got != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
		}
	}
}

// deadPropServer is a WebDAV server of dead properties only: keep says
// which of a PROPPATCH's properties it keeps; refuse makes it answer
// PROPPATCH 405; status is that of the propstat its PROPFIND shows them in.
func deadPropServer(keep func(names []string) []string, refuse bool, status string) *httptest.Server {
	var mu sync.Mutex
	kept := map[string][]string{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		names, err := propNames(r.Body, winNS)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		switch r.Method {
		case "PROPPATCH":
			if refuse {
				w.WriteHeader(405)
				return
			}
			mu.Lock()
			kept[r.URL.Path] = keep(names)
			mu.Unlock()
			w.WriteHeader(204)
		case "PROPFIND":
			mu.Lock()
			props := ""
			for _, n := range kept[r.URL.Path] {
				props += `<Z:` + n + ` xmlns:Z="` + winNS + `">x</Z:` + n + `>`
			}
			mu.Unlock()
			w.WriteHeader(207)
			io.WriteString(w, ms207(`<D:response><D:href>`+r.URL.Path+`</D:href><D:propstat><D:prop>`+props+`</D:prop><D:status>HTTP/1.1 `+status+`</D:status></D:propstat></D:response>`))
		}
	}))
}

// TestSetDeadProps runs the setup against a server that keeps every
// property, one that keeps only the first of a PROPPATCH (as lighttpd
// 1.4.69 does) and one that refuses PROPPATCH.
func TestSetDeadProps(t *testing.T) {
	all := func(n []string) []string { return n }
	first := func(n []string) []string { return n[:1] }
	for _, tc := range []struct {
		name      string
		keep      func([]string) []string
		refuse    bool
		status    string // of the propstat the properties come back in
		want      string // "" for success, else a part of the error
		unsupport bool
	}{
		{"keeps all", all, false, "200 OK", "", false},
		{"keeps the first", first, false, "200 OK", "returns 1 of the 4 properties set (missing: Win32LastAccessTime, Win32LastModifiedTime, Win32FileAttributes)", false},
		{"answers them 404", all, false, "404 Not Found", "returns 0 of the 4 properties set", false},
		{"refuses", all, true, "200 OK", "status 405", true},
	} {
		srv := deadPropServer(tc.keep, tc.refuse, tc.status)
		err := setDeadProps(strings.TrimPrefix(srv.URL, "http://"), listing{"/d/", 3}, winProps, 5*time.Second)
		srv.Close()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		case err != nil && errors.Is(err, errUnsupported) != tc.unsupport:
			t.Errorf("%s: %v: unsupported is %v, want %v", tc.name, err, !tc.unsupport, tc.unsupport)
		}
	}
}

// TestRunSetup checks that a workload runs only where its setup passed:
// a server that lacks the feature gets an unsupported result, one whose
// setup failed a failed one, and the table tells the two apart.
func TestRunSetup(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	w := &workload{name: "pf1-100-dead", unit: "req/s", higher: true, conns: 2,
		mk: func(int) op { return getOp("/", 2) },
		setup: func(a string, _ time.Duration) error {
			switch a {
			case addr:
				return nil
			case "lacking":
				return fmt.Errorf("PROPPATCH: status 405: %w", errUnsupported)
			}
			return errors.New("PROPPATCH succeeded, but a PROPFIND returns 1 of the 4 properties set")
		}}
	var targets []*target
	for _, a := range []string{addr, "lacking", "wrong"} {
		targets = append(targets, &target{name: a, addr: a, srv: newServer(0)})
	}
	e := &engine{duration: 100 * time.Millisecond, warmup: 10 * time.Millisecond, slice: 50 * time.Millisecond, timeout: 5 * time.Second}
	res := e.run(w, targets)
	if len(res) != 3 {
		t.Fatalf("%d results, want 3", len(res))
	}
	if r := res[0]; !r.OK || r.Requests == 0 || r.Unsupported != "" {
		t.Errorf("good: %+v", r)
	}
	if r := res[1]; r.OK || r.Unsupported == "" || r.Errors != 0 {
		t.Errorf("lacking: %+v", r)
	}
	if r := res[2]; r.OK || r.Unsupported != "" || r.Errors != 1 || !strings.HasPrefix(r.Err, "setup: PROPPATCH succeeded") {
		t.Errorf("wrong: %+v", r)
	}
	for i, r := range res {
		if r.Name != "pf1-100-dead" || r.Unit != "req/s" {
			t.Errorf("result %d: name %q, unit %q", i, r.Name, r.Unit)
		}
	}
	// In the table: a figure, "not supported" and a failure; the ratio is
	// to the one figure.
	tb := newTable([]runFile{
		{Server: davit, Results: []result{{Name: w.name, OK: true, Value: 200, Unit: "req/s"}}},
		{Server: "apache", Results: []result{res[0]}},
		{Server: "nginx", Results: []result{res[1]}},
		{Server: "lighttpd", Results: []result{res[2]}},
	})
	rw, _ := tb.metricRow("", "req/s", true, w.name, func(r result) (float64, bool) { return r.Value, true }, true)
	if rw.cells[2] != "not supported" || rw.cells[3] != "FAILED (1 err)" {
		t.Errorf("cells %q", rw.cells)
	}
	if want := ratioCell(200 / res[0].Value); rw.ratio[0] != want {
		t.Errorf("ratio %q, want %q", rw.ratio[0], want)
	}
}

// TestLockAll runs the locked listing's setup twice against a server that
// shows its locks (the second time must refresh each lock with its token,
// not take a new one), once against one that hides them from PROPFIND (as
// x/net/webdav does), and once against one without LOCK.
func TestLockAll(t *testing.T) {
	type state struct {
		mu               sync.Mutex
		tokens           map[string]string // path -> token
		fresh, refreshed int
	}
	newServer := func(show, refuse bool) (*httptest.Server, *state) {
		st := &state{tokens: map[string]string{}}
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			st.mu.Lock()
			defer st.mu.Unlock()
			switch r.Method {
			case "LOCK":
				if refuse {
					w.WriteHeader(405)
					return
				}
				tok, held := st.tokens[r.URL.Path]
				if ih := r.Header.Get("If"); ih != "" {
					if !held || ih != "(<"+tok+">)" {
						w.WriteHeader(412)
						return
					}
					st.refreshed++
					w.WriteHeader(200)
					return
				}
				if held {
					w.WriteHeader(423)
					return
				}
				tok = fmt.Sprintf("urn:uuid:%d", len(st.tokens))
				st.tokens[r.URL.Path] = tok
				st.fresh++
				w.Header().Set("Lock-Token", "<"+tok+">")
				w.WriteHeader(200)
			case "PROPFIND":
				lock := ""
				if tok, ok := st.tokens[r.URL.Path]; ok && show {
					lock = `<D:activelock><D:locktoken><D:href>` + tok + `</D:href></D:locktoken></D:activelock>`
				}
				w.WriteHeader(207)
				io.WriteString(w, ms207(`<D:response><D:href>`+r.URL.Path+`</D:href><D:propstat><D:prop><D:lockdiscovery>`+lock+`</D:lockdiscovery></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`))
			}
		})), st
	}
	l := listing{"/d/", 5}

	srv, st := newServer(true, false)
	setup := lockAll(l)
	addr := strings.TrimPrefix(srv.URL, "http://")
	for round := range 2 {
		if err := setup(addr, 5*time.Second); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if st.fresh != 5 || st.refreshed != 5 {
		t.Errorf("%d locks taken and %d refreshed, want 5 and 5", st.fresh, st.refreshed)
	}
	srv.Close()

	srv, _ = newServer(false, false)
	err := lockAll(l)(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
	if err == nil || errors.Is(err, errUnsupported) || !strings.Contains(err.Error(), "with 0 DAV:activelock") {
		t.Errorf("locks hidden: %v", err)
	}
	srv.Close()

	srv, _ = newServer(true, true)
	if err := lockAll(l)(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second); !errors.Is(err, errUnsupported) {
		t.Errorf("no LOCK: %v, want not supported", err)
	}
	srv.Close()
}

// TestPropfindMarkedOp checks a listing's checks: the number of
// responses, and of the marked property when one is named.
func TestPropfindMarkedOp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(207)
		io.WriteString(w, ms207(`<D:response><D:href>/d/</D:href></D:response>`+
			`<D:response><D:href>/d/a</D:href><D:propstat><D:prop><Z:Win32FileAttributes xmlns:Z="`+winNS+`">20</Z:Win32FileAttributes></D:prop></D:propstat></D:response>`))
	}))
	defer srv.Close()
	c := newConn(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
	defer c.close()
	for _, tc := range []struct {
		name string
		o    op
		want string // "" for no error
	}{
		{"plain", propfindOp("/d/", "1", allpropBody, 2), ""},
		{"plain, one response too many", propfindOp("/d/", "1", allpropBody, 1), "PROPFIND /d/ Depth 1: status 207, 2 responses (want 207, 1)"},
		{"marked", propfindMarkedOp("/d/", "1", allpropBody, 2, "Win32FileAttributes", 1), ""},
		{"marked, one missing", propfindMarkedOp("/d/", "1", allpropBody, 2, "Win32FileAttributes", 2), "PROPFIND /d/ Depth 1: status 207, 2 responses, 1 Win32FileAttributes (want 207, 2, 2)"},
	} {
		_, _, _, err := tc.o(c, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestProppatchOp runs the PROPPATCH workload's op against a server that
// answers with the propstats its path names, over a Content-Length body,
// a chunked one, and one over what the client keeps, and checks that the
// op sends its two bodies in turn.
func TestProppatchOp(t *testing.T) {
	var mu sync.Mutex
	var got []string // the bodies' dates, in order
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		if i := strings.Index(string(b), "<Z:Win32CreationTime>"); i >= 0 {
			got = append(got, string(b[i+21:i+50]))
		}
		mu.Unlock()
		if r.Method != "PROPPATCH" {
			w.WriteHeader(400)
			return
		}
		var body string
		switch r.URL.Path {
		case "/ok", "/chunked":
			body = ms207(`<D:response><D:href>/f</D:href>` + propstat("200 OK") + `</D:response>`)
		case "/424":
			body = ms207(`<D:response><D:href>/f</D:href>` + propstat("200 OK") + propstat("424 Failed Dependency") + `</D:response>`)
		case "/big":
			body = ms207(`<D:response><D:href>/f</D:href>` + strings.Repeat(propstat("200 OK"), maxKeptBody/100) + `</D:response>`)
		case "/locked":
			w.WriteHeader(423)
			return
		}
		w.WriteHeader(207)
		if r.URL.Path == "/chunked" {
			for i := 0; i < len(body); i += 50 {
				io.WriteString(w, body[i:min(i+50, len(body))])
				w.(http.Flusher).Flush()
			}
			return
		}
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c := newConn(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
	defer c.close()
	bodies := [2][]byte{winPropsAt("Mon, 07 Dec 2026 10:00:00 GMT"), winPropsAt("Mon, 07 Dec 2026 10:01:00 GMT")}
	for _, tc := range []struct {
		path string
		want string // "" for no error, else a part of it
	}{
		{"/ok", ""},
		{"/chunked", ""},
		{"/424", `a property answered "HTTP/1.1 424 Failed Dependency" (want 200)`},
		{"/locked", "status 423 (want 207)"},
		{"/big", "an answer of"},
	} {
		o := proppatchOp(tc.path, bodies)
		for range 2 {
			_, _, _, err := o(c, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s: %v", tc.path, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%s: error %v, want one with %q", tc.path, err, tc.want)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, d := range got {
		if want := fmt.Sprintf("Mon, 07 Dec 2026 10:0%d:00 GMT", i%2); d != want {
			t.Errorf("request %d set %q, want %q (the two bodies in turn)", i, d, want)
		}
	}
	if len(got) != 10 {
		t.Errorf("%d requests, want 10", len(got))
	}
}

// TestMoveOp runs the MOVE workload's op against a server of two names,
// one file: it moves the file back and forth, and an op that starts
// where the last one stopped turns round once (404, or nginx's 412),
// where a second refusal is an error.
func TestMoveOp(t *testing.T) {
	for _, tc := range []struct {
		name      string
		destFirst bool // answer 412 for an existing destination before 404 for a missing source (nginx)
		start     string
		wantErr   bool // every move fails (once turned round, a refusal is an error)
	}{
		{"from a", false, "/a", false},
		{"from b, 404", false, "/b", false},
		{"from b, 412", true, "/b", false},
		{"both gone", false, "", true},
	} {
		var mu sync.Mutex
		at := tc.start
		served, counted := 0, 0 // requests the server saw, and the ops counted
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			served++
			dst := strings.TrimPrefix(r.Header.Get("Destination"), "http://"+r.Host)
			switch {
			case r.Method != "MOVE" || r.Header.Get("Overwrite") != "F":
				w.WriteHeader(400)
			case tc.destFirst && dst == at:
				w.WriteHeader(412)
			case r.URL.Path != at:
				w.WriteHeader(404)
			case dst == at:
				w.WriteHeader(412)
			default:
				at = dst
				w.WriteHeader(201)
			}
		}))
		c := newConn(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
		for range 2 { // two rounds: two ops, each starting afresh
			o := moveOp("/a", "/b")
			for i := range 3 {
				n, _, _, err := o(c, nil)
				if (err != nil) != tc.wantErr {
					t.Errorf("%s: move %d: %v", tc.name, i, err)
				}
				counted += n
			}
		}
		c.close()
		srv.Close()
		if counted != served {
			t.Errorf("%s: the ops counted %d requests, the server saw %d", tc.name, counted, served)
		}
	}
}

// TestLockOp runs the lock op against a server that keeps one lock, with
// an UNLOCK that fails once: the next op must find the file locked (423),
// give back the lock it kept, and lock again; a lock taken by someone
// else is an error. Every request made must be counted.
func TestLockOp(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failUnlock int  // the UNLOCK (1-based) answered 500, keeping the lock
		foreign    bool // the file is locked by another client throughout
		wantErrs   int
	}{
		{"plain", 0, false, 0},
		{"left locked", 2, false, 1},
		{"locked by another", 0, true, 3},
	} {
		var mu sync.Mutex
		held, next := "", 0
		if tc.foreign {
			held = "opaquelocktoken:other"
		}
		served, counted, unlocks, errs := 0, 0, 0, 0
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			served++
			io.Copy(io.Discard, r.Body)
			switch r.Method {
			case "LOCK":
				if held != "" {
					w.WriteHeader(http.StatusLocked)
					return
				}
				next++
				held = fmt.Sprintf("opaquelocktoken:%d", next)
				w.Header().Set("Lock-Token", "<"+held+">")
				w.Write([]byte(`<?xml version="1.0"?><D:prop xmlns:D="DAV:"/>`))
			case "UNLOCK":
				unlocks++
				switch {
				case unlocks == tc.failUnlock:
					w.WriteHeader(http.StatusInternalServerError)
				case r.Header.Get("Lock-Token") != "<"+held+">":
					w.WriteHeader(http.StatusConflict)
				default:
					held = ""
					w.WriteHeader(http.StatusNoContent)
				}
			default:
				w.WriteHeader(http.StatusBadRequest)
			}
		}))
		c := newConn(strings.TrimPrefix(srv.URL, "http://"), 5*time.Second)
		o := lockOp("/f")
		for i := range 3 {
			n, _, _, err := o(c, nil)
			if err != nil {
				errs++
				t.Logf("%s: op %d: %v", tc.name, i, err)
			}
			counted += n
		}
		c.close()
		srv.Close()
		if errs != tc.wantErrs {
			t.Errorf("%s: %d ops failed, want %d", tc.name, errs, tc.wantErrs)
		}
		if counted != served {
			t.Errorf("%s: the ops counted %d requests, the server saw %d", tc.name, counted, served)
		}
		if !tc.foreign && held != "" {
			t.Errorf("%s: the file is left locked", tc.name)
		}
	}
}
