package dav_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/multistatus"
)

// activeLock is a DAV:activelock as a client reads it.
type activeLock struct {
	Scope struct {
		Exclusive *struct{} `xml:"DAV: exclusive"`
		Shared    *struct{} `xml:"DAV: shared"`
	} `xml:"DAV: lockscope"`
	Type struct {
		Write *struct{} `xml:"DAV: write"`
	} `xml:"DAV: locktype"`
	Depth string `xml:"DAV: depth"`
	Owner *struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"DAV: owner"`
	Timeout   string `xml:"DAV: timeout"`
	LockToken string `xml:"DAV: locktoken>href"`
	LockRoot  string `xml:"DAV: lockroot>href"`
}

// lockAnswer parses the DAV:prop body of a LOCK answer.
func lockAnswer(t testing.TB, body []byte) []activeLock {
	t.Helper()
	var doc struct {
		XMLName xml.Name     `xml:"DAV: prop"`
		Locks   []activeLock `xml:"DAV: lockdiscovery>activelock"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("LOCK answer: %v\n%s", err, body)
	}
	return doc.Locks
}

// discovery returns the active locks PROPFIND shows on p.
func (e *env) discovery(p string) []activeLock {
	e.t.Helper()
	r := e.propfind1(p, "lockdiscovery")
	ld, ok := prop(r, "DAV:", "lockdiscovery")
	if !ok {
		e.t.Fatalf("%s: no lockdiscovery", p)
	}
	return lockAnswer(e.t, []byte(`<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+string(ld.Inner)+`</D:lockdiscovery></D:prop>`))
}

var uuidToken = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func TestLockAnswer(t *testing.T) {
	owner := `<D:href>mailto:ann@example.com</D:href> Ann <x:note xmlns:x="urn:n" x:k="v">&amp; more</x:note>`
	for _, tc := range []struct {
		name, target, depth, body string
		code                      int
		exclusive                 bool
		wantDepth                 string
	}{
		{"exclusive file", "/f", "0", lockBody("exclusive", owner), 200, true, "0"},
		{"shared file", "/f", "0", lockBody("shared", owner), 200, false, "0"},
		{"exclusive collection infinity", "/dir", "infinity", lockBody("exclusive", owner), 200, true, "infinity"},
		{"collection default depth is infinity", "/dir/", "", lockBody("exclusive", owner), 200, true, "infinity"},
		{"collection depth 0", "/dir", "0", lockBody("shared", owner), 200, false, "0"},
		{"unmapped", "/new", "0", lockBody("exclusive", owner), 201, true, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/f", "content")
			hdr := []string{"Timeout", "Second-600"}
			if tc.depth != "" {
				hdr = append(hdr, "Depth", tc.depth)
			}
			w := e.do("LOCK", tc.target, tc.body, hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			tok := w.Header().Get("Lock-Token")
			if !strings.HasPrefix(tok, "<") || !strings.HasSuffix(tok, ">") || !uuidToken.MatchString(tok[1:len(tok)-1]) {
				t.Fatalf("Lock-Token %q is not <urn:uuid:...>", tok)
			}
			tok = tok[1 : len(tok)-1]
			for i, locks := range [][]activeLock{lockAnswer(t, w.Body.Bytes()), e.discovery(tc.target)} {
				if len(locks) != 1 {
					t.Fatalf("%d: %d active locks", i, len(locks))
				}
				l := locks[0]
				if (l.Scope.Exclusive != nil) != tc.exclusive || (l.Scope.Shared != nil) == tc.exclusive {
					t.Errorf("%d: scope %+v", i, l.Scope)
				}
				if l.Type.Write == nil {
					t.Errorf("%d: locktype not write", i)
				}
				if l.Depth != tc.wantDepth {
					t.Errorf("%d: depth %q, want %q", i, l.Depth, tc.wantDepth)
				}
				if l.LockToken != tok {
					t.Errorf("%d: token %q, header %q", i, l.LockToken, tok)
				}
				wantRoot := strings.TrimSuffix(tc.target, "/")
				if strings.HasPrefix(tc.target, "/dir") {
					wantRoot += "/" // a collection's href ends in a slash
				}
				if l.LockRoot != wantRoot {
					t.Errorf("%d: lockroot %q, want %q", i, l.LockRoot, wantRoot)
				}
				if l.Owner == nil || canon(t, l.Owner.Inner) != canon(t, []byte(owner)) {
					t.Errorf("%d: owner %+v, want %s", i, l.Owner, owner)
				}
				if secs := timeoutSeconds(t, l.Timeout); secs < 590 || secs > 600 {
					t.Errorf("%d: timeout %q", i, l.Timeout)
				}
			}
			if tc.code == 201 {
				if got, ok := e.content(tc.target); !ok || got != "" {
					t.Errorf("locked unmapped URL: content %q %v, want an empty resource", got, ok)
				}
			}
		})
	}
}

func lockBody(scope, owner string) string {
	b := `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:` + scope + `/></D:lockscope><D:locktype><D:write/></D:locktype>`
	if owner != "" {
		b += `<D:owner>` + owner + `</D:owner>`
	}
	return b + `</D:lockinfo>`
}

func timeoutSeconds(t testing.TB, v string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(v, "Second-%d", &n); err != nil {
		t.Fatalf("timeout %q: %v", v, err)
	}
	return n
}

// TestLockOwnerAsSent is what Office needs: the owner comes back as sent,
// in lockdiscovery too; no owner means none.
func TestLockOwnerAsSent(t *testing.T) {
	for _, owner := range []string{
		"plain text owner",
		`<D:href>http://example.org/~ann</D:href>`,
		`<o:user xmlns:o="urn:office" o:id="7">Ann &lt;ann@example.com&gt;</o:user>`,
		"",
	} {
		e := newEnv(t)
		e.put("/doc.docx", "x")
		w := e.must(200, "LOCK", "/doc.docx", lockBody("exclusive", owner))
		for _, l := range append(lockAnswer(t, w.Body.Bytes()), e.discovery("/doc.docx")...) {
			switch {
			case owner == "" && l.Owner != nil && len(l.Owner.Inner) > 0:
				t.Errorf("Office: owner %q, want none", l.Owner.Inner)
			case owner != "" && (l.Owner == nil || canon(t, l.Owner.Inner) != canon(t, []byte(owner))):
				t.Errorf("Office: owner %+v, want %q", l.Owner, owner)
			}
		}
	}
}

func TestLockConflicts(t *testing.T) {
	for _, tc := range []struct {
		name                string
		first, firstDepth   string // scope, depth of the first lock, on firstPath
		firstPath           string
		second, secondDepth string
		secondPath          string
		code                int
	}{
		{"exclusive then exclusive", "exclusive", "0", "/f", "exclusive", "0", "/f", 423},
		{"exclusive then shared", "exclusive", "0", "/f", "shared", "0", "/f", 423},
		{"shared then exclusive", "shared", "0", "/f", "exclusive", "0", "/f", 423},
		{"shared then shared", "shared", "0", "/f", "shared", "0", "/f", 200},
		{"infinity covers member", "exclusive", "infinity", "/dir", "exclusive", "0", "/dir/m", 423},
		{"infinity covers unmapped member", "exclusive", "infinity", "/dir", "exclusive", "0", "/dir/new", 423},
		{"infinity covers deep member", "exclusive", "infinity", "/dir", "shared", "0", "/dir/sub/m", 423},
		{"depth 0 does not cover member", "exclusive", "0", "/dir", "exclusive", "0", "/dir/m", 200},
		{"member blocks infinity", "exclusive", "0", "/dir/sub/m", "exclusive", "infinity", "/dir", 423},
		{"member allows depth 0", "exclusive", "0", "/dir/sub/m", "exclusive", "0", "/dir", 200},
		{"shared member, shared infinity", "shared", "0", "/dir/m", "shared", "infinity", "/dir", 200},
		{"sibling", "exclusive", "infinity", "/dir/sub", "exclusive", "0", "/dir/m", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.mkcol("/dir/sub")
			e.put("/f", "f")
			e.put("/dir/m", "m")
			e.put("/dir/sub/m", "m")
			e.must(200, "LOCK", tc.firstPath, lockBody(tc.first, "a"), "Depth", tc.firstDepth)
			w := e.do("LOCK", tc.secondPath, lockBody(tc.second, "b"), "Depth", tc.secondDepth)
			if w.Code != tc.code && !(tc.code == 200 && w.Code == 201) {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if tc.code == 423 {
				cond := "no-conflicting-lock"
				if tc.secondPath == "/dir/new" {
					// Creating a member of a locked collection without
					// its token: either precondition is right.
					cond = "lock-token-submitted"
				}
				hs := wantCondition(t, w, 423, cond)
				if len(hs) == 0 {
					t.Errorf("no-conflicting-lock names no lock root")
				}
				if tc.secondPath == "/dir/new" && e.exists("/dir/new") {
					t.Errorf("a refused lock left an empty resource behind")
				}
			}
		})
	}
}

func TestLockRequests(t *testing.T) {
	for _, tc := range []struct {
		name, target, body string
		hdr                []string
		code               int
	}{
		{"depth 1", "/dir", lockExclusive, []string{"Depth", "1"}, 400},
		{"bad depth", "/f", lockExclusive, []string{"Depth", "two"}, 400},
		{"bad timeout", "/f", lockExclusive, []string{"Timeout", "Second-"}, 400},
		{"unknown timeout entries skipped", "/f", lockExclusive, []string{"Timeout", "Fortnight, Second-30"}, 200},
		{"malformed body", "/f", `<D:lockinfo xmlns:D="DAV:"><D:lockscope>`, nil, 400},
		{"wrong root", "/f", `<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`, nil, 400},
		{"no lockscope", "/f", `<D:lockinfo xmlns:D="DAV:"><D:locktype><D:write/></D:locktype></D:lockinfo>`, nil, 400},
		{"no locktype", "/f", `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope></D:lockinfo>`, nil, 400},
		{"unmapped missing parent", "/none/x", lockExclusive, nil, 409},
		{"unmapped below a file", "/f/x", lockExclusive, nil, 409},
		{"if-match wrong", "/f", lockExclusive, []string{"If-Match", `"nope"`}, 412},
		{"if-none-match star on unmapped", "/new", lockExclusive, []string{"If-None-Match", "*"}, 201},
		{"refresh without If", "/f", "", nil, 400},
		{"refresh unknown token", "/f", "", []string{"If", "(<urn:uuid:00000000-0000-0000-0000-000000000000>)"}, 412},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/f", "f")
			w := e.do("LOCK", tc.target, tc.body, tc.hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
		})
	}
}

