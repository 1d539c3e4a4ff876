package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Setting is a key that an environment variable and a flag of `davit
// serve` can set. Env is the variable (EnvPrefix + the key in capitals,
// dots as underscores); Flag the flag name.
type Setting struct {
	Key   string
	Env   string
	Flag  string
	Usage string
	Bool  bool // a boolean flag (--no-sync, not --no-sync=true)
	set   func(c *Config, v string) error
}

// EnvPrefix starts every environment variable Davit reads.
const EnvPrefix = "DAVIT_"

// Settings are the keys settable by environment variables and flags, in
// the order of --help. Flags win over variables, variables over the file.
var Settings = []Setting{
	{Key: "listen", Env: "DAVIT_LISTEN", Flag: "listen", Usage: "address to listen on (default 127.0.0.1:8080)",
		set: func(c *Config, v string) error { c.Listen = v; return nil }},
	{Key: "root", Env: "DAVIT_ROOT", Flag: "root", Usage: "folder to serve, created when missing (default ./data); sets the folder of the only location",
		set: func(c *Config, v string) error { return c.onlyLocation("root", func(l *Location) { l.Folder = v }) }},
	{Key: "prefix", Env: "DAVIT_PREFIX", Flag: "prefix", Usage: "URL prefix to serve under, such as /dav; sets the path of the only location",
		set: func(c *Config, v string) error {
			if v == "" {
				v = "/"
			}
			return c.onlyLocation("prefix", func(l *Location) { l.Path = v })
		}},
	{Key: "no_sync", Env: "DAVIT_NO_SYNC", Flag: "no-sync", Bool: true, Usage: "do not fsync uploads (faster; a machine crash may lose the last writes)",
		set: func(c *Config, v string) (err error) { c.NoSync, err = strconv.ParseBool(v); return }},
	{Key: "max_infinity_entries", Env: "DAVIT_MAX_INFINITY_ENTRIES", Flag: "max-infinity", Usage: "most entries a PROPFIND Depth: infinity may list, -1 refuses it (default 100000); every location",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("want an integer, got %q", v)
			}
			return c.everyLocation(func(l *Location) { l.MaxInfinityEntries = n })
		}},
	{Key: "max_upload", Env: "DAVIT_MAX_UPLOAD", Flag: "max-upload", Usage: "largest PUT body, such as 1G, 0 for no limit (default 0); every location",
		set: func(c *Config, v string) error {
			n, err := ParseByteSize(v)
			if err != nil {
				return err
			}
			return c.everyLocation(func(l *Location) { l.MaxUpload = n })
		}},
	{Key: "lock_max_timeout", Env: "DAVIT_LOCK_MAX_TIMEOUT", Flag: "lock-max-timeout", Usage: "longest lock timeout granted (default 1h)",
		set: func(c *Config, v string) (err error) { c.LockMaxTimeout, err = ParseDuration(v); return }},
	{Key: "shutdown_grace", Env: "DAVIT_SHUTDOWN_GRACE", Flag: "grace", Usage: "how long in-flight requests may run on shutdown (default 10s)",
		set: func(c *Config, v string) (err error) { c.ShutdownGrace, err = ParseDuration(v); return }},
	{Key: "users_file", Env: "DAVIT_USERS_FILE", Flag: "users-file", Usage: "htpasswd file of users",
		set: func(c *Config, v string) error { c.UsersFile = v; return nil }},
	{Key: "realm", Env: "DAVIT_REALM", Flag: "realm", Usage: "Basic authentication realm (default Davit)",
		set: func(c *Config, v string) error { c.Realm = v; return nil }},
	{Key: "tls.cert", Env: "DAVIT_TLS_CERT", Flag: "tls-cert", Usage: "TLS certificate file (PEM)",
		set: func(c *Config, v string) error { c.TLS.Cert = v; return nil }},
	{Key: "tls.key", Env: "DAVIT_TLS_KEY", Flag: "tls-key", Usage: "TLS private key file (PEM)",
		set: func(c *Config, v string) error { c.TLS.Key = v; return nil }},
	{Key: "tls.redirect_from", Env: "DAVIT_TLS_REDIRECT_FROM", Flag: "tls-redirect-from", Usage: "address of a plain-HTTP listener redirecting to HTTPS",
		set: func(c *Config, v string) error { c.TLS.RedirectFrom = v; return nil }},
	{Key: "admin.listen", Env: "DAVIT_ADMIN_LISTEN", Flag: "admin-listen", Usage: "address serving /metrics, /healthz and /readyz",
		set: func(c *Config, v string) error { c.Admin.Listen = v; return nil }},
	{Key: "log.format", Env: "DAVIT_LOG_FORMAT", Flag: "log-format", Usage: "log format: text or json (default text)",
		set: func(c *Config, v string) error { c.Log.Format = v; return nil }},
	{Key: "log.level", Env: "DAVIT_LOG_LEVEL", Flag: "log-level", Usage: "log level: debug, info, warn or error (default info)",
		set: func(c *Config, v string) error { c.Log.Level = v; return nil }},
}

