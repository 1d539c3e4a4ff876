package server

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/davit-dav/davit/internal/auth"
	"github.com/davit-dav/davit/internal/config"
	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/header"
)

// router is the request handling built from one config: locations,
// users, access rules, forwarded-header trust and logging. A reload builds
// a new router and swaps it in; the old one serves its in-flight requests
// and then releases its folders.
type router struct {
	cfg       *config.Config
	log       *slog.Logger
	metrics   *metrics
	throttle  *auth.Throttle
	users     *auth.Users // nil when no users are defined
	proxies   []netip.Prefix
	realm     string
	accessLog bool
	pool      *storePool
	locs      []*location  // longest base path first
	outer     http.Handler // the whole chain, logs first

	mu       sync.Mutex
	inflight int
	retired  bool
	closed   bool
	stores   []*store // references held, released on close
}

// location is one configured location.
type location struct {
	cfg         config.Location
	key         string // "locations[i]", for logs
	base        string // path without "/{user}"
	perUser     bool
	userInPath  bool
	dav         bool
	readOnly    bool
	anonOptions bool
	read, write auth.ACL
	methods     map[string]bool
	allow       []string // methods offered: enabled, less writes when read-only
	allowHdr    string
	allowSeen   sync.Map     // Allow value of a handler → allowed of it
	allowCount  atomic.Int32 // entries of allowSeen (a few more may be counted, never stored)

	static *site // the site of a shared folder

	mu    sync.Mutex
	users map[string]*site // per-user sites, opened on first use
}

// site is one folder served by one dav.Handler.
type site struct {
	prefix string // URL prefix of the site, "" for the root
	cfg    dav.Config
	dav    *dav.Handler
	store  *store
}

// handler returns the site's handler, rebuilt for a forwarded prefix.
func (s *site) handler(fwdPrefix string) http.Handler {
	if fwdPrefix == "" {
		return s.dav
	}
	c := s.cfg
	c.Prefix = fwdPrefix + s.prefix
	return dav.New(c)
}

// newRouter builds a router and opens (or takes from the pool) the
// folders of its shared locations.
func newRouter(cfg *config.Config, users *auth.Users, log *slog.Logger, m *metrics, th *auth.Throttle, pool *storePool) (*router, error) {
	rt := &router{
		cfg: cfg, log: log, metrics: m, throttle: th, users: users, realm: cfg.Realm,
		accessLog: cfg.Log.Access == nil || *cfg.Log.Access, pool: pool,
	}
	for _, p := range cfg.TrustedProxies {
		pr, err := config.ParsePrefix(p)
		if err != nil {
			return nil, err
		}
		rt.proxies = append(rt.proxies, pr)
	}
	for i, lc := range cfg.Locations {
		l := &location{
			cfg: lc, key: fmt.Sprintf("locations[%d]", i), base: lc.BasePath(),
			perUser: lc.PerUser(), userInPath: lc.UserInPath(), dav: lc.DAVEnabled(),
			readOnly: lc.ReadOnly, anonOptions: lc.AnonymousOptions == nil || *lc.AnonymousOptions,
			read: auth.NewACL(lc.Read), write: auth.NewACL(lc.Write),
			methods: map[string]bool{"OPTIONS": true}, users: map[string]*site{},
		}
		for _, m := range lc.Methods {
			l.methods[m] = true
		}
		for _, m := range config.DAVMethods {
			if l.methods[m] && (config.IsRead(m) || !l.readOnly) {
				l.allow = append(l.allow, m)
			}
		}
		l.allowHdr = strings.Join(l.allow, ", ")
		if !l.perUser {
			s, err := rt.openSite(l, lc.Folder, sitePrefix(lc.Path))
			if err != nil {
				rt.release()
				return nil, fmt.Errorf("%s.folder %q: %w", l.key, lc.Folder, err)
			}
			l.static = s
		}
		rt.locs = append(rt.locs, l)
	}
	slices.SortStableFunc(rt.locs, func(a, b *location) int { return len(b.base) - len(a.base) })
	return rt, nil
}

func sitePrefix(p string) string {
	if p == "/" {
		return ""
	}
	return p
}

