package header_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/davit-dav/davit/internal/header"
)

func TestParseDestination(t *testing.T) {
	tests := []struct {
		raw, prefix string
		want        string
		err         error
	}{
		{"http://example.com/dav/a/b", "/dav", "/a/b", nil},
		{"https://public.example.org:8443/dav/a/b/", "/dav", "/a/b", nil},
		{"/dav/a/b", "/dav", "/a/b", nil},
		{"/dav", "/dav", "/", nil},
		{"/dav/", "/dav", "/", nil},
		{"http://example.com/dav", "/dav/", "/", nil},
		{"http://example.com", "", "/", nil},
		{"http://example.com/", "/", "/", nil},
		{"http://user:pw@example.com/x", "", "/x", nil},
		{"//example.com/dav/x", "/dav", "/x", nil},
		{"http:/dav/x", "/dav", "/x", nil},
		{"  /dav/x\t", "/dav", "/x", nil},
		// Any host: behind a reverse proxy the client sends the public one.
		{"http://other.example.net/dav/x", "/dav", "/x", nil},
		// Percent-decoding, one segment at a time.
		{"/dav/a%20b/c%25d", "/dav", "/a b/c%d", nil},
		{"/d%61v/%E2%82%AC", "/dav", "/€", nil},
		{"/dav/a b", "/dav", "/a b", nil}, // unescaped space from sloppy clients
		{"/dav/a+b", "/dav", "/a+b", nil},
		{"/dav/%2e%2E/dav/x", "/", "/dav/x", nil},
		// Cleaning.
		{"/dav//a///b", "/dav", "/a/b", nil},
		{"/dav/./a/./b/.", "/dav", "/a/b", nil},
		{"/dav/a/../b", "/dav", "/b", nil},
		{"/dav/a/b/..", "/dav", "/a", nil},
		{"/dav/a/..", "/dav", "/", nil},
		{"//dav/x", "/", "/x", nil}, // a network-path reference: "dav" is a host
		{"/./dav/x", "/dav", "/x", nil},
		{"/a/../b", "/", "/b", nil},
		// Outside the prefix: 502.
		{"/other/x", "/dav", "", header.ErrOutsidePrefix},
		{"/davx/y", "/dav", "", header.ErrOutsidePrefix},
		{"/", "/dav", "", header.ErrOutsidePrefix},
		{"http://example.com", "/dav", "", header.ErrOutsidePrefix},
		{"/DAV/x", "/dav", "", header.ErrOutsidePrefix},
		{"/x/../dav/y", "/dav", "", header.ErrOutsidePrefix},
		{"/a/dav/x", "/a/b", "", header.ErrOutsidePrefix},
		// Malformed: 400.
		{"", "/dav", "", header.ErrBadDestination},
		{"dav/x", "/dav", "", header.ErrBadDestination},
		{"x", "", "", header.ErrBadDestination},
		{"urn:uuid:x", "", "", header.ErrBadDestination},
		{"mailto:a@b", "", "", header.ErrBadDestination},
		{"1http://h/x", "", "", header.ErrBadDestination},
		{"http://h/dav/a%2Fb", "/dav", "", header.ErrBadDestination},
		{"http://h/dav/a%2fb", "/dav", "", header.ErrBadDestination},
		{"/dav/a%00b", "/dav", "", header.ErrBadDestination},
		{"/dav/a\x00b", "/dav", "", header.ErrBadDestination},
		{"/dav/a\nb", "/dav", "", header.ErrBadDestination},
		{"/dav/a%zz", "/dav", "", header.ErrBadDestination},
		{"/dav/a%4", "/dav", "", header.ErrBadDestination},
		{"/dav/a%", "/dav", "", header.ErrBadDestination},
		{"/dav/a?b", "/dav", "", header.ErrBadDestination},
		{"/dav/a#b", "/dav", "", header.ErrBadDestination},
		{"http://h/dav/x?", "/dav", "", header.ErrBadDestination},
		// Dot-segments that climb above the prefix.
		{"/dav/..", "/dav", "", header.ErrBadDestination},
		{"/dav/../etc/passwd", "/dav", "", header.ErrBadDestination},
		{"/dav/a/../../x", "/dav", "", header.ErrBadDestination},
		{"/dav/%2e%2e/x", "/dav", "", header.ErrBadDestination},
		{"/..", "", "", header.ErrBadDestination},
		{"http://h/../x", "/", "", header.ErrBadDestination},
	}
	for _, tt := range tests {
		got, err := header.ParseDestination(tt.raw, tt.prefix)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("ParseDestination(%q, %q) = %q, %v; want %v", tt.raw, tt.prefix, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseDestination(%q, %q) = %q, %v; want %q", tt.raw, tt.prefix, got, err, tt.want)
		}
	}
}

