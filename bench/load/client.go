package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"time"
)

// request is one HTTP/1.1 request. The client is a minimal keep-alive
// HTTP/1.1 client over one TCP connection: net/http's client costs several
// times more CPU per request, and on a single pinned core it would be the
// bottleneck long before the fast peers are.
type request struct {
	method string
	path   string
	header []string // "Name: value" lines, without CRLF
	body   []byte
	// countEntries counts the DAV:response elements of the body.
	countEntries bool
	// countMark, with countEntries, also counts the closing tags whose
	// local name it is (a property every response must carry).
	countMark string
	// keepBody keeps the body (its first maxKeptBody bytes) in
	// response.body, for an op that reads the answer itself.
	keepBody bool
}

// maxKeptBody bounds what request.keepBody keeps of a body.
const maxKeptBody = 64 << 10

// response is what the client keeps of a response.
type response struct {
	status    int
	bytes     int64 // body bytes
	entries   int   // DAV:response elements, when counted
	marks     int   // closing tags named request.countMark, when counted
	lockToken string
	etag      string
	// body is the body read, when request.keepBody asked for it (at most
	// maxKeptBody bytes; bytes counts all); valid until the conn's next
	// request.
	body []byte
}

// conn is one keep-alive connection to the server.
type conn struct {
	addr    string
	timeout time.Duration
	nc      net.Conn
	br      *bufio.Reader
	head    []byte
	scratch []byte
	kept    []byte // the body of a request.keepBody response
	reused  bool   // a request completed on nc already
	counter entryCounter
}

func newConn(addr string, timeout time.Duration) *conn {
	return &conn{addr: addr, timeout: timeout, scratch: make([]byte, 256<<10)}
}

func (c *conn) close() {
	if c.nc != nil {
		c.nc.Close()
		c.nc = nil
	}
}

func (c *conn) dial() error {
	nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
	if err != nil {
		return err
	}
	c.nc, c.reused = nc, false
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 64<<10)
	} else {
		c.br.Reset(nc)
	}
	return nil
}

// do sends req and reads the whole response into resp. A request on a
// reused connection that the server had closed (no byte of a response
// came back) is retried once on a new connection; any other failure is
// returned.
func (c *conn) do(req *request, resp *response) error {
	for attempt := 0; ; attempt++ {
		if c.nc == nil {
			if err := c.dial(); err != nil {
				return err
			}
		}
		got, err := c.roundTrip(req, resp)
		if err == nil {
			c.reused = true
			return nil
		}
		wasReused := c.reused
		c.close()
		if !got && wasReused && attempt == 0 && isClosedConn(err) {
			continue
		}
		return err
	}
}

func isClosedConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// roundTrip writes req and reads its response; got reports whether any
// byte of a response arrived.
func (c *conn) roundTrip(req *request, resp *response) (got bool, err error) {
	*resp = response{}
	c.kept = c.kept[:0]
	if err := c.nc.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return false, err
	}
	h := c.head[:0]
	h = append(h, req.method...)
	h = append(h, ' ')
	h = append(h, req.path...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, c.addr...)
	h = append(h, "\r\nUser-Agent: davit-bench\r\n"...)
	for _, l := range req.header {
		h = append(h, l...)
		h = append(h, "\r\n"...)
	}
	if req.body != nil || req.method == "PUT" || req.method == "POST" {
		h = append(h, "Content-Length: "...)
		h = strconv.AppendInt(h, int64(len(req.body)), 10)
		h = append(h, "\r\n"...)
	}
	h = append(h, "\r\n"...)
	c.head = h
	bufs := net.Buffers{h}
	if len(req.body) > 0 {
		bufs = append(bufs, req.body)
	}
	if _, err := bufs.WriteTo(c.nc); err != nil {
		return false, err
	}
	return c.readResponse(req, resp)
}

