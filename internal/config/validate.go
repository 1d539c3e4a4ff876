package config

import (
	"fmt"
	"net"
	"net/netip"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Default returns the embedded default configuration: what `davit serve`
// runs with when given no config file (./data served at / on
// 127.0.0.1:8080, no users, anonymous access).
func Default() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// HasUsers reports whether any user is defined (in the config or a file).
func (c *Config) HasUsers() bool { return len(c.Users) > 0 || c.UsersFile != "" }

// SetDefaults fills in every key left empty with its default. It is
// idempotent.
func (c *Config) SetDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defD := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	defI := func(i *int, v int) {
		if *i == 0 {
			*i = v
		}
	}
	defB := func(b **bool, v bool) {
		if *b == nil {
			*b = &v
		}
	}
	def(&c.Listen, "127.0.0.1:8080")
	def(&c.Realm, "Davit")
	def(&c.TLS.MinVersion, "1.2")
	defI(&c.LoginThrottle.Burst, 5)
	defD(&c.LoginThrottle.Interval, 10*time.Second)
	defI(&c.LoginThrottle.MaxAddresses, 10_000)
	def(&c.Log.Format, "text")
	def(&c.Log.Level, "info")
	def(&c.LoopbackCongestion, "reno")
	defB(&c.Log.Access, true)
	defD(&c.LockMaxTimeout, time.Hour)
	defD(&c.ShutdownGrace, 10*time.Second)
	defD(&c.ReadHeaderTimeout, 10*time.Second)
	defD(&c.IdleTimeout, 2*time.Minute)
	if len(c.Locations) == 0 {
		c.Locations = []Location{{}}
	}
	who := []string{Anonymous}
	if c.HasUsers() {
		who = []string{Authenticated}
	}
	for i := range c.Locations {
		l := &c.Locations[i]
		if len(c.Locations) == 1 {
			def(&l.Path, "/")
			def(&l.Folder, "./data")
		}
		defB(&l.DAV, true)
		defB(&l.AnonymousOptions, true)
		defI(&l.MaxInfinityEntries, 100_000)
		if l.Methods == nil {
			l.Methods = slices.Clone(DAVMethods)
			if !l.DAVEnabled() {
				l.Methods = slices.Clone(PlainMethods)
			}
		}
		l.Methods = normalizeMethods(l.Methods)
		if l.Read == nil {
			l.Read = slices.Clone(who)
		}
		if l.Write == nil {
			l.Write = slices.Clone(who)
		}
	}
}

// normalizeMethods upper-cases, removes duplicates, adds OPTIONS and sorts
// known methods in the order of DAVMethods (unknown ones last, for Validate
// to name).
func normalizeMethods(ms []string) []string {
	seen := map[string]bool{"OPTIONS": true}
	out := []string{}
	var unknown []string
	for _, m := range ms {
		seen[strings.ToUpper(strings.TrimSpace(m))] = true
	}
	for _, m := range DAVMethods {
		if seen[m] {
			out = append(out, m)
			delete(seen, m)
		}
	}
	for _, m := range ms {
		if u := strings.ToUpper(strings.TrimSpace(m)); seen[u] {
			unknown = append(unknown, u)
			delete(seen, u)
		}
	}
	return append(out, unknown...)
}

