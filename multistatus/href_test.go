package multistatus

import (
	"math/rand"
	"net/url"
	"strings"
	"testing"
)

func TestEncodeHref(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"/", "/"},
		{"/plain/file.txt", "/plain/file.txt"},
		{"/with space.txt", "/with%20space.txt"},
		{"/dir with space/", "/dir%20with%20space/"},
		{"/café.txt", "/caf%C3%A9.txt"},
		{"/日本.txt", "/%E6%97%A5%E6%9C%AC.txt"},
		{"/😀.txt", "/%F0%9F%98%80.txt"},
		{"/100%.txt", "/100%25.txt"},   // a % that starts no escape
		{"/100%2", "/100%252"},         // truncated escape
		{"/a%zz", "/a%25zz"},           // not hex
		{"/a%2", "/a%252"},             // escape cut at the end
		{"/100%25.txt", "/100%25.txt"}, // already encoded
		{"/caf%C3%A9.txt", "/caf%C3%A9.txt"},
		{"/caf%c3%a9.txt", "/caf%c3%a9.txt"}, // lower-case escapes kept as they are
		{"/a#b.txt", "/a#b.txt"},             // the URI's structure is left alone
		{"/a?b=c&d=e", "/a?b=c&d=e"},
		{"/a&b.txt", "/a&b.txt"},
		{"/lt<gt>.txt", "/lt%3Cgt%3E.txt"},
		{`/quote"apos'.txt`, "/quote%22apos'.txt"},
		{"/plus+semi;eq=.txt", "/plus+semi;eq=.txt"},
		{"/{}|\\^`", "/%7B%7D%7C%5C%5E%60"},
		{"/ctl\x00\x1f\x7f", "/ctl%00%1F%7F"},
		{"/tab\there\n", "/tab%09here%0A"},
		{"/bad\xff\xfeutf8", "/bad%FF%FEutf8"},
		{"http://example.com/a b/?q=1#frag", "http://example.com/a%20b/?q=1#frag"},
		{"https://[::1]:8080/x", "https://[::1]:8080/x"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := EncodeHref(tt.in)
			if got != tt.want {
				t.Fatalf("EncodeHref(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := EncodeHref(got); again != got {
				t.Errorf("EncodeHref not idempotent: %q -> %q -> %q", tt.in, got, again)
			}
		})
	}
}

// TestEncodeHrefRandom checks on random strings that EncodeHref is
// idempotent, yields only URI characters, and changes nothing but the bytes
// it escapes (so decoding gives back the input whenever that had no %).
func TestEncodeHrefRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []string{"a", "Z", "0", "/", " ", "%", "%2", "%41", "é", "日", "😀", "#", "?", "&", "<", ">", `"`, "'", "+", ";", "=", "\x00", "\x7f", "\xff", "{", "\\", "~"}
	for i := 0; i < 5000; i++ {
		var sb strings.Builder
		for n := rng.Intn(12); n > 0; n-- {
			sb.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		in := sb.String()
		got := EncodeHref(in)
		if again := EncodeHref(got); again != got {
			t.Fatalf("EncodeHref not idempotent: %q -> %q -> %q", in, got, again)
		}
		for j := 0; j < len(got); j++ {
			if needsEscape(got, j) {
				t.Fatalf("EncodeHref(%q) = %q: byte %d (%q) still needs escaping", in, got, j, got[j])
			}
		}
		if !strings.Contains(in, "%") {
			dec, err := url.PathUnescape(strings.NewReplacer("?", "%3F", "#", "%23").Replace(got))
			if err != nil || dec != in {
				t.Fatalf("EncodeHref(%q) = %q, which decodes to %q (%v)", in, got, dec, err)
			}
		}
	}
}

