package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// load parses, applies defaults and validates, as Load does, from text.
func load(t *testing.T, text string) (*Config, error) {
	t.Helper()
	c, err := Parse([]byte(text), "test.yaml")
	if err != nil {
		return nil, err
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func TestDefaults(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	l := c.Locations[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, "127.0.0.1:8080"},
		{"realm", c.Realm, "Davit"},
		{"path", l.Path, "/"},
		{"folder", l.Folder, "./data"},
		{"dav", l.DAVEnabled(), true},
		{"read", strings.Join(l.Read, ","), "anonymous"},
		{"write", strings.Join(l.Write, ","), "anonymous"},
		{"methods", len(l.Methods), len(DAVMethods)},
		{"max_infinity_entries", l.MaxInfinityEntries, 100_000},
		{"lock_max_timeout", c.LockMaxTimeout.D(), time.Hour},
		{"shutdown_grace", c.ShutdownGrace.D(), 10 * time.Second},
		{"log.format", c.Log.Format, "text"},
		{"log.access", *c.Log.Access, true},
		{"throttle.burst", c.LoginThrottle.Burst, 5},
		{"tls.min_version", c.TLS.MinVersion, "1.2"},
		{"anonymous_options", *l.AnonymousOptions, true},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
	// Defaults are idempotent.
	a, _ := c.Marshal()
	c.SetDefaults()
	b, _ := c.Marshal()
	if string(a) != string(b) {
		t.Error("SetDefaults is not idempotent")
	}
}

func TestDefaultAccessWithUsers(t *testing.T) {
	c, err := load(t, "users_file: /x\nlocations:\n  - {path: /a, folder: /a}\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Locations[0].Read, ","); got != "*" {
		t.Errorf("read = %q, want * when users exist", got)
	}
}

// TestKeys loads one config per key and checks the value arrived.
func TestKeys(t *testing.T) {
	hash := mustHash(t, "pw")
	cases := []struct {
		yaml  string
		check func(c *Config) bool
	}{
		{"listen: 0.0.0.0:9000", func(c *Config) bool { return c.Listen == "0.0.0.0:9000" }},
		{"tls: {cert: c.pem, key: k.pem, redirect_from: ':8081', min_version: '1.3'}", func(c *Config) bool {
			return c.TLS.Enabled() && c.TLS.Key == "k.pem" && c.TLS.RedirectFrom == ":8081" && c.TLS.MinVersion == "1.3"
		}},
		{"trusted_proxies: [10.0.0.0/8, 127.0.0.1, '::1']", func(c *Config) bool { return len(c.TrustedProxies) == 3 }},
		{"realm: Files", func(c *Config) bool { return c.Realm == "Files" }},
		{"users_file: /etc/davit/htpasswd", func(c *Config) bool { return c.UsersFile == "/etc/davit/htpasswd" && c.HasUsers() }},
		{"users: [{name: alice, password_hash: '" + hash + "', groups: [staff]}]", func(c *Config) bool {
			return c.Users[0].Name == "alice" && c.GroupNames()["staff"]
		}},
		{"users_file: f\ngroups: {staff: [alice, bob]}", func(c *Config) bool { return len(c.Groups["staff"]) == 2 }},
		{"login_throttle: {burst: 3, interval: 1m, max_addresses: 50}", func(c *Config) bool {
			return c.LoginThrottle.Burst == 3 && c.LoginThrottle.Interval.D() == time.Minute && c.LoginThrottle.MaxAddresses == 50
		}},
		{"login_throttle: {disabled: true}", func(c *Config) bool { return c.LoginThrottle.Disabled }},
		{"log: {format: json, level: debug, access: false}", func(c *Config) bool {
			return c.Log.Format == "json" && c.Log.Level == "debug" && !*c.Log.Access
		}},
		{"admin: {listen: '127.0.0.1:9100'}", func(c *Config) bool { return c.Admin.Listen == "127.0.0.1:9100" }},
		{"no_sync: true", func(c *Config) bool { return c.NoSync }},
		{"no_folder_cache: true", func(c *Config) bool { return c.NoFolderCache }},
		{"no_file_cache: true", func(c *Config) bool { return c.NoFileCache }},
		{"loopback_congestion: cubic", func(c *Config) bool { return c.LoopbackCongestion == "cubic" }},
		{"loopback_congestion: system", func(c *Config) bool { return c.LoopbackCongestion == "system" }},
		{"loopback_congestion: ''", func(c *Config) bool { return c.LoopbackCongestion == "reno" }}, // the default
		{"lock_max_timeout: 600", func(c *Config) bool { return c.LockMaxTimeout.D() == 10*time.Minute }},
		{"shutdown_grace: 30s", func(c *Config) bool { return c.ShutdownGrace.D() == 30*time.Second }},
		{"read_header_timeout: 5s\nidle_timeout: 1m", func(c *Config) bool {
			return c.ReadHeaderTimeout.D() == 5*time.Second && c.IdleTimeout.D() == time.Minute
		}},
		{"locations: [{path: /webdav, folder: /srv/dav}]", func(c *Config) bool {
			return c.Locations[0].Path == "/webdav" && c.Locations[0].Folder == "/srv/dav"
		}},
		{"locations: [{path: /p, folder: /p, dav: false}]", func(c *Config) bool {
			l := c.Locations[0]
			return !l.DAVEnabled() && strings.Join(l.Methods, " ") == "OPTIONS GET HEAD"
		}},
		{"locations: [{path: /p, folder: /p, methods: [put, GET, delete, mkcol, copy, move]}]", func(c *Config) bool {
			return strings.Join(c.Locations[0].Methods, " ") == "OPTIONS GET PUT DELETE MKCOL COPY MOVE"
		}},
		{"locations: [{path: /p, folder: /p, read_only: true}]", func(c *Config) bool { return c.Locations[0].ReadOnly }},
		{"users_file: f\nlocations: [{path: /p, folder: /p, read: [anonymous], write: [alice, '@staff']}]\ngroups: {staff: [bob]}", func(c *Config) bool {
			l := c.Locations[0]
			return l.Read[0] == "anonymous" && l.Write[1] == "@staff"
		}},
		{"locations: [{path: /p, folder: /p, anonymous_options: false}]", func(c *Config) bool { return !*c.Locations[0].AnonymousOptions }},
		{"users_file: f\nlocations: [{path: '/home/{user}', folder: '/srv/home/{user}'}]", func(c *Config) bool {
			l := c.Locations[0]
			return l.PerUser() && l.UserInPath() && l.BasePath() == "/home"
		}},
		{"users_file: f\nlocations: [{path: /me, folder: '/srv/home/{user}'}]", func(c *Config) bool {
			l := c.Locations[0]
			return l.PerUser() && !l.UserInPath() && l.BasePath() == "/me"
		}},
		{"locations: [{path: /p, folder: /p, max_infinity_entries: -1}]", func(c *Config) bool { return c.Locations[0].MaxInfinityEntries == -1 }},
		{"locations: [{path: /p, folder: /p, max_upload: 100MiB}]", func(c *Config) bool { return c.Locations[0].MaxUpload == 100<<20 }},
		{"locations: [{path: /p, folder: /p, max_upload: 1048576}]", func(c *Config) bool { return c.Locations[0].MaxUpload == 1<<20 }},
		{"locations: [{path: /p, folder: /p, refuse: ['._*'], hide: [.DS_Store, Thumbs.db]}]", func(c *Config) bool {
			l := c.Locations[0]
			return l.Refuse[0] == "._*" && len(l.Hide) == 2
		}},
	}
	for _, tc := range cases {
		t.Run(strings.SplitN(tc.yaml, ":", 2)[0], func(t *testing.T) {
			c, err := load(t, tc.yaml)
			if err != nil {
				t.Fatalf("%s: %v", tc.yaml, err)
			}
			if !tc.check(c) {
				t.Errorf("%s: value not applied", tc.yaml)
			}
		})
	}
}

// TestBadConfig: every error names its key, and the line where there is one.
func TestBadConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		key        string // expected key in the message
		line       int
		msg        string // expected part of the message
	}{
		{"syntax", "listen: [", "", 1, "invalid YAML"},
		{"not a mapping", "- a\n- b\n", "", 1, "must be a mapping"},
		{"unknown top key", "listen: ':1'\nlisten_addr: x\n", "listen_addr", 2, "unknown key"},
		{"unknown nested key", "locations:\n  - path: /a\n    folder: /a\n    dav_methods: [PUT]\n", "locations[0].dav_methods", 4, "unknown key"},
		{"wrong type", "no_sync: maybe\n", "no_sync", 1, "want true or false"},
		{"wrong type int", "locations:\n  - {path: /a, folder: /a, max_infinity_entries: lots}\n", "locations[0].max_infinity_entries", 2, "want an integer"},
		{"bad size", "locations:\n  - path: /a\n    folder: /a\n    max_upload: 10Q\n", "locations[0].max_upload", 4, "unknown unit"},
		{"negative size", "locations:\n  - path: /a\n    folder: /a\n    max_upload: -1\n", "locations[0].max_upload", 4, "negative"},
		{"bad duration", "shutdown_grace: soon\n", "shutdown_grace", 1, "invalid duration"},
		{"listen", "listen: nowhere\n", "listen", 1, "host:port"},
		{"listen port", "listen: 'h:99999'\n", "listen", 1, "invalid port"},
		{"admin same", "listen: ':1'\nadmin: {listen: ':1'}\n", "admin.listen", 2, "differ"},
		{"tls key", "tls:\n  cert: c.pem\n", "tls.key", 0, "required"},
		{"tls cert", "tls:\n  key: k.pem\n", "tls.cert", 0, "required"},
		{"redirect without tls", "tls:\n  redirect_from: ':80'\n", "tls.redirect_from", 2, "needs tls.cert"},
		{"tls version", "tls: {cert: c, key: k, min_version: '1.1'}\n", "tls.min_version", 1, "1.2"},
		{"proxy", "trusted_proxies:\n  - 10.0.0.0/33\n", "trusted_proxies[0]", 2, "invalid CIDR"},
		{"proxy addr", "trusted_proxies: [proxy.local]\n", "trusted_proxies[0]", 1, "invalid address"},
		{"realm", "realm: 'a\"b'\n", "realm", 1, "quotes"},
		{"user name", "users:\n  - name: 'a:b'\n    password_hash: x\n", "users[0].name", 2, "may not contain"},
		{"user hash", "users:\n  - name: a\n    password_hash: secret\n", "users[0].password_hash", 3, "bcrypt"},
		{"user no hash", "users:\n  - name: a\n", "users[0].password_hash", 2, "required"},
		{"throttle", "login_throttle: {burst: -2}\n", "login_throttle.burst", 1, "at least 1"},
		{"log format", "log:\n  format: xml\n", "log.format", 2, "text"},
		{"log level", "log:\n  level: loud\n", "log.level", 2, "debug"},
		{"congestion", "loopback_congestion: BBR\n", "loopback_congestion", 1, "lower-case"},
		{"congestion long", "loopback_congestion: a_name_of_16_bytes\n", "loopback_congestion", 1, "congestion control"},
		{"path required", "locations:\n  - folder: /a\n  - {path: /b, folder: /b}\n", "locations[0].path", 2, "required"},
		{"folder required", "locations:\n  - path: /a\n  - {path: /b, folder: /b}\n", "locations[0].folder", 2, "required"},
		{"path relative", "locations:\n  - {path: webdav, folder: /a}\n", "locations[0].path", 2, "start with"},
		{"path slash", "locations:\n  - {path: /webdav/, folder: /a}\n", "locations[0].path", 2, "trailing slash"},
		{"path dots", "locations:\n  - {path: /a/../b, folder: /a}\n", "locations[0].path", 2, "clean"},
		{"path dup", "locations:\n  - {path: /a, folder: /a}\n  - {path: /a, folder: /b}\n", "locations[1].path", 3, "also locations[0]"},
		{"user mid path", "users_file: f\nlocations:\n  - {path: '/{user}/x', folder: '/h/{user}'}\n", "locations[0].path", 3, "last element"},
		{"user path no folder", "users_file: f\nlocations:\n  - {path: '/h/{user}', folder: /h}\n", "locations[0].path", 3, "folder does not contain"},
		{"overlap", "locations:\n  - {path: /a, folder: /srv}\n  - {path: /b, folder: /srv/b}\n", "locations[1].folder", 3, "overlaps"},
		{"method unknown", "locations:\n  - {path: /a, folder: /a, methods: [GET, PATCH]}\n", "locations[0].methods", 2, "unknown method \"PATCH\""},
		{"method without dav", "locations:\n  - {path: /a, folder: /a, dav: false, methods: [GET, PUT]}\n", "locations[0].methods", 2, "needs dav"},
		{"lock alone", "locations:\n  - {path: /a, folder: /a, methods: [LOCK]}\n", "locations[0].methods", 2, "go together"},
		{"anonymous per-user", "users_file: f\nlocations:\n  - {path: /h, folder: '/h/{user}', read: [anonymous]}\n", "locations[0].read[0]", 3, "per-user"},
		{"star without users", "locations:\n  - {path: /a, folder: /a, read: ['*']}\n", "locations[0].read[0]", 2, "needs users"},
		{"user without users", "locations:\n  - {path: /a, folder: /a, write: [alice]}\n", "locations[0].write[0]", 2, "no users"},
		{"unknown group", "users_file: f\nlocations:\n  - {path: /a, folder: /a, write: ['@ops']}\n", "locations[0].write[0]", 3, "unknown group"},
		{"infinity", "locations:\n  - {path: /a, folder: /a, max_infinity_entries: -5}\n", "locations[0].max_infinity_entries", 2, "-1"},
		{"pattern", "locations:\n  - {path: /a, folder: /a, hide: ['[']}\n", "locations[0].hide[0]", 2, "invalid pattern"},
		{"pattern slash", "locations:\n  - {path: /a, folder: /a, refuse: ['a/b']}\n", "locations[0].refuse[0]", 2, "one name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml)
			if err == nil {
				t.Fatalf("no error for %q", tc.yaml)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			var found *Error
			var es Errors
			if errors.As(err, &es) {
				for _, x := range es {
					if x.Key == tc.key && strings.Contains(x.Msg, tc.msg) {
						found = x
					}
				}
			}
			if found == nil {
				t.Fatalf("want key %q with %q, got:\n%v", tc.key, tc.msg, err)
			}
			if tc.line != 0 && found.Line != tc.line {
				t.Errorf("line = %d, want %d (%v)", found.Line, tc.line, found)
			}
			if !strings.HasPrefix(found.Error(), "test.yaml:") {
				t.Errorf("message %q does not start with the file name", found.Error())
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte("listen: '127.0.0.1:1000'\nrealm: FromFile\nlocations:\n  - {path: /a, folder: /a}\n"), 0o600)
	env := map[string]string{"DAVIT_LISTEN": "127.0.0.1:2000", "DAVIT_REALM": "FromEnv", "DAVIT_MAX_UPLOAD": "1M"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	flag := func(key, v string) Override {
		for i := range Settings {
			if Settings[i].Key == key {
				return Override{Setting: &Settings[i], Value: v, Source: "--" + Settings[i].Flag}
			}
		}
		t.Fatalf("no setting %s", key)
		return Override{}
	}
	c, err := Load(file, lookup, []Override{flag("realm", "FromFlag"), flag("prefix", "/dav"), flag("root", dir)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:2000" {
		t.Errorf("listen = %q: the environment should win over the file", c.Listen)
	}
	if c.Realm != "FromFlag" {
		t.Errorf("realm = %q: flags should win over the environment", c.Realm)
	}
	if l := c.Locations[0]; l.Path != "/dav" || l.Folder != dir || l.MaxUpload != 1<<20 {
		t.Errorf("location = %+v", l)
	}

	// A bad override names the variable.
	env["DAVIT_LISTEN"] = "bad"
	_, err = Load(file, lookup, nil)
	if err == nil || !strings.Contains(err.Error(), "listen (from DAVIT_LISTEN)") {
		t.Errorf("err = %v, want it to name DAVIT_LISTEN", err)
	}
	env["DAVIT_LISTEN"] = "127.0.0.1:1"
	env["DAVIT_LOCK_MAX_TIMEOUT"] = "forever"
	if _, err = Load(file, lookup, nil); err == nil || !strings.Contains(err.Error(), "DAVIT_LOCK_MAX_TIMEOUT") {
		t.Errorf("err = %v", err)
	}
	delete(env, "DAVIT_LOCK_MAX_TIMEOUT")

	// --root is ambiguous with several locations.
	os.WriteFile(file, []byte("locations:\n  - {path: /a, folder: /a}\n  - {path: /b, folder: /b}\n"), 0o600)
	if _, err = Load(file, lookup, []Override{flag("root", dir)}); err == nil || !strings.Contains(err.Error(), "one location") {
		t.Errorf("err = %v", err)
	}

	// No file: the embedded defaults plus overrides.
	c, err = Load("", nil, []Override{flag("listen", "127.0.0.1:0"), flag("no_sync", "true")})
	if err != nil || c.Listen != "127.0.0.1:0" || !c.NoSync || c.Locations[0].Folder != "./data" {
		t.Errorf("Load without file: %+v, %v", c, err)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil, nil); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

func TestSizesAndDurations(t *testing.T) {
	sizes := map[string]ByteSize{"0": 0, "512": 512, "1K": 1 << 10, "1KB": 1 << 10, "1KiB": 1 << 10, "10m": 10 << 20, "2G": 2 << 30, "1TiB": 1 << 40}
	for s, want := range sizes {
		if got, err := ParseByteSize(s); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "M", "1X", "99999999999999999999", "10000000T"} {
		if _, err := ParseByteSize(s); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", s)
		}
	}
	for b, want := range map[ByteSize]string{0: "0", 1 << 20: "1MiB", 1536: "1536", 3 << 30: "3GiB"} {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int64(b), got, want)
		}
	}
	for s, want := range map[string]time.Duration{"10": 10 * time.Second, "1m30s": 90 * time.Second} {
		if got, err := ParseDuration(s); err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v", s, got, err)
		}
	}
}

func TestMarshalRedacts(t *testing.T) {
	hash := mustHash(t, "pw")
	c, err := load(t, "users:\n  - {name: alice, password_hash: '"+hash+"'}\n")
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), hash) || !strings.Contains(string(out), Redacted) {
		t.Errorf("hash not redacted:\n%s", out)
	}
	if c.Users[0].PasswordHash != hash {
		t.Error("Marshal changed the config")
	}
	// The printed config loads back to the same printed config.
	c2, err := load(t, strings.ReplaceAll(string(out), Redacted, hash))
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := c2.Marshal()
	if string(out) != string(out2) {
		t.Errorf("round trip differs:\n%s\n---\n%s", out, out2)
	}
}
