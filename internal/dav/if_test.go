package dav_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/dav"
)

// TestIfHeader evaluates the If header (RFC 4918 §10.4) on PUT, a write
// that checks both the header and the locks: lists are ORed, conditions
// within a list ANDed, Not negates, entity tags compare with the current
// ETag, DAV:no-lock never matches a lock, tagged lists apply to the
// resource they name.
func TestIfHeader(t *testing.T) {
	const bogus = "<urn:uuid:99999999-8888-7777-6666-555555555555>"
	for _, tc := range []struct {
		name   string
		target string // /locked (exclusive lock T) or /free (E is its ETag)
		ifh    string // T: the lock token, E: the target's ETag, F: /free's ETag
		code   int
	}{
		// untagged, on a locked resource
		{"token", "/locked", "(<T>)", 204},
		{"wrong token", "/locked", "(" + bogus + ")", 412},
		{"token and etag", "/locked", "(<T> [E])", 204},
		{"token and wrong etag", "/locked", `(<T> ["nope"])`, 412},
		{"wrong etag or token", "/locked", `(["nope"]) (<T>)`, 204},
		{"not token", "/locked", "(Not <T>)", 412},
		{"not wrong token with token", "/locked", "(Not " + bogus + " <T>)", 204},
		{"no-lock", "/locked", "(<DAV:no-lock>)", 412},
		{"not no-lock without the token", "/locked", "(Not <DAV:no-lock>)", 423},
		{"not no-lock with the token elsewhere", "/locked", "(Not <DAV:no-lock>) (<T> [\"nope\"])", 204},
		{"weak etag form", "/locked", "(<T> [W/E])", 204},
		{"lowercase not", "/locked", "(not " + bogus + " <T>)", 204},
		// untagged, on an unlocked resource
		{"etag", "/free", "([E])", 204},
		{"wrong etag", "/free", `(["nope"])`, 412},
		{"not wrong etag", "/free", `(Not ["nope"])`, 204},
		{"not etag", "/free", "(Not [E])", 412},
		{"other resource's etag", "/free", "([F2])", 412},
		{"not no-lock", "/free", "(Not <DAV:no-lock>)", 204},
		{"no-lock or etag", "/free", "(<DAV:no-lock>) ([E])", 204},
		{"unknown token", "/free", "(" + bogus + ")", 412},
		{"not unknown token", "/free", "(Not " + bogus + ")", 204},
		{"unquoted etag", "/free", "([Eunq])", 204},
		// tagged
		{"tagged path", "/locked", "</locked> (<T>)", 204},
		{"tagged absolute URL other host", "/locked", "<http://proxy.example:8080/locked> (<T>)", 204},
		{"tagged wrong resource", "/locked", "</free> (<T>)", 412},
		{"tagged other resource's etag holds", "/locked", "</free> ([F]) </locked> (<T>)", 204},
		{"tagged other resource only, token submitted", "/free", "</locked> (<T>)", 204},
		{"tagged other resource fails", "/free", `</locked> (["nope"])`, 412},
		{"tagged resource not named is not checked", "/free", "</elsewhere> (Not <DAV:no-lock>)", 204},
		{"tagged unmapped with etag", "/free", "</missing> ([E])", 412},
		{"tagged outside the server", "/free", "<http://h/../x> (Not <DAV:no-lock>)", 400},
		// malformed
		{"empty list", "/free", "()", 400},
		{"unclosed", "/free", "(<T>", 400},
		{"mixed tagged and untagged", "/free", "(<T>) </free> (<T>)", 400},
		{"garbage", "/free", "hello", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/locked", "locked")
			e.put("/free", "free")
			tok := e.lock("/locked", "0", lockExclusive)
			etag := e.do("HEAD", tc.target, "").Header().Get("ETag")
			free := e.do("HEAD", "/free", "").Header().Get("ETag")
			ifh := tc.ifh
			ifh = strings.ReplaceAll(ifh, "<T>", "<"+tok+">")
			ifh = strings.ReplaceAll(ifh, "W/E", "W/"+etag)
			ifh = strings.ReplaceAll(ifh, "[Eunq]", "["+strings.Trim(etag, `"`)+"]")
			ifh = strings.ReplaceAll(ifh, "[E]", "["+etag+"]")
			ifh = strings.ReplaceAll(ifh, "[F]", "["+free+"]")
			ifh = strings.ReplaceAll(ifh, "[F2]", `["`+strings.Trim(free, `"`)+`x"]`)
			w := e.do("PUT", tc.target, "new", "If", ifh)
			if w.Code != tc.code {
				t.Fatalf("If: %s\nstatus %d, want %d\n%s", ifh, w.Code, tc.code, w.Body)
			}
			got, _ := e.content(tc.target)
			if changed := got == "new"; changed != (tc.code == 204) {
				t.Fatalf("content %q after %d", got, w.Code)
			}
		})
	}
}