func TestPathHref(t *testing.T) {
	tests := []struct {
		path string
		coll bool
		want string
	}{
		{"", false, ""},
		{"", true, "/"},
		{"/", true, "/"},
		{"/c", true, "/c/"},
		{"/c/", true, "/c/"},
		{"/c", false, "/c"},
		{"/a.txt", false, "/a.txt"},
		{"/with space.txt", false, "/with%20space.txt"},
		{"/dir with space", true, "/dir%20with%20space/"},
		{"/café.txt", false, "/caf%C3%A9.txt"},
		{"/日本", true, "/%E6%97%A5%E6%9C%AC/"},
		{"/😀.txt", false, "/%F0%9F%98%80.txt"},
		{"/100%.txt", false, "/100%25.txt"},
		{"/100%25.txt", false, "/100%2525.txt"}, // a path is raw: % is always a percent sign
		{"/a#b.txt", false, "/a%23b.txt"},
		{"/a?b.txt", false, "/a%3Fb.txt"},
		{"/a&b.txt", false, "/a&b.txt"},
		{"/lt<gt>.txt", false, "/lt%3Cgt%3E.txt"},
		{`/quote"apos'.txt`, false, "/quote%22apos'.txt"},
		{"/plus+semi;eq=.txt", false, "/plus+semi;eq=.txt"},
		{"/at@colon:tilde~.txt", false, "/at@colon:tilde~.txt"},
		{"/(x)!$*,", false, "/(x)!$*,"},
		{"/back\\slash", false, "/back%5Cslash"},
		{"/ctl\x01\x7f", false, "/ctl%01%7F"},
		{"/names/dir with space/café & crêpe.txt", false, "/names/dir%20with%20space/caf%C3%A9%20&%20cr%C3%AApe.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := PathHref(tt.path, tt.coll)
			if got != tt.want {
				t.Fatalf("PathHref(%q, %v) = %q, want %q", tt.path, tt.coll, got, tt.want)
			}
			// Already a valid URI reference: the Writer leaves it alone.
			if e := EncodeHref(got); e != got {
				t.Errorf("EncodeHref(PathHref(%q)) = %q, want it unchanged %q", tt.path, e, got)
			}
			if tt.coll && !strings.HasSuffix(got, "/") {
				t.Errorf("collection href %q does not end in /", got)
			}
		})
	}
}

// TestPathHrefRandom checks that decoding a PathHref gives back the path,
// with a trailing slash for collections, and that the result is one path:
// no query or fragment.
func TestPathHrefRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		p := "/" + randName(rng)
		if rng.Intn(2) == 0 {
			p += "/" + randName(rng)
		}
		coll := rng.Intn(2) == 0
		h := PathHref(p, coll)
		u, err := url.Parse(h)
		if err != nil {
			t.Fatalf("PathHref(%q) = %q: url.Parse: %v", p, h, err)
		}
		want := p
		if coll && !strings.HasSuffix(want, "/") {
			want += "/"
		}
		if u.Path != want || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("PathHref(%q) = %q parses as path %q query %q fragment %q", p, h, u.Path, u.RawQuery, u.Fragment)
		}
		for j := 0; j < len(h); j++ {
			switch {
			case pathChar(h[j]):
			case h[j] == '%' && j+2 < len(h) && isHex(h[j+1]) && isHex(h[j+2]):
				j += 2
			default:
				t.Fatalf("PathHref(%q) = %q: byte %d (%q) is not a path character", p, h, j, h[j])
			}
		}
	}
}

// randName returns a random file name made of awkward characters.
func randName(rng *rand.Rand) string {
	pieces := []string{"a", "b", "Z", "9", " ", "é", "日本", "😀", "%", "%20", "#", "?", "&", "<", ">", `"`, "'", "+", ";", "=", ".", "-", "_", "~", "@", ":", "!", "(", ")", "*", ",", "$", "[", "]", "\\", "\t"}
	var sb strings.Builder
	for n := 1 + rng.Intn(6); n > 0; n-- {
		sb.WriteString(pieces[rng.Intn(len(pieces))])
	}
	return sb.String()
}

// TestAppendPathHref: AppendPathHref writes what the Writer writes for
// the href PathHref(prefix+p, collection).
func TestAppendPathHref(t *testing.T) {
	parts := []string{"", "/", "/a", "/a/", "/dav", "/dav/", "/d100/f000011.txt", "/Café & co/", "/日本 😀 100%.txt",
		"/a b/c?d#e", "/%41%zz", "/x<y>\"z'", "/\x00\x01\x7f\xff", "/a&b;c=d/@:~!$()*+,"}
	var b []byte
	for _, prefix := range []string{"", "/dav", "/a&b", "/x y/"} {
		for _, p := range parts {
			for _, coll := range []bool{false, true} {
				want := string(appendText(nil, EncodeHref(PathHref(prefix+p, coll))))
				b = AppendPathHref(b[:0], prefix, p, coll)
				if string(b) != want {
					t.Errorf("AppendPathHref(%q, %q, %v) = %q, want %q", prefix, p, coll, b, want)
				}
			}
		}
	}
}
