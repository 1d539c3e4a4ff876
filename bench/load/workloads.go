package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davit-dav/davit/multistatus"
)

// The data set every server serves (see mkdata).
const (
	smallSize   = 4 << 10
	bigSize     = 100 << 20
	entrySize   = 64 // bytes in each file of the listing folders
	putSize     = 1 << 20
	mixedPut    = 64 << 10
	mixedClient = 64
	moveClient  = 8 // connections of the move workload, each with its file
	lockClient  = 8 // connections of the lock workload, each with its file
)

// A listing folder and the number of files in it.
type listing struct {
	dir   string
	files int
}

var (
	dir100  = listing{"/d100/", 100}
	dir10k  = listing{"/d10k/", 10_000}
	dir100k = listing{"/d100k/", 100_000}
	// dir100p's files get the dead properties Windows Explorer sets on
	// each file it uploads (winProps), through each server's PROPPATCH.
	dir100p = listing{"/d100p/", 100}
	// dir100l's files are each locked (an exclusive write lock), as the
	// documents open in Office are.
	dir100l = listing{"/d100l/", 100}
)

func fileName(i int) string { return fmt.Sprintf("f%06d.txt", i) }

// Request bodies. The named properties are four that every peer serves.
var (
	allpropBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>`)
	namedBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/><D:resourcetype/><D:getetag/></D:prop></D:propfind>`)
	// winProps is the PROPPATCH Windows Explorer's WebDAV redirector sends
	// after each upload (see CLIENTS.md): four properties in Microsoft's
	// namespace, which the server keeps as dead properties.
	winProps = winPropsAt("Mon, 07 Dec 2026 09:30:00 GMT")
	lockBody = []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>davit-bench</D:owner></D:lockinfo>`)
)

// winPropsAt is the PROPPATCH Windows Explorer's WebDAV redirector sends
// after each upload (see CLIENTS.md), with its times set to date: four
// properties in Microsoft's namespace, which the server keeps as dead
// properties.
func winPropsAt(date string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<D:propertyupdate xmlns:D="DAV:" xmlns:Z="` + winNS + `"><D:set><D:prop>` +
		`<Z:Win32CreationTime>` + date + `</Z:Win32CreationTime>` +
		`<Z:Win32LastAccessTime>` + date + `</Z:Win32LastAccessTime>` +
		`<Z:Win32LastModifiedTime>` + date + `</Z:Win32LastModifiedTime>` +
		`<Z:Win32FileAttributes>00000020</Z:Win32FileAttributes>` +
		`</D:prop></D:set></D:propertyupdate>`)
}

// workload describes one measurement. A throughput workload runs conns
// connections per server, each repeating the op that mk makes for it; a
// timed one (conns 0) repeats the single request that one makes.
type workload struct {
	name  string // key, as in -workloads
	title string // table label
	unit  string
	// higher reports whether a higher figure is better (req/s, MB/s);
	// otherwise lower is (seconds).
	higher bool
	conns  int
	mk     func(worker int) op
	one    func() op
	// setup, when set, prepares a server for the workload before its
	// warm-up; an error wrapping errUnsupported means the server lacks
	// the feature, which the table shows as such rather than as a failure.
	setup func(addr string, timeout time.Duration) error
	// extra marks a workload that is not one of issue 5's: it has a row
	// and a ratio, but no target.
	extra bool
}

