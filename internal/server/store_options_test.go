package server

import (
	"io"
	"log/slog"
	"testing"

	"github.com/davit-dav/davit/internal/config"
)

// TestStoreCaches: no_folder_cache and no_file_cache reach the folder's
// LocalFS, for WebDAV folders and plain ones; by default folders and files
// are kept (the test's folder is on a local file system of the machine
// that runs it).
func TestStoreCaches(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		yaml          string
		folders, file bool
	}{
		{"", true, true},
		{"no_folder_cache: false\nno_file_cache: false\n", true, true},
		{"no_folder_cache: true\n", false, true},
		{"no_file_cache: true\n", true, false},
		{"no_folder_cache: true\nno_file_cache: true\n", false, false},
	} {
		cfg, err := config.Parse([]byte(tc.yaml), "davit.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range []bool{false, true} {
			s, err := openStore(t.TempDir(), plain, storeOptionsOf(cfg), log)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.fs.KeepsFolders(); got != tc.folders {
				t.Errorf("%q, plain %v: KeepsFolders() = %v, want %v", tc.yaml, plain, got, tc.folders)
			}
			if got := s.fs.KeepsFiles(); got != tc.file {
				t.Errorf("%q, plain %v: KeepsFiles() = %v, want %v", tc.yaml, plain, got, tc.file)
			}
			s.close()
		}
	}
}
