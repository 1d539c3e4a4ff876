package server

import (
	"io"
	"log/slog"
	"testing"

	"github.com/davit-dav/davit/internal/config"
)

// TestStoreFolderCache: no_folder_cache reaches the folder's LocalFS, for
// WebDAV folders and plain ones; by default folders are kept (the test's
// folder is on a local file system of the machine that runs it).
func TestStoreFolderCache(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		yaml string
		want bool
	}{{"", true}, {"no_folder_cache: false\n", true}, {"no_folder_cache: true\n", false}} {
		cfg, err := config.Parse([]byte(tc.yaml), "davit.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range []bool{false, true} {
			s, err := openStore(t.TempDir(), plain, storeOptionsOf(cfg), log)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.fs.KeepsFolders(); got != tc.want {
				t.Errorf("%q, plain %v: KeepsFolders() = %v, want %v", tc.yaml, plain, got, tc.want)
			}
			s.close()
		}
	}
}