// onlyLocation applies f to the config's only location (made when there is
// none); with several, the setting is ambiguous.
func (c *Config) onlyLocation(what string, f func(*Location)) error {
	switch len(c.Locations) {
	case 0:
		c.Locations = []Location{{Path: "/", Folder: "./data"}}
	case 1:
	default:
		return fmt.Errorf("%s applies only when there is one location; the config has %d", what, len(c.Locations))
	}
	f(&c.Locations[0])
	return nil
}

// everyLocation applies f to every location (the default one when none).
func (c *Config) everyLocation(f func(*Location)) error {
	if len(c.Locations) == 0 {
		c.Locations = []Location{{Path: "/", Folder: "./data"}}
	}
	for i := range c.Locations {
		f(&c.Locations[i])
	}
	return nil
}

// Override is one value given by an environment variable or a flag.
type Override struct {
	Setting *Setting
	Value   string
	Source  string // "DAVIT_LISTEN" or "--listen"
}

// EnvOverrides returns the overrides found through lookup (os.LookupEnv in
// production): every Setting's variable that is set and not empty.
func EnvOverrides(lookup func(string) (string, bool)) []Override {
	var out []Override
	if lookup == nil {
		return nil
	}
	for i := range Settings {
		s := &Settings[i]
		if v, ok := lookup(s.Env); ok && v != "" {
			out = append(out, Override{Setting: s, Value: v, Source: s.Env})
		}
	}
	return out
}

// Apply applies overrides in order; each failure names its source.
func (c *Config) Apply(ovs []Override) error {
	var es Errors
	for _, o := range ovs {
		if c.sources == nil {
			c.sources = map[string]string{}
		}
		if err := o.Setting.set(c, o.Value); err != nil {
			es = append(es, &Error{Key: o.Setting.Key + " (from " + o.Source + ")", Msg: err.Error()})
			continue
		}
		switch o.Setting.Key {
		case "root":
			c.sources["locations[0].folder"] = o.Source
		case "prefix":
			c.sources["locations[0].path"] = o.Source
		case "max_infinity_entries", "max_upload":
			for i := range c.Locations {
				c.sources[fmt.Sprintf("locations[%d].%s", i, o.Setting.Key)] = o.Source
			}
		default:
			c.sources[o.Setting.Key] = o.Source
		}
	}
	if len(es) > 0 {
		return es
	}
	return nil
}

// Load builds the effective config: the file (none: the embedded
// defaults), then the environment through lookup, then the overrides
// (flags), then defaults, then validation. Errors are Errors.
func Load(file string, lookup func(string) (string, bool), flags []Override) (*Config, error) {
	c := &Config{}
	if file != "" {
		var err error
		if c, err = ReadFile(file); err != nil {
			return nil, err
		}
	}
	if err := c.Apply(append(EnvOverrides(lookup), flags...)); err != nil {
		return nil, err
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// File is the config file the config was read from ("" for none).
func (c *Config) File() string { return c.file }

// Redacted is the text shown instead of a password hash.
const Redacted = "<redacted>"

// Marshal prints the config as YAML, every key with its effective value,
// password hashes redacted: what `davit config check` shows.
func (c *Config) Marshal() ([]byte, error) {
	cp := *c
	cp.Users = make([]User, len(c.Users))
	for i, u := range c.Users {
		u.PasswordHash = Redacted
		cp.Users[i] = u
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&cp); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ParseLevel parses a log level name.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("want debug, info, warn or error, got %q", s)
}
