package server

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/config"
)

var ctUpdate = flag.Bool("update", false, "rewrite the golden files of the example configs")

// ctCert writes a self-signed certificate for 127.0.0.1 and localhost
// with common name cn to dir/cert.pem and dir/key.pem.
func ctCert(t *testing.T, dir, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		// Make sure the change is seen even on coarse file system clocks.
		future := time.Now().Add(time.Duration(len(cn)) * time.Second)
		os.Chtimes(p, future, future)
	}
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "EC PRIVATE KEY", kb)
	c, _ := x509.ParseCertificate(der)
	return c
}

// ctPeerCN dials addr with TLS and returns the certificate's common name.
func ctPeerCN(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestTLS: HTTPS from files, HTTP/2 negotiated, certificate reloaded when
// the files change (and kept when the new pair is broken), redirect
// listener.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	first := ctCert(t, dir, "first")
	e := ctNewIn(t, dir, `
listen: 127.0.0.1:0
tls:
  cert: {{DIR}}/cert.pem
  key: {{DIR}}/key.pem
  redirect_from: 127.0.0.1:0
locations: [{path: /dav, folder: '{{DIR}}/dav'}]
`)
	e.serve()
	mainAddr, _, redirAddr := e.app.Addrs()
	if !strings.HasPrefix(e.url, "https://") {
		t.Fatalf("URL %s", e.url)
	}
	pool := x509.NewCertPool()
	pool.AddCert(first)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	req, _ := http.NewRequest("PUT", e.url+"/dav/a.txt", strings.NewReader("over tls"))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 || resp.Proto != "HTTP/2.0" {
		t.Errorf("PUT over TLS: %d %s, want 201 over HTTP/2.0", resp.StatusCode, resp.Proto)
	}
	req, _ = http.NewRequest("PROPFIND", e.url+"/dav/", nil)
	req.Header.Set("Depth", "1")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 207 || resp.ProtoMajor != 2 {
		t.Errorf("PROPFIND: %d %s", resp.StatusCode, resp.Proto)
	}

	// Reload: new files, new certificate, no restart.
	if cn := ctPeerCN(t, mainAddr); cn != "first" {
		t.Fatalf("CN %q", cn)
	}
	ctCert(t, dir, "second")
	if cn := ctPeerCN(t, mainAddr); cn != "second" {
		t.Errorf("after replacing the files, CN %q, want second", cn)
	}
	// A broken pair (a key that does not match) keeps the last good one.
	other := t.TempDir()
	ctCert(t, other, "third-with-a-longer-name")
	kb, _ := os.ReadFile(filepath.Join(other, "key.pem"))
	os.WriteFile(filepath.Join(dir, "key.pem"), kb, 0o600)
	future := time.Now().Add(time.Minute)
	os.Chtimes(filepath.Join(dir, "key.pem"), future, future)
	if cn := ctPeerCN(t, mainAddr); cn != "second" {
		t.Errorf("after a broken pair, CN %q, want second", cn)
	}
	if !strings.Contains(e.logs.String(), "not reloaded") {
		t.Error("the broken pair was not logged")
	}

	// The redirect listener: 308 to the same URL over HTTPS.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ = http.NewRequest("PROPFIND", "http://"+redirAddr+"/dav/x%20y?q=1", nil)
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(mainAddr)
	if want := "https://127.0.0.1:" + port + "/dav/x%20y?q=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Errorf("redirect: %d %q, want 308 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + mainAddr + "/dav/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("plain HTTP on the TLS port: %d", resp.StatusCode)
		}
	}
}

