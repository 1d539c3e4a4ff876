package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/davit-dav/davit/internal/auth"
	"github.com/davit-dav/davit/internal/config"
	"github.com/davit-dav/davit/internal/header"
)

// AppOptions are what an App needs besides its config.
type AppOptions struct {
	// ConfigFile, Env and Flags are read again by Reload: the file ("" for
	// none), the environment lookup (os.LookupEnv; nil for none) and the
	// flag overrides.
	ConfigFile string
	Env        func(string) (string, bool)
	Flags      []config.Override
	// Stderr receives the logs (default os.Stderr).
	Stderr io.Writer
	// Wrap, when set, is put between the outer layer (request id,
	// forwarded headers, access log, metrics) and authentication, such as
	// a batch middleware whose sub-requests must each be authorized.
	Wrap func(http.Handler) http.Handler
}

// App is a configured Davit server: its folders, its handlers, its
// listeners, reloadable in place. Build one with NewApp, then Listen and
// Serve; or use Handler and AdminHandler directly.
type App struct {
	opt      AppOptions
	cfg      *config.Config // the running config; guarded by reloadMu
	log      *slog.Logger
	level    *slog.LevelVar
	pool     *storePool
	metrics  *metrics
	throttle *auth.Throttle
	certs    *certReloader // nil without TLS
	cur      atomic.Pointer[router]
	stopping atomic.Bool
	reloadMu sync.Mutex

	ln, adminLn, redirectLn net.Listener
}

// NewApp opens the folders of cfg (which must be valid: see config.Load
// and CheckConfig) and builds its handlers.
func NewApp(cfg *config.Config, opt AppOptions) (*App, error) {
	if opt.Stderr == nil {
		opt.Stderr = os.Stderr
	}
	a := &App{opt: opt, cfg: cfg, level: new(slog.LevelVar)}
	lvl, _ := config.ParseLevel(cfg.Log.Level)
	a.level.Set(lvl)
	hopts := &slog.HandlerOptions{Level: a.level}
	if cfg.Log.Format == "json" {
		a.log = slog.New(slog.NewJSONHandler(opt.Stderr, hopts))
	} else {
		a.log = slog.New(slog.NewTextHandler(opt.Stderr, hopts))
	}
	a.pool = newStorePool(storeOptionsOf(cfg), a.log)
	a.metrics = newMetrics(func() float64 { return float64(a.pool.activeLocks()) })
	a.throttle = newThrottle(cfg)
	if cfg.TLS.Enabled() {
		var err error
		if a.certs, err = newCertReloader(cfg.TLS.Cert, cfg.TLS.Key, a.log); err != nil {
			return nil, cfg.ErrorAt("tls.cert", err.Error())
		}
	}
	rt, err := a.build(cfg)
	if err != nil {
		return nil, err
	}
	a.cur.Store(rt)
	a.warn(cfg)
	return a, nil
}

func newThrottle(cfg *config.Config) *auth.Throttle {
	t := cfg.LoginThrottle
	if t.Disabled {
		return nil
	}
	return auth.NewThrottle(t.Burst, t.Interval.D(), t.MaxAddresses, nil)
}

// loadUsers builds the user set of cfg, nil when it defines none.
func loadUsers(cfg *config.Config) (*auth.Users, error) {
	if !cfg.HasUsers() {
		return nil, nil
	}
	specs := make([]auth.UserSpec, len(cfg.Users))
	for i, u := range cfg.Users {
		specs[i] = auth.UserSpec{Name: u.Name, PasswordHash: u.PasswordHash, Groups: u.Groups}
	}
	u, err := auth.NewUsers(cfg.UsersFile, specs, cfg.Groups)
	if err != nil {
		return nil, cfg.ErrorAt("users_file", err.Error())
	}
	return u, nil
}

