package server

// Helpers for the tests of the configured server (App). Names start with
// "ct" so they do not collide with other test files of this package.

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/davit-dav/davit/internal/config"
)

// ctBuffer is a goroutine-safe log sink.
type ctBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *ctBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *ctBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.b.Bytes())
}

func (b *ctBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var (
	ctHashMu    sync.Mutex
	ctHashCache = map[string]string{}
)

// ctHash returns a cheap bcrypt hash of pw.
func ctHash(t testing.TB, pw string) string {
	ctHashMu.Lock()
	defer ctHashMu.Unlock()
	if h, ok := ctHashCache[pw]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ctHashCache[pw] = string(h)
	return string(h)
}

var ctHashRE = regexp.MustCompile(`\{\{HASH:([^}]*)\}\}`)

// ctEnv is one configured App under test.
type ctEnv struct {
	t    *testing.T
	dir  string // temp dir; {{DIR}} in the config
	file string // the config file
	app  *App
	logs *ctBuffer
	url  string // after serve
	stop func() error
}

// ctExpand replaces {{DIR}} and {{HASH:pw}} in a config text.
func ctExpand(t testing.TB, text, dir string) string {
	text = strings.ReplaceAll(text, "{{DIR}}", dir)
	return ctHashRE.ReplaceAllStringFunc(text, func(m string) string {
		return "'" + ctHash(t, ctHashRE.FindStringSubmatch(m)[1]) + "'"
	})
}

// ctNew writes the config, loads and checks it, and builds the App.
func ctNew(t *testing.T, text string) *ctEnv {
	t.Helper()
	return ctNewIn(t, t.TempDir(), text)
}

// ctNewIn is ctNew with {{DIR}} an existing directory.
func ctNewIn(t *testing.T, dir, text string) *ctEnv {
	t.Helper()
	return ctNewWith(t, dir, text, AppOptions{})
}

// ctNewWith is ctNewIn with App options (ConfigFile and Stderr are set).
func ctNewWith(t *testing.T, dir, text string, opt AppOptions) *ctEnv {
	t.Helper()
	e := &ctEnv{t: t, dir: dir, logs: &ctBuffer{}}
	e.file = filepath.Join(e.dir, "davit.yaml")
	e.write(text)
	cfg, err := config.Load(e.file, nil, nil)
	if err == nil {
		err = CheckConfig(cfg)
	}
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	opt.ConfigFile, opt.Stderr = e.file, e.logs
	e.app, err = NewApp(cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if e.stop != nil {
			e.stop()
		} else {
			e.app.Close()
		}
	})
	return e
}

// write replaces the config file.
func (e *ctEnv) write(text string) {
	e.t.Helper()
	if err := os.WriteFile(e.file, []byte(ctExpand(e.t, text, e.dir)), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// serve listens on the configured (ephemeral) addresses and serves until
// the test ends or stop is called.
func (e *ctEnv) serve() {
	e.t.Helper()
	if err := e.app.Listen(); err != nil {
		e.t.Fatal(err)
	}
	e.url = e.app.URL()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.app.Serve(ctx) }()
	var once sync.Once
	var err error
	e.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				e.t.Error("Serve did not return")
			}
		})
		return err
	}
}

// ctReq is one request through App.ServeHTTP.
type ctReq struct {
	method, path string
	body         string
	user, pw     string // Basic credentials when user != ""
	hdr          map[string]string
	remote       string // RemoteAddr, default 192.0.2.1:1234
}

func (e *ctEnv) do(r ctReq) *httptest.ResponseRecorder {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(r.method, "http://example.test"+r.path, body)
	if r.path != "" && !strings.HasPrefix(r.path, "/") {
		req.URL.Path, req.URL.RawPath = r.path, ""
	}
	if r.remote != "" {
		req.RemoteAddr = r.remote
	}
	if r.user != "" {
		req.SetBasicAuth(r.user, r.pw)
	}
	for k, v := range r.hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.app.ServeHTTP(rec, req)
	return rec
}

// status sends r and checks the status.
func (e *ctEnv) status(r ctReq, want int) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := e.do(r)
	if rec.Code != want {
		e.t.Errorf("%s %s (user %q): status %d, want %d; body %q", r.method, r.path, r.user, rec.Code, want, ctClip(rec.Body.String()))
	}
	return rec
}

func ctClip(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// seed creates a file below the env's dir.
func (e *ctEnv) seed(rel, content string) {
	e.t.Helper()
	p := filepath.Join(e.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *ctEnv) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(e.dir, rel))
	return err == nil
}

const ctPropfindBody = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>`

const ctLockBody = `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>t</D:owner></D:lockinfo>`

const ctProppatchBody = `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z"><D:set><D:prop><Z:color>red</Z:color></D:prop></D:set></D:propertyupdate>`