// Validate checks a config that has its defaults, and reports every
// problem found, each naming its key. It reads no file: see
// server.CheckConfig for the htpasswd file and certificates.
func (c *Config) Validate() error {
	var es Errors
	bad := func(key, format string, args ...any) { es = append(es, c.errAt(key, format, args...)) }

	checkAddr := func(key, addr string, required bool) {
		if addr == "" {
			if required {
				bad(key, "required")
			}
			return
		}
		if _, port, err := net.SplitHostPort(addr); err != nil {
			bad(key, "want host:port, such as \"127.0.0.1:8080\" or \":443\": %v", strings.TrimPrefix(err.Error(), "address "+addr+": "))
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			bad(key, "invalid port %q", port)
		}
	}
	checkAddr("listen", c.Listen, true)
	checkAddr("admin.listen", c.Admin.Listen, false)
	if c.Admin.Listen != "" && sameAddr(c.Admin.Listen, c.Listen) {
		bad("admin.listen", "must differ from listen")
	}

	switch {
	case c.TLS.Cert != "" && c.TLS.Key == "":
		bad("tls.key", "required with tls.cert")
	case c.TLS.Cert == "" && c.TLS.Key != "":
		bad("tls.cert", "required with tls.key")
	}
	if c.TLS.RedirectFrom != "" {
		if !c.TLS.Enabled() {
			bad("tls.redirect_from", "needs tls.cert and tls.key")
		}
		checkAddr("tls.redirect_from", c.TLS.RedirectFrom, false)
		if sameAddr(c.TLS.RedirectFrom, c.Listen) {
			bad("tls.redirect_from", "must differ from listen")
		}
	}
	if c.TLS.MinVersion != "1.2" && c.TLS.MinVersion != "1.3" {
		bad("tls.min_version", "want \"1.2\" or \"1.3\", got %q", c.TLS.MinVersion)
	}

	for i, p := range c.TrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			bad(fmt.Sprintf("trusted_proxies[%d]", i), "%v", err)
		}
	}
	if strings.ContainsAny(c.Realm, "\"\\") || hasControl(c.Realm) {
		bad("realm", "must not contain quotes, backslashes or control characters")
	}

	users := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		switch {
		case u.Name == "":
			bad(key+".name", "required")
		case !validUserName(u.Name):
			bad(key+".name", "%q: a name may not contain \":\", \"/\", \"\\\", spaces or control characters, nor be \".\" or \"..\"", u.Name)
		case users[u.Name]:
			bad(key+".name", "%q is defined twice", u.Name)
		}
		users[u.Name] = true
		if u.PasswordHash == "" {
			bad(key+".password_hash", "required (a bcrypt hash, as `htpasswd -nbB name password` prints)")
		} else if _, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil {
			bad(key+".password_hash", "not a bcrypt hash ($2a$, $2b$ or $2y$)")
		}
		for j, g := range u.Groups {
			if !validGroupName(g) {
				bad(fmt.Sprintf("%s.groups[%d]", key, j), "invalid group name %q", g)
			}
		}
	}
	groups := c.GroupNames()
	for _, g := range sortedKeys(c.Groups) {
		if !validGroupName(g) {
			bad("groups."+g, "invalid group name %q", g)
		}
		for j, m := range c.Groups[g] {
			if !validUserName(m) {
				bad(fmt.Sprintf("groups.%s[%d]", g, j), "invalid user name %q", m)
			}
		}
	}

	t := c.LoginThrottle
	if !t.Disabled {
		if t.Burst < 1 {
			bad("login_throttle.burst", "must be at least 1")
		}
		if t.Interval <= 0 {
			bad("login_throttle.interval", "must be positive")
		}
		if t.MaxAddresses < 1 {
			bad("login_throttle.max_addresses", "must be at least 1")
		}
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "want \"text\" or \"json\", got %q", c.Log.Format)
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if !validCongestion(c.LoopbackCongestion) {
		bad("loopback_congestion", "want \"system\" or the name of a TCP congestion control (such as reno or cubic: lower-case letters, digits, _), got %q", c.LoopbackCongestion)
	}
	for _, d := range []struct {
		key string
		d   Duration
	}{{"lock_max_timeout", c.LockMaxTimeout}, {"shutdown_grace", c.ShutdownGrace}, {"read_header_timeout", c.ReadHeaderTimeout}, {"idle_timeout", c.IdleTimeout}} {
		if d.d < 0 {
			bad(d.key, "must not be negative")
		}
	}

	c.validateLocations(bad, groups)
	if len(es) == 0 {
		return nil
	}
	return es
}

