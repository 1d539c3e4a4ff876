package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// flushSize is the size of net/http's buffer in front of a connection. A
// write of exactly this size is, nearly always, that buffer being flushed
// because more bytes of the response follow.
const flushSize = 4 << 10

// coalesceListener hands out connections that send such a full buffer
// together with the bytes that follow it. net/http writes every answer
// longer than its buffer in two system calls, the first of 4 KiB; nginx and
// lighttpd make one. Joining them saves a system call, a TCP segment and a
// wake-up of the client per answer.
//
// Its connections also let the other requests that are ready run before
// an answer is sent (see yieldBeforeAnswer).
type coalesceListener struct{ net.Listener }

// yieldBeforeAnswer is called before the first write of each answer: a
// goroutine of a connection that has read bytes from its client since its
// last write lets the other runnable goroutines go first
// (runtime.Gosched), so that the answers of requests that came in
// together leave together, one write after another. A client process on
// the same machine (a load tool, a reverse proxy) that has drained its
// sockets sleeps; each write to it then costs the kernel a wake-up of
// another core, and answers that arrive together cost one. Nothing else
// runnable: it returns at once, so a lone request waits for nothing.
// Measured in docs/performance.md (the second session of 2026-12-07). A
// variable so that tests can count the calls.
var yieldBeforeAnswer = runtime.Gosched

// CoalesceListener wraps ln in the connection layer Davit serves plain
// HTTP through: joined writes, the yield before answering and the parked
// background read. Serve it with a server from NewHTTPServer, whose
// ConnState and ConnContext hooks it needs. The benchmark's floor
// (bench/floor) runs on it, so that it measures net/http and this layer
// without Davit's handlers.
func CoalesceListener(ln net.Listener) net.Listener { return coalesceListener{ln} }

func (l coalesceListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return &coalesceConn{TCPConn: tc}, nil
	}
	return c, err
}

// holdBufs lends the 4 KiB a connection holds, only while it holds them
// (microseconds), so an idle connection keeps none.
var holdBufs = sync.Pool{New: func() any { return new([flushSize]byte) }}

// coalesceConn holds a write of exactly flushSize bytes and sends it with
// the next write, in one writev. What it holds goes out before the server
// reads from the client (so it never waits on a client that waits on it),
// before sendfile, when a handler flushes (releaseConn), when the response
// ends (the connection goes idle), and before the connection is closed or
// hijacked; a hijacked connection holds nothing again.
type coalesceConn struct {
	*net.TCPConn
	mu     sync.Mutex // the handler writes while net/http's background read may release
	held   *[flushSize]byte
	direct bool  // hijacked
	err    error // a failed write: every later one fails too
	bufs   net.Buffers
	// asked is set when a read brings bytes from the client and cleared
	// by the next write, which yields first (yieldBeforeAnswer). Atomic:
	// net/http's background read runs beside the handler's writes.
	asked atomic.Bool

	// The read deadline and the parked background read (parkRead).
	dmu     sync.Mutex
	rd      time.Time // the read deadline last asked for
	rdSet   time.Time // the one on the socket
	reading bool      // a read is in the socket: a new deadline goes there at once
	parked  bool      // a one-byte read waits in parkRead
	closed  bool
	wake    chan struct{} // cap 1: a parked read's deadline passed, or the connection closed
	grace   *time.Timer
	parkFor time.Duration // parkGrace unless a test sets it
}

// parkGrace is how long a one-byte read waits without the socket (see
// parkRead) before it reads from it.
const parkGrace = 50 * time.Millisecond

// longAgo is before any deadline a server sets from the clock; net/http
// ends its background read with one such (time.Unix(1, 0)).
var longAgo = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// passed reports whether a read deadline has passed: net/http's abort is
// told apart without reading the clock.
func passed(t time.Time) bool {
	return !t.IsZero() && (t.Before(longAgo) || !time.Now().Before(t))
}