// TestIfHeaderOtherMethods: the If header guards every state-changing
// method, not only PUT.
func TestIfHeaderOtherMethods(t *testing.T) {
	for _, tc := range []struct {
		method, target, body string
		hdr                  []string
		ok                   int
	}{
		{"DELETE", "/f", "", nil, 204},
		{"PROPPATCH", "/f", proppatchSet("{urn:x}a", "1"), nil, 207},
		{"COPY", "/f", "", []string{"Destination", "/g"}, 201},
		{"MOVE", "/f", "", []string{"Destination", "/g"}, 201},
		{"LOCK", "/f", lockExclusive, nil, 200},
		{"MKCOL", "/newcol", "", nil, 201},
	} {
		t.Run(tc.method, func(t *testing.T) {
			for _, c := range []struct {
				ifh  string
				code int
			}{
				{`(["nope"])`, 412},
				{`(Not ["nope"])`, tc.ok},
				{"(<DAV:no-lock>)", 412},
			} {
				e := newEnv(t)
				e.put("/f", "f")
				w := e.do(tc.method, tc.target, tc.body, append(tc.hdr, "If", c.ifh)...)
				if w.Code != c.code {
					t.Errorf("If: %s: %d, want %d\n%s", c.ifh, w.Code, c.code, w.Body)
				}
				if c.code == 412 && !e.exists("/f") {
					t.Errorf("If: %s: the request ran anyway", c.ifh)
				}
			}
		})
	}
}

// TestIfHeaderPrefix: tagged lists name resources by their public URL,
// with the mount prefix.
func TestIfHeaderPrefix(t *testing.T) {
	e := newEnv(t, func(c *dav.Config) { c.Prefix = "/dav" })
	e.put("/dav/locked", "x")
	tok := e.lock("/dav/locked", "0", lockExclusive)
	e.must(http.StatusPreconditionFailed, "PUT", "/dav/locked", "y", "If", "</locked> (<"+tok+">)")
	e.must(http.StatusNoContent, "PUT", "/dav/locked", "y", "If", "</dav/locked> (<"+tok+">)")
	e.must(http.StatusNoContent, "PUT", "/dav/locked", "z", "If", "<https://public.example/dav/locked> (<"+tok+">)")
}

