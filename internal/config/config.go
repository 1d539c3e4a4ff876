// Package config is Davit's configuration: a typed tree with a doc comment
// per key, embedded defaults, a separate validation step, and the loading
// path (one YAML file, then DAVIT_* environment variables, then flags).
//
// The format is YAML (gopkg.in/yaml.v3): it reports the line of every
// syntax and type error, and its node tree lets validation name the line of
// the key it refuses. Every error names the key, as "locations[1].path".
// docs/configuration.md documents every key; keep the two in step.
package config

import (
	"slices"
	"strings"
)

// Config is the whole configuration. The zero value is not usable: Load
// (or SetDefaults) fills in the defaults, then Validate checks it.
type Config struct {
	// Listen is the address of the main listener, host:port.
	// Default "127.0.0.1:8080".
	Listen string `yaml:"listen"`

	// TLS turns on HTTPS on the main listener (and HTTP/2 with it).
	TLS TLS `yaml:"tls"`

	// TrustedProxies lists the addresses (CIDRs or single IPs) of reverse
	// proxies whose X-Forwarded-For, -Proto, -Host, -Prefix and X-Request-Id
	// headers are believed. From anyone else those headers are ignored.
	TrustedProxies []string `yaml:"trusted_proxies,flow"`

	// Realm is the Basic authentication realm shown by clients.
	// Default "Davit".
	Realm string `yaml:"realm"`

	// UsersFile is an htpasswd file (bcrypt, SHA-1, MD5-crypt/apr1, crypt
	// and the other formats Apache's htpasswd writes). Reloaded on SIGHUP.
	UsersFile string `yaml:"users_file"`

	// Users are users defined in the config itself, with bcrypt hashes
	// (`htpasswd -nbB name password` prints one). A name also in UsersFile
	// is refused.
	Users []User `yaml:"users"`

	// Groups maps a group name to its members, for "@group" entries in a
	// location's read and write lists. Members may come from either source.
	Groups map[string][]string `yaml:"groups"`

	// LoginThrottle slows down repeated failed logins from one address.
	LoginThrottle Throttle `yaml:"login_throttle"`

	// Log configures the server log and the access log (on standard error).
	Log Log `yaml:"log"`

	// Admin is the listener for /metrics, /healthz and /readyz.
	Admin Admin `yaml:"admin"`

	// NoSync turns off the fsync of uploads (faster; a machine crash may
	// lose the last writes). Default false. Takes effect when a folder is
	// first opened (a restart, for folders already open).
	NoSync bool `yaml:"no_sync"`

	// NoFolderCache turns off the keeping of small folders' names between
	// listings (on Linux, for local file systems; each kept folder is
	// watched with inotify so that no listing is stale; see
	// docs/performance.md). Default false. Takes effect when a folder is
	// first opened.
	NoFolderCache bool `yaml:"no_folder_cache"`

	// NoFileCache turns off the keeping of small files open between reads
	// of them (on Linux, for local file systems; each read still looks the
	// name up and uses a kept file only when it is that very file,
	// unchanged; see docs/performance.md). Default false. Takes effect when
	// a folder is first opened.
	NoFileCache bool `yaml:"no_file_cache"`

	// LockMaxTimeout is the longest lock timeout granted; longer or
	// infinite requests get this. Default 1h. Takes effect when a folder is
	// first opened.
	LockMaxTimeout Duration `yaml:"lock_max_timeout"`

	// ShutdownGrace is how long in-flight requests may run after SIGTERM
	// before their connections are closed. Default 10s.
	ShutdownGrace Duration `yaml:"shutdown_grace"`

	// LoopbackCongestion is the TCP congestion control set on connections
	// from a loopback address (a reverse proxy or a client on the same
	// machine), such as "reno" or "cubic"; "system" leaves the system's
	// (net.ipv4.tcp_congestion_control). Default "reno": a delay-based
	// algorithm such as BBR, which some systems make the default, paces a
	// loopback connection on scheduling noise (see docs/performance.md).
	// Linux only. Read at start: a reload keeps the running value.
	LoopbackCongestion string `yaml:"loopback_congestion"`

	// ReadHeaderTimeout bounds the time to read a request's headers.
	// Default 10s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`

	// IdleTimeout bounds how long an idle keep-alive connection is kept.
	// Default 2m.
	IdleTimeout Duration `yaml:"idle_timeout"`

	// Locations are the URL prefixes served, each mapped to a folder. The
	// longest matching path wins. Default: one location, path "/", folder
	// "./data".
	Locations []Location `yaml:"locations"`

	// file and lines locate keys for error messages (set by Parse);
	// sources names the variable or flag that overrode a key.
	file    string
	lines   map[string]int
	sources map[string]string
}