// openSite opens folder for location l and builds its handler.
func (rt *router) openSite(l *location, folder, prefix string) (*site, error) {
	st, err := rt.pool.acquire(folder, !l.dav)
	if err != nil {
		return nil, err
	}
	rt.mu.Lock()
	rt.stores = append(rt.stores, st)
	rt.mu.Unlock()
	c := dav.Config{
		FS: newFilterFS(st.fs, l.cfg.Refuse, l.cfg.Hide), Locks: st.locks, Props: st.props,
		Prefix: prefix, Logger: rt.log,
		MaxInfinityEntries: l.cfg.MaxInfinityEntries, MaxUploadBytes: int64(l.cfg.MaxUpload),
		OnPropfindEntries: func(n int) { rt.metrics.propfindEntries.Add(float64(n)) },
	}
	return &site{prefix: prefix, cfg: c, dav: dav.New(c), store: st}, nil
}

// siteFor returns the site serving user in l.
func (rt *router) siteFor(l *location, user string) (*site, error) {
	if !l.perUser {
		return l.static, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.users[user]; s != nil {
		return s, nil
	}
	prefix := sitePrefix(l.base)
	if l.userInPath {
		prefix = strings.TrimSuffix(l.base, "/") + "/" + user
	}
	s, err := rt.openSite(l, strings.ReplaceAll(l.cfg.Folder, config.UserPlaceholder, user), prefix)
	if err != nil {
		return nil, err
	}
	l.users[user] = s
	return s, nil
}

// acquire counts a request in; false when the router is already closed.
func (rt *router) acquire() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return false
	}
	rt.inflight++
	return true
}

// done counts a request out.
func (rt *router) done() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.inflight--
	if rt.retired && rt.inflight == 0 {
		rt.closeLocked()
	}
}

// retire marks the router replaced: it closes once idle.
func (rt *router) retire() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.retired = true
	if rt.inflight == 0 {
		rt.closeLocked()
	}
}

// release drops the folder references at once (a router never used).
func (rt *router) release() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.closeLocked()
}

func (rt *router) closeLocked() {
	if rt.closed {
		return
	}
	rt.closed = true
	for _, st := range rt.stores {
		rt.pool.release(st)
	}
	rt.stores = nil
}

// idle reports whether no request is in flight.
func (rt *router) idle() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.inflight == 0
}

// ready reports whether every shared folder is open.
func (rt *router) ready() bool {
	for _, l := range rt.locs {
		if l.static != nil && l.static.store.closed.Load() {
			return false
		}
	}
	return true
}

// match returns the location of the clean path p, and the user named by
// the path for a location ending in /{user} ("" when the path stops at
// the base).
func (rt *router) match(p string) (*location, string) {
	for _, l := range rt.locs {
		if !within(l.base, p) {
			continue
		}
		if !l.userInPath {
			return l, ""
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(p, l.base), "/")
		u, _, _ := strings.Cut(rest, "/")
		return l, u
	}
	return nil, ""
}

func within(root, p string) bool {
	if root == "/" || p == root {
		return true
	}
	return strings.HasPrefix(p, root) && p[len(root)] == '/'
}

// AccessError is a refusal by Authorize: the HTTP status (401, 403, 404
// or 405) and a short reason.
type AccessError struct {
	Status int
	Reason string
}

func (e *AccessError) Error() string { return strconv.Itoa(e.Status) + " " + e.Reason }

// decide applies a location's rules to an authenticated (or anonymous,
// user == "") request. It is the one place where access is decided.
func (l *location) decide(user, method, urlUser string, groups *auth.Users) *AccessError {
	if method == http.MethodOptions && l.anonOptions {
		return nil
	}
	acls := []auth.ACL{l.read}
	switch {
	case method == "COPY":
		acls = append(acls, l.write)
	case !config.IsRead(method):
		acls = []auth.ACL{l.write}
	}
	var g interface{ InGroup(string, string) bool }
	if groups != nil {
		g = groups
	}
	if user == "" {
		for _, a := range acls {
			if !a.Anonymous() {
				return &AccessError{http.StatusUnauthorized, "authentication required"}
			}
		}
	}
	if !l.methods[method] {
		return &AccessError{http.StatusMethodNotAllowed, "method not allowed here"}
	}
	if !config.IsRead(method) && l.readOnly {
		return &AccessError{http.StatusForbidden, "this location is read-only"}
	}
	if l.perUser {
		if !config.ValidUserName(user) {
			return &AccessError{http.StatusForbidden, "this user name cannot have a folder"}
		}
		if l.userInPath {
			if urlUser == "" {
				return &AccessError{http.StatusNotFound, "not found"}
			}
			if urlUser != user {
				return &AccessError{http.StatusForbidden, "not your folder"}
			}
		}
	}
	for _, a := range acls {
		if !a.Allows(user, g) {
			return &AccessError{http.StatusForbidden, "access denied"}
		}
	}
	return nil
}