// TestIfHeaderReads: RFC 4918 §10.4.1 makes no exception for reads. GET,
// HEAD and PROPFIND (on a file and on a collection) answer 412 when no
// state list matches, 400 for a malformed header, and as usual when one
// matches; a lock token still held passes, a released one fails.
func TestIfHeaderReads(t *testing.T) {
	for _, tc := range []struct {
		method, target, body string
		hdr                  []string
		ok                   int
	}{
		{"GET", "/f", "", nil, 200},
		{"HEAD", "/f", "", nil, 200},
		{"GET", "/col/", "", nil, 200},
		{"PROPFIND", "/f", "", []string{"Depth", "0"}, 207},
		{"PROPFIND", "/col/", "", []string{"Depth", "1"}, 207},
		{"GET", "/f", "", []string{"Range", "bytes=0-0"}, 206},
	} {
		t.Run(tc.method+" "+tc.target+" "+strings.Join(tc.hdr, ":"), func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "f")
			e.do("MKCOL", "/col", "")
			tok := e.lock(tc.target, "0", lockExclusive)
			etag := e.do("HEAD", tc.target, "").Header().Get("ETag")
			for _, c := range []struct {
				ifh  string
				code int
			}{
				{`(["nope"])`, 412},
				{"(<DAV:no-lock>)", 412},
				{"(<urn:uuid:99999999-8888-7777-6666-555555555555>)", 412},
				{"()", 400},
				{`(Not ["nope"])`, tc.ok},
				{"(<" + tok + ">)", tc.ok},
				{"<" + tc.target + "> (<" + tok + ">)", tc.ok},
				{"([" + etag + "])", tc.ok},
			} {
				if etag == "" && strings.HasPrefix(c.ifh, "([") {
					continue // a collection has no entity tag
				}
				w := e.do(tc.method, tc.target, tc.body, append(tc.hdr, "If", c.ifh)...)
				if w.Code != c.code {
					t.Errorf("If: %s: %d, want %d\n%s", c.ifh, w.Code, c.code, w.Body)
				}
			}
			e.must(http.StatusNoContent, "UNLOCK", tc.target, "", "Lock-Token", "<"+tok+">")
			if w := e.do(tc.method, tc.target, tc.body, append(tc.hdr, "If", "(<"+tok+">)")...); w.Code != 412 {
				t.Errorf("released token: %d, want 412", w.Code)
			}
		})
	}
}

