package server

import (
	"net/http/httptest"
	"testing"
)

// TestNewRequestID: 16 lowercase hex digits, and no repeat among many.
func TestNewRequestID(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		id := newRequestID()
		if len(id) != 16 {
			t.Fatalf("%q: %d characters, want 16", id, len(id))
		}
		for i := 0; i < len(id); i++ {
			if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				t.Fatalf("%q: not lowercase hex", id)
			}
		}
		if seen[id] {
			t.Fatalf("%q repeated", id)
		}
		seen[id] = true
	}
}

// TestPrepareDropsForwardedHeaders: from a peer that is not a trusted
// proxy, the forwarded headers and the request id are removed before
// anything downstream sees them, however the client spelled their names.
func TestPrepareDropsForwardedHeaders(t *testing.T) {
	rt := &router{}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.7:4000"
	names := []string{"x-forwarded-for", "X-FORWARDED-PROTO", "X-Forwarded-Host", "x-forwarded-prefix", "x-request-id"}
	for _, n := range names {
		r.Header.Set(n, "spoofed")
	}
	r.Header.Set("X-Other", "kept")
	info := &reqInfo{}
	rt.prepare(r, info)
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			t.Errorf("%s still %q after prepare", n, v)
		}
	}
	if r.Header.Get("X-Other") != "kept" {
		t.Error("an unrelated header was removed")
	}
	if info.id == "spoofed" || info.host != r.Host || info.scheme != "http" {
		t.Errorf("the untrusted headers were used: %+v", info)
	}
}