func TestCleanPath(t *testing.T) {
	tests := []struct {
		path, prefix string
		want         string
		err          error
	}{
		{"/", "", "/", nil},
		{"/", "/", "/", nil},
		{"/dav", "/dav", "/", nil},
		{"/dav/", "/dav", "/", nil},
		{"/dav/a%20b/", "/dav", "/a b", nil},
		{"/dav/a/./b//c/..", "/dav", "/a/b", nil},
		{"/dav/a%3Fb%23c", "/dav", "/a?b#c", nil}, // escaped "?" and "#" are names
		{"/dav/a?b", "/dav", "/a?b", nil},         // EscapedPath never has a raw "?"
		{"/x", "/dav", "", header.ErrOutsidePrefix},
		{"/", "/dav", "", header.ErrOutsidePrefix},
		{"", "/dav", "", header.ErrBadPath},
		{"*", "", "", header.ErrBadPath},
		{"dav/x", "/dav", "", header.ErrBadPath},
		{"http://h/dav/x", "/dav", "", header.ErrBadPath},
		{"/dav/a%2Fb", "/dav", "", header.ErrBadPath},
		{"/dav/a%00", "/dav", "", header.ErrBadPath},
		{"/dav/a\x7f", "/dav", "", header.ErrBadPath},
		{"/dav/%zz", "/dav", "", header.ErrBadPath},
		{"/dav/../x", "/dav", "", header.ErrBadPath},
		{"/..", "/", "", header.ErrBadPath},
	}
	for _, tt := range tests {
		got, err := header.CleanPath(tt.path, tt.prefix)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("CleanPath(%q, %q) = %q, %v; want %v", tt.path, tt.prefix, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("CleanPath(%q, %q) = %q, %v; want %q", tt.path, tt.prefix, got, err, tt.want)
		}
	}
}

// An error matches exactly one sentinel, so the server's mapping is unambiguous.
func TestPathErrorsAreDistinct(t *testing.T) {
	_, err := header.ParseDestination("/x", "/dav")
	if !errors.Is(err, header.ErrOutsidePrefix) || errors.Is(err, header.ErrBadDestination) {
		t.Errorf("outside prefix: %v", err)
	}
	_, err = header.ParseDestination("/dav/%2F", "/dav")
	if errors.Is(err, header.ErrOutsidePrefix) || !errors.Is(err, header.ErrBadDestination) {
		t.Errorf("malformed: %v", err)
	}
}

func TestTrailingSlash(t *testing.T) {
	tests := map[string]bool{
		"/dav/a/":                 true,
		"/dav/a":                  false,
		"http://h/dav/a/":         true,
		"http://h/dav/a":          false,
		"http://h":                true, // an empty path is "/"
		"http://h/":               true,
		"/":                       true,
		"/dav/a/?x":               true,
		"/dav/a%2F":               false,
		" /dav/a/ ":               true,
		"":                        false,
		"http://h/dav/a/#f":       true,
		"https://h:1/dav/x%20y/ ": true,
	}
	for in, want := range tests {
		if got := header.TrailingSlash(in); got != want {
			t.Errorf("TrailingSlash(%q) = %v, want %v", in, got, want)
		}
	}
}

