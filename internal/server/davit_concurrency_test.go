package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/davit-dav/davit/internal/lock"
	"github.com/davit-dav/davit/internal/props"
	"github.com/davit-dav/davit/internal/server"
	"github.com/davit-dav/davit/multistatus"
)

// TestConcurrentClients runs 100 clients at once, each writing, moving,
// copying, locking and listing in its own folder and in shared ones where
// they race each other, then checks that the folder and the state agree:
// every listed file reads back whole, no temporary file is left, dead
// properties belong to existing resources, and no lock names a missing
// resource. Run it with -race.
func TestConcurrentClients(t *testing.T) {
	const clients = 100
	rounds := 3
	if testing.Short() {
		rounds = 2
	}
	dir := fastTempDir(t)
	var logs syncBuffer
	l := start(t, dir, server.Options{Logger: slogTo(&logs)})
	l.must(201, "MKCOL", "/shared", "")
	for i := range 10 {
		l.must(201, "PUT", fmt.Sprintf("/shared/s%d", i), "seed")
	}
	for i := range 5 {
		l.must(201, "MKCOL", fmt.Sprintf("/shared/d%d", i), "")
	}

	var wg sync.WaitGroup
	var lockRace atomic.Int64
	timing := &timings{m: map[string][2]int64{}}
	errs := make(chan string, 10000)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &racer{l: l, errs: errs, id: i, lockRace: &lockRace, timing: timing}
			c.run(rounds)
		}()
	}
	wg.Wait()
	for k, v := range timing.m {
		t.Logf("%-10s %5d requests, mean %v", k, v[0], time.Duration(v[1]/v[0]))
	}
	close(errs)
	if n := lockRace.Load(); n > 0 {
		t.Errorf("%d lock holders lost their fresh lock or resource to a write that checked the locks before the LOCK", n)
	}
	n := 0
	for e := range errs {
		if n++; n <= 30 {
			t.Error(e)
		}
	}
	if n > 30 {
		t.Errorf("... and %d more", n-30)
	}
	l.idle()
	if s := logs.String(); strings.Contains(s, "level=ERROR") {
		t.Errorf("server errors logged:\n%s", clip(s, 4000))
	}

	// Each client's own files are exactly what it left.
	for i := range clients {
		for r := range rounds {
			want := fmt.Sprintf("client %d round %d, again", i, r)
			for _, p := range []string{fmt.Sprintf("/c%d/m%d", i, r), fmt.Sprintf("/c%d/copy%d", i, r)} {
				if _, b := l.must(200, "GET", p, ""); string(b) != want {
					t.Errorf("%s: %q, want %q", p, b, want)
				}
			}
		}
	}
	consistent(t, l, t.Errorf)
}