// authorize decides whether user may send method to the clean path p.
func (rt *router) authorize(user, method, p string) (*location, *AccessError) {
	l, urlUser := rt.match(p)
	if l == nil {
		return nil, &AccessError{http.StatusNotFound, "not found"}
	}
	return l, l.decide(user, method, urlUser, rt.users)
}

// ServeHTTP authenticates, authorizes and hands the request to the site.
func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info, outer := infoOf(r)
	p, err := header.CleanPath(r.URL.EscapedPath(), "")
	if err != nil {
		plainError(w, http.StatusBadRequest, "malformed path")
		return
	}
	l, urlUser := rt.match(p)
	if l == nil {
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "OPTIONS")
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		plainError(w, http.StatusNotFound, "not found")
		return
	}
	user, ok := rt.authenticate(w, r, info)
	if !ok {
		return
	}
	info.user = user
	if e := l.decide(user, r.Method, urlUser, rt.users); e != nil {
		rt.deny(w, l, e)
		return
	}
	if r.Method == "COPY" || r.Method == "MOVE" {
		if e := rt.checkDestination(r, info, l, user); e != nil {
			rt.deny(w, l, e)
			return
		}
	}
	if r.Method == http.MethodOptions && (!l.dav || (l.perUser && (user == "" || (l.userInPath && urlUser != user))) ||
		l.decide(user, http.MethodGet, urlUser, rt.users) != nil) {
		// No folder to ask: a plain location, a per-user location asked
		// anonymously or about someone else's folder, or a caller who
		// may not read here (anonymous_options lets Windows ask before it
		// logs in). The answer names the location's methods, the same
		// for every path, so that it tells nobody what exists.
		l.options(w)
		return
	}
	s, err := rt.siteFor(l, user)
	if err != nil {
		rt.log.ErrorContext(r.Context(), "cannot open folder", "location", l.cfg.Path, "user", user, "err", err, "request_id", info.id)
		plainError(w, http.StatusInternalServerError, "internal error")
		return
	}
	if !outer {
		// The outer layer's context names the user (infoCtx).
		r = dav.WithUser(r, user)
	}
	x := &routed{r: *r, u: *r.URL} // a shallow copy, as r.WithContext makes
	x.u.Path, x.u.RawPath = info.prefix+p, ""
	if p != "/" && strings.HasSuffix(r.URL.Path, "/") {
		x.u.Path += "/" // the cleaned path, but still marked a collection
	}
	x.r.URL = &x.u
	// The outer layer's respWriter takes the location on, rather than a
	// second wrapper per request; a batch item's writer gets its own.
	rw, ok := w.(*respWriter)
	if !ok || rw.loc != nil {
		rw = &respWriter{ResponseWriter: w}
	}
	rw.loc, rw.method = l, r.Method
	s.handler(info.prefix).ServeHTTP(rw, &x.r)
}

// routed is the request the router hands a site's handler, with its
// cleaned path's URL, in one allocation.
type routed struct {
	r http.Request
	u url.URL
}

