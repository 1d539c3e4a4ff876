package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"
)

// Run is `davit serve`: it parses args, serves until ctx is done and
// returns the exit code (2 for bad usage, 1 when serving fails).
func Run(ctx context.Context, args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("davit serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	root := fl.String("root", "./data", "folder to serve (created when missing)")
	listen := fl.String("listen", "127.0.0.1:8080", "address to listen on")
	prefix := fl.String("prefix", "", "URL prefix to serve under, such as /dav")
	noSync := fl.Bool("no-sync", false, "do not fsync uploads (faster; a machine crash may lose the last writes)")
	maxInf := fl.Int("max-infinity", 100_000, "most entries a PROPFIND Depth: infinity may list (-1 refuses it)")
	maxUpload := fl.Int64("max-upload", 0, "largest PUT body in bytes (0: no limit)")
	lockMax := fl.Duration("lock-max-timeout", time.Hour, "longest lock timeout granted")
	grace := fl.Duration("grace", 10*time.Second, "how long in-flight requests may run on shutdown")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "davit serve: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	s, err := Open(Options{
		Root: *root, Prefix: *prefix, NoSync: *noSync, MaxInfinityEntries: *maxInf,
		MaxUploadBytes: *maxUpload, LockMaxTimeout: *lockMax, Logger: log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "davit serve: %v\n", err)
		return 1
	}
	defer s.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "davit serve: %v\n", err)
		return 1
	}
	log.Info("serving", "root", *root, "url", "http://"+ln.Addr().String()+*prefix+"/", "sync", !*noSync)
	if err := Serve(ctx, NewHTTPServer(s.Handler, log), ln, *grace); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "davit serve: %v\n", err)
		return 1
	}
	return 0
}
