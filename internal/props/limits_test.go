package props

import (
	"math/rand/v2"
	"path"
	"strings"
	"testing"
)

// TestValidPath: validPath is path.Clean(p) == p for an absolute path
// without NUL, checked on every string of up to 6 bytes over "/.a\x00" and
// on random longer ones.
func TestValidPath(t *testing.T) {
	want := func(p string) bool {
		return p != "" && p[0] == '/' && path.Clean(p) == p && !strings.ContainsRune(p, 0)
	}
	const alphabet = "/.a\x00"
	check := func(p string) {
		if got := validPath(p); got != want(p) {
			t.Errorf("validPath(%q) = %v, want %v", p, got, want(p))
		}
	}
	var rec func(p string)
	rec = func(p string) {
		check(p)
		if len(p) < 6 {
			for i := range len(alphabet) {
				rec(p + alphabet[i:i+1])
			}
		}
	}
	rec("")
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, 7+rnd.IntN(20))
		for i := range b {
			b[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		b[0] = '/'
		check(string(b))
	}
	for _, p := range []string{"/", "/a", "/a/b", "/a/b/", "//", "/a//b", "/./a", "/a/.", "/a/..", "/..a", "/a..", "/.a/b.", "/日本/x"} {
		check(p)
	}
}