// TLS configures HTTPS.
type TLS struct {
	// Cert is the certificate chain file (PEM). With Key, turns on TLS.
	// The files are read again when their modification time changes, so a
	// renewed certificate is served without a restart.
	Cert string `yaml:"cert"`
	// Key is the private key file (PEM).
	Key string `yaml:"key"`
	// RedirectFrom, when set, is the address of a plain-HTTP listener that
	// redirects every request to HTTPS (308, so methods and bodies are
	// kept), such as ":80".
	RedirectFrom string `yaml:"redirect_from"`
	// MinVersion is the oldest TLS version accepted: "1.2" or "1.3".
	// Default "1.2".
	MinVersion string `yaml:"min_version"`
}

// Enabled reports whether TLS is configured.
func (t TLS) Enabled() bool { return t.Cert != "" }

// User is a user defined in the config.
type User struct {
	// Name is the login name. Required; no ":" and no "/".
	Name string `yaml:"name"`
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$). Required.
	PasswordHash string `yaml:"password_hash"`
	// Groups the user belongs to (added to the top-level groups).
	Groups []string `yaml:"groups,flow"`
}

// Throttle configures the per-address login throttle: a token bucket that
// each failed login empties by one. When it is empty, requests carrying
// credentials from that address get 429 with Retry-After, without the
// password being checked, until a token comes back.
type Throttle struct {
	// Disabled turns the throttle off. Default false.
	Disabled bool `yaml:"disabled"`
	// Burst is the number of failed logins allowed in a row. Default 5.
	Burst int `yaml:"burst"`
	// Interval is the time for one more attempt to come back. Default 10s.
	Interval Duration `yaml:"interval"`
	// MaxAddresses bounds the addresses remembered (oldest dropped first).
	// Default 10000.
	MaxAddresses int `yaml:"max_addresses"`
}

// Log configures logging.
type Log struct {
	// Format is "text" or "json". Default "text".
	Format string `yaml:"format"`
	// Level is "debug", "info", "warn" or "error". Default "info".
	Level string `yaml:"level"`
	// Access turns the access log (one line per request) on or off.
	// Default true.
	Access *bool `yaml:"access"`
}

// Admin configures the operations listener.
type Admin struct {
	// Listen is the address serving /metrics (Prometheus), /healthz
	// (liveness) and /readyz (readiness). Empty: no admin listener.
	// Keep it private: it needs no credentials.
	Listen string `yaml:"listen"`
}

