package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/davit-dav/davit/client"
)

// lockTokenFlag adds --lock-token to a write command.
func lockTokenFlag(fs *flag.FlagSet) *string {
	return fs.String("lock-token", "", "submit this lock `token` (If header)")
}

func tokenOpts(token string) []client.RequestOption {
	if token == "" {
		return nil
	}
	return []client.RequestOption{client.WithLockToken(token)}
}

func (e *cli) mkdir(ctx context.Context, args []string) int {
	fs := e.flags("mkdir", "mkdir URL...")
	token := lockTokenFlag(fs)
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return e.usageError("mkdir takes one or more URLs")
	}
	exit := exitOK
	for _, arg := range pos {
		c, err := e.connect(arg)
		if err != nil {
			return e.usageError("%v", err)
		}
		exit = max(exit, e.report(c.Mkcol(ctx, "", tokenOpts(*token)...)))
	}
	return exit
}

func (e *cli) rm(ctx context.Context, args []string) int {
	fs := e.flags("rm", "rm URL...")
	token := lockTokenFlag(fs)
	fs.Bool("r", false, "accepted for habit: deleting a collection always deletes its members")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return e.usageError("rm takes one or more URLs")
	}
	exit := exitOK
	for _, arg := range pos {
		c, err := e.connect(arg)
		if err != nil {
			return e.usageError("%v", err)
		}
		exit = max(exit, e.report(c.Delete(ctx, "", tokenOpts(*token)...)))
	}
	return exit
}

func (e *cli) copyMove(ctx context.Context, cmd string, args []string) int {
	synopsis := cmd + " [--no-overwrite] [--depth 0|infinity] SRC DST"
	if cmd == "mv" {
		synopsis = cmd + " [--no-overwrite] SRC DST"
	}
	fs := e.flags(cmd, synopsis)
	token := lockTokenFlag(fs)
	noOverwrite := fs.Bool("no-overwrite", false, "fail (412) when DST exists")
	depth := "infinity"
	if cmd == "cp" {
		fs.StringVar(&depth, "depth", "infinity", "0 copies a collection without its members")
	}
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return e.usageError("%s takes SRC and DST URLs", cmd)
	}
	d, ok := client.ParseDepth(depth)
	if !ok || d == client.Depth1 {
		return e.usageError("--depth must be 0 or infinity")
	}
	src, err := parseURL(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	dst, err := sameServer(src, pos[1])
	if err != nil {
		return e.usageError("%v", err)
	}
	c, err := e.connect(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	opts := tokenOpts(*token)
	if *noOverwrite {
		opts = append(opts, client.WithOverwrite(false))
	}
	if d == client.Depth0 {
		opts = append(opts, client.WithDepth(client.Depth0))
	}
	if cmd == "cp" {
		_, err = c.Copy(ctx, "", dst, opts...)
	} else {
		_, err = c.Move(ctx, "", dst, opts...)
	}
	return e.report(err)
}

func (e *cli) unlock(ctx context.Context, args []string) int {
	fs := e.flags("unlock", "unlock URL TOKEN")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return e.usageError("unlock takes a URL and a lock TOKEN")
	}
	c, err := e.connect(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	return e.report(c.Unlock(ctx, "", pos[1]))
}

func (e *cli) lock(ctx context.Context, args []string) int {
	fs := e.flags("lock", "lock [--shared] [--depth 0|infinity] [--timeout S] [--owner X] URL")
	shared := fs.Bool("shared", false, "a shared lock (default exclusive)")
	depth := fs.String("depth", "infinity", "0 or infinity")
	timeout := fs.String("timeout", "", "lifetime in `seconds`, or \"infinite\" (default: the server's)")
	owner := fs.String("owner", "", "owner text recorded with the lock")
	pos, code, ok := e.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return e.usageError("lock takes one URL")
	}
	req := client.LockRequest{Shared: *shared, Owner: *owner}
	d, ok := client.ParseDepth(*depth)
	if !ok || d == client.Depth1 {
		return e.usageError("--depth must be 0 or infinity")
	}
	req.Depth = d
	if *timeout != "" {
		t, ok := parseTimeout(*timeout)
		if !ok {
			return e.usageError("--timeout takes seconds (600, 600s, 10m) or \"infinite\"")
		}
		req.Timeout = t
	}
	c, err := e.connect(pos[0])
	if err != nil {
		return e.usageError("%v", err)
	}
	l, err := c.Lock(ctx, "", req)
	if err != nil {
		return e.report(err)
	}
	fmt.Fprintln(e.stdout, l.Token)
	return exitOK
}

// parseTimeout reads --timeout: seconds ("600"), a Go duration ("10m"),
// or "infinite".
func parseTimeout(s string) (time.Duration, bool) {
	if strings.EqualFold(s, "infinite") {
		return client.InfiniteTimeout, true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		return time.Duration(n) * time.Second, true
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, true
	}
	return 0, false
}
