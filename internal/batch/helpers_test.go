package batch_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/storage"
	"github.com/davit-dav/davit/multistatus"
)

// env is a batch middleware in front of a trivial authentication
// middleware in front of a dav handler on a MemFS with memory locks and
// properties.
//
// Authentication: Basic, users "ann" (may do anything) and "bob" (may
// only read: PROPFIND, GET, HEAD, OPTIONS). Nobody may change anything
// below /readonly/. No credentials: 401.
type env struct {
	t      testing.TB
	h      http.Handler // the whole stack
	dav    *dav.Handler
	mu     sync.Mutex
	seen   []string // "METHOD path" of every request that reached dav
	prefix string
}

func newEnv(t testing.TB, opt batch.Options) *env {
	t.Helper()
	e := &env{t: t, prefix: opt.Prefix}
	e.dav = dav.New(dav.Config{
		FS: storage.NewMem(), Locks: lock.NewMemory(lock.Options{}), Props: props.NewMemory(),
		Prefix: opt.Prefix, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, r.Method+" "+r.URL.Path)
		e.mu.Unlock()
		e.dav.ServeHTTP(w, r)
	})
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e.h = batch.Wrap(auth(record), opt)
	return e
}

func auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || pass != "pw" || (user != "ann" && user != "bob") {
			w.Header().Set("WWW-Authenticate", `Basic realm="davit"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		read := r.Method == "PROPFIND" || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		dest := r.Header.Get("Destination")
		if !read && (user == "bob" || strings.Contains(r.URL.Path, "/readonly/") || strings.Contains(dest, "/readonly/")) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, dav.WithUser(r, user))
	})
}

// req builds a request as ann; hdr holds header names and values in turn
// ("Authorization", "" removes the credentials).
func req(method, target, body string, hdr ...string) *http.Request {
	var r *http.Request
	if body == "" {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	}
	r.SetBasicAuth("ann", "pw")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			r.Header.Del(hdr[i])
			continue
		}
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func (e *env) serve(r *http.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *env) do(method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.serve(req(method, target, body, hdr...))
}

// must runs a request and fails unless it gets code.
func (e *env) must(code int, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	w := e.do(method, target, body, hdr...)
	if w.Code != code {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, target, w.Code, code, w.Body.String())
	}
	return w
}

func (e *env) put(p, content string) {
	e.t.Helper()
	w := e.do("PUT", p, content)
	if w.Code != http.StatusCreated && w.Code != http.StatusNoContent {
		e.t.Fatalf("PUT %s: %d %s", p, w.Code, w.Body.String())
	}
}

func (e *env) mkcol(p string) {
	e.t.Helper()
	e.must(http.StatusCreated, "MKCOL", p, "")
}

// lock takes an exclusive lock and returns its token.
func (e *env) lock(p, depth string) string {
	e.t.Helper()
	w := e.do("LOCK", p, `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>t</D:owner></D:lockinfo>`,
		"Depth", depth)
	if w.Code != http.StatusOK && w.Code != http.StatusCreated {
		e.t.Fatalf("LOCK %s: %d %s", p, w.Code, w.Body.String())
	}
	return strings.Trim(w.Header().Get("Lock-Token"), "<>")
}

func (e *env) resetSeen() {
	e.mu.Lock()
	e.seen = nil
	e.mu.Unlock()
}

func (e *env) seenMethods() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.seen...)
}

// decode reads a 207 answer, failing on anything else.
func decode(t testing.TB, w *httptest.ResponseRecorder) []multistatus.Response {
	t.Helper()
	if w.Code != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207: %s", w.Code, w.Body.String())
	}
	ms, err := multistatus.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, w.Body.String())
	}
	return ms.Responses
}

// statusOf returns the status of a response: its own, or that of its only
// or first propstat.
func statusOf(r multistatus.Response) int {
	if r.Status.Code != 0 {
		return r.Status.Code
	}
	if len(r.Propstats) > 0 {
		return r.Propstats[0].Status.Code
	}
	return 0
}

// byID maps each id to the statuses of its responses, in order.
func byID(rs []multistatus.Response) map[string][]int {
	out := map[string][]int{}
	for _, r := range rs {
		out[r.ID] = append(out[r.ID], statusOf(r))
	}
	return out
}

// tree lists every resource below root with its properties and locks: a
// PROPFIND Depth: infinity allprop plus lockdiscovery, straight to the dav
// handler, as one comparable string.
func (e *env) tree() string {
	e.t.Helper()
	r := req("PROPFIND", e.prefix+"/", `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:lockdiscovery/></D:include></D:propfind>`, "Depth", "infinity")
	r = dav.WithUser(r, "ann")
	w := httptest.NewRecorder()
	e.dav.ServeHTTP(w, r)
	rs := decode(e.t, w)
	lines := make([]string, 0, len(rs))
	for _, resp := range rs {
		b, _ := json.Marshal(&resp)
		// The remaining time of a lock counts down: leave it out.
		lines = append(lines, timeoutRE.ReplaceAllString(string(b), ""))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

var timeoutRE = regexp.MustCompile(`<D:timeout>[^<]*</D:timeout>`)