// Location is a URL prefix mapped to a folder.
type Location struct {
	// Path is the URL prefix, such as "/webdav" or "/" (required). Absolute,
	// clean, no trailing slash. It may end in "/{user}" when Folder holds
	// {user}: the URL then names the user, and only that user gets in.
	Path string `yaml:"path"`

	// Folder is the folder served (required), created when missing. When it
	// contains {user}, each authenticated user gets their own folder (the
	// name substituted), opened on first use; nobody sees anyone else's.
	// Relative paths are relative to the working directory.
	Folder string `yaml:"folder"`

	// DAV turns WebDAV on. Off, the location serves plain GET and HEAD
	// (and OPTIONS), like an Apache location without "Dav On". Default true.
	DAV *bool `yaml:"dav"`

	// Methods lists the methods allowed; others get 405 with an Allow
	// header listing these. OPTIONS is always allowed. Default: every
	// method Davit serves (OPTIONS GET HEAD PUT DELETE MKCOL COPY MOVE
	// PROPFIND PROPPATCH LOCK UNLOCK), or GET HEAD OPTIONS without DAV.
	Methods []string `yaml:"methods,flow"`

	// ReadOnly refuses every writing method with 403, for everyone.
	// Default false.
	ReadOnly bool `yaml:"read_only"`

	// Read lists who may use the reading methods (GET, HEAD, PROPFIND):
	// user names, "@group", "*" (any authenticated user) or "anonymous"
	// (anyone, without credentials). Default: ["*"] when users are
	// defined, else ["anonymous"].
	Read []string `yaml:"read,flow"`

	// Write lists who may use the writing methods (PUT, DELETE, MKCOL,
	// COPY, MOVE, PROPPATCH, LOCK, UNLOCK), in the same form as Read.
	// COPY needs Read as well. Default: as Read's default.
	Write []string `yaml:"write,flow"`

	// AnonymousOptions answers OPTIONS without credentials (Windows asks
	// before it authenticates). Default true.
	AnonymousOptions *bool `yaml:"anonymous_options"`

	// MaxInfinityEntries bounds PROPFIND Depth: infinity: a larger tree is
	// refused with 403 and DAV:propfind-finite-depth. -1 refuses
	// Depth: infinity always. Default 100000.
	MaxInfinityEntries int `yaml:"max_infinity_entries"`

	// MaxUpload bounds PUT bodies ("100MiB", "2G" or bytes); larger ones get
	// 413. 0: no limit. Default 0.
	MaxUpload ByteSize `yaml:"max_upload"`

	// Refuse lists name patterns (path.Match syntax, matched against each
	// path element, such as "._*") that cannot be created: PUT, MKCOL and
	// the Destination of COPY and MOVE get 403. Existing ones stay visible.
	Refuse []string `yaml:"refuse,flow"`

	// Hide lists name patterns that are invisible: not listed, 404 when
	// asked for, 403 when created. Removing a collection removes the
	// hidden names inside it.
	Hide []string `yaml:"hide,flow"`
}

// DAVEnabled reports whether WebDAV is on (the default).
func (l *Location) DAVEnabled() bool { return l.DAV == nil || *l.DAV }

// PerUser reports whether the folder is per user.
func (l *Location) PerUser() bool { return strings.Contains(l.Folder, UserPlaceholder) }

// UserInPath reports whether the URL path ends in the user's name.
func (l *Location) UserInPath() bool { return strings.HasSuffix(l.Path, "/"+UserPlaceholder) }

// BasePath is Path without a trailing "/{user}".
func (l *Location) BasePath() string {
	if l.UserInPath() {
		b := strings.TrimSuffix(l.Path, "/"+UserPlaceholder)
		if b == "" {
			return "/"
		}
		return b
	}
	return l.Path
}

// AllowsMethod reports whether m is in Methods.
func (l *Location) AllowsMethod(m string) bool { return slices.Contains(l.Methods, m) }

// UserPlaceholder is replaced by the user's name in a per-user Folder and Path.
const UserPlaceholder = "{user}"

// Special entries of Read and Write.
const (
	Anonymous     = "anonymous" // anyone, with or without credentials
	Authenticated = "*"         // any authenticated user
)

// DAVMethods are the methods Davit serves, in the order Allow lists them.
var DAVMethods = []string{"OPTIONS", "GET", "HEAD", "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPFIND", "PROPPATCH", "LOCK", "UNLOCK"}

// PlainMethods are the methods of a location without DAV.
var PlainMethods = []string{"OPTIONS", "GET", "HEAD"}

// IsRead reports whether method only reads (GET, HEAD, OPTIONS, PROPFIND);
// every other method, known or not, counts as writing.
func IsRead(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "PROPFIND":
		return true
	}
	return false
}