func TestLockTimeoutAndRefresh(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := newEnv(t, func(c *dav.Config) {
		c.Locks = lock.NewMemory(lock.Options{Now: func() time.Time { return clock() }, MaxTimeout: 30 * time.Minute})
		c.Now = func() time.Time { return clock() }
	})
	e.mkcol("/dir")
	e.put("/dir/f", "f")
	for _, tc := range []struct {
		timeout string
		want    int
	}{
		{"Second-60", 60},
		{"Second-1800", 1800},
		{"Second-99999999999", 1800},
		{"Infinite", 1800},
		{"Infinite, Second-60", 1800},
		{"", 1800},
	} {
		hdr := []string{"Depth", "0"}
		if tc.timeout != "" {
			hdr = append(hdr, "Timeout", tc.timeout)
		}
		w := e.must(200, "LOCK", "/dir/f", lockExclusive, hdr...)
		l := lockAnswer(t, w.Body.Bytes())[0]
		if got := timeoutSeconds(t, l.Timeout); got != tc.want {
			t.Errorf("Timeout %q: granted %d s, want %d", tc.timeout, got, tc.want)
		}
		e.must(204, "UNLOCK", "/dir/f", "", "Lock-Token", "<"+l.LockToken+">")
	}

	w := e.must(200, "LOCK", "/dir", lockExclusive, "Timeout", "Second-100")
	tok := lockAnswer(t, w.Body.Bytes())[0].LockToken
	now = now.Add(60 * time.Second)
	if got := timeoutSeconds(t, e.discovery("/dir")[0].Timeout); got != 40 {
		t.Errorf("after 60 s: %d s left, want 40", got)
	}
	// Refresh with the token, at the root and through a member.
	for _, target := range []string{"/dir", "/dir/f"} {
		w = e.must(200, "LOCK", target, "", "If", "(<"+tok+">)", "Timeout", "Second-300")
		ls := lockAnswer(t, w.Body.Bytes())
		if len(ls) != 1 || ls[0].LockToken != tok || timeoutSeconds(t, ls[0].Timeout) != 300 {
			t.Errorf("refresh through %s: %+v", target, ls)
		}
		if w.Header().Get("Lock-Token") != "" {
			t.Errorf("a refresh answers a Lock-Token header")
		}
	}
	// A refresh names the lock in a tagged list too.
	e.must(200, "LOCK", "/dir", "", "If", "</dir> (<"+tok+">)")
	// Not on a resource outside the lock.
	e.put("/other", "o")
	e.must(412, "LOCK", "/other", "", "If", "(<"+tok+">)")
	// After expiry the lock is gone.
	now = now.Add(31 * time.Minute)
	if ls := e.discovery("/dir"); len(ls) != 0 {
		t.Errorf("expired lock still discovered: %+v", ls)
	}
	e.must(201, "PUT", "/dir/new", "x")
	e.must(412, "LOCK", "/dir", "", "If", "(<"+tok+">)")
}

