package dav_test

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/davit-dav/davit/internal/dav"
	"github.com/davit-dav/davit/internal/storage"
)

// newLocalEnv builds a handler on a LocalFS over dir.
func newLocalEnv(t *testing.T, dir string, opts ...func(*dav.Config)) *env {
	t.Helper()
	l, err := storage.NewLocal(dir, storage.LocalOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return newEnv(t, append([]func(*dav.Config){func(c *dav.Config) {
		c.FS = l
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}}, opts...)...)
}

// TestDeleteLinkKeepsTarget: a symbolic link to a folder, deleted itself
// or with the collection holding it (also as the destination a COPY
// overwrites), goes alone: what it leads to stays whole.
func TestDeleteLinkKeepsTarget(t *testing.T) {
	tests := []struct {
		name   string
		link   string // made in the root, leading to target
		target string
		method string
		path   string
		hdr    []string
		gone   []string // must be gone afterwards
	}{
		{"link to a folder", "alias", "keep", "DELETE", "/alias", nil, []string{"alias"}},
		{"folder holding a link to a sibling", "trash/link", "../keep", "DELETE", "/trash", nil, []string{"trash"}},
		{"folder holding a link to the root", "trash/up", "..", "DELETE", "/trash", nil, []string{"trash"}},
		{"folder holding a link to itself", "trash/self", ".", "DELETE", "/trash", nil, []string{"trash"}},
		{"overwritten destination holding a link", "trash/link", "../keep", "COPY", "/other", []string{"Destination", "/trash", "Overwrite", "T"}, []string{"trash/link", "trash/junk.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range []string{"keep/important.txt", "keep/sub/deep.txt", "trash/junk.txt", "other/x.txt", ".state/db"} {
				p := filepath.Join(dir, filepath.FromSlash(f))
				must(t, os.MkdirAll(filepath.Dir(p), 0o755))
				must(t, os.WriteFile(p, []byte("x"), 0o644))
			}
			must(t, os.Symlink(tt.target, filepath.Join(dir, filepath.FromSlash(tt.link))))
			e := newLocalEnv(t, dir)
			w := e.do(tt.method, tt.path, "", tt.hdr...)
			if w.Code != http.StatusNoContent && w.Code != http.StatusCreated {
				t.Errorf("%s %s: %d %s", tt.method, tt.path, w.Code, w.Body)
			}
			for _, f := range []string{"keep/important.txt", "keep/sub/deep.txt", "other/x.txt", ".state/db"} {
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
					t.Errorf("%s %s took %s: %v", tt.method, tt.path, f, err)
				}
			}
			for _, f := range tt.gone {
				if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
					t.Errorf("%s %s left %s", tt.method, tt.path, f)
				}
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