func (c *conn) readResponse(req *request, resp *response) (got bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return len(line) > 0, err
	}
	// HTTP/1.1 207 Multi-Status
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return true, fmt.Errorf("malformed status line %q", line)
	}
	st, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return true, fmt.Errorf("malformed status line %q", line)
	}
	resp.status = st
	closeAfter := line[7] == '0' // HTTP/1.0
	length := int64(-1)
	chunked := false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return true, fmt.Errorf("reading header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			return true, fmt.Errorf("malformed header line %q", line)
		}
		name, val := line[:i], bytes.TrimSpace(line[i+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n < 0 {
				return true, fmt.Errorf("malformed Content-Length %q", val)
			}
			length = n
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = bytes.Contains(bytes.ToLower(val), []byte("chunked"))
		case asciiEqualFold(name, "connection"):
			if bytes.Contains(bytes.ToLower(val), []byte("close")) {
				closeAfter = true
			}
		case asciiEqualFold(name, "lock-token"):
			resp.lockToken = string(bytes.Trim(val, "<>"))
		case asciiEqualFold(name, "etag"):
			resp.etag = string(val)
		}
	}
	if st >= 100 && st < 200 {
		return true, fmt.Errorf("unexpected interim status %d", st)
	}
	c.counter = entryCounter{mark: req.countMark}
	count := req.countEntries
	switch {
	case req.method == "HEAD" || st == 204 || st == 304:
	case chunked:
		if err := c.readChunked(resp, count, req.keepBody); err != nil {
			return true, err
		}
	case length >= 0:
		if err := c.consume(length, resp, count, req.keepBody); err != nil {
			return true, err
		}
	default:
		closeAfter = true
		if err := c.consume(-1, resp, count, req.keepBody); err != nil {
			return true, err
		}
	}
	resp.entries, resp.marks = c.counter.n, c.counter.marks
	if req.keepBody {
		resp.body = c.kept
	}
	if closeAfter {
		c.close()
	}
	return true, nil
}

// consume reads n body bytes (n < 0: until EOF), keeping them in c.kept
// (up to maxKeptBody) when keep is set.
func (c *conn) consume(n int64, resp *response, count, keep bool) error {
	for n != 0 {
		b := c.scratch
		if n > 0 && int64(len(b)) > n {
			b = b[:n]
		}
		k, err := c.br.Read(b)
		if k > 0 {
			resp.bytes += int64(k)
			if count {
				c.counter.feed(b[:k])
			}
			if keep {
				c.kept = append(c.kept, b[:min(k, maxKeptBody-len(c.kept))]...)
			}
			if n > 0 {
				n -= int64(k)
			}
		}
		if err != nil {
			if n < 0 && err == io.EOF {
				return nil
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading body: %w", err)
		}
	}
	return nil
}

func (c *conn) readChunked(resp *response, count, keep bool) error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("reading chunk size: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || size < 0 {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if size == 0 {
			for { // trailers
				line, err := c.br.ReadSlice('\n')
				if err != nil {
					return fmt.Errorf("reading trailer: %w", err)
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if err := c.consume(size, resp, count, keep); err != nil {
			return err
		}
		crlf, err := c.br.ReadSlice('\n')
		if err != nil || len(bytes.TrimRight(crlf, "\r\n")) != 0 {
			return fmt.Errorf("malformed chunk end")
		}
	}
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// entryCounter counts closing tags whose local name is "response"
// (</D:response>, </response>, </lp1:response>) in a stream of bytes,
// which is the number of resources in a 207 Multi-Status body; and those
// whose local name is mark, when mark is set.
type entryCounter struct {
	n      int
	mark   string
	marks  int
	state  int // 0 text, 1 after '<', 2 in a closing tag name
	name   [64]byte
	length int
}

func (ec *entryCounter) feed(b []byte) {
	for len(b) > 0 {
		if ec.state == 0 {
			i := bytes.IndexByte(b, '<')
			if i < 0 {
				return
			}
			b = b[i+1:]
			ec.state = 1
			continue
		}
		ch := b[0]
		b = b[1:]
		switch ec.state {
		case 1:
			if ch == '/' {
				ec.state, ec.length = 2, 0
			} else {
				ec.state = 0
			}
		case 2:
			switch {
			case ch == '>' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n':
				name := ec.name[:ec.length]
				if i := bytes.LastIndexByte(name, ':'); i >= 0 {
					name = name[i+1:]
				}
				switch string(name) {
				case "response":
					ec.n++
				case ec.mark:
					if ec.mark != "" {
						ec.marks++
					}
				}
				ec.state = 0
			case ec.length < len(ec.name):
				ec.name[ec.length] = ch
				ec.length++
			default:
				ec.state = 0
			}
		}
	}
}