func TestUnlock(t *testing.T) {
	for _, tc := range []struct {
		name, target string
		token        func(file, col string) string // Lock-Token header
		code         int
	}{
		{"unlock", "/f", func(f, c string) string { return "<" + f + ">" }, 204},
		{"member of infinity lock", "/dir/m", func(f, c string) string { return "<" + c + ">" }, 204},
		{"collection slash", "/dir/", func(f, c string) string { return "<" + c + ">" }, 204},
		{"token of another resource", "/f", func(f, c string) string { return "<" + c + ">" }, 409},
		{"unknown token", "/f", func(f, c string) string { return "<urn:uuid:00000000-0000-0000-0000-000000000000>" }, 409},
		{"unlocked resource", "/g", func(f, c string) string { return "<" + f + ">" }, 409},
		{"missing header", "/f", func(f, c string) string { return "" }, 400},
		{"node webdav: no angle brackets", "/f", func(f, c string) string { return f }, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mkcol("/dir")
			e.put("/dir/m", "m")
			e.put("/f", "f")
			e.put("/g", "g")
			ftok := e.lock("/f", "0", lockExclusive)
			ctok := e.lock("/dir", "infinity", lockExclusive)
			var hdr []string
			if v := tc.token(ftok, ctok); v != "" {
				hdr = []string{"Lock-Token", v}
			}
			w := e.do("UNLOCK", tc.target, "", hdr...)
			if w.Code != tc.code {
				t.Fatalf("status %d, want %d\n%s", w.Code, tc.code, w.Body)
			}
			if tc.code == 409 {
				wantCondition(t, w, 409, "lock-token-matches-request-uri")
			}
			if tc.code == 204 {
				tok := ftok
				if strings.HasPrefix(tc.target, "/dir") {
					tok = ctok
				}
				if _, err := e.locks.Get(context.Background(), tok); err == nil {
					t.Fatalf("lock still there after UNLOCK")
				}
				e.must(409, "UNLOCK", tc.target, "", "Lock-Token", "<"+tok+">")
			} else {
				for _, tok := range []string{ftok, ctok} {
					if _, err := e.locks.Get(context.Background(), tok); err != nil {
						t.Errorf("lock %s gone after a refused UNLOCK", tok)
					}
				}
			}
		})
	}
}

