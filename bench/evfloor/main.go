// Command evfloor is the second reference point of the peer benchmark
// (scripts/bench-peers.sh, column "evfloor"): what a Go server reaches
// without net/http, on an event loop (github.com/panjf2000/gnet), parsing
// just enough HTTP/1.1 itself, and doing only the system calls Davit's
// answer needs: for GET or HEAD of /small.bin a look at the name
// (fstatat beneath the root) and one pread of a descriptor kept open (and
// opened afresh when the look finds another file), as Davit's small-file
// cache does; for PROPFIND of it the look, with the
// answer's length, dates and ETag built from what the look found. No
// locks, properties, authentication, logging, metrics or routing.
//
// It is not a server: it knows one name, refuses chunked bodies and
// answers everything else with 404. It exists so that each full run shows
// how far the two targets that net/http's floor (bench/floor) cannot meet,
// GET 4 KiB and PROPFIND Depth 0, are from any Go server doing Davit's
// system calls, whatever HTTP layer it were given (docs/performance.md,
// "Why the rest is not met"). Like bench/floor, the table leaves it out of
// the best peer.
//
//	evfloor -root DIR -listen 127.0.0.1:8080
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"golang.org/x/sys/unix"
)

const (
	maxHeader = 8 << 10  // a request whose headers run longer is refused (431)
	maxBody   = 64 << 10 // a longer body is refused (413)
	name      = "small.bin"
	maxFile   = 16 << 10 // the largest file it sends, as Davit's small-file cache
)

type server struct {
	gnet.BuiltinEventEngine
	root, fd int    // the served folder (O_PATH) and small.bin, kept open
	dev, ino uint64 // what fd is
	file     []byte
	body     []byte // a PROPFIND's answer, before its headers
	out      []byte // the answers to one read's requests, sent in one write
	date     []byte // "Date: ...\r\n", redone once a second
	dateSec  int64
	booted   chan gnet.Engine
}

func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	in, _ := c.Peek(-1)
	s.out = s.out[:0]
	if now := time.Now(); now.Unix() != s.dateSec {
		s.dateSec = now.Unix()
		s.date = append(append(s.date[:0], "Date: "...), now.UTC().Format(http.TimeFormat)...)
		s.date = append(s.date, "\r\n"...)
	}
	used, closing := 0, false
	for !closing {
		n, status, last := s.request(in[used:])
		if n == 0 {
			if status != 0 { // refused: answer, then close
				s.status(status, nil, nil)
				closing = true
			}
			break
		}
		used += n
		closing = last
	}
	c.Discard(used)
	if len(s.out) > 0 {
		c.Write(s.out)
	}
	if closing {
		return gnet.Close
	}
	return gnet.None
}

