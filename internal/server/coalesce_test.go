package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// coalescePair returns a coalesceConn and the client end of a loopback
// connection to it.
func coalescePair(t testing.TB) (*coalesceConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := coalesceListener{ln}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	cc, ok := s.(*coalesceConn)
	if !ok {
		t.Fatalf("Accept gave a %T", s)
	}
	t.Cleanup(func() { client.Close(); cc.Close() })
	return cc, client
}

// pattern is n bytes that tell where they sit.
func pattern(n, seed int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + seed)
	}
	return p
}

// nothingArrives fails if client can read a byte within a short wait.
func nothingArrives(t *testing.T, client net.Conn) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [1]byte
	if n, err := client.Read(b[:]); n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the held write arrived early: %d bytes, %v", n, err)
	}
}

// arrives reads len(want) bytes from client and compares them.
func arrives(t *testing.T, client net.Conn, want []byte) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatalf("reading %d bytes: %v", len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the bytes arrived changed or out of order")
	}
}

// TestCoalesceConnHolds checks that a full buffer's write waits for what
// follows and goes out, whole and in order, on each event that must send
// it.
func TestCoalesceConnHolds(t *testing.T) {
	full, tail := pattern(flushSize, 1), pattern(100, 2)
	ctxOf := func(cc *coalesceConn) context.Context { return connContext(context.Background(), cc) }
	tests := []struct {
		name string
		do   func(cc *coalesceConn, client net.Conn) error
		then []byte // after the held bytes
	}{
		{"next write", func(cc *coalesceConn, _ net.Conn) error { _, err := cc.Write(tail); return err }, tail},
		{"next write larger than the buffer", func(cc *coalesceConn, _ net.Conn) error {
			_, err := cc.Write(pattern(3*flushSize+5, 3))
			return err
		}, pattern(3*flushSize+5, 3)},
		{"read", func(cc *coalesceConn, client net.Conn) error {
			// The client sends only once it has the answer: the read
			// must not wait on it while holding (no deadlock).
			done := make(chan error, 1)
			go func() {
				buf := make([]byte, 1)
				_, err := cc.Read(buf)
				done <- err
			}()
			arrives(t, client, full)
			client.Write([]byte("x"))
			return <-done
		}, nil},
		{"sendfile", func(cc *coalesceConn, _ net.Conn) error {
			_, err := cc.ReadFrom(bytes.NewReader(tail))
			return err
		}, tail},
		{"close write", func(cc *coalesceConn, _ net.Conn) error { return cc.CloseWrite() }, nil},
		{"close", func(cc *coalesceConn, _ net.Conn) error { return cc.Close() }, nil},
		{"response ends", func(cc *coalesceConn, _ net.Conn) error { connState(cc, http.StateIdle); return nil }, nil},
		{"handler flushes", func(cc *coalesceConn, _ net.Conn) error {
			rw := &respWriter{ResponseWriter: &benchWriter{h: http.Header{}}, ctx: ctxOf(cc)}
			rw.Flush()
			return nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, client := coalescePair(t)
			if n, err := cc.Write(full); n != flushSize || err != nil {
				t.Fatalf("Write = %d, %v", n, err)
			}
			nothingArrives(t, client)
			if err := tt.do(cc, client); err != nil {
				t.Fatal(err)
			}
			if tt.name != "read" {
				arrives(t, client, full)
			}
			arrives(t, client, tt.then)
		})
	}
}

// TestCoalesceConnPassesOthers checks that writes of any other size go out
// at once, and that a hijacked connection holds nothing.
func TestCoalesceConnPassesOthers(t *testing.T) {
	cc, client := coalescePair(t)
	for _, n := range []int{1, flushSize - 1, flushSize + 1, 3 * flushSize} {
		p := pattern(n, n)
		if _, err := cc.Write(p); err != nil {
			t.Fatal(err)
		}
		arrives(t, client, p)
	}
	connState(cc, http.StateActive) // neither idle nor hijacked: changes nothing
	p := pattern(flushSize, 9)
	cc.Write(p)
	nothingArrives(t, client)
	connState(cc, http.StateHijacked)
	arrives(t, client, p)
	p = pattern(flushSize, 10)
	cc.Write(p)
	arrives(t, client, p)
}

