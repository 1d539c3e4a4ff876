package header_test

import (
	"errors"
	"testing"

	"github.com/davit-dav/davit/internal/header"
)

func TestParseLockToken(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>", "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2", false},
		{"<opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4>", "opaquelocktoken:e71d4fae-5dec-22d6-fea5-00a0c91e6be4", false},
		{"  <urn:uuid:x>\t", "urn:uuid:x", false},
		{"<DAV:no-lock>", "DAV:no-lock", false},
		// node "webdav" package: the token without brackets. 400 is right.
		{"urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2", "", true},
		{"", "", true},
		{"<>", "", true},
		{"<urn:uuid:x", "", true},
		{"urn:uuid:x>", "", true},
		{"<urn:uuid: x>", "", true},
		{"<no-scheme>", "", true},
		{"<:x>", "", true},
		{"<1x:y>", "", true},
		{"<urn:<x>>", "", true},
		{"<urn:a> <urn:b>", "", true},
		{"(<urn:a>)", "", true},
	}
	for _, tt := range tests {
		got, err := header.ParseLockToken(tt.in)
		if tt.err {
			if !errors.Is(err, header.ErrBadLockToken) {
				t.Errorf("ParseLockToken(%q) = %q, %v; want ErrBadLockToken", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLockToken(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzLockToken(f *testing.F) {
	for _, s := range []string{"<urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2>", "urn:uuid:x", "<>", "< x:y>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := header.ParseLockToken(s)
		if err != nil {
			if !errors.Is(err, header.ErrBadLockToken) {
				t.Fatalf("error %v is not ErrBadLockToken", err)
			}
			return
		}
		again, err := header.ParseLockToken("<" + tok + ">")
		if err != nil || again != tok {
			t.Fatalf("round trip of %q: %q %v", s, again, err)
		}
		// A token accepted here is a valid state token in an If header.
		h, err := header.ParseIf("(<" + tok + ">)")
		if err != nil || h.Lists[0].Conditions[0].Token != tok {
			t.Fatalf("token %q not accepted by ParseIf: %v", tok, err)
		}
	})
}