var workloads = []workload{
	{name: "get4k", title: "GET 4 KiB file, 32 conns", unit: "req/s", higher: true, conns: 32,
		mk: func(int) op { return getOp("/small.bin", smallSize) }},
	{name: "get4k-304", title: "GET 4 KiB revalidated (If-None-Match, 304), 32 conns", unit: "req/s", higher: true, conns: 32,
		mk: func(int) op { return revalidateOp("/small.bin", smallSize) }, extra: true},
	{name: "get100m", title: "GET 100 MiB file, 1 conn", unit: "MB/s", higher: true, conns: 1,
		mk: func(int) op { return getOp("/big.bin", bigSize) }},
	{name: "put1m", title: "PUT 1 MiB, own path, 8 conns", unit: "req/s", higher: true, conns: 8,
		mk: func(w int) op { return putOp(fmt.Sprintf("/put/c%02d.bin", w), putBody, nil) }},
	{name: "pf0-all", title: "PROPFIND D0 file, allprop, 32 conns", unit: "req/s", higher: true, conns: 32,
		mk: func(int) op { return propfindOp("/small.bin", "0", allpropBody, 1) }},
	{name: "pf0-named", title: "PROPFIND D0 file, 4 named, 32 conns", unit: "req/s", higher: true, conns: 32,
		mk: func(int) op { return propfindOp("/small.bin", "0", namedBody, 1) }},
	{name: "pf0-404", title: "PROPFIND D0 on a missing name (Finder's probes: 404), 32 conns", unit: "req/s", higher: true, conns: 32,
		mk: func(int) op { return missingOp("PROPFIND", "/._small.bin", namedBody) }, extra: true},
	{name: "pf1-100-all", title: "PROPFIND D1 100 files, allprop, 8 conns", unit: "req/s", higher: true, conns: 8,
		mk: func(int) op { return propfindOp(dir100.dir, "1", allpropBody, dir100.files+1) }},
	{name: "pf1-100-named", title: "PROPFIND D1 100 files, 4 named, 8 conns", unit: "req/s", higher: true, conns: 8,
		mk: func(int) op { return propfindOp(dir100.dir, "1", namedBody, dir100.files+1) }},
	{name: "pf1-100-dead", title: "PROPFIND D1 100 files with Windows' dead properties, allprop, 8 conns", unit: "req/s", higher: true, conns: 8,
		mk: func(int) op {
			return propfindMarkedOp(dir100p.dir, "1", allpropBody, dir100p.files+1, "Win32FileAttributes", dir100p.files)
		},
		setup: func(addr string, timeout time.Duration) error { return setDeadProps(addr, dir100p, winProps, timeout) }},
	{name: "pf1-100-locked", title: "PROPFIND D1 100 locked files, allprop, 8 conns", unit: "req/s", higher: true, conns: 8,
		mk: func(int) op {
			return propfindMarkedOp(dir100l.dir, "1", allpropBody, dir100l.files+1, "activelock", dir100l.files)
		},
		setup: lockAll(dir100l)},
	{name: "proppatch", title: "PROPPATCH of Windows' 4 properties, own file, 8 conns", unit: "req/s", higher: true, conns: 8,
		mk: func(w int) op {
			// Two bodies with different times, in turn, so that every
			// request changes what is stored.
			return proppatchOp(dir100p.dir+fileName(w), [2][]byte{
				winPropsAt("Mon, 07 Dec 2026 10:00:00 GMT"),
				winPropsAt(fmt.Sprintf("Mon, 07 Dec 2026 10:%02d:00 GMT", w+1)),
			})
		},
		setup: func(addr string, timeout time.Duration) error { return setDeadProps(addr, dir100p, winProps, timeout) },
		extra: true},
	{name: "move", title: "MOVE of a file to a new name and back, own file, 8 conns", unit: "req/s", higher: true, conns: moveClient,
		mk:    func(w int) op { return moveOp(fmt.Sprintf("/mv/c%02d-0.txt", w), fmt.Sprintf("/mv/c%02d-1.txt", w)) },
		extra: true},
	{name: "lock", title: "LOCK and UNLOCK of a file, own file, 8 conns", unit: "req/s", higher: true, conns: lockClient,
		mk:    func(w int) op { return lockOp(fmt.Sprintf("/lk/c%02d.txt", w)) },
		extra: true},
	{name: "pf1-10k-all", title: "PROPFIND D1 10,000 files, allprop", unit: "s",
		one: func() op { return propfindOp(dir10k.dir, "1", allpropBody, dir10k.files+1) }},
	{name: "pf1-10k-named", title: "PROPFIND D1 10,000 files, 4 named", unit: "s",
		one: func() op { return propfindOp(dir10k.dir, "1", namedBody, dir10k.files+1) }},
	{name: "pf1-100k-all", title: "PROPFIND D1 100,000 files, allprop", unit: "s",
		one: func() op { return propfindOp(dir100k.dir, "1", allpropBody, dir100k.files+1) }},
	{name: "pf1-100k-named", title: "PROPFIND D1 100,000 files, 4 named", unit: "s",
		one: func() op { return propfindOp(dir100k.dir, "1", namedBody, dir100k.files+1) }},
	{name: "mixed", title: "mixed: 64 clients (GET, PUT, PROPFIND, LOCK)", unit: "req/s", higher: true, conns: mixedClient,
		mk: mixedOp},
}

var putBody = randomBytes(putSize, 1)

func findWorkload(name string) *workload {
	for i := range workloads {
		if workloads[i].name == name {
			return &workloads[i]
		}
	}
	return nil
}