func (c *Config) validateLocations(bad func(string, string, ...any), groups map[string]bool) {
	paths := map[string]int{}
	type davFolder struct {
		key, dir string
	}
	var davDirs []davFolder
	for i := range c.Locations {
		l := &c.Locations[i]
		key := fmt.Sprintf("locations[%d]", i)
		switch {
		case l.Path == "":
			bad(key+".path", "required")
		case !strings.HasPrefix(l.Path, "/"):
			bad(key+".path", "%q must start with \"/\"", l.Path)
		case strings.Contains(strings.TrimSuffix(l.Path, "/"+UserPlaceholder), UserPlaceholder):
			bad(key+".path", "%q: {user} may only be the last element", l.Path)
		case path.Clean(l.Path) != l.Path || strings.Contains(l.Path, "//"):
			bad(key+".path", "%q must be clean, without a trailing slash (such as %q)", l.Path, path.Clean(l.Path))
		case strings.ContainsAny(l.Path, "?#%") || hasControl(l.Path):
			bad(key+".path", "%q must be a plain, unescaped path without \"?\", \"#\" or \"%%\"", l.Path)
		case l.UserInPath() && !l.PerUser():
			bad(key+".path", "ends in {user} but folder does not contain {user}")
		default:
			base := l.BasePath()
			if j, ok := paths[base]; ok {
				bad(key+".path", "%q is also locations[%d].path", l.Path, j)
			}
			paths[base] = i
		}
		if l.Folder == "" {
			bad(key+".folder", "required")
		} else if l.DAVEnabled() {
			dir := l.Folder
			if i := strings.Index(dir, UserPlaceholder); i >= 0 {
				dir = dir[:i]
			}
			if abs, err := filepath.Abs(dir); err == nil {
				dir = abs
			}
			for _, o := range davDirs {
				if within(o.dir, dir) || within(dir, o.dir) {
					bad(key+".folder", "%q overlaps %s.folder: two WebDAV locations would keep separate locks on the same files", l.Folder, o.key)
				}
			}
			davDirs = append(davDirs, davFolder{key, dir})
		}
		allowed := DAVMethods
		if !l.DAVEnabled() {
			allowed = PlainMethods
		}
		for _, m := range l.Methods {
			switch {
			case !slices.Contains(DAVMethods, m):
				bad(key+".methods", "unknown method %q (known: %s)", m, strings.Join(DAVMethods, " "))
			case !slices.Contains(allowed, m):
				bad(key+".methods", "%s needs dav: true", m)
			}
		}
		if l.AllowsMethod("LOCK") != l.AllowsMethod("UNLOCK") {
			bad(key+".methods", "LOCK and UNLOCK go together")
		}
		for _, list := range []struct {
			name string
			who  []string
		}{{"read", l.Read}, {"write", l.Write}} {
			for j, w := range list.who {
				k := fmt.Sprintf("%s.%s[%d]", key, list.name, j)
				switch {
				case w == Anonymous:
					if l.PerUser() {
						bad(k, "a per-user folder cannot be open to anonymous")
					}
				case w == Authenticated:
					if !c.HasUsers() {
						bad(k, "\"*\" needs users (users or users_file)")
					}
				case strings.HasPrefix(w, "@"):
					if !groups[w[1:]] {
						bad(k, "unknown group %q", w[1:])
					}
				case !validUserName(w):
					bad(k, "invalid entry %q (want a user name, \"@group\", \"*\" or \"anonymous\")", w)
				case !c.HasUsers():
					bad(k, "user %q, but no users are defined (users or users_file)", w)
				}
			}
		}
		if l.MaxInfinityEntries < -1 {
			bad(key+".max_infinity_entries", "must be -1 (refuse), or positive")
		}
		if l.MaxUpload < 0 {
			bad(key+".max_upload", "must not be negative")
		}
		for _, list := range []struct {
			name string
			pats []string
		}{{"refuse", l.Refuse}, {"hide", l.Hide}} {
			for j, p := range list.pats {
				k := fmt.Sprintf("%s.%s[%d]", key, list.name, j)
				if _, err := path.Match(p, ""); err != nil || p == "" {
					bad(k, "invalid pattern %q", p)
				} else if strings.Contains(p, "/") {
					bad(k, "%q: a pattern matches one name, without \"/\"", p)
				}
			}
		}
	}
}

// sameAddr reports whether two listen addresses are the same (port 0,
// any free port, is never the same).
func sameAddr(a, b string) bool {
	_, port, _ := net.SplitHostPort(a)
	return a == b && port != "0"
}

// GroupNames returns every group named in groups or in a user's groups.
func (c *Config) GroupNames() map[string]bool {
	out := map[string]bool{}
	for g := range c.Groups {
		out[g] = true
	}
	for _, u := range c.Users {
		for _, g := range u.Groups {
			out[g] = true
		}
	}
	return out
}

// ParsePrefix parses a CIDR ("10.0.0.0/8") or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return p, fmt.Errorf("invalid CIDR %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address %q (want an IP or a CIDR)", s)
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// ValidUserName reports whether a user name can be used, also as a folder
// name for {user}.
func ValidUserName(s string) bool { return validUserName(s) }

func validUserName(s string) bool {
	if s == "" || s == "." || s == ".." || s == Anonymous || s == Authenticated || strings.HasPrefix(s, "@") {
		return false
	}
	return !strings.ContainsAny(s, ":/\\ \t") && !hasControl(s)
}

func validGroupName(s string) bool { return validUserName(s) }

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f })
}

func within(root, p string) bool {
	if root == p {
		return true
	}
	return strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// validCongestion reports whether name may be a Linux TCP congestion
// control's name (at most 15 bytes, as TCP_CA_NAME_MAX allows), or
// "system". Whether the kernel has it is known only when it is set.
func validCongestion(name string) bool {
	if name == "" || len(name) > 15 {
		return false
	}
	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}
