// Command xnet serves a folder with golang.org/x/net/webdav and nothing
// else: the reference Go WebDAV peer of the side-by-side benchmark
// (scripts/bench-peers.sh). It lives in its own module so that Davit never
// depends on x/net/webdav.
package main

import (
	"flag"
	"log"
	"net/http"

	"golang.org/x/net/webdav"
)

func main() {
	root := flag.String("root", ".", "folder to serve")
	listen := flag.String("listen", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	h := &webdav.Handler{FileSystem: webdav.Dir(*root), LockSystem: webdav.NewMemLS()}
	log.Fatal(http.ListenAndServe(*listen, h))
}