// TestReverseProxyForwardedHeaders: X-Forwarded-* and X-Request-Id count only from a
// trusted proxy.
func TestReverseProxyForwardedHeaders(t *testing.T) {
	e := ctNew(t, `
trusted_proxies: [127.0.0.1/32]
log: {format: json}
locations: [{path: /dav, folder: '{{DIR}}/dav'}]
`)
	e.status(ctReq{method: "PUT", path: "/dav/a.txt", body: "a"}, 201)
	fwd := map[string]string{
		"X-Forwarded-Prefix": "/files",
		"X-Forwarded-For":    "203.0.113.9, 127.0.0.1",
		"X-Forwarded-Proto":  "https",
		"X-Forwarded-Host":   "public.example",
		"X-Request-Id":       "proxy-id-123",
		"Depth":              "1",
	}
	cases := []struct {
		remote     string
		trusted    bool
		wantPrefix string
	}{
		{"127.0.0.1:4000", true, "/files/dav/"},
		{"192.0.2.50:4000", false, "/dav/"},
	}
	for _, c := range cases {
		rec := e.status(ctReq{method: "PROPFIND", path: "/dav/", hdr: fwd, remote: c.remote}, 207)
		body := rec.Body.String()
		if !strings.Contains(body, "<D:href>"+c.wantPrefix+"a.txt</D:href>") {
			t.Errorf("from %s: hrefs not under %s:\n%s", c.remote, c.wantPrefix, ctClip(body))
		}
		if c.trusted == strings.Contains(body, "<D:href>/dav/a.txt") {
			t.Errorf("from %s: wrong prefix", c.remote)
		}
		id := rec.Header().Get("X-Request-Id")
		if (id == "proxy-id-123") != c.trusted || id == "" {
			t.Errorf("from %s: request id %q", c.remote, id)
		}
		// Destination with the public prefix.
		h := map[string]string{"Destination": "https://public.example/files/dav/copy-" + c.remote[:3] + ".txt"}
		for k, v := range fwd {
			if k != "Depth" {
				h[k] = v
			}
		}
		want := 201
		if !c.trusted {
			want = 502 // /files is not this server's without the trusted prefix
		}
		e.status(ctReq{method: "COPY", path: "/dav/a.txt", hdr: h, remote: c.remote}, want)
	}
	// The log has the client address from X-Forwarded-For only when trusted.
	logs := e.logs.String()
	if !strings.Contains(logs, `"scheme":"https","host":"public.example"`) {
		t.Errorf("forwarded scheme and host not logged:\n%s", logs)
	}
	if !strings.Contains(logs, `"remote":"203.0.113.9"`) || !strings.Contains(logs, `"request_id":"proxy-id-123"`) {
		t.Errorf("trusted proxy's client address or request id not logged:\n%s", logs)
	}
	if !strings.Contains(logs, `"remote":"192.0.2.50"`) {
		t.Errorf("untrusted peer not logged as itself")
	}
	if strings.Count(logs, "proxy-id-123") != 2 {
		t.Errorf("the untrusted request id was used:\n%s", logs)
	}
}

// TestAccessLog: one JSON line per request with the documented fields;
// no password, nor the Authorization header, ever in the logs.
func TestAccessLog(t *testing.T) {
	const good, bad = "S3cret-Pa55word!", "Wr0ng-Pa55word!"
	e := ctNew(t, `
users: [{name: alice, password_hash: {{HASH:`+good+`}}}]
log: {format: json, level: debug}
locations: [{path: /, folder: '{{DIR}}/d'}]
`)
	e.status(ctReq{method: "PUT", path: "/f.txt", body: "12345", user: "alice", pw: good}, 201)
	e.status(ctReq{method: "PROPFIND", path: "/", hdr: map[string]string{"Depth": "1"}, user: "alice", pw: good}, 207)
	e.status(ctReq{method: "GET", path: "/f.txt", user: "alice", pw: bad}, 401)
	e.status(ctReq{method: "GET", path: "/f.txt", user: bad, pw: good}, 401)

	logs := e.logs.String()
	for _, secret := range []string{good, bad, base64.StdEncoding.EncodeToString([]byte("alice:" + good)), "Basic "} {
		if strings.Contains(logs, secret) && secret != bad {
			t.Errorf("the logs contain %q", secret)
		}
	}
	if strings.Contains(logs, good) || strings.Contains(logs, "alice:"+bad) {
		t.Error("a password is in the logs")
	}
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("%d request lines, want 4:\n%s", len(lines), logs)
	}
	pf := lines[1]
	for k, want := range map[string]any{"method": "PROPFIND", "path": "/", "status": 207.0, "depth": "1", "user": "alice", "remote": "192.0.2.1", "proto": "HTTP/1.1"} {
		if pf[k] != want {
			t.Errorf("PROPFIND line: %s = %v, want %v", k, pf[k], want)
		}
	}
	for _, k := range []string{"bytes", "bytes_in", "duration", "request_id", "time", "level"} {
		if _, ok := pf[k]; !ok {
			t.Errorf("PROPFIND line has no %s: %v", k, pf)
		}
	}
	if pf["bytes"].(float64) <= 0 || lines[0]["bytes_in"].(float64) != 5 {
		t.Errorf("byte counts: %v / %v", pf["bytes"], lines[0]["bytes_in"])
	}
	if lines[2]["status"] != 401.0 || lines[2]["user"] != "" {
		t.Errorf("failed login line: %v", lines[2])
	}
	if lines[0]["request_id"] == lines[1]["request_id"] {
		t.Error("request ids repeat")
	}
}

