package server

import "testing"

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