// CheckConfig checks what Validate cannot without reading files: the
// users file and the TLS certificate and key. It opens no folder, so it
// is safe while a server runs on the same config.
func CheckConfig(cfg *config.Config) error {
	var es config.Errors
	if _, err := loadUsers(cfg); err != nil {
		var e *config.Error
		if errors.As(err, &e) {
			es = append(es, e)
		}
	}
	if cfg.TLS.Enabled() {
		if _, err := tls.LoadX509KeyPair(cfg.TLS.Cert, cfg.TLS.Key); err != nil {
			es = append(es, cfg.ErrorAt("tls.cert", "cannot load the certificate and key: "+err.Error()))
		}
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// build makes the router of cfg.
func (a *App) build(cfg *config.Config) (*router, error) {
	users, err := loadUsers(cfg)
	if err != nil {
		return nil, err
	}
	rt, err := newRouter(cfg, users, a.log, a.metrics, a.throttle, a.pool)
	if err != nil {
		return nil, err
	}
	var inner http.Handler = rt
	if a.opt.Wrap != nil {
		inner = a.opt.Wrap(rt)
	}
	rt.outer = rt.serveOuter(inner)
	return rt, nil
}

// warn logs risky settings.
func (a *App) warn(cfg *config.Config) {
	host, _, _ := net.SplitHostPort(cfg.Listen)
	loopback := false
	if ip, err := netip.ParseAddr(host); err == nil {
		loopback = ip.IsLoopback()
	} else if host == "localhost" {
		loopback = true
	}
	for _, l := range cfg.Locations {
		if !loopback && !l.ReadOnly && auth.NewACL(l.Write).Anonymous() && l.DAVEnabled() {
			a.log.Warn("anyone can write: the location allows anonymous writes on a non-loopback address", "location", l.Path, "listen", cfg.Listen)
		}
	}
	if cfg.HasUsers() && !cfg.TLS.Enabled() && !loopback && len(cfg.TrustedProxies) == 0 {
		a.log.Warn("passwords travel in clear: Basic authentication without TLS on a non-loopback address", "listen", cfg.Listen)
	}
}

// ServeHTTP serves one request on the current router.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for {
		rt := a.cur.Load()
		if rt.acquire() {
			serveCounted(rt, w, r)
			return
		}
		if a.cur.Load() == rt { // closed and not replaced: shut down
			plainError(w, http.StatusServiceUnavailable, "shutting down")
			return
		}
	}
}

// serveCounted serves a request that rt counted in, and counts it out
// (even on a panic). Its own function: a defer in a loop is allocated.
func serveCounted(rt *router, w http.ResponseWriter, r *http.Request) {
	defer rt.done()
	rt.outer.ServeHTTP(w, r)
}

// Handler is the main handler (the App itself).
func (a *App) Handler() http.Handler { return a }

// Logger is the App's logger.
func (a *App) Logger() *slog.Logger { return a.log }

// Authorize reports whether user ("" for anonymous) may send method to
// urlPath (an escaped request path, such as a batch item's href path)
// under the running config: nil when allowed, else an *AccessError with
// the status (401, 403, 404 or 405). Forwarded prefixes must already be
// removed from urlPath.
func (a *App) Authorize(user, method, urlPath string) error {
	p, err := header.CleanPath(urlPath, "")
	if err != nil {
		return &AccessError{http.StatusBadRequest, "malformed path"}
	}
	if _, e := a.cur.Load().authorize(user, method, p); e != nil {
		return e
	}
	return nil
}

// AdminHandler serves /metrics, /healthz (the process is up) and /readyz
// (the folders are open and the server is not shutting down).
func (a *App) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if a.stopping.Load() || !a.cur.Load().ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// Reload reads the config again (file, environment, flags), checks it and,
// if it is good, swaps in new handlers: requests in flight finish on the
// old ones, new requests get the new ones, and no connection is dropped.
// A bad config is logged and returned; the running one stays. Listener
// addresses, TLS on or off, the log format, loopback_congestion, and the
// folder options (no_sync, lock_max_timeout, for folders already open)
// need a restart.
// The TLS certificate files are read again.
func (a *App) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	cfg, err := config.Load(a.opt.ConfigFile, a.opt.Env, a.opt.Flags)
	if err == nil {
		err = CheckConfig(cfg)
	}
	if err == nil && cfg.TLS.Enabled() != a.cfg.TLS.Enabled() {
		err = errors.New("turning TLS on or off needs a restart")
	}
	var rt *router
	if err == nil {
		if a.certs != nil {
			if cfg.TLS.Cert != a.cfg.TLS.Cert || cfg.TLS.Key != a.cfg.TLS.Key {
				err = a.certs.setFiles(cfg.TLS.Cert, cfg.TLS.Key)
			} else {
				a.certs.reload()
			}
		}
	}
	if err == nil {
		old := a.cfg.LoginThrottle
		if cfg.LoginThrottle != old {
			a.throttle = newThrottle(cfg)
		}
		a.pool.setOptions(storeOptionsOf(cfg))
		rt, err = a.build(cfg)
	}
	if err != nil {
		a.metrics.reloads.WithLabelValues("error").Inc()
		a.log.Error("config reload failed; keeping the running config", "err", err)
		return err
	}
	for _, c := range []struct{ key, was, now string }{
		{"listen", a.cfg.Listen, cfg.Listen}, {"admin.listen", a.cfg.Admin.Listen, cfg.Admin.Listen},
		{"tls.redirect_from", a.cfg.TLS.RedirectFrom, cfg.TLS.RedirectFrom}, {"log.format", a.cfg.Log.Format, cfg.Log.Format},
		{"read_header_timeout", a.cfg.ReadHeaderTimeout.String(), cfg.ReadHeaderTimeout.String()},
		{"idle_timeout", a.cfg.IdleTimeout.String(), cfg.IdleTimeout.String()},
		{"loopback_congestion", a.cfg.LoopbackCongestion, cfg.LoopbackCongestion},
	} {
		if c.was != c.now {
			a.log.Warn("changed key needs a restart; keeping the old value", "key", c.key, "running", c.was, "configured", c.now)
		}
	}
	lvl, _ := config.ParseLevel(cfg.Log.Level)
	a.level.Set(lvl)
	a.cur.Swap(rt).retire()
	a.cfg = cfg
	a.metrics.reloads.WithLabelValues("ok").Inc()
	a.log.Info("config reloaded", "file", a.opt.ConfigFile)
	a.warn(cfg)
	return nil
}

