package header_test

// Regression tests named after the client behaviours this package handles
// (see CLIENTS.md).

import (
	"errors"
	"testing"
	"time"

	"github.com/davit-dav/davit/internal/header"
)

func TestWindowsExplorerDepthNoroot(t *testing.T) {
	for in, want := range map[string]header.Depth{"1,noroot": header.Depth1, "infinity,noroot": header.DepthInfinity} {
		d, noroot, err := header.ParseDepth(in)
		if err != nil || d != want || !noroot {
			t.Errorf("ParseDepth(%q) = %v, %v, %v", in, d, noroot, err)
		}
	}
}

func TestReverseProxyDestinationWithPublicHost(t *testing.T) {
	got, err := header.ParseDestination("https://files.example.org/dav/report%202024.pdf", "/dav")
	if err != nil || got != "/report 2024.pdf" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestRelativeDestination(t *testing.T) {
	got, err := header.ParseDestination("/dav/a/b.txt", "/dav")
	if err != nil || got != "/a/b.txt" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestNodeWebdavUnlockTokenWithoutBrackets(t *testing.T) {
	_, err := header.ParseLockToken("urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2")
	if !errors.Is(err, header.ErrBadLockToken) {
		t.Errorf("err = %v, want ErrBadLockToken (400)", err)
	}
}

func TestLitmusUnquotedETagEchoed(t *testing.T) {
	h, err := header.ParseIf("(<urn:x:1> [e24bfe34]) (Not <DAV:no-lock> [e24bfe34])")
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Eval("/f", "/", func(string) (header.State, error) {
		return header.State{ETag: `"e24bfe34"`}, nil
	})
	if err != nil || !res.OK {
		t.Errorf("Eval = %v, %v", res, err)
	}
}

func TestNeonLockUsingParentCollection(t *testing.T) {
	// neon (cadaver, litmus) tags the collection's lock when creating a member.
	h, err := header.ParseIf("<http://localhost:8080/dav/coll/> (<urn:uuid:1>)")
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Eval("/coll/new.txt", "/dav", func(p string) (header.State, error) {
		if p == "/coll" || p == "/coll/new.txt" {
			return header.State{LockTokens: []string{"urn:uuid:1"}}, nil
		}
		return header.State{}, nil
	})
	if err != nil || !res.OK || len(h.SubmittedTokens()) != 1 {
		t.Errorf("Eval = %v, %v", res, err)
	}
}

func TestRcloneXOCMtime(t *testing.T) {
	got, err := header.ParseXOCMtime("1700000000")
	if err != nil || !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("got %v, %v", got, err)
	}
}