// TestCoalesceConnFailedRelease checks that a held write that cannot be
// sent fails every later write and closes the connection.
func TestCoalesceConnFailedRelease(t *testing.T) {
	cc, client := coalescePair(t)
	client.(*net.TCPConn).SetLinger(0)
	client.Close() // a reset: the next send fails
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		time.Sleep(time.Millisecond)
		if _, werr := cc.Write(pattern(flushSize, 1)); werr != nil {
			t.Fatal(werr) // held, not sent
		}
		err = cc.release()
	}
	if err == nil {
		t.Fatal("writes to a reset connection kept succeeding")
	}
	if _, werr := cc.Write([]byte("x")); werr == nil {
		t.Fatal("a write after a failed release succeeded")
	}
	if _, rerr := cc.TCPConn.Read(make([]byte, 1)); rerr == nil || !errors.Is(rerr, net.ErrClosed) {
		t.Fatalf("the connection was not closed: %v", rerr)
	}
}

// TestCoalesceConnCloseEndsBlockedWrite checks that Close from another
// goroutine ends a write that waits on a client that does not read,
// rather than waiting for it.
func TestCoalesceConnCloseEndsBlockedWrite(t *testing.T) {
	cc, _ := coalescePair(t)
	done := make(chan error, 1)
	go func() {
		cc.Write(pattern(flushSize, 1))
		_, err := cc.Write(make([]byte, 256<<20)) // far more than the socket buffers
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // the write is waiting
	closed := make(chan struct{})
	go func() { cc.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a blocked write")
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the blocked write succeeded after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the blocked write did not end after Close")
	}
}

// coalesceServer serves h as Davit does (NewHTTPServer over a
// coalesceListener) on loopback and returns its address.
func coalesceServer(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(h, slog.New(slog.DiscardHandler))
	go srv.Serve(coalesceListener{ln})
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestCoalescedAnswersIntact sends answers of every length around the
// buffer's size, and larger, with and without a Content-Length, over one
// keep-alive connection, and checks each body.
func TestCoalescedAnswersIntact(t *testing.T) {
	addr := coalesceServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Has("length") {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		body := pattern(n, n)
		for len(body) > 0 { // in uneven pieces
			k := min(len(body), 1000+len(body)%3000)
			w.Write(body[:k])
			body = body[k:]
		}
	}))
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	sizes := []int{0, 1, 70000, 1 << 20}
	for n := 2*flushSize - 600; n <= 2*flushSize+300; n++ {
		sizes = append(sizes, n)
	}
	for n := flushSize - 600; n <= flushSize+100; n++ {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		for _, q := range []string{"", "&length"} {
			resp, err := c.Get(fmt.Sprintf("http://%s/?n=%d%s", addr, n, q))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || !bytes.Equal(got, pattern(n, n)) {
				t.Fatalf("n=%d%s: %d bytes, %v", n, q, len(got), err)
			}
		}
	}
}

// TestFlushReachesClient checks that a handler's Flush sends all it wrote
// even when net/http's buffer was exactly full: the handler then waits for
// the client to have read it. One of the lengths tried fills the buffer
// exactly; without the release in respWriter.Flush that request hangs. The
// handler first lets net/http's background read of the connection start
// waiting, since a read that starts after the hold releases it too.
func TestFlushReachesClient(t *testing.T) {
	got := make(chan struct{})
	addr := coalesceServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &respWriter{ResponseWriter: w, ctx: r.Context()}
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		time.Sleep(2 * time.Millisecond)
		rw.Write(pattern(n, n))
		rw.Flush()
		select {
		case <-got:
		case <-time.After(10 * time.Second):
		}
	}))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for n := flushSize - 400; n <= flushSize; n++ {
		fmt.Fprintf(conn, "GET /?n=%d HTTP/1.1\r\nHost: x\r\n\r\n", n)
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, body); err != nil {
			t.Fatalf("n=%d: the flushed bytes did not arrive: %v", n, err)
		}
		if !bytes.Equal(body, pattern(n, n)) {
			t.Fatalf("n=%d: body changed", n)
		}
		got <- struct{}{}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkCoalesce measures one keep-alive client fetching answers a bit