// TestLockedWrites: every write inside a lock's scope needs its token:
// without it 423 with DAV:lock-token-submitted naming the lock root, with
// a wrong one 412, with it the write succeeds.
func TestLockedWrites(t *testing.T) {
	type op struct {
		method, target, body string
		hdr                  []string
	}
	for _, tc := range []struct {
		name string
		op   op
		lock string // "file", "col" (infinity on /lcol), "dcol" (depth 0 on /dcol)
		ok   int    // status with the token
	}{
		{"PUT locked file", op{"PUT", "/locked", "new", nil}, "file", 204},
		{"DELETE locked file", op{"DELETE", "/locked", "", nil}, "file", 204},
		{"PROPPATCH locked file", op{"PROPPATCH", "/locked", proppatchSet("{urn:x}a", "1"), nil}, "file", 207},
		{"MOVE locked file", op{"MOVE", "/locked", "", []string{"Destination", "/moved"}}, "file", 201},
		{"COPY onto locked file", op{"COPY", "/free", "", []string{"Destination", "/locked"}}, "file", 204},
		{"MOVE onto locked file", op{"MOVE", "/free", "", []string{"Destination", "/locked"}}, "file", 204},
		{"PUT new in locked collection", op{"PUT", "/lcol/new", "x", nil}, "col", 201},
		{"PUT member of locked collection", op{"PUT", "/lcol/m", "x", nil}, "col", 204},
		{"MKCOL in locked collection", op{"MKCOL", "/lcol/newcol", "", nil}, "col", 201},
		{"DELETE locked collection", op{"DELETE", "/lcol", "", nil}, "col", 204},
		{"DELETE member of locked collection", op{"DELETE", "/lcol/m", "", nil}, "col", 204},
		{"COPY into locked collection", op{"COPY", "/free", "", []string{"Destination", "/lcol/copy"}}, "col", 201},
		{"MOVE out of locked collection", op{"MOVE", "/lcol/m", "", []string{"Destination", "/out"}}, "col", 201},
		{"MOVE locked collection", op{"MOVE", "/lcol", "", []string{"Destination", "/elsewhere"}}, "col", 201},
		{"PROPPATCH member of locked collection", op{"PROPPATCH", "/lcol/m", proppatchSet("{urn:x}a", "1"), nil}, "col", 207},
		{"PUT new in depth-0 locked collection", op{"PUT", "/dcol/new", "x", nil}, "dcol", 201},
		{"MKCOL in depth-0 locked collection", op{"MKCOL", "/dcol/newcol", "", nil}, "dcol", 201},
		{"DELETE member of depth-0 locked collection", op{"DELETE", "/dcol/m", "", nil}, "dcol", 204},
		{"MOVE member out of depth-0 locked collection", op{"MOVE", "/dcol/m", "", []string{"Destination", "/out"}}, "dcol", 201},
		{"LOCK new in depth-0 locked collection", op{"LOCK", "/dcol/new", lockExclusive, nil}, "dcol", 201},
		{"DELETE parent of locked file", op{"DELETE", "/pcol", "", nil}, "deep", 204},
		{"MOVE parent of locked file", op{"MOVE", "/pcol", "", []string{"Destination", "/p2"}}, "deep", 201},
		{"COPY onto parent of locked file", op{"COPY", "/lcol", "", []string{"Destination", "/pcol"}}, "deep", 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setup := func() (*env, string, string) {
				e := newEnv(t)
				e.put("/locked", "old")
				e.put("/free", "free")
				e.mkcol("/lcol")
				e.put("/lcol/m", "m")
				e.mkcol("/dcol")
				e.put("/dcol/m", "m")
				e.mkcol("/pcol")
				e.mkcol("/pcol/sub")
				e.put("/pcol/sub/deep", "d")
				switch tc.lock {
				case "file":
					return e, e.lock("/locked", "0", lockExclusive), "/locked"
				case "col":
					return e, e.lock("/lcol", "infinity", lockExclusive), "/lcol"
				case "dcol":
					return e, e.lock("/dcol", "0", lockExclusive), "/dcol"
				}
				return e, e.lock("/pcol/sub/deep", "0", lockExclusive), "/pcol/sub/deep"
			}
			op := tc.op
			// Without the token.
			e, tok, root := setup()
			w := e.do(op.method, op.target, op.body, op.hdr...)
			hs := wantCondition(t, w, http.StatusLocked, "lock-token-submitted")
			if !containsSuffix(hs, root) {
				t.Errorf("lock-token-submitted names %v, want %s", hs, root)
			}
			// With a wrong token: the If header fails first.
			e, _, _ = setup()
			if w := e.do(op.method, op.target, op.body, append(op.hdr, "If", "(<urn:uuid:11111111-2222-3333-4444-555555555555>)")...); w.Code != http.StatusPreconditionFailed {
				t.Errorf("wrong token: %d, want 412", w.Code)
			}
			// A header that holds but names another token (litmus
			// cond_put_corrupt_token): still locked.
			if w := e.do(op.method, op.target, op.body, append(op.hdr, "If", "(<urn:uuid:11111111-2222-3333-4444-555555555555>) (Not <DAV:no-lock>)")...); w.Code != http.StatusLocked {
				t.Errorf("corrupt token with an escape list: %d, want 423", w.Code)
			}
			// With the token, untagged and tagged. An untagged list
			// applies to the Request-URI only (RFC 4918 §10.4.3), so it
			// holds only when the Request-URI is in the lock's scope; a
			// token for another resource (the Destination, a parent
			// collection, a locked member) goes in a tagged list.
			inScope := op.target == root || tc.lock == "col" && strings.HasPrefix(op.target, root+"/")
			for i, ifh := range []string{"(<" + tok + ">)", "<http://any.host" + root + "> (<" + tok + ">)"} {
				e, tok2, _ := setup()
				ifh = strings.ReplaceAll(ifh, tok, tok2)
				w := e.do(op.method, op.target, op.body, append(op.hdr, "If", ifh)...)
				want := tc.ok
				if i == 0 && !inScope {
					want = http.StatusPreconditionFailed
				}
				if w.Code != want {
					t.Errorf("with the token (%d): %d, want %d\n%s", i, w.Code, want, w.Body)
				}
				if w.Code == 207 && op.method == "PROPPATCH" {
					for n, code := range propStatus(&ms(t, w).Responses[0]) {
						if code != 200 {
							t.Errorf("%s: %d", n, code)
						}
					}
				}
			}
		})
	}
}