// TestHTTPConditions: If-Match, If-None-Match, If-Unmodified-Since and
// If-Modified-Since (RFC 9110 §13.1) in the order of §13.2.2, on writes
// and on reads of files and collections. If-None-Match compares weakly,
// If-Match strongly; a list may be split over several header lines; the
// date conditions are ignored when malformed, when a stronger tag
// condition is present, and on an unmapped URL. A collection has no
// entity tag: only "*" matches it.
func TestHTTPConditions(t *testing.T) {
	const past, future = "Sat, 01 Jan 2000 00:00:00 GMT", "Fri, 01 Jan 2100 00:00:00 GMT"
	for _, tc := range []struct {
		name, method, target, body string
		hdr                        []string // {E} is replaced by /f's ETag
		code                       int
	}{
		// If-None-Match on writes: weak comparison, lists over several lines
		{"PUT If-None-Match weak", "PUT", "/f", "new", []string{"If-None-Match", "W/{E}"}, 412},
		{"PUT If-None-Match other", "PUT", "/f", "new", []string{"If-None-Match", `"x"`}, 204},
		{"PUT If-None-Match two lines", "PUT", "/f", "new", []string{"If-None-Match", `"x"`, "If-None-Match", "{E}"}, 412},
		{"PUT If-None-Match comma in a tag", "PUT", "/f", "new", []string{"If-None-Match", `"a,b", {E}`}, 412},
		{"DELETE If-None-Match weak", "DELETE", "/f", "", []string{"If-None-Match", "W/{E}"}, 412},
		// If-Match: strong comparison, lists over several lines
		{"PUT If-Match two lines", "PUT", "/f", "new", []string{"If-Match", `"x"`, "If-Match", "{E}"}, 204},
		{"PUT If-Match weak", "PUT", "/f", "new", []string{"If-Match", "W/{E}"}, 412},
		// If-Unmodified-Since on every write that checks conditions
		{"PUT If-Unmodified-Since past", "PUT", "/f", "new", []string{"If-Unmodified-Since", past}, 412},
		{"PUT If-Unmodified-Since future", "PUT", "/f", "new", []string{"If-Unmodified-Since", future}, 204},
		{"PUT If-Unmodified-Since garbage", "PUT", "/f", "new", []string{"If-Unmodified-Since", "yesterday"}, 204},
		{"PUT If-Unmodified-Since two dates", "PUT", "/f", "new", []string{"If-Unmodified-Since", past, "If-Unmodified-Since", past}, 204},
		{"PUT If-Unmodified-Since past with If-Match", "PUT", "/f", "new", []string{"If-Match", "{E}", "If-Unmodified-Since", past}, 204},
		{"PUT If-Unmodified-Since unmapped", "PUT", "/new", "new", []string{"If-Unmodified-Since", past}, 201},
		{"DELETE If-Unmodified-Since past", "DELETE", "/f", "", []string{"If-Unmodified-Since", past}, 412},
		{"PROPPATCH If-Unmodified-Since past", "PROPPATCH", "/f", proppatchSet("{urn:x}a", "1"), []string{"If-Unmodified-Since", past}, 412},
		{"MOVE If-Unmodified-Since past", "MOVE", "/f", "", []string{"Destination", "/g", "If-Unmodified-Since", past}, 412},
		{"COPY If-Unmodified-Since past", "COPY", "/f", "", []string{"Destination", "/g", "If-Unmodified-Since", past}, 412},
		{"LOCK If-Unmodified-Since past", "LOCK", "/f", lockExclusive, []string{"If-Unmodified-Since", past}, 412},
		{"LOCK If-Unmodified-Since future", "LOCK", "/f", lockExclusive, []string{"If-Unmodified-Since", future}, 200},
		{"DELETE collection If-Unmodified-Since past", "DELETE", "/col", "", []string{"If-Unmodified-Since", past}, 412},
		// reads of a file
		{"GET If-Match two lines", "GET", "/f", "", []string{"If-Match", `"x"`, "If-Match", "{E}"}, 200},
		{"GET If-None-Match two lines", "GET", "/f", "", []string{"If-None-Match", `"x"`, "If-None-Match", "{E}"}, 304},
		{"HEAD If-None-Match two lines", "HEAD", "/f", "", []string{"If-None-Match", `"x"`, "If-None-Match", "W/{E}"}, 304},
		// reads of a collection
		{"GET collection If-None-Match star", "GET", "/col/", "", []string{"If-None-Match", "*"}, 304},
		{"HEAD collection If-None-Match star", "HEAD", "/col/", "", []string{"If-None-Match", "*"}, 304},
		{"GET collection If-None-Match tag", "GET", "/col/", "", []string{"If-None-Match", `"x"`}, 200},
		{"GET collection If-Match tag", "GET", "/col/", "", []string{"If-Match", `"x"`}, 412},
		{"GET collection If-Match star", "GET", "/col/", "", []string{"If-Match", "*"}, 200},
		{"GET collection If-Unmodified-Since past", "GET", "/col/", "", []string{"If-Unmodified-Since", past}, 412},
		{"GET collection If-Unmodified-Since future", "GET", "/col/", "", []string{"If-Unmodified-Since", future}, 200},
		{"GET collection If-Modified-Since future", "GET", "/col/", "", []string{"If-Modified-Since", future}, 304},
		{"GET collection If-Modified-Since past", "GET", "/col/", "", []string{"If-Modified-Since", past}, 200},
		{"GET collection If-Modified-Since with If-None-Match", "GET", "/col/", "", []string{"If-None-Match", `"x"`, "If-Modified-Since", future}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.put("/f", "f")
			e.mkcol("/col")
			etag := e.do("HEAD", "/f", "").Header().Get("ETag")
			hdr := slices.Clone(tc.hdr)
			for i := range hdr {
				hdr[i] = strings.ReplaceAll(hdr[i], "{E}", etag)
			}
			w := e.do(tc.method, tc.target, tc.body, hdr...)
			if w.Code != tc.code {
				t.Fatalf("%q: status %d, want %d\n%s", hdr, w.Code, tc.code, w.Body)
			}
			if tc.code == 412 && tc.method != "GET" && !e.exists(strings.TrimSuffix(tc.target, "/")) {
				t.Fatalf("the request ran anyway")
			}
			if tc.code == 304 && w.Body.Len() != 0 {
				t.Fatalf("304 with a body: %q", w.Body)
			}
		})
	}
}