// result is the outcome of one workload on one server.
type result struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	Err  string `json:"err,omitempty"`
	// Unsupported says why the server lacks what the workload needs (its
	// setup was refused); the workload did not run on it, and OK is false.
	Unsupported string  `json:"unsupported,omitempty"`
	Value       float64 `json:"value"` // in the workload's unit
	Unit        string  `json:"unit"`
	// Requests completed in the measured time, and errors over the whole
	// workload (warm-up included).
	Requests int64 `json:"requests"`
	Errors   int64 `json:"errors"`
	// BodyBytes is the body size of one response (timed workloads).
	BodyBytes int64 `json:"body_bytes,omitempty"`
	// BytesPerEntry is body bytes per DAV:response (PROPFIND only).
	BytesPerEntry float64 `json:"bytes_per_entry,omitempty"`
	// PeakRSSKiB is the server's peak resident size during the workload.
	PeakRSSKiB int64 `json:"peak_rss_kib"`
	// ClientCPU and ServerCPU are the CPU used during the measured
	// window as a fraction of one core: a client near 1.0 while the
	// server is well below means the load tool limited the figure.
	ClientCPU float64 `json:"client_cpu"`
	ServerCPU float64 `json:"server_cpu"`
	// ServerSys is the part of ServerCPU spent in the kernel (system
	// calls, the network stack): the rest is the server's own code.
	ServerSys float64 `json:"server_sys,omitempty"`
	Seconds   float64 `json:"seconds"` // measured time
	// PerCPU is the figure per second of the server's CPU time: requests
	// (or MB) per CPU second for throughput workloads, CPU seconds per
	// listing for timed ones. On a machine shared with other work, where a
	// pinned server gets an ever changing share of its core, it is the
	// steadier measure of a server's own cost; it flatters a server that
	// waits on the disk (fsync) rather than computes.
	PerCPU float64 `json:"per_cpu"`
	// LatP50 and LatP99 are the median and the 99th percentile of the
	// time one op took (one request, or a lock sequence), in seconds,
	// over the measured windows of a throughput workload.
	LatP50 float64 `json:"lat_p50,omitempty"`
	LatP99 float64 `json:"lat_p99,omitempty"`
}

// op performs one unit of work on c: one request or a short sequence. It
// returns the requests made, the body bytes read and the DAV:response
// elements counted.
type op func(c *conn, rng *rand.Rand) (reqs int, bytes int64, entries int, err error)

func getOp(path string, size int64) op {
	req := &request{method: "GET", path: path}
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		if err := c.do(req, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.status != 200 || resp.bytes != size {
			return 1, resp.bytes, 0, fmt.Errorf("GET %s: status %d, %d bytes (want 200, %d bytes)", path, resp.status, resp.bytes, size)
		}
		return 1, resp.bytes, 0, nil
	}
}

// revalidateOp is what a client holding a copy does (davfs2, browsers):
// a GET with If-None-Match carrying the ETag it has, answered 304 with
// no body. The first call of each worker fetches the file and its ETag.
func revalidateOp(path string, size int64) op {
	var cond *request
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		if cond == nil {
			if err := c.do(&request{method: "GET", path: path}, &resp); err != nil {
				return 1, 0, 0, fmt.Errorf("GET %s: %w", path, err)
			}
			if resp.status != 200 || resp.bytes != size || resp.etag == "" {
				return 1, resp.bytes, 0, fmt.Errorf("GET %s: status %d, %d bytes, ETag %q (want 200, %d bytes, an ETag)", path, resp.status, resp.bytes, resp.etag, size)
			}
			cond = &request{method: "GET", path: path, header: []string{"If-None-Match: " + resp.etag}}
			return 1, resp.bytes, 0, nil
		}
		if err := c.do(cond, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.status != 304 || resp.bytes != 0 {
			return 1, resp.bytes, 0, fmt.Errorf("GET %s with If-None-Match: status %d, %d bytes (want 304, none)", path, resp.status, resp.bytes)
		}
		return 1, 0, 0, nil
	}
}

// missingOp asks for a name that does not exist and wants a 404, as
// macOS Finder does for the ._ and .DS_Store files it probes.
func missingOp(method, path string, body []byte) op {
	req := &request{method: method, path: path, body: body,
		header: []string{"Depth: 0", "Content-Type: application/xml; charset=utf-8"}}
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		if err := c.do(req, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("%s %s: %w", method, path, err)
		}
		if resp.status != 404 {
			return 1, resp.bytes, 0, fmt.Errorf("%s %s: status %d (want 404)", method, path, resp.status)
		}
		return 1, resp.bytes, 0, nil
	}
}

func putOp(path string, body []byte, header []string) op {
	req := &request{method: "PUT", path: path, body: body, header: header}
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		if err := c.do(req, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("PUT %s: %w", path, err)
		}
		if resp.status != 200 && resp.status != 201 && resp.status != 204 {
			return 1, 0, 0, fmt.Errorf("PUT %s: status %d", path, resp.status)
		}
		return 1, int64(len(body)), 0, nil
	}
}

func propfindOp(path, depth string, body []byte, entries int) op {
	return propfindMarkedOp(path, depth, body, entries, "", 0)
}