func (c *coalesceConn) Write(p []byte) (int, error) {
	if c.asked.Load() && c.asked.Swap(false) {
		yieldBeforeAnswer()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return 0, c.err
	case c.held != nil:
		c.bufs = append(c.bufs[:0], c.held[:], p)
		bufs := c.bufs // WriteTo consumes its receiver
		n, err := bufs.WriteTo(c.TCPConn)
		c.bufs[0], c.bufs[1] = nil, nil
		holdBufs.Put(c.held)
		c.held = nil
		if err != nil {
			c.err = err
			return max(int(n)-flushSize, 0), err
		}
		return len(p), nil
	case len(p) == flushSize && !c.direct:
		c.held = holdBufs.Get().(*[flushSize]byte)
		copy(c.held[:], p)
		return len(p), nil
	}
	n, err := c.TCPConn.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// release sends what is held. Since its write was reported done, a
// failure closes the connection: net/http then drops it.
func (c *coalesceConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.releaseLocked()
}

func (c *coalesceConn) releaseLocked() error {
	if c.held == nil || c.err != nil {
		return c.err
	}
	_, err := c.TCPConn.Write(c.held[:])
	holdBufs.Put(c.held)
	c.held = nil
	if err != nil {
		c.err = err
		c.TCPConn.Close()
	}
	return err
}

func (c *coalesceConn) Read(p []byte) (int, error) {
	if err := c.release(); err != nil {
		return 0, err
	}
	if len(p) == 1 {
		if err := c.parkRead(); err != nil {
			return 0, err
		}
	}
	c.beginRead()
	n, err := c.TCPConn.Read(p)
	c.endRead()
	if n > 0 && !c.asked.Load() {
		c.asked.Store(true)
	}
	return n, err
}

// parkRead lets a one-byte read wait without the socket, for at most
// parkGrace. net/http reads one byte, in a goroutine of its own, from each
// request's end (or its body's) to its answer's: it learns so that a
// client went away. A client that waits for its answer sends nothing, so
// that read costs a system call that finds nothing and a wake-up through
// the poller when net/http ends it by moving the read deadline into the
// past. Parked, it costs neither: moving the deadline into the past (or
// closing) ends it, with the timeout net/http expects. A read still parked
// after parkGrace reads from the socket as before, so a client that goes
// away during a long answer is still noticed, parkGrace late at most.
//
// Any other one-byte read (a request header's last byte at its size limit)
// is only parkGrace late: it gets its byte from the socket after. A
// hijacked connection's reads are the handler's own and never park.
func (c *coalesceConn) parkRead() error {
	c.mu.Lock()
	direct := c.direct
	c.mu.Unlock()
	if direct {
		return nil
	}
	c.dmu.Lock()
	if c.closed {
		c.dmu.Unlock()
		return nil
	}
	if passed(c.rd) {
		c.dmu.Unlock()
		return os.ErrDeadlineExceeded
	}
	if c.grace == nil {
		c.wake = make(chan struct{}, 1)
		if c.parkFor == 0 {
			c.parkFor = parkGrace
		}
		c.grace = time.NewTimer(c.parkFor)
	} else {
		c.grace.Reset(c.parkFor)
	}
	c.parked = true
	c.dmu.Unlock()
	select {
	case <-c.wake:
	case <-c.grace.C:
	}
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.parked = false
	c.grace.Stop()
	select { // a wake that crossed the timer's end
	case <-c.wake:
	default:
	}
	if !c.closed && passed(c.rd) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// beginRead puts the read deadline asked for on the socket, if it is not
// there yet, and marks a read in the socket until endRead. net/http moves
// the read deadline seven times a request with its timeouts set, nearly
// always while nothing reads; only the one in force when a read starts
// has to reach the socket.
func (c *coalesceConn) beginRead() {
	c.dmu.Lock()
	if !c.rd.Equal(c.rdSet) {
		c.TCPConn.SetReadDeadline(c.rd)
		c.rdSet = c.rd
	}
	c.reading = true
	c.dmu.Unlock()
}

func (c *coalesceConn) endRead() {
	c.dmu.Lock()
	c.reading = false
	c.dmu.Unlock()
}

func (c *coalesceConn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rd = t
	if c.reading {
		c.rdSet = t
		return c.TCPConn.SetReadDeadline(t)
	}
	if c.parked && passed(t) {
		c.wakeLocked()
	}
	return nil
}

func (c *coalesceConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.TCPConn.SetWriteDeadline(t)
}

func (c *coalesceConn) wakeLocked() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *coalesceConn) WriteTo(w io.Writer) (int64, error) {
	if err := c.release(); err != nil {
		return 0, err
	}
	c.beginRead()
	defer c.endRead()
	return c.TCPConn.WriteTo(w)
}

// ReadFrom keeps sendfile and splice.
func (c *coalesceConn) ReadFrom(r io.Reader) (int64, error) {
	if err := c.release(); err != nil {
		return 0, err
	}
	return c.TCPConn.ReadFrom(r)
}

// CloseWrite and Close send what is held, unless a write is in progress:
// that one may wait on a client that does not read, and closing must then
// end it (Server.Close and the end of Shutdown's grace close connections
// from another goroutine), not wait for it.
func (c *coalesceConn) CloseWrite() error {
	c.releaseIfIdle()
	return c.TCPConn.CloseWrite()
}

func (c *coalesceConn) Close() error {
	c.releaseIfIdle()
	c.dmu.Lock()
	c.closed = true
	if c.parked {
		c.wakeLocked()
	}
	c.dmu.Unlock()
	return c.TCPConn.Close()
}

func (c *coalesceConn) releaseIfIdle() {
	if c.mu.TryLock() {
		c.releaseLocked()
		c.mu.Unlock()
	}
}

// connState is the http.Server's ConnState hook: a response ends with its
// connection going idle (or closing), and a hijacked connection is the
// handler's alone.
func connState(c net.Conn, s http.ConnState) {
	cc, ok := c.(*coalesceConn)
	if !ok || (s != http.StateIdle && s != http.StateHijacked) {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.releaseLocked()
	cc.direct = cc.direct || s == http.StateHijacked
}

type connKey struct{}

// connContext is the http.Server's ConnContext hook: it lets a handler's
// Flush reach its connection (releaseConn).
func connContext(ctx context.Context, c net.Conn) context.Context {
	if cc, ok := c.(*coalesceConn); ok {
		return context.WithValue(ctx, connKey{}, cc)
	}
	return ctx
}

// releaseConn sends what the connection of a request with this context
// holds: a Flush must reach the client.
func releaseConn(ctx context.Context) {
	if cc, ok := ctx.Value(connKey{}).(*coalesceConn); ok {
		cc.release()
	}
}