// escapePath percent-encodes each segment of a clean path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// checkClean fails unless p is a clean absolute path as the package promises.
func checkClean(t *testing.T, what, p string) {
	t.Helper()
	if !strings.HasPrefix(p, "/") || (p != "/" && strings.HasSuffix(p, "/")) ||
		strings.Contains(p, "//") || strings.ContainsRune(p, 0) {
		t.Fatalf("%s: %q is not clean", what, p)
	}
	for _, s := range strings.Split(p[1:], "/") {
		if s == "." || s == ".." {
			t.Fatalf("%s: %q has a dot-segment", what, p)
		}
	}
}

func FuzzDestination(f *testing.F) {
	seeds := [][2]string{
		{"http://example.com/dav/a/b", "/dav"},
		{"/dav/a%20b/", "/dav"},
		{"/dav/../x", "/dav"},
		{"/dav/a%2Fb", "/dav"},
		{"//h/dav/%2e%2e/x", "/"},
		{"http:/x?y#z", ""},
		{"/dav/a/./../b", "/dav/"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, prefix string) {
		got, err := header.ParseDestination(raw, prefix)
		if err != nil {
			bad, out := errors.Is(err, header.ErrBadDestination), errors.Is(err, header.ErrOutsidePrefix)
			if bad == out {
				t.Fatalf("error %v: ErrBadDestination %v, ErrOutsidePrefix %v", err, bad, out)
			}
			return
		}
		checkClean(t, "ParseDestination", got)
		// Idempotent: the result, put back under the prefix and escaped,
		// names the same resource, whether as a path or as a URI.
		full := got
		if pre := strings.Trim(prefix, "/"); pre != "" {
			full = "/" + pre + got
		}
		for _, again := range []string{escapePath(full), "http://h" + escapePath(full)} {
			got2, err := header.ParseDestination(again, prefix)
			if err != nil {
				// Only a prefix that is not itself clean may fail to match.
				if errors.Is(err, header.ErrOutsidePrefix) {
					return
				}
				t.Fatalf("ParseDestination(%q) = %q but ParseDestination(%q) failed: %v", raw, got, again, err)
			}
			if got2 != got {
				t.Fatalf("ParseDestination(%q) = %q, ParseDestination(%q) = %q", raw, got, again, got2)
			}
		}
		if got2, err := header.CleanPath(escapePath(full), prefix); err == nil && got2 != got {
			t.Fatalf("CleanPath(%q) = %q, want %q", escapePath(full), got2, got)
		}
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, s := range [][2]string{{"/dav/a", "/dav"}, {"/", ""}, {"/a/%2e%2e/b", "/"}, {"/dav/%2F", "/dav"},
		{"/dav", "/dav/"}, {"/davx/a", "/dav"}, {"/a/", ""}, {"//", ""}, {"/a/./b", ""}, {"/dav/..", "/dav"}, {"/a/b/", "/a"}, {"/a", "dav"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, p, prefix string) {
		got, err := header.CleanPath(p, prefix)
		// The allocation-free path for clean input must agree with the
		// general one on every input.
		if slow, serr := header.CleanSlow(p, prefix); slow != got || (serr == nil) != (err == nil) {
			t.Fatalf("CleanPath(%q, %q) = %q, %v; the general path gives %q, %v", p, prefix, got, err, slow, serr)
		}
		if err != nil {
			bad, out := errors.Is(err, header.ErrBadPath), errors.Is(err, header.ErrOutsidePrefix)
			if bad == out {
				t.Fatalf("error %v: ErrBadPath %v, ErrOutsidePrefix %v", err, bad, out)
			}
			return
		}
		checkClean(t, "CleanPath", got)
		// Cleaning a clean path under the root changes nothing.
		if got2, err := header.CleanPath(escapePath(got), "/"); err != nil || got2 != got {
			t.Fatalf("CleanPath(%q) = %q, %v; want %q", escapePath(got), got2, err, got)
		}
	})
}