// TestMetricsAndHealth: the admin listener's /metrics, /healthz, /readyz.
func TestMetricsAndHealth(t *testing.T) {
	e := ctNew(t, `
listen: 127.0.0.1:0
admin: {listen: '127.0.0.1:0'}
log: {access: false}
locations: [{path: /, folder: '{{DIR}}/d'}]
`)
	e.serve()
	_, admin, _ := e.app.Addrs()
	do := func(method, path, body string, hdr ...string) *http.Response {
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	do("PUT", "/f.txt", "12345")
	do("PROPFIND", "/", "", "Depth", "1")
	if r := do("LOCK", "/f.txt", ctLockBody); r.StatusCode != 200 {
		t.Fatalf("LOCK %d", r.StatusCode)
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + admin + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, m := get("/metrics")
	if code != 200 {
		t.Fatalf("/metrics %d", code)
	}
	for _, want := range []string{
		`davit_requests_total{code="207",method="PROPFIND"} 1`,
		`davit_requests_total{code="201",method="PUT"} 1`,
		`davit_request_body_bytes_total{method="PUT"} 5`,
		`davit_propfind_entries_total 2`,
		`davit_active_locks 1`,
		`davit_request_duration_seconds_bucket{method="PUT",le="+Inf"} 1`,
		`davit_response_body_bytes_total{method="PROPFIND"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz %d", code)
	}
	// Readiness fails once shutting down.
	e.app.stopping.Store(true)
	if code, _ := get("/readyz"); code != 503 {
		t.Errorf("/readyz while stopping: %d", code)
	}
	e.app.stopping.Store(false)
	// The admin endpoints are not on the main listener.
	if r := do("GET", "/metrics", ""); r.StatusCode != 404 {
		t.Errorf("/metrics on the main listener: %d", r.StatusCode)
	}
}

// ctSlowPut starts a PUT whose body the test feeds; it returns the writer
// and a channel with the status.
func ctSlowPut(t *testing.T, client *http.Client, url string) (*io.PipeWriter, chan int) {
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", url, pr)
	ch := make(chan int, 1)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			ch <- -1
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ch <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte("first half, ")); err != nil {
		t.Fatal(err)
	}
	return pw, ch
}

// TestReloadKeepsConnections: a reload swaps the config while a request
// is in flight; it finishes, and the connection stays usable.
func TestReloadKeepsConnections(t *testing.T) {
	e := ctNew(t, `
listen: 127.0.0.1:0
admin: {listen: '127.0.0.1:0'}
locations: [{path: /dav, folder: '{{DIR}}/dav'}]
`)
	e.serve()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	pw, status := ctSlowPut(t, client, e.url+"/dav/slow.txt")
	time.Sleep(100 * time.Millisecond) // let the handler start

	e.write(`
listen: 127.0.0.1:0
admin: {listen: '127.0.0.1:0'}
locations:
  - {path: /dav, folder: '{{DIR}}/dav'}
  - {path: /new, folder: '{{DIR}}/new'}
`)
	if err := e.app.Reload(); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(e.url + "/new/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("new location after reload: %d", resp.StatusCode)
	}
	pw.Write([]byte("second half"))
	pw.Close()
	if s := <-status; s != 201 {
		t.Fatalf("in-flight PUT across the reload: %d", s)
	}
	// The folder stayed open for the new config, and the connection is
	// reused.
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, _ := http.NewRequest("GET", e.url+"/dav/slow.txt", nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "first half, second half" || !reused {
		t.Errorf("after reload: %q, connection reused %v", b, reused)
	}

	// A bad config is refused; the running one stays.
	e.write("listen: 127.0.0.1:0\nlocations: [{path: /dav, folder: '{{DIR}}/dav', methods: [FROB]}]\n")
	if err := e.app.Reload(); err == nil || !strings.Contains(err.Error(), "FROB") {
		t.Errorf("bad reload: %v", err)
	}
	resp, err = client.Get(e.url + "/new/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after a failed reload: %d", resp.StatusCode)
	}
	_, admin, _ := e.app.Addrs()
	mresp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`davit_config_reloads_total{result="ok"} 1`, `davit_config_reloads_total{result="error"} 1`} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Removing a location releases its folder once idle; the rest stays.
	e.write("listen: 127.0.0.1:0\nlocations: [{path: /dav, folder: '{{DIR}}/dav'}]\n")
	if err := e.app.Reload(); err != nil {
		t.Fatal(err)
	}
	e.app.pool.mu.Lock()
	n := len(e.app.pool.m)
	e.app.pool.mu.Unlock()
	if n != 1 {
		t.Errorf("%d folders open after removing a location, want 1", n)
	}
	resp, err = client.Get(e.url + "/new/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("removed location: %d", resp.StatusCode)
	}
}

// TestGracefulShutdown: on shutdown, an in-flight request finishes within
// the grace period; one that does not is cut off when it ends.
func TestGracefulShutdown(t *testing.T) {
	e := ctNew(t, `
listen: 127.0.0.1:0
shutdown_grace: 10s
locations: [{path: /, folder: '{{DIR}}/d'}]
`)
	e.serve()
	client := &http.Client{Transport: &http.Transport{}}
	pw, status := ctSlowPut(t, client, e.url+"/in-flight.txt")
	time.Sleep(100 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- e.stop() }()
	// Readiness fails and new connections are refused while it drains.
	deadline := time.Now().Add(5 * time.Second)
	for !e.app.stopping.Load() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	rec := httptest.NewRecorder()
	e.app.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != 503 {
		t.Errorf("/readyz during shutdown: %d", rec.Code)
	}
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(e.url, "http://"), time.Second)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatal("shutdown did not wait for the in-flight request")
	case <-time.After(200 * time.Millisecond):
	}
	pw.Write([]byte("second half"))
	pw.Close()
	if s := <-status; s != 201 {
		t.Errorf("in-flight PUT during shutdown: %d", s)
	}
	if err := <-stopped; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(e.dir, "d", "in-flight.txt")); string(b) != "first half, second half" {
		t.Errorf("file %q", b)
	}
	// After shutdown the handler answers 503 rather than touching closed folders.
	e.status(ctReq{method: "GET", path: "/in-flight.txt"}, 503)

	// A request that outlives the grace period is cut off.
	e2 := ctNew(t, "listen: 127.0.0.1:0\nshutdown_grace: 200ms\nlocations: [{path: /, folder: '{{DIR}}/d'}]\n")
	e2.serve()
	pw2, status2 := ctSlowPut(t, &http.Client{Transport: &http.Transport{}}, e2.url+"/stuck.txt")
	defer pw2.Close()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	e2.stop()
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("shutdown took %v with a 200ms grace", d)
	}
	pw2.CloseWithError(errors.New("client gives up")) // unblocks the client's writer
	if s := <-status2; s == 201 {
		t.Error("the stuck PUT succeeded")
	}
	if _, err := os.Stat(filepath.Join(e2.dir, "d", "stuck.txt")); err == nil {
		t.Error("a cut-off upload left a file")
	}
}

// TestConfigCheck: `davit config check` prints the effective config or
// names what is wrong, with exit code 2.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(ctExpand(t, text, dir)), 0o600)
		return p
	}
	noEnv := func(string) (string, bool) { return "", false }
	run := func(args ...string) (int, string, string) {
		var out, errb ctBuffer
		code := runConfigCheck(args, noEnv, &out, &errb)
		return code, out.String(), errb.String()
	}
	good := write("good.yaml", "users: [{name: alice, password_hash: {{HASH:pw}}}]\nlocations: [{path: /a, folder: /srv/a}]\n")
	code, out, _ := run(good)
	if code != 0 || !strings.Contains(out, "path: /a") || !strings.Contains(out, "realm: Davit") || !strings.Contains(out, "<redacted>") {
		t.Errorf("good config: %d\n%s", code, out)
	}
	if code, out, _ := run("-q", good); code != 0 || out != "" {
		t.Errorf("-q: %d %q", code, out)
	}
	// The environment counts, as for serve.
	var o, eb ctBuffer
	if code := runConfigCheck([]string{good}, func(k string) (string, bool) {
		return "127.0.0.1:7777", k == "DAVIT_LISTEN"
	}, &o, &eb); code != 0 || !strings.Contains(o.String(), "listen: 127.0.0.1:7777") {
		t.Errorf("env: %d %s %s", code, o.String(), eb.String())
	}

	cases := []struct {
		name, text, want string
	}{
		{"unknown.yaml", "locations:\n  - path: /a\n    folder: /a\n    dav_methods: [PUT]\n", "unknown.yaml:4: locations[0].dav_methods: unknown key"},
		{"type.yaml", "listen: 127.0.0.1:1\nno_sync: often\n", "type.yaml:2: no_sync: want true or false"},
		{"users.yaml", "users_file: {{DIR}}/missing-htpasswd\n", "users.yaml:1: users_file: cannot read"},
		{"tls.yaml", "tls: {cert: '{{DIR}}/none.pem', key: '{{DIR}}/none.key'}\n", "tls.yaml:1: tls.cert: cannot load"},
		{"two.yaml", "listen: x\nlog: {format: xml}\n", "two.yaml:1: listen"},
	}
	for _, c := range cases {
		code, out, errs := run(write(c.name, c.text))
		if code != ExitUsage || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.name, code, errs, c.want)
		}
	}
	if code, _, errs := run(write("two.yaml", "listen: x\nlog: {format: xml}\n")); code != 2 || !strings.Contains(errs, "log.format") {
		t.Errorf("all errors are reported: %q", errs)
	}
	if code, _, _ := run(); code != ExitUsage {
		t.Errorf("no file: %d", code)
	}
	if code, _, _ := run(filepath.Join(dir, "nope.yaml")); code != ExitUsage {
		t.Errorf("missing file: %d", code)
	}
	// -no-files skips the users file and certificates.
	if code, _, errs := run("-no-files", filepath.Join(dir, "users.yaml")); code != 0 {
		t.Errorf("-no-files: %d %s", code, errs)
	}
}

// TestExampleConfigs loads every example config in docs/examples and
// compares the effective config that `davit config check` prints with the
// golden file in testdata/examples (go test -update rewrites them).
func TestExampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../docs/examples/*.yaml")
	if len(files) < 4 {
		t.Fatalf("only %d example configs", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			var out, errb ctBuffer
			if code := runConfigCheck([]string{"-no-files", f}, func(string) (string, bool) { return "", false }, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			golden := filepath.Join("testdata", "examples", name+".golden")
			if *ctUpdate {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				os.WriteFile(golden, []byte(out.String()), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if out.String() != string(want) {
				t.Errorf("effective config of %s differs from %s:\n%s", f, golden, out.String())
			}
			// What config check prints is a config that reads back the same.
			c, err := config.Parse(out.Bytes(), golden)
			if err != nil {
				t.Fatalf("the printed config does not parse: %v", err)
			}
			c.SetDefaults()
			again, _ := c.Marshal()
			if string(again) != out.String() {
				t.Errorf("the printed config does not read back the same:\n%s", again)
			}
		})
	}
	// The systemd unit runs serve --config, reloads with SIGHUP, checks
	// first, does not restart on a bad config, and waits longer than the
	// longest shutdown_grace of the examples.
	unit, err := os.ReadFile("../../docs/examples/davit.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ExecStart=/usr/local/bin/davit serve --config /etc/davit/davit.yaml",
		"ExecStartPre=/usr/local/bin/davit config check -q /etc/davit/davit.yaml",
		"ExecReload=/bin/kill -HUP $MAINPID",
		"RestartPreventExitStatus=2",
		"KillSignal=SIGTERM",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("davit.service lacks %q", want)
		}
	}
	m := regexp.MustCompile(`TimeoutStopSec=(\d+)`).FindStringSubmatch(string(unit))
	if m == nil {
		t.Fatal("no TimeoutStopSec")
	}
	var stop int
	fmt.Sscan(m[1], &stop)
	if stop <= 30 {
		t.Errorf("TimeoutStopSec=%d is not above full.yaml's shutdown_grace (30s)", stop)
	}
}

// TestExampleServes runs the Apache-like example for real (its paths moved
// to a temp dir) and checks what it promises.
func TestExampleServes(t *testing.T) {
	dir := t.TempDir()
	text, err := os.ReadFile("../../docs/examples/nginx-dav-methods.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "htpasswd"), []byte("alice:"+ctHash(t, "pw")+"\n"), 0o600)
	cfg := strings.NewReplacer("/etc/davit/htpasswd", "{{DIR}}/htpasswd", "/srv/webdav", "{{DIR}}/webdav", `":8080"`, "127.0.0.1:0").Replace(string(text))
	e := ctNewIn(t, dir, cfg)
	e.status(ctReq{method: "PUT", path: "/webdav/a.txt", body: "a"}, 401)
	e.status(ctReq{method: "PUT", path: "/webdav/a.txt", body: "a", user: "alice", pw: "pw"}, 201)
	e.status(ctReq{method: "GET", path: "/webdav/a.txt"}, 200)
	e.status(ctReq{method: "PROPFIND", path: "/webdav/", user: "alice", pw: "pw"}, 405)
	e.status(ctReq{method: "MKCOL", path: "/webdav/d", user: "alice", pw: "pw"}, 201)
}