// Listen opens the listeners of the config: the main one, and the admin
// and redirect ones when configured.
func (a *App) Listen() error {
	var err error
	if a.ln, err = net.Listen("tcp", a.cfg.Listen); err != nil {
		return err
	}
	a.ln = withCongestion(a.ln, a.cfg.LoopbackCongestion, a.log)
	if a.cfg.Admin.Listen != "" {
		if a.adminLn, err = net.Listen("tcp", a.cfg.Admin.Listen); err != nil {
			a.ln.Close()
			return err
		}
	}
	if a.cfg.TLS.RedirectFrom != "" {
		if a.redirectLn, err = net.Listen("tcp", a.cfg.TLS.RedirectFrom); err != nil {
			a.ln.Close()
			if a.adminLn != nil {
				a.adminLn.Close()
			}
			return err
		}
	}
	return nil
}

// Addrs returns the bound addresses (after Listen) of the main, admin and
// redirect listeners ("" for those not configured).
func (a *App) Addrs() (main, admin, redirect string) {
	str := func(l net.Listener) string {
		if l == nil {
			return ""
		}
		return l.Addr().String()
	}
	return str(a.ln), str(a.adminLn), str(a.redirectLn)
}

// URL is the base URL of the main listener (after Listen).
func (a *App) URL() string {
	scheme := "http"
	if a.certs != nil {
		scheme = "https"
	}
	return scheme + "://" + a.ln.Addr().String()
}

// Serve serves on the listeners until ctx is done, then shuts down: the
// readiness check fails at once, listeners close, in-flight requests get
// shutdown_grace to finish, then the folders close. Call Listen first.
func (a *App) Serve(ctx context.Context) error {
	cfg := a.cfg
	main := NewHTTPServer(a, a.log)
	main.ReadHeaderTimeout, main.IdleTimeout = cfg.ReadHeaderTimeout.D(), cfg.IdleTimeout.D()
	type srv struct {
		s     *http.Server
		serve func() error
	}
	srvs := []srv{{main, func() error { return main.Serve(coalesceListener{a.ln}) }}}
	if a.certs != nil {
		main.TLSConfig = a.certs.tlsConfig(cfg.TLS.MinVersion)
		srvs[0].serve = func() error { return main.ServeTLS(a.ln, "", "") }
	}
	if a.adminLn != nil {
		s := NewHTTPServer(a.AdminHandler(), a.log)
		srvs = append(srvs, srv{s, func() error { return s.Serve(a.adminLn) }})
	}
	if a.redirectLn != nil {
		s := NewHTTPServer(redirectHandler(a.ln.Addr().String()), a.log)
		srvs = append(srvs, srv{s, func() error { return s.Serve(a.redirectLn) }})
	}
	errc := make(chan error, len(srvs))
	for _, s := range srvs {
		go func() { errc <- s.serve() }()
	}
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	a.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace.D())
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range srvs {
		wg.Go(func() {
			if e := s.s.Shutdown(sctx); errors.Is(e, context.DeadlineExceeded) {
				a.log.Warn("shutdown grace period over; closing connections", "grace", cfg.ShutdownGrace.String())
				s.s.Close()
			}
		})
	}
	wg.Wait()
	a.close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// close waits a little for handlers still running (their connections are
// closed, so they stop soon) and closes every folder.
func (a *App) close() {
	rt := a.cur.Load()
	for deadline := time.Now().Add(5 * time.Second); !rt.idle() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	rt.retire()
	if err := a.pool.closeAll(); err != nil {
		a.log.Warn("closing folders", "err", err)
	}
}

// Close closes the folders without serving (for an App never served).
func (a *App) Close() error {
	a.cur.Load().retire()
	for _, l := range []net.Listener{a.ln, a.adminLn, a.redirectLn} {
		if l != nil {
			l.Close()
		}
	}
	return a.pool.closeAll()
}

// storeOptionsOf is what the configuration sets of storeOptions.
func storeOptionsOf(cfg *config.Config) storeOptions {
	return storeOptions{noSync: cfg.NoSync, noFolderCache: cfg.NoFolderCache, noFileCache: cfg.NoFileCache, lockMax: cfg.LockMaxTimeout.D()}
}