// request answers the first request of in into s.out and returns its
// length, and whether it is the connection's last; 0 when it has not all
// arrived, with a status when it never will be accepted.
func (s *server) request(in []byte) (n, refused int, last bool) {
	end := bytes.Index(in, []byte("\r\n\r\n"))
	if end > maxHeader || (end < 0 && len(in) > maxHeader) {
		return 0, http.StatusRequestHeaderFieldsTooLarge, true
	}
	if end < 0 {
		return 0, 0, false
	}
	head := in[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	method, line, ok1 := bytes.Cut(line, []byte(" "))
	target, version, ok2 := bytes.Cut(line, []byte(" "))
	if !ok1 || !ok2 || !bytes.HasPrefix(version, []byte("HTTP/1.")) {
		return 0, http.StatusBadRequest, true
	}
	last = string(version) == "HTTP/1.0"
	length, inm := 0, []byte(nil)
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, http.StatusBadRequest, true
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			l, err := strconv.Atoi(string(v))
			if err != nil || l < 0 {
				return 0, http.StatusBadRequest, true
			}
			if l > maxBody {
				return 0, http.StatusRequestEntityTooLarge, true
			}
			length = l
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			return 0, http.StatusNotImplemented, true
		case bytes.EqualFold(k, []byte("If-None-Match")):
			inm = v
		case bytes.EqualFold(k, []byte("Connection")):
			last = bytes.EqualFold(v, []byte("close"))
		}
	}
	n = end + 4 + length
	if len(in) < n {
		return 0, 0, false
	}
	if string(target) != "/"+name {
		s.status(http.StatusNotFound, nil, nil)
		return n, 0, last
	}
	var st unix.Stat_t
	if err := unix.Fstatat(s.root, name, &st, 0); err != nil || st.Size > maxFile {
		s.status(http.StatusNotFound, nil, nil)
		return n, 0, last
	}
	if st.Ino != s.ino || st.Dev != s.dev {
		// Replaced since it was opened: its bytes must match what the
		// look found, as Davit's small-file cache makes sure.
		if err := s.reopen(); err != nil {
			s.status(http.StatusNotFound, nil, nil)
			return n, 0, last
		}
	}
	var etag, mod [64]byte
	tag := append(etag[:0], '"')
	tag = strconv.AppendUint(tag, st.Ino, 16)
	tag = append(tag, '-')
	tag = strconv.AppendInt(tag, st.Size, 16)
	tag = append(tag, '-')
	tag = strconv.AppendInt(tag, st.Mtim.Nano(), 16)
	tag = append(tag, '"')
	modified := time.Unix(st.Mtim.Unix()).UTC().AppendFormat(mod[:0], http.TimeFormat)
	switch string(method) {
	case http.MethodGet, http.MethodHead:
		if inm != nil && bytes.Equal(inm, tag) {
			s.status(http.StatusNotModified, tag, modified)
			return n, 0, last
		}
		if _, err := unix.Pread(s.fd, s.file[:st.Size], 0); err != nil {
			s.status(http.StatusInternalServerError, nil, nil)
			return n, 0, true
		}
		s.out = append(s.out, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: "...)
		s.out = strconv.AppendInt(s.out, st.Size, 10)
		s.out = append(s.out, "\r\n"...)
		s.headers(tag, modified)
		if string(method) == http.MethodGet {
			s.out = append(s.out, s.file[:st.Size]...)
		}
	case "PROPFIND":
		body := append(s.body[:0], `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<D:multistatus xmlns:D="DAV:"><D:response><D:href>/`+name+`</D:href><D:propstat><D:prop><D:getcontentlength>`...)
		body = strconv.AppendInt(body, st.Size, 10)
		body = append(body, `</D:getcontentlength><D:getlastmodified>`...)
		body = append(body, modified...)
		body = append(body, `</D:getlastmodified><D:resourcetype/><D:getetag>`...)
		body = append(body, tag...)
		body = append(body, `</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`...)
		// Padded to the size of Davit's allprop answer, as bench/floor's.
		for len(body) < 818 {
			body = append(body, ' ')
		}
		s.out = append(s.out, "HTTP/1.1 207 Multi-Status\r\nContent-Type: application/xml; charset=utf-8\r\nContent-Length: "...)
		s.out = strconv.AppendInt(s.out, int64(len(body)), 10)
		s.out = append(s.out, "\r\n"...)
		s.headers(nil, nil)
		s.out = append(s.out, body...)
		s.body = body
	default:
		s.status(http.StatusMethodNotAllowed, nil, nil)
	}
	return n, 0, last
}

// status appends to s.out an answer without a body.
func (s *server) status(code int, tag, modified []byte) {
	s.out = append(s.out, "HTTP/1.1 "...)
	s.out = strconv.AppendInt(s.out, int64(code), 10)
	s.out = append(s.out, ' ')
	s.out = append(s.out, http.StatusText(code)...)
	s.out = append(s.out, "\r\n"...)
	if code != http.StatusNotModified {
		s.out = append(s.out, "Content-Length: 0\r\n"...)
	}
	s.headers(tag, modified)
}

// headers appends to s.out the Date, the validators if any, and the end
// of the headers.
func (s *server) headers(tag, modified []byte) {
	s.out = append(s.out, s.date...)
	if tag != nil {
		s.out = append(append(append(s.out, "Etag: "...), tag...), "\r\n"...)
		s.out = append(append(append(s.out, "Last-Modified: "...), modified...), "\r\n"...)
	}
	s.out = append(s.out, "\r\n"...)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	root := flag.String("root", ".", "folder holding "+name)
	flag.Parse()
	if err := run(*root, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "evfloor:", err)
		os.Exit(1)
	}
}

// run serves root on listen.
func run(root, listen string) error {
	s, err := open(root)
	if err != nil {
		return err
	}
	defer s.close()
	return s.serve(listen)
}

func open(root string) (*server, error) {
	s := &server{file: make([]byte, maxFile), booted: make(chan gnet.Engine, 1)}
	var err error
	if s.root, err = unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		return nil, err
	}
	s.fd = -1
	if err := s.reopen(); err != nil {
		unix.Close(s.root)
		return nil, err
	}
	return s, nil
}

// reopen opens name afresh, in place of the descriptor kept so far.
func (s *server) reopen() error {
	fd, err := unix.Openat(s.root, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return err
	}
	if s.fd >= 0 {
		unix.Close(s.fd)
	}
	s.fd, s.dev, s.ino = fd, st.Dev, st.Ino
	return nil
}

func (s *server) close() {
	unix.Close(s.fd)
	unix.Close(s.root)
}

// serve runs the event loop until its engine (sent on s.booted once it
// listens) is stopped.
func (s *server) serve(listen string) error {
	// One event loop: the benchmark pins the server to one core.
	return gnet.Run(s, "tcp://"+listen, gnet.WithNumEventLoop(1), gnet.WithLogLevel(logging.ErrorLevel))
}

func (s *server) OnBoot(e gnet.Engine) gnet.Action {
	s.booted <- e
	return gnet.None
}
