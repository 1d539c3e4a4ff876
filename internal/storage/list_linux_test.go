package storage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/davit-dav/davit/internal/storage"
)

// TestListFolderRemovedMidway: a folder removed while it is being listed
// (a DELETE or MOVE beside a PROPFIND Depth infinity) ends its listing
// without an error once its first names were yielded; Linux refuses to
// read a removed folder (ENOENT), even the read that would find its end,
// which made a PROPFIND cut its answer short.
func TestListFolderRemovedMidway(t *testing.T) {
	for _, tc := range []struct {
		name    string
		files   int
		noCache bool
	}{
		{"small", 3, false},
		{"small, no folder cache", 3, true},
		{"larger than one read", 2000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "d")
			must(t, os.Mkdir(dir, 0o777))
			for i := range tc.files {
				must(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), nil, 0o666))
			}
			l := newLocal(t, root, storage.LocalOptions{NoSync: true, NoFolderCache: tc.noCache})
			n := 0
			for _, err := range l.List(t.Context(), "/d") {
				if err != nil {
					t.Fatalf("after %d entries: %v, want the listing to end without an error", n, err)
				}
				if n++; n == 1 {
					must(t, os.RemoveAll(dir))
				}
			}
			if n == 0 {
				t.Fatal("nothing listed")
			}
		})
	}
}