// propfindMarkedOp is propfindOp that also wants marks closing tags of the
// local name mark in each answer (when mark is set): a property the listed
// resources carry, which a server that dropped it would not return.
func propfindMarkedOp(path, depth string, body []byte, entries int, mark string, marks int) op {
	req := &request{method: "PROPFIND", path: path, body: body, countEntries: true, countMark: mark,
		header: []string{"Depth: " + depth, "Content-Type: application/xml; charset=utf-8"}}
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		if err := c.do(req, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("PROPFIND %s: %w", path, err)
		}
		if resp.status != 207 || resp.entries != entries || resp.marks != marks {
			got := fmt.Sprintf("status %d, %d responses", resp.status, resp.entries)
			want := fmt.Sprintf("207, %d", entries)
			if mark != "" {
				got += fmt.Sprintf(", %d %s", resp.marks, mark)
				want += fmt.Sprintf(", %d", marks)
			}
			return 1, resp.bytes, resp.entries, fmt.Errorf("PROPFIND %s Depth %s: %s (want %s)", path, depth, got, want)
		}
		return 1, resp.bytes, resp.entries, nil
	}
}

// proppatchOp sets dead properties on path, with bodies[0] and bodies[1]
// in turn, and wants each answered as proppatchCheck wants it.
func proppatchOp(path string, bodies [2][]byte) op {
	var reqs [2]*request
	for i, b := range bodies {
		reqs[i] = &request{method: "PROPPATCH", path: path, body: b, keepBody: true,
			header: []string{"Content-Type: application/xml; charset=utf-8"}}
	}
	next := 0
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		req := reqs[next]
		next ^= 1
		if err := c.do(req, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("PROPPATCH %s: %w", path, err)
		}
		if resp.bytes > int64(len(resp.body)) {
			return 1, resp.bytes, 0, fmt.Errorf("PROPPATCH %s: an answer of %d bytes", path, resp.bytes)
		}
		if err := proppatchCheck(resp.status, bytes.NewReader(resp.body)); err != nil {
			return 1, resp.bytes, 0, fmt.Errorf("PROPPATCH %s: %w", path, err)
		}
		return 1, resp.bytes, 0, nil
	}
}

// moveOp renames a to b and, the next time, b to a: what a client does
// to rename a file (Explorer, Finder, rclone), each MOVE to a name that
// is free, wanting 201 (or 204: nginx answers so, where RFC 4918 §9.9.4
// has 204 for a destination that existed). The Destination is an
// absolute URI, as RFC 4918 has clients send it (Apache takes no other
// form). A round may end between the two: the first MOVE of an op that
// finds no source turns round, once (a 404; nginx and x/net look at the
// destination first and answer 412).
func moveOp(a, b string) op {
	var reqs [2]*request
	flip, started := 0, false
	var resp response
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		if reqs[0] == nil {
			reqs[0] = &request{method: "MOVE", path: a, header: []string{"Destination: http://" + c.addr + b, "Overwrite: F"}}
			reqs[1] = &request{method: "MOVE", path: b, header: []string{"Destination: http://" + c.addr + a, "Overwrite: F"}}
		}
		for n := 1; ; n++ { // n: the requests made
			req := reqs[flip]
			if err := c.do(req, &resp); err != nil {
				return n, 0, 0, fmt.Errorf("MOVE %s: %w", req.path, err)
			}
			if !started && (resp.status == http.StatusNotFound || resp.status == http.StatusPreconditionFailed) {
				started, flip = true, flip^1
				continue
			}
			started = true
			if resp.status != http.StatusCreated && resp.status != http.StatusNoContent {
				return n, resp.bytes, 0, fmt.Errorf("MOVE %s: status %d (want 201)", req.path, resp.status)
			}
			flip ^= 1
			return n, resp.bytes, 0, nil
		}
	}
}

// lockOp takes an exclusive lock on p and gives it back (LOCK, then UNLOCK
// with its token), as Office and Explorer lock a document while it is
// open; it counts two requests. A round cut between the two leaves p
// locked: the next LOCK's 423 then unlocks with the token kept, once,
// and locks again.
func lockOp(p string) op {
	lock := &request{method: "LOCK", path: p, body: lockBody,
		header: []string{"Depth: 0", "Timeout: Second-60", "Content-Type: application/xml; charset=utf-8"}}
	held := "" // the token of the last lock taken, until it is given back
	var resp response
	unlock := func(c *conn) error {
		req := &request{method: "UNLOCK", path: p, header: []string{"Lock-Token: <" + held + ">"}}
		if err := c.do(req, &resp); err != nil {
			return fmt.Errorf("UNLOCK %s: %w", p, err)
		}
		if resp.status != http.StatusNoContent && resp.status != http.StatusOK {
			return fmt.Errorf("UNLOCK %s: status %d (want 204)", p, resp.status)
		}
		held = ""
		return nil
	}
	return func(c *conn, _ *rand.Rand) (int, int64, int, error) {
		n := 0 // the requests made
		for {
			n++
			if err := c.do(lock, &resp); err != nil {
				return n, 0, 0, fmt.Errorf("LOCK %s: %w", p, err)
			}
			if resp.status == http.StatusLocked && held != "" && n == 1 {
				n++
				if err := unlock(c); err != nil {
					return n, 0, 0, err
				}
				continue
			}
			if resp.status != http.StatusOK || resp.lockToken == "" {
				return n, resp.bytes, 0, fmt.Errorf("LOCK %s: status %d, lock token %q (want 200 and a token)", p, resp.status, resp.lockToken)
			}
			break
		}
		held = resp.lockToken
		n++
		return n, resp.bytes, 0, unlock(c)
	}
}