// longer than net/http's buffer over loopback, from a plain listener and
// from a coalescing one.
func BenchmarkCoalesce(b *testing.B) {
	body := []byte(strings.Repeat("x", 6000))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	for _, name := range []string{"plain", "coalesce"} {
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := NewHTTPServer(h, slog.New(slog.DiscardHandler))
			if name == "plain" {
				go srv.Serve(ln)
			} else {
				go srv.Serve(coalesceListener{ln})
			}
			defer srv.Close()
			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			for b.Loop() {
				conn.Write(req)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					b.Fatal(err)
				}
				if n, _ := io.Copy(io.Discard, resp.Body); n != int64(len(body)) {
					b.Fatalf("%d bytes", n)
				}
				resp.Body.Close()
			}
		})
	}
}

// TestCoalesceYieldsBeforeEachAnswer: a connection yields once before the
// first write that follows bytes read from its client, whatever that
// write's size (a held 4 KiB too), and never otherwise: not for a write
// with nothing read before it, not for the later writes of the same
// answer, not after a read that brought nothing.
func TestCoalesceYieldsBeforeEachAnswer(t *testing.T) {
	yields := 0
	saved := yieldBeforeAnswer
	yieldBeforeAnswer = func() { yields++ }
	t.Cleanup(func() { yieldBeforeAnswer = saved })
	cc, client := coalescePair(t)
	buf := make([]byte, 64)
	ask := func(s string) {
		t.Helper()
		if _, err := client.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		cc.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := cc.Read(buf); n == 0 || err != nil {
			t.Fatalf("read %d bytes, %v", n, err)
		}
	}
	write := func(b []byte, want int) {
		t.Helper()
		if _, err := cc.Write(b); err != nil {
			t.Fatal(err)
		}
		if yields != want {
			t.Fatalf("%d yields after a write of %d bytes, want %d", yields, len(b), want)
		}
	}
	write([]byte("unasked"), 0)
	ask("GET /a")
	write([]byte("answer a"), 1)
	write([]byte("more of a"), 1)
	ask("GET /b")
	write(pattern(flushSize, 1), 2) // held: still the answer's first write
	write([]byte("rest of b"), 2)
	ask("GET /c")
	ask(" and more of the same request")
	write([]byte("answer c"), 3)
	// A read that finds nothing (net/http's background read, a deadline)
	// asks nothing.
	cc.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
	if n, err := cc.Read(buf); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %d bytes, %v; want a timeout", n, err)
	}
	write([]byte("unasked again"), 3)
}

// readResult is what a Read in another goroutine returned.
type readResult struct {
	b   []byte
	err error
}

// readAsync starts a Read of n bytes on cc.
func readAsync(cc *coalesceConn, n int) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		p := make([]byte, n)
		k, err := cc.Read(p)
		ch <- readResult{p[:k], err}
	}()
	return ch
}

// result waits for a readAsync, failing the test after a long wait.
func result(t *testing.T, ch <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the read never returned")
		return readResult{}
	}
}