func containsSuffix(hrefs []string, p string) bool {
	for _, h := range hrefs {
		if strings.TrimSuffix(h, "/") == p {
			return true
		}
	}
	return false
}

// TestLockedReads: reading a locked resource needs no token.
func TestLockedReads(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/lcol")
	e.put("/lcol/m", "m")
	e.lock("/lcol", "infinity", lockExclusive)
	e.must(200, "GET", "/lcol/m", "")
	e.must(200, "HEAD", "/lcol/m", "")
	e.must(207, "PROPFIND", "/lcol", "", "Depth", "1")
	e.must(200, "OPTIONS", "/lcol/m", "")
	e.must(201, "COPY", "/lcol/m", "", "Destination", "/copy")
}

// TestSharedLocks: of several shared locks, one token is enough.
func TestSharedLocks(t *testing.T) {
	e := newEnv(t)
	e.put("/s", "s")
	a := e.lock("/s", "0", lockShared)
	b := e.lock("/s", "0", lockShared)
	if a == b {
		t.Fatalf("two locks share a token")
	}
	if ls := e.discovery("/s"); len(ls) != 2 {
		t.Fatalf("%d active locks, want 2", len(ls))
	}
	wantCondition(t, e.do("PUT", "/s", "x"), 423, "lock-token-submitted")
	e.must(204, "PUT", "/s", "x", "If", "(<"+b+">)")
	e.must(204, "UNLOCK", "/s", "", "Lock-Token", "<"+a+">")
	e.must(204, "PUT", "/s", "y", "If", "(<"+b+">)")
	wantCondition(t, e.do("PUT", "/s", "z"), 423, "lock-token-submitted")
}

