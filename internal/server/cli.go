package server

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/davit-dav/davit/internal/batch"
	"github.com/davit-dav/davit/internal/config"
)

// Exit codes of Run and RunConfigCheck.
const (
	ExitOK     = 0
	ExitFailed = 1 // serving failed (a folder or listener could not be opened)
	ExitUsage  = 2 // bad flags or a bad config: nothing was started
)

// ConfigEnv names the config file when --config is not given.
const ConfigEnv = "DAVIT_CONFIG"

// parseServeFlags parses the flags of `davit serve`: --config and one
// flag per config.Setting. Only the flags given become overrides.
func parseServeFlags(args []string, stderr io.Writer) (file string, ovs []config.Override, err error) {
	fl := flag.NewFlagSet("davit serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&file, "config", "", "config file (YAML); see docs/configuration.md ["+ConfigEnv+"]")
	for i := range config.Settings {
		s := &config.Settings[i]
		usage := s.Usage + " [" + s.Env + "]"
		add := func(v string) error {
			ovs = append(ovs, config.Override{Setting: s, Value: v, Source: "--" + s.Flag})
			return nil
		}
		if s.Bool {
			fl.BoolFunc(s.Flag, usage, func(v string) error {
				if _, err := strconv.ParseBool(v); err != nil {
					return err
				}
				return add(v)
			})
		} else {
			fl.Func(s.Flag, usage, add)
		}
	}
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: davit serve [--config FILE] [flags]\n\nFlags override DAVIT_* variables, which override the file.\n\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return "", nil, err
	}
	if fl.NArg() > 0 {
		return "", nil, fmt.Errorf("unexpected argument %q", fl.Arg(0))
	}
	return file, ovs, nil
}

// BatchEndpoint is the path that takes POSTed batch documents (docs/batch.md);
// a batch may also be POSTed to any collection.
const BatchEndpoint = "/.batch"

// batchLayer puts the batch middleware in front of authentication and
// location routing: every item is a sub-request that passes through both,
// so it is judged exactly as the same request alone would be.
func batchLayer(h http.Handler) http.Handler {
	return batch.Wrap(h, batch.Options{Endpoint: BatchEndpoint})
}

// Run is `davit serve`: it parses args, loads the config (the file given
// with --config, else the embedded defaults; then DAVIT_* variables; then
// flags), serves until ctx is done and returns the exit code: 2 for bad
// usage or a bad config (nothing started), 1 when serving fails. SIGHUP
// reloads the config.
func Run(ctx context.Context, args []string, stderr io.Writer) int {
	file, ovs, err := parseServeFlags(args, stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "davit serve: %v\n", err)
			return ExitUsage
		}
		return ExitOK
	}
	if file == "" {
		file = os.Getenv(ConfigEnv)
	}
	cfg, err := config.Load(file, os.LookupEnv, ovs)
	if err == nil {
		err = CheckConfig(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "davit serve: bad config:\n%v\n", err)
		return ExitUsage
	}
	app, err := NewApp(cfg, AppOptions{ConfigFile: file, Env: os.LookupEnv, Flags: ovs, Stderr: stderr, Wrap: batchLayer})
	if err != nil {
		fmt.Fprintf(stderr, "davit serve: %v\n", err)
		return ExitFailed
	}
	if err := app.Listen(); err != nil {
		app.Close()
		fmt.Fprintf(stderr, "davit serve: %v\n", err)
		return ExitFailed
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				app.Reload()
			case <-ctx.Done():
				return
			}
		}
	}()
	_, admin, redirect := app.Addrs()
	app.Logger().Info("serving", "url", app.URL(), "config", file, "locations", len(cfg.Locations),
		"admin", admin, "redirect", redirect, "sync", !cfg.NoSync)
	if err := app.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "davit serve: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// RunConfigCheck is `davit config check FILE`: it loads FILE as `davit
// serve --config FILE` would (DAVIT_* variables included), checks it
// (also the users file and the certificate, but it opens no folder, so it
// is safe next to a running server) and prints the effective config, with
// every default filled in and password hashes redacted, to stdout. Exit
// code 0 when good, 2 when not (the problems on stderr, each naming its
// key and, where known, its line).
func RunConfigCheck(args []string, stdout, stderr io.Writer) int {
	return runConfigCheck(args, os.LookupEnv, stdout, stderr)
}

func runConfigCheck(args []string, env func(string) (string, bool), stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("davit config check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	quiet := fl.Bool("q", false, "print nothing when the config is good")
	noFiles := fl.Bool("no-files", false, "check the config alone, without reading the users file and the certificate")
	fl.Usage = func() {
		fmt.Fprintf(stderr, "usage: davit config check [-q] [-no-files] FILE\n")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return ExitUsage
	}
	cfg, err := config.Load(fl.Arg(0), env, nil)
	if err == nil && !*noFiles {
		err = CheckConfig(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return ExitUsage
	}
	if *quiet {
		return ExitOK
	}
	out, err := cfg.Marshal()
	if err != nil {
		fmt.Fprintf(stderr, "davit config check: %v\n", err)
		return ExitFailed
	}
	stdout.Write(out)
	return ExitOK
}
