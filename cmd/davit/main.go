// Command davit is Davit's one binary: the WebDAV server (davit serve) and
// a WebDAV client for the command line.
//
//	davit ls -l https://dav.example.com/files/
//	davit put -r ./photos https://dav.example.com/files/
//	davit get https://dav.example.com/files/report.pdf
//	davit lock --timeout 600 https://dav.example.com/files/report.pdf
//	davit request PROPFIND https://dav.example.com/files/ -H 'Depth: 1'
//	davit multistatus decode answer.xml
//
// Each client command takes full URLs. Credentials come from --user
// user:pass, or the DAVIT_USER and DAVIT_PASSWORD environment variables,
// or the URL itself; they are never printed.
//
// Exit codes: 0 when every resource succeeded; 1 when the server refused
// (a non-2xx answer, whose status is printed) or any resource of a
// Multi-Status answer failed (each failure is printed on stderr with its
// href, status and condition); 2 for usage errors and malformed input.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/davit-dav/davit/client"
	"github.com/davit-dav/davit/multistatus"
)

// Exit codes.
const (
	exitOK    = 0 // every resource succeeded
	exitFail  = 1 // the server refused, or some resource failed
	exitUsage = 2 // usage error or malformed input
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &cli{
		stdin:      os.Stdin,
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		getenv:     os.Getenv,
		isTerminal: isTerminal(os.Stderr),
	}
	code := e.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// cli is one run of the command: its streams and environment, so tests
// can run commands in-process.
type cli struct {
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	getenv     func(string) string
	isTerminal bool         // stderr is a terminal: show progress lines
	httpClient *http.Client // nil: the client's default

	user string // --user, "user:pass"
}

const usage = `usage: davit COMMAND [flags] ARGS

Server:
  serve                         run the WebDAV server (davit serve -h)

Client (URLs are full http:// or https:// URLs):
  ls [-l] [-R] [--json] URL     list a collection
  get URL [FILE|-]              download (FILE defaults to the URL's name)
  put FILE|DIR|- URL            upload a file, or a folder recursively
  mkdir URL...                  create collections
  rm URL...                     delete (collections with their members)
  cp [--no-overwrite] [--depth 0] SRC DST     copy on the server
  mv [--no-overwrite] SRC DST   move on the server
  props get URL [{ns}name ...]  show properties (all when none is named)
  props set [--xml] URL {ns}name VALUE        set a property
  props rm URL {ns}name         remove a property
  lock [--shared] [--depth 0|infinity] [--timeout S] [--owner X] URL
                                lock, print the lock token
  unlock URL TOKEN              release a lock
  request [-H 'Name: value']... [--json] METHOD URL [BODY|@FILE|-]
                                send any request, show a 207 as a table
  multistatus decode [FILE]     print a 207 body as JSON

Flags of every client command:
  --user USER:PASS              credentials (or DAVIT_USER, DAVIT_PASSWORD)
  --lock-token TOKEN            submit a lock token (write commands)

Exit status: 0 all succeeded, 1 the server refused or a resource failed,
2 usage error or malformed input.
`

// run parses the command line and runs one command, returning the exit
// code.
func (e *cli) run(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("davit", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() { fmt.Fprint(e.stderr, usage) }
	fs.StringVar(&e.user, "user", "", "credentials, user:pass")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, args)
	case "config":
		return runConfig(args)
	case "ls":
		return e.ls(ctx, args)
	case "get":
		return e.get(ctx, args)
	case "put":
		return e.put(ctx, args)
	case "mkdir":
		return e.mkdir(ctx, args)
	case "rm":
		return e.rm(ctx, args)
	case "cp", "mv":
		return e.copyMove(ctx, cmd, args)
	case "props":
		return e.props(ctx, args)
	case "lock":
		return e.lock(ctx, args)
	case "unlock":
		return e.unlock(ctx, args)
	case "request":
		return e.request(ctx, args)
	case "multistatus":
		return e.multistatus(ctx, args)
	case "batch":
		return e.batch(ctx, args)
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(e.stderr, "davit: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// usageError prints a usage message for one command and returns exitUsage.
func (e *cli) usageError(format string, a ...any) int {
	fmt.Fprintf(e.stderr, "davit: "+format+"\n", a...)
	return exitUsage
}

// flags returns the flag set of a command with the common flags.
func (e *cli) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("davit "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: davit %s\n", synopsis)
		fs.PrintDefaults()
	}
	fs.StringVar(&e.user, "user", e.user, "credentials, `user:pass` (default $DAVIT_USER, $DAVIT_PASSWORD)")
	return fs
}

// parse parses flags and positional arguments in any order ("lock URL
// --shared"); "--" ends the flags. It returns the positional arguments,
// or ok false with the exit code to return.
func (e *cli) parse(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), 0, true
		}
		if len(rest) == 0 {
			return pos, 0, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseURL parses a URL argument, percent-encoding what a URL cannot hold
// (a space typed in a quoted argument, non-ASCII letters).
func parseURL(arg string) (*url.URL, error) {
	u, err := url.Parse(multistatus.EncodeHref(arg))
	if err != nil {
		return nil, fmt.Errorf("bad URL %q: %v", arg, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad URL %q: want http://host/path or https://host/path", arg)
	}
	if u.Fragment != "" || u.RawQuery != "" {
		return nil, fmt.Errorf("bad URL %q: a '#' or '?' in a name must be written %%23 or %%3F", arg)
	}
	return u, nil
}

// connect returns a client whose base URL is the argument, so the
// resource it names is path "".
func (e *cli) connect(arg string) (*client.Client, error) {
	u, err := parseURL(arg)
	if err != nil {
		return nil, err
	}
	var opts []client.Option
	if e.httpClient != nil {
		opts = append(opts, client.WithHTTPClient(e.httpClient))
	}
	user, pass, ok := e.credentials()
	if ok {
		opts = append(opts, client.WithBasicAuth(user, pass))
	}
	opts = append(opts, client.WithUserAgent("davit"))
	return client.New(u.String(), opts...)
}

// credentials returns --user, else $DAVIT_USER and $DAVIT_PASSWORD. A
// --user without ":pass" takes the password from $DAVIT_PASSWORD.
func (e *cli) credentials() (user, pass string, ok bool) {
	if e.user != "" {
		user, pass, found := strings.Cut(e.user, ":")
		if !found {
			pass = e.getenv("DAVIT_PASSWORD")
		}
		return user, pass, true
	}
	if u := e.getenv("DAVIT_USER"); u != "" {
		return u, e.getenv("DAVIT_PASSWORD"), true
	}
	return "", "", false
}

// report prints err on stderr and returns its exit code: every failure of
// a *client.MultiError on its own line, the status of a
// *client.StatusError, the position of malformed input.
func (e *cli) report(err error) int {
	if err == nil {
		return exitOK
	}
	var me *client.MultiError
	var se *client.StatusError
	var syn *multistatus.SyntaxError
	switch {
	case errors.As(err, &me):
		for _, f := range me.Failures {
			e.printFailure(f)
		}
		return exitFail
	case errors.As(err, &se):
		fmt.Fprintf(e.stderr, "davit: %s %s: %s", se.Method, se.URL, se.Status)
		if len(se.Conditions) > 0 {
			fmt.Fprintf(e.stderr, " (%s)", conditionNames(se.Conditions))
		}
		fmt.Fprintln(e.stderr)
		return exitFail
	case errors.As(err, &syn):
		fmt.Fprintf(e.stderr, "davit: malformed answer: %v\n", err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "davit: interrupted")
		return exitFail
	}
	fmt.Fprintf(e.stderr, "davit: %v\n", err)
	return exitFail
}

func (e *cli) printFailure(f client.Failure) {
	line := "davit: " + f.Href
	if f.Property.Local != "" {
		line += " " + multistatus.ClarkName(f.Property.Space, f.Property.Local)
	}
	line += ": " + statusText(f.Status)
	if len(f.Conditions) > 0 {
		line += " (" + conditionNames(f.Conditions) + ")"
	}
	if f.Description != "" {
		line += ": " + oneLine(f.Description)
	}
	fmt.Fprintln(e.stderr, line)
}

func conditionNames(cs []multistatus.Condition) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = client.ConditionName(c.Name)
	}
	return strings.Join(names, ", ")
}

// statusText formats a status as "423 Locked", preferring the standard
// reason phrase (Apache writes "(status)" for some).
func statusText(s multistatus.Status) string {
	reason := http.StatusText(s.Code)
	if reason == "" {
		reason = s.Reason
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", s.Code, reason))
}

// oneLine collapses white space runs (line breaks included) to one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// sameServer checks that a destination URL is on the source's server and
// returns its path.
func sameServer(src *url.URL, dstArg string) (string, error) {
	dst, err := parseURL(dstArg)
	if err != nil {
		return "", err
	}
	if dst.Scheme != src.Scheme || !strings.EqualFold(dst.Host, src.Host) {
		return "", fmt.Errorf("destination %s is not on the server of %s", dst.Redacted(), src.Redacted())
	}
	if dst.Path == "" {
		return "/", nil
	}
	return dst.Path, nil
}