// TestLockNull: a lock on an unmapped URL makes an empty resource that
// PROPFIND lists and UNLOCK leaves in place (RFC 4918 §7.3).
func TestLockNull(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/dir")
	tok := e.lock("/dir/new.txt", "0", lockExclusive)
	m := ms(t, e.do("PROPFIND", "/dir", "", "Depth", "1"))
	r := response(t, m, "/dir/new.txt")
	if got := propText(r, "getcontentlength"); got != "0" {
		t.Errorf("getcontentlength %q", got)
	}
	wantCondition(t, e.do("PUT", "/dir/new.txt", "content"), 423, "lock-token-submitted")
	e.must(204, "PUT", "/dir/new.txt", "content", "If", "(<"+tok+">)")
	e.must(204, "UNLOCK", "/dir/new.txt", "", "Lock-Token", "<"+tok+">")
	if got, _ := e.content("/dir/new.txt"); got != "content" {
		t.Errorf("content %q", got)
	}
}

// TestDeleteRemovesLocks: locks go with their resources.
func TestDeleteRemovesLocks(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/d")
	e.put("/d/f", "f")
	ftok := e.lock("/d/f", "0", lockExclusive)
	dtok := e.lock("/d", "0", lockExclusive)
	e.must(204, "DELETE", "/d", "", "If", "(<"+ftok+">) (<"+dtok+">)")
	for _, tok := range []string{ftok, dtok} {
		if _, err := e.locks.Get(context.Background(), tok); err == nil {
			t.Errorf("lock %s outlived its resource", tok)
		}
	}
	e.must(201, "MKCOL", "/d", "")
	e.must(201, "PUT", "/d/f", "again")
}