// errUnsupported marks a server that lacks what a workload needs.
var errUnsupported = errors.New("not supported")

// setDeadProps sends body as a PROPPATCH to every file of l, one after the
// other on one connection, and wants each property set (a 207 whose every
// propstat is 200, or a 200 or 204). A server that refuses the method or
// a property (405, 501, or a 403 propstat, as servers that keep no dead
// properties answer) does not support the workload. Then it reads the
// first file's properties back, and wants all of them answered 200. The
// answers are read with Davit's multistatus package, the reader its
// client is built on, checked against other servers' 207s.
func setDeadProps(addr string, l listing, body []byte, timeout time.Duration) error {
	client := &http.Client{Timeout: timeout}
	defer client.CloseIdleConnections()
	for i := range l.files {
		url := "http://" + addr + l.dir + fileName(i)
		req, err := http.NewRequest("PROPPATCH", url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/xml; charset=utf-8")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("PROPPATCH %s: %w", l.dir+fileName(i), err)
		}
		err = proppatchResult(resp)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("PROPPATCH %s: %w", l.dir+fileName(i), err)
		}
	}
	// A server may say yes and keep less: read the first file's back.
	want, err := propNames(bytes.NewReader(body), winNS)
	if err != nil {
		return err
	}
	first := l.dir + fileName(0)
	req, err := http.NewRequest("PROPFIND", "http://"+addr+first, bytes.NewReader(allpropBody))
	if err != nil {
		return err
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("PROPFIND %s: %w", first, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusMultiStatus {
		return fmt.Errorf("PROPFIND %s: status %d (want 207)", first, resp.StatusCode)
	}
	ms, err := multistatus.Decode(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("PROPFIND %s: %w", first, err)
	}
	var got []string // the properties in winNS answered 200
	for _, r := range ms.Responses {
		for _, ps := range r.Propstats {
			for _, pr := range ps.Props {
				if ps.Status.Code == http.StatusOK && pr.Name.Space == winNS {
					got = append(got, pr.Name.Local)
				}
			}
		}
	}
	var missing []string
	for _, n := range want {
		if !slices.Contains(got, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("PROPPATCH %s succeeded, but a PROPFIND returns %d of the %d properties set (missing: %s)",
			first, len(want)-len(missing), len(want), strings.Join(missing, ", "))
	}
	return nil
}

// winNS is the namespace of Windows' properties.
const winNS = "urn:schemas-microsoft-com:"

// propNames returns the local names of the elements in namespace space
// in the XML document r, in order, each once.
func propNames(r io.Reader, space string) ([]string, error) {
	var names []string
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == space && !slices.Contains(names, se.Name.Local) {
			names = append(names, se.Name.Local)
		}
	}
}

// proppatchResult reads a PROPPATCH answer: nil when every property was
// set, an error wrapping errUnsupported when the server refused the
// method or a property, another error for anything else.
func proppatchResult(resp *http.Response) error {
	return proppatchCheck(resp.StatusCode, resp.Body)
}

// proppatchCheck is proppatchResult on an answer's status and body.
func proppatchCheck(status int, body io.Reader) error {
	switch status {
	case http.StatusOK, http.StatusNoContent:
		// lighttpd answers 204 when every property was set; the PROPFIND
		// of the workload checks that they were kept.
		return nil
	case http.StatusMultiStatus:
	case http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusForbidden:
		return fmt.Errorf("status %d: %w", status, errUnsupported)
	default:
		return fmt.Errorf("status %d (want 207)", status)
	}
	ms, err := multistatus.Decode(io.LimitReader(body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the 207: %w", err)
	}
	var statuses []multistatus.Status
	for _, r := range ms.Responses {
		if !r.Status.IsZero() {
			statuses = append(statuses, r.Status)
		}
		for _, ps := range r.Propstats {
			statuses = append(statuses, ps.Status)
		}
	}
	if len(statuses) == 0 {
		return errors.New("a 207 without a status")
	}
	var bad error
	for _, st := range statuses {
		switch st.Code {
		case http.StatusOK:
		case http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return fmt.Errorf("a property answered %q: %w", st, errUnsupported)
		default:
			if bad == nil {
				bad = fmt.Errorf("a property answered %q (want 200)", st)
			}
		}
	}
	return bad
}

// lockAll returns the setup that holds an exclusive write lock on every
// file of l: taken on a server's first setup, refreshed on the next ones
// (the rounds of a run), so that no lock runs out while it is measured.
// Then it wants the first file's lock in its allprop answer, where RFC
// 4918 puts it (DAV:lockdiscovery is a live property of this document).
func lockAll(l listing) func(addr string, timeout time.Duration) error {
	var mu sync.Mutex
	tokens := map[string][]string{} // by server address
	return func(addr string, timeout time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		c := newConn(addr, timeout)
		defer c.close()
		held := tokens[addr]
		var resp response
		for i := range l.files {
			p := l.dir + fileName(i)
			req := &request{method: "LOCK", path: p, body: lockBody,
				header: []string{"Depth: 0", "Timeout: Second-3600", "Content-Type: application/xml; charset=utf-8"}}
			if i < len(held) {
				req = &request{method: "LOCK", path: p, header: []string{"Timeout: Second-3600", "If: (<" + held[i] + ">)"}}
			}
			if err := c.do(req, &resp); err != nil {
				return fmt.Errorf("LOCK %s: %w", p, err)
			}
			switch {
			case resp.status == http.StatusMethodNotAllowed || resp.status == http.StatusNotImplemented:
				return fmt.Errorf("LOCK %s: status %d: %w", p, resp.status, errUnsupported)
			case resp.status != http.StatusOK && resp.status != http.StatusCreated:
				return fmt.Errorf("LOCK %s: status %d (want 200)", p, resp.status)
			case i >= len(held) && resp.lockToken == "":
				return fmt.Errorf("LOCK %s: no Lock-Token", p)
			case i >= len(held):
				held = append(held, resp.lockToken)
			}
		}
		tokens[addr] = held
		// A server may take locks and not show them: read the first
		// file's back, as the workload will.
		first := l.dir + fileName(0)
		check := &request{method: "PROPFIND", path: first, body: allpropBody, countEntries: true, countMark: "activelock",
			header: []string{"Depth: 0", "Content-Type: application/xml; charset=utf-8"}}
		if err := c.do(check, &resp); err != nil {
			return fmt.Errorf("PROPFIND %s: %w", first, err)
		}
		if resp.status != http.StatusMultiStatus || resp.marks != 1 {
			return fmt.Errorf("LOCK %s succeeded, but a PROPFIND allprop answers %d with %d DAV:activelock (want 207 with 1)", first, resp.status, resp.marks)
		}
		return nil
	}
}

// mixedOp is client w's share of the mixed load: half reads of small
// files, a fifth listings, the rest writes of its own file and lock,
// write, unlock sequences on its own lock file.
func mixedOp(w int) op {
	gets := make([]op, dir100.files)
	for i := range gets {
		gets[i] = getOp(dir100.dir+fileName(i), entrySize)
	}
	list := propfindOp(dir100.dir, "1", namedBody, dir100.files+1)
	write := putOp(fmt.Sprintf("/mixed/c%02d.bin", w), randomBytes(mixedPut, uint64(w)), nil)
	lockPath := fmt.Sprintf("/mixed/c%02d.lock", w)
	lockReq := &request{method: "LOCK", path: lockPath, body: lockBody,
		header: []string{"Depth: 0", "Timeout: Second-60", "Content-Type: application/xml; charset=utf-8"}}
	lockedBody := randomBytes(smallSize, uint64(w)+100)
	var resp response
	return func(c *conn, rng *rand.Rand) (int, int64, int, error) {
		switch r := rng.IntN(100); {
		case r < 50:
			return gets[rng.IntN(len(gets))](c, rng)
		case r < 70:
			return list(c, rng)
		case r < 85:
			return write(c, rng)
		}
		if err := c.do(lockReq, &resp); err != nil {
			return 1, 0, 0, fmt.Errorf("LOCK %s: %w", lockPath, err)
		}
		if (resp.status != 200 && resp.status != 201) || resp.lockToken == "" {
			return 1, 0, 0, fmt.Errorf("LOCK %s: status %d, lock token %q", lockPath, resp.status, resp.lockToken)
		}
		token := resp.lockToken
		_, n, _, err := putOp(lockPath, lockedBody, []string{"If: (<" + token + ">)"})(c, rng)
		unlock := &request{method: "UNLOCK", path: lockPath, header: []string{"Lock-Token: <" + token + ">"}}
		if uerr := c.do(unlock, &resp); uerr != nil {
			return 3, n, 0, fmt.Errorf("UNLOCK %s: %w", lockPath, uerr)
		}
		if err != nil {
			return 3, n, 0, fmt.Errorf("under a lock: %w", err)
		}
		if resp.status != 204 && resp.status != 200 {
			return 3, n, 0, fmt.Errorf("UNLOCK %s: status %d", lockPath, resp.status)
		}
		return 3, n, 0, nil
	}
}

// engine runs workloads on several servers at once, interleaved: each
// server in turn gets the load for a short slice of time, round after
// round, until each has had the whole duration. Whatever else the machine
// is doing then weighs on every server alike, so the ratios of one run
// hold even when the absolute figures swing.
type engine struct {
	duration time.Duration
	warmup   time.Duration
	slice    time.Duration
	timeout  time.Duration
}

// side is one server's part of an interleaved throughput workload: its
// workers, which run only while the side is open, and its counters.
type side struct {
	t *target

	reqs, bytes, entries, errs atomic.Int64
	firstErr                   atomic.Value

	mu       sync.Mutex
	cond     *sync.Cond
	open     bool
	measured bool // the open window counts
	stop     bool
	inflight int
	lat      []time.Duration // each op's time in measured windows

	// Sums over the measured windows.
	mReqs, mBytes, mEntries int64
	mWall, mCPU, mClient    time.Duration
	mSys                    time.Duration
}

func (s *side) worker(o op, seed uint64, timeout time.Duration, wg *sync.WaitGroup) {
	defer wg.Done()
	c := newConn(s.t.addr, timeout)
	defer c.close()
	rng := rand.New(rand.NewPCG(seed, 42))
	for {
		s.mu.Lock()
		for !s.open && !s.stop {
			s.cond.Wait()
		}
		if s.stop {
			s.mu.Unlock()
			return
		}
		s.inflight++
		measured := s.measured
		s.mu.Unlock()
		t0 := time.Now()
		n, nb, ne, err := o(c, rng)
		took := time.Since(t0)
		if err != nil {
			s.errs.Add(1)
			s.firstErr.CompareAndSwap(nil, err.Error())
			c.close()
		} else {
			s.reqs.Add(int64(n))
			s.bytes.Add(nb)
			s.entries.Add(int64(ne))
		}
		s.mu.Lock()
		if measured && err == nil {
			s.lat = append(s.lat, took)
		}
		if s.inflight--; s.inflight == 0 && !s.open {
			s.cond.Broadcast()
		}
		s.mu.Unlock()
	}
}

// window opens the side for d, then closes it and waits until its
// requests in flight are done; measured windows add to the sums (the time
// spent finishing those requests included, as are their counts).
func (s *side) window(d time.Duration, measured bool) {
	r0, b0, e0 := s.reqs.Load(), s.bytes.Load(), s.entries.Load()
	c0, t0 := selfCPU(), time.Now()
	s0, k0 := s.t.srv.cpu()
	s.mu.Lock()
	s.open, s.measured = true, measured
	s.cond.Broadcast()
	s.mu.Unlock()
	time.Sleep(d)
	s.mu.Lock()
	s.open = false
	for s.inflight > 0 {
		s.cond.Wait()
	}
	s.mu.Unlock()
	if measured {
		s.mReqs += s.reqs.Load() - r0
		s.mBytes += s.bytes.Load() - b0
		s.mEntries += s.entries.Load() - e0
		s.mWall += time.Since(t0)
		s1, k1 := s.t.srv.cpu()
		s.mCPU += s1 - s0
		s.mSys += k1 - k0
		s.mClient += selfCPU() - c0
	}
}

// run runs workload w on the targets and returns one result per target.
// A workload with a setup runs only on the servers whose setup succeeded;
// the others get a failed result, or an unsupported one.
func (e *engine) run(w *workload, targets []*target) []result {
	res := make([]result, len(targets))
	var ready []*target
	var at []int // ready[k] is targets[at[k]]
	for i, t := range targets {
		if w.setup != nil {
			if err := w.setup(t.addr, e.timeout); err != nil {
				res[i] = result{Errors: 1, Err: "setup: " + err.Error()}
				if errors.Is(err, errUnsupported) {
					res[i] = result{Unsupported: err.Error()}
				}
				continue
			}
		}
		ready = append(ready, t)
		at = append(at, i)
	}
	for _, t := range ready {
		t.srv.resetPeak()
	}
	var got []result
	switch {
	case len(ready) == 0:
	case w.conns > 0:
		got = e.throughput(w, ready)
	default:
		got = e.timed(w, ready)
	}
	for k, t := range ready {
		res[at[k]] = got[k]
		res[at[k]].PeakRSSKiB = t.srv.peakKiB()
	}
	for i := range res {
		res[i].Name, res[i].Unit = w.name, w.unit
	}
	return res
}

func (e *engine) throughput(w *workload, targets []*target) []result {
	sides := make([]*side, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		s := &side{t: t}
		s.cond = sync.NewCond(&s.mu)
		sides[i] = s
		for k := range w.conns {
			wg.Add(1)
			go s.worker(w.mk(k), uint64(k), e.timeout, &wg)
		}
	}
	for _, s := range sides {
		s.window(e.warmup, false)
	}
	// Each round starts with the next server, so that no server always
	// follows the same one (the machine's state after a slice, such as
	// its caches and socket memory, is then shared out alike).
	slice := min(e.slice, e.duration)
	for n, round := time.Duration(0), 0; n < e.duration; n, round = n+slice, round+1 {
		for i := range sides {
			sides[(i+round)%len(sides)].window(slice, true)
		}
	}
	for _, s := range sides {
		s.mu.Lock()
		s.stop = true
		s.cond.Broadcast()
		s.mu.Unlock()
	}
	wg.Wait()
	out := make([]result, len(sides))
	for i, s := range sides {
		el := s.mWall.Seconds()
		r := result{Requests: s.mReqs, Errors: s.errs.Load(), Seconds: el,
			ClientCPU: s.mClient.Seconds() / el, ServerCPU: s.mCPU.Seconds() / el, ServerSys: s.mSys.Seconds() / el}
		r.Value = float64(s.mReqs) / el
		if w.unit == "MB/s" {
			r.Value = float64(s.mBytes) / el / 1e6
		}
		if s.mEntries > 0 {
			r.BytesPerEntry = float64(s.mBytes) / float64(s.mEntries)
		}
		if r.ServerCPU > 0 {
			r.PerCPU = r.Value / r.ServerCPU
		}
		r.LatP50, r.LatP99 = percentile(s.lat, 0.50), percentile(s.lat, 0.99)
		r.OK = r.Errors == 0 && r.Requests > 0
		if msg, ok := s.firstErr.Load().(string); ok {
			r.Err = msg
		} else if r.Requests == 0 {
			r.Err = "no request completed in the measured time"
		}
		out[i] = r
	}
	return out
}

// percentile returns the q-quantile of d in seconds (nearest rank), 0 for
// none; it sorts d.
func percentile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[max(i, 0)].Seconds()
}

// timed runs the workload's single request on one connection per server,
// one server after the other: first once each as a warm-up, then round
// after round until each server has spent the duration on it, and reports
// the median time of one request. A warm-up request that took the whole
// duration or longer is that server's measurement (n=1), which bounds the
// time a slow server takes.
func (e *engine) timed(w *workload, targets []*target) []result {
	type state struct {
		c      *conn
		o      op
		times  []float64
		cpu    time.Duration
		client time.Duration
		wall   time.Duration
		done   bool
		res    result
	}
	st := make([]*state, len(targets))
	one := func(i int) (time.Duration, bool) {
		s, t := st[i], targets[i]
		c0, t0 := selfCPU(), time.Now()
		s0, _ := t.srv.cpu()
		_, nb, ne, err := s.o(s.c, nil)
		d := time.Since(t0)
		if err != nil {
			s.res.Errors++
			if s.res.Err == "" {
				s.res.Err = err.Error()
			}
			s.done = true
			return d, false
		}
		s.res.BodyBytes = nb
		if ne > 0 {
			s.res.BytesPerEntry = float64(nb) / float64(ne)
		}
		s.times = append(s.times, d.Seconds())
		s1, _ := t.srv.cpu()
		s.cpu += s1 - s0
		s.client += selfCPU() - c0
		s.wall += d
		return d, true
	}
	for i, t := range targets {
		st[i] = &state{c: newConn(t.addr, e.timeout), o: w.one()}
		defer st[i].c.close()
		if d, ok := one(i); ok && d < e.duration { // a warm-up: forget it
			s := st[i]
			s.times, s.cpu, s.client, s.wall = s.times[:0], 0, 0, 0
		} else {
			st[i].done = true
		}
	}
	for {
		busy := false
		for i, s := range st {
			if s.done {
				continue
			}
			busy = true
			one(i)
			if s.wall >= e.duration || len(s.times) >= 1000 {
				s.done = true
			}
		}
		if !busy {
			break
		}
	}
	out := make([]result, len(st))
	for i, s := range st {
		r := s.res
		r.Requests = int64(len(s.times))
		if el := s.wall.Seconds(); el > 0 {
			r.Seconds = el
			r.ServerCPU, r.ClientCPU = s.cpu.Seconds()/el, s.client.Seconds()/el
		}
		if len(s.times) > 0 {
			slices.Sort(s.times)
			r.Value = s.times[len(s.times)/2]
			r.PerCPU = s.cpu.Seconds() / float64(len(s.times))
		}
		r.OK = r.Errors == 0 && len(s.times) > 0
		out[i] = r
	}
	return out
}

// randomBytes returns n bytes of a fixed pseudo-random sequence.
func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}
