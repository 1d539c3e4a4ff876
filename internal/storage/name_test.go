package storage

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLocalName checks that LocalFS.rel never panics and only accepts names
// that stay inside the root and outside the reserved space.
func FuzzLocalName(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/../etc/passwd", "/a/../../x", "/a\x00b", "//a", "/a/",
		"/.davit-state/db", "/x/.davit-tmp-1", `/a\..\..\x`, "/%2e%2e/x", "/..."} {
		f.Add(s)
	}
	l := &LocalFS{hidden: map[string]bool{".davit-state": true}}
	f.Fuzz(func(t *testing.T, name string) {
		for _, write := range []bool{false, true} {
			rel, err := l.rel("fuzz", name, write)
			if err != nil {
				continue
			}
			top, _, _ := strings.Cut(rel, "/")
			switch {
			case rel != "." && !filepath.IsLocal(rel):
				t.Errorf("rel(%q) = %q, which is not local", name, rel)
			case rel != "." && "/"+rel != name, rel == "." && name != "/":
				t.Errorf("rel(%q) = %q, a different name", name, rel)
			case top == ".davit-state", strings.Contains("/"+rel, "/"+tempPrefix):
				t.Errorf("rel(%q) = %q, a reserved name", name, rel)
			}
		}
	})
}