// TestLockRootHrefs checks the lockroot of every active lock a listing
// shows, its own and inherited, on files and collections, several on one
// resource, and locks deeper down that are not the entry's: a
// collection's root ends in a slash, a file's does not. The LOCK answer
// and Depth 0 give the same.
func TestLockRootHrefs(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/dir")
	e.mkcol("/dir/sub")
	for _, f := range []string{"/dir/f", "/dir/g", "/dir/h", "/dir/sub/x"} {
		e.put(f, "x")
	}
	e.lock("/dir", "infinity", lockShared)
	e.lock("/dir/f", "0", lockShared)
	e.lock("/dir/g", "0", lockShared)
	e.lock("/dir/g", "0", lockShared)
	e.lock("/dir/sub/x", "0", lockShared)
	w := e.do("LOCK", "/dir/sub", lockShared, "Depth", "0", "Timeout", "Second-600")
	if w.Code != http.StatusOK {
		t.Fatalf("LOCK /dir/sub: %d\n%s", w.Code, w.Body)
	}
	if ls := lockAnswer(t, w.Body.Bytes()); len(ls) != 1 || ls[0].LockRoot != "/dir/sub/" {
		t.Errorf("LOCK answer of /dir/sub: %+v, want one lock rooted at /dir/sub/", ls)
	}
	want := map[string]string{
		"/dir/":      "/dir/",
		"/dir/f":     "/dir/ /dir/f",
		"/dir/g":     "/dir/ /dir/g /dir/g",
		"/dir/h":     "/dir/",
		"/dir/sub/":  "/dir/ /dir/sub/",
		"/dir/sub/x": "/dir/ /dir/sub/x",
	}
	roots := func(r *multistatus.Response) string {
		ld, ok := prop(r, "DAV:", "lockdiscovery")
		if !ok {
			t.Fatalf("%v: no lockdiscovery", r.Hrefs)
		}
		var out []string
		for _, l := range lockAnswer(t, []byte(`<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+string(ld.Inner)+`</D:lockdiscovery></D:prop>`)) {
			out = append(out, l.LockRoot)
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	for _, depth := range []string{"1", "infinity"} {
		m := ms(t, e.do("PROPFIND", "/dir/", "", "Depth", depth))
		n := 0
		for href, w := range want {
			if depth == "1" && href == "/dir/sub/x" {
				continue
			}
			n++
			if got := roots(response(t, m, href)); got != w {
				t.Errorf("Depth %s, %s: lock roots %q, want %q", depth, href, got, w)
			}
		}
		if len(m.Responses) != n {
			t.Errorf("Depth %s: %d responses, want %d", depth, len(m.Responses), n)
		}
	}
	for href, w := range want {
		m := ms(t, e.do("PROPFIND", href, "", "Depth", "0"))
		if got := roots(response(t, m, href)); got != w {
			t.Errorf("Depth 0, %s: lock roots %q, want %q", href, got, w)
		}
	}
}

// TestLockDiscoveryAcrossPages lists a folder of more entries than one
// page of a PROPFIND answer holds, with locks on entries of different
// pages, one inherited in a subfolder, and deeper ones: each entry shows
// its own locks and those it inherits only, at Depth 1 and infinity.
func TestLockDiscoveryAcrossPages(t *testing.T) {
	e := newEnv(t)
	e.mkcol("/big")
	e.mkcol("/big/sub")
	for i := range 300 {
		e.put(fmt.Sprintf("/big/f%03d", i), "x")
	}
	e.put("/big/sub/deep", "x")
	for _, l := range []struct{ p, depth string }{
		{"/big/f005", "0"}, {"/big/f200", "0"}, {"/big/f200", "0"}, {"/big/f299", "0"},
		{"/big/sub", "infinity"}, {"/big/sub/deep", "0"},
	} {
		e.lock(l.p, l.depth, lockShared)
	}
	want := map[string]string{ // href -> the roots of its locks, sorted
		"/big/f005": "/big/f005", "/big/f200": "/big/f200 /big/f200", "/big/f299": "/big/f299",
		"/big/sub/": "/big/sub/", "/big/sub/deep": "/big/sub/ /big/sub/deep",
	}
	for _, depth := range []string{"1", "infinity"} {
		m := ms(t, e.do("PROPFIND", "/big/", "", "Depth", depth))
		for i := range m.Responses {
			r := &m.Responses[i]
			ld, ok := prop(r, "DAV:", "lockdiscovery")
			if !ok {
				t.Fatalf("Depth %s, %v: no lockdiscovery", depth, r.Hrefs)
			}
			var roots []string
			for _, l := range lockAnswer(t, []byte(`<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+string(ld.Inner)+`</D:lockdiscovery></D:prop>`)) {
				roots = append(roots, l.LockRoot)
			}
			slices.Sort(roots)
			if got := strings.Join(roots, " "); got != want[r.Hrefs[0]] {
				t.Errorf("Depth %s, %s: lock roots %q, want %q", depth, r.Hrefs[0], got, want[r.Hrefs[0]])
			}
		}
		if want := map[string]int{"1": 302, "infinity": 303}[depth]; len(m.Responses) != want {
			t.Errorf("Depth %s: %d responses, want %d", depth, len(m.Responses), want)
		}
	}
}

