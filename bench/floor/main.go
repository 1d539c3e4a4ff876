// Command floor is the reference point of the peer benchmark
// (scripts/bench-peers.sh, column "floor"): a net/http server that answers
// GET of /small.bin with 4 KiB (a 304 when it carries If-None-Match) and
// PROPFIND with a one-response 207 of Davit's size, all fixed and from
// memory, with no file system, locks, properties, authentication or
// logging. It runs on the http.Server settings and the connection layer
// Davit serves plain HTTP with (server.NewHTTPServer and
// server.CoalesceListener: joined writes, the yield before answering, the
// parked background read; since the third session of 2026-12-07), so the
// gap between it and Davit is Davit's handlers' work. Whatever it reaches
// is about the most a server built on net/http can do on this machine for
// those workloads; it is not a peer, and the table leaves it out of the
// best peer.
//
//	floor -listen 127.0.0.1:8080
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/davit-dav/davit/internal/server"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	small := make([]byte, 4096)
	entry := `<D:response><D:href>/small.bin</D:href><D:propstat><D:prop>` +
		`<D:getcontentlength>4096</D:getcontentlength><D:getlastmodified>Sat, 21 Nov 2026 23:21:40 GMT</D:getlastmodified>` +
		`<D:resourcetype/><D:getetag>"e3fe0-1000-18ea32d70c69b919"</D:getetag></D:prop>` +
		`<D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
	ms := []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<D:multistatus xmlns:D="DAV:">` + entry + `</D:multistatus>`)
	// Padded to the size of Davit's allprop answer, so the bytes sent
	// match the heavier of the two Depth 0 workloads.
	ms = append(ms, strings.Repeat(" ", max(0, 818-len(ms)))...)
	lm := []string{"Sat, 21 Nov 2026 23:21:40 GMT"}
	etag := []string{`"e3fe0-1000-18ea32d70c69b919"`}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		switch {
		case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/small.bin":
			hd["Last-Modified"] = lm
			hd["Etag"] = etag
			if _, ok := r.Header["If-None-Match"]; ok {
				// Revalidation: the client holds this very copy.
				w.WriteHeader(http.StatusNotModified)
				return
			}
			hd["Content-Type"] = []string{"application/octet-stream"}
			hd["Content-Length"] = []string{strconv.Itoa(len(small))}
			if r.Method == http.MethodGet {
				w.Write(small)
			}
		case r.Method == "PROPFIND":
			hd["Content-Type"] = []string{"application/xml; charset=utf-8"}
			hd["Content-Length"] = []string{strconv.Itoa(len(ms))}
			w.WriteHeader(http.StatusMultiStatus)
			w.Write(ms)
		default:
			http.NotFound(w, r)
		}
	})
	ln, err := net.Listen("tcp", *listen)
	if err == nil {
		err = server.NewHTTPServer(h, slog.New(slog.DiscardHandler)).Serve(server.CoalesceListener(ln))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}
