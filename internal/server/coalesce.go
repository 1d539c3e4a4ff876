package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
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
	n, err := c.TCPConn.Read(p)
	if n > 0 && !c.asked.Load() {
		c.asked.Store(true)
	}
	return n, err
}

func (c *coalesceConn) WriteTo(w io.Writer) (int64, error) {
	if err := c.release(); err != nil {
		return 0, err
	}
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