// TestConsistencyCheck shows that consistent finds what it looks for: a
// leftover temporary file, a file the listing and the disk disagree on,
// properties and a lock left on resources removed behind the server's back.
func TestConsistencyCheck(t *testing.T) {
	dir := t.TempDir()
	l := start(t, dir, server.Options{})
	l.must(201, "PUT", "/a", "a")
	l.must(201, "PUT", "/b", "b")
	l.must(207, "PROPPATCH", "/a", `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="urn:x">1</x></D:prop></D:set></D:propertyupdate>`)
	l.lockToken("/b")
	for _, name := range []string{"a", "b"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".davit-tmp-leftover"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var found []string
	consistent(t, l, func(format string, args ...any) { found = append(found, fmt.Sprintf(format, args...)) })
	for _, want := range []string{"temporary files left", "props.db: /a", "locks.db", "/.davit-tmp-leftover is on disk but not listed"} {
		ok := false
		for _, f := range found {
			ok = ok || strings.Contains(f, want)
		}
		if !ok {
			t.Errorf("consistent did not report %q; it reported %q", want, found)
		}
	}
}

// racer is one client of TestConcurrentClients.
type racer struct {
	l    *live
	errs chan<- string
	id   int
	// lockRace counts a known race, reported, not failed: the holder of
	// a fresh lock finds its lock gone (412) or its resource gone (PUT
	// 201), because another request that checked the locks before the
	// LOCK then moved or replaced the resource and dropped its locks.
	lockRace *atomic.Int64
	timing   *timings
}

// doHolder is do for a lock holder's write, where the known race may
// show as a 412, or as a 201 for a PUT.
func (c *racer) doHolder(ok []int, method, p, body string, hdr ...string) (*http.Response, []byte) {
	resp, b := c.do(append(ok, http.StatusPreconditionFailed, http.StatusCreated), method, p, body, hdr...)
	if resp != nil && !slices.Contains(ok, resp.StatusCode) {
		c.lockRace.Add(1)
	}
	return resp, b
}

// do sends a request and reports any status outside ok (and every 5xx).
func (c *racer) do(ok []int, method, p, body string, hdr ...string) (*http.Response, []byte) {
	req, err := http.NewRequest(method, c.l.url+p, strings.NewReader(body))
	if err != nil {
		c.errs <- err.Error()
		return nil, nil
	}
	if body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	t0 := time.Now()
	resp, err := c.l.client.Do(req)
	c.timing.add(method, time.Since(t0))
	if err != nil {
		c.errs <- fmt.Sprintf("client %d: %s %s: %v", c.id, method, p, err)
		return nil, nil
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.errs <- fmt.Sprintf("client %d: %s %s: reading the answer: %v", c.id, method, p, err)
		return nil, nil
	}
	good := false
	for _, code := range ok {
		good = good || resp.StatusCode == code
	}
	if !good || resp.StatusCode >= 500 {
		c.errs <- fmt.Sprintf("client %d: %s %s: %d, want one of %v\n%s", c.id, method, p, resp.StatusCode, ok, clip(string(b), 500))
	}
	if resp.StatusCode == http.StatusMultiStatus {
		if _, err := multistatus.Decode(bytes.NewReader(b)); err != nil {
			c.errs <- fmt.Sprintf("client %d: %s %s: 207 does not decode: %v", c.id, method, p, err)
		}
	}
	return resp, b
}

func codes(c ...int) []int { return c }

func (c *racer) run(rounds int) {
	i := c.id
	own := fmt.Sprintf("/c%d", i)
	c.do(codes(201), "MKCOL", own, "")
	pp := func(v string) string {
		return `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:t="urn:t"><D:set><D:prop><t:owner>` + v + `</t:owner></D:prop></D:set></D:propertyupdate>`
	}
	for r := range rounds {
		f := fmt.Sprintf("%s/f%d", own, r)
		content := fmt.Sprintf("client %d round %d", i, r)
		// Own folder: a full write cycle.
		c.do(codes(201), "PUT", f, content)
		c.do(codes(207), "PROPPATCH", f, pp(strconv.Itoa(i)))
		resp, _ := c.do(codes(200), "LOCK", f, lockBody, "Timeout", "Second-600")
		if resp != nil {
			tok := resp.Header.Get("Lock-Token")
			c.do(codes(423), "PUT", f, "without the token")
			c.do(codes(204), "PUT", f, content+", again", "If", "("+tok+")")
			c.do(codes(204), "UNLOCK", f, "", "Lock-Token", tok)
		}
		c.do(codes(201), "MOVE", f, "", "Destination", fmt.Sprintf("%s/m%d", own, r))
		c.do(codes(201), "COPY", fmt.Sprintf("%s/m%d", own, r), "", "Destination", fmt.Sprintf("%s/copy%d", own, r))
		c.do(codes(207), "PROPFIND", own, "", "Depth", "1")
		c.do(codes(201), "MKCOL", fmt.Sprintf("%s/tmp%d", own, r), "")
		c.do(codes(201), "PUT", fmt.Sprintf("%s/tmp%d/x", own, r), "x")
		c.do(codes(204), "DELETE", fmt.Sprintf("%s/tmp%d", own, r), "")

		// Shared files: everyone writes, moves, locks and reads them.
		s := fmt.Sprintf("/shared/s%d", (i+r)%10)
		c.do(codes(201, 204, 423), "PUT", s, content)
		c.do(codes(207, 404, 423), "PROPPATCH", s, pp(strconv.Itoa(i)))
		resp, _ = c.do(codes(200, 201, 423), "LOCK", s, lockBody, "Timeout", "Second-600")
		if resp != nil && resp.StatusCode != 423 {
			tok := resp.Header.Get("Lock-Token")
			c.doHolder(codes(204), "PUT", s, content+" locked", "If", "("+tok+")")
			if r%2 == 0 {
				c.do(codes(204, 409), "UNLOCK", s, "", "Lock-Token", tok)
			} else {
				// Move it away with the lock, and back (the lock stays behind).
				moved := fmt.Sprintf("/shared/moved-%d-%d", i, r)
				c.doHolder(codes(201), "MOVE", s, "", "Destination", moved, "If", "("+tok+")")
				c.do(codes(201, 204, 404, 409, 423), "MOVE", moved, "", "Destination", s, "Overwrite", "T")
				c.do(codes(204, 404, 409, 423), "DELETE", moved, "")
			}
		}
		c.do(codes(207), "PROPFIND", "/shared", "", "Depth", "1")
		c.do(codes(200, 404), "GET", s, "")
		c.do(codes(201, 204, 404, 423), "COPY", s, "", "Destination", fmt.Sprintf("/shared/copy-%d", i%7))

		// Shared folders: created, filled and deleted under each other.
		d := fmt.Sprintf("/shared/d%d", (i+r)%5)
		c.do(codes(201, 405), "MKCOL", d, "")
		c.do(codes(201, 204, 409, 423), "PUT", fmt.Sprintf("%s/x%d", d, i), content)
		c.do(codes(207, 404, 409, 423), "PROPPATCH", d, pp(strconv.Itoa(i)))
		if (i+r)%9 == 0 {
			c.do(codes(204, 207, 404, 409, 423), "DELETE", fmt.Sprintf("/shared/d%d", (i+r+1)%5), "")
		}
		if (i+r)%13 == 0 {
			c.do(codes(201, 204, 207, 404, 409, 423), "MOVE", fmt.Sprintf("/shared/d%d", (i+r+2)%5), "", "Destination", fmt.Sprintf("/shared/d%d", (i+r+3)%5))
		}
		// A lock-null resource, left locked.
		if r == 0 {
			c.do(codes(201, 423), "LOCK", fmt.Sprintf("/shared/null-%d", i%20), lockBody, "Timeout", "Second-600")
		}
		if i%25 == 0 {
			c.do(codes(207), "PROPFIND", "/", "", "Depth", "infinity")
		}
	}
}

// consistent walks the served folder over HTTP and on disk, then reads
// the state store directly, and reports each disagreement to errorf.
func consistent(t *testing.T, l *live, errorf func(format string, args ...any)) {
	t.Helper()
	if tf := tempFiles(t, l.dir); len(tf) != 0 {
		errorf("temporary files left: %v", tf)
	}
	// What the server lists is what the disk holds.
	_, b := l.must(207, "PROPFIND", "/", propfindBody("getcontentlength", "resourcetype", "lockdiscovery"), "Depth", "infinity")
	listed := map[string]bool{}
	for _, r := range ms(t, b).Responses {
		href := r.Hrefs[0]
		p, err := url.PathUnescape(strings.TrimSuffix(href, "/"))
		if err != nil {
			t.Fatal(err)
		}
		if p == "" {
			p = "/"
		}
		listed[p] = true
		rt, _ := propOf(&r, "DAV:", "resourcetype")
		if strings.Contains(string(rt.Inner), "collection") {
			continue
		}
		cl, _ := propOf(&r, "DAV:", "getcontentlength")
		resp, body := l.do("GET", href, "")
		if resp.StatusCode != 200 || strconv.Itoa(len(body)) != string(cl.Inner) {
			errorf("%s: GET %d with %d bytes, listed with %s", href, resp.StatusCode, len(body), cl.Inner)
		}
	}
	onDisk := map[string]bool{"/": true}
	filepath.WalkDir(l.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(l.dir, p)
		if rel == server.StateDir {
			return filepath.SkipDir
		}
		if rel != "." {
			onDisk["/"+filepath.ToSlash(rel)] = true
		}
		return nil
	})
	for p := range onDisk {
		if !listed[p] {
			errorf("%s is on disk but not listed", p)
		}
	}
	for p := range listed {
		if !onDisk[p] {
			errorf("%s is listed but not on disk", p)
		}
	}
	l.stop()

	// Properties and locks belong to existing resources. Locks on a
	// missing resource are allowed only where a lock-null LOCK made an
	// empty file (which then exists), so none may name a missing path.
	for _, db := range []struct{ file, bucket string }{{"props.db", props.BoltBucket}, {"locks.db", lock.BoltBucket}} {
		bdb, err := bbolt.Open(filepath.Join(l.dir, server.StateDir, db.file), 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		bdb.View(func(tx *bbolt.Tx) error {
			bk := tx.Bucket([]byte(db.bucket))
			if bk == nil {
				return nil
			}
			return bk.ForEach(func(k, v []byte) error {
				var p string
				if db.bucket == props.BoltBucket {
					p, _, _ = strings.Cut(string(k), "\x00")
				} else {
					var rec struct {
						Root    string    `json:"root"`
						Expires time.Time `json:"expires"`
					}
					if err := json.Unmarshal(v, &rec); err != nil {
						errorf("lock %s: %v", k, err)
						return nil
					}
					p = rec.Root
				}
				if !onDisk[p] {
					errorf("%s: %s on the missing resource %s", db.file, strings.ReplaceAll(string(k), "\x00", " "), p)
				}
				return nil
			})
		})
		bdb.Close()
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

var _ = path.Join

// timings sums the latency of requests per method.
type timings struct {
	mu sync.Mutex
	m  map[string][2]int64
}

func (t *timings) add(k string, d time.Duration) {
	t.mu.Lock()
	v := t.m[k]
	v[0]++
	v[1] += int64(d)
	t.m[k] = v
	t.mu.Unlock()
}

// fastTempDir is a temporary folder on tmpfs when there is one: the test is
// about races, and the property store's fsyncs on a disk make it several
// times slower.
func fastTempDir(t *testing.T) string {
	t.Helper()
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "davit-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}