// TestLockRootHrefsEncoded checks the lockroot hrefs of names that need
// encoding (a space, &, %, non-ASCII), under a mount prefix and without,
// for a lock on the root: in a listing, in a Depth 0 PROPFIND and in the
// LOCK answer, each lockroot is written exactly as the href of the
// resource the lock is rooted at, and decodes to its path.
func TestLockRootHrefsEncoded(t *testing.T) {
	hrefRe := regexp.MustCompile(`<D:response><D:href>([^<]*)</D:href>`)
	rootRe := regexp.MustCompile(`<D:lockroot><D:href>([^<]*)</D:href>`)
	decode := func(t *testing.T, raw string) string {
		t.Helper()
		p, err := url.PathUnescape(strings.ReplaceAll(raw, "&amp;", "&"))
		if err != nil {
			t.Fatalf("href %q: %v", raw, err)
		}
		return p
	}
	for _, prefix := range []string{"", "/dav"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			e := newEnv(t, func(c *dav.Config) { c.Prefix = prefix })
			file, dir := "/a b&c%d é.txt", "/d ir&ß"
			e.put(prefix+"/"+url.PathEscape(file[1:]), "x")
			e.mkcol(prefix + "/" + url.PathEscape(dir[1:]))
			w := e.do("LOCK", prefix+"/", lockShared, "Depth", "infinity", "Timeout", "Second-600")
			if w.Code != http.StatusOK {
				t.Fatalf("LOCK of the root: %d\n%s", w.Code, w.Body)
			}
			if got := rootRe.FindAllStringSubmatch(w.Body.String(), -1); len(got) != 1 || decode(t, got[0][1]) != prefix+"/" {
				t.Errorf("LOCK answer of the root: lock roots %q, want %q", got, prefix+"/")
			}
			for _, p := range []string{file, dir} {
				w := e.do("LOCK", prefix+"/"+url.PathEscape(p[1:]), lockShared, "Depth", "0", "Timeout", "Second-600")
				if w.Code != http.StatusOK {
					t.Fatalf("LOCK %s: %d\n%s", p, w.Code, w.Body)
				}
				want := prefix + p
				if p == dir {
					want += "/"
				}
				if got := rootRe.FindAllStringSubmatch(w.Body.String(), -1); len(got) != 1 || decode(t, got[0][1]) != want {
					t.Errorf("LOCK answer of %s: lock roots %q, want %q", p, got, want)
				}
			}
			// Every response: the root's lock, rooted at the root's href,
			// and the resource's own, rooted at its own href.
			check := func(body string, wantResponses int) {
				t.Helper()
				parts := strings.Split(body, "<D:response>")[1:]
				if len(parts) != wantResponses {
					t.Fatalf("%d responses, want %d\n%s", len(parts), wantResponses, body)
				}
				rootHref := prefix + "/"
				if prefix == "" {
					rootHref = "/"
				}
				for _, part := range parts {
					href := hrefRe.FindStringSubmatch("<D:response>" + part)[1]
					var got []string
					for _, m := range rootRe.FindAllStringSubmatch(part, -1) {
						got = append(got, m[1])
					}
					slices.Sort(got)
					want := []string{rootHref}
					if decode(t, href) != rootHref {
						want = append(want, href)
					}
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("response %q (%s): lock roots %q, want %q", href, decode(t, href), got, want)
					}
				}
			}
			check(e.do("PROPFIND", prefix+"/", "", "Depth", "1").Body.String(), 3)
			for _, p := range []string{file, dir} {
				check(e.do("PROPFIND", prefix+"/"+url.PathEscape(p[1:]), "", "Depth", "0").Body.String(), 1)
			}
		})
	}
}

// TestLockedWritesNeedTheOwner: RFC 4918 §6.4: a write through a lock
// needs the lock's creator as well as its token. Another user who submits
// the token is answered as if no token had been given (423); a lock made
// anonymously is usable by anyone who has its token.
func TestLockedWritesNeedTheOwner(t *testing.T) {
	writes := []struct {
		method, body string
		hdr          []string
		ok           int
	}{
		{"PUT", "new", nil, 204},
		{"PROPPATCH", proppatchSet("{urn:x}a", "1"), nil, 207},
		{"DELETE", "", nil, 204},
		{"MOVE", "", []string{"Destination", "/moved"}, 201},
	}
	for _, tc := range []struct {
		name         string
		locker, user string
		want423      bool
	}{
		{"owner", "alice", "alice", false},
		{"other user", "alice", "bob", true},
		{"anonymous request, user's lock", "alice", "", true},
		{"anonymous lock, anonymous request", "", "", false},
		{"anonymous lock, any user", "", "bob", false},
	} {
		for _, m := range writes {
			t.Run(tc.name+" "+m.method, func(t *testing.T) {
				e := newEnv(t)
				e.put("/f", "old")
				lw := e.serve(dav.WithUser(newRequest("LOCK", "/f", lockExclusive, "Depth", "0"), tc.locker))
				if lw.Code != http.StatusOK {
					t.Fatalf("LOCK: %d\n%s", lw.Code, lw.Body)
				}
				tok := lw.Header().Get("Lock-Token")
				r := newRequest(m.method, "/f", m.body, append(m.hdr, "If", "("+tok+")")...)
				w := e.serve(dav.WithUser(r, tc.user))
				if tc.want423 {
					if w.Code != http.StatusLocked {
						t.Fatalf("status %d, want 423\n%s", w.Code, w.Body)
					}
					wantCondition(t, w, http.StatusLocked, "lock-token-submitted")
					if got, _ := e.content("/f"); got != "old" {
						t.Fatalf("content %q after a refused write", got)
					}
					return
				}
				if w.Code != m.ok {
					t.Fatalf("status %d, want %d\n%s", w.Code, m.ok, w.Body)
				}
			})
		}
	}
}