// TestCoalesceConnParksOneByteRead checks net/http's background read of
// one byte: parked, it leaves the client's bytes in the socket and ends
// when the read deadline moves into the past or the connection closes;
// after its grace it reads from the socket. Other reads and a hijacked
// connection's never park.
func TestCoalesceConnParksOneByteRead(t *testing.T) {
	t.Run("deadline moved into the past", func(t *testing.T) {
		cc, client := coalescePair(t)
		cc.parkFor = time.Hour
		client.Write([]byte("next request"))
		ch := readAsync(cc, 1)
		time.Sleep(20 * time.Millisecond) // most likely parked by now; either way the outcome is the same
		cc.SetReadDeadline(time.Unix(1, 0))
		if r := result(t, ch); len(r.b) != 0 || !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("parked read gave %q, %v; want a timeout", r.b, r.err)
		}
		arrives(t, cc, []byte("next request"))
	})
	t.Run("deadline already past", func(t *testing.T) {
		cc, client := coalescePair(t)
		cc.parkFor = time.Hour
		client.Write([]byte("x"))
		cc.SetReadDeadline(time.Unix(1, 0))
		if r := result(t, readAsync(cc, 1)); len(r.b) != 0 || !errors.Is(r.err, os.ErrDeadlineExceeded) {
			t.Fatalf("read gave %q, %v; want a timeout", r.b, r.err)
		}
	})
	t.Run("grace over: reads the socket", func(t *testing.T) {
		cc, client := coalescePair(t)
		cc.parkFor = time.Millisecond
		ch := readAsync(cc, 1)
		client.Write([]byte("y"))
		if r := result(t, ch); string(r.b) != "y" || r.err != nil {
			t.Fatalf("read gave %q, %v; want y", r.b, r.err)
		}
		// The timer is reused: a second park ends the same way.
		ch = readAsync(cc, 1)
		client.Write([]byte("z"))
		if r := result(t, ch); string(r.b) != "z" || r.err != nil {
			t.Fatalf("second read gave %q, %v; want z", r.b, r.err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		cc, _ := coalescePair(t)
		cc.parkFor = time.Hour
		ch := readAsync(cc, 1)
		time.Sleep(20 * time.Millisecond)
		cc.Close()
		if r := result(t, ch); r.err == nil {
			t.Fatalf("read on a closed connection gave %q and no error", r.b)
		}
	})
	t.Run("longer reads use the socket", func(t *testing.T) {
		cc, client := coalescePair(t)
		cc.parkFor = time.Hour
		client.Write([]byte("ab"))
		if r := result(t, readAsync(cc, 2)); string(r.b) != "ab" {
			t.Fatalf("read gave %q, %v", r.b, r.err)
		}
	})
	t.Run("hijacked", func(t *testing.T) {
		cc, client := coalescePair(t)
		cc.parkFor = time.Hour
		connState(cc, http.StateHijacked)
		client.Write([]byte("h"))
		if r := result(t, readAsync(cc, 1)); string(r.b) != "h" {
			t.Fatalf("hijacked read gave %q, %v", r.b, r.err)
		}
	})
}

// TestCoalesceConnReadDeadlines checks that the read deadline in force
// when a read starts, and one moved while a read is in the socket, both
// reach the socket, though moves while nothing reads do not.
func TestCoalesceConnReadDeadlines(t *testing.T) {
	cc, client := coalescePair(t)
	cc.SetReadDeadline(time.Now().Add(time.Hour))
	cc.SetReadDeadline(time.Unix(1, 0)) // the last one counts
	if r := result(t, readAsync(cc, 8)); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline gave %q, %v", r.b, r.err)
	}
	cc.SetReadDeadline(time.Unix(1, 0))
	cc.SetReadDeadline(time.Time{}) // and cleared again before a read
	client.Write([]byte("data"))
	if r := result(t, readAsync(cc, 8)); string(r.b) != "data" {
		t.Fatalf("read gave %q, %v", r.b, r.err)
	}
	ch := readAsync(cc, 8) // in the socket, nothing to read
	time.Sleep(20 * time.Millisecond)
	cc.SetReadDeadline(time.Unix(1, 0))
	if r := result(t, ch); !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Fatalf("read whose deadline moved gave %q, %v", r.b, r.err)
	}
	cc.SetDeadline(time.Time{})
	client.Write([]byte("more"))
	if r := result(t, readAsync(cc, 8)); string(r.b) != "more" {
		t.Fatalf("read after SetDeadline gave %q, %v", r.b, r.err)
	}
}

// TestServerNoticesClientGone checks, through net/http, that a client
// that goes away while its request runs still cancels the request's
// context though the background read parks, and that pipelined requests
// are all answered.
func TestServerNoticesClientGone(t *testing.T) {
	gone := make(chan struct{})
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/wait" {
				select {
				case <-r.Context().Done():
					close(gone)
				case <-time.After(10 * time.Second):
				}
				return
			}
			io.WriteString(w, "answer to "+r.URL.Path)
		}),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(coalesceListener{ln})
	t.Cleanup(func() { srv.Close() })

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"))
	br := bufio.NewReader(c)
	for _, p := range []string{"/a", "/b"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != "answer to "+p {
			t.Fatalf("pipelined answer %q, want the one to %s", body, p)
		}
	}

	c2, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c2.Write([]byte("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"))
	time.Sleep(20 * time.Millisecond)
	c2.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the request's context was not cancelled when its client went away")
	}
}