// options answers OPTIONS from the location's settings alone.
func (l *location) options(w http.ResponseWriter) {
	h := w.Header()
	if l.dav {
		h.Set("DAV", "1, 3")
		if slices.Contains(l.allow, "LOCK") {
			h.Set("DAV", "1, 2, 3")
			h.Set("MS-Author-Via", "DAV")
		}
	}
	h.Set("Allow", l.allowHdr)
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// fixHeaders limits Allow (and the DAV class on OPTIONS) to what the
// location offers, just before the headers of an answer to method go out.
func (l *location) fixHeaders(h http.Header, method string) {
	if v := h.Get("Allow"); v != "" {
		h["Allow"] = []string{l.allowed(v)}
	}
	if method == http.MethodOptions && h.Get("DAV") != "" && !slices.Contains(l.allow, "LOCK") {
		h.Set("DAV", "1, 3") // no class 2 without locks (litmus, Finder)
		h.Del("MS-Author-Via")
	}
}

// maxAllowSeen bounds the Allow values a location remembers: handlers send
// a handful (one per kind of resource), each computed once.
const maxAllowSeen = 32

// allowed returns v, an Allow header value, less the methods the location
// does not offer.
func (l *location) allowed(v string) string {
	if s, ok := l.allowSeen.Load(v); ok {
		return s.(string)
	}
	var out []string
	for m := range strings.SplitSeq(v, ",") {
		if m = strings.TrimSpace(m); slices.Contains(l.allow, m) {
			out = append(out, m)
		}
	}
	s := strings.Join(out, ", ")
	if l.allowCount.Load() < maxAllowSeen && l.allowCount.Add(1) <= maxAllowSeen {
		l.allowSeen.Store(v, s)
	}
	return s
}

// authenticate checks Basic credentials, before anything reads the body:
// no credentials gives the anonymous user (""); wrong ones, or another
// scheme, a 401 challenge; too many failures from the address a 429.
func (rt *router) authenticate(w http.ResponseWriter, r *http.Request, info *reqInfo) (string, bool) {
	if rt.users == nil {
		return "", true // no users: everyone is anonymous
	}
	name, pass, has := r.BasicAuth()
	if !has {
		if r.Header.Get("Authorization") != "" {
			rt.challenge(w)
			return "", false
		}
		return "", true
	}
	if ok, wait := rt.throttle.Allow(info.client); !ok {
		rt.metrics.loginThrottled.Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		plainError(w, http.StatusTooManyRequests, "too many failed logins; try again later")
		return "", false
	}
	if !rt.users.Verify(name, pass) {
		rt.throttle.Fail(info.client)
		rt.metrics.loginFailures.Inc()
		rt.log.LogAttrs(r.Context(), slog.LevelWarn, "login failed",
			slog.String("user", name), slog.String("remote", info.client.String()), slog.String("request_id", info.id))
		rt.challenge(w)
		return "", false
	}
	return name, true
}

func (rt *router) challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", auth.Challenge(rt.realm))
	plainError(w, http.StatusUnauthorized, "authentication required")
}

func (rt *router) deny(w http.ResponseWriter, l *location, e *AccessError) {
	switch e.Status {
	case http.StatusUnauthorized:
		rt.challenge(w)
		return
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", l.allowHdr)
	}
	plainError(w, e.Status, e.Reason)
}

// checkDestination keeps COPY and MOVE inside what the user may reach:
// a Destination in another location is refused (403 when the user may
// not write there, else 502: a location is a server of its own), and in
// a per-user location it must name the same user (403).
func (rt *router) checkDestination(r *http.Request, info *reqInfo, l *location, user string) *AccessError {
	raw := r.Header.Get("Destination")
	if raw == "" {
		return nil // the handler answers 400
	}
	dp, err := header.ParseDestination(raw, info.prefix)
	switch {
	case errors.Is(err, header.ErrOutsidePrefix):
		return &AccessError{http.StatusBadGateway, "Destination is not on this server"}
	case err != nil:
		return &AccessError{http.StatusBadRequest, "malformed Destination"}
	}
	dl, du := rt.match(dp)
	if dl != l {
		if dl == nil {
			return &AccessError{http.StatusBadGateway, "Destination is not on this server"}
		}
		if e := dl.decide(user, "PUT", du, rt.users); e != nil && e.Status != http.StatusMethodNotAllowed {
			return &AccessError{http.StatusForbidden, "no write access to the Destination"}
		}
		return &AccessError{http.StatusBadGateway, "Destination is in another location"}
	}
	if l.userInPath && du != user {
		return &AccessError{http.StatusForbidden, "Destination is not in your folder"}
	}
	return nil
}

// plainError writes a short text error.
func plainError(w http.ResponseWriter, status int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintln(w, msg)
}
